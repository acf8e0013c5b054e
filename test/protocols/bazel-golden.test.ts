/** `mirrorauth bazel get` error and no-credential paths, through the built launcher. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bazelExpires, parseRegistryUri } from '../../src/protocols/bazel.js';
import { repo, tempDir } from '../helpers/bin.js';

interface Case {
  name: string;
  stdin: string;
  stdout: string;
  stderrMatch?: string;
  code: number;
}
const golden = JSON.parse(readFileSync(path.join(repo, 'testdata/protocols/bazel.json'), 'utf8')) as { cases: Case[] };

describe('mirrorauth bazel get goldens', () => {
  it.each(golden.cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const r = spawnSync(process.execPath, [path.join(repo, 'dist/mirrorauth.cjs'), 'bazel', 'get'], {
      input: c.stdin,
      env: { ...process.env, DOCKER_CONFIG: tempDir(), XDG_CACHE_HOME: tempDir(), DBUS_SESSION_BUS_ADDRESS: '' },
      encoding: 'utf8',
    });
    expect(r.stdout).toBe(c.stdout);
    expect(r.status).toBe(c.code);
    if (c.stderrMatch) expect(r.stderr).toMatch(new RegExp(c.stderrMatch));
    else expect(r.stderr).toBe('');
  });

  it('formats expires as Bazel parses it: no fractional seconds', () => {
    expect(bazelExpires(Date.UTC(2030, 0, 1, 0, 0, 0, 999))).toBe('2030-01-01T00:00:00Z');
    expect(bazelExpires(Date.now())).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it.each([
    ['https://ghcr.io/v2/org/img/blobs/sha256:abc', { host: 'ghcr.io', repository: 'org/img', namespace: null, apiBase: 'https://ghcr.io/v2' }],
    [
      'https://m.corp/prefix/v2/library/alpine/manifests/3?ns=docker.io',
      { host: 'm.corp', repository: 'library/alpine', namespace: 'docker.io', endpointPath: '/prefix' },
    ],
    ['https://m.corp/v2/a/b/c/tags/list', { repository: 'a/b/c' }],
  ])('reads %s', (uri, want) => expect(parseRegistryUri(uri)).toMatchObject(want));

  it.each(['https://ghcr.io/token', 'https://m.corp/v2/a/manifests/1?ns=a&ns=b', 'not a url'])('rejects %s', (uri) => expect(parseRegistryUri(uri)).toBeNull());
});
