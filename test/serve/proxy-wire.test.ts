/**
 * The proxy's wire rules, in process, against a small local upstream that
 * records what it receives: ranges, client aborts, the challenge answered by
 * the proxy, one token fetch for many concurrent requests, 401 -> 403 with a
 * Warning and no challenge, and the client's own Authorization never forwarded.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_CREDENTIAL } from '../../src/credentials/credential.js';
import { streamClient } from '../../src/registry/http.js';
import { handle, routeTable, type AccessRecord, type ProxyDeps } from '../../src/serve/proxy.js';
import type { ServeRoute } from '../../src/serve/routes.js';
import { UpstreamAuth } from '../../src/serve/upstream-auth.js';
import { nodeSystem } from '../../src/system/node.js';
import { tempDir } from '../helpers/bin.js';
import { testCa } from '../helpers/tls.js';

const BLOB = Buffer.alloc(4 * 1024 * 1024, 7);
const seen: Array<{ url: string; headers: IncomingMessage['headers']; method?: string; body?: string }> = [];
const tokenScopes: string[] = [];
let tokenRequests = 0;
let aborted = 0;
let upstream: Server;
let proxy: Server;
let up = '';
let px = '';
const log: AccessRecord[] = [];

function route(id: string, ns: string | null, apiPath = '/v2'): ServeRoute {
  const u = new URL(up);
  return {
    id,
    endpoint: { scheme: 'http', host: u.host, apiPath },
    namespace: ns,
    registryDir: ns ?? '_default',
    file: 'f',
    line: 1,
    capabilities: ['pull', 'resolve'],
    caCerts: [],
    clientPairs: [],
    skipVerify: false,
    headers: [['X-Team', ['blue']]],
  };
}

beforeAll(async () => {
  upstream = createServer((req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://x');
    seen.push({ url: req.url ?? '', headers: req.headers });
    if (u.pathname === '/token') {
      tokenRequests++;
      let form = '';
      req.on('data', (d: Buffer) => (form += d.toString()));
      req.on('end', () => tokenScopes.push(new URLSearchParams(form).get('scope') ?? u.searchParams.getAll('scope').join(' ')));
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token: 'TOKEN', expires_in: 300 }));
      }, 50);
      return;
    }
    if (req.headers.authorization !== 'Bearer TOKEN' || u.pathname.includes('/denied/')) {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${up}/token",service="svc"`, 'content-type': 'application/json' });
      return res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
    }
    if (req.method === 'POST' && u.pathname.endsWith('/blobs/uploads/')) {
      res.writeHead(202, { location: `${up}${u.pathname}8f7e6d?_state=opaque`, 'docker-upload-uuid': '8f7e6d', range: '0-0', 'content-length': 0 });
      return res.end();
    }
    if (req.method === 'PUT') {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', headers: req.headers, method: 'PUT', body });
        res.writeHead(201, { location: `/v2/push/app/blobs/sha256:feed`, 'docker-content-digest': 'sha256:feed', 'content-length': 0 });
        res.end();
      });
      return;
    }
    if (u.pathname.includes('/manifests/')) {
      const body = '{"schemaVersion":2}';
      res.writeHead(200, {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
        'content-length': body.length,
        'docker-content-digest': 'sha256:abc',
        'set-cookie': 'x=1',
        'x-internal': 'leak',
      });
      return res.end(req.method === 'HEAD' ? undefined : body);
    }
    if (u.pathname.includes('/slow/')) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 64 * 1024 * 1024 });
      const timer = setInterval(() => res.write(Buffer.alloc(64 * 1024)), 5);
      res.on('close', () => {
        clearInterval(timer);
        if (!res.writableFinished) aborted++;
      });
      return;
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Number(range[2]) : BLOB.length - 1;
      res.writeHead(206, {
        'content-range': `bytes ${start}-${end}/${BLOB.length}`,
        'content-length': end - start + 1,
        'content-type': 'application/octet-stream',
      });
      return res.end(BLOB.subarray(start, end + 1));
    }
    res.writeHead(200, { 'content-length': BLOB.length, 'content-type': 'application/octet-stream' });
    res.end(BLOB);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  up = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const sys = nodeSystem();
  const client = await streamClient(null);
  const table = routeTable([
    route('aaaaaaaaaaaaaaaa', 'docker.io'),
    route('bbbbbbbbbbbbbbbb', null),
    { ...route('cccccccccccccccc', 'push.test'), capabilities: ['pull', 'resolve', 'push'] },
    // an http entry with TLS settings: containerd 2.x tries https first, then http (R31)
    (() => {
      const r = route('dddddddddddddddd', 'fallback.test');
      return { ...r, endpoint: { ...r.endpoint, scheme: 'https', httpFallback: true } };
    })(),
  ]);
  const deps: ProxyDeps = {
    sys,
    secret: 'S',
    table: () => table,
    credentialFor: async (_r, ns) =>
      ns === 'nobody.test'
        ? { credential: EMPTY_CREDENTIAL, describe: 'anonymous', anonymous: true }
        : { credential: { ...EMPTY_CREDENTIAL, username: 'robot', password: 'pw' }, describe: `m?ns=${ns} (file)`, anonymous: false },
    clientFor: async () => client,
    tlsFor: async () => null,
    plainClient: async () => client,
    auth: new UpstreamAuth(sys),
    redirects: 'pass',
    log: (r) => log.push(r),
  };
  proxy = createServer((req, res) => void handle(deps, req, res));
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  px = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(() => {
  upstream.close();
  proxy.close();
  upstream.closeAllConnections();
  proxy.closeAllConnections();
});

const auth = { authorization: 'Bearer S' };

describe('serve proxy on the wire', () => {
  it('answers the challenge itself, with one token fetch for many concurrent requests', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () => fetch(`${px}/m/aaaaaaaaaaaaaaaa/v2/library/alpine/manifests/3.19?ns=docker.io`, { method: 'HEAD', headers: auth })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(tokenRequests).toBe(1);
    const head = results[0] as Response;
    expect(head.headers.get('content-length')).toBe('19');
    expect(head.headers.get('docker-content-digest')).toBe('sha256:abc');
    expect(head.headers.get('content-type')).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(head.headers.get('set-cookie')).toBeNull();
    expect(head.headers.get('x-internal')).toBeNull();
  });

  it("never forwards the client's Authorization; sends ns, the hosts.toml headers and its own token", () => {
    const toUpstream = seen.filter((s) => s.url.includes('/manifests/'));
    expect(toUpstream.length).toBeGreaterThan(0);
    for (const s of toUpstream) {
      expect(s.headers.authorization === undefined || s.headers.authorization === 'Bearer TOKEN').toBe(true);
      expect(s.url).toContain('ns=docker.io');
      expect(s.headers['x-team']).toBe('blue');
    }
  });

  it('forwards Range and returns 206 with Content-Range and the exact bytes', async () => {
    const r = await fetch(`${px}/m/aaaaaaaaaaaaaaaa/v2/library/alpine/blobs/sha256:b?ns=docker.io`, { headers: { ...auth, range: 'bytes=100-199' } });
    expect(r.status).toBe(206);
    expect(r.headers.get('content-range')).toBe(`bytes 100-199/${BLOB.length}`);
    expect(Buffer.from(await r.arrayBuffer())).toEqual(BLOB.subarray(100, 200));
    const full = await fetch(`${px}/m/aaaaaaaaaaaaaaaa/v2/library/alpine/blobs/sha256:b?ns=docker.io`, { headers: auth });
    expect(Buffer.from(await full.arrayBuffer()).equals(BLOB)).toBe(true);
  });

  it('propagates a client abort to the upstream', async () => {
    const ac = new AbortController();
    const res = await fetch(`${px}/m/aaaaaaaaaaaaaaaa/v2/slow/blobs/sha256:c?ns=docker.io`, { headers: auth, signal: ac.signal });
    expect(res.status).toBe(200);
    const reader = res.body?.getReader();
    await reader?.read();
    ac.abort();
    const deadline = Date.now() + 5000;
    while (aborted === 0 && Date.now() < deadline) await new Promise((x) => setTimeout(x, 20));
    expect(aborted).toBe(1);
  });

  it('turns an upstream 401 after its own authentication into a 403 naming the key, without a challenge', async () => {
    const r = await fetch(`${px}/m/aaaaaaaaaaaaaaaa/v2/denied/app/manifests/v1?ns=docker.io`, { headers: auth });
    expect(r.status).toBe(403);
    expect(r.headers.get('www-authenticate')).toBeNull();
    expect(r.headers.get('warning')).toMatch(/^299 mirrorauth ".*m\?ns=docker\.io.*"$/);
    const body = (await r.json()) as { errors: Array<{ code: string; message: string }> };
    expect(body.errors[0]?.code).toBe('DENIED');
    expect(body.errors[0]?.message).toContain('m?ns=docker.io');
  });

  it('routes a `_default` route by ?ns= only where credentials exist; others are 404 without a connection', async () => {
    const before = seen.length;
    const r = await fetch(`${px}/m/bbbbbbbbbbbbbbbb/v2/library/alpine/manifests/3.19?ns=nobody.test`, { headers: auth });
    expect(r.status).toBe(404);
    const missing = await fetch(`${px}/m/bbbbbbbbbbbbbbbb/v2/library/alpine/manifests/3.19`, { headers: auth });
    expect(missing.status).toBe(404);
    const star = await fetch(`${px}/v2/library/alpine/manifests/3.19?ns=*`, { headers: auth });
    expect(star.status).toBe(404);
    expect(seen.length).toBe(before);
    const ok = await fetch(`${px}/m/bbbbbbbbbbbbbbbb/v2/library/alpine/manifests/3.19?ns=quay.io`, { headers: auth });
    expect(ok.status).toBe(200);
    expect(seen[seen.length - 1]?.url).toContain('ns=quay.io');
  });

  it('pushes through a push-capable route: token for pull,push (and the mount source), Locations rewritten to the proxy, body streamed', async () => {
    const start = await fetch(`${px}/m/cccccccccccccccc/v2/push/app/blobs/uploads/?mount=sha256:abc&from=library/base`, { method: 'POST', headers: auth });
    expect(start.status).toBe(202);
    expect(start.headers.get('location')).toBe('/m/cccccccccccccccc/v2/push/app/blobs/uploads/8f7e6d?_state=opaque');
    expect(start.headers.get('docker-upload-uuid')).toBe('8f7e6d');
    expect(tokenScopes).toContain('repository:push/app:pull,push repository:library/base:pull');
    const put = await fetch(`${px}${start.headers.get('location')}&digest=sha256:feed`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/octet-stream' },
      body: 'layer-bytes',
    });
    expect(put.status).toBe(201);
    expect(put.headers.get('location')).toBe('/m/cccccccccccccccc/v2/push/app/blobs/sha256:feed');
    const arrived = seen.find((x) => x.method === 'PUT');
    expect(arrived?.body).toBe('layer-bytes');
    expect(arrived?.url).toContain('_state=opaque');
    expect(arrived?.url).toContain('digest=sha256%3Afeed');
    expect(arrived?.url).toContain('ns=push.test');
    expect(arrived?.headers.authorization).toBe('Bearer TOKEN');
  });

  it('falls back from https to http for an https-first entry, as containerd does', async () => {
    const r = await fetch(`${px}/m/dddddddddddddddd/v2/library/alpine/manifests/3.19?ns=fallback.test`, { method: 'HEAD', headers: auth });
    expect(r.status).toBe(200);
    expect(seen[seen.length - 1]?.url).toContain('ns=fallback.test');
  });

  it('routes the catch-all form by ?ns= to the routes serving that namespace', async () => {
    const r = await fetch(`${px}/v2/library/alpine/manifests/3.19?ns=index.docker.io`, { method: 'HEAD', headers: auth });
    expect(r.status).toBe(200);
    expect(seen[seen.length - 1]?.url).toContain('ns=docker.io'); // Docker Hub aliases fold to one namespace
  });

  it("talks TLS to the mirror with the entry's CA added to the trust store, or skip_verify; refuses an unknown CA", async () => {
    const dir = tempDir();
    const certs = testCa(dir, { ca: 'wire-test-ca' });
    const tlsUp = createHttpsServer({ key: readFileSync(certs.keyFile), cert: readFileSync(certs.certFile) }, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': 2, 'docker-content-digest': 'sha256:tls' });
      res.end(req.method === 'HEAD' ? undefined : '{}');
    });
    await new Promise<void>((r) => tlsUp.listen(0, '127.0.0.1', r));
    const port = (tlsUp.address() as AddressInfo).port;
    try {
      const sys = nodeSystem();
      const mk = (id: string, tlsSettings: { ca: string[]; skipVerify: boolean }) => {
        const rt: ServeRoute = { ...route(id, 'tls.test'), endpoint: { scheme: 'https', host: `127.0.0.1:${port}`, apiPath: '/v2' } };
        return { rt, tls: { ca: tlsSettings.ca, clientCerts: [], skipVerify: tlsSettings.skipVerify } };
      };
      const cases = [
        mk('1111111111111111', { ca: [readFileSync(certs.caFile, 'utf8')], skipVerify: false }),
        mk('2222222222222222', { ca: [], skipVerify: true }),
        mk('3333333333333333', { ca: [], skipVerify: false }),
      ];
      const results: number[] = [];
      for (const { rt, tls } of cases) {
        const client = await streamClient(tls);
        const deps: ProxyDeps = {
          sys,
          secret: 'S',
          table: () => routeTable([rt]),
          credentialFor: async () => ({ credential: { ...EMPTY_CREDENTIAL, username: 'u', password: 'p' }, describe: 'k', anonymous: false }),
          clientFor: async () => client,
          tlsFor: async () => tls,
          plainClient: async () => client,
          auth: new UpstreamAuth(sys),
          redirects: 'pass',
          log: () => undefined,
        };
        const srv = createServer((req, res) => void handle(deps, req, res));
        await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
        const r = await fetch(`http://127.0.0.1:${(srv.address() as AddressInfo).port}/m/${rt.id}/v2/a/manifests/v1?ns=tls.test`, {
          method: 'HEAD',
          headers: auth,
        });
        results.push(r.status);
        srv.close();
        await client.close();
      }
      expect(results).toEqual([200, 200, 502]);
    } finally {
      tlsUp.close();
    }
  });

  it('refuses pushes with 405 and logs every request without secrets', async () => {
    const r = await fetch(`${px}/m/aaaaaaaaaaaaaaaa/v2/library/alpine/blobs/uploads/?ns=docker.io`, { method: 'POST', headers: auth });
    expect(r.status).toBe(405); // a push is not proxied: the rendered entry has no push capability
    const put = await fetch(`${px}/m/aaaaaaaaaaaaaaaa/v2/library/alpine/manifests/v1?ns=docker.io`, { method: 'PUT', headers: auth, body: '{}' });
    expect(put.status).toBe(405);
    const text = JSON.stringify(log);
    expect(text).not.toContain('TOKEN');
    expect(text).not.toContain('"pw"');
    expect(log.every((x) => typeof x.status === 'number' && x.status > 0)).toBe(true);
  });
});
