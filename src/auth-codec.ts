/**
 * The auth codec: the only place that turns a user name and password into
 * Docker's `auth` value (and a Basic header, through credentials/credential.ts)
 * and back, with docker/cli's rules (configfile decodeAuth). Pure.
 */

/** encodeAuth is Docker's `auth` value: base64("user:password"). */
export function encodeAuth(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`).toString('base64');
}

/**
 * decodeAuth reads an `auth` value as docker does: base64 of "user:password";
 * an empty user name is refused ("invalid auth configuration file"), and the
 * NUL padding some writers leave after the password is dropped. It returns an
 * error text instead of throwing, so each caller names its own file and key.
 */
export function decodeAuth(value: string): { username: string; password: string } | { error: string } {
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { error: 'is not base64("user:password") (invalid auth configuration file)' };
  if (colon === 0) return { error: 'has an empty user name (docker refuses it: invalid auth configuration file)' };
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1).replace(/\0+$/, '') };
}
