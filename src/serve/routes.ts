/**
 * The pure half of `mirrorauth serve`: route ids, the manifest that ties a
 * rendered certs.d tree to the proxy, the rendered hosts.toml text, and the
 * parsing of the paths clients send to the proxy.
 *
 * A route is a closed-world lookup key: an opaque id names one real mirror
 * endpoint (and, in a per-registry directory, the upstream namespace it serves
 * there). The proxy dials only endpoints that a route names; `ns` and the id
 * are looked up, never dialled (docs/serve.md, "Threat model").
 */
import { endpointPath } from '../credentials/keys.js';
import { sha256Hex } from '../hash.js';
import type { Capability, HostConfig } from '../hosts/types.js';

export const MANIFEST_FILE = '.mirrorauth-serve.json';
export const MANIFEST_VERSION = 1;
/** The path prefix of proxy entries in a rendered hosts.toml: `/m/<id>` (containerd appends /v2). */
export const ROUTE_PREFIX = '/m/';
/** The repository prefix for clients that cannot send ?ns= nor a host path (registries.conf mirrors). */
export const REPO_PREFIX = 'mirrorauth';

export interface RouteEndpoint {
  scheme: string;
  /** host[:port] as written in hosts.toml. */
  host: string;
  /** The API path requests go below (containerd's host path, /v2 included unless override_path). */
  apiPath: string;
  /** An http entry with TLS settings: containerd tries https first and falls back to http (R31). */
  httpFallback?: boolean;
}

export interface ServeRoute {
  id: string;
  endpoint: RouteEndpoint;
  /** The upstream namespace this route serves, or null when it comes from ?ns= (a `_default` entry). */
  namespace: string | null;
  /** The registry directory the route was rendered into (`docker.io`, `_default` …). */
  registryDir: string;
  /** The user's hosts.toml and the line of the entry. */
  file: string;
  line: number | null;
  capabilities: Capability[];
  caCerts: string[];
  clientPairs: Array<[string, string]>;
  skipVerify: boolean;
  /** hosts.toml headers of the original entry; the proxy sends them upstream as containerd would. */
  headers: Array<[string, string[]]>;
}

export interface ServeManifest {
  version: typeof MANIFEST_VERSION;
  /** http://127.0.0.1:PORT the rendered entries point at. */
  proxyUrl: string;
  containerd: string;
  sourceRoots: string[];
  /** Names of the registry directories this render wrote (and may remove again). */
  dirs: string[];
  routes: ServeRoute[];
}

/** routeId is stable for one endpoint and namespace, so re-rendering never churns the tree. */
export function routeId(endpoint: RouteEndpoint, namespace: string | null): string {
  const text = `${endpoint.scheme}://${endpoint.host.toLowerCase()}${endpoint.apiPath}\n${namespace ?? '*'}`;
  return sha256Hex(text).slice(0, 16);
}

/** keyPathOf is the credential-key path of a route's endpoint (`/v2/proxy` for Harbor, `` for most). */
export function keyPathOf(e: RouteEndpoint): string {
  return endpointPath(e.apiPath);
}

function tomlString(s: string): string {
  // JSON string escapes are a subset of TOML basic-string escapes
  return JSON.stringify(s);
}

function stripApiSuffix(h: HostConfig): string {
  if (h.overridePath) return h.path;
  return h.path.endsWith('/v2') ? h.path.slice(0, -3) : h.path;
}

function sameCaps(a: Capability[], b: Capability[]): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i]);
}

function hostLines(
  defaults: Capability[],
  h: Pick<HostConfig, 'capabilities' | 'caCerts' | 'clientPairs' | 'skipVerify' | 'header' | 'dialTimeout' | 'overridePath'>,
  table: string | null,
): string[] {
  const lines: string[] = [];
  if (table !== null) lines.push(`[${table}]`);
  // the default set is left implicit, so a file rendered for one containerd line reads the same on another
  if (!sameCaps(h.capabilities, defaults)) lines.push(`  capabilities = [${h.capabilities.map(tomlString).join(', ')}]`);
  if (h.caCerts !== null) lines.push(`  ca = [${h.caCerts.map(tomlString).join(', ')}]`);
  if (h.clientPairs !== null)
    lines.push(`  client = [${h.clientPairs.map(([c, k]) => (k === '' ? tomlString(c) : `[${tomlString(c)}, ${tomlString(k)}]`)).join(', ')}]`);
  if (h.skipVerify !== null) lines.push(`  skip_verify = ${h.skipVerify}`);
  if (h.dialTimeout !== null) lines.push(`  dial_timeout = ${tomlString(h.dialTimeout)}`);
  if (h.overridePath) lines.push('  override_path = true');
  if (h.header !== null && h.header.length > 0) {
    lines.push(`${table !== null ? `[${table}.header]` : '[header]'}`);
    for (const [name, values] of h.header) lines.push(`  ${tomlString(name)} = [${values.map(tomlString).join(', ')}]`);
  }
  return lines;
}

export interface RenderEntry {
  entry: HostConfig;
  /** When set, the entry is replaced by this proxy route in the same position. */
  route: ServeRoute | null;
}

/**
 * renderHostsToml writes a hosts.toml that containerd reads into the same hosts
 * in the same order, with each routed entry replaced by a proxy entry. Every
 * host is a `[host."…"]` table (no inline or dotted forms), which every
 * containerd version orders by position, and `server` is written only when the
 * original names one, so the default upstream stays the last host.
 */
export function renderHostsToml(entries: RenderEntry[], proxyUrl: string, secret: string, source: string, defaults: Capability[]): string {
  // One piece: one file, written top to bottom as containerd will read it.
  const out: string[] = [
    '# Rendered by `mirrorauth serve` from ' + source + '. Do not edit: edit the original and',
    '# mirrorauth re-renders this file. Entries with mirrorauth credentials go through the local proxy.',
  ];
  const server = entries.find((e) => e.entry.origin === 'server');
  if (server) {
    // the top-level entry: `server` when the original names one; its TLS fields and headers apply to the
    // default upstream even without it, and its capabilities only with it (R20) but are kept as written
    const s = server.entry;
    if (s.host !== '') out.push(`server = ${tomlString(`${s.scheme}://${s.host}${stripApiSuffix(s)}`)}`);
    out.push(...hostLines(defaults, s, null).map((l) => l.replace(/^ {2}/, '')));
  }
  const written = new Set<string>();
  /**
   * containerd 2.x can list one host twice (R21), and a TOML key cannot repeat. A
   * repeated https entry is written `httpS://` (containerd only checks the literal
   * "http" prefix, and Go lower-cases the scheme: the same URL);
   * anything else gets a trailing slash (1.6 cleans it away; 2.x keeps "//v2",
   * which the proxy accepts for its own entries).
   */
  const unique = (key: string): string => {
    if (!written.has(key)) {
      written.add(key);
      return key;
    }
    if (key.startsWith('https://') && !written.has(`httpS${key.slice(5)}`)) {
      written.add(`httpS${key.slice(5)}`);
      return `httpS${key.slice(5)}`;
    }
    let k = key;
    while (written.has(k)) k += '/';
    written.add(k);
    return k;
  };
  for (const { entry, route } of entries) {
    if (entry.origin !== 'host') continue;
    out.push('');
    if (route !== null) {
      const key = unique(`${proxyUrl}${ROUTE_PREFIX}${route.id}`);
      const table = `host.${tomlString(key)}`;
      out.push(`# ${entry.key ?? ''} (${route.namespace === null ? 'every namespace with credentials' : `ns=${route.namespace}`}) via mirrorauth serve`);
      out.push(
        ...hostLines(
          defaults,
          {
            capabilities: route.capabilities,
            caCerts: null,
            clientPairs: null,
            skipVerify: null,
            header: [['Authorization', [`Bearer ${secret}`]]],
            dialTimeout: null,
            overridePath: false,
          },
          table,
        ),
      );
    } else {
      const key = unique(`${entry.scheme}://${entry.host}${stripApiSuffix(entry)}`);
      out.push(...hostLines(defaults, entry, `host.${tomlString(key)}`));
    }
  }
  return `${out.join('\n')}\n`;
}

/** What a client asked the proxy for. */
export type Inbound =
  | { kind: 'healthz' }
  | { kind: 'ping'; routeId: string | null }
  | { kind: 'api'; routeId: string | null; via: 'path' | 'repository' | 'catch-all'; repository: string; rest: string }
  | { kind: 'invalid'; why: string };

// distribution's repository-name grammar (path components separated by /)
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const ID = /^[a-f0-9]{16}$/;

function splitApi(tail: string): { repository: string; rest: string } | null {
  const m = /^(.+?)\/(manifests|blobs|referrers|tags)\/(.*)$/.exec(tail);
  if (!m) return null;
  const repository = m[1] as string;
  if (!repository.split('/').every((c) => COMPONENT.test(c))) return null;
  const rest = `${m[2]}/${m[3]}`;
  if (rest.includes('..') || rest.includes('//') || /[\s\\]/.test(rest)) return null;
  return { repository, rest };
}

/**
 * parseInbound reads a request path (without the query):
 *   /m/<id>/v2/<repo>/...           containerd through a rendered hosts.toml entry
 *   /v2/mirrorauth/<id>/<repo>/...  registries.conf mirrors (podman, skopeo): the id is a repository prefix
 *   /v2/<repo>/...                  the catch-all: routed by ?ns= alone
 */
export function parseInbound(pathname: string): Inbound {
  if (pathname === '/healthz') return { kind: 'healthz' };
  let p = pathname;
  let routeId: string | null = null;
  let via: 'path' | 'repository' | 'catch-all' = 'catch-all';
  if (p.startsWith(ROUTE_PREFIX)) {
    const rest = p.slice(ROUTE_PREFIX.length);
    const slash = rest.indexOf('/');
    const id = slash < 0 ? rest : rest.slice(0, slash);
    if (!ID.test(id)) return { kind: 'invalid', why: 'unknown route' };
    routeId = id;
    via = 'path';
    // a repeated entry is rendered with a trailing slash, which containerd 2.x keeps: /m/<id>//v2/…
    p = slash < 0 ? '' : rest.slice(slash).replace(/^\/+/, '/');
  }
  if (p === '/v2' || p === '/v2/') return { kind: 'ping', routeId };
  if (!p.startsWith('/v2/')) return { kind: 'invalid', why: 'not a registry API path' };
  let tail = p.slice(4);
  if (routeId === null && tail.startsWith(`${REPO_PREFIX}/`)) {
    const rest = tail.slice(REPO_PREFIX.length + 1);
    const slash = rest.indexOf('/');
    const id = slash < 0 ? rest : rest.slice(0, slash);
    if (ID.test(id)) {
      routeId = id;
      via = 'repository';
      tail = slash < 0 ? '' : rest.slice(slash + 1);
    }
  }
  const api = splitApi(tail);
  if (api === null) return { kind: 'invalid', why: 'not a registry API path' };
  return { kind: 'api', routeId, via, ...api };
}
