/** `mirrorauth bazel get` error and no-credential paths, through the built launcher. */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEndpoint, queryValues } from '../../src/credentials/keys.js';
import { bazelExpires, parseRegistryUri } from '../../src/protocols/bazel.js';
import { repo, tempDir } from '../helpers/bin.js';
import { seeded } from '../helpers/random.js';

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

  it('says in one line when the request cannot be read (stdin a directory), not with a stack trace', () => {
    const fd = openSync(tempDir(), 'r');
    try {
      const r = spawnSync(process.execPath, [path.join(repo, 'dist/mirrorauth.cjs'), 'bazel', 'get'], {
        stdio: [fd, 'pipe', 'pipe'],
        env: { ...process.env, DOCKER_CONFIG: tempDir(), XDG_CACHE_HOME: tempDir(), DBUS_SESSION_BUS_ADDRESS: '' },
        encoding: 'utf8',
      });
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe('mirrorauth bazel: cannot read the request on stdin (EISDIR)\n');
      expect(r.status).toBe(2);
    } finally {
      closeSync(fd);
    }
  });

  // the entries' last line of defence: an error no helper expects (here, stdout refusing the answer) ends in
  // one line and exit 1, not in Node's stack trace with a line of the minified bundle
  it.each([
    ['mirrorauth.cjs', ['bazel', 'get'], '{"uri":"https://ghcr.io/token"}', 'mirrorauth bazel'],
    ['docker-credential-mirrorauth.cjs', ['version'], '', 'docker-credential-mirrorauth'],
  ])('%s %s: an unexpected error is one line on stderr', (entry, args, input, program) => {
    const preload = path.join(tempDir(), 'stdout-fails.cjs');
    writeFileSync(
      preload,
      `const fs = require('node:fs'); const w = fs.writeSync;
const fail = () => { throw Object.assign(new Error('no stdout'), { code: 'EPIPE' }); };
fs.writeSync = (fd, ...rest) => (fd === 1 ? fail() : w(fd, ...rest));
Object.defineProperty(process, 'stdout', { get: fail });`,
    );
    const r = spawnSync(process.execPath, ['-r', preload, path.join(repo, 'dist', entry), ...args], {
      input,
      env: { ...process.env, DOCKER_CONFIG: tempDir(), XDG_CACHE_HOME: tempDir(), DBUS_SESSION_BUS_ADDRESS: '' },
      encoding: 'utf8',
    });
    expect(r.stderr).toBe(`${program}: internal error: Error EPIPE\n`);
    expect(r.status).toBe(1);
  });

  it('formats expires as Bazel parses it: no fractional seconds', () => {
    expect(bazelExpires(Date.UTC(2030, 0, 1, 0, 0, 0, 999))).toBe('2030-01-01T00:00:00Z');
    expect(bazelExpires(Date.now())).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('formats expires exactly as toISOString without the milliseconds, at every kind of instant', () => {
    const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    // a small linear congruential generator: the same instants on every run
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const instants = [0, -1, 86_399_999, Date.UTC(2000, 1, 29, 23, 59, 59, 999), Date.UTC(9999, 11, 31, 23, 59, 59), Date.UTC(10000, 0, 1), Date.UTC(-1, 5, 1)];
    for (let i = 0; i < 2000; i++) instants.push(Math.floor((next() - 0.2) * 4e12));
    for (const ms of instants) expect(bazelExpires(ms), String(ms)).toBe(iso(ms));
  });

  it('reads query values as URLSearchParams does, on the fast path and off it', () => {
    const parts = ['ns', 'NS', 'n', 's', '=', '&', '', 'docker.io', '%64', '+', '%', '%zz', 'a=b', '&&', 'ns=', 'é', ' '];
    let seed = 11;
    const pick = () => parts[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % parts.length] as string;
    const queries = ['', '?', '?ns=docker.io', '?ns', '?ns=a&ns=b', '?x=1&ns=quay.io&', '?ns=a=b', '?=ns', '?ns=%64ocker.io', '?ns=a+b'];
    for (let i = 0; i < 3000; i++) queries.push(`?${Array.from({ length: 1 + (i % 7) }, pick).join('')}`);
    for (const q of queries) {
      // what a URL hands over: the parser's own percent-encoding of the query included
      const search = new URL(`https://m.corp/v2/a/blobs/x${q}`).search;
      expect(queryValues(search, 'ns'), q).toEqual(new URLSearchParams(search).getAll('ns'));
      expect(queryValues(q, 'ns'), q).toEqual(new URLSearchParams(q).getAll('ns'));
    }
  });

  it.each([
    ['https://ghcr.io/v2/org/img/blobs/sha256:abc', { host: 'ghcr.io', repository: 'org/img', namespace: null, apiBase: 'https://ghcr.io/v2' }],
    [
      'https://m.corp/prefix/v2/library/alpine/manifests/3?ns=docker.io',
      { host: 'm.corp', repository: 'library/alpine', namespace: 'docker.io', endpointPath: '/prefix' },
    ],
    ['https://m.corp/v2/a/b/c/tags/list', { repository: 'a/b/c' }],
  ])('reads %s', (uri, want) => expect(parseRegistryUri(uri)).toMatchObject(want));

  it('answers for a registry at a host root exactly as the key parser would (the shortcut that skips it)', () => {
    const hosts = [
      'ghcr.io',
      'm.corp:5000',
      '127.0.0.1:8080',
      '[::1]:5000',
      '[2001:db8::1]',
      'xn--bcher-kva.example',
      'a_b.corp',
      'a{b}.corp',
      'a`b.corp',
      "a'b.corp",
      'a!b.corp',
      'a~b.corp',
      'a$b.corp',
      'bücher.example',
      'M.CORP',
      'a.corp:0443',
      'a.corp:443',
    ];
    for (const scheme of ['https', 'http']) {
      for (const host of hosts) {
        const uri = `${scheme}://${host}/v2/a/b/manifests/1`;
        const got = parseRegistryUri(uri);
        let want: { endpointPath: string; namespace: string | null } | null = null;
        try {
          const u = new URL(uri);
          if (u.host === host) {
            const e = parseEndpoint(u.host);
            want = { endpointPath: e.path, namespace: e.namespace };
          }
        } catch {
          want = null;
        }
        if (want === null) expect(got, uri).toBeNull();
        else expect(got, uri).toMatchObject(want);
      }
    }
  });

  it('never throws, whatever the URI (Bazel sends every URL it fetches)', () => {
    const bits = ['a', '%', '%20', '%zz', '%2F', '%2e%2e', '..', '.', '', '/', '@', ':', 'é', ' ', '=', '&', '#', '?', 'ns=', 'docker.io', '%25'];
    const rnd = seeded(5);
    const some = (k: number) => Array.from({ length: rnd(k) }, () => bits[rnd(bits.length)]).join('');
    for (let i = 0; i < 5000; i++) {
      const uri = `${['https://', 'http://', ''][rnd(3)]}${['m.corp', 'm.corp:5000', '[::1]', some(3)][rnd(4)]}/${some(4)}/v2/${some(4)}/${['manifests', 'blobs', 'tags', some(2)][rnd(4)]}/x${rnd(2) ? `?${some(5)}` : ''}`;
      expect(() => parseRegistryUri(uri), uri).not.toThrow();
    }
  });

  it.each([
    'https://ghcr.io/token',
    'https://m.corp/v2/a/manifests/1?ns=a&ns=b',
    'not a url',
    // no credential key can name these: {} rather than an error
    'https://m.corp/a%20b/v2/x/manifests/1',
    'https://m.corp/v2/x/manifests/1?ns=',
    'https://m.corp/v2/x/manifests/1?ns=%20',
    'https://m.corp/v2/a%zz/manifests/1',
  ])('rejects %s', (uri) => expect(parseRegistryUri(uri)).toBeNull());
});
