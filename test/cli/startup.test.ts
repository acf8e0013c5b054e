/**
 * The start-up path as installed: the sh launchers (NODE_EXTRA_CA_CERTS moved aside, restored for children)
 * and the V8 code cache (written once, used, rewritten when rejected, harmless when unwritable).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { repo, tempDir } from '../helpers/bin.js';

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
    expect(files[0]).toMatch(/^cli\.cjs-[0-9a-f]{16}-v\d+\.\d+\.\d+-\w+\.bin$/);
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
