/**
 * Where the token cache lives and how close to expiry a cached token is still handed out: the two rules the
 * token cache (token-cache.ts, authorize.ts) and the launcher's `bazel get` shortcut (protocols/bazel-memo.ts,
 * built into the entry before any bundle loads) must read alike. Pure and tiny for that reason.
 */

/** Tokens are not handed out when they have less than this left. */
export const TOKEN_MARGIN_MS = 60_000;

/**
 * tokenCachePath: `${XDG_CACHE_HOME:-$HOME/.cache}/mirrorauth/tokens.json`. `home` is asked only when
 * XDG_CACHE_HOME is unset or empty; null when it has no answer either.
 */
export function tokenCachePath(env: Readonly<Record<string, string | undefined>>, home: () => string | undefined): string | null {
  const base = env.XDG_CACHE_HOME || ((h) => (h === undefined ? null : `${h}/.cache`))(home());
  return base === null ? null : `${base}/mirrorauth/tokens.json`;
}
