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
import { errnoCode, isMirrorauthError } from '../errors.js';
import { isLocalhost } from '../hosts/go-semantics.js';
import { authorizationFor } from '../registry/authorize.js';
import { TokenCache, tokenCacheFile } from '../registry/token-cache.js';
import type { FileSystem, System } from '../system/system.js';
import { answerKey, bazelReply, fileMark, RACY_MS, RECORDED_ENV, type FileMark, type RecordedAnswer } from './bazel-memo.js';

export interface BazelReply {
  stdout: string;
  stderr: string;
  code: number;
}

/** The allow-list of extra hosts (comma-separated) that may receive credentials. */
export const BAZEL_ALLOW_ENV = 'MIRRORAUTH_BAZEL_HOSTS';

export { bazelExpires } from './bazel-memo.js';

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

/**
 * Recording: a System that notes what a decision depends on, for the record protocols/bazel-memo.ts keeps.
 * Environment variables read (with their values), files read (marked before reading), and whether anything
 * outside files was consulted (a credential helper run, the OS keychain opened) or the environment listed.
 */
interface Recording {
  sys: System;
  env: Map<string, string | null>;
  files: Map<string, FileMark>;
  /** Something was consulted that no file records (a helper, the keychain), or a file could not be marked. */
  unrecordable: boolean;
}

function recording(sys: System, skip: (path: string) => boolean): Recording {
  const r: Recording = { sys, env: new Map(), files: new Map(), unrecordable: false };
  const note = (k: string | symbol) => {
    if (typeof k === 'string' && !r.env.has(k)) r.env.set(k, sys.env[k] ?? null);
  };
  const env = new Proxy(sys.env, {
    get: (t, k) => (note(k), Reflect.get(t, k)),
    has: (t, k) => (note(k), Reflect.has(t, k)),
    getOwnPropertyDescriptor: (t, k) => (note(k), Reflect.getOwnPropertyDescriptor(t, k)),
    ownKeys: (t) => ((r.unrecordable = true), Reflect.ownKeys(t)),
  });
  const mark = async (p: string) => {
    if (skip(p) || r.files.has(p)) return;
    try {
      const st = await sys.fs.stat(p);
      if (st.dev === undefined || st.ino === undefined || st.ctimeMs === undefined) r.unrecordable = true;
      else r.files.set(p, fileMark(p, { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs }));
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') r.files.set(p, fileMark(p, null));
      else r.unrecordable = true;
    }
  };
  const fs: FileSystem = {
    ...sys.fs,
    readText: async (p) => (await mark(p), sys.fs.readText(p)),
    stat: async (p) => (await mark(p), sys.fs.stat(p)),
    lstat: async (p) => (await mark(p), sys.fs.lstat(p)),
    readdir: async (p) => (await mark(p), sys.fs.readdir(p)),
    realpath: async (p) => (await mark(p), sys.fs.realpath(p)),
    readlink: async (p) => (await mark(p), sys.fs.readlink(p)),
  };
  r.sys = {
    ...sys,
    env,
    fs,
    homedir: () => (note('HOME'), sys.homedir()),
    spawn: (...a) => ((r.unrecordable = true), sys.spawn(...a)),
    spawnInherited: (...a) => ((r.unrecordable = true), sys.spawnInherited(...a)),
  };
  return r;
}

/** recordable: the answer record for a decision, or null when it must not be recorded (bazel-memo.ts). */
function recordable(r: Recording, build: string, cached: { token: string; challenge: string; challengeUntil: number } | undefined): RecordedAnswer | null {
  if (build === '' || cached === undefined || r.unrecordable) return null;
  for (const [k, v] of r.env) if (v !== null && !RECORDED_ENV.has(k)) return null;
  const now = r.sys.now();
  for (const m of r.files.values()) if (m.length > 1 && now - (m[5] as number) < RACY_MS) return null;
  return { build, env: [...r.env], files: [...r.files.values()], ...cached };
}

export interface BazelOptions {
  /** The bundle's build id: when set, a Bearer answer is recorded for the launcher's shortcut (bazel-memo.ts). */
  build?: string;
}

export async function handleBazel(sys0: System, input: string, o: BazelOptions = {}): Promise<BazelReply> {
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
  // everything the decision reads from here on is noted, for the record of this answer (when one can be kept)
  const key = o.build ? answerKey(uri) : null;
  const cacheFile = tokenCacheFile(sys0);
  const rec = key === null ? null : recording(sys0, (p) => p === cacheFile);
  const sys = rec === null ? sys0 : rec.sys;
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
    const opened = await openCredentials(sys);
    // the OS keychain's contents change without any file changing: a decision that opened it is not recorded
    const ctx: CredentialContext =
      rec === null
        ? opened
        : { ...opened, backends: { ...opened.backends, keychain: (probe) => ((rec.unrecordable = true), opened.backends.keychain(probe)) } };
    if (!knownHost(ctx, sys, target)) return none();
    const lookup = await resolveCredential(ctx, { host: target.host, path: target.endpointPath }, target.namespace);
    if (lookup.source.kind === 'anonymous') return none();
    const cache = await TokenCache.open(sys, cacheFile);
    const auth = await authorizationFor(
      sys,
      cache,
      { apiBase: target.apiBase, namespace: target.namespace, repository: target.repository, actions: ['pull'], plainHttpRealms: marked },
      lookup.credential,
    );
    if (key !== null && rec !== null) {
      const record = recordable(rec, o.build ?? '', auth.cached);
      if (record !== null) cache.setAnswer(key, record);
    }
    await cache.save().catch(() => undefined);
    if (auth.header === null) return none();
    return { stdout: bazelReply(auth.header, auth.expiresAt), stderr: '', code: 0 };
  } catch (e) {
    return { stdout: '', stderr: `mirrorauth bazel: ${isMirrorauthError(e) ? e.message : (e as Error).message}\n`, code: 1 };
  }
}

/** serveBazel is the process shell; `input` is the request when the launcher already read it (its shortcut missed). */
export async function serveBazel(sys: System, args: readonly string[], o: BazelOptions & { input?: string } = {}): Promise<number> {
  if (args[0] !== 'get' || args.length !== 1) {
    sys.stderr.write('usage: mirrorauth bazel get  (request {"uri": "…"} on stdin)\n');
    return 2;
  }
  let input: string;
  try {
    input = o.input ?? (await sys.stdin.readAll());
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    sys.stderr.write(`mirrorauth bazel: cannot read the request on stdin${typeof code === 'string' ? ` (${code})` : ''}\n`);
    return 2;
  }
  const reply = await handleBazel(sys, input, { build: o.build ?? '' });
  sys.stdout.write(reply.stdout);
  sys.stderr.write(reply.stderr);
  return reply.code;
}
