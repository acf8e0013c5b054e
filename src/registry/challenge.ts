/**
 * WWW-Authenticate parsing (RFC 7235): several challenges per header and
 * several headers; scheme names lower-cased; parameters as token or
 * quoted-string with backslash escapes. Pure.
 */

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;

/** parseWwwAuthenticate parses every challenge in the given header values, in order. */
export function parseWwwAuthenticate(values: string[]): Challenge[] {
  const out: Challenge[] = [];
  for (const value of values) {
    let s = value;
    let current: Challenge | null = null;
    const skip = () => {
      s = s.replace(/^[\s,]+/, '');
    };
    skip();
    while (s.length > 0) {
      const name = TOKEN.exec(s)?.[0];
      if (!name) break;
      const after = s.slice(name.length);
      const m = /^\s*=\s*/.exec(after);
      if (m && current !== null && !/^\s*=\s*=/.test(after)) {
        // auth-param: name=value
        s = after.slice(m[0].length);
        let v = '';
        if (s.startsWith('"')) {
          let i = 1;
          for (; i < s.length && s[i] !== '"'; i++) {
            if (s[i] === '\\' && i + 1 < s.length) i++;
            v += s[i];
          }
          s = s.slice(i + 1);
        } else {
          // RFC 7235 wants a token here; some servers send bare URLs, so read up to , or space
          v = /^[^,\s]*/.exec(s)?.[0] ?? '';
          s = s.slice(v.length);
        }
        current.params[name.toLowerCase()] = v;
      } else {
        current = { scheme: name.toLowerCase(), params: {} };
        out.push(current);
        s = after;
        // token68 form (e.g. "Negotiate abc=="): keep it out of params
        const t68 = /^\s+([A-Za-z0-9\-._~+/]+=*)\s*(?:,|$)/.exec(s);
        if (t68 && !/^\s+[!#$%&'*+\-.^_`|~0-9A-Za-z]+\s*=[^=]/.test(s)) s = s.slice(t68[0].length);
      }
      skip();
    }
  }
  return out;
}

/** preferredChallenge picks Bearer over Basic, as containerd and docker do. */
export function preferredChallenge(challenges: Challenge[]): Challenge | null {
  return challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic') ?? null;
}
