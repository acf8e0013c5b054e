/**
 * The request handler of `mirrorauth serve`: a loopback registry proxy that
 * containerd's rendered hosts.toml points at. Per request it
 *   1. checks the per-install secret (constant-time), before anything else;
 *   2. maps the route id and `ns` to one configured endpoint (closed world:
 *      an unknown id or namespace is a 404 and no connection is made);
 *   3. asks the one credential decision for (endpoint, ns), answers the
 *      endpoint's challenge itself, and streams the answer back raw.
 * It never sends containerd a challenge: an upstream 401/403 after its own
 * authentication becomes a 403 naming the credential key, so containerd moves
 * on to its next host. The wire rules are in docs/serve.md.
 */
import { pingUrl } from '../hosts/go-semantics.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Credential } from '../credentials/credential.js';
import { canonicalNamespace } from '../credentials/keys.js';
import { isMirrorauthError } from '../errors.js';
import type { StreamClient, StreamResponse, TlsSettings } from '../registry/http.js';
import type { System } from '../system/system.js';
import { parseInbound, REPO_PREFIX, ROUTE_PREFIX, type ServeRoute } from './routes.js';
import type { UpstreamAuth } from './upstream-auth.js';

export interface RouteTable {
  byId: Map<string, ServeRoute>;
  /** Routes of per-registry directories, by the namespace they serve, in render order. */
  byNamespace: Map<string, ServeRoute[]>;
  /** Routes of `_default` entries: any namespace they hold credentials for. */
  defaults: ServeRoute[];
}

export function routeTable(routes: ServeRoute[]): RouteTable {
  const byId = new Map<string, ServeRoute>();
  const byNamespace = new Map<string, ServeRoute[]>();
  const defaults: ServeRoute[] = [];
  for (const r of routes) {
    byId.set(r.id, r);
    if (r.namespace === null) defaults.push(r);
    else byNamespace.set(r.namespace, [...(byNamespace.get(r.namespace) ?? []), r]);
  }
  return { byId, byNamespace, defaults };
}

export interface RouteCredential {
  credential: Credential;
  /** The credential's key and source, for logs and errors (never the secret). */
  describe: string;
  anonymous: boolean;
}

export interface AccessRecord {
  time: string;
  method: string;
  path: string;
  route: string | null;
  ns: string | null;
  endpoint: string | null;
  credential: string | null;
  status: number;
  upstreamStatus: number | null;
  bytes: number;
  ms: number;
  note?: string;
}

export interface ProxyDeps {
  sys: System;
  secret: string;
  table(): RouteTable;
  credentialFor(route: ServeRoute, ns: string): Promise<RouteCredential>;
  clientFor(route: ServeRoute): Promise<StreamClient>;
  tlsFor(route: ServeRoute): Promise<TlsSettings | null>;
  /** A client for redirect targets outside the endpoint (no credentials ever go there). */
  plainClient(): Promise<StreamClient>;
  auth: UpstreamAuth;
  redirects: 'pass' | 'follow';
  log(rec: AccessRecord): void;
}

// what a client may tell the upstream, and what the upstream may tell the client
const REQUEST_HEADERS = ['accept', 'range', 'accept-encoding', 'if-none-match', 'if-range', 'user-agent'];
const RESPONSE_HEADERS = [
  'content-type',
  'content-length',
  'docker-content-digest',
  'content-range',
  'accept-ranges',
  'etag',
  'content-encoding',
  'link',
  'oci-filters-applied',
  'docker-distribution-api-version',
  'last-modified',
  'cache-control',
];
const MAX_SAME_ORIGIN_REDIRECTS = 5;

function digestOf(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

// the access secret's digest is computed once per secret, not once per request
let secretDigest: { secret: string; digest: Buffer } | null = null;
function digestOfSecret(secret: string): Buffer {
  if (secretDigest?.secret !== secret) secretDigest = { secret, digest: digestOf(secret) };
  return secretDigest.digest;
}

/** clientSecretOk compares the presented secret in constant time (Bearer from hosts.toml, or Basic from an auth file). */
export function clientSecretOk(authorization: string | undefined, secret: string): boolean | null {
  if (authorization === undefined || authorization === '') return null;
  let presented = '';
  const m = /^(\S+)\s+(.*)$/.exec(authorization.trim());
  if (m) {
    const scheme = (m[1] as string).toLowerCase();
    if (scheme === 'bearer') presented = m[2] as string;
    else if (scheme === 'basic') {
      const decoded = Buffer.from(m[2] as string, 'base64').toString('utf8');
      presented = decoded.slice(decoded.indexOf(':') + 1);
    }
  }
  return timingSafeEqual(digestOf(presented), digestOfSecret(secret));
}

function ociError(res: ServerResponse, method: string, status: number, code: string, message: string, extra: Record<string, string> = {}): void {
  const body = JSON.stringify({ errors: [{ code, message, detail: null }] });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'docker-distribution-api-version': 'registry/2.0',
    ...extra,
  });
  res.end(method === 'HEAD' ? undefined : body);
}

function warning(text: string): string {
  return `299 mirrorauth ${JSON.stringify(text.replace(/[^\x20-\x7e]/g, '?'))}`;
}

function pickHeaders(from: Record<string, string | string[] | undefined>, names: string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const n of names) {
    const v = from[n];
    if (v !== undefined) out[n] = v;
  }
  return out;
}

function header1(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function allValues(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Which routes may answer this request, and for which namespace. */
type Routing = { ok: true; routes: ServeRoute[]; ns: string; pinned: boolean } | { ok: false; status: number; code: string; message: string };

async function routesFor(deps: ProxyDeps, routeId: string | null, nsParam: string | null): Promise<Routing> {
  const table = deps.table();
  const ns = nsParam === null || nsParam.trim() === '' ? null : canonicalNamespace(nsParam);
  if (ns === '*') return { ok: false, status: 404, code: 'NAME_UNKNOWN', message: 'ns=* names no registry' };
  if (routeId !== null) {
    const route = table.byId.get(routeId);
    if (!route)
      return {
        ok: false,
        status: 404,
        code: 'NAME_UNKNOWN',
        message: `no route ${routeId} (the rendered hosts.toml is older than this proxy's routes: re-render)`,
      };
    if (route.namespace !== null) {
      if (ns !== null && ns !== route.namespace)
        return { ok: false, status: 404, code: 'NAME_UNKNOWN', message: `route ${routeId} serves ns=${route.namespace}, not ns=${ns}` };
      return { ok: true, routes: [route], ns: route.namespace, pinned: true };
    }
    if (ns === null) return { ok: false, status: 404, code: 'NAME_UNKNOWN', message: `route ${routeId} needs ?ns=REGISTRY` };
    const c = await deps.credentialFor(route, ns);
    if (c.anonymous) return { ok: false, status: 404, code: 'NAME_UNKNOWN', message: `no credentials for ${route.endpoint.host} serving ns=${ns}` };
    return { ok: true, routes: [route], ns, pinned: false };
  }
  if (ns === null) return { ok: false, status: 404, code: 'NAME_UNKNOWN', message: 'the catch-all route needs ?ns=REGISTRY' };
  const routes = [...(table.byNamespace.get(ns) ?? [])];
  for (const r of table.defaults) if (!(await deps.credentialFor(r, ns)).anonymous) routes.push(r);
  if (routes.length === 0) return { ok: false, status: 404, code: 'NAME_UNKNOWN', message: `no mirror with credentials for ns=${ns}` };
  return { ok: true, routes, ns, pinned: false };
}

function endpointUrl(route: ServeRoute): string {
  return `${route.endpoint.scheme}://${route.endpoint.host}${route.endpoint.apiPath}`;
}

interface Attempt {
  res: StreamResponse | null;
  /** A response the proxy makes itself (denied, gateway error). */
  own: { status: number; code: string; message: string; warning: string } | null;
  credential: string;
  /** A redirect to follow or pass on. */
  location?: string;
  /** A Location header of a push answer (upload session, manifest), to rewrite for the client. */
  upstreamLocation?: URL;
}

/** Methods that carry a body upstream (a push); proxied only for routes whose entry may push. */
const PUSH_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const PUSH_REQUEST_HEADERS = ['content-type', 'content-length', 'content-range'];

/** scopesFor: pull, or pull+push for a push, plus pull on the source repository of a cross-repository mount. */
function scopesFor(method: string, repository: string, query: URLSearchParams): string[] {
  if (!PUSH_METHODS.has(method)) return [`repository:${repository}:pull`];
  const scopes = [`repository:${repository}:pull,push`];
  const from = query.get('from');
  if (query.get('mount') !== null && from !== null && from !== repository && /^[a-z0-9]+(?:[._/-][a-z0-9]+)*$/.test(from))
    scopes.push(`repository:${from}:pull`);
  return scopes;
}

/** forward sends one request to one route's endpoint, answering its challenge; never follows cross-origin redirects. */
async function forward(
  deps: ProxyDeps,
  route: ServeRoute,
  ns: string,
  repository: string,
  rest: string,
  query: URLSearchParams,
  req: IncomingMessage,
  signal: AbortSignal,
): Promise<Attempt> {
  // One piece: the attempt loop (challenge retry, https fallback, same-origin redirects) must see one state.
  let base = endpointUrl(route);
  let registry = new URL(base);
  let space = base;
  const c = await deps.credentialFor(route, ns);
  const tls = await deps.tlsFor(route);
  const client = await deps.clientFor(route);
  const method = req.method ?? 'GET';
  const withBody = PUSH_METHODS.has(method);
  const q = new URLSearchParams(query);
  q.delete('ns');
  q.set('ns', ns); // containerd would have sent it to the mirror
  let url = `${base}/${repository}/${rest}?${q.toString()}`;
  const headers: Record<string, string> = {};
  for (const n of withBody ? [...REQUEST_HEADERS, ...PUSH_REQUEST_HEADERS] : REQUEST_HEADERS) {
    const v = header1(req.headers[n]);
    if (v !== undefined) headers[n] = v;
  }
  for (const [name, values] of route.headers) if (name.toLowerCase() !== 'authorization') headers[name.toLowerCase()] = values.join(', ');
  const scopes = scopesFor(method, repository, query);
  if (withBody && !c.anonymous && deps.auth.known(space) === null) {
    // a body cannot be sent twice: learn the endpoint's challenge first, without one
    let ping: StreamResponse;
    try {
      ping = await client.request(pingUrl(base, ns), { method: 'GET', headers: {}, signal });
    } catch (e) {
      if (!route.endpoint.httpFallback || !base.startsWith('https:')) throw e;
      base = `http:${base.slice('https:'.length)}`;
      registry = new URL(base);
      space = base;
      url = `${base}/${repository}/${rest}?${q.toString()}`;
      ping = await client.request(pingUrl(base, ns), { method: 'GET', headers: {}, signal });
    }
    if (ping.status === 401) deps.auth.learn(space, allValues(ping.headers['www-authenticate']));
    ping.discard();
  }
  for (let hop = 0; ; hop++) {
    let retried = false;
    for (;;) {
      const auth = c.anonymous ? null : await deps.auth.authorization(space, registry, scopes, c.credential, tls);
      const h = { ...headers, ...(auth ? { authorization: auth } : {}) };
      let res: StreamResponse;
      try {
        res = await client.request(url, { method, headers: h, signal, ...(withBody ? { body: req } : {}) });
      } catch (e) {
        // an http entry with TLS settings: containerd tries https, then plain http (R31)
        if (!route.endpoint.httpFallback || !url.startsWith('https:') || signal.aborted || withBody) throw e;
        url = `http:${url.slice('https:'.length)}`;
        // realms and challenges belong to the endpoint actually reached
        base = `http:${base.slice('https:'.length)}`;
        registry = new URL(base);
        space = base;
        continue;
      }
      if (res.status === 401 && !retried && !c.anonymous && !withBody) {
        const learnt = deps.auth.learn(space, allValues(res.headers['www-authenticate']));
        res.discard();
        if (learnt) {
          if (auth !== null) deps.auth.dropTokens();
          retried = true;
          continue;
        }
      }
      if (res.status === 401 || res.status === 403) {
        res.discard();
        const why = `${route.endpoint.host} refused ${c.anonymous ? 'an anonymous request' : `the credential ${c.describe}`} for ns=${ns} (HTTP ${res.status})`;
        return { res: null, own: { status: 403, code: 'DENIED', message: why, warning: why }, credential: c.describe };
      }
      const location = header1(res.headers.location);
      if (res.status >= 300 && res.status < 400 && location !== undefined) {
        const target = new URL(location, url);
        if (target.origin === registry.origin && hop < MAX_SAME_ORIGIN_REDIRECTS && !withBody) {
          res.discard();
          url = target.toString();
          break; // follow inside the endpoint, with its credentials
        }
        return { res, own: null, credential: c.describe, location: target.toString() };
      }
      if (location !== undefined) return { res, own: null, credential: c.describe, upstreamLocation: new URL(location, url) };
      return { res, own: null, credential: c.describe };
    }
  }
}

/**
 * clientLocation turns an upload or manifest Location on the endpoint into
 * the same place through the proxy, so the next request of the push comes
 * back here (containerd drops its authorizer when a Location changes host).
 * A Location on another origin is returned as it is.
 */
export function clientLocation(
  upstream: URL,
  endpointBase: URL,
  inbound: { routeId: string | null; via: 'path' | 'repository' | 'catch-all' },
  ns: string,
  pinned: boolean,
): string {
  const prefix = `${endpointBase.pathname.replace(/\/+$/, '')}/`;
  if (upstream.origin !== endpointBase.origin || !upstream.pathname.startsWith(prefix)) return upstream.toString();
  const rest = upstream.pathname.slice(prefix.length);
  const q = new URLSearchParams(upstream.search);
  q.delete('ns');
  if (!pinned) q.set('ns', ns);
  const query = q.toString() === '' ? '' : `?${q.toString()}`;
  if (inbound.via === 'path') return `${ROUTE_PREFIX}${inbound.routeId}/v2/${rest}${query}`;
  if (inbound.via === 'repository') return `/v2/${REPO_PREFIX}/${inbound.routeId}/${rest}${query}`;
  return `/v2/${rest}${query}`;
}

async function followRedirect(deps: ProxyDeps, location: string, req: IncomingMessage, signal: AbortSignal): Promise<StreamResponse> {
  const client = await deps.plainClient();
  const headers: Record<string, string> = {};
  for (const n of ['range', 'accept-encoding', 'user-agent']) {
    const v = header1(req.headers[n]);
    if (v !== undefined) headers[n] = v;
  }
  // never an Authorization header: object stores reject it next to a signed URL, and it must not leak there
  return client.request(location, { method: req.method === 'HEAD' ? 'HEAD' : 'GET', headers, signal });
}

/** handle is the whole proxy: one request in, one answer out, one access-log record. */
export async function handle(deps: ProxyDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // One piece: one request's whole life (access check, routing, attempts, answer, access log) reads top to bottom and shares the record and the abort controller.
  const started = deps.sys.monotonic();
  const method = req.method ?? 'GET';
  const u = new URL(req.url ?? '/', 'http://proxy.invalid');
  const rec: AccessRecord = {
    time: new Date(deps.sys.now()).toISOString(),
    method,
    path: u.pathname,
    route: null,
    ns: null,
    endpoint: null,
    credential: null,
    status: 0,
    upstreamStatus: null,
    bytes: 0,
    ms: 0,
  };
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  const done = (note?: string) => {
    rec.status = res.statusCode;
    rec.ms = Math.round((deps.sys.monotonic() - started) * 100) / 100;
    if (note) rec.note = note;
    deps.log(rec);
  };
  try {
    const inbound = parseInbound(u.pathname);
    if (inbound.kind === 'healthz') {
      const body = JSON.stringify({ status: 'ok', routes: deps.table().byId.size });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return done();
    }
    const access = clientSecretOk(header1(req.headers.authorization), deps.secret);
    if (access !== true) {
      // 401 with a Basic challenge only when nothing was presented (registries.conf clients log in with the
      // secret); a wrong secret is a plain 403 so no client starts a credential dance against the proxy
      if (access === null)
        ociError(res, method, 401, 'UNAUTHORIZED', 'mirrorauth serve needs its access secret', { 'www-authenticate': 'Basic realm="mirrorauth serve"' });
      else ociError(res, method, 403, 'DENIED', 'wrong mirrorauth serve access secret');
      return done(access === null ? 'no access secret' : 'wrong access secret');
    }
    if (inbound.kind === 'invalid') {
      ociError(res, method, 404, 'NAME_UNKNOWN', inbound.why);
      return done(inbound.why);
    }
    if (inbound.kind === 'ping') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2, 'docker-distribution-api-version': 'registry/2.0' });
      res.end(method === 'HEAD' ? undefined : '{}');
      return done();
    }
    if (method !== 'GET' && method !== 'HEAD' && !PUSH_METHODS.has(method)) {
      ociError(res, method, 405, 'UNSUPPORTED', `mirrorauth serve does not proxy ${method}`);
      return done('method not proxied');
    }
    const routing = await routesFor(deps, inbound.routeId, u.searchParams.get('ns'));
    rec.route = inbound.routeId;
    if (!routing.ok) {
      ociError(res, method, routing.status, routing.code, routing.message, { warning: warning(routing.message) });
      return done(routing.message);
    }
    rec.ns = routing.ns;
    if (PUSH_METHODS.has(method)) {
      // a push goes to one route only (containerd pushes to the first push-capable host, without fallback)
      const pushRoute = routing.routes.find((r) => r.capabilities.includes('push'));
      if (!pushRoute) {
        ociError(res, method, 405, 'UNSUPPORTED', 'this mirror entry does not take pushes (no "push" in its hosts.toml capabilities)');
        return done('push to a pull-only route');
      }
      routing.routes = [pushRoute];
    }
    let last: Attempt | null = null;
    let answered: ServeRoute | null = null;
    for (const [i, route] of routing.routes.entries()) {
      answered = route;
      rec.route = route.id;
      rec.endpoint = endpointUrl(route);
      const isLast = i === routing.routes.length - 1;
      try {
        last = await forward(deps, route, routing.ns, inbound.repository, inbound.rest, u.searchParams, req, controller.signal);
      } catch (e) {
        if (controller.signal.aborted) throw e;
        if (isMirrorauthError(e) && (e.code === 'AUTH_FAILED' || e.code === 'REALM_REJECTED')) {
          const why = `${route.endpoint.host}: ${e.message}`;
          last = { res: null, own: { status: 403, code: 'DENIED', message: why, warning: why }, credential: '' };
          continue;
        }
        const why = `cannot reach ${route.endpoint.host}: ${(e as { code?: string }).code ?? (e as Error).message}`;
        last = { res: null, own: { status: 502, code: 'UNAVAILABLE', message: why, warning: why }, credential: '' };
      }
      rec.credential = last.credential;
      const failed = last.own !== null || (last.res !== null && last.res.status >= 400);
      if (!failed || isLast) break;
      last.res?.discard();
    }
    if (last === null) throw new Error('no route attempted');
    if (last.own) {
      ociError(res, method, last.own.status, last.own.code, last.own.message, { warning: warning(last.own.warning) });
      return done(last.own.message);
    }
    let upstream = last.res as StreamResponse;
    rec.upstreamStatus = upstream.status;
    if (last.location !== undefined) {
      if (deps.redirects === 'pass') {
        upstream.discard();
        res.writeHead(upstream.status, { location: last.location, 'content-length': 0, ...pickHeaders(upstream.headers, ['docker-content-digest']) });
        res.end();
        return done('redirect passed to the client');
      }
      upstream.discard();
      upstream = await followRedirect(deps, last.location, req, controller.signal);
      rec.upstreamStatus = upstream.status;
    }
    const out = pickHeaders(upstream.headers, RESPONSE_HEADERS);
    if (last.upstreamLocation !== undefined) {
      out.location = clientLocation(last.upstreamLocation, new URL(endpointUrl(answered as ServeRoute)), inbound, routing.ns, routing.pinned);
      Object.assign(out, pickHeaders(upstream.headers, ['docker-upload-uuid', 'range']));
    }
    res.writeHead(upstream.status, out);
    if (method === 'HEAD') {
      upstream.discard();
      res.end();
      return done();
    }
    upstream.body.on('data', (chunk: Buffer) => {
      rec.bytes += chunk.length;
    });
    try {
      await pipeline(upstream.body, res);
    } catch (e) {
      // a body cut short must never look complete: close the connection
      res.destroy();
      return done(`stream ended early: ${(e as { code?: string }).code ?? (e as Error).message}`);
    }
    return done();
  } catch (e) {
    if (controller.signal.aborted) {
      res.destroy();
      return done('client went away');
    }
    const why = (e as Error).message;
    if (!res.headersSent) ociError(res, method, 502, 'UNAVAILABLE', `mirrorauth serve: ${why}`, { warning: warning(why) });
    else res.destroy();
    return done(why);
  }
}
