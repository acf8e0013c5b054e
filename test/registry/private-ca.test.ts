/**
 * A registry behind a private CA, as on corporate networks: a real
 * distribution registry serving TLS on loopback with a certificate from a CA
 * made for the test. login must fail with a message that names the
 * certificate and the fix, then succeed with the CA in the host's certs.d
 * directory, with --ca-file, and with SSL_CERT_FILE.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { repo, runBin, tempDir } from '../helpers/bin.js';
import { testCa } from '../helpers/tls.js';

const h = inject('harness');
const E = h.env as Record<string, string> & { HARNESS_DIR: string };
const PORT = 15060;
const HOST = `127.0.0.1:${PORT}`;

describe.skipIf(!h.available)('a registry behind a private CA', () => {
  let dir: string;
  let registry: ChildProcess;

  beforeAll(async () => {
    dir = tempDir('mirrorauth-ca-');
    const certs = testCa(dir, { server: 'registry.private.test' });
    mkdirSync(`${dir}/data`);
    writeFileSync(
      `${dir}/config.yml`,
      `version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: ${dir}/data}}\nhttp: {addr: "${HOST}", secret: ca-test, tls: {certificate: ${certs.certFile}, key: ${certs.keyFile}}}\nauth: {htpasswd: {realm: private, path: ${E.HARNESS_DIR}/basic.htpasswd}}\n`,
    );
    registry = spawn('docker-registry', ['serve', `${dir}/config.yml`], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      const up = await fetch(`https://${HOST}/v2/`).then(
        () => true,
        (e: { cause?: { code?: string } }) => e.cause?.code !== 'ECONNREFUSED',
      );
      if (up) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 60_000);

  afterAll(() => {
    registry?.kill();
  });

  const login = (args: string[], env: Record<string, string | undefined> = {}) =>
    runBin(['login', HOST, '-u', 'alice', '--password-stdin', '--config', tempDir(), ...args], { input: 'alice-pw', env: { ...E, ...env } });

  it('an untrusted certificate: exit 1, the certificate and the fix named, no plain-http hint', async () => {
    const r = await login(['--hosts-dir', tempDir()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the TLS certificate of ${HOST} (certificate CN=registry.private.test, issued by CN=mirrorauth test CA) is not trusted`);
    expect(r.stderr).toContain('--ca-file');
    expect(r.stderr).toContain(`/etc/containerd/certs.d/${HOST}/ca.crt`);
    expect(r.stderr).not.toMatch(/plain-http|--insecure/);
  });

  it("trusts the CA in the host's certs.d directory (ca.crt), as docker and containerd do", async () => {
    const root = tempDir();
    mkdirSync(`${root}/${HOST}`);
    execFileSync('cp', [`${dir}/ca.pem`, `${root}/${HOST}/ca.crt`]);
    const r = await login(['--hosts-dir', root]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('Login Succeeded\n');
  });

  it('trusts --ca-file', async () => {
    const r = await login(['--hosts-dir', tempDir(), '--ca-file', `${dir}/ca.pem`]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('trusts SSL_CERT_FILE (the system store, replaced)', async () => {
    const r = await login(['--hosts-dir', tempDir()], { SSL_CERT_FILE: `${dir}/ca.pem` });
    expect(r.code, r.stderr).toBe(0);
  });

  it('through the installed launcher, NODE_EXTRA_CA_CERTS is still trusted and children still see it', async () => {
    const launcher = `${repo}/dist/bin/mirrorauth`;
    const env = { ...process.env, ...E, NODE_EXTRA_CA_CERTS: `${dir}/ca.pem`, NO_COLOR: '1' };
    const r = spawnSync(launcher, ['login', HOST, '-u', 'alice', '--password-stdin', '--config', tempDir(), '--hosts-dir', tempDir()], {
      input: 'alice-pw',
      env,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const child = spawnSync(launcher, ['exec', '--registry', HOST, '--config', tempDir(), '--', 'sh', '-c', 'printf %s "$NODE_EXTRA_CA_CERTS"'], {
      env,
      encoding: 'utf8',
    });
    expect(child.stdout).toBe(`${dir}/ca.pem`);
  });

  it('a --ca-file that holds no certificate is a usage error naming the file', async () => {
    writeFileSync(`${dir}/empty.pem`, 'not a certificate\n');
    const r = await login(['--ca-file', `${dir}/empty.pem`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--ca-file ${dir}/empty.pem holds no PEM certificate`);
  });
});
