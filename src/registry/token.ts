/**
 * The registry token exchange (distribution token auth): OAuth2 POST with a
 * password or refresh token, falling back to GET with Basic credentials on
 * 400/401/404/405 as containerd does; realm URLs are checked before any
 * credential goes to them.
 */
import { MirrorauthError } from '../errors.js';
import { basicAuthorization, type Credential } from '../credentials/credential.js';
import type { System } from '../system/system.js';
import { request, type TlsSettings } from './http.js';

/** ipVersion: 4 or 6 for an IP address literal, else 0 (node:net's isIP without loading node:net on the helpers' path). */
export function ipVersion(h: string): 0 | 4 | 6 {
  if (/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(h)) return 4;
  if (!h.includes(':') || /[^0-9a-fA-F:.%]/.test(h.split('%')[0] ?? '')) return 0;
  try {
    new URL(`http://[${h.split('%')[0] ?? ''}]/`);
    return 6;
  } catch {
    return 0;
  }
}

export const CLIENT_ID = 'mirrorauth';
/** Tokens without expires_in live 60 s (distribution spec). */
export const DEFAULT_TOKEN_TTL_S = 60;

export interface TokenResult {
  token: string;
  expiresInS: number;
  issuedAtMs: number;
  refreshToken: string | null;
}

/** ipv4Private: loopback, private, link-local or unspecified. */
function ipv4Private(a: number, b: number): boolean {
  return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || a === 0;
}

/** ipv6Words expands an IPv6 literal (with :: and an embedded dotted quad) to its eight 16-bit words. */
function ipv6Words(text: string): number[] | null {
  let s = text.toLowerCase().replace(/%.*$/, '');
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const words = [...head, ...Array<string>(Math.max(fill, 0)).fill('0'), ...tail].map((w) => parseInt(w, 16));
  return words.length === 8 && words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? words : null;
}

/**
 * isPrivateOrLoopback: an address (or a name that always means this machine)
 * inside the machine or the private network. IPv4-mapped (::ffff:a.b.c.d, also
 * in hex) and IPv4-compatible (::a.b.c.d) addresses are judged by their IPv4
 * part, and `localhost` and `*.localhost` are loopback by definition (RFC 6761).
 */
export function isPrivateOrLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost') || h === 'localhost.') return true;
  const kind = ipVersion(h);
  if (kind === 4) {
    const [a = 0, b = 0] = h.split('.').map(Number);
    return ipv4Private(a, b);
  }
  if (kind === 6) {
    const w = ipv6Words(h);
    if (w === null) return true;
    const zero5 = w.slice(0, 5).every((x) => x === 0);
    if (zero5 && (w[5] === 0xffff || (w[5] === 0 && ((w[6] ?? 0) !== 0 || (w[7] ?? 0) > 1)))) return ipv4Private((w[6] ?? 0) >> 8, (w[6] ?? 0) & 0xff);
    if (w.every((x, i) => (i < 7 ? x === 0 : x <= 1))) return true; // :: and ::1
    return ((w[0] ?? 0) & 0xfe00) === 0xfc00 || ((w[0] ?? 0) & 0xffc0) === 0xfe80;
  }
  return false;
}

/**
 * validateRealm checks a Bearer realm before credentials are sent to it:
 * http(s) only, no https -> http downgrade, and no private or loopback IP
 * unless it is the registry's own host.
 */
export function validateRealm(realm: string, registry: URL): URL {
  let u: URL;
  try {
    u = new URL(realm);
  } catch {
    throw new MirrorauthError('REALM_REJECTED', `the registry's token realm ${JSON.stringify(realm)} is not a URL`, {
      hint: 'the registry is misconfigured; no credentials were sent',
    });
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new MirrorauthError('REALM_REJECTED', `token realm ${u.origin} uses ${u.protocol}, not http(s)`, { hint: 'no credentials were sent' });
  }
  if (registry.protocol === 'https:' && u.protocol === 'http:') {
    throw new MirrorauthError('REALM_REJECTED', `token realm ${u.origin} would downgrade ${registry.origin} from https to http`, {
      hint: 'no credentials were sent; fix the realm in the registry configuration',
    });
  }
  if (u.hostname !== registry.hostname && (isPrivateOrLoopback(u.hostname) || u.username !== '' || u.password !== '')) {
    throw new MirrorauthError('REALM_REJECTED', `token realm ${u.origin} is a private or loopback address other than the registry ${registry.hostname}`, {
      hint: 'no credentials were sent; a realm pointing at an internal address is refused unless it is the registry itself',
    });
  }
  return u;
}

function parseTokenBody(body: string, realm: URL): Omit<TokenResult, 'issuedAtMs'> & { issuedAt: string | null } {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(body) as Record<string, unknown>;
  } catch {
    throw new MirrorauthError('REGISTRY_ERROR', `token server ${realm.origin} answered with something that is not JSON`);
  }
  const token = (typeof j.access_token === 'string' && j.access_token) || (typeof j.token === 'string' && j.token) || '';
  if (token === '') throw new MirrorauthError('REGISTRY_ERROR', `token server ${realm.origin} answered without a token`);
  const expires = typeof j.expires_in === 'number' && j.expires_in > 0 ? j.expires_in : DEFAULT_TOKEN_TTL_S;
  return {
    token,
    expiresInS: Math.max(expires, DEFAULT_TOKEN_TTL_S),
    refreshToken: typeof j.refresh_token === 'string' && j.refresh_token !== '' ? j.refresh_token : null,
    issuedAt: typeof j.issued_at === 'string' ? j.issued_at : null,
  };
}

export interface TokenRequest {
  realm: string;
  service: string | null;
  scopes: string[];
  credential: Credential;
  registry: URL;
  tls?: TlsSettings | null;
  /** Ask for a refresh token (login does, to store it instead of the password). */
  offline?: boolean;
}

/** fetchToken performs the exchange and returns the token with its lifetime. */
/**
 * checkRealmAddresses resolves a realm's host name and refuses it when any
 * address it resolves to is private or loopback (a public name can point at an
 * internal service), unless it is the registry's own host.
 */
export async function checkRealmAddresses(sys: System, realm: URL, registry: URL): Promise<void> {
  if (realm.hostname === registry.hostname || ipVersion(realm.hostname.replace(/^\[|\]$/g, '')) !== 0) return;
  let addresses: string[];
  try {
    addresses = await sys.lookup(realm.hostname);
  } catch {
    return; // unresolvable: the request itself fails, with nothing sent
  }
  const inside = addresses.find((a) => isPrivateOrLoopback(a));
  if (inside !== undefined) {
    throw new MirrorauthError(
      'REALM_REJECTED',
      `token realm ${realm.origin} resolves to ${inside}, a private or loopback address other than the registry ${registry.hostname}`,
      {
        hint: 'no credentials were sent; a realm that reaches an internal address is refused unless it is the registry itself',
      },
    );
  }
}

export async function fetchToken(sys: System, r: TokenRequest): Promise<TokenResult> {
  const realm = validateRealm(r.realm, r.registry);
  await checkRealmAddresses(sys, realm, r.registry);
  const c = r.credential;
  const hasSecret = c.password !== '' || c.identityToken !== '';
  const finish = (body: string): TokenResult => {
    const t = parseTokenBody(body, realm);
    const issued = t.issuedAt ? Date.parse(t.issuedAt) : NaN;
    return { token: t.token, expiresInS: t.expiresInS, refreshToken: t.refreshToken, issuedAtMs: Number.isFinite(issued) ? issued : sys.now() };
  };
  if (hasSecret) {
    const form = new URLSearchParams();
    if (c.identityToken !== '') {
      form.set('grant_type', 'refresh_token');
      form.set('refresh_token', c.identityToken);
    } else {
      form.set('grant_type', 'password');
      form.set('username', c.username);
      form.set('password', c.password);
    }
    if (r.service) form.set('service', r.service);
    form.set('client_id', CLIENT_ID);
    if (r.offline) form.set('access_type', 'offline');
    if (r.scopes.length > 0) form.set('scope', r.scopes.join(' '));
    const res = await request(sys, realm.toString(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      tls: r.tls ?? null,
    });
    if (res.status >= 200 && res.status < 300) return finish(res.body);
    const fallback = res.status === 400 || res.status === 401 || res.status === 404 || (res.status === 405 && c.username !== '');
    if (!fallback || c.password === '') {
      if (res.status === 401 || res.status === 403)
        throw new MirrorauthError('AUTH_FAILED', `token server ${realm.origin} refused the credentials (HTTP ${res.status})`, {
          hint: 'check the user name and password',
        });
      throw new MirrorauthError('REGISTRY_ERROR', `token server ${realm.origin} answered HTTP ${res.status}`);
    }
  }
  const url = new URL(realm.toString());
  if (r.service) url.searchParams.set('service', r.service);
  for (const s of r.scopes) url.searchParams.append('scope', s);
  if (c.username !== '' && c.password !== '') {
    url.searchParams.set('account', c.username);
    if (r.offline) {
      url.searchParams.set('offline_token', 'true');
      url.searchParams.set('client_id', CLIENT_ID);
    }
  }
  const res = await request(sys, url.toString(), {
    headers: hasSecret && c.password !== '' ? { authorization: basicAuthorization(c) } : {},
    tls: r.tls ?? null,
  });
  if (res.status >= 200 && res.status < 300) return finish(res.body);
  if (res.status === 401 || res.status === 403)
    throw new MirrorauthError('AUTH_FAILED', `token server ${realm.origin} refused the credentials (HTTP ${res.status})`, {
      hint: 'check the user name and password',
    });
  throw new MirrorauthError('REGISTRY_ERROR', `token server ${realm.origin} answered HTTP ${res.status}`);
}
