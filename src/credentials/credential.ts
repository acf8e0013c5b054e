/**
 * Credential: what a registry host gets. Field names follow Docker's config
 * (`identitytoken` = OAuth2 refresh token, `registrytoken` = ready bearer token).
 */
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
