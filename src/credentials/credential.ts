/**
 * Credential: what a registry host gets. Field names follow Docker's config
 * (`identitytoken` = OAuth2 refresh token, `registrytoken` = ready bearer token).
 */
import { encodeAuth } from '../auth-codec.js';

export interface Credential {
  username: string;
  password: string;
  /** OAuth2 refresh token; Docker stores it with username `<token>` in helpers. */
  identityToken: string;
  /** A bearer token to send as is. */
  registryToken: string;
}

export const EMPTY_CREDENTIAL: Credential = Object.freeze({ username: '', password: '', identityToken: '', registryToken: '' });

/** The username helpers use to mark an identity token (docker native_store.go). */
export const TOKEN_USERNAME = '<token>';

/** isEmptyCredential: nothing to send. */
export function isEmptyCredential(c: Credential): boolean {
  return c.password === '' && c.identityToken === '' && c.registryToken === '' && c.username === '';
}

/** credentialFromHelper maps a helper answer (Username/Secret) to a Credential. */
export function credentialFromHelper(username: string, secret: string): Credential {
  if (username === TOKEN_USERNAME) return { ...EMPTY_CREDENTIAL, identityToken: secret };
  return { ...EMPTY_CREDENTIAL, username, password: secret };
}

/** helperSecretOf is the inverse: Username/Secret to store in a helper or keychain. */
export function helperSecretOf(c: Credential): { username: string; secret: string } {
  if (c.identityToken !== '') return { username: TOKEN_USERNAME, secret: c.identityToken };
  return { username: c.username, secret: c.password };
}

/*
 * The Credential side of the auth codec (src/auth-codec.ts): a Basic header and
 * Docker's `auths` entry fields.
 */

/** basicAuthorization is the Authorization header value for Basic auth. */
export function basicAuthorization(c: Credential): string {
  return `Basic ${encodeAuth(c.username, c.password)}`;
}

/**
 * dockerAuthFields is a credential as docker writes it into an `auths` entry:
 * `auth` only when there is a user name or password (a token-only credential has
 * none: "Og==", base64(":"), is refused on read), tokens verbatim.
 */
export function dockerAuthFields(c: Credential): Record<string, string> {
  const out: Record<string, string> = {};
  if (c.username !== '' || c.password !== '') out.auth = encodeAuth(c.username, c.password);
  if (c.identityToken !== '') out.identitytoken = c.identityToken;
  if (c.registryToken !== '') out.registrytoken = c.registryToken;
  return out;
}
