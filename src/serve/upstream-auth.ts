/**
 * Upstream authentication for the serve proxy: the proxy, not containerd,
 * answers the real mirror's challenge. It remembers each endpoint's challenge
 * (so later requests carry credentials on the first try), and caches Bearer
 * tokens in memory keyed by (origin, realm, service, scope, credential
 * identity) until their expiry minus a skew, with one in-flight fetch per key.
 * Realms are checked by fetchToken exactly as `login` checks them.
 */
import { basicAuthorization, type Credential } from '../credentials/credential.js';
import { parseWwwAuthenticate, preferredChallenge } from '../registry/challenge.js';
import type { TlsSettings } from '../registry/http.js';
import { tokenKey } from '../registry/token-cache.js';
import { fetchToken } from '../registry/token.js';
import type { System } from '../system/system.js';

export interface KnownChallenge {
  scheme: 'basic' | 'bearer';
  realm: string | null;
  service: string | null;
}

/** How long before a token's expiry it stops being used. */
export const TOKEN_SKEW_MS = 30_000;

export class UpstreamAuth {
  private readonly challenges = new Map<string, KnownChallenge>();
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();
  private readonly inflight = new Map<string, Promise<string>>();
  /** Token-cache keys per credential object (hashing them on every request costs more than the lookup). */
  private readonly keys = new WeakMap<Credential, Map<string, string>>();
  /** Token requests sent, for the access log and the benchmark. */
  tokenRequests = 0;

  constructor(private readonly sys: System) {}

  /** learn records the challenge of a 401; false when it names no scheme the proxy can answer. */
  learn(space: string, wwwAuthenticate: string[]): boolean {
    const c = preferredChallenge(parseWwwAuthenticate(wwwAuthenticate));
    if (c === null) return false;
    const scheme = c.scheme === 'bearer' ? 'bearer' : 'basic';
    this.challenges.set(space, { scheme, realm: c.params.realm ?? null, service: c.params.service ?? null });
    return true;
  }

  known(space: string): KnownChallenge | null {
    return this.challenges.get(space) ?? null;
  }

  forget(space: string): void {
    this.challenges.delete(space);
  }

  /**
   * authorization is the header value for a request into `space` (null when
   * the endpoint has not challenged yet). `registry` is the endpoint URL the
   * realm is checked against.
   */
  async authorization(space: string, registry: URL, scopes: string[], credential: Credential, tls: TlsSettings | null): Promise<string | null> {
    const c = this.challenges.get(space);
    if (!c) return null;
    if (credential.registryToken !== '') return `Bearer ${credential.registryToken}`;
    if (c.scheme === 'basic') return credential.username === '' && credential.password === '' ? null : basicAuthorization(credential);
    if (c.realm === null) return null;
    const key = this.keyFor(credential, `${registry.origin} ${c.realm}`, c.service, scopes);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt - TOKEN_SKEW_MS > this.sys.now()) return `Bearer ${cached.token}`;
    let pending = this.inflight.get(key);
    if (!pending) {
      const realm = c.realm;
      pending = (async () => {
        this.tokenRequests++;
        const t = await fetchToken(this.sys, { realm, service: c.service, scopes, credential, registry, tls });
        this.tokens.set(key, { token: t.token, expiresAt: t.issuedAtMs + t.expiresInS * 1000 });
        return t.token;
      })().finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return `Bearer ${await pending}`;
  }

  private keyFor(credential: Credential, realm: string, service: string | null, scopes: string[]): string {
    let perCredential = this.keys.get(credential);
    if (!perCredential) {
      perCredential = new Map();
      this.keys.set(credential, perCredential);
    }
    const memo = `${realm}\n${service ?? ''}\n${scopes.join(' ')}`;
    let key = perCredential.get(memo);
    if (key === undefined) {
      const secret = credential.identityToken !== '' ? credential.identityToken : credential.password;
      key = tokenKey(realm, service, scopes, credential.username, secret);
      perCredential.set(memo, key);
    }
    return key;
  }

  /** dropTokens forgets the cached tokens of a space after the upstream refused one (revoked early). */
  dropTokens(): void {
    this.tokens.clear();
  }
}
