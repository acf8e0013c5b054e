/**
 * explain: for one reference, every host containerd contacts (in order) with
 * the credential mirrorauth's lookup gives it and what stock clients would send
 * instead (nerdctl >= 2.0 keys Docker's config by the mirror host; CRI uses
 * registry.configs keyed by host), optionally probed for real. Data only.
 */
import { isEmptyCredential, type Credential } from '../credentials/credential.js';
import { endpointPath } from '../credentials/keys.js';
import { describeSource, dockerLookup, isSameRegistry, resolveCredential, type CredentialContext, type LookupSource, type LookupStep } from '../credentials/resolve.js';
import type { CriAuth } from '../hosts/roots.js';
import { resolveHosts, type Resolution, type ResolvedHost } from '../hosts/resolve.js';
import type { Operation } from '../hosts/types.js';
import type { ContainerdVersion } from '../hosts/version.js';
import { probeHost, type ProbeResult } from '../registry/probe.js';
import { apiBasesFor, tlsSettingsFor } from '../registry/tls.js';
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

export interface ExplainedHost {
  host: ResolvedHost;
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

export async function explain(sys: System, ctx: CredentialContext, o: ExplainOptions): Promise<Explanation> {
  const resolution = await resolveHosts(sys, { reference: o.reference, operation: o.operation, roots: o.roots, version: o.version, defaultScheme: o.defaultScheme });
  const registry = resolution.reference.registry;
  const out: ExplainedHost[] = [];
  const contacted = resolution.hosts.filter((h) => h.unusable === null);
  for (const h of resolution.hosts) {
    const lookupHost = h.credentialHost ?? h.host;
    let credential: CredentialView = view(null, null);
    let trace: LookupStep[] = [];
    let error: string | null = null;
    let secret: Credential | null = null;
    if (h.unusable === null) {
      try {
        const r = await resolveCredential(ctx, { host: lookupHost, path: endpointPath(h.path) }, registry);
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
      const d = h.unusable === null ? await dockerLookup(ctx, lookupHost, [], false) : null;
      nerdctl = { ...view(d?.credential ?? null, d?.source ?? null), client: 'nerdctl', note: 'Docker config keyed by the host it contacts (host, host:443, https://host …); never a namespace' };
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
    const stock = [nerdctl, criView];
    const same = (s: StockView) => s.found === credential.found && s.username === credential.username && s.secretLength === credential.secretLength;
    // CRI's answer for the registry itself depends on the pod's pull secret, which cannot be seen: not flagged.
    const differs = stock.filter((s) => !same(s) && (s.client !== 'cri' || criCred !== null || isMirror)).map((s) => s.client);
    let probe: ProbeResult | null = null;
    if (o.probe && h.used && h.unusable === null) {
      o.onProbe?.(contacted.indexOf(h), contacted.length, h.host);
      const tls = await tlsSettingsFor(sys, h).catch(() => null);
      probe = await probeHost(sys, { apiBases: apiBasesFor(h), namespace: h.namespace, repository: resolution.reference.repository, tls }, secret);
    }
    out.push({ host: h, credential, trace, error, stock, differs, probe });
  }
  return { resolution, hosts: out };
}
