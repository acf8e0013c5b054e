/**
 * resolveCredential's order (R4), with real files and a real helper process
 * (test/fixtures/bin/docker-credential-jsonfile) but no keychain.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCredentials, resolveCredential } from '../../src/credentials/resolve.js';
import { nodeSystem } from '../../src/system/node.js';
import { tempDir } from '../helpers/bin.js';

const fixtures = path.resolve(import.meta.dirname, '../fixtures/bin');
const b64 = (s: string) => Buffer.from(s).toString('base64');

function world(files: { config?: unknown; store?: unknown; helper?: Record<string, { Username: string; Secret: string }> }, env: Record<string, string> = {}) {
  const dir = tempDir();
  if (files.config !== undefined) writeFileSync(`${dir}/config.json`, JSON.stringify(files.config));
  if (files.store !== undefined) {
    mkdirSync(`${dir}/mirrorauth`, { recursive: true });
    writeFileSync(`${dir}/mirrorauth/namespaced-auths.json`, JSON.stringify(files.store));
  }
  writeFileSync(`${dir}/helper.json`, JSON.stringify(files.helper ?? {}));
  const sys = {
    ...nodeSystem(),
    env: {
      ...process.env,
      PATH: `${fixtures}:${process.env.PATH}`,
      FAKE_HELPER_FILE: `${dir}/helper.json`,
      FAKE_HELPER_LOG: `${dir}/helper.log`,
      DBUS_SESSION_BUS_ADDRESS: undefined,
      DOCKER_AUTH_CONFIG: undefined,
      ...env,
    },
  };
  return {
    dir,
    sys,
    helperLog: () =>
      (() => {
        try {
          return readFileSync(`${dir}/helper.log`, 'utf8');
        } catch {
          return '';
        }
      })(),
  };
}

const fileEntry = (user: string, pw: string) => ({ username: user, backend: 'file', kind: 'password', auth: b64(`${user}:${pw}`) });

describe('resolveCredential', () => {
  const store = {
    version: 1,
    auths: {
      'mirror.corp?ns=docker.io': fileEntry('ns-root', 'a'),
      'mirror.corp/v2/proxy?ns=docker.io': fileEntry('ns-proxy', 'b'),
      'mirror.corp?ns=*': fileEntry('wildcard', 'c'),
    },
    trusted: ['trusted.corp?ns=docker.io'],
  };
  const config = {
    auths: {
      'mirror.corp': { auth: b64('docker-mirror:d') },
      'https://index.docker.io/v1/': { auth: b64('hub:e') },
      'https://legacy.example:5000/v1/': { auth: b64('legacy:f') },
    },
  };

  it.each([
    ['longest path for the namespace', { host: 'mirror.corp', path: '/v2/proxy/sub' }, 'docker.io', 'namespaced', 'ns-proxy'],
    ['namespace entry without path', { host: 'mirror.corp', path: '' }, 'docker.io', 'namespaced', 'ns-root'],
    ['port 443 is the same host', { host: 'mirror.corp:443', path: '' }, 'docker.io', 'namespaced', 'ns-root'],
    ['ns=* for other upstreams', { host: 'mirror.corp', path: '' }, 'ghcr.io', 'namespaced', 'wildcard'],
    ['a bare host (no namespace known) gets the ns=* entry first', { host: 'mirror.corp', path: '' }, null, 'namespaced', 'wildcard'],
    ["then Docker's entry for it", { host: 'mirror.corp', path: '' }, 'mirror.corp', 'auths', 'docker-mirror'],
    ['Docker Hub API host finds the Hub key', { host: 'registry-1.docker.io', path: '' }, 'docker.io', 'auths', 'hub'],
    ['legacy scheme/path keys match by host', { host: 'legacy.example:5000', path: '' }, null, 'auths', 'legacy'],
    ['upstream credentials go to a trusted mirror', { host: 'trusted.corp', path: '' }, 'docker.io', 'trusted-upstream', 'hub'],
    ['never to an untrusted one', { host: 'other.corp', path: '' }, 'docker.io', 'anonymous', ''],
  ])('%s', async (_n, endpoint, ns, kind, user) => {
    const w = world({ config, store });
    const ctx = await openCredentials(w.sys, w.dir);
    const r = await resolveCredential(ctx, endpoint, ns);
    expect(r.source.kind).toBe(kind);
    expect(r.credential.username).toBe(user);
    expect(r.trace[r.trace.length - 1]?.outcome).toBe('hit');
  });

  it('a registry that is its own namespace skips the namespaced store', async () => {
    const w = world({ config, store: { version: 1, auths: { 'ghcr.io?ns=ghcr.io': fileEntry('x', 'y') } } });
    const r = await resolveCredential(await openCredentials(w.sys, w.dir), { host: 'ghcr.io', path: '' }, 'ghcr.io');
    expect(r.source.kind).toBe('anonymous');
    expect(r.trace[0]).toMatchObject({ step: 'namespaced', outcome: 'skipped' });
  });

  it('explicit credentials only for the host they were given for', async () => {
    const w = world({ config });
    const ctx = await openCredentials(w.sys, w.dir);
    const explicit = { host: 'mirror.corp', credential: { username: 'x', password: 'y', identityToken: '', registryToken: '' } };
    expect((await resolveCredential(ctx, { host: 'mirror.corp', path: '' }, null, { explicit })).source.kind).toBe('explicit');
    const other = await resolveCredential(ctx, { host: 'evil.example', path: '' }, null, { explicit });
    expect(other.source.kind).toBe('anonymous');
    expect(other.trace[0]).toMatchObject({ step: 'explicit', outcome: 'skipped' });
  });

  it('DOCKER_AUTH_CONFIG beats config.json; credHelpers beat credsStore; a selected helper hides plaintext auths', async () => {
    const w = world(
      {
        config: { credsStore: 'jsonfile', credHelpers: { 'special.example': 'jsonfile' }, auths: { 'plain.example': { auth: b64('plaintext:p') } } },
        helper: { 'special.example': { Username: 'from-helper', Secret: 's' } },
      },
      { DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { 'env.example': { auth: b64('from-env:e') } } }) },
    );
    const ctx = await openCredentials(w.sys, w.dir);
    expect((await resolveCredential(ctx, { host: 'env.example', path: '' }, null)).source.kind).toBe('docker-auth-config');
    expect(await resolveCredential(ctx, { host: 'special.example', path: '' }, null)).toMatchObject({
      source: { kind: 'cred-helper', helper: 'jsonfile' },
      credential: { username: 'from-helper' },
    });
    // with credsStore set, docker does not fall back to plaintext auths
    expect((await resolveCredential(ctx, { host: 'plain.example', path: '' }, null)).source.kind).toBe('anonymous');
  });

  it('never calls its own helper from inside: a key Docker routes to mirrorauth is answered from its own store', async () => {
    const w = world({
      config: { credsStore: 'mirrorauth', auths: { 'r.example': {}, 's.example': {} } },
      store: { version: 1, auths: { 'r.example': fileEntry('own', 'pw') } },
    });
    const ctx = await openCredentials(w.sys, w.dir);
    const r = await resolveCredential(ctx, { host: 'r.example', path: '' }, null);
    expect(r).toMatchObject({ source: { kind: 'creds-store', helper: 'mirrorauth' }, credential: { username: 'own' } });
    const s = await resolveCredential(ctx, { host: 's.example', path: '' }, null);
    expect(s.source.kind).toBe('anonymous');
    expect(s.trace.some((t) => /mirrorauth itself.*not called/.test(t.detail))).toBe(true);
    expect(w.helperLog()).toBe('');
  });

  it('identity tokens from helpers (<token>) come back as identity tokens', async () => {
    const w = world({ config: { credsStore: 'jsonfile' }, helper: { 'r.example': { Username: '<token>', Secret: 'refresh' } } });
    const r = await resolveCredential(await openCredentials(w.sys, w.dir), { host: 'r.example', path: '' }, null);
    expect(r.credential).toMatchObject({ identityToken: 'refresh', password: '' });
  });
});

describe('resolveCredential with ns=*', () => {
  it('treats * as an unknown upstream: only ns=* entries, never a trusted-upstream lookup for "*"', async () => {
    const w = world({
      config: { credsStore: 'jsonfile' },
      store: { version: 1, auths: { 'm.corp?ns=*': fileEntry('wild', 'w'), 'm.corp?ns=docker.io': fileEntry('hub-only', 'h') }, trusted: ['m.corp?ns=*'] },
    });
    const ctx = await openCredentials(w.sys, w.dir);
    const r = await resolveCredential(ctx, { host: 'm.corp', path: '' }, '*');
    expect(r).toMatchObject({ source: { kind: 'namespaced', key: 'm.corp?ns=*' }, credential: { username: 'wild' } });
    const other = await resolveCredential(ctx, { host: 'n.corp', path: '' }, '*');
    expect(other.source.kind).toBe('anonymous');
    expect(w.helperLog()).not.toContain('get *');
  });
});
