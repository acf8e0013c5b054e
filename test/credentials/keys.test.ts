import { describe, expect, it } from 'vitest';
import { MirrorauthError } from '../../src/errors.js';
import {
  canonicalNamespace,
  convertToHostname,
  dockerLookupKeys,
  endpointPath,
  formatNamespacedKey,
  parseEndpoint,
  parseNamespacedKey,
  parseNerdctlKey,
  pathCovers,
  syntheticServerUrl,
} from '../../src/credentials/keys.js';

/** thrown: the MirrorauthError `f` throws (the test fails if it throws none). */
function thrown(f: () => unknown): MirrorauthError {
  try {
    f();
  } catch (e) {
    return e as MirrorauthError;
  }
  throw new Error('expected an error');
}

describe('namespaced keys', () => {
  it.each([
    ['mirror.corp/v2/proxy?ns=docker.io', 'mirror.corp/v2/proxy?ns=docker.io'],
    ['https://Mirror.Corp:443/v2/proxy/?ns=index.docker.io', 'mirror.corp/v2/proxy?ns=docker.io'],
    ['mirror.corp?ns=*', 'mirror.corp?ns=*'],
    ['cache.corp:5000/repository/docker/v2?ns=myregistry.io%3A5000', 'cache.corp:5000/repository/docker?ns=myregistry.io:5000'],
    ['http://127.0.0.1:5001?ns=registry-1.docker.io', '127.0.0.1:5001?ns=docker.io'],
    ['[::1]:5000/x?ns=ghcr.io', '[::1]:5000/x?ns=ghcr.io'],
  ])('%s -> %s', (input, want) => {
    expect(formatNamespacedKey(parseNamespacedKey(input))).toBe(want);
  });

  it.each(['', 'mirror.corp', 'mirror.corp?foo=bar', 'ftp://mirror?ns=x', 'https://m:bad?ns=x'])('rejects %j with a usage error and an example', (input) => {
    const err = thrown(() => parseNamespacedKey(input));
    expect(err.code).toBe('USAGE');
    expect(err.hint).toContain('?ns=');
  });

  // a secret typed into the address is refused, and never repeated in the message (it goes to the terminal and logs)
  it.each(['https://alice:hunter2@mirror.corp?ns=docker.io', 'alice:hunter2@mirror.corp', 'http://:hunter2@mirror.corp/v2', 'https://hunter2@mirror.corp'])(
    'refuses user information in %s without repeating it',
    (input) => {
      const err = thrown(() => parseEndpoint(input));
      expect(err.code).toBe('USAGE');
      expect(err.message).toContain('user information');
      expect(err.message).toContain('mirror.corp');
      expect(err.message).not.toContain('hunter2');
    },
  );

  it('plain endpoints have no namespace', () => {
    expect(parseEndpoint('ghcr.io')).toEqual({ host: 'ghcr.io', path: '', namespace: null, scheme: null });
  });

  it.each([
    ['/v2', ''],
    ['', ''],
    ['/repository/docker/v2', '/repository/docker'],
    ['/v2/proxy-docker', '/v2/proxy-docker'],
    ['/a/../b/v2/', '/b'],
  ])('endpointPath(%j) = %j', (p, want) => expect(endpointPath(p)).toBe(want));

  it('path prefixes cover whole segments only', () => {
    expect(pathCovers('', '/a/b')).toBe(true);
    expect(pathCovers('/a', '/a/b')).toBe(true);
    expect(pathCovers('/a', '/ab')).toBe(false);
  });

  it('canonical namespaces fold Docker Hub aliases and decode ports', () => {
    expect(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/'].map(canonicalNamespace)).toEqual([
      'docker.io',
      'docker.io',
      'docker.io',
      'docker.io',
    ]);
    expect(canonicalNamespace('R.example:443')).toBe('r.example');
  });

  it('synthetic helper URLs are unique, stable and under .invalid', () => {
    const a = syntheticServerUrl('m?ns=a');
    expect(a).toMatch(/^https:\/\/[0-9a-f]{32}\.mirrorauth\.invalid$/);
    expect(syntheticServerUrl('m?ns=a')).toBe(a);
    expect(syntheticServerUrl('m?ns=b')).not.toBe(a);
    expect(convertToHostname(a)).not.toBe('m');
  });
});

describe("Docker's keys", () => {
  it.each([
    ['https://r.example:5000/v1/', 'r.example:5000'],
    ['r.example/path', 'r.example'],
    ['http://[::1]:5000/x', '[::1]:5000'],
  ])('convertToHostname(%j) = %j', (s, want) => expect(convertToHostname(s)).toBe(want));

  it('tries the host as written, then nerdctl variants, the Hub key first for Docker Hub', () => {
    expect(dockerLookupKeys('ghcr.io')).toEqual(['ghcr.io', 'ghcr.io:443', 'https://ghcr.io:443', 'http://ghcr.io:443', 'https://ghcr.io', 'http://ghcr.io']);
    expect(dockerLookupKeys('registry-1.docker.io')[0]).toBe('https://index.docker.io/v1/');
    expect(dockerLookupKeys('mirror:5000')).toEqual(['mirror:5000', 'https://mirror:5000', 'http://mirror:5000']);
  });
});

describe('nerdctl experimental keys', () => {
  it.each([
    [
      'nerdctl-experimental://registry-namespace.com:443/host/registry-host.com:443/subpath/something',
      'registry-host.com/subpath/something?ns=registry-namespace.com',
    ],
    ['nerdctl-experimental://https://index.docker.io/v1//host/mirror.example:443', 'mirror.example?ns=docker.io'],
    ['nerdctl-experimental://reg.local:5000/host/mirror:5000', 'mirror:5000?ns=reg.local:5000'],
  ])('%s', (key, want) => {
    const k = parseNerdctlKey(key);
    expect(k && formatNamespacedKey(k)).toBe(want);
  });
  it('ignores other keys', () => expect(parseNerdctlKey('https://index.docker.io/v1/')).toBeNull());
});
