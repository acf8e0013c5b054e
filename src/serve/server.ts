/**
 * The long-running side of `mirrorauth serve`: the access secret, the
 * listener, the rendered tree kept in step with the user's certs.d and
 * credential store, and a clean shutdown.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dockerConfigDir } from '../credentials/docker-config.js';
import { storeFile } from '../credentials/namespaced-store.js';
import { describeSource, openCredentials, resolveCredential, type CredentialContext } from '../credentials/resolve.js';
import { errnoCode, MirrorauthError } from '../errors.js';
import { isLoopbackIp } from '../hosts/go-semantics.js';
import type { ContainerdVersion } from '../hosts/version.js';
import { streamClient, unloadedExtraCaPems, type StreamClient, type TlsSettings } from '../registry/http.js';
import { systemTrust } from '../registry/trust.js';
import { tlsSettingsFor } from '../registry/tls.js';
import type { System } from '../system/system.js';
import { handle, routeTable, type AccessRecord, type RouteCredential, type RouteTable } from './proxy.js';
import { planServeTree, writeServeTree, type ServeTreePlan } from './render-tree.js';
import { keyPathOf, type ServeRoute } from './routes.js';
import { loadOrCreateSecret } from './secret.js';
import { UpstreamAuth } from './upstream-auth.js';

export const DEFAULT_LISTEN = '127.0.0.1:5599';

/** parseListen accepts HOST:PORT or [V6]:PORT and refuses anything but loopback (docs/serve.md, threat model). */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim());
  const host = m ? (m[1] ?? m[2] ?? '') : '';
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new MirrorauthError('USAGE', `--listen ${JSON.stringify(text)} is not HOST:PORT`, { hint: `write --listen ${DEFAULT_LISTEN}` });
  if (host !== 'localhost' && !isLoopbackIp(host)) {
    throw new MirrorauthError('USAGE', `--listen ${text} is not a loopback address`, {
      hint: "mirrorauth serve hands out the node's registry credentials to whoever holds the access secret; it listens on loopback only (127.0.0.1 or [::1])",
    });
  }
  return { host, port };
}

export interface ServeOptions {
  roots: string[];
  version: ContainerdVersion;
  listen: { host: string; port: number };
  renderDir: string | null;
  configFlag?: string;
  redirects: 'pass' | 'follow';
  /** How often the inputs are checked for changes (ms); 0 = never. */
  reloadMs: number;
  log(rec: AccessRecord): void;
  event(text: string): void;
}

export interface RunningServe {
  url: string;
  secret: string;
  plan(): ServeTreePlan;
  tokenRequests(): number;
  /** Re-reads the inputs now and re-renders when they changed. */
  reload(): Promise<boolean>;
  close(): Promise<void>;
}

/** systemCa: the system store (as logins trust it) plus a NODE_EXTRA_CA_CERTS file the launcher kept Node from loading. */
async function systemCa(sys: System): Promise<string[]> {
  return [...(await systemTrust(sys)).ca, ...(await unloadedExtraCaPems(sys))];
}

/** inputSignature changes whenever a file the render depends on changes. */
async function inputSignature(sys: System, roots: string[], dockerDir: string): Promise<string> {
  const parts: string[] = [];
  const stamp = async (p: string) => {
    try {
      const s = await sys.fs.stat(p);
      parts.push(`${p}:${s.mtimeMs}:${s.size}`);
    } catch {
      parts.push(`${p}:-`);
    }
  };
  for (const root of roots) {
    await stamp(root);
    let names: string[] = [];
    try {
      names = (await sys.fs.readdir(root)).map((e) => e.name);
    } catch {
      /* missing root */
    }
    for (const n of names) {
      await stamp(`${root}/${n}`);
      await stamp(`${root}/${n}/hosts.toml`);
    }
  }
  await stamp(`${dockerDir}/config.json`);
  await stamp(storeFile(dockerDir));
  return parts.join('\n');
}

export function credentialCache(ctxRef: () => CredentialContext): { get(route: ServeRoute, ns: string): Promise<RouteCredential>; clear(): void } {
  const memo = new Map<string, Promise<RouteCredential>>();
  return {
    get(route, ns) {
      const key = `${route.id}\n${ns}`;
      let p = memo.get(key);
      if (!p) {
        p = resolveCredential(ctxRef(), { host: route.endpoint.host, path: keyPathOf(route.endpoint) }, ns).then((l) => ({
          credential: l.credential,
          describe: describeSource(l.source),
          anonymous: l.source.kind === 'anonymous',
        }));
        p.catch(() => memo.delete(key));
        memo.set(key, p);
      }
      return p;
    },
    clear: () => memo.clear(),
  };
}

/** startServe listens, renders and keeps both current until close(). */
export async function startServe(sys: System, o: ServeOptions): Promise<RunningServe> {
  // One piece: the closures share the live state (secret, routes, clients, re-render) that a class would otherwise hold.
  const dockerDir = dockerConfigDir(sys, o.configFlag);
  const secret = await loadOrCreateSecret(sys, dockerDir);
  let ctx = await openCredentials(sys, o.configFlag);
  const creds = credentialCache(() => ctx);
  const auth = new UpstreamAuth(sys);
  const clients = new Map<string, Promise<StreamClient>>();
  const tlsCache = new Map<string, Promise<TlsSettings | null>>();
  const caBundle = await systemCa(sys);
  let table: RouteTable = routeTable([]);
  let plan: ServeTreePlan | null = null;
  let signature = '';
  let plainClient: Promise<StreamClient> | null = null;

  const tlsFor = (route: ServeRoute) => {
    let t = tlsCache.get(route.id);
    if (!t) {
      t = tlsSettingsFor(sys, { caCerts: route.caCerts, clientPairs: route.clientPairs, skipVerify: route.skipVerify });
      tlsCache.set(route.id, t);
    }
    return t;
  };

  const server: Server = createServer((req, res) => {
    void handle(
      {
        sys,
        secret,
        table: () => table,
        credentialFor: (route, ns) => creds.get(route, ns),
        clientFor: (route) => {
          let c = clients.get(route.id);
          if (!c) {
            c = tlsFor(route).then((tls) => streamClient(tls, caBundle));
            clients.set(route.id, c);
          }
          return c;
        },
        tlsFor,
        plainClient: () => (plainClient ??= streamClient(null, caBundle)),
        auth,
        redirects: o.redirects,
        log: o.log,
      },
      req,
      res,
    );
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) =>
      reject(
        errnoCode(e) === 'EADDRINUSE'
          ? new MirrorauthError('USAGE', `${o.listen.host}:${o.listen.port} is in use`, {
              hint: 'another mirrorauth serve may be running; pick another port with --listen',
            })
          : e,
      ),
    );
    server.listen(o.listen.port, o.listen.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;

  const rebuild = async (): Promise<boolean> => {
    const sig = await inputSignature(sys, o.roots, dockerDir);
    if (sig === signature && plan !== null) return false;
    ctx = await openCredentials(sys, o.configFlag);
    creds.clear();
    const next = await planServeTree(sys, ctx, { roots: o.roots, version: o.version, proxyUrl: url, secret });
    if (o.renderDir !== null) {
      const changed = await writeServeTree(sys, o.renderDir, next);
      if (changed.length > 0) o.event(`rendered ${o.renderDir}: ${changed.join(', ')}`);
    }
    for (const c of clients.values()) void c.then((x) => x.close()).catch(() => undefined);
    clients.clear();
    tlsCache.clear();
    table = routeTable(next.manifest.routes);
    plan = next;
    signature = sig;
    return true;
  };

  try {
    await rebuild();
  } catch (e) {
    server.close();
    throw e;
  }
  let timer: ReturnType<typeof setInterval> | null = null;
  if (o.reloadMs > 0) {
    timer = setInterval(() => {
      rebuild().catch((e: unknown) => o.event(`re-render failed, keeping the previous routes: ${(e as Error).message}`));
    }, o.reloadMs);
    timer.unref();
  }

  return {
    url,
    secret,
    plan: () => plan as ServeTreePlan,
    tokenRequests: () => auth.tokenRequests,
    reload: rebuild,
    async close() {
      if (timer) clearInterval(timer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 10_000).unref();
      });
      for (const c of clients.values()) await (await c).close().catch(() => undefined);
      if (plainClient) await (await plainClient).close().catch(() => undefined);
    },
  };
}
