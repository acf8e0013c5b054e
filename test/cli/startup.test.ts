/**
 * The start-up path as installed: the sh launchers (NODE_EXTRA_CA_CERTS moved aside, restored for children)
 * and the V8 code cache (written once, used, rewritten when rejected, harmless when unwritable).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { esmBin, repo, tempDir } from '../helpers/bin.js';

const launcher = `${repo}/dist/bin/mirrorauth`;
const run = (env: Record<string, string>, args = ['hosts', 'alpine:3.19', '--hosts-dir', `${repo}/examples/certs.d`, '--containerd', '2.3.4', '--json']) =>
  spawnSync(launcher, args, { env: { ...process.env, ...env }, encoding: 'utf8' });

describe('the V8 code cache', () => {
  it('is written once per bundle, then used; a corrupt one is replaced; an unwritable cache dir only costs speed', () => {
    const cache = tempDir();
    const first = run({ XDG_CACHE_HOME: cache });
    expect(first.status, first.stderr).toBe(0);
    const files = readdirSync(`${cache}/mirrorauth/v8`);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^cli\.cjs-hosts-[0-9a-f]{16}-v\d+\.\d+\.\d+-\w+\.bin$/);
    // one cache per command (each holds the functions its command compiled); an old build's is pruned
    const old = (files[0] as string).replace(/-[0-9a-f]{16}-/, '-0000000000000000-');
    writeFileSync(`${cache}/mirrorauth/v8/${old}`, 'an earlier build');
    const explain = run({ XDG_CACHE_HOME: cache }, ['explain', 'alpine:3.19', '--hosts-dir', `${repo}/examples/certs.d`, '--config', tempDir()]);
    expect(explain.status, explain.stderr).toBe(0);
    const after = readdirSync(`${cache}/mirrorauth/v8`).sort();
    expect(after).toHaveLength(2);
    expect(after[0]).toMatch(/^cli\.cjs-explain-[0-9a-f]{16}-/);
    expect(after[1]).toBe(files[0]);
    expect(after).not.toContain(old);
    writeFileSync(`${cache}/mirrorauth/v8/${files[0]}`, 'not a code cache');
    const corrupt = run({ XDG_CACHE_HOME: cache });
    expect(corrupt.status, corrupt.stderr).toBe(0);
    expect(corrupt.stdout).toBe(first.stdout);
    const blocked = tempDir();
    writeFileSync(`${blocked}/mirrorauth`, 'a file where the cache directory would go');
    const unwritable = run({ XDG_CACHE_HOME: blocked });
    expect(unwritable.status, unwritable.stderr).toBe(0);
    expect(unwritable.stdout).toBe(first.stdout);
  });
});

describe('the launchers', () => {
  it('keep NODE_EXTRA_CA_CERTS for the children a command starts, and work through a symlink', () => {
    const link = `${tempDir()}/mirrorauth`;
    spawnSync('ln', ['-s', launcher, link]);
    const r = spawnSync(link, ['exec', '--registry', 'r.example', '--config', tempDir(), '--', 'sh', '-c', 'printf %s "$NODE_EXTRA_CA_CERTS"'], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt' },
      encoding: 'utf8',
    });
    expect(r.stdout).toBe('/etc/ssl/certs/ca-certificates.crt');
  });
});

/**
 * What a start-up loads, read from the process itself (process.moduleLoadList, written at exit by a --require
 * preload): the per-request helper and the everyday commands load no builtin they do not use, and a login to a
 * plain-http loopback registry loads neither fetch's undici (60–100 ms to load, and its WebAssembly parser kept
 * the process from exiting for another 100–150 ms) nor TLS (asked with a ClientHello first, see speaksTls).
 */
describe('what a start-up loads', () => {
  const loaded = async (
    cmd: string,
    args: string[],
    env: Record<string, string>,
    input = '',
  ): Promise<{ code: number | null; modules: string[]; stderr: string }> => {
    const dir = tempDir();
    writeFileSync(
      `${dir}/preload.cjs`,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(`${dir}/loaded.json`)}, JSON.stringify(process.moduleLoadList)));\n`,
    );
    const child = spawn(cmd, args, {
      env: { ...process.env, NO_COLOR: '1', ...env, NODE_OPTIONS: `--require ${dir}/preload.cjs` },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    child.stdin.end(input);
    const code = await new Promise<number | null>((r) => child.on('close', r));
    const modules = (JSON.parse(readFileSync(`${dir}/loaded.json`, 'utf8')) as string[]).map((m) => m.replace(/^NativeModule /, ''));
    return { code, modules, stderr };
  };
  const heavy = (modules: string[], names: string[]) => names.filter((n) => modules.includes(n));

  it('docker-credential-mirrorauth get from config.json: no crypto, tty, net, child_process, perf_hooks, fs/promises, http, os or module', async () => {
    const cfg = tempDir();
    writeFileSync(`${cfg}/config.json`, JSON.stringify({ auths: { 'reg.example': { auth: Buffer.from('u:p').toString('base64') } } }));
    const r = await loaded(`${repo}/dist/bin/docker-credential-mirrorauth`, ['get'], { DOCKER_CONFIG: cfg, XDG_CACHE_HOME: tempDir() }, 'reg.example');
    expect(r.code, r.stderr).toBe(0);
    expect(heavy(r.modules, ['crypto', 'tty', 'net', 'child_process', 'perf_hooks', 'internal/fs/promises', 'http', 'https', 'tls', 'os', 'module'])).toEqual(
      [],
    );
  });

  it('hosts and explain on the example: no crypto, tty, net or child_process', async () => {
    for (const args of [
      ['hosts', 'alpine:3.19', '--hosts-dir', `${repo}/examples/certs.d`],
      ['explain', 'alpine:3.19', '--hosts-dir', `${repo}/examples/certs.d`, '--config', `${repo}/examples/docker`],
    ]) {
      const r = await loaded(launcher, args, { XDG_CACHE_HOME: tempDir() });
      expect(r.code, r.stderr).toBe(0);
      expect(heavy(r.modules, ['crypto', 'tty', 'net', 'child_process', 'internal/fs/promises']), args[0]).toEqual([]);
    }
  });

  it('login to a plain-http loopback registry: no undici, no TLS, and the login works', async () => {
    const { createServer } = await import('node:http');
    const good = `Basic ${Buffer.from('alice:alice-pw').toString('base64')}`;
    const server = createServer((req, res) => {
      if (req.headers.authorization === good) return res.writeHead(200).end('{}');
      res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const cfg = tempDir();
      const r = await loaded(launcher, ['login', host, '-u', 'alice', '--password-stdin', '--config', cfg], { XDG_CACHE_HOME: tempDir() }, 'alice-pw');
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(readFileSync(`${cfg}/config.json`, 'utf8')).auths[host].auth).toBe(Buffer.from('alice:alice-pw').toString('base64'));
      expect(heavy(r.modules, ['internal/deps/undici/undici', 'tls', '_tls_wrap', 'https', 'crypto'])).toEqual([]);
    } finally {
      server.close();
    }
  });
});

describe('the bundle and the unbundled ESM entry', () => {
  it('answer alike: hosts, explain, doctor and lookup on the example, human and JSON, and a usage error', () => {
    const ex = `${repo}/examples`;
    const cases = [
      ['hosts', 'alpine:3.19', '--hosts-dir', `${ex}/certs.d`, '--containerd', '2.3.4'],
      ['hosts', 'alpine:3.19', '--hosts-dir', `${ex}/certs.d`, '--containerd', '1.6.20', '--json'],
      ['explain', 'alpine:3.19', '--hosts-dir', `${ex}/certs.d`, '--config', `${ex}/docker`, '--containerd', '2.3.4'],
      ['doctor', '--hosts-dir', `${ex}/certs.d`, '--config', `${ex}/docker`, '--containerd', '2.3.4', '--json'],
      ['lookup', 'harbor.corp.example/v2/dockerhub-proxy?ns=docker.io', '--config', `${ex}/docker`],
      ['hosts', '--no-such-option'],
    ];
    for (const args of cases) {
      const env = { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: tempDir() };
      const a = spawnSync(process.execPath, [`${repo}/dist/mirrorauth.cjs`, ...args], { env, encoding: 'utf8' });
      const b = spawnSync(process.execPath, [esmBin, ...args], { env, encoding: 'utf8' });
      const timeless = (s: string) => s.replace(/"durationMs": \d+/g, '"durationMs": 0');
      expect({ status: a.status, stdout: timeless(a.stdout), stderr: a.stderr }, args.join(' ')).toEqual({
        status: b.status,
        stdout: timeless(b.stdout),
        stderr: b.stderr,
      });
    }
  });
});
