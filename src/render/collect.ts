/**
 * collectCredentials gathers, for each `--registry HOST[?ns=NS]`, the host a
 * consumer will contact and the credential mirrorauth's lookup gives it. For a
 * plain registry it also gathers its hosts.toml mirrors (k3s needs them).
 */
import { isEmptyCredential, type Credential } from '../credentials/credential.js';
import { canonicalHost, canonicalNamespace, endpointPath, parseEndpoint } from '../credentials/keys.js';
import { isSameRegistry, resolveCredential, type CredentialContext } from '../credentials/resolve.js';
import { MirrorauthError } from '../errors.js';
import { resolveRegistryHosts } from '../hosts/resolve.js';
import type { ContainerdVersion } from '../hosts/version.js';
import type { System } from '../system/system.js';
import { shellCommand } from '../shell.js';

export interface RenderedEndpoint {
  /** host[:port] the consumer contacts. */
  host: string;
  /** Endpoint path without /v2 (a Harbor-style /v2/<project> root stays). */
  path: string;
  /** The API root path containerd requests under (`/v2`, `/repository/docker-group/v2`, `/v2/project`). */
  apiPath: string;
  scheme: string;
  /** The upstream registry this endpoint serves (itself for a plain registry). */
  registry: string;
  credential: Credential | null;
  /** Where the credential came from, for people. */
  source: string;
  /** The registry itself, not a mirror (k3s adds it as the last endpoint on its own). */
  isUpstream: boolean;
  tls: { caCerts: string[]; clientPairs: Array<[string, string]>; skipVerify: boolean | null };
}

export interface RegistrySet {
  /** The registry as named (docker.io, ghcr.io, 127.0.0.1:5000). */
  registry: string;
  /** Mirrors from hosts.toml in containerd's order, then the registry itself. */
  endpoints: RenderedEndpoint[];
  /** The endpoint the user named, when it was a mirror (`mirror?ns=NS`). */
  named: RenderedEndpoint;
}

export interface CollectOptions {
  roots: string[];
  version: ContainerdVersion;
  defaultScheme: '' | 'http' | 'https';
}

async function endpointFor(
  ctx: CredentialContext,
  host: string,
  path: string,
  scheme: string,
  registry: string,
  tls: RenderedEndpoint['tls'],
  isUpstream = false,
  apiPath: string | null = null,
): Promise<RenderedEndpoint> {
  const r = await resolveCredential(ctx, { host, path }, registry);
  const found = r.source.kind !== 'anonymous' && !isEmptyCredential(r.credential);
  const api = apiPath ?? (path === '' ? '/v2' : path.startsWith('/v2/') ? path : `${path}/v2`);
  return { host, path, apiPath: api, scheme, registry, credential: found ? r.credential : null, source: r.source.kind, tls, isUpstream };
}

/** collectCredentials resolves each --registry value; it throws USAGE for none or a malformed one. */
export async function collectCredentials(sys: System, ctx: CredentialContext, registries: string[], o: CollectOptions): Promise<RegistrySet[]> {
  if (registries.length === 0) {
    throw new MirrorauthError('USAGE', 'name at least one registry with --registry', { hint: 'e.g. --registry ghcr.io --registry mirror.corp?ns=docker.io' });
  }
  const out: RegistrySet[] = [];
  for (const text of registries) {
    const e = parseEndpoint(text);
    const registry = e.namespace !== null && e.namespace !== '*' ? e.namespace : canonicalNamespace(e.host) === 'docker.io' ? 'docker.io' : e.host;
    const noTls = { caCerts: [], clientPairs: [], skipVerify: null };
    const endpoints: RenderedEndpoint[] = [];
    const r = await resolveRegistryHosts(sys, registry, o);
    if (r.fatal) {
      const why = r.diagnostics.find((d) => d.severity === 'error');
      throw new MirrorauthError(
        'RESOLUTION_FAILED',
        `containerd cannot use the hosts configuration of ${registry}: ${why?.message ?? 'see mirrorauth hosts'}`,
        {
          ...(why?.file ? { file: why.file } : {}),
          hint: why?.fix ?? `run: ${shellCommand('mirrorauth', 'hosts', `${registry}/x`)}`,
        },
      );
    }
    for (const h of r.hosts) {
      if (h.unusable !== null) continue;
      endpoints.push(
        await endpointFor(
          ctx,
          h.credentialHost ?? h.host,
          endpointPath(h.path),
          h.scheme,
          registry,
          { caCerts: h.caCerts, clientPairs: h.clientPairs, skipVerify: h.skipVerify },
          h.origin === 'default' || isSameRegistry(h.credentialHost ?? h.host, registry),
          h.path,
        ),
      );
    }
    let named: RenderedEndpoint;
    if (e.namespace !== null) {
      named =
        endpoints.find((x) => canonicalHost(x.host) === e.host && x.path === e.path) ??
        (await endpointFor(ctx, e.host, e.path, e.scheme ?? 'https', e.namespace === '*' ? e.host : registry, noTls));
    } else {
      named = endpoints[endpoints.length - 1] ?? (await endpointFor(ctx, e.host, e.path, e.scheme ?? 'https', registry, noTls));
    }
    out.push({ registry, endpoints, named });
  }
  return out;
}
