/** docker-credential-mirrorauth, byte for byte, through the built CommonJS launcher. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repo, tempDir } from '../helpers/bin.js';

interface Case {
  name: string;
  args: string[];
  stdin: string;
  config?: unknown;
  stdout?: string;
  stdoutMatch?: string;
  code: number;
}
const pkgVersion = (JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version;
const golden = JSON.parse(readFileSync(path.join(repo, 'testdata/protocols/docker-helper.json'), 'utf8')) as { store: unknown; cases: Case[] };
const helper = path.join(repo, 'dist/docker-credential-mirrorauth.cjs');

function seed(config?: unknown): string {
  const dir = tempDir();
  mkdirSync(`${dir}/mirrorauth`, { recursive: true });
  writeFileSync(`${dir}/mirrorauth/namespaced-auths.json`, JSON.stringify(golden.store));
  if (config !== undefined) writeFileSync(`${dir}/config.json`, JSON.stringify(config));
  return dir;
}

function call(dir: string, args: string[], stdin: string) {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'DBUS_SESSION_BUS_ADDRESS') env[k] = v;
  // a PATH where docker-credential-mirrorauth is this helper: any self-call would be visible as a hang or loop
  const bin = tempDir();
  spawnSync('ln', ['-s', helper, `${bin}/docker-credential-mirrorauth`]);
  const r = spawnSync(process.execPath, [helper, ...args], {
    input: stdin,
    env: { ...env, DOCKER_CONFIG: dir, PATH: `${bin}:${env.PATH}` },
    encoding: 'utf8',
    timeout: 10_000,
  });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status };
}

describe('docker-credential-mirrorauth protocol goldens', () => {
  it.each(golden.cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const r = call(seed(c.config), c.args, c.stdin);
    // the version in the goldens is package.json's, whatever release this is
    if (c.stdout !== undefined) expect(r.stdout).toBe(c.stdout.replace('{VERSION}', pkgVersion));
    if (c.stdoutMatch !== undefined) expect(r.stdout).toMatch(new RegExp(c.stdoutMatch));
    expect(r.code).toBe(c.code);
    // stdout is the Go helpers' bytes; --help adds the input/output shapes on stderr, nothing else writes there
    if (c.args[0] === '--help') expect(r.stderr).toMatch(/Example:/);
    else expect(r.stderr).toBe('');
  });

  it('store, get, erase round trip through the same stores as login', () => {
    const dir = seed();
    expect(call(dir, ['store'], JSON.stringify({ ServerURL: 'new.example:5000', Username: 'n', Secret: 'npw' })).code).toBe(0);
    expect(call(dir, ['store'], JSON.stringify({ ServerURL: 'mirror.corp?ns=quay.io', Username: '<token>', Secret: 'rt' })).code).toBe(0);
    const store = JSON.parse(readFileSync(`${dir}/mirrorauth/namespaced-auths.json`, 'utf8'));
    expect(store.auths['new.example:5000']).toMatchObject({ username: 'n', backend: 'file' });
    expect(store.auths['mirror.corp?ns=quay.io']).toMatchObject({ kind: 'identitytoken', identitytoken: 'rt' });
    expect(call(dir, ['get'], 'new.example:5000').stdout).toBe('{"ServerURL":"new.example:5000","Username":"n","Secret":"npw"}\n');
    expect(call(dir, ['get'], 'mirror.corp?ns=quay.io').stdout).toBe('{"ServerURL":"mirror.corp?ns=quay.io","Username":"<token>","Secret":"rt"}\n');
    expect(call(dir, ['list'], '').stdout).not.toContain('quay.io');
    expect(call(dir, ['erase'], 'new.example:5000').code).toBe(0);
    expect(call(dir, ['get'], 'new.example:5000')).toMatchObject({ stdout: 'credentials not found in native keychain\n', code: 1 });
  });

  // docker logs what a helper prints; V8's JSON errors quote the text around the fault, here the secret
  it.each(['{"ServerURL":"h.example","Username":"u","Secret":hunter2secret}', '{"ServerURL":"h.example","Username":"u","Secret":"hunter2"secret"}'])(
    'store with a request that is not JSON never repeats it: %s',
    (stdin) => {
      const dir = seed();
      const r = call(dir, ['store'], stdin);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/JSON/);
      expect(`${r.stdout}${r.stderr}`).not.toMatch(/hunter2|secret/);
    },
  );

  it('a store file that is not JSON is named without quoting it', () => {
    const dir = seed();
    writeFileSync(
      `${dir}/mirrorauth/namespaced-auths.json`,
      '{"version":1,"auths":{"r.example":{"username":"u","backend":"file","kind":"password","auth":aHVudGVyMnNlY3JldA}}}',
    );
    const r = call(dir, ['get'], 'r.example');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('namespaced-auths.json');
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/aHVud|MnNl|Y3JldA/);
  });
});
