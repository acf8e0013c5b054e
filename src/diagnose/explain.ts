/**
 * explain: for one reference, every host containerd contacts (in order) with
 * the credential mirrorauth's lookup gives it and what stock clients would send
 * instead (nerdctl >= 2.0 keys Docker's config by the mirror host; CRI uses
 * registry.configs keyed by host), optionally probed for real. Data only.
 */
import { isEmptyCredential, type Credential } from '../credentials/credential.js';
import { endpointPath } from '../credentials/keys.js';
import {
  describeSource,
  dockerLookup,
  isSameRegistry,
  resolveCredential,
  type CredentialContext,
  type LookupSource,
  type LookupStep,
} from '../credentials/resolve.js';
import type { CriAuth } from '../hosts/roots.js';
import { resolveHosts, type Resolution, type ResolvedHost } from '../hosts/resolve.js';
import type { Operation } from '../hosts/types.js';
import type { ContainerdVersion } from '../hosts/version.js';
import { probeHost, type ProbeResult } from '../registry/probe.js';
import { apiBasesFor, tlsSettingsFor } from '../registry/tls.js';
import { readManifest } from '../serve/render-tree.js';
import { keyPathOf, ROUTE_PREFIX, type ServeRoute } from '../serve/routes.js';
import type { System } from '../system/system.js';

export interface CredentialView {
  found: boolean;
  source: LookupSource | null;
  /** For people: where it came from. */
  sourceText: string;
  username: string | null;
  /** The secret's kind, never its value. */
  secretKind: 'password' | 'identitytoken' | 'registrytoken' | null;
  secretLength: number;
}

export interface StockView extends CredentialView {
  client: 'nerdctl' | 'cri';
  /** Why the client answers as it does. */
  note: string;
}

/** A host that is `mirrorauth serve`: the endpoint and namespace it stands for. */
export interface ServeVia {
  proxyUrl: string;
  routeId: string;
  /** The real mirror the proxy talks to. */
  endpoint: string;
  namespace: string;
  /** The user's hosts.toml entry the route was rendered from. */
  file: string;
  line: number | null;
}

export interface ExplainedHost {
  host: ResolvedHost;
  /** Set when this host is the serve proxy: the credential shown is the one the proxy sends upstream. */
  serve: ServeVia | null;
  credential: CredentialView;
  trace: LookupStep[];
  /** Error of the lookup itself (a locked keychain, a failing helper). */
  error: string | null;
  stock: StockView[];
  /** Stock clients whose answer differs from mirrorauth's. */
  differs: Array<'nerdctl' | 'cri'>;
  probe: ProbeResult | null;
}

export interface Explanation {
  resolution: Resolution;
  hosts: ExplainedHost[];
}

function view(c: Credential | null, source: LookupSource | null): CredentialView {
  const found = c !== null && !isEmptyCredential(c) && source !== null && source.kind !== 'anonymous';
  const secret = c === null ? '' : c.identityToken || c.password || c.registryToken;
  return {
    found,
    source: found ? source : null,
    sourceText: found && source ? describeSource(source) : 'anonymous',
    username: found && c ? c.username || null : null,
    secretKind: !found || c === null ? null : c.identityToken ? 'identitytoken' : c.registryToken ? 'registrytoken' : 'password',
    secretLength: found ? secret.length : 0,
  };
}

export interface ExplainOptions {
  reference: string;
  operation: Operation;
  roots: string[];
  version: ContainerdVersion;
  defaultScheme: '' | 'http' | 'https';
  criAuths: Map<string, CriAuth> | null;
  probe: boolean;
  /** Called before each host is probed (progress). */
  onProbe?: (index: number, total: number, host: string) => void;
}

/** serveRoutes reads the serve manifests of rendered roots (none for a user's own certs.d). */
async function serveRoutes(sys: System, roots: string[]): Promise<Map<string, ServeRoute & { proxyUrl: string }>> {
  const out = new Map<string, ServeRoute & { proxyUrl: string }>();
  for (const root of roots) {
    const m = await readManifest(sys, root).catch(() => null);
    for (const r of m?.routes ?? []) out.set(`${m?.proxyUrl}${ROUTE_PREFIX}${r.id}`, { ...r, proxyUrl: m?.proxyUrl ?? '' });
  }
  return out;
}

/** serveRouteOf finds the route a host entry of a rendered tree points at. */
function serveRouteOf(routes: Map<string, ServeRoute & { proxyUrl: string }>, h: ResolvedHost): (ServeRoute & { proxyUrl: string }) | null {
  const m = /^(\/m\/[0-9a-f]{16})(?:\/|$)/.exec(h.path);
  return m ? (routes.get(`${h.scheme}://${h.host}${m[1]}`) ?? null) : null;
}

export async function explain(sys: System, ctx: CredentialContext, o: ExplainOptions): Promise<Explanation> {
  // One piece: per host, the same views side by side; split, the views would drift.
  const resolution = await resolveHosts(sys, {
    reference: o.reference,
    operation: o.operation,
    roots: o.roots,
    version: o.version,
    defaultScheme: o.defaultScheme,
  });
  const registry = resolution.reference.registry;
  const routes = await serveRoutes(sys, o.roots);
  const out: ExplainedHost[] = [];
  const contacted = resolution.hosts.filter((h) => h.unusable === null);
  for (const h of resolution.hosts) {
    const lookupHost = h.credentialHost ?? h.host;
    let credential: CredentialView = view(null, null);
    let trace: LookupStep[] = [];
    let error: string | null = null;
    let secret: Credential | null = null;
    const route = serveRouteOf(routes, h);
    const serve: ServeVia | null = route
      ? {
          proxyUrl: route.proxyUrl,
          routeId: route.id,
          endpoint: `${route.endpoint.scheme}://${route.endpoint.host}${route.endpoint.apiPath}`,
          namespace: route.namespace ?? registry,
          file: route.file,
          line: route.line,
        }
      : null;
    if (h.unusable === null) {
      try {
        // a proxy host gets only the access secret from containerd; what matters is what the proxy sends upstream
        const r = route
          ? await resolveCredential(ctx, { host: route.endpoint.host, path: keyPathOf(route.endpoint) }, route.namespace ?? registry)
          : await resolveCredential(ctx, { host: lookupHost, path: endpointPath(h.path) }, registry);
        credential = view(r.credential, r.source);
        trace = r.trace;
        secret = credential.found ? r.credential : null;
      } catch (e) {
        error = (e as Error).message;
      }
    }
    // nerdctl >= 2.0: Docker's config for the lookup host and its variants, no namespace.
    let nerdctl: StockView;
    try {
      const d = h.unusable === null ? await dockerLookup(ctx, lookupHost, []) : null;
      nerdctl = {
        ...view(d?.credential ?? null, d?.source ?? null),
        client: 'nerdctl',
        note: 'Docker config keyed by the host it contacts (host, host:443, https://host …); never a namespace',
      };
    } catch (e) {
      nerdctl = { ...view(null, null), client: 'nerdctl', note: `its lookup fails: ${(e as Error).message}` };
    }
    const isMirror = !isSameRegistry(lookupHost, registry);
    const cri = o.criAuths?.get(lookupHost);
    const criCred = cri ? { username: cri.username, password: cri.password, identityToken: cri.identityToken, registryToken: '' } : null;
    const criView: StockView = {
      ...view(criCred, criCred ? { kind: 'auths', key: `registry.configs."${lookupHost}".auth` } : null),
      sourceText: criCred ? `registry.configs."${lookupHost}".auth` : 'anonymous',
      client: 'cri',
      note: criCred
        ? 'containerd config registry.configs keyed by this host'
        : isMirror
          ? `${o.criAuths === null ? 'no --containerd-config given' : `no registry.configs."${lookupHost}" entry`}; kubelet pull secrets match the image registry host only, so a mirror gets none`
          : "the pod's kubelet pull secret for this registry, if it has one (not visible here)",
    };
    let stock = [nerdctl, criView];
    if (serve) {
      // every client that reads this hosts.toml sends the proxy its access secret; the proxy adds the credential
      const note = `sends only mirrorauth serve's access secret (hosts.toml header); the proxy adds the credential for ${serve.endpoint} ns=${serve.namespace}`;
      stock = stock.map((s) => ({ ...credential, client: s.client, note }));
    }
    const same = (s: StockView) => s.found === credential.found && s.username === credential.username && s.secretLength === credential.secretLength;
    // CRI's answer for the registry itself depends on the pod's pull secret, which cannot be seen: not flagged.
    const differs = stock.filter((s) => !same(s) && (s.client !== 'cri' || criCred !== null || isMirror)).map((s) => s.client);
    let probe: ProbeResult | null = null;
    if (o.probe && h.used && h.unusable === null) {
      o.onProbe?.(contacted.indexOf(h), contacted.length, h.host);
      const tls = await tlsSettingsFor(sys, h).catch(() => null);
      probe = await probeHost(sys, { apiBases: apiBasesFor(h), namespace: h.namespace, repository: resolution.reference.repository, tls }, secret);
    }
    out.push({ host: h, serve, credential, trace, error, stock, differs, probe });
  }
  return { resolution, hosts: out };
}
