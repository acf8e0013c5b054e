import { describe, expect, it } from 'vitest';
import { parseWwwAuthenticate, preferredChallenge } from '../../src/registry/challenge.js';
import { validateRealm } from '../../src/registry/token.js';

describe('parseWwwAuthenticate', () => {
  it('parses Docker Hub and registry challenges', () => {
    expect(parseWwwAuthenticate(['Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"'])).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' } },
    ]);
    expect(parseWwwAuthenticate(['Basic realm="harbor"'])).toEqual([{ scheme: 'basic', params: { realm: 'harbor' } }]);
  });

  it('splits several challenges in one header and keeps escapes', () => {
    const c = parseWwwAuthenticate(['Negotiate abc==, Basic realm="a \\"q\\" b", Bearer realm=https://t/token, service=s']);
    expect(c.map((x) => x.scheme)).toEqual(['negotiate', 'basic', 'bearer']);
    expect(c[1]?.params.realm).toBe('a "q" b');
    expect(c[2]?.params).toEqual({ realm: 'https://t/token', service: 's' });
    expect(preferredChallenge(c)?.scheme).toBe('bearer');
  });
});

describe('validateRealm', () => {
  const reg = new URL('https://registry.example.com/v2/');
  it('accepts another https origin (auth.docker.io style) and the registry host itself on another port', () => {
    expect(validateRealm('https://auth.example.com/token', reg).host).toBe('auth.example.com');
    expect(validateRealm('http://127.0.0.1:5050/token', new URL('http://127.0.0.1:5000/v2/')).port).toBe('5050');
  });
  it.each([
    ['http://auth.example.com/token', 'downgrade'],
    ['ftp://auth.example.com/token', 'not http'],
    ['https://10.0.0.5/token', 'private or loopback'],
    ['https://127.0.0.1/token', 'private or loopback'],
    ['not a url', 'not a URL'],
  ])('refuses %s (%s)', (realm, why) => {
    expect(() => validateRealm(realm, reg)).toThrow(new RegExp(why));
  });
});
