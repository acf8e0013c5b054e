/**
 * The credential-store defects of issue 10, one test (or group) each, written
 * before the fixes: legacy keys everywhere, the auth codec, plaintext policy,
 * labels, lookup order, logout completeness, ownership, canonical keys, trust,
 * nerdctl import, re-login, and coded errors instead of "internal error".
 */
import { chownSync, existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMPTY_CREDENTIAL } from '../../src/credentials/credential.js';
import { parseDockerConfig } from '../../src/credentials/docker-config.js';
import { parseEndpoint, parseNerdctlKey } from '../../src/credentials/keys.js';
import { loadStore } from '../../src/credentials/namespaced-store.js';
import { openCredentials, resolveCredential, describeSource } from '../../src/credentials/resolve.js';
import { handleBazel } from '../../src/protocols/bazel.js';
import { handleDockerHelper } from '../../src/protocols/docker-helper.js';
import type { RenderedEndpoint } from '../../src/render/collect.js';
import { render } from '../../src/render/formats.js';
import { nodeSystem } from '../../src/system/node.js';
import { runBin, tempDir } from '../helpers/bin.js';

const fixtures = path.resolve(import.meta.dirname, '../fixtures/bin');
const b64 = (s: string) => Buffer.from(s).toString('base64');
const noKeychain = { DBUS_SESSION_BUS_ADDRESS: undefined, DOCKER_AUTH_CONFIG: undefined };

function world(
  files: { config?: unknown; store?: unknown; helper?: Record<string, { Username: string; Secret: string }> },
  env: Record<string, string | undefined> = {},
) {
  const dir = tempDir();
  if (files.config !== undefined) writeFileSync(`${dir}/config.json`, typeof files.config === 'string' ? files.config : JSON.stringify(files.config));
  if (files.store !== undefined) {
    mkdirSync(`${dir}/mirrorauth`, { recursive: true });
    writeFileSync(`${dir}/mirrorauth/namespaced-auths.json`, typeof files.store === 'string' ? files.store : JSON.stringify(files.store));
  }
  writeFileSync(`${dir}/helper.json`, JSON.stringify(files.helper ?? {}));
  const env2 = {
    ...process.env,
    PATH: `${fixtures}:${process.env.PATH}`,
    FAKE_HELPER_FILE: `${dir}/helper.json`,
    FAKE_HELPER_LOG: `${dir}/helper.log`,
    DOCKER_CONFIG: dir,
    ...noKeychain,
    ...env,
  };
  const sys = { ...nodeSystem(), env: env2 };
  return { dir, sys, env: env2 as Record<string, string | undefined> };
}
const fileEntry = (user: string, pw: string) => ({ username: user, backend: 'file', kind: 'password', auth: b64(`${user}:${pw}`) });
const helperCall = (sys: ReturnType<typeof world>['sys'], action: string, input: string) => handleDockerHelper(sys, [action], async () => input);

describe('1. a legacy auths key is found by every front end', () => {
  const config = { auths: { 'https://legacy.example:5000/v1/': { auth: b64('legacy:pw') } } };
  it('doctor does not call the mirror credential-less', async () => {
    const w = world({ config });
    const certs = tempDir();
    mkdirSync(`${certs}/docker.io`);
    writeFileSync(`${certs}/docker.io/hosts.toml`, '[host."https://legacy.example:5000"]\n');
    const r = await runBin(['doctor', '--hosts-dir', certs, '--config', w.dir, '--json'], { env: w.env });
    const codes = (JSON.parse(r.stdout) as { diagnostics: Array<{ code: string }> }).diagnostics.map((d) => d.code);
    expect(codes).not.toContain('CRED_MIRROR_NO_CREDENTIALS');
  });
  it('bazel get does not answer {} for it', async () => {
    const w = world({ config });
    // the registry is not reachable: anything but a silent {} shows the host was recognised
    const reply = await handleBazel(w.sys, JSON.stringify({ uri: 'https://legacy.example:5000/v2/a/manifests/v1' }));
    expect(reply.stdout).not.toBe('{}\n');
  });
});

describe('2. the auth codec', () => {
  it('render --format docker writes no "auth" for a token-only credential, and the file reads back', () => {
    const credential = { ...EMPTY_CREDENTIAL, identityToken: 'refresh-token' };
    const e: RenderedEndpoint = {
      host: 'r.example',
      path: '',
      apiPath: '/v2',
      scheme: 'https',
      registry: 'r.example',
      credential,
      source: 'namespaced',
      tls: { caCerts: [], clientPairs: [], skipVerify: null },
      isUpstream: false,
    };
    const { text } = render('docker', [{ registry: 'r.example', endpoints: [e], named: e }], false);
    const doc = JSON.parse(text) as { auths: Record<string, Record<string, string>> };
    expect(doc.auths['r.example']).toEqual({ identitytoken: 'refresh-token' });
    expect(() => parseDockerConfig(text, 'rendered.json', '/')).not.toThrow();
  });
  it('an auth with an empty user name is refused as docker refuses it', () => {
    expect(() => parseDockerConfig(JSON.stringify({ auths: { h: { auth: b64(':pw') } } }), 'c.json', '/')).toThrow(/user/);
  });
});

describe('3. plaintext policy at the write, for every writer', () => {
  it('docker-credential-mirrorauth store says so when the secret lands in the plaintext file', async () => {
    const w = world({ config: {} });
    const reply = await helperCall(w.sys, 'store', JSON.stringify({ ServerURL: 'r.example', Username: 'u', Secret: 's3cret' }));
    expect(reply.code).toBe(0);
    expect(reply.stderr ?? '').toMatch(/plain ?text|unencrypted/i);
    expect(reply.stdout).toBe('');
  });
  it('import nerdctl says so', async () => {
    const w = world({ config: { auths: { 'nerdctl-experimental://docker.io/host/mirror.corp': { auth: b64('u:pw') } } } });
    const r = await runBin(['import', 'nerdctl', '--config', w.dir], { env: w.env });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/plain ?text|unencrypted/i);
  });
  it('doctor reports a refresh token kept in plaintext, whatever wrote it', async () => {
    const w = world({
      config: {},
      store: { version: 1, auths: { 'm.corp?ns=docker.io': { username: 'u', backend: 'file', kind: 'identitytoken', identitytoken: 'rt' } } },
    });
    const certs = tempDir();
    const r = await runBin(['doctor', '--hosts-dir', certs, '--config', w.dir, '--json'], { env: w.env });
    const d = (JSON.parse(r.stdout) as { diagnostics: Array<{ code: string; message: string }> }).diagnostics;
    expect(d.some((x) => x.code.startsWith('CRED_PLAINTEXT') && x.message.includes('m.corp?ns=docker.io'))).toBe(true);
  });
});

describe('4. labels and messages', () => {
  it('a plain entry stored through the helper is not labelled "credsStore mirrorauth" when no credsStore is set', async () => {
    const w = world({ config: { credHelpers: { 'r.example': 'mirrorauth' } } });
    await helperCall(w.sys, 'store', JSON.stringify({ ServerURL: 'r.example', Username: 'u', Secret: 's' }));
    const r = await resolveCredential(await openCredentials(w.sys, w.dir), { host: 'r.example', path: '' }, null);
    expect(r.credential.username).toBe('u');
    expect(describeSource(r.source)).not.toMatch(/credsStore/);
    expect(describeSource(r.source)).toMatch(/credHelpers/);
  });
  it('a CONFIG_INVALID error names the file once', async () => {
    const w = world({ config: '{"auths": [' });
    const r = await runBin(['list', '--config', w.dir], { env: w.env });
    expect(r.code).toBe(3);
    expect(r.stderr.split(`${w.dir}/config.json`).length - 1).toBe(1);
  });
});

describe("7. Docker's order", () => {
  it("DOCKER_AUTH_CONFIG and the current config beat an old entry in mirrorauth's own store", async () => {
    const w = world({
      config: { auths: { 'r.example': { auth: b64('current:pw') } } },
      store: { version: 1, auths: { 'r.example': fileEntry('stale', 'old') } },
    });
    const ctx = await openCredentials(w.sys, w.dir);
    expect((await resolveCredential(ctx, { host: 'r.example', path: '' }, null)).credential.username).toBe('current');
    const env = world(
      { config: {}, store: { version: 1, auths: { 'r.example': fileEntry('stale', 'old') } } },
      { DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { 'r.example': { auth: b64('from-env:e') } } }) },
    );
    expect((await resolveCredential(await openCredentials(env.sys, env.dir), { host: 'r.example', path: '' }, null)).credential.username).toBe('from-env');
  });
  it('logout HOST erases the plaintext auths entry too, as docker logout does', async () => {
    const w = world({
      config: { credHelpers: { 'r.example': 'mirrorauth' }, auths: { 'r.example': { auth: b64('plain:pw') } } },
      store: { version: 1, auths: { 'r.example': fileEntry('own', 'o') } },
    });
    const r = await runBin(['logout', 'r.example', '--config', w.dir], { env: w.env });
    expect(r.code, r.stderr).toBe(0);
    const config = JSON.parse(readFileSync(`${w.dir}/config.json`, 'utf8')) as { auths?: Record<string, unknown> };
    expect(config.auths?.['r.example']).toBeUndefined();
    expect(existsSync(`${w.dir}/mirrorauth/namespaced-auths.json`) ? readFileSync(`${w.dir}/mirrorauth/namespaced-auths.json`, 'utf8') : '').not.toContain(
      '"r.example"',
    );
  });
});

describe.skipIf(process.getuid?.() !== 0)("8. run as root on another user's Docker dir", () => {
  it('keeps the owner of config.json and of the store', async () => {
    const w = world({ config: { auths: {} } });
    chownSync(w.dir, 4242, 4242);
    chownSync(`${w.dir}/config.json`, 4242, 4242);
    // the helper's store writes without verifying against a registry
    await helperCall(w.sys, 'store', JSON.stringify({ ServerURL: 'r.example', Username: 'u', Secret: 's' }));
    expect(statSync(`${w.dir}/mirrorauth/namespaced-auths.json`).uid).toBe(4242);
    expect(statSync(`${w.dir}/mirrorauth`).uid).toBe(4242);
    const { updateDockerConfig } = await import('../../src/credentials/docker-config.js');
    await updateDockerConfig(w.sys, w.dir, (raw) => {
      raw.touched = true;
    });
    expect(statSync(`${w.dir}/config.json`).uid).toBe(4242);
  });
});

describe('9. canonical keys', () => {
  it('one bad store entry is a reported skip, not a dead store', async () => {
    const w = world({
      config: {},
      store: { version: 1, auths: { 'fe80::1%25eth0?ns=docker.io': fileEntry('x', 'y'), 'good.corp?ns=docker.io': fileEntry('good', 'g') } },
    });
    const store = await loadStore(w.sys, w.dir);
    expect(store.entries.has('good.corp?ns=docker.io')).toBe(true);
    const r = await runBin(['list', '--config', w.dir, '--json'], { env: w.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain('fe80::1%25eth0');
  });
  it.each(['mirror%2ecorp?ns=docker.io', 'mirror.corp%3Fx?ns=docker.io', 'a%40b.corp?ns=docker.io', 'a%23b.corp?ns=docker.io'])(
    'refuses %s as an address',
    (key) => {
      expect(() => parseEndpoint(key)).toThrow();
    },
  );
  it("an encoded ../ in a key path never lets team-a's credential answer team-b", async () => {
    expect(() => parseEndpoint('mirror.corp/team-a%2f..%2fteam-b?ns=docker.io')).toThrow();
    const w = world({ config: {}, store: { version: 1, auths: { 'mirror.corp/team-a%2f..%2fteam-b?ns=docker.io': fileEntry('team-a', 'a') } } });
    const ctx = await openCredentials(w.sys, w.dir);
    const r = await resolveCredential(ctx, { host: 'mirror.corp', path: '/team-b' }, 'docker.io');
    expect(r.credential.username).not.toBe('team-a');
  });
});

describe('10. trust', () => {
  it('refuses MIRROR?ns=*', async () => {
    const w = world({ config: {} });
    const r = await runBin(['trust', 'mirror.corp?ns=*', '--config', w.dir], { env: w.env });
    expect(r.code).toBe(2);
  });
  it('an old ns=* trust entry gives nothing for a namespace a requester names', async () => {
    const w = world({ config: { auths: { 'ghcr.io': { auth: b64('ghcr-user:pw') } } }, store: { version: 1, auths: {}, trusted: ['mirror.corp?ns=*'] } });
    const r = await resolveCredential(await openCredentials(w.sys, w.dir), { host: 'mirror.corp', path: '' }, 'ghcr.io');
    expect(r.source.kind).toBe('anonymous');
  });
});

describe('11. import nerdctl', () => {
  it('splits at the first /host/: the namespace never holds a slash', () => {
    expect(parseNerdctlKey('nerdctl-experimental://docker.io/host/mirror.corp/repo/host/x')).toEqual({
      host: 'mirror.corp',
      path: '/repo/host/x',
      namespace: 'docker.io',
    });
  });
});

describe('13. Docker key details', () => {
  it('a legacy http://h:80 key never answers for h:443', async () => {
    const w = world({ config: { auths: { 'http://h.example:80': { auth: b64('port80:pw') } } } });
    const r = await resolveCredential(await openCredentials(w.sys, w.dir), { host: 'h.example', path: '' }, null);
    expect(r.credential.username).not.toBe('port80');
  });
  it('login refuses user:token@host instead of storing the token inside the key', async () => {
    const w = world({ config: {} });
    const r = await runBin(['login', 'user:tok3n@r.example', '-u', 'u', '--password-stdin', '--config', w.dir], { env: w.env, input: 'pw' });
    expect(r.code).toBe(2);
    expect(existsSync(`${w.dir}/config.json`) ? readFileSync(`${w.dir}/config.json`, 'utf8') : '').not.toContain('tok3n');
  });
  it('fields a newer version wrote into a store entry survive a re-store', async () => {
    const w = world({ config: {}, store: { version: 1, auths: { 'r.example': { ...fileEntry('u', 'old'), future: 'keep-me' } } } });
    await helperCall(w.sys, 'store', JSON.stringify({ ServerURL: 'r.example', Username: 'u', Secret: 'new' }));
    const raw = JSON.parse(readFileSync(`${w.dir}/mirrorauth/namespaced-auths.json`, 'utf8')) as { auths: Record<string, Record<string, unknown>> };
    expect(raw.auths['r.example']?.future).toBe('keep-me');
  });
  it('a dangling config.json symlink gets its target created, as docker does', async () => {
    const w = world({});
    mkdirSync(`${w.dir}/real`);
    symlinkSync(`${w.dir}/real/config.json`, `${w.dir}/config.json`);
    const { updateDockerConfig } = await import('../../src/credentials/docker-config.js');
    await updateDockerConfig(w.sys, w.dir, (raw) => {
      raw.test = 1;
    });
    expect(lstatSync(`${w.dir}/config.json`).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(`${w.dir}/real/config.json`, 'utf8')).test).toBe(1);
  });
});

describe('14. ordinary failures have codes, not "internal error"', () => {
  it('a read-only Docker dir (EPERM on the lock) and a full disk (ENOSPC) are IO errors', async () => {
    const { updateStore } = await import('../../src/credentials/namespaced-store.js');
    const { updateDockerConfig } = await import('../../src/credentials/docker-config.js');
    const errno = (code: string) => Object.assign(new Error(`${code}: simulated`), { code });
    const w = world({ config: {} });
    const lockFails = { ...w.sys, lock: async () => Promise.reject(errno('EPERM')) };
    await expect(updateStore(lockFails, w.dir, () => undefined)).rejects.toMatchObject({ code: 'IO' });
    await expect(updateDockerConfig(lockFails, w.dir, () => undefined)).rejects.toMatchObject({ code: 'IO' });
    const diskFull = { ...w.sys, fs: { ...w.sys.fs, writeFile: async () => Promise.reject(errno('ENOSPC')) } };
    await expect(updateStore(diskFull, w.dir, () => undefined)).rejects.toMatchObject({ code: 'IO' });
    expect(readFileSync(`${w.dir}/config.json`, 'utf8')).toBe('{}');
  });
  it('a store path that cannot be created (a file in the way) is an IO error, exit 3', async () => {
    const w = world({ config: {} });
    writeFileSync(`${w.dir}/mirrorauth`, 'not a directory');
    const r = await runBin(['trust', 'm.corp?ns=docker.io', '--config', w.dir], { env: w.env });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(3);
  });
  it('echo null | docker-credential-mirrorauth store is a protocol error, not a crash', async () => {
    const w = world({ config: {} });
    const reply = await helperCall(w.sys, 'store', 'null');
    expect(reply.code).toBe(1);
    expect(reply.stdout).not.toMatch(/internal error/);
  });
});
