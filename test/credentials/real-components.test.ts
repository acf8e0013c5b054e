/**
 * Credentials against real components started by the suite (test/setup/harness.ts):
 * distribution registries with Basic and Bearer token auth, a pull-through mirror
 * with its own users, gnome-keyring over D-Bus, and Debian's
 * docker-credential-secretservice and docker-credential-pass.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { openKeychain } from '../../src/credentials/keychain.js';
import { nodeSystem } from '../../src/system/node.js';
import { repo, runBin, tempDir } from '../helpers/bin.js';

const h = inject('harness');
const E = h.env;
const run = (args: string[], opts: { env?: Record<string, string | undefined>; input?: string } = {}) => runBin(args, { ...opts, env: { ...E, ...opts.env } });
const lookup = async (address: string, config: string, env: Record<string, string | undefined> = {}) => {
  const r = await run(['lookup', address, '--json', '--config', config], { env });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as { found: boolean; source: { kind: string; key?: string; helper?: string }; username: string | null; secret: string | null };
};
const secretTool = (...args: string[]) => execFileSync('secret-tool', args, { env: { ...process.env, ...E }, encoding: 'utf8' });
const helperGet = (helper: string, server: string) =>
  JSON.parse(execFileSync(`docker-credential-${helper}`, ['get'], { input: server, env: { ...process.env, ...E }, encoding: 'utf8' })) as {
    Username: string;
    Secret: string;
  };

describe.skipIf(!h.available)('login against real registries', () => {
  it('Basic registry: the right password is verified and stored; a wrong one stores nothing', async () => {
    const cfg = tempDir();
    const ok = await run(['login', E.HARNESS_BASIC as string, '-u', 'alice', '--password-stdin', '--config', cfg], { input: 'alice-pw\n' });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('Login Succeeded\n');
    expect(JSON.parse(readFileSync(`${cfg}/config.json`, 'utf8')).auths[E.HARNESS_BASIC as string]).toEqual({
      auth: Buffer.from('alice:alice-pw').toString('base64'),
    });
    expect(ok.stderr).toContain('stored unencrypted');

    const before = readFileSync(`${cfg}/config.json`);
    const bad = await run(['login', E.HARNESS_BASIC as string, '-u', 'alice', '--password-stdin', '--config', cfg], { input: 'wrong-pw' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/refused the credentials/);
    expect(bad.stderr).not.toContain('wrong-pw');
    expect(readFileSync(`${cfg}/config.json`)).toEqual(before);
  });

  it('Bearer registry: logs in through the token server and stores the refresh token instead of the password', async () => {
    const cfg = tempDir();
    const ok = await run(['login', E.HARNESS_UPSTREAM as string, '-u', 'alice', '--password-stdin', '--config', cfg], { input: 'alice-pw' });
    expect(ok.code).toBe(0);
    const entry = JSON.parse(readFileSync(`${cfg}/config.json`, 'utf8')).auths[E.HARNESS_UPSTREAM as string];
    expect(entry.identitytoken).toMatch(/^rt-/);
    expect(JSON.stringify(entry)).not.toContain('alice-pw');
    const log = readFileSync(E.HARNESS_TOKEN_LOG as string, 'utf8');
    expect(log).toMatch(/"method":"POST".*grant_type=password/);
    expect(log).not.toContain('alice-pw');

    const bad = await run(['login', E.HARNESS_UPSTREAM as string, '-u', 'alice', '--password-stdin', '--config', tempDir()], { input: 'nope' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/refused the credentials/);
  });

  it('mirror with its own users: a namespaced login is stored in gnome-keyring and found only for that endpoint and namespace', async () => {
    const cfg = tempDir();
    const key = `${E.HARNESS_MIRROR}?ns=${E.HARNESS_UPSTREAM}`;
    const bad = await run(['login', key, '-u', 'mirror-user', '--password-stdin', '--config', cfg], { input: 'mirror-wrong' });
    expect(bad.code).toBe(1);
    expect(() => statSync(`${cfg}/mirrorauth/namespaced-auths.json`)).toThrow();
    // the upstream's users are not the mirror's
    expect((await run(['login', key, '-u', 'alice', '--password-stdin', '--config', cfg], { input: 'alice-pw' })).code).toBe(1);

    const ok = await run(
      ['login', E.HARNESS_MIRROR as string, '--registry-namespace', E.HARNESS_UPSTREAM as string, '-u', 'mirror-user', '--password-stdin', '--config', cfg],
      { input: 'mirror-pw' },
    );
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain('in the OS keychain');
    // login says which clients will use it: only the serve proxy receives a ?ns= entry
    expect(ok.stderr).toMatch(/used by mirrorauth serve; not by containerd CRI\/ctr on their own, nerdctl, podman\/skopeo\/docker, Bazel/);
    expect(ok.stderr).toContain(`mirrorauth login ${E.HARNESS_MIRROR})`);
    // docker-sized: Login Succeeded on stdout; on stderr where it went and who uses it (plus warnings that matter)
    expect(ok.stdout).toBe('Login Succeeded\n');
    expect(
      ok.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('WARNING!')),
    ).toHaveLength(2);
    const store = JSON.parse(readFileSync(`${cfg}/mirrorauth/namespaced-auths.json`, 'utf8'));
    expect(store.version).toBe(1);
    expect(store.auths[key]).toMatchObject({ username: 'mirror-user', backend: 'keychain' });
    expect(JSON.stringify(store)).not.toContain('mirror-pw');
    expect(secretTool('lookup', 'service', 'mirrorauth', 'username', key).trim()).toBe('mirror-pw');
    expect(statSync(`${cfg}/mirrorauth/namespaced-auths.json`).mode & 0o777).toBe(0o600);
    expect(statSync(`${cfg}/mirrorauth`).mode & 0o777).toBe(0o700);

    const hit = await lookup(key, cfg);
    expect(hit).toMatchObject({ found: true, source: { kind: 'namespaced', key }, username: 'mirror-user' });
    expect(JSON.stringify(hit)).not.toContain('mirror-pw');
    expect((await lookup(`${E.HARNESS_MIRROR}?ns=ghcr.io`, cfg)).found).toBe(false);
    expect((await lookup(E.HARNESS_MIRROR as string, cfg)).found).toBe(false);
    expect((await lookup(E.HARNESS_UPSTREAM as string, cfg)).found).toBe(false);
    expect((await lookup(`127.0.0.1:15009?ns=${E.HARNESS_UPSTREAM}`, cfg)).found).toBe(false);

    const out = await run(['logout', key, '--config', cfg]);
    expect(out.code).toBe(0);
    expect(() => secretTool('lookup', 'service', 'mirrorauth', 'username', key)).toThrow();
    expect((await lookup(key, cfg)).found).toBe(false);
  });

  it('hosts.toml view: a plain login names the mirrors that still lack credentials, with the command for each', async () => {
    const cfg = tempDir();
    const hosts = tempDir();
    mkdirSync(`${hosts}/${E.HARNESS_UPSTREAM?.replace(':', '_')}_`, { recursive: true });
    writeFileSync(
      `${hosts}/${E.HARNESS_UPSTREAM?.replace(':', '_')}_/hosts.toml`,
      `[host."http://${E.HARNESS_MIRROR}"]\n  capabilities = ["pull", "resolve"]\n`,
    );
    const first = await run(['login', E.HARNESS_UPSTREAM as string, '-u', 'alice', '--password-stdin', '--config', cfg, '--hosts-dir', hosts], {
      input: 'alice-pw',
    });
    expect(first.code).toBe(0);
    expect(first.stderr).toContain(`mirrorauth login '${E.HARNESS_MIRROR}?ns=${E.HARNESS_UPSTREAM}'`);
    const mirror = await run(
      ['login', `${E.HARNESS_MIRROR}?ns=${E.HARNESS_UPSTREAM}`, '-u', 'mirror-user', '--password-stdin', '--config', cfg, '--hosts-dir', hosts],
      { input: 'mirror-pw' },
    );
    expect(mirror.code).toBe(0);
    expect(mirror.stderr).not.toContain('No hosts.toml');
    const again = await run(['login', E.HARNESS_UPSTREAM as string, '-u', 'alice', '--password-stdin', '--config', cfg, '--hosts-dir', hosts], {
      input: 'alice-pw',
    });
    expect(again.stderr).not.toContain('mirrorauth login');
    const unlisted = await run(['login', `${E.HARNESS_MIRROR}?ns=quay.io`, '-u', 'mirror-user', '--password-stdin', '--config', cfg, '--hosts-dir', hosts], {
      input: 'mirror-pw',
    });
    expect(unlisted.code).toBe(0);
    expect(unlisted.stderr).toContain('No hosts.toml for quay.io sends it to');
  });

  it('Harbor-shaped project endpoint (Bearer, /v2/<project>): login verifies at /v2/ with a token for the project, no false warning, explain --probe agrees', async () => {
    const NS = E.HARNESS_NSMIRROR as string;
    const cfg = tempDir();
    const hosts = tempDir();
    mkdirSync(`${hosts}/docker.io`, { recursive: true });
    writeFileSync(`${hosts}/docker.io/hosts.toml`, `[host."http://${NS}/v2/alpha"]\n  capabilities = ["pull", "resolve"]\n  override_path = true\n`);
    const mark = readFileSync(E.HARNESS_TOKEN_LOG as string, 'utf8').length;
    const ok = await run(['login', `${NS}/v2/alpha?ns=docker.io`, '-u', 'robot-a', '--password-stdin', '--config', cfg, '--hosts-dir', hosts], {
      input: 'robot-a-pw',
    });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).not.toContain('No hosts.toml');
    // the token exchange asked for a repository under the project, as containerd's pulls will
    const issued = readFileSync(E.HARNESS_TOKEN_LOG as string, 'utf8').slice(mark);
    expect(issued).toMatch(/repository:alpha\/[^"]*:pull/);
    const bad = await run(['login', `${NS}/v2/alpha?ns=docker.io`, '-u', 'robot-a', '--password-stdin', '--config', tempDir(), '--hosts-dir', hosts], {
      input: 'wrong',
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/refused|rejected|401/);
    // the workaround (log in to the host without the project path) is used by the project endpoint: no warning
    const bare = await run(['login', `${NS}?ns=docker.io`, '-u', 'robot-a', '--password-stdin', '--config', tempDir(), '--hosts-dir', hosts], {
      input: 'robot-a-pw',
    });
    expect(bare.code, bare.stderr).toBe(0);
    expect(bare.stderr).not.toContain('No hosts.toml');
    const probe = await run(['explain', 'alpha/app:v1', '--probe', '--json', '--config', cfg, '--hosts-dir', hosts]);
    const mirror = (JSON.parse(probe.stdout) as { hosts: Array<{ host: string; probe: { outcome: string; url: string } | null }> }).hosts[0];
    expect(mirror?.probe).toMatchObject({ outcome: 'ok' });
    expect(mirror?.probe?.url).toBe(`http://${NS}/v2/?ns=docker.io`);
  });
});

describe.skipIf(!h.available)('the OS keychain', () => {
  it('with no D-Bus the fallback is chosen and reported within one second', async () => {
    const sys = { ...nodeSystem(), env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: undefined } };
    const t0 = performance.now();
    const k = await openKeychain(sys);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(k).toMatchObject({ ok: false, code: 'KEYCHAIN_UNAVAILABLE' });

    const cfg = tempDir();
    const r = await run(['login', `${E.HARNESS_MIRROR}?ns=${E.HARNESS_UPSTREAM}`, '-u', 'mirror-user', '--password-stdin', '--config', cfg], {
      input: 'mirror-pw',
      env: { DBUS_SESSION_BUS_ADDRESS: undefined },
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/keychain unavailable: no D-Bus session bus/);
    expect(r.stderr).toMatch(/stored unencrypted/);
    expect(JSON.parse(readFileSync(`${cfg}/mirrorauth/namespaced-auths.json`, 'utf8')).auths[`${E.HARNESS_MIRROR}?ns=${E.HARNESS_UPSTREAM}`].backend).toBe(
      'file',
    );
  });

  it('a bus address that leads nowhere fails fast too, and --store keychain then refuses clearly', async () => {
    const sys = { ...nodeSystem(), env: { ...process.env, ...E, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' } };
    process.env.DBUS_SESSION_BUS_ADDRESS = 'unix:path=/nonexistent/bus';
    const t0 = performance.now();
    const k = await openKeychain(sys);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(k.ok).toBe(false);
    const r = await run(
      ['login', `${E.HARNESS_MIRROR}?ns=${E.HARNESS_UPSTREAM}`, '-u', 'mirror-user', '--password-stdin', '--store', 'keychain', '--config', tempDir()],
      {
        input: 'mirror-pw',
        env: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' },
      },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/keychain cannot be used/);
  });
});

describe.skipIf(!h.available)("Debian's credential helpers as Docker-side backends", () => {
  it('credsStore secretservice: plain logins go to the helper, namespaced ones under a synthetic .invalid URL', async () => {
    const cfg = tempDir();
    writeFileSync(`${cfg}/config.json`, JSON.stringify({ credsStore: 'secretservice' }));
    const r = await run(['login', E.HARNESS_BASIC as string, '-u', 'alice', '--password-stdin', '--config', cfg], { input: 'alice-pw' });
    expect(r.code).toBe(0);
    expect(helperGet('secretservice', E.HARNESS_BASIC as string)).toMatchObject({ Username: 'alice', Secret: 'alice-pw' });
    const doc = JSON.parse(readFileSync(`${cfg}/config.json`, 'utf8'));
    expect(doc).toEqual({ credsStore: 'secretservice', auths: { [E.HARNESS_BASIC as string]: {} } });
    expect(await lookup(E.HARNESS_BASIC as string, cfg)).toMatchObject({
      found: true,
      source: { kind: 'creds-store', helper: 'secretservice' },
      username: 'alice',
    });

    const key = `${E.HARNESS_MIRROR}?ns=${E.HARNESS_UPSTREAM}`;
    const ns = await run(['login', key, '-u', 'mirror-user', '--password-stdin', '--store', 'helper', '--config', cfg], { input: 'mirror-pw' });
    expect(ns.code).toBe(0);
    const entry = JSON.parse(readFileSync(`${cfg}/mirrorauth/namespaced-auths.json`, 'utf8')).auths[key];
    expect(entry).toMatchObject({ backend: 'helper', helper: 'secretservice' });
    expect(entry.serverURL).toMatch(/^https:\/\/[0-9a-f]{32}\.mirrorauth\.invalid$/);
    expect(helperGet('secretservice', entry.serverURL)).toMatchObject({ Username: 'mirror-user', Secret: 'mirror-pw' });
    expect(await lookup(key, cfg)).toMatchObject({ found: true, source: { kind: 'namespaced', key } });
    const listed = JSON.parse((await run(['list', '--json', '--config', cfg])).stdout);
    expect(JSON.stringify(listed)).not.toMatch(/alice-pw|mirror-pw/);
    expect(listed.docker.map((d: { key: string }) => d.key)).not.toContain(entry.serverURL);
  });

  it('credHelpers pass: the login is stored in pass and read back; pass answering empty fields means "none"', async () => {
    const cfg = tempDir();
    writeFileSync(`${cfg}/config.json`, JSON.stringify({ credHelpers: { [E.HARNESS_BASIC as string]: 'pass', 'empty.example.com': 'pass' } }));
    const r = await run(['login', E.HARNESS_BASIC as string, '-u', 'alice', '--password-stdin', '--config', cfg], { input: 'alice-pw' });
    expect(r.code).toBe(0);
    expect(helperGet('pass', E.HARNESS_BASIC as string)).toMatchObject({ Username: 'alice', Secret: 'alice-pw' });
    expect(await lookup(E.HARNESS_BASIC as string, cfg)).toMatchObject({ found: true, source: { kind: 'cred-helper', helper: 'pass' } });
    expect(await lookup('empty.example.com', cfg)).toMatchObject({ found: false });
    const out = await run(['logout', E.HARNESS_BASIC as string, '--config', cfg]);
    expect(out.code).toBe(0);
    expect(await lookup(E.HARNESS_BASIC as string, cfg)).toMatchObject({ found: false });
  });
});

describe.skipIf(!h.available)('files stay intact', () => {
  it('keeps unknown fields of config.json and their order, and a symlinked config.json stays a link', async () => {
    const real = tempDir();
    const cfg = tempDir();
    const original = {
      psFormat: 'table {{.ID}}',
      auths: { 'other.example.com': { auth: Buffer.from('o:p').toString('base64'), email: 'x@y' } },
      HttpHeaders: { 'X-Meta': '1' },
      plugins: { a: { b: 'c' } },
      zzz: [1, 2],
    };
    writeFileSync(`${real}/config.json`, JSON.stringify(original, null, 2));
    chmodSync(`${real}/config.json`, 0o600);
    symlinkSync(`${real}/config.json`, `${cfg}/config.json`);
    const r = await run(['login', E.HARNESS_BASIC as string, '-u', 'alice', '--password-stdin', '--config', cfg], { input: 'alice-pw' });
    expect(r.code).toBe(0);
    expect(lstatSync(`${cfg}/config.json`).isSymbolicLink()).toBe(true);
    expect(readlinkSync(`${cfg}/config.json`)).toBe(`${real}/config.json`);
    const doc = JSON.parse(readFileSync(`${real}/config.json`, 'utf8'));
    expect(Object.keys(doc)).toEqual(['psFormat', 'auths', 'HttpHeaders', 'plugins', 'zzz']);
    expect(doc.auths['other.example.com']).toEqual(original.auths['other.example.com']);
    expect(doc.plugins).toEqual(original.plugins);
    expect(statSync(`${real}/config.json`).mode & 0o777).toBe(0o600);
  });

  it('20 concurrent logins from 20 processes lose nothing', async () => {
    const cfg = tempDir();
    const logins = Array.from({ length: 20 }, (_, i) =>
      run(['login', `${E.HARNESS_MIRROR}?ns=registry-${i}.example.com`, '-u', 'mirror-user', '--password-stdin', '--store', 'file', '--config', cfg], {
        input: 'mirror-pw',
      }),
    );
    const results = await Promise.all(logins);
    expect(results.map((r) => r.code)).toEqual(new Array(20).fill(0));
    const store = JSON.parse(readFileSync(`${cfg}/mirrorauth/namespaced-auths.json`, 'utf8'));
    expect(Object.keys(store.auths).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `${E.HARNESS_MIRROR}?ns=registry-${i}.example.com`).sort());
    expect(statSync(`${cfg}/mirrorauth/namespaced-auths.json`).mode & 0o777).toBe(0o600);
  });

  it.each([
    ['config.json that is not JSON', 'config.json', '{\n  "auths": {\n    "x": \n}\n', /config\.json:4/],
    ['config.json with a broken auth entry', 'config.json', '{"auths": {"x.example.com": {"auth": "bm9jb2xvbg=="}}}', /invalid auth configuration file/],
    ['a namespaced store that is not JSON', 'mirrorauth/namespaced-auths.json', '{"version": 1, "auths": {', /namespaced-auths\.json/],
    ['a namespaced store from a newer version', 'mirrorauth/namespaced-auths.json', '{"version": 7, "auths": {}}', /version 7/],
  ])('%s: clear error naming the file, exit 3, nothing rewritten', async (_name, file, content, message) => {
    const cfg = tempDir();
    mkdirSync(path.dirname(`${cfg}/${file}`), { recursive: true });
    writeFileSync(`${cfg}/${file}`, content);
    const before = statSync(`${cfg}/${file}`).mtimeMs;
    const r = await run(['login', `${E.HARNESS_MIRROR}?ns=${E.HARNESS_UPSTREAM}`, '-u', 'mirror-user', '--password-stdin', '--config', cfg], {
      input: 'mirror-pw',
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain(`${cfg}/${file}`);
    expect(readFileSync(`${cfg}/${file}`, 'utf8')).toBe(content);
    expect(statSync(`${cfg}/${file}`).mtimeMs).toBe(before);
  });

  it('a helper that answers garbage is reported with its name, exit 1', async () => {
    const cfg = tempDir();
    writeFileSync(`${cfg}/config.json`, JSON.stringify({ credsStore: 'garbage' }));
    const r = await run(['lookup', E.HARNESS_BASIC as string, '--config', cfg], { env: { PATH: `${repo}/test/fixtures/bin:${process.env.PATH}` } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('docker-credential-garbage get answered with something that is not JSON');
  });
});

describe.skipIf(!h.available)('concurrent writers and what logout leaves behind (issue 10)', () => {
  const B = E.HARNESS_BASIC as string;
  const pw: Record<string, string> = { alice: 'alice-pw', ci: 'ci-pw' };
  /** Every secret-service item mirrorauth owns whose account mentions `marker`. */
  const keychainItems = (marker: string) => {
    const r = spawnSync('secret-tool', ['search', '--all', 'service', 'mirrorauth'], { env: { ...process.env, ...E }, encoding: 'utf8' });
    return `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.startsWith('attribute.username = ') && l.includes(marker)).length;
  };

  it('20 writers on one key and on distinct keys, mixing login and logout: every final state is one a single writer produced; nothing is left after the last logout', async () => {
    const cfg = tempDir();
    const same = `${B}?ns=race-same.test`;
    const jobs = Array.from({ length: 20 }, (_, i) => {
      if (i < 10) {
        const user = i % 2 === 0 ? 'alice' : 'ci';
        return run(['login', same, '-u', user, '--password-stdin', '--store', 'keychain', '--config', cfg], { input: pw[user] as string });
      }
      if (i < 14) return run(['logout', same, '--config', cfg]);
      const user = i % 2 === 0 ? 'alice' : 'ci';
      return run(['login', `${B}?ns=race-${i}.test`, '-u', user, '--password-stdin', '--store', 'keychain', '--config', cfg], { input: pw[user] as string });
    });
    const results = await Promise.all(jobs);
    // logins succeed; a logout either removed something or found nothing to remove (exit 1, said so)
    results.slice(0, 10).forEach((r) => expect(r.code, r.stderr).toBe(0));
    results.slice(10, 14).forEach((r) => expect([0, 1]).toContain(r.code));
    results.slice(14).forEach((r) => expect(r.code, r.stderr).toBe(0));
    // the shared key: absent, or one writer's whole pair (the user name and the secret belong together)
    const shared = await lookup(same, cfg);
    if (shared.found) {
      const r = await run(['render', '--format', 'docker', '--registry', same, '--config', cfg]);
      const auth = (JSON.parse(r.stdout) as { auths: Record<string, { auth: string }> }).auths[B]?.auth ?? '';
      const [user, secret] = Buffer.from(auth, 'base64').toString().split(':');
      expect(secret).toBe(pw[user as string]);
    }
    for (let i = 14; i < 20; i++) {
      const d = await lookup(`${B}?ns=race-${i}.test`, cfg);
      expect(d.found).toBe(true);
      expect(d.username).toBe(i % 2 === 0 ? 'alice' : 'ci');
    }
    // the last logouts leave no secret anywhere
    if (shared.found) expect((await run(['logout', same, '--config', cfg])).code).toBe(0);
    for (let i = 14; i < 20; i++) expect((await run(['logout', `${B}?ns=race-${i}.test`, '--config', cfg])).code).toBe(0);
    expect(keychainItems('race-')).toBe(0);
    const store = JSON.parse(readFileSync(`${cfg}/mirrorauth/namespaced-auths.json`, 'utf8')) as { auths: Record<string, unknown> };
    expect(Object.keys(store.auths)).toEqual([]);
  });

  it('a re-login in another backend removes the old secret, and logout leaves none in the keychain or the helper', async () => {
    const cfg = tempDir();
    writeFileSync(`${cfg}/config.json`, JSON.stringify({ credsStore: 'secretservice' }));
    const key = `${B}?ns=moving.test`;
    const helperItems = () =>
      Object.keys(
        JSON.parse(execFileSync('docker-credential-secretservice', ['list'], { env: { ...process.env, ...E }, encoding: 'utf8' })) as Record<string, string>,
      ).filter((k) => k.endsWith('.mirrorauth.invalid'));
    const before = helperItems().length;
    expect((await run(['login', key, '-u', 'alice', '--password-stdin', '--store', 'keychain', '--config', cfg], { input: 'alice-pw' })).code).toBe(0);
    expect(keychainItems('moving.test')).toBe(1);
    expect((await run(['login', key, '-u', 'ci', '--password-stdin', '--store', 'helper', '--config', cfg], { input: 'ci-pw' })).code).toBe(0);
    expect(keychainItems('moving.test')).toBe(0); // the keychain copy went with the move
    expect(helperItems().length).toBe(before + 1);
    expect((await lookup(key, cfg)).username).toBe('ci');
    expect((await run(['logout', key, '--config', cfg])).code).toBe(0);
    expect(helperItems().length).toBe(before);
    expect(keychainItems('moving.test')).toBe(0);
  });
});
