import { describe, expect, it } from 'vitest';
import { cleanPath, GoUrlError, isLocalhost, joinPath, parseGoDuration, parseGoUrl, queryEscape, splitHostPort } from '../../src/hosts/go-semantics.js';

describe('parseGoUrl', () => {
  it.each([
    ['https://mirror.example.com', 'https', 'mirror.example.com', ''],
    ['https://mirror.example.com:5000/v2/', 'https', 'mirror.example.com:5000', '/v2/'],
    ['HTTPS://Mirror.Example.com/x', 'https', 'Mirror.Example.com', '/x'],
    ['https://user:pw@mirror.example.com/p?x=1#f', 'https', 'mirror.example.com', '/p'],
    ['http://[::1]:5001', 'http', '[::1]:5001', ''],
    ['httpcache.example.com', '', '', 'httpcache.example.com'],
    ['https://m.example.com/a%2Fb', 'https', 'm.example.com', '/a/b'],
    ['https://HTTPS://x', 'https', 'HTTPS:', '//x'],
  ])('%s', (raw, scheme, host, path) => {
    expect(parseGoUrl(raw)).toMatchObject({ scheme, host, path });
  });

  it.each(['https://m.example.com:abc', 'https://bad host.example.com', 'https://[::1', ':nope', 'https://m.example.com/%zz'])('rejects %s', (raw) => {
    expect(() => parseGoUrl(raw)).toThrow(GoUrlError);
  });
});

describe('paths and queries', () => {
  it.each([
    ['/a/../b', '/b'],
    ['/v2/', '/v2'],
    ['a//b/./c', 'a/b/c'],
    ['', '.'],
    ['/..', '/'],
  ])('cleanPath(%j) = %j', (p, want) => expect(cleanPath(p)).toBe(want));

  it('joinPath ignores empty elements like path.Join', () => {
    expect(joinPath('/', '', 'library/nginx', 'manifests', 'latest')).toBe('/library/nginx/manifests/latest');
    expect(joinPath('/', '/v2', 'app', 'blobs', 'uploads/')).toBe('/v2/app/blobs/uploads');
  });

  it.each([
    ['docker.io', 'docker.io'],
    ['myregistry.io:5000', 'myregistry.io%3A5000'],
    ['[::1]:5000', '%5B%3A%3A1%5D%3A5000'],
    ['a b~c', 'a+b~c'],
  ])('queryEscape(%j) = %j', (s, want) => expect(queryEscape(s)).toBe(want));
});

describe('hosts and ports', () => {
  it.each([
    ['localhost:5000', { host: 'localhost', port: '5000' }],
    ['[::1]:5000', { host: '::1', port: '5000' }],
    ['localhost', null],
    ['[::1]', null],
    ['a:b:c', null],
  ])('splitHostPort(%j)', (s, want) => expect(splitHostPort(s)).toEqual(want));

  it.each([
    ['localhost', true],
    ['localhost:5000', true],
    ['127.0.0.1', true],
    ['127.1.2.3:80', true],
    ['[::1]:5000', true],
    ['[::1]', false],
    ['LOCALHOST', false],
    ['10.0.0.1', false],
    ['registry.example.com', false],
  ])('isLocalhost(%j) = %j', (h, want) => expect(isLocalhost(h)).toBe(want));

  it.each([
    ['1s', 1e9],
    ['1.5s', 1.5e9],
    ['1m30s', 90e9],
    ['500ms', 5e8],
    ['0', 0],
    ['-2h', -7200e9],
    ['', null],
    ['5', null],
    ['1x', null],
    ['nonsense', null],
  ])('parseGoDuration(%j)', (s, want) => expect(parseGoDuration(s)).toBe(want));
});
