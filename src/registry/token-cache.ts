/**
 * On-disk cache of registry challenges and tokens, per user
 * (`${XDG_CACHE_HOME:-~/.cache}/mirrorauth/tokens.json`, 0600 in a 0700 dir).
 * Token keys are realm, service and scopes, and a hash of the credential (username and secret:
 * the secret is never written). Every read checks expiry; a corrupted file is
 * discarded, never fatal.
 */
import { sha256Hex } from '../hash.js';
import { writeFileAtomic } from '../system/atomic-write.js';
import { tokenCachePath } from './token-cache-place.js';
import type { System } from '../system/system.js';

export interface CachedChallenge {
  scheme: 'none' | 'basic' | 'bearer';
  realm: string | null;
  service: string | null;
  /** ms since the epoch after which the challenge is asked again. */
  until: number;
}

export interface CachedToken {
  token: string;
  /** ms since the epoch at which the registry stops accepting the token. */
  expiresAt: number;
}

/** [path, dev, ino, size, mtimeMs, ctimeMs] of a file as it was before it was read; [path] when it did not exist. */
export type FileMark = [string, number, number, number, number, number] | [string];

/** `bazel get`'s record of one decision (protocols/bazel-memo.ts explains the rules). */
export interface RecordedAnswer {
  /** The bundle's build (its hash): another build may decide differently. */
  build: string;
  /** Every environment variable the decision read, with its value (null: unset). */
  env: [string, string | null][];
  files: FileMark[];
  /** The challenge the decision used: its cache key and the moment it expires (it changes with every refresh). */
  challenge: string;
  challengeUntil: number;
  /** The token-cache key of the token it chose. */
  token: string;
}

interface CacheFile {
  version: 1;
  challenges: Record<string, CachedChallenge>;
  tokens: Record<string, CachedToken>;
  /** Which token `bazel get` chose for a request, and on what the choice depended (protocols/bazel-memo.ts). */
  answers?: Record<string, RecordedAnswer>;
}

/** How long a discovered challenge is trusted before /v2/ is asked again. */
export const CHALLENGE_TTL_MS = 60 * 60 * 1000;

export function tokenCacheFile(sys: System): string {
  // sys.homedir() always answers, so the place is never null here
  return tokenCachePath(sys.env, () => sys.homedir()) as string;
}

/**
 * tokenKey identifies a token by realm, service, sorted scopes and who asks, so a token is never shared
 * between credentials. What the token is for stays readable (the file holds the tokens themselves); who asks
 * is a SHA-256 of username and secret, never the secret. Only that short part is hashed: SHA-256 in pure
 * JavaScript costs a helper start-up ~0.1 ms for one block and ~0.7 ms from four (V8 starts optimising it).
 */
export function tokenKey(realm: string, service: string | null, scopes: string[], username: string, secret: string): string {
  return `${JSON.stringify([realm, service ?? '', [...new Set(scopes)].sort()])}${sha256Hex(JSON.stringify([username, secret]))}`;
}

export class TokenCache {
  private data: CacheFile = { version: 1, challenges: {}, tokens: {} };
  private dirty = false;

  private constructor(
    private readonly sys: System,
    readonly file: string,
  ) {}

  /** memory is a cache that lives for one command and is never written (probes). */
  static memory(sys: System): TokenCache {
    return new TokenCache(sys, '');
  }

  /** open reads the cache; anything unreadable or malformed starts an empty one. */
  static async open(sys: System, file = tokenCacheFile(sys)): Promise<TokenCache> {
    const c = new TokenCache(sys, file);
    try {
      const parsed = JSON.parse(await sys.fs.readText(file)) as Partial<CacheFile>;
      if (parsed.version === 1 && typeof parsed.challenges === 'object' && typeof parsed.tokens === 'object' && parsed.challenges && parsed.tokens) {
        c.data = { version: 1, challenges: parsed.challenges, tokens: parsed.tokens };
        if (typeof parsed.answers === 'object' && parsed.answers !== null) c.data.answers = parsed.answers;
      } else {
        c.dirty = true;
      }
    } catch {
      c.dirty = true; // missing or corrupt: start empty
    }
    return c;
  }

  challenge(base: string): CachedChallenge | null {
    const c = this.data.challenges[base];
    if (!c || typeof c.until !== 'number' || c.until <= this.sys.now()) return null;
    return c;
  }

  setChallenge(base: string, c: Omit<CachedChallenge, 'until'>): void {
    this.data.challenges[base] = { ...c, until: this.sys.now() + CHALLENGE_TTL_MS };
    this.dirty = true;
  }

  /** token returns a cached token that stays valid for at least `marginMs` more. */
  token(key: string, marginMs: number): CachedToken | null {
    const t = this.data.tokens[key];
    if (!t || typeof t.token !== 'string' || typeof t.expiresAt !== 'number') return null;
    return t.expiresAt - marginMs > this.sys.now() ? t : null;
  }

  setToken(key: string, t: CachedToken): void {
    this.data.tokens[key] = t;
    this.dirty = true;
  }

  /** setAnswer records `bazel get`'s decision for a request (protocols/bazel-memo.ts). */
  setAnswer(key: string, a: RecordedAnswer): void {
    (this.data.answers ??= {})[key] = a;
    this.dirty = true;
  }

  /** save writes the cache when it changed, dropping expired entries. */
  async save(): Promise<void> {
    if (!this.dirty || this.file === '') return;
    const now = this.sys.now();
    for (const [k, t] of Object.entries(this.data.tokens)) if (t.expiresAt <= now) delete this.data.tokens[k];
    for (const [k, c] of Object.entries(this.data.challenges)) if (c.until <= now) delete this.data.challenges[k];
    // an answer without its token or challenge can never be used again
    for (const [k, a] of Object.entries(this.data.answers ?? {}))
      if (this.data.tokens[a.token] === undefined || this.data.challenges[a.challenge] === undefined) delete this.data.answers?.[k];
    await writeFileAtomic(this.sys, this.file, JSON.stringify(this.data), { mode: 0o600 });
    this.dirty = false;
  }
}
