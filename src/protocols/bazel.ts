/**
 * The Bazel credential-helper protocol: `mirrorauth bazel get` reads
 * {"uri": "..."} and answers {"headers": {...}, "expires": "..."} or {}.
 * Only hosts mirrorauth knows get anything; Bearer registries get a token from
 * the exchange (cached on disk), with `expires` in Bazel's RFC 3339 form
 * (no fractional seconds) a margin before the token really expires.
 * .bazelrc: build --credential_helper=ghcr.io=/usr/local/bin/mirrorauth-bazel
 * where mirrorauth-bazel is `exec mirrorauth bazel get` (Bazel appends `get` itself).
 */
import { canonicalHost, parseEndpoint, queryValues } from '../credentials/keys.js';
import { hasCredential, openCredentials, resolveCredential, type CredentialContext } from '../credentials/resolve.js';
import { isMirrorauthError } from '../errors.js';
import { isLocalhost } from '../hosts/go-semantics.js';
import { authorizationFor } from '../registry/authorize.js';
import { TokenCache } from '../registry/token-cache.js';
import type { System } from '../system/system.js';

export interface BazelReply {
  stdout: string;
  stderr: string;
  code: number;
}

/** The allow-list of extra hosts (comma-separated) that may receive credentials. */
export const BAZEL_ALLOW_ENV = 'MIRRORAUTH_BAZEL_HOSTS';

/** bazelExpires formats a time as Bazel parses it: yyyy-MM-dd'T'HH:mm:ssXXX, no fractional seconds. */
export function bazelExpires(ms: number): string {
  // the UTC getters, not toISOString(): its first call costs ~0.3 ms, a tenth of this helper's own work
  const d = new Date(Math.floor(ms / 1000) * 1000);
  const year = d.getUTCFullYear();
  if (year < 0 || year > 9999) return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const two = (n: number) => String(n).padStart(2, '0');
  return `${String(year).padStart(4, '0')}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}T${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}Z`;
}

interface RegistryUri {
  apiBase: string;
  host: string;
  endpointPath: string;
  repository: string;
  namespace: string | null;
}

/** The hosts (HOST[:PORT], comma-separated) the user accepts over plain http, realms included. */
export const BAZEL_INSECURE_ENV = 'MIRRORAUTH_BAZEL_INSECURE_HOSTS';

/**
 * parseRegistryUri reads scheme://host[/prefix]/v2/<repository>/(manifests|blobs|tags|referrers)/… [?ns=NS].
 * The authority must already be canonical: Bazel's JVM connects to the literal
 * host, while a WHATWG parser would normalise `127.0.0.010`, `0x7f.1`,
 * `2130706433`, upper case, tabs or backslashes into another host, and the
 * credentials would be chosen for a host Bazel does not talk to.
 */
export function parseRegistryUri(uri: string): RegistryUri | null {
  if (/[\t\n\r\\]/.test(uri)) return null;
  const raw = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)/.exec(uri);
  if (!raw) return null;
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return null;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
  if (raw[1] !== u.host || u.username !== '' || u.password !== '') return null;
  const ns = queryValues(u.search, 'ns');
  if (ns.length > 1) return null;
  const m = /^(.*?)\/v2\/(.+?)\/(?:manifests|blobs|tags|referrers)(?:\/|$)/.exec(u.pathname);
  if (!m) return null;
  // What no credential key can name (a percent-escape in the path, an empty ?ns=, a repository that does
  // not decode) is not an endpoint mirrorauth holds anything for: Bazel gets {} rather than an error.
  let e: { path: string; namespace: string | null };
  let repository: string;
  try {
    // the common case (a registry at the root of a plain host name or address, no ?ns=) needs no key parser:
    // what it would answer is no path and no namespace; anything else goes through it
    e =
      m[1] === '' && ns.length === 0 && /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::[0-9]+)?$/.test(u.host)
        ? { path: '', namespace: null }
        : parseEndpoint(`${u.host}${m[1] ?? ''}${ns.length === 1 ? `?ns=${encodeURIComponent(ns[0] as string)}` : ''}`);
    repository = decodeURIComponent(m[2] as string);
  } catch {
    return null;
  }
  // a URL drops the scheme's default port; the credential is chosen for the port really used (http://h is h:80)
  const host = u.protocol === 'http:' && u.port === '' ? `${u.host}:80` : u.host;
  return {
    apiBase: `${u.protocol}//${u.host}${m[1] ?? ''}/v2`,
    host,
    endpointPath: e.path,
    repository,
    namespace: e.namespace,
  };
}

/**
 * knownHost: the allow-list, or the lookup plan reaches a source that holds
 * something for this endpoint (legacy keys included), checked without reading
 * a secret; Bazel asks for every URL it fetches, and unknown hosts get {}.
 */
function knownHost(ctx: CredentialContext, sys: System, target: RegistryUri): boolean {
  const allow = (sys.env[BAZEL_ALLOW_ENV] ?? '')
    .split(',')
    .map((x) => canonicalHost(x.trim()))
    .filter(Boolean);
  if (allow.includes(canonicalHost(target.host))) return true;
  return hasCredential(ctx, { host: target.host, path: target.endpointPath }, target.namespace);
}

export async function handleBazel(sys: System, input: string): Promise<BazelReply> {
  const none = (): BazelReply => ({ stdout: '{}\n', stderr: '', code: 0 });
  let req: unknown;
  try {
    req = JSON.parse(input);
  } catch {
    return { stdout: '', stderr: 'mirrorauth bazel: the request on stdin is not JSON (expected {"uri": "https://…"})\n', code: 2 };
  }
  const uri = typeof req === 'object' && req !== null ? (req as { uri?: unknown }).uri : undefined;
  if (typeof uri !== 'string' || uri === '') return { stdout: '', stderr: 'mirrorauth bazel: the request has no "uri" string\n', code: 2 };
  const target = parseRegistryUri(uri);
  if (target === null) return none();
  // plain http: credentials only for loopback or a host the user marked insecure; a password or
  // token goes to a realm learnt over plain http only for a marked host (an on-path attacker writes the challenge)
  const insecure = (sys.env[BAZEL_INSECURE_ENV] ?? '')
    .split(',')
    .map((x) => canonicalHost(x.trim()))
    .filter(Boolean);
  const plain = target.apiBase.startsWith('http:');
  const marked = insecure.includes(canonicalHost(target.host)) || insecure.includes(canonicalHost(target.host.replace(/:80$/, '')));
  if (plain && !marked && !isLocalhost(target.host.replace(/:80$/, ''))) return none();
  try {
    const ctx = await openCredentials(sys);
    if (!knownHost(ctx, sys, target)) return none();
    const lookup = await resolveCredential(ctx, { host: target.host, path: target.endpointPath }, target.namespace);
    if (lookup.source.kind === 'anonymous') return none();
    const cache = await TokenCache.open(sys);
    const auth = await authorizationFor(
      sys,
      cache,
      { apiBase: target.apiBase, namespace: target.namespace, repository: target.repository, actions: ['pull'], plainHttpRealms: marked },
      lookup.credential,
    );
    await cache.save().catch(() => undefined);
    if (auth.header === null) return none();
    const reply: { headers: Record<string, string[]>; expires?: string } = { headers: { Authorization: [auth.header] } };
    if (auth.expiresAt !== null) reply.expires = bazelExpires(auth.expiresAt - 60_000);
    return { stdout: `${JSON.stringify(reply)}\n`, stderr: '', code: 0 };
  } catch (e) {
    return { stdout: '', stderr: `mirrorauth bazel: ${isMirrorauthError(e) ? e.message : (e as Error).message}\n`, code: 1 };
  }
}

export async function serveBazel(sys: System, args: readonly string[]): Promise<number> {
  if (args[0] !== 'get' || args.length !== 1) {
    sys.stderr.write('usage: mirrorauth bazel get  (request {"uri": "…"} on stdin)\n');
    return 2;
  }
  let input: string;
  try {
    input = await sys.stdin.readAll();
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    sys.stderr.write(`mirrorauth bazel: cannot read the request on stdin${typeof code === 'string' ? ` (${code})` : ''}\n`);
    return 2;
  }
  const reply = await handleBazel(sys, input);
  sys.stdout.write(reply.stdout);
  sys.stderr.write(reply.stderr);
  return reply.code;
}
