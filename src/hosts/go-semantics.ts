/**
 * Small, exact re-implementations of the Go standard-library behaviour that
 * containerd's host resolution depends on: net/url.Parse (scheme, host, path),
 * path.Clean/Join, url.QueryEscape, net.SplitHostPort, net.ParseIP loopback
 * and time.ParseDuration. Pure functions; no I/O.
 */

export interface GoUrl {
  scheme: string;
  host: string;
  path: string;
  opaque: string;
}

export class GoUrlError extends Error {}

function isAlpha(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function getScheme(raw: string): [string, string] {
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (isAlpha(c)) continue;
    if (isDigit(c) || c === '+' || c === '-' || c === '.') {
      if (i === 0) return ['', raw];
      continue;
    }
    if (c === ':') {
      if (i === 0) throw new GoUrlError('missing protocol scheme');
      return [raw.slice(0, i), raw.slice(i + 1)];
    }
    return ['', raw];
  }
  return ['', raw];
}

function validOptionalPort(port: string): boolean {
  if (port === '') return true;
  if (port[0] !== ':') return false;
  return /^[0-9]*$/.test(port.slice(1));
}

// Characters Go's url package accepts unescaped in a host (shouldEscape with encodeHost).
function hostCharAllowed(c: string): boolean {
  if (c.charCodeAt(0) >= 0x80) return true;
  if (isAlpha(c) || isDigit(c)) return true;
  return '-_.~!$&\'()*+,;=:[]<>"'.includes(c);
}

function unescape(s: string, host: boolean): string {
  // nothing escaped (nearly every URL): only the host's characters need checking
  if (!s.includes('%')) {
    if (host) for (const c of s) if (!hostCharAllowed(c)) throw new GoUrlError(`invalid character ${JSON.stringify(c)} in host name`);
    return s;
  }
  // Go unescapes to bytes: a %-escaped UTF-8 sequence becomes that character, not one per byte
  const bytes: number[] = [];
  const chars = [...s]; // code points: a character outside the BMP is one character, not two halves
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === '%') {
      const h = chars.slice(i + 1, i + 3).join('');
      if (!/^[0-9a-fA-F]{2}$/.test(h)) throw new GoUrlError(`invalid URL escape ${JSON.stringify(chars.slice(i, i + 3).join(''))}`);
      // in a host, %-encoding is allowed for non-ASCII bytes only, and %25 for an IPv6 zone (RFC 3986, 6874; Go's unescape)
      if (host && parseInt(h[0] as string, 16) < 8 && h !== '25') throw new GoUrlError(`invalid URL escape ${JSON.stringify(`%${h}`)}`);
      bytes.push(parseInt(h, 16));
      i += 2;
      continue;
    }
    if (host && !hostCharAllowed(c)) throw new GoUrlError(`invalid character ${JSON.stringify(c)} in host name`);
    bytes.push(...Buffer.from(c, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

function parseHost(host: string): string {
  if (host.startsWith('[')) {
    const i = host.lastIndexOf(']');
    if (i < 0) throw new GoUrlError("missing ']' in host");
    const colonPort = host.slice(i + 1);
    if (!validOptionalPort(colonPort)) throw new GoUrlError(`invalid port ${JSON.stringify(colonPort)} after host`);
  } else {
    const i = host.lastIndexOf(':');
    if (i !== -1) {
      const colonPort = host.slice(i);
      if (!validOptionalPort(colonPort)) throw new GoUrlError(`invalid port ${JSON.stringify(colonPort)} after host`);
    }
  }
  return unescape(host, true);
}

/** parseGoUrl follows Go's url.Parse for the fields containerd reads. Throws GoUrlError. */
export function parseGoUrl(rawUrl: string): GoUrl {
  const hashAt = rawUrl.indexOf('#');
  const u = hashAt >= 0 ? rawUrl.slice(0, hashAt) : rawUrl;
  if (/[\x00-\x1f\x7f]/.test(u)) throw new GoUrlError('invalid control character in URL');
  const result: GoUrl = { scheme: '', host: '', path: '', opaque: '' };
  if (u === '') return result;
  const [scheme, afterScheme] = getScheme(u);
  result.scheme = scheme.toLowerCase();
  let rest = afterScheme;
  if (rest.endsWith('?') && rest.split('?').length === 2) {
    rest = rest.slice(0, -1);
  } else {
    const q = rest.indexOf('?');
    if (q >= 0) rest = rest.slice(0, q);
  }
  if (!rest.startsWith('/')) {
    if (result.scheme !== '') {
      result.opaque = rest;
      return result;
    }
    const colon = rest.indexOf(':');
    const slash = rest.indexOf('/');
    if (colon >= 0 && (slash < 0 || colon < slash)) throw new GoUrlError('first path segment in URL cannot contain colon');
  }
  if ((result.scheme !== '' || !rest.startsWith('///')) && rest.startsWith('//')) {
    const after = rest.slice(2);
    const slash = after.indexOf('/');
    const authority = slash < 0 ? after : after.slice(0, slash);
    rest = slash < 0 ? '' : after.slice(slash);
    const at = authority.lastIndexOf('@');
    result.host = parseHost(at < 0 ? authority : authority.slice(at + 1));
  }
  result.path = unescape(rest, false);
  return result;
}

/** cleanPath is Go's path.Clean. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
      else if (!rooted) parts.push('..');
      continue;
    }
    parts.push(seg);
  }
  const joined = parts.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/** joinPath is Go's path.Join: empty elements are ignored, the result is cleaned. */
export function joinPath(...elems: string[]): string {
  const nonEmpty = elems.filter((e) => e !== '');
  if (nonEmpty.length === 0) return '';
  return cleanPath(nonEmpty.join('/'));
}

/** queryEscape is Go's url.QueryEscape (space becomes '+'). */
export function queryEscape(s: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(s)) {
    const c = String.fromCharCode(byte);
    if (isAlpha(c) || isDigit(c) || c === '-' || c === '_' || c === '.' || c === '~') out += c;
    else if (c === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** splitHostPort is Go's net.SplitHostPort; it returns null where Go returns an error. */
export function splitHostPort(hostport: string): { host: string; port: string } | null {
  const i = hostport.lastIndexOf(':');
  if (i < 0) return null;
  if (hostport.startsWith('[')) {
    const end = hostport.indexOf(']');
    if (end < 0) return null;
    if (end + 1 === hostport.length) return null;
    if (end + 1 !== i) return null;
    const host = hostport.slice(1, end);
    if (hostport.slice(end + 1).includes('[') || hostport.slice(end + 1, i).includes(']')) return null;
    return { host, port: hostport.slice(i + 1) };
  }
  const host = hostport.slice(0, i);
  if (host.includes(':')) return null;
  if (host.includes('[') || host.includes(']')) return null;
  return { host, port: hostport.slice(i + 1) };
}

function parseIPv4(s: string): number[] | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p)) return null;
    if (p.length > 1 && p.startsWith('0')) return null;
    const n = Number(p);
    if (n > 255) return null;
    out.push(n);
  }
  return out;
}

function parseIPv6(s: string): number[] | null {
  let text = s;
  const lastColon = text.lastIndexOf(':');
  if (lastColon < 0) return null;
  const lastPart = text.slice(lastColon + 1);
  if (lastPart.includes('.')) {
    const v4 = parseIPv4(lastPart);
    if (!v4) return null;
    const [a = 0, b = 0, c = 0, d = 0] = v4;
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (h: string) => (h === '' ? [] : h.split(':'));
  const head = groupsOf(halves[0] ?? '');
  const back = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  if (![...head, ...back].every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  const toNums = (gs: string[]) => gs.map((g) => parseInt(g, 16));
  if (halves.length === 1) return head.length === 8 ? toNums(head) : null;
  if (head.length + back.length > 7) return null;
  return [...toNums(head), ...new Array<number>(8 - head.length - back.length).fill(0), ...toNums(back)];
}

/** isLoopbackIp is Go's net.ParseIP(s).IsLoopback(): false for anything that is not an IP. */
export function isLoopbackIp(s: string): boolean {
  const v4 = parseIPv4(s);
  if (v4) return v4[0] === 127;
  const v6 = parseIPv6(s);
  if (!v6) return false;
  if (v6.slice(0, 7).every((n) => n === 0) && v6[7] === 1) return true;
  // IPv4-mapped ::ffff:127.x.x.x
  if (v6.slice(0, 5).every((n) => n === 0) && v6[5] === 0xffff) return (v6[6] ?? 0) >> 8 === 127;
  return false;
}

/** isLocalhost is containerd's docker.IsLocalhost. */
export function isLocalhost(host: string): boolean {
  const split = splitHostPort(host);
  const h = split ? split.host : host;
  if (h === 'localhost') return true;
  return isLoopbackIp(h);
}

const durationUnits: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** parseGoDuration is Go's time.ParseDuration; it returns nanoseconds or null for invalid input. */
export function parseGoDuration(s: string): number | null {
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return null;
  let total = 0;
  while (rest !== '') {
    const m = /^([0-9]*)(?:\.([0-9]*))?/.exec(rest);
    const whole = m?.[1] ?? '';
    const frac = m?.[2];
    if (whole === '' && (frac === undefined || frac === '')) return null;
    rest = rest.slice((m?.[0] ?? '').length);
    const um = /^[^0-9.]+/.exec(rest);
    if (!um) return null;
    const unit = durationUnits[um[0]];
    if (unit === undefined) return null;
    rest = rest.slice(um[0].length);
    total += Number(`${whole || '0'}.${frac ?? '0'}`) * unit;
  }
  return sign * total;
}

/**
 * addNamespace appends containerd's `ns` query parameter to a request URL
 * (core/remotes/docker addNamespace): `?ns=` or `&ns=`, the value QueryEscaped.
 * Every `?ns=` URL mirrorauth builds (pings, probes, proxied requests) comes from here.
 */
export function addNamespace(url: string, ns: string | null): string {
  if (ns === null) return url;
  return `${url}${url.includes('?') ? '&' : '?'}ns=${queryEscape(ns)}`;
}

/** pingUrl is the API root check `GET <api>/` of an endpoint, with `?ns=` for a mirror. */
export function pingUrl(apiBase: string, ns: string | null): string {
  return addNamespace(`${apiBase.replace(/\/+$/, '')}/`, ns);
}

/**
 * pingBase: where to check an API root. A path-addressed endpoint whose path
 * continues below `/v2/` (a Harbor proxy-cache project `https://harbor/v2/proj`
 * with override_path) is not a registry API root: `GET /v2/proj/` is a 404.
 * Its checks go to the host's `/v2/`, and token scopes name repositories
 * under the project (`proj/<repository>`), which is what containerd requests.
 */
export function pingBase(apiBase: string): { base: string; repositoryPrefix: string } {
  const m = /^([a-z]+:\/\/[^/]+)\/v2\/(.+?)\/*$/.exec(apiBase);
  if (m === null) return { base: apiBase, repositoryPrefix: '' };
  return { base: `${m[1] as string}/v2`, repositoryPrefix: m[2] as string };
}
