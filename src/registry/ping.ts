/**
 * verifyCredential checks credentials against a registry endpoint the way
 * `docker login` does: GET <api>/ (with ?ns= for a mirror), then answer a Basic
 * challenge directly or a Bearer challenge through the token exchange. Nothing
 * is stored here; the caller stores only after success.
 */
import { MirrorauthError } from '../errors.js';
import { basicAuthorization, type Credential } from '../credentials/credential.js';
import { pingBase, pingUrl } from '../hosts/go-semantics.js';
import type { System } from '../system/system.js';
import { parseWwwAuthenticate, preferredChallenge } from './challenge.js';
import { request, type TlsSettings } from './http.js';
import { fetchToken } from './token.js';

export interface VerifyTarget {
  /** Scheme, host and API path, e.g. https://mirror.corp/v2 or http://127.0.0.1:5001/v2. */
  apiBase: string;
  /** ?ns= value for a mirror, or null. */
  namespace: string | null;
  tls?: TlsSettings | null;
  /** Where the trusted CAs came from, for a TLS failure message. */
  trustedFrom?: string[];
}

export interface VerifyResult {
  /** How the registry authenticates: none (anonymous allowed), basic or bearer. */
  scheme: 'none' | 'basic' | 'bearer';
  /** A refresh token returned by the token server, to store instead of the password. */
  refreshToken: string | null;
  /** The URL that was checked. */
  url: string;
}

/** verifyCredential throws AUTH_FAILED for refused credentials and REGISTRY_ERROR for anything unexpected. */
export async function verifyCredential(sys: System, t: VerifyTarget, credential: Credential): Promise<VerifyResult> {
  const { base, repositoryPrefix } = pingBase(t.apiBase);
  const url = pingUrl(base, t.namespace);
  const registry = new URL(url);
  const first = await request(sys, url, { tls: t.tls ?? null, trustedFrom: t.trustedFrom ?? [] });
  if (first.status >= 200 && first.status < 300) return { scheme: 'none', refreshToken: null, url };
  if (first.status >= 300 && first.status < 400) {
    throw new MirrorauthError(
      'REGISTRY_ERROR',
      `${registry.origin} redirects the API check to ${first.headers.get('location') ?? 'elsewhere'}; credentials are never sent after a redirect`,
      {
        hint: 'log in to the address the registry redirects to, if that is the registry you mean',
      },
    );
  }
  if (first.status !== 401)
    throw new MirrorauthError('REGISTRY_ERROR', `${url} answered HTTP ${first.status}, not a registry API answer`, {
      hint: 'check the address and the path (for Harbor-style proxies include /v2/<project>)',
    });
  const challenges = parseWwwAuthenticate(first.headers.get('www-authenticate') ? [first.headers.get('www-authenticate') as string] : []);
  const challenge = preferredChallenge(challenges);
  if (challenge === null) throw new MirrorauthError('REGISTRY_ERROR', `${url} asked for authentication without a Basic or Bearer challenge`);
  if (challenge.scheme === 'basic') {
    if (credential.password === '')
      throw new MirrorauthError('AUTH_FAILED', `${registry.origin} uses Basic authentication and needs a password`, {
        hint: 'log in with a user name and password',
      });
    const res = await request(sys, url, { headers: { authorization: basicAuthorization(credential) }, tls: t.tls ?? null });
    if (res.status >= 200 && res.status < 300) return { scheme: 'basic', refreshToken: null, url };
    if (res.status === 401 || res.status === 403)
      throw new MirrorauthError('AUTH_FAILED', `${registry.origin} refused the credentials (HTTP ${res.status}): wrong user name or password`, {
        hint: 'check the user name and password; nothing was stored',
      });
    throw new MirrorauthError('REGISTRY_ERROR', `${url} answered HTTP ${res.status} with credentials`);
  }
  const realm = challenge.params.realm;
  if (!realm) throw new MirrorauthError('REGISTRY_ERROR', `${registry.origin} sent a Bearer challenge without a realm`);
  const scopes = challenge.params.scope ? challenge.params.scope.split(' ').filter(Boolean) : [];
  // a project endpoint: the exchange containerd will make, for a repository under the project
  if (repositoryPrefix !== '') scopes.push(`repository:${repositoryPrefix}/mirrorauth-login-check:pull`);
  const token = await fetchToken(sys, { realm, service: challenge.params.service ?? null, scopes, credential, registry, tls: t.tls ?? null, offline: true });
  const res = await request(sys, url, { headers: { authorization: `Bearer ${token.token}` }, tls: t.tls ?? null });
  if (res.status >= 200 && res.status < 300) return { scheme: 'bearer', refreshToken: token.refreshToken, url };
  if (res.status === 401 || res.status === 403)
    throw new MirrorauthError('AUTH_FAILED', `${registry.origin} refused the token issued for these credentials (HTTP ${res.status})`, {
      hint: 'check the user name and password; nothing was stored',
    });
  throw new MirrorauthError('REGISTRY_ERROR', `${url} answered HTTP ${res.status} with a token`);
}
