/**
 * probeHost contacts one registry host for real: GET <api>/ with ?ns= and the
 * resolved credential (Basic as is, Bearer through the exchange), honouring
 * the host's TLS settings. It reports status, auth scheme, whether the token
 * exchange worked and latency; it never returns a secret.
 */
import type { Credential } from '../credentials/credential.js';
import { pingBase, pingUrl } from '../hosts/go-semantics.js';
import type { System } from '../system/system.js';
import { authorizationFor } from './authorize.js';
import { request, type TlsSettings } from './http.js';
import { TokenCache } from './token-cache.js';

export interface ProbeTarget {
  /** API roots to try in order (https-first hosts list https then http). */
  apiBases: string[];
  namespace: string | null;
  repository: string;
  tls: TlsSettings | null;
}

export interface ProbeResult {
  url: string;
  /** HTTP status of the final /v2/ answer, or null when nothing answered. */
  status: number | null;
  /** Authentication the host asked for. */
  scheme: 'none' | 'basic' | 'bearer' | null;
  tokenExchange: 'ok' | 'failed' | 'not-needed';
  /** Whether the credential was accepted (2xx), refused (401/403) or not tried. */
  outcome: 'ok' | 'refused' | 'anonymous-ok' | 'error';
  latencyMs: number;
  error: string | null;
}

export async function probeHost(sys: System, t: ProbeTarget, credential: Credential | null): Promise<ProbeResult> {
  // One piece: one probe attempt per address, with its outcome assembled in one place.
  const t0 = sys.monotonic();
  let last: ProbeResult | null = null;
  for (const endpointBase of t.apiBases) {
    // a Harbor-style project endpoint is checked at the host's /v2/, for repositories under the project
    const { base: apiBase, repositoryPrefix } = pingBase(endpointBase);
    const repository = repositoryPrefix === '' ? t.repository : `${repositoryPrefix}/${t.repository}`;
    const url = pingUrl(apiBase, t.namespace);
    const cache = TokenCache.memory(sys);
    let scheme: ProbeResult['scheme'] = null;
    let tokenExchange: ProbeResult['tokenExchange'] = 'not-needed';
    try {
      let header: string | null = null;
      if (credential !== null) {
        try {
          // the host comes from the user's hosts.toml, which names its scheme: a plain-http endpoint there is
          // the user's choice (containerd itself answers its realm), unlike a URI a build hands `bazel get`
          const auth = await authorizationFor(
            sys,
            cache,
            {
              apiBase,
              namespace: t.namespace,
              repository,
              actions: ['pull'],
              tls: t.tls,
              plainHttpRealms: true,
              onChallenge: (s) => (scheme = s),
            },
            credential,
          );
          header = auth.header;
          if (scheme === 'bearer') tokenExchange = header ? 'ok' : 'failed';
        } catch (e) {
          if (scheme === 'bearer') {
            tokenExchange = 'failed';
            last = { url, status: 401, scheme, tokenExchange, outcome: 'refused', latencyMs: 0, error: (e as Error).message };
            break;
          }
          throw e;
        }
      }
      const res = await request(sys, url, { headers: header ? { authorization: header } : {}, tls: t.tls, timeoutMs: 10_000 });
      if (scheme === null) {
        const www = res.headers.get('www-authenticate') ?? '';
        scheme = res.status === 401 ? (/^\s*bearer/i.test(www) ? 'bearer' : /^\s*basic/i.test(www) ? 'basic' : null) : 'none';
      }
      const good = res.status >= 200 && res.status < 300;
      last = {
        url,
        status: res.status,
        scheme,
        tokenExchange,
        outcome: good ? (header ? 'ok' : 'anonymous-ok') : res.status === 401 || res.status === 403 ? 'refused' : 'error',
        latencyMs: 0,
        error: good ? null : `HTTP ${res.status}`,
      };
      break;
    } catch (e) {
      last = { url, status: null, scheme, tokenExchange, outcome: 'error', latencyMs: 0, error: (e as Error).message };
    }
  }
  const result = last ?? { url: '', status: null, scheme: null, tokenExchange: 'not-needed', outcome: 'error', latencyMs: 0, error: 'no address to probe' };
  return { ...result, latencyMs: Math.round(sys.monotonic() - t0) };
}
