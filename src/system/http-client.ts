/**
 * One HTTP exchange over node:http/https, the real System's `httpRequest`.
 *
 * Not fetch(): Node's fetch is its bundled undici, whose first call costs
 * 60–100 ms of loading, and whose HTTP parser is WebAssembly that V8 keeps
 * compiling on a worker thread, so a process that used fetch once waits
 * 100–150 ms at exit for that job (measured on `mirrorauth login`: 400 ms
 * with fetch, see bench/helper-startup.mjs). node:http parses in C++.
 *
 * Redirects are never followed, nothing is decompressed (no Accept-Encoding
 * is sent), and at most `maxBodyBytes` of a body are kept. Idle keep-alive
 * connections are pooled per TLS settings object and do not hold the
 * process open (Node unrefs a free socket).
 */
import type * as HttpModule from 'node:http';
import type * as HttpsModule from 'node:https';
import { nodeRequire as lazyRequire } from './node-require.js';
import type { HttpExchange, HttpExchangeResult } from './system.js';

let httpMod: typeof HttpModule | undefined;
let httpsMod: typeof HttpsModule | undefined;
const http = () => (httpMod ??= lazyRequire('node:http') as typeof HttpModule);
const https = () => (httpsMod ??= lazyRequire('node:https') as typeof HttpsModule);

let plainAgent: HttpModule.Agent | undefined;
let defaultTlsAgent: HttpsModule.Agent | undefined;
/** One pool per TLS settings: a connection verified with one set of CAs is never reused under another. */
const tlsAgents = new WeakMap<object, HttpsModule.Agent>();
const POOL = { keepAlive: true, keepAliveMsecs: 15_000, maxFreeSockets: 8 };

function agentFor(url: URL, x: HttpExchange): HttpModule.Agent {
  if (url.protocol === 'http:') return (plainAgent ??= new (http().Agent)(POOL));
  if (x.tls === undefined) return (defaultTlsAgent ??= new (https().Agent)(POOL));
  const hit = tlsAgents.get(x.tls.key);
  if (hit) return hit;
  const agent = new (https().Agent)({ ...POOL, secureContext: x.tls.secureContext, rejectUnauthorized: x.tls.rejectUnauthorized });
  tlsAgents.set(x.tls.key, agent);
  return agent;
}

function fail(code: string, message: string, phase: 'connect' | 'body'): Error {
  return Object.assign(new Error(message), { code, phase });
}

export function nodeHttpRequest(target: string, x: HttpExchange): Promise<HttpExchangeResult> {
  const url = new URL(target);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return Promise.reject(fail('ERR_INVALID_PROTOCOL', `unsupported scheme ${url.protocol}`, 'connect'));
  const send = url.protocol === 'https:' ? https().request : http().request;
  return new Promise((resolve, reject) => {
    let phase: 'connect' | 'body' = 'connect';
    const headers: Record<string, string> = { ...x.headers };
    if (x.body !== undefined) headers['content-length'] = String(Buffer.byteLength(x.body));
    const req = send(url, { method: x.method, headers, agent: agentFor(url, x) }, (res) => {
      phase = 'body';
      const chunks: Buffer[] = [];
      let received = 0;
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      };
      res.on('data', (chunk: Buffer) => {
        received += chunk.byteLength;
        if (received > x.maxBodyBytes) {
          // keep what fits; the rest is never read (the connection is dropped, not reused)
          finish();
          res.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', finish);
      res.on('error', (e) => {
        if (done) return;
        clearTimeout(timer);
        reject(Object.assign(e, { phase: 'body' }));
      });
    });
    const timer = setTimeout(() => {
      req.destroy(fail('ETIMEDOUT', `no complete answer within ${x.timeoutMs} ms`, phase));
    }, x.timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(Object.assign(e, { phase: (e as { phase?: string }).phase ?? phase }));
    });
    req.end(x.body);
  });
}

/**
 * A TLS 1.2/1.3 ClientHello: no SNI, two common cipher suites, the
 * supported_groups and supported_versions extensions. A TLS server answers
 * with a handshake or alert record; a plain-HTTP server reads it as a
 * malformed request line and answers 400. That needs a line feed: Go's
 * net/http waits for one, and supported_groups' type (0x000a) is one, as in
 * every real ClientHello.
 */
function clientHello(): Buffer {
  const suites = [0x13, 0x01, 0xc0, 0x2f];
  const ext = [0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x1d, 0x00, 0x2b, 0x00, 0x05, 0x04, 0x03, 0x04, 0x03, 0x03];
  const body = [0x03, 0x03, ...new Array<number>(32).fill(7), 0x00, 0x00, suites.length, ...suites, 0x01, 0x00, 0x00, ext.length, ...ext];
  const handshake = [0x01, 0x00, body.length >> 8, body.length & 0xff, ...body];
  return Buffer.from([0x16, 0x03, 0x01, handshake.length >> 8, handshake.length & 0xff, ...handshake]);
}

/**
 * speaksTls asks a port whether it talks TLS, without building a TLS context
 * (OpenSSL 3.0's first one costs ~45 ms): it sends a ClientHello and reads
 * the first bytes of the answer. true: a TLS record; false: an HTTP answer;
 * null: anything else, no answer in time, or no connection. node:http (~2.5 ms)
 * loads while the answer is on its way: the caller's exchange needs it next.
 */
export function nodeSpeaksTls(host: string, port: number, timeoutMs: number): Promise<boolean | null> {
  const net = lazyRequire('node:net') as typeof import('node:net');
  return new Promise((resolve) => {
    let settled = false;
    const done = (v: boolean | null) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(v);
    };
    const socket = net.connect({ host: host.replace(/^\[|\]$/g, ''), port }, () => {
      socket.write(clientHello());
      // an HTTP exchange follows whatever the answer (https loads node:http too): load it while the answer travels
      http();
    });
    socket.setTimeout(timeoutMs, () => done(null));
    socket.on('error', () => done(null));
    let seen = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      if (seen[0] === 0x16 || seen[0] === 0x15) done(true);
      else if (seen.length >= 5) done(seen.subarray(0, 5).toString('latin1') === 'HTTP/' ? false : null);
    });
    socket.on('end', () => done(null));
  });
}
