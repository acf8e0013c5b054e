/**
 * HTTP for registries: per-host TLS from hosts.toml (CA files, client
 * certificates, skip_verify) as a secure context per settings, no automatic
 * redirects (credentials must never follow one), and a cap on body size. The
 * exchange itself is the System's (node:http, see system/http-client.ts).
 */
import { MirrorauthError } from '../errors.js';
import type { HttpExchangeResult, System } from '../system/system.js';
import { pemCertificates } from './trust.js';
import type { SecureContext } from 'node:tls';

export interface TlsSettings {
  /** PEM text of extra CAs. */
  ca: string[];
  /** More CAs, read only when a secure context is built (the system store: hundreds of files). */
  lazyCa?: () => Promise<string[]>;
  /** PEM cert and key pairs. */
  clientCerts: Array<{ cert: string; key: string }>;
  skipVerify: boolean;
}

export const MAX_BODY_BYTES = 128 * 1024;

/** httpTimeoutMs: how long a small registry request may take (MIRRORAUTH_HTTP_TIMEOUT_MS, default 30 s). */
export function httpTimeoutMs(sys: System): number {
  const v = Number(sys.env.MIRRORAUTH_HTTP_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : 30_000;
}

/** Response headers, read by name (case-insensitive). */
export interface ResponseHeaders {
  get(name: string): string | null;
}

export interface HttpResponse {
  status: number;
  headers: ResponseHeaders;
  body: string;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  tls?: TlsSettings | null;
  timeoutMs?: number;
  /** For a TLS failure message: where the trusted CAs came from (trustFor). */
  trustedFrom?: string[];
}

/** OpenSSL's answers for a certificate chain nobody here trusts. */
const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
]);

/** peerCertificate names the certificate a server presents ("CN=reg.test, issued by CN=Corp CA"), for error messages. */
async function peerCertificate(u: URL): Promise<string> {
  const tls = await import('node:tls');
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: u.hostname, port: Number(u.port || 443), servername: u.hostname, rejectUnauthorized: false }, () => {
      const c = socket.getPeerCertificate();
      socket.destroy();
      const name = (x: Record<string, unknown> | undefined) => (x && typeof x.CN === 'string' ? `CN=${x.CN}` : 'unnamed');
      resolve(`certificate ${name(c.subject)}, issued by ${name(c.issuer)}`);
    });
    socket.setTimeout(3000, () => socket.destroy(new Error('timeout')));
    socket.on('error', reject);
  });
}

const contexts = new WeakMap<TlsSettings, SecureContext>();
let knownRoots: Set<string> | null = null;

/**
 * secureContextFor: Node's own roots plus the settings' CAs and client
 * certificate. Extra CAs are added to a copy of the built-in store
 * (`addCACert`), and those already among Node's roots are skipped: passing
 * `ca` instead would re-parse every root on each connection (~60 ms for a
 * system bundle). Built once per settings object.
 */
export async function secureContextFor(tls: TlsSettings): Promise<SecureContext> {
  const hit = contexts.get(tls);
  if (hit) return hit;
  const tlsMod = await import('node:tls');
  const body = (pem: string) => pem.replace(/-----[^-]+-----|\s/g, '');
  knownRoots ??= new Set(tlsMod.rootCertificates.map(body));
  const first = tls.clientCerts[0];
  const ctx = tlsMod.createSecureContext(first ? { cert: first.cert, key: first.key } : {});
  const store = ctx.context as { addCACert(pem: string): void };
  const pems = [...tls.ca, ...((await tls.lazyCa?.()) ?? [])].flatMap(pemCertificates);
  for (const pem of pems) if (!knownRoots.has(body(pem))) store.addCACert(pem);
  contexts.set(tls, ctx);
  return ctx;
}

const extraCaCache = new Map<string, string[]>();

/** unloadedExtraCaPems: the certificates of a NODE_EXTRA_CA_CERTS file the launcher kept Node from loading (read once). */
export async function unloadedExtraCaPems(sys: System): Promise<string[]> {
  const file = sys.unloadedExtraCa ?? null;
  if (file === null) return [];
  const hit = extraCaCache.get(file);
  if (hit) return hit;
  const pems = pemCertificates(await sys.fs.readText(file).catch(() => ''));
  extraCaCache.set(file, pems);
  return pems;
}

/** headerBag reads response headers by name, case-insensitively; repeated ones joined with ", " (as fetch's Headers). */
function headerBag(raw: Record<string, string | string[] | undefined>): ResponseHeaders {
  return {
    get(name) {
      const v = raw[name.toLowerCase()];
      return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
    },
  };
}

/** request sends one request; it never follows redirects and reads at most MAX_BODY_BYTES. */
export async function request(sys: System, url: string, opts: RequestOptions = {}): Promise<HttpResponse> {
  let tls = opts.tls ?? null;
  if (url.startsWith('https:') && tls?.skipVerify !== true && (sys.unloadedExtraCa ?? null) !== null) {
    const before = tls?.lazyCa;
    tls = {
      ca: tls?.ca ?? [],
      lazyCa: async () => [...((await before?.()) ?? []), ...(await unloadedExtraCaPems(sys))],
      clientCerts: tls?.clientCerts ?? [],
      skipVerify: false,
    };
  }
  // Extra CAs only widen trust: try Node's own roots first (no secure context to build, the common case of a
  // public or plain-http registry), and only a chain Node rejects is retried with them.
  const caOnly = tls !== null && tls.clientCerts.length === 0 && !tls.skipVerify;
  const plain = (x: TlsSettings | null) => x === null || (x.ca.length === 0 && x.lazyCa === undefined && x.clientCerts.length === 0 && !x.skipVerify);
  const attempt = async (withTls: TlsSettings | null) =>
    sys.httpRequest(url, {
      method: opts.method ?? 'GET',
      headers: opts.headers ?? {},
      ...(opts.body !== undefined ? { body: opts.body } : {}),
      timeoutMs: opts.timeoutMs ?? httpTimeoutMs(sys),
      maxBodyBytes: MAX_BODY_BYTES,
      ...(withTls !== null && !plain(withTls) && url.startsWith('https:')
        ? { tls: { key: withTls, secureContext: await secureContextFor(withTls), rejectUnauthorized: !withTls.skipVerify } }
        : {}),
    });
  const codeOf = (e: unknown) => (e as { code?: string }).code;
  let res: HttpExchangeResult;
  try {
    try {
      res = await attempt(caOnly && opts.body === undefined ? null : tls);
    } catch (e) {
      const code = codeOf(e);
      if (!(caOnly && opts.body === undefined && code !== undefined && TLS_TRUST_CODES.has(code))) throw e;
      res = await attempt(tls);
    }
  } catch (e) {
    const code = codeOf(e);
    if (code !== undefined && TLS_TRUST_CODES.has(code)) {
      const u = new URL(url);
      const cert = await peerCertificate(u).catch(() => null);
      const host = u.host;
      throw new MirrorauthError(
        'TLS_UNTRUSTED',
        `the TLS certificate of ${host}${cert ? ` (${cert})` : ''} is not trusted (${code})${opts.trustedFrom && opts.trustedFrom.length > 0 ? `; trusted: Node's roots, ${opts.trustedFrom.join(', ')}` : ''}`,
        {
          hint: `give the CA that signed it: --ca-file CA.pem, or save it as /etc/containerd/certs.d/${host}/ca.crt (containerd reads it too) or /etc/docker/certs.d/${host}/ca.crt; SSL_CERT_FILE replaces the system bundle`,
          cause: e,
        },
      );
    }
    const why = code === 'ETIMEDOUT' ? 'timed out' : (code ?? (e as Error).message);
    if ((e as { phase?: string }).phase === 'body') {
      throw new MirrorauthError('REGISTRY_ERROR', `${new URL(url).origin} sent its answer but did not finish it: ${why}`, {
        hint: 'the server or the network is too slow, or the server is broken; nothing was stored',
        cause: e,
      });
    }
    throw new MirrorauthError('REGISTRY_ERROR', `cannot reach ${new URL(url).origin}: ${why}`, {
      hint: 'check the address and that the registry is running; for a plain-http registry outside loopback pass --insecure',
      cause: e,
    });
  }
  return { status: res.status, headers: headerBag(res.headers), body: res.body.toString('utf8') };
}

/** A response whose body is streamed, never buffered (the serve proxy's data path). */
export interface StreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: NodeJS.ReadableStream & { destroy(error?: Error): void };
  /**
   * discard drops a body the caller does not want. A small one is read to its
   * end so the keep-alive connection can carry the next request (destroying it
   * would close the socket); a large one is cut off.
   */
  discard(): void;
}

export interface StreamClient {
  /** Sends one request; redirects are never followed and bodies are raw bytes (no decompression). */
  request(
    url: string,
    opts: { method: string; headers: Record<string, string>; signal?: AbortSignal; timeoutMs?: number; body?: NodeJS.ReadableStream },
  ): Promise<StreamResponse>;
  close(): Promise<void>;
}

/**
 * streamClient builds a keep-alive client for one upstream endpoint on
 * node:http/https (undici closes the connection after every HEAD, and
 * manifest HEADs are most of a pull). A host's own CA files are added to the
 * trust store, never in place of it (containerd appends hosts.toml `ca` to the
 * system pool); `systemCa` holds the system bundle's PEM text because Node's
 * default store is its bundled list only. Bodies are raw bytes (no
 * decompression); redirects are never followed.
 */
export async function streamClient(tls: TlsSettings | null, systemCa: string[] = []): Promise<StreamClient> {
  const http = await import('node:http');
  const https = await import('node:https');
  const secureContext = await secureContextFor({
    ca: [...systemCa, ...(tls?.ca ?? [])],
    clientCerts: tls?.clientCerts ?? [],
    skipVerify: tls?.skipVerify === true,
  });
  const common = { keepAlive: true, keepAliveMsecs: 30_000, maxFreeSockets: 64, scheduling: 'lifo' as const, noDelay: true };
  const agents = {
    'http:': new http.Agent(common),
    'https:': new https.Agent({
      ...common,
      secureContext,
      rejectUnauthorized: tls?.skipVerify !== true,
    }),
  };
  const SMALL = 64 * 1024;
  return {
    request(url, opts) {
      const u = new URL(url);
      const agent = agents[u.protocol as 'http:' | 'https:'];
      if (!agent) return Promise.reject(new Error(`unsupported scheme ${u.protocol}`));
      const send = u.protocol === 'https:' ? https.request : http.request;
      return new Promise((resolve, reject) => {
        const req = send(u, { method: opts.method, headers: opts.headers, agent, ...(opts.signal ? { signal: opts.signal } : {}) }, (res) => {
          req.setTimeout(0);
          res.on('error', () => undefined); // pipeline still sees it; a discarded body must not crash the process
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: res,
            discard: () => {
              const length = Number(res.headers['content-length'] ?? NaN);
              if (opts.method === 'HEAD' || (Number.isFinite(length) && length <= SMALL)) res.resume();
              else res.destroy();
            },
          });
        });
        req.setTimeout(opts.timeoutMs ?? 60_000, () => req.destroy(Object.assign(new Error('no answer in time'), { code: 'ETIMEDOUT' })));
        req.on('error', reject);
        if (opts.body) opts.body.pipe(req);
        else req.end();
      });
    },
    async close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
