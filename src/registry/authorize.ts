/**
 * authorizationFor turns a credential into the Authorization header a registry
 * endpoint accepts for one repository: Basic as is, Bearer through the token
 * exchange, both with the challenge and tokens cached on disk.
 */
import { basicAuthorization, type Credential } from '../credentials/credential.js';
import { pingUrl } from '../hosts/go-semantics.js';
import type { System } from '../system/system.js';
import { parseWwwAuthenticate, preferredChallenge } from './challenge.js';
import { request, type TlsSettings } from './http.js';
import { fetchToken } from './token.js';
import { TOKEN_MARGIN_MS } from './token-cache-place.js';
import { tokenKey, type CachedChallenge, type TokenCache } from './token-cache.js';
import { MirrorauthError } from '../errors.js';

export interface AuthTarget {
  /** scheme://host + API path (…/v2). */
  apiBase: string;
  namespace: string | null;
  repository: string;
  actions: string[];
  tls?: TlsSettings | null;
  /**
   * May a secret go to a token realm learnt over plain http? Only for a host the
   * user marked insecure: otherwise an on-path attacker names the realm.
   */
  plainHttpRealms?: boolean;
  /** Told which authentication the endpoint asked for, before any token exchange (the probe reports it). */
  onChallenge?: (scheme: 'none' | 'basic' | 'bearer') => void;
}

export interface Authorization {
  header: string | null;
  /** When the header stops working (ms since the epoch), or null for Basic. */
  expiresAt: number | null;
  /** Whether any network request was sent. */
  network: boolean;
  /** A Bearer token held in the token cache: its key, and the cached challenge it was asked under. */
  cached?: { token: string; challenge: string; challengeUntil: number } | undefined;
}

export { TOKEN_MARGIN_MS };

export async function authorizationFor(sys: System, cache: TokenCache, t: AuthTarget, credential: Credential): Promise<Authorization> {
  const base = pingUrl(t.apiBase, t.namespace);
  const plain = base.startsWith('http:');
  // a challenge read over plain http could be anyone's: cached only for a host the user marked insecure
  const cacheable = !plain || t.plainHttpRealms === true;
  let network = false;
  let challenge: Omit<CachedChallenge, 'until'> | null = cacheable ? cache.challenge(base) : null;
  if (challenge === null) {
    network = true;
    const res = await request(sys, base, { tls: t.tls ?? null });
    if (res.status >= 200 && res.status < 300) {
      challenge = { scheme: 'none', realm: null, service: null };
    } else {
      const header = res.headers.get('www-authenticate');
      const c = preferredChallenge(parseWwwAuthenticate(header ? [header] : []));
      challenge =
        c === null
          ? { scheme: 'none', realm: null, service: null }
          : { scheme: c.scheme === 'bearer' ? 'bearer' : 'basic', realm: c.params.realm ?? null, service: c.params.service ?? null };
    }
    if (cacheable) cache.setChallenge(base, challenge);
  }
  t.onChallenge?.(challenge.scheme);
  if (challenge.scheme === 'none') return { header: null, expiresAt: null, network };
  if (plain && challenge.scheme === 'bearer' && !t.plainHttpRealms) {
    throw new MirrorauthError(
      'REALM_REJECTED',
      `${new URL(base).host} asked over plain http for a token from ${challenge.realm ?? 'a realm'}; no credentials are sent to a realm learnt over plain http`,
      {
        hint: `if you trust this registry over plain http, list it in ${'MIRRORAUTH_BAZEL_INSECURE_HOSTS'} (HOST:PORT)`,
      },
    );
  }
  if (challenge.scheme === 'basic') {
    if (credential.password === '') return { header: null, expiresAt: null, network };
    return { header: basicAuthorization(credential), expiresAt: null, network };
  }
  if (credential.registryToken !== '') return { header: `Bearer ${credential.registryToken}`, expiresAt: null, network };
  const scope = `repository:${t.repository}:${t.actions.join(',')}`;
  const key = tokenKey(challenge.realm ?? '', challenge.service, [scope], credential.username, credential.identityToken || credential.password);
  const held = () => {
    const c = cacheable ? cache.challenge(base) : null;
    return c === null ? undefined : { token: key, challenge: base, challengeUntil: c.until };
  };
  const cached = cache.token(key, TOKEN_MARGIN_MS);
  if (cached) return { header: `Bearer ${cached.token}`, expiresAt: cached.expiresAt, network, cached: held() };
  const token = await fetchToken(sys, {
    realm: challenge.realm ?? '',
    service: challenge.service,
    scopes: [scope],
    credential,
    registry: new URL(base),
    tls: t.tls ?? null,
  });
  const expiresAt = token.issuedAtMs + token.expiresInS * 1000;
  cache.setToken(key, { token: token.token, expiresAt });
  return { header: `Bearer ${token.token}`, expiresAt, network: true, cached: held() };
}
