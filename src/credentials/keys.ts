/**
 * Credential keys, pure. Docker's keys (the Hub URL, ConvertToHostname, the
 * lookup variants nerdctl tries) and mirrorauth's namespaced keys
 * `host[:port][/path]?ns=NAMESPACE` (docs/credential-keys.md).
 */
import { DOCKER_HUB, DOCKER_HUB_CONFIG_KEY, isDockerHub } from '../hosts/docker-hub.js';
import { sha256Hex } from '../hash.js';
import { MirrorauthError } from '../errors.js';
import { maskUserinfo } from '../mask.js';
import { cleanPath, parseGoUrl, splitHostPort } from '../hosts/go-semantics.js';

/** Docker Hub's key in config.json and helpers. */
export const DOCKER_HUB_KEY = DOCKER_HUB_CONFIG_KEY;

/** dockerConfigKey is docker's getAuthConfigKey: every Docker Hub name becomes the Hub key. */
export function dockerConfigKey(registry: string): string {
  return isDockerHub(registry) ? DOCKER_HUB_KEY : registry;
}

/**
 * convertToHostname is docker's ConvertToHostname: the scheme and the path are
 * cut off, the port is kept as written (`http://h:80` is `h:80`, never `h`:
 * a WHATWG URL would drop the default port and answer for another one).
 */
export function convertToHostname(s: string): string {
  const rest = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(s) ? s.slice(s.indexOf('://') + 3) : s;
  return rest.split('/', 1)[0] ?? rest;
}

/**
 * dockerLookupKeys lists the config.json keys tried for an endpoint host, in
 * order: the host as Docker would key it, then nerdctl's variants
 * (`host:443`, `https://host:port`, `http://host:port`, and port-less forms for 443).
 */
export function dockerLookupKeys(host: string): string[] {
  const split = splitHostPort(host);
  const name = split ? (split.host.includes(':') ? `[${split.host}]` : split.host) : host;
  const port = split?.port || '443';
  const keys: string[] = [];
  const hub = isDockerHub(name) && port === '443';
  if (hub) keys.push(DOCKER_HUB_KEY);
  keys.push(host, `${name}:${port}`, `https://${name}:${port}`, `http://${name}:${port}`);
  if (port === '443') keys.push(name, `https://${name}`, `http://${name}`);
  return keys.filter((k, i) => keys.indexOf(k) === i);
}

/** canonicalHost lowercases a host and drops a default :443 (R2). */
export function canonicalHost(host: string): string {
  const lower = host.toLowerCase();
  return lower.endsWith(':443') ? lower.slice(0, -4) : lower;
}

/** canonicalNamespace decodes `%3A`, lowercases, and maps Docker Hub aliases to docker.io. `*` stays. */
export function canonicalNamespace(ns: string): string {
  let v = ns.trim();
  try {
    v = decodeURIComponent(v);
  } catch {
    /* keep as written */
  }
  if (v === '*') return v;
  v = canonicalHost(v.replace(/^https?:\/\//, '').replace(/\/.*$/, ''));
  return isDockerHub(v) ? DOCKER_HUB : v;
}

/** endpointPath turns a host's API path into the key path: `/v2` -> ``, `/repository/docker/v2` -> `/repository/docker`. */
export function endpointPath(apiPath: string): string {
  if (apiPath === '' || apiPath === '/') return '';
  let p = cleanPath(apiPath.startsWith('/') ? apiPath : `/${apiPath}`);
  if (p.endsWith('/v2')) p = p.slice(0, -3);
  return p === '/' ? '' : p;
}

declare const canonicalBrand: unique symbol;

/**
 * NamespacedKey addresses credentials for one mirror endpoint serving one
 * upstream (or `*`). It is canonical by construction: only parseEndpoint /
 * parseNamespacedKey and namespacedKey() make one (lower-case host without
 * :443, a cleaned path without /v2, a folded namespace), so two spellings of one
 * endpoint can never become two store entries.
 */
export interface NamespacedKey {
  readonly host: string;
  readonly path: string;
  readonly namespace: string;
  readonly [canonicalBrand]: true;
}

function brand(k: { host: string; path: string; namespace: string }): NamespacedKey {
  return k as NamespacedKey;
}

/** namespacedKey makes the canonical key of an endpoint (host as containerd has it, API or key path) and namespace. */
export function namespacedKey(host: string, path: string, namespace: string): NamespacedKey {
  return brand({ host: canonicalHost(host), path: endpointPath(path), namespace: canonicalNamespace(namespace) });
}

/** withNamespace is the same endpoint for another namespace. */
export function withNamespace(k: NamespacedKey, namespace: string): NamespacedKey {
  return brand({ host: k.host, path: k.path, namespace: canonicalNamespace(namespace) });
}

/** formatNamespacedKey writes the canonical string form. */
export function formatNamespacedKey(k: NamespacedKey): string {
  return `${k.host}${k.path}?ns=${k.namespace}`;
}

function invalidKey(text: string, why: string): MirrorauthError {
  return new MirrorauthError('USAGE', `invalid mirror address ${JSON.stringify(maskUserinfo(text))}: ${why}`, {
    hint: 'write it as HOST[:PORT][/PATH]?ns=REGISTRY, e.g. mirror.corp/v2/proxy?ns=docker.io (ns=* for every upstream)',
  });
}

/**
 * queryValues: URLSearchParams(search).getAll(name). A query of plain name=value pairs (no percent sign,
 * no plus) is split here; anything else goes to URLSearchParams, whose first use costs ~0.3 ms.
 */
export function queryValues(search: string, name: string): string[] {
  const q = search.startsWith('?') ? search.slice(1) : search;
  if (q === '') return [];
  if (/[%+]/.test(q)) return new URLSearchParams(q).getAll(name);
  const out: string[] = [];
  for (const pair of q.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if ((eq === -1 ? pair : pair.slice(0, eq)) === name) out.push(eq === -1 ? '' : pair.slice(eq + 1));
  }
  return out;
}

/**
 * parseEndpoint reads `[https://]host[:port][/path][?ns=NS]` as the CLI takes it.
 * The namespace is null when no `ns` is given.
 */
export function parseEndpoint(text: string): { host: string; path: string; namespace: string | null; scheme: string | null } {
  const raw = text.trim();
  if (raw === '') throw invalidKey(text, 'it is empty');
  const schemeMatch = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(raw);
  const scheme = schemeMatch ? (schemeMatch[1] as string).toLowerCase() : null;
  if (scheme !== null && scheme !== 'http' && scheme !== 'https') throw invalidKey(text, `unsupported scheme ${JSON.stringify(scheme)}`);
  // Keys are canonical by construction: what could be read back as another host or path is refused.
  const afterScheme = scheme === null ? raw : raw.slice(raw.indexOf('://') + 3);
  const authority = afterScheme.split(/[/?#]/, 1)[0] ?? '';
  const rawPath = afterScheme.slice(authority.length).split(/[?#]/, 1)[0] ?? '';
  if (authority.includes('@'))
    throw invalidKey(text, 'it holds user information (user:secret@): give the user with -u and the secret on stdin, never in the address');
  if (authority.includes('%')) throw invalidKey(text, 'percent-escapes are not allowed in the host (containerd refuses them too)');
  if (rawPath.includes('%')) throw invalidKey(text, 'percent-escapes are not allowed in the path: write it as the registry serves it');
  if (rawPath.split('/').some((seg) => seg === '.' || seg === '..')) throw invalidKey(text, 'the path must not contain . or .. segments');
  let u;
  try {
    u = parseGoUrl(scheme === null ? `https://${raw}` : raw);
  } catch (e) {
    throw invalidKey(text, (e as Error).message);
  }
  if (u.host === '') throw invalidKey(text, 'no host');
  const q = raw.indexOf('?');
  let namespace: string | null = null;
  if (q >= 0) {
    const ns = queryValues(raw.slice(q + 1).split('#', 1)[0] ?? '', 'ns')[0] ?? null;
    if (ns === null || ns.trim() === '') throw invalidKey(text, 'the query must be ?ns=REGISTRY');
    namespace = canonicalNamespace(ns);
  }
  return { host: canonicalHost(u.host), path: endpointPath(u.path), namespace, scheme };
}

/** parseNamespacedKey reads a stored or typed key; the namespace is required. */
export function parseNamespacedKey(text: string): NamespacedKey {
  const e = parseEndpoint(text);
  if (e.namespace === null) throw invalidKey(text, 'the ?ns=REGISTRY part is missing');
  return brand({ host: e.host, path: e.path, namespace: e.namespace });
}

/**
 * parseNerdctlKey reads nerdctl's experimental key
 * `nerdctl-experimental://<namespace id>/host/<host:port><path>` (never written by mirrorauth).
 */
export function parseNerdctlKey(key: string): NamespacedKey | null {
  const prefix = 'nerdctl-experimental://';
  if (!key.startsWith(prefix)) return null;
  const rest = key.slice(prefix.length);
  // the namespace never holds a slash, a mirror path may: split at the first /host/
  const at = rest.indexOf('/host/');
  if (at < 0) return null;
  const nsId = rest.slice(0, at).replace(/\/$/, '');
  const endpoint = rest.slice(at + '/host/'.length);
  if (nsId === '' || endpoint === '') return null;
  const namespace = nsId.startsWith('https://index.docker.io') ? 'docker.io' : canonicalNamespace(nsId);
  const slash = endpoint.indexOf('/');
  const host = canonicalHost(slash < 0 ? endpoint : endpoint.slice(0, slash));
  const path = slash < 0 ? '' : endpointPath(endpoint.slice(slash));
  return brand({ host, path, namespace });
}

/**
 * syntheticServerUrl names a namespaced entry inside a Docker credential helper:
 * a unique host under the reserved .invalid TLD, so no real registry ever matches it (R3).
 */
export function syntheticServerUrl(key: string): string {
  return `https://${sha256Hex(key).slice(0, 32)}.mirrorauth.invalid`;
}

/** pathCovers: a key path applies to an endpoint path when it is equal or a parent segment. */
export function pathCovers(keyPath: string, endpoint: string): boolean {
  return keyPath === '' || endpoint === keyPath || endpoint.startsWith(`${keyPath}/`);
}
