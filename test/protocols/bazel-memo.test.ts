/** The `bazel get` shortcut's record and reader (src/protocols/bazel-memo.ts), as pure functions. */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ANSWER_MARGIN_MS,
  RACY_MS,
  answerKey,
  bazelReply,
  recordedAnswer,
  type AnswerIo,
  type FileMark,
  type RecordedAnswer,
  type StatLike,
} from '../../src/protocols/bazel-memo.js';
import { handleBazel, parseRegistryUri } from '../../src/protocols/bazel.js';
import { TOKEN_MARGIN_MS } from '../../src/registry/authorize.js';
import { nodeSystem } from '../../src/system/node.js';
import { tempDir } from '../helpers/bin.js';
import { seeded } from '../helpers/random.js';

describe('answerKey: what of a URI the decision depends on', () => {
  it.each([
    ['https://ghcr.io/v2/org/img/blobs/sha256:abc', 'https://ghcr.io/v2/org/img'],
    ['https://ghcr.io/v2/org/img/manifests/v1', 'https://ghcr.io/v2/org/img'],
    ['http://127.0.0.1:5000/v2/a/tags/list', 'http://127.0.0.1:5000/v2/a'],
    ['https://m.corp/proxy/v2/library/alpine/manifests/3?ns=docker.io', 'https://m.corp/proxy/v2/library/alpine?ns=docker.io'],
    ['https://[::1]:5000/v2/a/b/referrers/sha256:1', 'https://[::1]:5000/v2/a/b'],
  ])('%s → %s', (uri, key) => expect(answerKey(uri)).toBe(key));

  it.each([
    'https://GHCR.io/v2/a/manifests/1',
    'https://ghcr.io/v2/a%2Fb/manifests/1',
    'https://ghcr.io/x/../v2/a/manifests/1',
    'https://ghcr.io/./v2/a/manifests/1',
    'https://u:p@ghcr.io/v2/a/manifests/1',
    'https://ghcr.io/v2/a b/manifests/1',
    'https://ghcr.io/v2/a/manifests/1#x',
    'https://ghcr.io/v2/a/manifests/1?ns=docker.io#x',
    'https://ghcr.io/token',
    'ftp://ghcr.io/v2/a/manifests/1',
    'https://ghcr.io\\v2/a/manifests/1',
    'https://ghcr.io/v2/a/manifests/1?q="x"',
    'https://[::FFFF:1]/v2/a/manifests/1',
  ])('no key for %s', (uri) => expect(answerKey(uri)).toBeNull());

  it('URIs with one key are read alike by the full path, and a URL parser hands them back unchanged', () => {
    const rnd = seeded(17);
    const seg = ['a', 'b-c', 'v2', '%2e', 'a%41', 'x.y', 'z_9', '~t', 'p:q', 'r@s', 'u+v', 'w=x', 'manifests', 'blobs', 'tags', 'referrers', '..', '.', ''];
    const some = (k: number) => Array.from({ length: rnd(k) }, () => seg[rnd(seg.length)]).join('/');
    const groups = new Map<string, string>();
    let keyed = 0;
    for (let i = 0; i < 20_000; i++) {
      const host = ['ghcr.io', 'm.corp:5000', '127.0.0.1', '[::1]:8443', 'a-b.c'][rnd(5)];
      const query = ['', '?ns=docker.io', '?ns=quay.io&x=1', '?ns=', '?x', '?ns=a&ns=b'][rnd(6)];
      const verb = ['manifests', 'blobs', 'tags', 'referrers'][rnd(4)];
      const uri = `${['https', 'http'][rnd(2)]}://${host}/${some(3)}${rnd(4) ? '/v2/' : '/'}${some(4)}/${verb}${rnd(2) ? `/${some(3)}` : ''}${query}`;
      const key = answerKey(uri);
      if (key === null) continue;
      keyed++;
      const u = new URL(uri);
      expect(`${u.protocol}//${u.host}${u.pathname}${u.search}`, uri).toBe(uri);
      const target = JSON.stringify(parseRegistryUri(uri));
      const seen = groups.get(key);
      if (seen === undefined) groups.set(key, target);
      else expect(target, uri).toBe(seen);
    }
    expect(keyed).toBeGreaterThan(2_000);
    expect(groups.size).toBeGreaterThan(200);
  });
});

describe('recordedAnswer: the record answers only when nothing changed', () => {
  const NOW = 1_800_000_000_000;
  const stats: Record<string, StatLike | null> = {
    '/c/config.json': { dev: 1, ino: 10, size: 100, mtimeMs: NOW - 60_000, ctimeMs: NOW - 60_000 },
    '/c/mirrorauth/namespaced-auths.json': null,
  };
  const mark = (p: string): FileMark => {
    const s = stats[p];
    return s ? [p, s.dev, s.ino, s.size, s.mtimeMs, s.ctimeMs] : [p];
  };
  const env = { HOME: '/home/u', XDG_CACHE_HOME: '/cache', DOCKER_CONFIG: '/c' };
  const key = 'https://ghcr.io/v2/org/img';
  const answer: RecordedAnswer = {
    build: 'b1',
    env: [
      ['DOCKER_CONFIG', '/c'],
      ['DOCKER_AUTH_CONFIG', null],
    ],
    files: [mark('/c/config.json'), mark('/c/mirrorauth/namespaced-auths.json')],
    challenge: 'https://ghcr.io/v2/',
    challengeUntil: NOW + 3_600_000,
    token: 'tk',
  };
  const doc = () => ({
    version: 1,
    challenges: { 'https://ghcr.io/v2/': { scheme: 'bearer', realm: 'https://ghcr.io/token', service: 'ghcr.io', until: NOW + 3_600_000 } },
    tokens: { tk: { token: 'TOKEN', expiresAt: NOW + 300_000 } },
    answers: { [key]: structuredClone(answer) } as Record<string, RecordedAnswer>,
  });
  const io = (text: string | null, over: Record<string, StatLike | null> = {}, now = NOW): AnswerIo => ({
    now: () => now,
    readText: (p) => (p === '/cache/mirrorauth/tokens.json' ? text : null),
    stat: (p) => {
      const s = p in over ? over[p] : stats[p];
      if (s === undefined) throw new Error(`unexpected stat of ${p}`);
      return s;
    },
  });
  const input = JSON.stringify({ uri: 'https://ghcr.io/v2/org/img/blobs/sha256:0' });

  it('answers what the full path would print', () => {
    expect(recordedAnswer(input, env, 'b1', io(JSON.stringify(doc())))).toBe(bazelReply('Bearer TOKEN', NOW + 300_000));
    expect(bazelReply('Bearer TOKEN', NOW + 300_000)).toBe(`{"headers":{"Authorization":["Bearer TOKEN"]},"expires":"2027-01-15T08:04:00Z"}\n`);
  });

  it('keeps the full path’s margin', () => expect(ANSWER_MARGIN_MS).toBe(TOKEN_MARGIN_MS));

  const changed = (
    name: string,
    f: (d: ReturnType<typeof doc>) => void,
    o: { env?: Record<string, string>; stat?: Record<string, StatLike | null>; now?: number; build?: string; input?: string } = {},
  ) => [name, f, o] as const;
  it.each([
    changed('another build', () => undefined, { build: 'b2' }),
    changed('an environment variable set since', () => undefined, { env: { ...env, DOCKER_AUTH_CONFIG: '{}' } }),
    changed('an environment variable changed', () => undefined, { env: { ...env, DOCKER_CONFIG: '/other' } }),
    changed('config.json replaced (inode)', () => undefined, {
      stat: { '/c/config.json': { dev: 1, ino: 11, size: 100, mtimeMs: NOW - 60_000, ctimeMs: NOW - 60_000 } },
    }),
    changed('config.json rewritten in place (ctime)', () => undefined, {
      stat: { '/c/config.json': { dev: 1, ino: 10, size: 100, mtimeMs: NOW - 60_000, ctimeMs: NOW - 1 } },
    }),
    changed('config.json grown', () => undefined, { stat: { '/c/config.json': { dev: 1, ino: 10, size: 101, mtimeMs: NOW - 60_000, ctimeMs: NOW - 60_000 } } }),
    changed('config.json removed', () => undefined, { stat: { '/c/config.json': null } }),
    changed('the store file created', () => undefined, {
      stat: { '/c/mirrorauth/namespaced-auths.json': { dev: 1, ino: 12, size: 2, mtimeMs: NOW, ctimeMs: NOW } },
    }),
    changed('the challenge asked again', (d) => (d.challenges['https://ghcr.io/v2/'].until += 1)),
    changed('the challenge expired', () => undefined, { now: NOW + 3_600_000 }),
    changed('the token inside the margin', () => undefined, { now: NOW + 300_000 - ANSWER_MARGIN_MS }),
    changed('the token gone', (d) => delete (d.tokens as Record<string, unknown>).tk),
    changed('no record for the repository', () => undefined, { input: JSON.stringify({ uri: 'https://ghcr.io/v2/org/other/blobs/sha256:0' }) }),
    changed('a URI without a key', () => undefined, { input: JSON.stringify({ uri: 'https://GHCR.io/v2/org/img/blobs/sha256:0' }) }),
    changed('a request that is not JSON', () => undefined, { input: '{uri' }),
    changed('a file format of another version', (d) => ((d as { version: number }).version = 2)),
  ])('takes the full path: %s', (_name, f, o) => {
    const d = doc();
    f(d);
    expect(recordedAnswer(o.input ?? input, o.env ?? env, o.build ?? 'b1', io(JSON.stringify(d), o.stat ?? {}, o.now ?? NOW))).toBeNull();
  });

  it('takes the full path when the token cache is missing or corrupt, or HOME and XDG_CACHE_HOME are both unset', () => {
    expect(recordedAnswer(input, env, 'b1', io(null))).toBeNull();
    expect(recordedAnswer(input, env, 'b1', io('{corrupt'))).toBeNull();
    expect(recordedAnswer(input, env, 'b1', io('null'))).toBeNull();
    expect(recordedAnswer(input, { DOCKER_CONFIG: '/c' }, 'b1', io(JSON.stringify(doc())))).toBeNull();
  });
});

describe('the record, made by the full path and read back (in-process, a loopback Bearer registry)', () => {
  let server: Server;
  let REG = '';
  let tokens = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url?.startsWith('/token')) {
        tokens++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token: `T${tokens}`, expires_in: 300 }));
        return;
      }
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${REG}/token",service="reg"` });
      res.end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    REG = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());

  // a clock RACY_MS ahead, so the config.json written just now is not too fresh to rely on
  const later = () => Date.now() + RACY_MS + 1_000;
  const nodeIo: AnswerIo = {
    now: later,
    readText: (p) => (existsSync(p) ? readFileSync(p, 'utf8') : null),
    stat: (p) => statSync(p, { throwIfNoEntry: false }) ?? null,
  };
  const setUp = () => {
    const cfg = tempDir();
    writeFileSync(`${cfg}/config.json`, JSON.stringify({ auths: { [REG]: { auth: Buffer.from('u:pw').toString('base64') } } }));
    const env: Record<string, string | undefined> = {
      ...process.env,
      DBUS_SESSION_BUS_ADDRESS: undefined,
      DOCKER_AUTH_CONFIG: undefined,
      DOCKER_CONFIG: cfg,
      XDG_CACHE_HOME: tempDir(),
      MIRRORAUTH_BAZEL_INSECURE_HOSTS: REG,
    };
    return { cfg, env, sys: { ...nodeSystem(), env, now: later } };
  };
  const ask = (path: string, query = '') => JSON.stringify({ uri: `http://${REG}/v2/team/app/${path}${query}` });

  it('answers the next request for the repository exactly as the full path did, and records nothing secret', async () => {
    const { env, sys } = setUp();
    const full = await handleBazel(sys, ask('manifests/v1'), { build: 'b1' });
    expect(full.stdout).toMatch(/^\{"headers":\{"Authorization":\["Bearer T\d+"\]\},"expires":"/);
    const file = `${env.XDG_CACHE_HOME}/mirrorauth/tokens.json`;
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { answers: Record<string, RecordedAnswer> };
    const recorded = doc.answers[`http://${REG}/v2/team/app`];
    expect(recorded?.env).toContainEqual(['DOCKER_CONFIG', env.DOCKER_CONFIG]);
    expect(recorded?.files.map((f) => f[0])).toContain(`${env.DOCKER_CONFIG}/config.json`);
    expect(readFileSync(file, 'utf8')).not.toContain(Buffer.from('u:pw').toString('base64'));
    expect(recordedAnswer(ask(`blobs/sha256:${'2'.repeat(64)}`), env, 'b1', nodeIo)).toBe(full.stdout);
    expect(recordedAnswer(ask('manifests/v1'), { ...env, MIRRORAUTH_BAZEL_HOSTS: 'x.example' }, 'b1', nodeIo)).toBeNull();
  });

  it('records nothing without a build id, for a URI outside the plain form, or when a set variable may hold a secret', async () => {
    const cases: Array<[string, string, Record<string, string>]> = [
      ['', ask('manifests/v1'), {}],
      ['b1', ask('manifests/v1', '?x=%41'), {}],
      ['b1', ask('manifests/v1'), { DOCKER_AUTH_CONFIG: JSON.stringify({ auths: {} }) }],
    ];
    for (const [build, input, extra] of cases) {
      const { env, sys } = setUp();
      Object.assign(env, extra);
      const r = await handleBazel(sys, input, { build });
      expect(r.stdout, input).toMatch(/Bearer T/);
      const doc = JSON.parse(readFileSync(`${env.XDG_CACHE_HOME}/mirrorauth/tokens.json`, 'utf8')) as { answers?: object };
      expect(doc.answers ?? {}, `${build} ${input} ${JSON.stringify(extra)}`).toEqual({});
    }
  });
});
