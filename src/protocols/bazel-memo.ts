/**
 * The `bazel get` shortcut: which token-cache entry the last full answer chose, and on what that choice
 * depended.
 *
 * Bazel starts the helper once per URL it fetches, and a warm answer is a token already in the token cache;
 * nearly all of the work is deciding which credential, and so which cached token, the request gets
 * (`handleBazel`). After a full answer, that decision is recorded in the token cache next to the tokens
 * (`answers`), with everything it depended on: the environment variables it read, the files it read (device,
 * inode, size, mtime, ctime, taken before reading), the challenge it used and the build of mirrorauth that
 * made it. The next request for the same repository is answered from the recorded entry (in the launcher's
 * entry, without loading the bundle) when all of that is unchanged and the token itself is still valid with
 * the same margin the full path uses; anything else takes the full path, which records again.
 *
 * Never recorded: a decision that consulted the OS keychain or ran a credential helper (their contents change
 * without any file changing), one that read an environment variable outside {@link RECORDED_ENV} that is set
 * (DOCKER_AUTH_CONFIG holds secrets: its value is never written), one that read a file changed in the last
 * {@link RACY_MS} (a same-size rewrite within one timestamp tick would not show), Basic answers (the header is
 * the password), and requests whose URI is not in the plain form {@link answerKey} accepts.
 *
 * This module is pure and small: the launcher embeds it (scripts/build-fast.mjs) and runs it before anything
 * else is loaded.
 */
import { TOKEN_MARGIN_MS, tokenCachePath } from '../registry/token-cache-place.js';
import type { FileMark, RecordedAnswer } from '../registry/token-cache.js';

export type { FileMark, RecordedAnswer };

/** Tokens are not handed out when they have less than this left: the token cache's own margin. */
export const ANSWER_MARGIN_MS = TOKEN_MARGIN_MS;

/** A file changed this recently is not relied on: some file systems keep timestamps to the second or two. */
export const RACY_MS = 2_000;

/** Environment variables whose values may be written into the record: paths and host lists, never secrets. */
export const RECORDED_ENV: ReadonlySet<string> = new Set([
  'HOME',
  'XDG_CACHE_HOME',
  'DOCKER_CONFIG',
  'MIRRORAUTH_BAZEL_HOSTS',
  'MIRRORAUTH_BAZEL_INSECURE_HOSTS',
  'MIRRORAUTH_DOCKER_CONFIG',
  'MIRRORAUTH_HTTP_TIMEOUT_MS',
  // read on the way to the keychain: a decision that goes there is not recorded anyway (that is the rule the
  // tests check), and a socket path and a switch are no secrets
  'DBUS_SESSION_BUS_ADDRESS',
  'MIRRORAUTH_KEYCHAIN_DIRECT',
]);

export interface StatLike {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

/** bazelExpires formats an instant as Bazel parses it: RFC 3339 in UTC, whole seconds. */
export function bazelExpires(ms: number): string {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  const year = d.getUTCFullYear();
  // the first toISOString() of a process costs ~0.3 ms; the UTC getters give the same text for years 0–9999
  if (year < 0 || year > 9999) return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const two = (n: number) => String(n).padStart(2, '0');
  return `${String(year).padStart(4, '0')}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}T${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}Z`;
}

/** bazelReply is the answer's text, exactly as both paths print it. */
export function bazelReply(header: string, expiresAt: number | null): string {
  const reply: { headers: { Authorization: string[] }; expires?: string } = { headers: { Authorization: [header] } };
  if (expiresAt !== null) reply.expires = bazelExpires(expiresAt - ANSWER_MARGIN_MS);
  return `${JSON.stringify(reply)}\n`;
}

/**
 * answerKey: what of a request URI the decision depends on (scheme, authority, the path before /v2/, the
 * repository, the query), or null when the URI is not in a plain form: lower-case host or bracketed IPv6
 * address, an optional port, path and query of unreserved characters and `/ : = & @ +`, no `.` or `..`
 * segment. A URL parser hands such a URI back unchanged, so two URIs with one key are read alike
 * (test/protocols/bazel-memo.test.ts checks it against the full path's reader).
 */
export function answerKey(uri: string): string | null {
  const m = /^(https?:\/\/(?:[a-z0-9.-]+|\[[0-9a-f:]+\])(?::[0-9]{1,5})?)(\/[A-Za-z0-9._~:@+=/-]*)(\?[A-Za-z0-9._~:=&-]*)?$/.exec(uri);
  if (!m) return null;
  const path = m[2] as string;
  if (/\/\.\.?(?:\/|$)/.test(path)) return null;
  // the full path's own split: the first /v2/, the shortest repository before an API verb
  const p = /^(.*?)\/v2\/(.+?)\/(?:manifests|blobs|tags|referrers)(?:\/|$)/.exec(path);
  if (!p) return null;
  return `${m[1]}${p[1]}/v2/${p[2]}${m[3] ?? ''}`;
}

/** The token cache, where the answers are kept (null with neither XDG_CACHE_HOME nor HOME set). */
export function answerFile(env: Readonly<Record<string, string | undefined>>): string | null {
  return tokenCachePath(env, () => env.HOME);
}

export function fileMark(path: string, s: StatLike | null): FileMark {
  return s === null ? [path] : [path, s.dev, s.ino, s.size, s.mtimeMs, s.ctimeMs];
}

function sameMark(a: FileMark, b: FileMark): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export interface AnswerIo {
  now(): number;
  /** The file's text, or null when it cannot be read. */
  readText(path: string): string | null;
  /** The file's stat, null when it does not exist; throws on any other error. */
  stat(path: string): StatLike | null;
}

/**
 * recordedAnswer answers a `bazel get` request from the token cache's record when everything the recorded
 * decision depended on is unchanged; null sends the request down the full path.
 */
export function recordedAnswer(input: string, env: Readonly<Record<string, string | undefined>>, build: string, io: AnswerIo): string | null {
  let uri: unknown;
  try {
    uri = (JSON.parse(input) as { uri?: unknown } | null)?.uri;
  } catch {
    return null;
  }
  if (typeof uri !== 'string') return null;
  const key = answerKey(uri);
  const file = answerFile(env);
  if (key === null || file === null || build === '') return null;
  const text = io.readText(file);
  if (text === null) return null;
  let doc: {
    version?: unknown;
    answers?: Record<string, RecordedAnswer>;
    challenges?: Record<string, { until?: unknown }>;
    tokens?: Record<string, { token?: unknown; expiresAt?: unknown }>;
  };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    return null;
  }
  if (doc === null || typeof doc !== 'object' || doc.version !== 1) return null;
  const a = doc.answers?.[key];
  if (a === undefined || a === null || typeof a !== 'object' || a.build !== build || !Array.isArray(a.env) || !Array.isArray(a.files)) return null;
  const now = io.now();
  const c = doc.challenges?.[a.challenge];
  if (!c || c.until !== a.challengeUntil || typeof c.until !== 'number' || c.until <= now) return null;
  const t = doc.tokens?.[a.token];
  if (!t || typeof t.token !== 'string' || typeof t.expiresAt !== 'number' || t.expiresAt - ANSWER_MARGIN_MS <= now) return null;
  for (const [name, value] of a.env) if ((env[name] ?? null) !== value) return null;
  for (const mark of a.files) {
    if (!Array.isArray(mark) || typeof mark[0] !== 'string') return null;
    let s: StatLike | null;
    try {
      s = io.stat(mark[0]);
    } catch {
      return null;
    }
    if (!sameMark(fileMark(mark[0], s), mark)) return null;
  }
  return bazelReply(`Bearer ${t.token}`, t.expiresAt);
}
