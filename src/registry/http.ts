/**
 * HTTP for registries: per-host TLS from hosts.toml (CA files, client
 * certificates, skip_verify) through an undici dispatcher, no automatic
 * redirects (credentials must never follow one), and a cap on body size.
 */
import type { Agent } from 'undici';
import { MirrorauthError } from '../errors.js';
import type { System } from '../system/system.js';

export interface TlsSettings {
  /** PEM text of extra CAs. */
  ca: string[];
  /** PEM cert and key pairs. */
  clientCerts: Array<{ cert: string; key: string }>;
  skipVerify: boolean;
}

export const MAX_BODY_BYTES = 128 * 1024;

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: string;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  tls?: TlsSettings | null;
  timeoutMs?: number;
}

/** dispatcherFor builds an undici Agent for per-host TLS; undici is loaded only when one is needed. */
async function dispatcherFor(tls: TlsSettings | null | undefined): Promise<Agent | undefined> {
  if (!tls || (tls.ca.length === 0 && tls.clientCerts.length === 0 && !tls.skipVerify)) return undefined;
  const first = tls.clientCerts[0];
  const { Agent } = await import('undici');
  return new Agent({
    connect: {
      ...(tls.ca.length > 0 ? { ca: tls.ca } : {}),
      ...(first ? { cert: first.cert, key: first.key } : {}),
      rejectUnauthorized: !tls.skipVerify,
    },
  });
}

/** request sends one request; it never follows redirects and reads at most MAX_BODY_BYTES. */
export async function request(sys: System, url: string, opts: RequestOptions = {}): Promise<HttpResponse> {
  const dispatcher = await dispatcherFor(opts.tls);
  const init = {
    method: opts.method ?? 'GET',
    headers: opts.headers ?? {},
    redirect: 'manual',
    signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    ...(opts.body !== undefined ? { body: opts.body } : {}),
    ...(dispatcher ? { dispatcher } : {}),
  } as unknown as RequestInit;
  let res: Response;
  try {
    res = await sys.fetch(url, init);
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (e as Error).message;
    throw new MirrorauthError('REGISTRY_ERROR', `cannot reach ${new URL(url).origin}: ${why}`, {
      hint: 'check the address and that the registry is running; for a plain-http registry outside loopback pass --insecure',
      cause: e,
    });
  } finally {
    void dispatcher?.close();
  }
  const reader = res.body?.getReader();
  let received = 0;
  const chunks: Uint8Array[] = [];
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
      if (received > MAX_BODY_BYTES) {
        await reader.cancel();
        break;
      }
      chunks.push(value);
    }
  }
  return { status: res.status, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') };
}

/** A response whose body is streamed, never buffered (the serve proxy's data path). */
export interface StreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: NodeJS.ReadableStream & { destroy(error?: Error): void };
}

export interface StreamClient {
  /** Sends one request; redirects are never followed and bodies are raw bytes (no decompression). */
  request(url: string, opts: { method: string; headers: Record<string, string>; signal?: AbortSignal; timeoutMs?: number }): Promise<StreamResponse>;
  close(): Promise<void>;
}

/**
 * streamClient builds a keep-alive client for one upstream endpoint. A host's
 * own CA files are added to the trust store, never in place of it (containerd
 * appends hosts.toml `ca` to the system pool); `systemCa` holds the system
 * bundle's PEM text because Node's default store is its bundled list only.
 */
export async function streamClient(tls: TlsSettings | null, systemCa: string[] = []): Promise<StreamClient> {
  const { Agent } = await import('undici');
  const { rootCertificates } = await import('node:tls');
  const first = tls?.clientCerts[0];
  const extra = tls?.ca ?? [];
  const agent = new Agent({
    keepAliveTimeout: 30_000,
    connect: {
      ...(extra.length > 0 || systemCa.length > 0 ? { ca: [...rootCertificates, ...systemCa, ...extra] } : {}),
      ...(first ? { cert: first.cert, key: first.key } : {}),
      rejectUnauthorized: tls?.skipVerify !== true,
    },
  });
  return {
    async request(url, opts) {
      const u = new URL(url);
      const res = await agent.request({
        origin: u.origin,
        path: `${u.pathname}${u.search}`,
        method: opts.method as 'GET',
        headers: opts.headers,
        ...(opts.signal ? { signal: opts.signal } : {}),
        headersTimeout: opts.timeoutMs ?? 60_000,
        bodyTimeout: opts.timeoutMs ?? 300_000,
      });
      // a body the caller discards must not crash the process with an unhandled 'error' (pipeline still sees errors)
      res.body.on('error', () => undefined);
      return { status: res.statusCode, headers: res.headers, body: res.body as unknown as StreamResponse['body'] };
    },
    close: () => agent.close(),
  };
}
