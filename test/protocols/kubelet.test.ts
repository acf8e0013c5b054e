/** kubelet-provider goldens through the built binary. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bin, repo, tempDir } from '../helpers/bin.js';

interface Case {
  name: string;
  stdin: unknown;
  stdout: unknown;
  stderrMatch?: string;
  code: number;
}
const golden = JSON.parse(readFileSync(path.join(repo, 'testdata/protocols/kubelet.json'), 'utf8')) as { cases: Case[] };
const b64 = (s: string) => Buffer.from(s).toString('base64');

function config(): string {
  const dir = tempDir();
  writeFileSync(
    `${dir}/config.json`,
    JSON.stringify({
      auths: {
        'registry.example.com:5000': { auth: b64('team:team-pw') },
        'https://index.docker.io/v1/': { auth: b64('hub:hub-pw') },
        'tok.example.com': { auth: b64('u:'), identitytoken: 'rt' },
      },
    }),
  );
  mkdirSync(`${dir}/mirrorauth`);
  return dir;
}

function call(input: string, args: string[] = []) {
  return spawnSync(process.execPath, [bin, 'kubelet-provider', ...args], {
    input,
    encoding: 'utf8',
    env: { ...process.env, DOCKER_CONFIG: config(), DBUS_SESSION_BUS_ADDRESS: '' },
  });
}

describe('mirrorauth kubelet-provider goldens', () => {
  it.each(golden.cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const r = call(typeof c.stdin === 'string' ? c.stdin : JSON.stringify(c.stdin));
    expect(r.status).toBe(c.code);
    if (c.stdout === null) expect(r.stdout).toBe('');
    else expect(JSON.parse(r.stdout)).toEqual(c.stdout);
    if (c.stderrMatch) expect(r.stderr).toMatch(new RegExp(c.stderrMatch));
    else expect(r.stderr).toBe('');
  });

  it('sends cacheDuration when asked, and checks it is a duration', () => {
    const req = JSON.stringify({
      apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
      kind: 'CredentialProviderRequest',
      image: 'registry.example.com:5000/team/app',
    });
    expect(JSON.parse(call(req, ['--cache-duration', '5m0s']).stdout).cacheDuration).toBe('5m0s');
    expect(call(req, ['--cache-duration', 'soon']).status).toBe(1);
  });
});
