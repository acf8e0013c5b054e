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
import { trustFor } from '../registry/trust.js';
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

/**
 * The consumers explain speaks for. `cri` is containerd's CRI without a kubelet
 * credential; `cri-kubelet` with one and an empty `server_address` (what kubelet
 * sends, cri-o#4941); `cri-kubelet-server` with `server_address` set to the
 * image's registry; `helper` is podman, skopeo, buildah and docker asking
 * docker-credential-mirrorauth for the bare host (and what `exec`/`render`
 * write, keyed by host); `bazel` asks with the URL it fetches, which carries no `?ns=`.
 */
export const CLIENTS = ['nerdctl', 'cri', 'cri-kubelet', 'cri-kubelet-server', 'ctr', 'helper', 'bazel'] as const;
export type ClientName = (typeof CLIENTS)[number];

export interface StockView extends CredentialView {
  client: ClientName;
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
  differs: ClientName[];
  /**
   * Who actually sends mirrorauth's credential to this host: `serve` when the
   * host is the proxy, plus every client whose own lookup finds the same one.
   * Empty when the credential exists but no client can receive it (a `?ns=`
   * entry only the serve proxy can deliver).
   */
  reachedBy: Array<ClientName | 'serve'>;
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
  /** How CRI pulls (for the notes), when a containerd config was read. */
  criPullMode?: 'transfer' | 'local' | null;
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

interface ClientContext {
  h: ResolvedHost;
  lookupHost: string;
  registry: string;
  isMirror: boolean;
  criAuths: Map<string, CriAuth> | null;
  kubelet: { credential: Credential; source: LookupSource } | null;
}

async function kubeletCredential(ctx: CredentialContext, registry: string): Promise<{ credential: Credential; source: LookupSource } | null> {
  try {
    const r = await resolveCredential(ctx, { host: registry === 'docker.io' ? 'docker.io' : registry, path: '' }, registry);
    return r.source.kind === 'anonymous' ? null : { credential: r.credential, source: r.source };
  } catch {
    return null;
  }
}

/**
 * clientViews: what each consumer sends this host, by its own rules (the
 * measured facts of docs/clients.md). Pure lookups; nothing is sent.
 */
async function clientViews(ctx: CredentialContext, x: ClientContext): Promise<StockView[]> {
  // One piece: one view per client, side by side; split, the notes would drift from each other.
  const { h, lookupHost, registry, isMirror } = x;
  const usable = h.unusable === null;
  const out: StockView[] = [];
  /** A client's own lookup as a view; a lookup that fails (a locked keychain, a broken helper) says so. */
  const lookedUp = async (client: ClientName, note: string, lookup: () => Promise<{ credential: Credential; source: LookupSource } | null>) => {
    try {
      const r = usable ? await lookup() : null;
      out.push({ ...view(r?.credential ?? null, r?.source ?? null), client, note });
    } catch (e) {
      out.push({ ...view(null, null), client, note: `its lookup fails: ${(e as Error).message}` });
    }
  };
  // nerdctl >= 2.0: Docker's config for the lookup host and its variants, no namespace.
  await lookedUp('nerdctl', 'Docker config keyed by the host it contacts (host, host:443, https://host …); never a namespace', () =>
    dockerLookup(ctx, lookupHost, []),
  );
  const cri = x.criAuths?.get(lookupHost);
  const criCred = cri ? { username: cri.username, password: cri.password, identityToken: cri.identityToken, registryToken: '' } : null;
  const criSource: LookupSource | null = criCred ? { kind: 'auths', key: `registry.configs."${lookupHost}".auth` } : null;
  const criView: CredentialView = { ...view(criCred, criSource), sourceText: criCred ? `registry.configs."${lookupHost}".auth` : 'anonymous' };
  out.push({
    ...criView,
    client: 'cri',
    note: criCred
      ? 'containerd config registry.configs keyed by this host (no kubelet credential in the request)'
      : isMirror
        ? `${x.criAuths === null ? 'no containerd config read' : `no registry.configs."${lookupHost}" entry`}; CRI never runs a credential helper`
        : "the pod's kubelet credential for this registry, if it has one (see cri-kubelet)",
  });
  const kube = x.kubelet;
  const kubeView: CredentialView = kube
    ? { ...view(kube.credential, kube.source), sourceText: `kubelet's credential for ${registry} (${describeSource(kube.source)})` }
    : criView;
  out.push({
    ...(usable ? kubeView : view(null, null)),
    client: 'cri-kubelet',
    note: kube
      ? `kubelet sends its credential for ${registry} with no server_address: CRI gives it to EVERY host, mirrors included, replacing registry.configs auth`
      : `kubelet has no credential for ${registry} here; CRI falls back to registry.configs`,
  });
  // with a kubelet credential in the request CRI never reads registry.configs (1.6.20, measured): only server_address decides
  const serverMatches = !isMirror;
  out.push({
    ...(usable ? (kube === null ? criView : serverMatches ? kubeView : view(null, null)) : view(null, null)),
    client: 'cri-kubelet-server',
    note:
      kube === null
        ? `kubelet has no credential for ${registry} here; CRI falls back to registry.configs`
        : serverMatches
          ? `server_address ${registry} matches this host: the kubelet credential goes here`
          : `server_address ${registry} does not match this mirror, and a request that carries a credential makes CRI skip registry.configs: the mirror gets nothing`,
  });
  out.push({
    ...view(null, null),
    client: 'ctr',
    note: 'ctr reads no credential store; `ctr image pull --user USER:PASS` sends that one credential to every host',
  });
  await lookedUp(
    'helper',
    `podman, skopeo, buildah and docker ask docker-credential-mirrorauth for "${lookupHost}" only (no path, no ns=); exec and render write config.json keyed the same way`,
    () => resolveCredential(ctx, { host: lookupHost, path: '' }, null, { asHelper: true }),
  );
  await lookedUp('bazel', 'Bazel asks with the URL it fetches; rules_oci and rules_docker URLs carry no ?ns=', () =>
    resolveCredential(ctx, { host: lookupHost, path: endpointPath(h.path) }, null),
  );
  return out;
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
  // what kubelet holds for the image: mirrorauth kubelet-provider's answer for the registry (a pull secret would be the same shape)
  const kubelet = await kubeletCredential(ctx, registry);
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
    const isMirror = !isSameRegistry(lookupHost, registry);
    const stock = await clientViews(ctx, { h, lookupHost, registry, isMirror, criAuths: o.criAuths, kubelet });
    if (serve) {
      // every client that reads this hosts.toml sends the proxy its access secret; the proxy adds the credential
      const note = `sends only mirrorauth serve's access secret (hosts.toml header); the proxy adds the credential for ${serve.endpoint} ns=${serve.namespace}`;
      for (const s of stock) if (s.client !== 'helper' && s.client !== 'bazel') Object.assign(s, { ...credential, client: s.client, note });
    }
    const same = (s: StockView) => s.found === credential.found && s.username === credential.username && s.secretLength === credential.secretLength;
    // CRI's answer for the registry itself depends on the pod's pull secret, which cannot be seen: not flagged.
    const hasCri = o.criAuths?.get(lookupHost) !== undefined;
    const differs = stock.filter((s) => !same(s) && (s.client !== 'cri' || hasCri || isMirror)).map((s) => s.client);
    const reachedBy: Array<ClientName | 'serve'> = credential.found ? [...(serve ? (['serve'] as const) : []), ...stock.filter(same).map((s) => s.client)] : [];
    let probe: ProbeResult | null = null;
    if (o.probe && h.used && h.unusable === null) {
      o.onProbe?.(contacted.indexOf(h), contacted.length, h.host);
      const own = await tlsSettingsFor(sys, h).catch(() => null);
      // the CAs containerd trusts for this host: system store, its certs.d directory, hosts.toml ca
      const tls =
        own?.skipVerify === true ? own : ((await trustFor(sys, { host: h.host, roots: o.roots, caFiles: [], tls: own }).catch(() => null))?.tls ?? own);
      probe = await probeHost(sys, { apiBases: apiBasesFor(h), namespace: h.namespace, repository: resolution.reference.repository, tls }, secret);
    }
    out.push({ host: h, serve, credential, trace, error, stock, differs, reachedBy, probe });
  }
  return { resolution, hosts: out };
}
