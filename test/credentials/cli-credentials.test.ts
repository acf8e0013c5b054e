/** Credential commands that need no registry: import, list, trust, argument errors. */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bin, repo, runBin, tempDir } from '../helpers/bin.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const noKeychain = { DBUS_SESSION_BUS_ADDRESS: undefined, DOCKER_CONFIG: undefined };

describe('mirrorauth import nerdctl', () => {
  it("copies nerdctl's experimental keys into the namespaced store and leaves config.json as it was", async () => {
    const cfg = tempDir();
    const config = {
      auths: {
        'nerdctl-experimental://https://index.docker.io/v1//host/mirror.example:443': { auth: b64('hubmirror:pw1') },
        'nerdctl-experimental://reg.local:5000/host/cache.example:5000/v2/proxy': { auth: b64('cache:pw2') },
        'ghcr.io': { auth: b64('gh:pw3') },
      },
    };
    writeFileSync(`${cfg}/config.json`, JSON.stringify(config));
    const before = readFileSync(`${cfg}/config.json`, 'utf8');
    const listed = JSON.parse((await runBin(['list', '--json', '--config', cfg], { env: noKeychain })).stdout);
    expect(listed.nerdctl.map((n: { importsAs: string }) => n.importsAs)).toEqual([
      'mirror.example?ns=docker.io',
      'cache.example:5000/v2/proxy?ns=reg.local:5000',
    ]);
    expect(JSON.stringify(listed)).not.toMatch(/pw[123]/);

    const r = await runBin(['import', 'nerdctl', '--store', 'file', '--config', cfg], { env: noKeychain });
    expect(r.code).toBe(0);
    expect(readFileSync(`${cfg}/config.json`, 'utf8')).toBe(before);
    const store = JSON.parse(readFileSync(`${cfg}/mirrorauth/namespaced-auths.json`, 'utf8'));
    expect(Object.keys(store.auths)).toEqual(['mirror.example?ns=docker.io', 'cache.example:5000/v2/proxy?ns=reg.local:5000']);
    const look = JSON.parse((await runBin(['lookup', 'mirror.example?ns=docker.io', '--json', '--config', cfg], { env: noKeychain })).stdout);
    expect(look).toMatchObject({ found: true, username: 'hubmirror', source: { kind: 'namespaced' } });
    // a ?ns= entry reaches only the serve proxy: podman/skopeo/docker and nerdctl ask for the bare host
    const reach = Object.fromEntries((look.receivers as Array<{ client: string; receives: boolean }>).map((x) => [x.client, x.receives]));
    expect(reach).toEqual({ serve: true, containerd: false, nerdctl: false, helper: false, bazel: false });
    const human = await runBin(['lookup', 'mirror.example?ns=docker.io', '--config', cfg], { env: { ...noKeychain, NO_COLOR: '1' } });
    expect(human.stdout).toMatch(/no  podman, skopeo, buildah, docker \(docker-credential-mirrorauth\) — they ask for "mirror.example" only/);
  });
});

describe('mirrorauth trust', () => {
  it('lets a mirror receive its upstream credentials only once marked trusted', async () => {
    const cfg = tempDir();
    writeFileSync(`${cfg}/config.json`, JSON.stringify({ auths: { 'ghcr.io': { auth: b64('gh:pw') } } }));
    const ask = async () => JSON.parse((await runBin(['lookup', 'mirror.corp?ns=ghcr.io', '--json', '--config', cfg], { env: noKeychain })).stdout);
    expect((await ask()).found).toBe(false);
    expect((await runBin(['trust', 'mirror.corp?ns=ghcr.io', '--config', cfg], { env: noKeychain })).code).toBe(0);
    expect(await ask()).toMatchObject({ found: true, source: { kind: 'trusted-upstream', upstream: 'ghcr.io' } });
    await runBin(['trust', 'mirror.corp?ns=ghcr.io', '--remove', '--config', cfg], { env: noKeychain });
    expect((await ask()).found).toBe(false);
  });
});

describe('mirrorauth login argument handling', () => {
  it.each([
    [['login', 'r.example.com', '-u', 'alice'], '', 2, /interactive login from a non-TTY device/],
    [['login', 'r.example.com', '--password-stdin'], 'pw', 2, /requires --username/],
    [['login', 'r.example.com', '-u', 'a', '-p', 'x', '--password-stdin'], 'pw', 2, /cannot specify both/],
    [['login', 'r.example.com', '-u', 'a:b', '--password-stdin'], 'pw', 2, /cannot contain colons/],
    [['login', 'http://r.example.com', '-u', 'a', '--password-stdin'], 'pw', 2, /plain http/],
    [['login', 'mirror?ns=a', '--registry-namespace', 'b', '-u', 'a', '--password-stdin'], 'pw', 2, /give the namespace once/],
    [['login', 'mirror?ns=', '-u', 'a', '--password-stdin'], 'pw', 2, /\?ns=REGISTRY/],
    [['logout', 'mirror.corp?ns=docker.io'], '', 1, /not logged in/],
    [['login', 'ghcr.io', '--store', 'file', '-u', 'a', '--password-stdin'], 'pw', 2, /--store applies to namespaced logins only/],
  ])('%j', async (args, input, code, message) => {
    const r = await runBin([...args, '--config', tempDir()], { input, env: noKeychain });
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
  });

  it('-p warns that the password is visible', async () => {
    const r = await runBin(['login', '127.0.0.1:1', '-u', 'a', '-p', 'secret-on-cli', '--config', tempDir()], { env: noKeychain });
    expect(r.stderr).toContain('Using --password via the CLI is insecure');
    expect(r.stderr).not.toContain('secret-on-cli');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach/);
  });
});

/** loginOnPty runs `mirrorauth login` on a pseudo-terminal, answering "alice" and then `password`. */
const loginOnPty = (password: string) =>
  spawnSync(
    'python3',
    [
      path.join(repo, 'test/fixtures/pty-run.py'),
      'alice',
      password,
      '--',
      'env',
      'NO_COLOR=1',
      'DBUS_SESSION_BUS_ADDRESS=',
      process.execPath,
      bin,
      'login',
      '127.0.0.1:15998',
      '--config',
      tempDir(),
    ],
    { encoding: 'utf8' },
  );

describe('mirrorauth login on a terminal', () => {
  it('Ctrl-C at the hidden password prompt ends quietly with 130, no stack trace', () => {
    const r = loginOnPty('\u0003');
    expect(r.stdout).toContain('Password:');
    expect(r.stdout).not.toMatch(/internal error|    at /);
    expect(r.status).toBe(130);
  });

  it('prompts for user and password on a TTY and never echoes the password', () => {
    const r = loginOnPty('typed-secret-417');
    expect(r.stdout).toContain('Username: alice');
    expect(r.stdout).toContain('Password: ');
    expect(r.stdout).not.toContain('typed-secret-417');
    // it went on to verify against the (absent) registry: the typed password was read
    expect(r.stdout).toMatch(/cannot reach/);
    expect(r.status).toBe(1);
  });
});
