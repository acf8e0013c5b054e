/**
 * The helpers with real clients and registries: skopeo calling
 * docker-credential-mirrorauth through credHelpers, skopeo pulling through a
 * registries.conf mirror, and the Bazel protocol against the Bearer registry.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { RACY_MS } from '../../src/protocols/bazel-memo.js';
import { repo, runBin, tempDir } from '../helpers/bin.js';

const h = inject('harness');
const E = h.env as Record<string, string> & {
  HARNESS_BASIC: string;
  HARNESS_MIRROR: string;
  HARNESS_UPSTREAM: string;
  HARNESS_DIR: string;
  HARNESS_TOKEN_LOG: string;
  HARNESS_IMAGE_DIGEST: string;
};

/** A PATH directory where docker-credential-mirrorauth is a logging wrapper around the built helper. */
function helperPath(): { dir: string; log: string } {
  const dir = tempDir();
  const log = `${dir}/calls.log`;
  writeFileSync(
    `${dir}/docker-credential-mirrorauth`,
    `#!/bin/sh\ninput=$(cat)\nprintf '%s %s\\n' "$1" "$input" >>"${log}"\nprintf '%s' "$input" | exec "${process.execPath}" "${repo}/dist/docker-credential-mirrorauth.cjs" "$@"\n`,
    { mode: 0o755 },
  );
  return { dir, log };
}

function skopeo(args: string[], env: Record<string, string>) {
  return spawnSync('skopeo', args, { env: { ...process.env, ...E, ...env }, encoding: 'utf8', timeout: 60_000 });
}

describe.skipIf(!h.available)('skopeo with docker-credential-mirrorauth', () => {
  it('inspects and copies from a Basic registry with a credential stored by mirrorauth login', async () => {
    const cfg = tempDir();
    writeFileSync(`${cfg}/config.json`, JSON.stringify({ credHelpers: { [E.HARNESS_BASIC]: 'mirrorauth' } }));
    const login = await runBin(['login', E.HARNESS_BASIC, '-u', 'alice', '--password-stdin', '--config', cfg], { input: 'alice-pw', env: E });
    expect(login.code).toBe(0);
    expect(login.stderr).toContain("mirrorauth's store");
    const { dir, log } = helperPath();
    const env = { PATH: `${dir}:${process.env.PATH}`, DOCKER_CONFIG: cfg };
    const inspect = skopeo(['inspect', '--tls-verify=false', '--authfile', `${cfg}/config.json`, `docker://${E.HARNESS_BASIC}/test/hello:v1`], env);
    expect(inspect.stderr).toBe('');
    expect(JSON.parse(inspect.stdout).Digest).toBe(E.HARNESS_IMAGE_DIGEST);
    const out = tempDir();
    const copy = skopeo(
      ['copy', '-q', '--src-tls-verify=false', '--authfile', `${cfg}/config.json`, `docker://${E.HARNESS_BASIC}/test/hello:v1`, `oci:${out}/img:v1`],
      env,
    );
    expect(copy.status).toBe(0);
    expect(JSON.parse(readFileSync(`${out}/img/index.json`, 'utf8')).manifests[0].digest).toBe(E.HARNESS_IMAGE_DIGEST);
    expect(readFileSync(log, 'utf8')).toContain(`get ${E.HARNESS_BASIC}`);
    // without the helper's answer the registry refuses: the credential really came from mirrorauth
    const anon = skopeo(['inspect', '--tls-verify=false', '--authfile', `${tempDir()}/none.json`, `docker://${E.HARNESS_BASIC}/test/hello:v1`], {
      DOCKER_CONFIG: tempDir(),
      HOME: tempDir(),
    });
    expect(anon.status).not.toBe(0);
  });

  it("a registries.conf mirror: the helper is asked for the mirror's host and answers the mirror's credential", async () => {
    const cfg = tempDir();
    writeFileSync(`${cfg}/config.json`, JSON.stringify({ credHelpers: { [E.HARNESS_MIRROR]: 'mirrorauth', [E.HARNESS_UPSTREAM]: 'mirrorauth' } }));
    // the upstream's own credential, stored for the upstream host only
    expect((await runBin(['login', E.HARNESS_UPSTREAM, '-u', 'alice', '--password-stdin', '--config', cfg], { input: 'alice-pw', env: E })).code).toBe(0);
    // the mirror's users, for every upstream it serves
    expect(
      (await runBin(['login', `${E.HARNESS_MIRROR}?ns=*`, '-u', 'mirror-user', '--password-stdin', '--config', cfg], { input: 'mirror-pw', env: E })).code,
    ).toBe(0);
    const conf = `${tempDir()}/registries.conf`;
    writeFileSync(
      conf,
      `[[registry]]\nlocation = "${E.HARNESS_UPSTREAM}"\ninsecure = true\n[[registry.mirror]]\nlocation = "${E.HARNESS_MIRROR}"\ninsecure = true\n`,
    );
    const { dir, log } = helperPath();
    const mirrorLog = `${E.HARNESS_DIR}/log/mirror.log`;
    const before = readFileSync(mirrorLog, 'utf8').length;
    // mirrors apply to pulls (copy), not to inspect
    const r = skopeo(
      ['--registries-conf', conf, 'copy', '-q', '--authfile', `${cfg}/config.json`, `docker://${E.HARNESS_UPSTREAM}/test/hello:v1`, `oci:${tempDir()}/img:v1`],
      {
        PATH: `${dir}:${process.env.PATH}`,
        DOCKER_CONFIG: cfg,
      },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(log, 'utf8').split('\n')[0]).toBe(`get ${E.HARNESS_MIRROR}`);
    const answer = execFileSync(process.execPath, [`${repo}/dist/docker-credential-mirrorauth.cjs`, 'get'], {
      input: E.HARNESS_MIRROR,
      env: { ...process.env, ...E, DOCKER_CONFIG: cfg },
      encoding: 'utf8',
    });
    expect(JSON.parse(answer)).toMatchObject({ Username: 'mirror-user', Secret: 'mirror-pw' });
    // the mirror served it: its log shows the authenticated manifest request
    // the mirror (which only accepts its own users) served the manifest
    expect(readFileSync(mirrorLog, 'utf8').slice(before)).toMatch(/uri=\/v2\/test\/hello\/manifests\/v1 .*http\.response\.status=200/);
  });
});

describe.skipIf(!h.available)('the Bazel protocol against the Bearer registry', () => {
  const bazel = (input: string, env: Record<string, string>) =>
    spawnSync(process.execPath, [`${repo}/dist/mirrorauth.cjs`, 'bazel', 'get'], { input, env: { ...process.env, ...E, ...env }, encoding: 'utf8' });
  const exchanges = () =>
    readFileSync(E.HARNESS_TOKEN_LOG, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"path":"/token"') && !l.includes('"auth":null,"body":""')).length;

  it('exchanges once, serves the second call from cache, refreshes an expired entry, and formats expires for Bazel', async () => {
    const cfg = tempDir();
    const cache = tempDir();
    expect((await runBin(['login', E.HARNESS_UPSTREAM, '-u', 'alice', '--password-stdin', '--config', cfg], { input: 'alice-pw', env: E })).code).toBe(0);
    // the harness registry speaks plain http: the user marks it insecure, or no secret goes to its realm
    const env = { DOCKER_CONFIG: cfg, XDG_CACHE_HOME: cache, MIRRORAUTH_BAZEL_INSECURE_HOSTS: E.HARNESS_UPSTREAM };
    const uri = JSON.stringify({ uri: `http://${E.HARNESS_UPSTREAM}/v2/test/hello/manifests/v1` });

    const before = exchanges();
    const first = bazel(uri, env);
    expect(first.status).toBe(0);
    const reply = JSON.parse(first.stdout) as { headers: { Authorization: string[] }; expires: string };
    expect(reply.headers.Authorization[0]).toMatch(/^Bearer ey/);
    expect(reply.expires).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    const ttl = Date.parse(reply.expires) - Date.now();
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThan(300_000 - 30_000);
    expect(exchanges()).toBe(before + 1);
    // the token really works against the registry
    const res = await fetch(`http://${E.HARNESS_UPSTREAM}/v2/test/hello/manifests/v1`, {
      method: 'HEAD',
      headers: { authorization: reply.headers.Authorization[0] as string, accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(res.status).toBe(200);

    const cacheFile = `${cache}/mirrorauth/tokens.json`;
    const second = bazel(JSON.stringify({ uri: `http://${E.HARNESS_UPSTREAM}/v2/test/hello/blobs/sha256:${'0'.repeat(64)}` }), env);
    expect(second.stdout).toBe(first.stdout);
    expect(exchanges()).toBe(before + 1);
    expect(readFileSync(cacheFile, 'utf8')).not.toContain('alice-pw');

    const doc = JSON.parse(readFileSync(cacheFile, 'utf8')) as { tokens: Record<string, { expiresAt: number }> };
    for (const t of Object.values(doc.tokens)) t.expiresAt = Date.now() + 10_000;
    writeFileSync(cacheFile, JSON.stringify(doc));
    const third = bazel(uri, env);
    expect(third.status).toBe(0);
    expect(exchanges()).toBe(before + 2);
    expect(third.stdout).not.toBe(first.stdout);

    writeFileSync(cacheFile, '{corrupt');
    const fourth = bazel(uri, env);
    expect(fourth.status).toBe(0);
    expect(JSON.parse(fourth.stdout).headers.Authorization[0]).toMatch(/^Bearer /);
  });

  it('answers later requests for a repository from the record, without the bundle, until something the decision read changes', async () => {
    const cfg = tempDir();
    const cache = tempDir();
    expect((await runBin(['login', E.HARNESS_UPSTREAM, '-u', 'alice', '--password-stdin', '--config', cfg], { input: 'alice-pw', env: E })).code).toBe(0);
    // a file changed within RACY_MS is not relied on (a same-size rewrite in one timestamp tick would not show)
    await new Promise((r) => setTimeout(r, RACY_MS + 200));
    const env = { DOCKER_CONFIG: cfg, XDG_CACHE_HOME: cache, MIRRORAUTH_BAZEL_INSECURE_HOSTS: E.HARNESS_UPSTREAM };
    const repoUri = (r: string, rest: string) => JSON.stringify({ uri: `http://${E.HARNESS_UPSTREAM}/v2/${r}/${rest}` });
    const blob = repoUri('test/hello', `blobs/sha256:${'1'.repeat(64)}`);
    const first = bazel(repoUri('test/hello', 'manifests/v1'), env);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/^\{"headers":\{"Authorization":\["Bearer ey/);
    const tokens = readFileSync(`${cache}/mirrorauth/tokens.json`, 'utf8');
    expect(Object.keys((JSON.parse(tokens) as { answers: object }).answers)).toEqual([`http://${E.HARNESS_UPSTREAM}/v2/test/hello`]);
    expect(tokens).not.toContain('alice-pw');

    // an entry whose bundle cannot load: only the shortcut can answer
    const dir = tempDir();
    copyFileSync(`${repo}/dist/mirrorauth.cjs`, `${dir}/mirrorauth.cjs`);
    writeFileSync(`${dir}/fast.cjs`, "throw new Error('the full path ran')");
    const short = (input: string, extra: Record<string, string> = {}) =>
      spawnSync(process.execPath, [`${dir}/mirrorauth.cjs`, 'bazel', 'get'], { input, env: { ...process.env, ...E, ...env, ...extra }, encoding: 'utf8' });
    const hit = short(blob);
    expect(hit.stderr).toBe('');
    expect(hit.status).toBe(0);
    expect(hit.stdout).toBe(first.stdout);

    // what the decision read, changed: the full path runs
    const full = (r: ReturnType<typeof short>) => r.status !== 0 && r.stderr.includes('the full path ran');
    expect(full(short(blob, { MIRRORAUTH_BAZEL_HOSTS: 'example.org' }))).toBe(true);
    expect(full(short(blob, { DOCKER_AUTH_CONFIG: '{"auths":{}}' }))).toBe(true);
    expect(full(short(repoUri('test/other', 'manifests/v1')))).toBe(true);
    expect(full(short(`${blob} `.replace('hello', 'Hello')))).toBe(true);
    expect(full(short(blob))).toBe(false);
    // config.json written again with the same text, as docker writes it (temp file and rename)
    writeFileSync(`${cfg}/config.json.tmp`, readFileSync(`${cfg}/config.json`));
    renameSync(`${cfg}/config.json.tmp`, `${cfg}/config.json`);
    expect(full(short(blob))).toBe(true);
    // the real entry still answers, from the full path
    expect(bazel(blob, env).stdout).toBe(first.stdout);
  });

  it('never records a decision that read the OS keychain', async () => {
    const cfg = tempDir();
    const cache = tempDir();
    // docker-credential-mirrorauth store keeps the secret in the keychain (the harness runs gnome-keyring), and
    // Docker's config.json names mirrorauth as its credsStore, so lookups reach it
    writeFileSync(`${cfg}/config.json`, JSON.stringify({ credsStore: 'mirrorauth' }));
    execFileSync(process.execPath, [`${repo}/dist/docker-credential-mirrorauth.cjs`, 'store'], {
      input: JSON.stringify({ ServerURL: E.HARNESS_UPSTREAM, Username: 'alice', Secret: 'alice-pw' }),
      env: { ...process.env, ...E, DOCKER_CONFIG: cfg },
    });
    const stored = JSON.parse(readFileSync(`${cfg}/mirrorauth/namespaced-auths.json`, 'utf8')) as { auths: Record<string, { backend: string }> };
    expect(stored.auths[E.HARNESS_UPSTREAM]?.backend).toBe('keychain');
    await new Promise((r) => setTimeout(r, RACY_MS + 200));
    const env = { DOCKER_CONFIG: cfg, XDG_CACHE_HOME: cache, MIRRORAUTH_BAZEL_INSECURE_HOSTS: E.HARNESS_UPSTREAM };
    const r = bazel(JSON.stringify({ uri: `http://${E.HARNESS_UPSTREAM}/v2/test/hello/manifests/v1` }), env);
    expect(r.stdout).toMatch(/^\{"headers":\{"Authorization":\["Bearer ey/);
    const doc = JSON.parse(readFileSync(`${cache}/mirrorauth/tokens.json`, 'utf8')) as { tokens: object; answers?: object };
    expect(Object.keys(doc.tokens)).toHaveLength(1);
    expect(doc.answers ?? {}).toEqual({});
  });

  it('never records a decision that ran a credential helper', async () => {
    const cfg = tempDir();
    const cache = tempDir();
    // a helper of another name (credHelpers naming mirrorauth itself would be answered from its store directly)
    const dir = tempDir();
    const log = `${dir}/calls.log`;
    writeFileSync(
      `${dir}/docker-credential-other`,
      `#!/bin/sh\nprintf '%s\\n' "$1" >>"${log}"\nexec "${process.execPath}" "${repo}/dist/docker-credential-mirrorauth.cjs" "$@"\n`,
      { mode: 0o755 },
    );
    writeFileSync(`${cfg}/config.json`, JSON.stringify({ credHelpers: { [E.HARNESS_UPSTREAM]: 'other' } }));
    execFileSync(process.execPath, [`${repo}/dist/docker-credential-mirrorauth.cjs`, 'store'], {
      input: JSON.stringify({ ServerURL: E.HARNESS_UPSTREAM, Username: 'alice', Secret: 'alice-pw' }),
      env: { ...process.env, ...E, DOCKER_CONFIG: cfg },
    });
    await new Promise((r) => setTimeout(r, RACY_MS + 200));
    const env = { DOCKER_CONFIG: cfg, XDG_CACHE_HOME: cache, MIRRORAUTH_BAZEL_INSECURE_HOSTS: E.HARNESS_UPSTREAM, PATH: `${dir}:${process.env.PATH}` };
    const r = bazel(JSON.stringify({ uri: `http://${E.HARNESS_UPSTREAM}/v2/test/hello/manifests/v1` }), env);
    expect(r.stdout).toMatch(/^\{"headers":\{"Authorization":\["Bearer ey/);
    expect(readFileSync(log, 'utf8')).toMatch(/^get$/m);
    const doc = JSON.parse(readFileSync(`${cache}/mirrorauth/tokens.json`, 'utf8')) as { tokens: object; answers?: object };
    expect(Object.keys(doc.tokens)).toHaveLength(1);
    expect(doc.answers ?? {}).toEqual({});
  });

  it('answers a Basic registry with a Basic header and no expiry; an unknown host gets {} without any request', async () => {
    const cfg = tempDir();
    expect((await runBin(['login', E.HARNESS_BASIC, '-u', 'alice', '--password-stdin', '--config', cfg], { input: 'alice-pw', env: E })).code).toBe(0);
    const env = { DOCKER_CONFIG: cfg, XDG_CACHE_HOME: tempDir() };
    const r = bazel(JSON.stringify({ uri: `http://${E.HARNESS_BASIC}/v2/test/hello/manifests/v1` }), env);
    expect(JSON.parse(r.stdout)).toEqual({ headers: { Authorization: [`Basic ${Buffer.from('alice:alice-pw').toString('base64')}`] } });
    const before = readFileSync(`${E.HARNESS_DIR}/log/upstream.log`, 'utf8').length;
    expect(bazel(JSON.stringify({ uri: `http://127.0.0.1:15099/v2/x/manifests/1` }), env).stdout).toBe('{}\n');
    expect(bazel(JSON.stringify({ uri: `http://${E.HARNESS_UPSTREAM}/v2/test/hello/manifests/v1` }), env).stdout).toBe('{}\n');
    expect(readFileSync(`${E.HARNESS_DIR}/log/upstream.log`, 'utf8').length).toBe(before);
  });
});
