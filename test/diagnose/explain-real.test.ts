/**
 * explain against real registries: --probe, and its prediction checked against
 * a real pull through a mirror by skopeo using docker-credential-mirrorauth.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { repo, runBin, tempDir } from '../helpers/bin.js';

const h = inject('harness');
const E = h.env as Record<string, string> & { HARNESS_MIRROR: string; HARNESS_UPSTREAM: string; HARNESS_BASIC: string; HARNESS_DIR: string };
const hostDirName = (hostPort: string) => `${hostPort.slice(0, hostPort.lastIndexOf(':'))}_${hostPort.slice(hostPort.lastIndexOf(':') + 1)}_`;

describe.skipIf(!h.available)('explain with real registries', () => {
  it('--probe reports status, auth scheme and token exchange per host; wrong credentials show as refused', async () => {
    const cfg = tempDir();
    const hosts = tempDir();
    mkdirSync(`${hosts}/${hostDirName(E.HARNESS_UPSTREAM)}`);
    writeFileSync(`${hosts}/${hostDirName(E.HARNESS_UPSTREAM)}/hosts.toml`, `[host."http://${E.HARNESS_MIRROR}"]\n  capabilities = ["pull", "resolve"]\n`);
    expect((await runBin(['login', E.HARNESS_UPSTREAM, '-u', 'alice', '--password-stdin', '--config', cfg], { input: 'alice-pw', env: E })).code).toBe(0);
    expect(
      (
        await runBin(
          ['login', `${E.HARNESS_MIRROR}?ns=${E.HARNESS_UPSTREAM}`, '-u', 'mirror-user', '--password-stdin', '--config', cfg, '--hosts-dir', hosts],
          { input: 'mirror-pw', env: E },
        )
      ).code,
    ).toBe(0);
    const r = await runBin(['explain', `${E.HARNESS_UPSTREAM}/test/hello:v1`, '--probe', '--json', '--hosts-dir', hosts, '--config', cfg], { env: E });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.hosts[0]).toMatchObject({
      credential: { username: 'mirror-user', source: { kind: 'namespaced' } },
      probe: { status: 200, scheme: 'basic', outcome: 'ok' },
    });
    expect(j.hosts[0].probe.url).toContain(`?ns=${E.HARNESS_UPSTREAM.replace(':', '%3A')}`);
    expect(j.hosts[1]).toMatchObject({ credential: { username: 'alice' }, probe: { status: 200, scheme: 'bearer', tokenExchange: 'ok', outcome: 'ok' } });
    expect(r.stdout).not.toMatch(/alice-pw|mirror-pw/);

    // a wrong mirror password: the probe says refused
    const bad = tempDir();
    mkdirSync(`${bad}/mirrorauth`, { recursive: true });
    writeFileSync(
      `${bad}/mirrorauth/namespaced-auths.json`,
      JSON.stringify({
        version: 1,
        auths: {
          [`${E.HARNESS_MIRROR}?ns=${E.HARNESS_UPSTREAM}`]: {
            username: 'mirror-user',
            backend: 'file',
            kind: 'password',
            auth: Buffer.from('mirror-user:wrong').toString('base64'),
          },
        },
      }),
    );
    const rb = JSON.parse(
      (await runBin(['explain', `${E.HARNESS_UPSTREAM}/test/hello:v1`, '--probe', '--json', '--hosts-dir', hosts, '--config', bad], { env: E })).stdout,
    );
    expect(rb.hosts[0].probe).toMatchObject({ status: 401, outcome: 'refused' });
  });

  it("a real pull through the mirror uses exactly the credential explain predicted for the mirror's host", async () => {
    const cfg = tempDir();
    const hosts = tempDir();
    mkdirSync(`${hosts}/${hostDirName(E.HARNESS_UPSTREAM)}`);
    writeFileSync(`${hosts}/${hostDirName(E.HARNESS_UPSTREAM)}/hosts.toml`, `[host."http://${E.HARNESS_MIRROR}"]\n  capabilities = ["pull", "resolve"]\n`);
    writeFileSync(`${cfg}/config.json`, JSON.stringify({ credHelpers: { [E.HARNESS_MIRROR]: 'mirrorauth', [E.HARNESS_UPSTREAM]: 'mirrorauth' } }));
    expect((await runBin(['login', E.HARNESS_UPSTREAM, '-u', 'alice', '--password-stdin', '--config', cfg], { input: 'alice-pw', env: E })).code).toBe(0);
    expect(
      (await runBin(['login', `${E.HARNESS_MIRROR}?ns=*`, '-u', 'mirror-user', '--password-stdin', '--config', cfg], { input: 'mirror-pw', env: E })).code,
    ).toBe(0);

    const predicted = JSON.parse(
      (await runBin(['explain', `${E.HARNESS_UPSTREAM}/test/hello:v1`, '--json', '--hosts-dir', hosts, '--config', cfg], { env: E })).stdout,
    );
    const mirror = predicted.hosts[0];
    expect(mirror.credentialHost).toBe(E.HARNESS_MIRROR);

    // the helper wrapper records what it answered (user name and secret length, never the secret)
    const bin = tempDir();
    const log = `${bin}/answers.log`;
    writeFileSync(
      `${bin}/docker-credential-mirrorauth`,
      `#!/bin/sh\ninput=$(cat)\nout=$(printf '%s' "$input" | "${process.execPath}" "${repo}/dist/docker-credential-mirrorauth.cjs" "$@")\nrc=$?\nprintf '%s' "$out" | "${process.execPath}" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const j=JSON.parse(s);require("fs").appendFileSync(process.argv[1],process.argv[2]+" "+j.Username+" "+j.Secret.length+"\\n")}catch{}})' "${log}" "$input"\nprintf '%s' "$out"\nexit $rc\n`,
      { mode: 0o755 },
    );
    const conf = `${tempDir()}/registries.conf`;
    writeFileSync(
      conf,
      `[[registry]]\nlocation = "${E.HARNESS_UPSTREAM}"\ninsecure = true\n[[registry.mirror]]\nlocation = "${E.HARNESS_MIRROR}"\ninsecure = true\n`,
    );
    const before = readFileSync(`${E.HARNESS_DIR}/log/mirror.log`, 'utf8').length;
    const pull = spawnSync(
      'skopeo',
      ['--registries-conf', conf, 'copy', '-q', '--authfile', `${cfg}/config.json`, `docker://${E.HARNESS_UPSTREAM}/test/hello:v1`, `oci:${tempDir()}/img:v1`],
      {
        env: { ...process.env, ...E, PATH: `${bin}:${process.env.PATH}`, DOCKER_CONFIG: cfg },
        encoding: 'utf8',
      },
    );
    expect(pull.status).toBe(0);
    const answers = readFileSync(log, 'utf8').trim().split('\n');
    const secretLength = Number(/\((\d+) chars\)/.exec(mirror.credential.secret)?.[1]);
    expect(answers[0]).toBe(`${E.HARNESS_MIRROR} ${mirror.credential.username} ${secretLength}`);
    expect(mirror.credential).toMatchObject({ found: true, username: 'mirror-user', source: { kind: 'namespaced', key: `${E.HARNESS_MIRROR}?ns=*` } });
    expect(readFileSync(`${E.HARNESS_DIR}/log/mirror.log`, 'utf8').slice(before)).toMatch(/uri=\/v2\/test\/hello\/manifests\/v1 .*http\.response\.status=200/);
  });
});
