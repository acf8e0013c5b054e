/** The pure half of serve: route ids, directory names, inbound paths, rendered hosts.toml, client configs. */
import { describe, expect, it } from 'vitest';
import { parseHostsToml } from '../../src/hosts/parse.js';
import type { HostConfig } from '../../src/hosts/types.js';
import { parseContainerdVersion } from '../../src/hosts/version.js';
import { defaultCapabilities } from '../../src/hosts/parse.js';
import { containersAuth, registriesConf } from '../../src/serve/clients.js';
import { clientSecretOk } from '../../src/serve/proxy.js';
import { registryOfDir } from '../../src/hosts/load.js';
import { parseInbound, renderHostsToml, routeId, type ServeManifest, type ServeRoute } from '../../src/serve/routes.js';
import { parseListen } from '../../src/serve/server.js';

const V16 = parseContainerdVersion('1.6.20');
const V23 = parseContainerdVersion('2.3.4');

describe('route ids', () => {
  it('are 16 hex digits, stable, and differ by endpoint and namespace', () => {
    const e = { scheme: 'https', host: 'Mirror.Corp', apiPath: '/v2' };
    expect(routeId(e, 'docker.io')).toMatch(/^[0-9a-f]{16}$/);
    expect(routeId(e, 'docker.io')).toBe(routeId({ ...e, host: 'mirror.corp' }, 'docker.io'));
    expect(routeId(e, 'docker.io')).not.toBe(routeId(e, 'quay.io'));
    expect(routeId(e, null)).not.toBe(routeId(e, 'docker.io'));
    expect(routeId(e, 'docker.io')).not.toBe(routeId({ ...e, apiPath: '/v2/hub/v2' }, 'docker.io'));
  });
});

describe('registryOfDir', () => {
  it.each([
    ['docker.io', 'docker.io'],
    ['index.docker.io', 'index.docker.io'],
    ['registry.example_5000_', 'registry.example:5000'],
    ['registry.example:5000', 'registry.example:5000'],
    ['_default', null],
  ])('%s -> %s', (dir, registry) => expect(registryOfDir(dir)).toBe(registry));
});

describe('parseInbound', () => {
  const id = '0123456789abcdef';
  it.each([
    ['/healthz', { kind: 'healthz' }],
    ['/v2/', { kind: 'ping', routeId: null }],
    [`/m/${id}/v2/`, { kind: 'ping', routeId: id }],
    [`/m/${id}/v2/library/alpine/manifests/3.19`, { kind: 'api', routeId: id, via: 'path', repository: 'library/alpine', rest: 'manifests/3.19' }],
    [`/m/${id}/v2/a/b/c/blobs/sha256:abc`, { kind: 'api', routeId: id, via: 'path', repository: 'a/b/c', rest: 'blobs/sha256:abc' }],
    [`/v2/mirrorauth/${id}/team/app/manifests/v1`, { kind: 'api', routeId: id, via: 'repository', repository: 'team/app', rest: 'manifests/v1' }],
    [`/m/${id}//v2/library/alpine/manifests/3.19`, { kind: 'api', routeId: id, via: 'path', repository: 'library/alpine', rest: 'manifests/3.19' }],
    ['/v2/library/alpine/tags/list', { kind: 'api', routeId: null, via: 'catch-all', repository: 'library/alpine', rest: 'tags/list' }],
    ['/v2/library/alpine/referrers/sha256:abc', { kind: 'api', routeId: null, via: 'catch-all', repository: 'library/alpine', rest: 'referrers/sha256:abc' }],
  ])('%s', (path, expected) => expect(parseInbound(path)).toEqual(expected));

  it.each([
    '/m/not-an-id/v2/a/manifests/v1',
    '/m/0123456789ABCDEF/v2/a/manifests/v1',
    '/v2/../etc/manifests/v1',
    '/v2/a/../../b/manifests/v1',
    '/v2/Upper/manifests/v1',
    '/v2/a/manifests/../../x',
    '/v2/a//b/manifests/v1',
    '/v2/a/uploads/x',
    '/other',
    `/m/${'0123456789abcdef'}/x/v2/a/manifests/v1`,
  ])('refuses %s', (path) => expect(parseInbound(path).kind).toBe('invalid'));
});

function parse(text: string, version = V16): HostConfig[] {
  const r = parseHostsToml(text, { file: '/x/hosts.toml', baseDir: '/x', version });
  if (!r.ok) throw new Error(r.failure.message);
  return r.hosts;
}

const route = (entry: HostConfig, ns: string | null): ServeRoute => ({
  id: routeId({ scheme: entry.scheme, host: entry.host, apiPath: entry.path }, ns),
  endpoint: { scheme: entry.scheme, host: entry.host, apiPath: entry.path },
  namespace: ns,
  registryDir: 'docker.io',
  file: '/x/hosts.toml',
  line: entry.line,
  capabilities: ['pull', 'resolve'],
  caCerts: entry.caCerts ?? [],
  clientPairs: entry.clientPairs ?? [],
  skipVerify: entry.skipVerify === true,
  headers: entry.header ?? [],
});

describe('renderHostsToml', () => {
  const original = `server = "https://registry-1.docker.io"
capabilities = ["pull", "resolve"]

[host."https://harbor.corp/v2/hub"]
  capabilities = ["pull", "resolve"]
  override_path = true
  ca = "/etc/ca.pem"

[host."http://cache.corp:5000"]
  capabilities = ["pull"]
  skip_verify = true
  client = [["/c.pem", "/k.pem"]]
  [host."http://cache.corp:5000".header]
    X-Team = ["a", "b"]

[host."https://plain.corp"]
`;
  for (const version of [V16, V23]) {
    it(`keeps every host, its position and fields (containerd ${version.text})`, () => {
      const entries = parse(original, version);
      const routed = entries.map((entry, i) => ({ entry, route: i === 1 ? route(entry, 'docker.io') : null }));
      const text = renderHostsToml(routed, 'http://127.0.0.1:5599', 'S3CRET', '/x/hosts.toml', defaultCapabilities(version));
      const again = parse(text, version);
      expect(again.map((h) => h.origin)).toEqual(entries.map((h) => h.origin));
      again.forEach((h, i) => {
        const orig = entries[i] as HostConfig;
        if (i === 1) {
          expect(`${h.scheme}://${h.host}${h.path}`).toBe(`http://127.0.0.1:5599/m/${routed[1]?.route?.id}/v2`);
          expect(h.capabilities).toEqual(['pull', 'resolve']);
          expect(h.header).toEqual([['Authorization', ['Bearer S3CRET']]]);
          expect(h.caCerts).toBeNull();
          return;
        }
        expect({ ...h, line: null, key: null }).toEqual({ ...orig, line: null, key: null });
      });
      // the default capability set stays implicit: a file rendered for 2.x does not break 1.6 (no "referrers")
      expect(text).not.toContain('referrers');
    });
  }

  it('a host containerd 2.x lists twice keeps the same URL under a second, distinct TOML key', () => {
    const h = parse('[host."https://a.example"]\n', V23)[0] as HostConfig;
    const text = renderHostsToml(
      [
        { entry: h, route: null },
        { entry: h, route: null },
        { entry: h, route: route(h, 'docker.io') },
        { entry: h, route: route(h, 'docker.io') },
      ],
      'http://127.0.0.1:1',
      's',
      'f',
      defaultCapabilities(V23),
    );
    expect(text).toContain('[host."https://a.example"]');
    expect(text).toContain('[host."httpS://a.example"]');
    const again = parse(text, V23);
    const urls = again.filter((x) => x.origin === 'host').map((x) => `${x.scheme}://${x.host}${x.path}`);
    expect(urls.slice(0, 3)).toEqual(['https://a.example/v2', 'https://a.example/v2', `http://127.0.0.1:1/m/${route(h, 'docker.io').id}/v2`]);
    // the repeated proxy entry has a trailing slash: 1.6 cleans it, 2.x sends /m/<id>//v2, which the proxy accepts
    expect(urls[3]).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:1/m/${route(h, 'docker.io').id}/+v2$`));
  });

  it('writes no server line when the original has none (the default upstream stays last)', () => {
    const entries = parse('[host."https://m.corp"]\n');
    const text = renderHostsToml(
      entries.map((entry) => ({ entry, route: route(entry, 'docker.io') })),
      'http://127.0.0.1:1',
      's',
      'f',
      defaultCapabilities(V16),
    );
    expect(text).not.toMatch(/^server/m);
  });
});

describe('access secret and listen address', () => {
  it('accepts the secret as Bearer (hosts.toml) or as a Basic password (auth files), in constant time', () => {
    expect(clientSecretOk('Bearer abc', 'abc')).toBe(true);
    expect(clientSecretOk(`Basic ${Buffer.from('mirrorauth:abc').toString('base64')}`, 'abc')).toBe(true);
    expect(clientSecretOk(`Basic ${Buffer.from('x:abd').toString('base64')}`, 'abc')).toBe(false);
    expect(clientSecretOk('Bearer abcd', 'abc')).toBe(false);
    expect(clientSecretOk('abc', 'abc')).toBe(false);
    expect(clientSecretOk(undefined, 'abc')).toBeNull();
    expect(clientSecretOk('', 'abc')).toBeNull();
  });

  it('listens on loopback only', () => {
    expect(parseListen('127.0.0.1:5599')).toEqual({ host: '127.0.0.1', port: 5599 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListen('localhost:80')).toEqual({ host: 'localhost', port: 80 });
    for (const bad of ['0.0.0.0:5599', '10.0.0.1:5599', '[::]:5599', 'mirror.corp:1', '127.0.0.1', '127.0.0.1:99999'])
      expect(() => parseListen(bad), bad).toThrow();
  });
});

describe('registries.conf and the auth file for podman/skopeo', () => {
  const manifest: ServeManifest = {
    version: 1,
    proxyUrl: 'http://127.0.0.1:5599',
    containerd: '1.6.20',
    sourceRoots: ['/etc/containerd/certs.d'],
    dirs: ['docker.io', '_default'],
    routes: [
      { ...route(parse('[host."https://a.corp"]\n')[0] as HostConfig, 'docker.io'), id: 'aaaaaaaaaaaaaaaa' },
      { ...route(parse('[host."https://b.corp"]\n')[0] as HostConfig, 'docker.io'), id: 'bbbbbbbbbbbbbbbb' },
      { ...route(parse('[host."https://c.corp"]\n')[0] as HostConfig, null), id: 'cccccccccccccccc', registryDir: '_default' },
    ],
  };
  it('lists the routes of each namespace in order, and leaves out ?ns= routes', () => {
    const text = registriesConf(manifest);
    expect(text).toContain('prefix = "docker.io"');
    expect(text.indexOf('127.0.0.1:5599/mirrorauth/aaaaaaaaaaaaaaaa')).toBeLessThan(text.indexOf('127.0.0.1:5599/mirrorauth/bbbbbbbbbbbbbbbb'));
    expect(text).not.toContain('cccccccccccccccc');
    expect((text.match(/\[\[registry\]\]/g) ?? []).length).toBe(1);
  });
  it('puts only the access secret in the auth file', () => {
    const j = JSON.parse(containersAuth(manifest, 'SECRET')) as { auths: Record<string, { auth: string }> };
    expect(Object.keys(j.auths)).toEqual(['127.0.0.1:5599']);
    expect(Buffer.from(j.auths['127.0.0.1:5599']?.auth ?? '', 'base64').toString()).toBe('mirrorauth:SECRET');
  });
});
