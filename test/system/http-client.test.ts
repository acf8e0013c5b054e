/**
 * The real System's HTTP (src/system/http-client.ts, node:http in place of fetch) and its TLS sniff, against
 * loopback servers: what request() relies on (no redirects followed, body cap, whole-exchange timeout, header
 * reads) and speaksTls' three answers.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, MAX_BODY_BYTES } from '../../src/registry/http.js';
import { nodeSystem } from '../../src/system/node.js';
import { tempDir } from '../helpers/bin.js';
import { testCa } from '../helpers/tls.js';

const sys = nodeSystem();
const listen = async (s: { listen(port: number, host: string, cb: () => void): unknown; address(): unknown }) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
};

let plain: Server;
let port = 0;
beforeAll(async () => {
  plain = createServer((req, res) => {
    if (req.url === '/redirect') {
      res.writeHead(307, { location: 'http://elsewhere.example/v2/' });
      return res.end();
    }
    if (req.url === '/big') {
      res.writeHead(200);
      return res.end('x'.repeat(MAX_BODY_BYTES * 2));
    }
    if (req.url === '/stall') {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      return; // never finishes
    }
    res.setHeader('WWW-Authenticate', ['Basic realm="a"', 'Bearer realm="b"']);
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, auth: req.headers.authorization ?? null, body: req.headers['content-length'] ?? null }));
  });
  port = await listen(plain);
});
afterAll(() => plain.close());

describe('request() over node:http', () => {
  it('answers status, body and headers read by name, repeated ones joined as fetch joins them', async () => {
    const r = await request(sys, `http://127.0.0.1:${port}/v2/`, { method: 'POST', headers: { authorization: 'Basic eA==' }, body: 'a=b' });
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body)).toEqual({ method: 'POST', auth: 'Basic eA==', body: '3' });
    expect(r.headers.get('Content-Type')).toBe('application/json');
    expect(r.headers.get('www-authenticate')).toBe('Basic realm="a", Bearer realm="b"');
    expect(r.headers.get('x-absent')).toBeNull();
  });

  it('never follows a redirect', async () => {
    const r = await request(sys, `http://127.0.0.1:${port}/redirect`);
    expect(r.status).toBe(307);
    expect(r.headers.get('location')).toBe('http://elsewhere.example/v2/');
  });

  it('keeps at most MAX_BODY_BYTES of a body', async () => {
    const r = await request(sys, `http://127.0.0.1:${port}/big`);
    expect(r.body.length).toBeLessThanOrEqual(MAX_BODY_BYTES);
    expect(r.body.length).toBeGreaterThan(0);
  });

  it('times out an answer that never finishes, and says the registry answered', async () => {
    const e = await request(sys, `http://127.0.0.1:${port}/stall`, { timeoutMs: 300 }).catch((x: Error) => x);
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toMatch(/sent its answer but did not finish it: timed out/);
  });

  it('names a refused connection', async () => {
    const closed = createTcpServer();
    const p = await listen(closed);
    await new Promise((r) => closed.close(r));
    const e = await request(sys, `http://127.0.0.1:${p}/v2/`).catch((x: Error) => x);
    expect((e as Error).message).toBe(`cannot reach http://127.0.0.1:${p}: ECONNREFUSED`);
  });
});

describe('speaksTls', () => {
  it('true for a TLS server, false for plain HTTP (it reads the hello as a bad request line), null for silence or nothing', async () => {
    const dir = tempDir();
    const certs = testCa(dir);
    const tlsServer = createHttpsServer({ key: readFileSync(certs.keyFile), cert: readFileSync(certs.certFile) }, (_q, s) => s.end());
    const tlsPort = await listen(tlsServer);
    const silent = createTcpServer(() => undefined);
    const silentPort = await listen(silent);
    const closed = createTcpServer();
    const closedPort = await listen(closed);
    await new Promise((r) => closed.close(r));
    try {
      expect(await sys.speaksTls('127.0.0.1', tlsPort, 2000)).toBe(true);
      expect(await sys.speaksTls('127.0.0.1', port, 2000)).toBe(false);
      expect(await sys.speaksTls('127.0.0.1', silentPort, 200)).toBeNull();
      expect(await sys.speaksTls('127.0.0.1', closedPort, 2000)).toBeNull();
    } finally {
      tlsServer.close();
      silent.close();
    }
  });
});
