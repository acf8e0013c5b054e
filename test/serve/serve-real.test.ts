/**
 * `mirrorauth serve` with real components: a containerd 1.6.20 daemon (ctr and
 * a kubelet-style CRI PullImage call), podman, distribution registries with
 * Basic and Bearer auth (one Bearer mirror serving two namespaces whose
 * credentials differ, with per-user repository ACLs), and a registry that
 * redirects blobs to an object store refusing any Authorization header.
 * The registries' own logs say which user each request carried.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bin, repo, runBin, tempDir } from '../helpers/bin.js';
import { containerdUnavailable, startContainerd, type Containerd } from '../helpers/containerd.js';

const h = inject('harness');
const E = h.env as Record<string, string> & {
  HARNESS_DIR: string;
  HARNESS_NSMIRROR: string;
  HARNESS_BASIC: string;
  HARNESS_UPSTREAM: string;
  HARNESS_TOKEN_LOG: string;
  HARNESS_ALPHA_DIGEST: string;
  HARNESS_BETA_DIGEST: string;
  HARNESS_GAMMA_DIGEST: string;
  HARNESS_IMAGE_DIGEST: string;
};
const ci = process.env.CI === 'true' || process.env.CI === '1';
const why = h.available ? containerdUnavailable() : h.reason;
if (why !== null && h.available && ci) throw new Error(`CI=true and the serve tests cannot run: ${why}`);
if (why !== null && h.available) process.stderr.write(`\n[mirrorauth tests] skipping the serve tests with a real containerd: ${why}\n`);

interface Serve {
  url: string;
  child: ChildProcess;
  log(): string;
  stop(): Promise<number | null>;
}

async function startServe(args: string[]): Promise<Serve> {
  const child = spawn(process.execPath, [bin, 'serve', '--listen', '127.0.0.1:0', '--json', '--reload', '0.2', ...args], {
    env: { ...process.env, ...E, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line && out.includes('\n')) resolve((JSON.parse(line) as { listening: string }).listening);
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  return {
    url,
    child,
    log: () => err,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

/** accessLog: the proxy's records so far (after a turn of the event loop: spawnSync blocks the reader). */
async function accessLog(s: Serve): Promise<Array<Record<string, unknown>>> {
  await new Promise((r) => setTimeout(r, 150));
  return s
    .log()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function logSize(name: string): number {
  return readFileSync(`${E.HARNESS_DIR}/log/${name}.log`, 'utf8').length;
}

/** registryStatuses: the status of each request to `repo` the registry completed since `from`. */
function registryStatuses(name: string, repoName: string, from: number): number[] {
  const lines = readFileSync(`${E.HARNESS_DIR}/log/${name}.log`, 'utf8').slice(from).split('\n');
  return lines
    .filter((l) => l.includes(`/v2/${repoName}/`) && l.includes('msg="response completed'))
    .map((l) => Number(/http\.response\.status=(\d+)/.exec(l)?.[1] ?? 0));
}

/**
 * userThroughProxy asks the proxy for a blob that does not exist on one route;
 * distribution logs such an error with the authenticated user's name, so the
 * registry's own log says which credential the proxy sent for that route.
 */
async function userThroughProxy(s: Serve, secretValue: string, name: string, route: string, ns: string, repoName: string): Promise<string> {
  const digest = `sha256:${Math.random().toString(16).slice(2).padEnd(64, '0').slice(0, 64)}`;
  const r = await fetch(`${s.url}/m/${route}/v2/${repoName}/blobs/${digest}?ns=${ns}`, { method: 'HEAD', headers: { authorization: `Bearer ${secretValue}` } });
  expect(r.status).toBe(404);
  const line = readFileSync(`${E.HARNESS_DIR}/log/${name}.log`, 'utf8')
    .split('\n')
    .find((l) => l.includes(digest) && l.includes('auth.user.name'));
  return /auth\.user\.name="?([^"\s]*)/.exec(line ?? '')?.[1] ?? '(none)';
}

async function routeOf(s: Serve, ns: string): Promise<string> {
  const rec = (await accessLog(s)).find((x) => x.ns === ns && typeof x.route === 'string');
  return rec?.route as string;
}

/** tokenLog: every token the token server issued: to whom, for which scopes. */
function tokenLog(): Array<{ user: string; scope: string }> {
  return readFileSync(E.HARNESS_TOKEN_LOG, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { issued?: boolean; user: string; scopes: string[] })
    .filter((r) => r.issued === true)
    .flatMap((r) => r.scopes.map((scope) => ({ user: r.user, scope })));
}

function write(path: string, text: string): void {
  mkdirSync(path.slice(0, path.lastIndexOf('/')), { recursive: true });
  writeFileSync(path, text);
}

async function login(cfg: string, endpoint: string, user: string, password: string): Promise<void> {
  const r = await runBin(['login', endpoint, '-u', user, '--password-stdin', '--config', cfg], { input: password, env: E });
  expect(r.code, r.stderr).toBe(0);
}

async function curl(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Headers; body: string }> {
  const res = await fetch(url, { method, headers, redirect: 'manual' });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

describe.skipIf(why !== null)('mirrorauth serve with containerd 1.6.20, CRI and podman', () => {
  const cfg = tempDir();
  const certs = tempDir();
  const rendered = `${tempDir()}/certs.d`;
  let serve: Serve;
  let ctd: Containerd;
  let secret: string;
  let redirect: ChildProcess;
  const redirectLog = `${tempDir()}/redirect.jsonl`;
  const RR = '127.0.0.1:15080';

  beforeAll(async () => {
    // a registry that redirects blobs to an object store on another origin (localhost:15081)
    redirect = spawn(
      process.execPath,
      [
        `${repo}/test/fixtures/redirect-registry.mjs`,
        '--layout',
        `${E.HARNESS_DIR}/image`,
        '--port',
        '15080',
        '--store-port',
        '15081',
        '--user',
        'rr:rr-pw',
        '--log',
        redirectLog,
      ],
      { stdio: 'ignore' },
    );
    for (
      let i = 0;
      i < 100 &&
      !(await fetch(`http://${RR}/v2/`).then(
        () => true,
        () => false,
      ));
      i++
    )
      await new Promise((r) => setTimeout(r, 50));
    write(`${certs}/reg-r.test/hosts.toml`, `server = "https://reg-r.test"\n\n[host."http://${RR}"]\n  capabilities = ["pull", "resolve"]\n`);
    await login(cfg, `${RR}?ns=reg-r.test`, 'rr', 'rr-pw');
    const NS = E.HARNESS_NSMIRROR;
    const B = E.HARNESS_BASIC;
    // one Bearer mirror serving two upstreams, each with its own robot account
    write(`${certs}/reg-a.test/hosts.toml`, `server = "https://reg-a.test"\n\n[host."http://${NS}"]\n  capabilities = ["pull", "resolve"]\n`);
    write(`${certs}/reg-b.test/hosts.toml`, `server = "https://reg-b.test"\n\n[host."http://${NS}"]\n  capabilities = ["pull", "resolve"]\n`);
    // a Basic mirror
    write(`${certs}/reg-c.test/hosts.toml`, `server = "https://reg-c.test"\n\n[host."http://${B}"]\n  capabilities = ["pull", "resolve"]\n`);
    // the first mirror refuses this namespace's image (robot-a may read alpha/ only): containerd must move on
    write(
      `${certs}/reg-d.test/hosts.toml`,
      `server = "https://reg-d.test"\n\n[host."http://${NS}"]\n  capabilities = ["pull", "resolve"]\n\n[host."http://${B}"]\n  capabilities = ["pull", "resolve"]\n`,
    );
    // the registry itself is the Basic registry; the mirror in front of it goes through the proxy
    write(`${certs}/${B}/hosts.toml`, `server = "http://${B}"\n\n[host."http://${NS}"]\n  capabilities = ["pull", "resolve"]\n`);
    // a mirror that takes pushes: its proxy entry keeps "push"
    write(`${certs}/reg-p.test/hosts.toml`, `server = "https://reg-p.test"\n\n[host."http://${NS}"]\n  capabilities = ["pull", "resolve", "push"]\n`);
    // a directory without mirrorauth credentials stays a link to the original
    write(`${certs}/plain.test/hosts.toml`, `server = "https://plain.test"\n`);
    // _default: a mirror for every registry, routed by ?ns=
    write(`${certs}/_default/hosts.toml`, `[host."http://${NS}"]\n  capabilities = ["pull", "resolve"]\n`);
    await login(cfg, `${NS}?ns=reg-a.test`, 'robot-a', 'robot-a-pw');
    await login(cfg, `${NS}?ns=reg-b.test`, 'robot-b', 'robot-b-pw');
    await login(cfg, `${B}?ns=reg-c.test`, 'ci', 'ci-pw');
    await login(cfg, `${NS}?ns=reg-d.test`, 'robot-a', 'robot-a-pw');
    await login(cfg, `${B}?ns=reg-d.test`, 'ci', 'ci-pw');
    await login(cfg, `${NS}?ns=${B}`, 'robot-a', 'robot-a-pw');
    await login(cfg, `${NS}?ns=reg-e.test`, 'robot-a', 'robot-a-pw');
    await login(cfg, `${NS}?ns=reg-p.test`, 'robot-a', 'robot-a-pw');
    serve = await startServe(['--hosts-dir', certs, '--render', rendered, '--config', cfg, '--containerd', '1.6.20']);
    secret = readFileSync(`${cfg}/mirrorauth/serve-secret`, 'utf8').trim();
    ctd = await startContainerd(rendered);
  }, 120_000);

  afterAll(async () => {
    if (process.env.SERVE_TEST_DUMP) writeFileSync(process.env.SERVE_TEST_DUMP, serve.log());
    redirect?.kill();
    await ctd?.stop();
    await serve?.stop();
  });

  it('renders proxy entries in place of credentialed mirrors, 0600/0700, and links the rest', async () => {
    expect(statSync(rendered).mode & 0o777).toBe(0o700);
    const a = `${rendered}/reg-a.test/hosts.toml`;
    expect(statSync(a).mode & 0o777).toBe(0o600);
    expect(statSync(`${rendered}/reg-a.test`).mode & 0o777).toBe(0o700);
    expect(readlinkSync(`${rendered}/plain.test`)).toBe(`${certs}/plain.test`);
    const text = readFileSync(a, 'utf8');
    expect(text).toContain(`[host."${serve.url}/m/`);
    expect(text).toContain(`"Authorization" = ["Bearer ${secret}"]`);
    // the same order containerd would use: proxy entry where the mirror was, then the server
    for (const ref of ['reg-a.test/alpha/app:v1', 'reg-d.test/gamma/app:v1', `${E.HARNESS_BASIC}/test/hello:v1`]) {
      const before = JSON.parse((await runBin(['hosts', ref, '--hosts-dir', certs, '--containerd', '1.6.20', '--json'])).stdout) as {
        hosts: Array<{ url: string; capabilities: string[] }>;
      };
      const after = JSON.parse((await runBin(['hosts', ref, '--hosts-dir', rendered, '--containerd', '1.6.20', '--json'])).stdout) as {
        hosts: Array<{ url: string; capabilities: string[] }>;
      };
      expect(after.hosts.length).toBe(before.hosts.length);
      after.hosts.forEach((hst, i) => {
        const orig = before.hosts[i] as { url: string };
        if (hst.url.startsWith(serve.url)) expect(orig.url).toMatch(/^http:\/\/127\.0\.0\.1:/);
        else expect(hst.url).toBe(orig.url);
      });
    }
  });

  it('ctr pulls two images through the same mirror with a different robot per namespace', async () => {
    const mark = logSize('nsmirror');
    for (const [ref, digest] of [
      ['reg-a.test/alpha/app:v1', E.HARNESS_ALPHA_DIGEST],
      ['reg-b.test/beta/app:v1', E.HARNESS_BETA_DIGEST],
    ] as const) {
      const r = ctd.ctr(['image', 'pull', '--snapshotter', 'native', '--hosts-dir', rendered, ref]);
      expect(r.status, r.stderr + r.stdout).toBe(0);
      expect(ctd.ctr(['image', 'ls', '-q']).stdout).toContain(ref);
      expect(ctd.ctr(['image', 'ls']).stdout).toContain(digest);
    }
    // every request that reached the mirror was accepted, except at most one challenge per endpoint
    for (const repoName of ['alpha/app', 'beta/app']) {
      const statuses = registryStatuses('nsmirror', repoName, mark);
      expect(statuses.filter((x) => x === 200).length).toBeGreaterThanOrEqual(3);
      expect(statuses.filter((x) => x !== 200).length).toBeLessThanOrEqual(1);
    }
    expect(await userThroughProxy(serve, secret, 'nsmirror', await routeOf(serve, 'reg-a.test'), 'reg-a.test', 'alpha/app')).toBe('robot-a');
    expect(await userThroughProxy(serve, secret, 'nsmirror', await routeOf(serve, 'reg-b.test'), 'reg-b.test', 'beta/app')).toBe('robot-b');
    // the token server saw each robot ask only for its own repository
    const tokens = tokenLog().filter((t) => t.scope.endsWith(':pull'));
    expect(tokens.filter((t) => t.scope === 'repository:alpha/app:pull').map((t) => t.user)).toContain('robot-a');
    expect(tokens.filter((t) => t.scope === 'repository:beta/app:pull').map((t) => t.user)).toContain('robot-b');
    expect(tokens.filter((t) => t.scope === 'repository:beta/app:pull' && t.user === 'robot-a')).toEqual([]);
    expect(tokens.filter((t) => t.scope === 'repository:alpha/app:pull' && t.user === 'robot-b')).toEqual([]);
    // the access log names the credential key, never a secret
    const recs = (await accessLog(serve)).filter((r) => String(r.path).includes('/alpha/app/'));
    expect(recs.every((r) => String(r.credential).includes(`${E.HARNESS_NSMIRROR}?ns=reg-a.test`))).toBe(true);
    expect(serve.log()).not.toContain('robot-a-pw');
    expect(serve.log()).not.toContain(secret);
  });

  it('a kubelet-style CRI PullImage goes through the proxy with the Basic mirror credential', async () => {
    const mark = logSize('basic');
    const r = spawnSync(process.execPath, [`${repo}/test/fixtures/cri-pull.mjs`, ctd.socket, 'reg-c.test/gamma/app:v1'], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).imageRef).toMatch(/^sha256:[0-9a-f]{64}$/); // CRI answers the image id (its config digest)
    expect(ctd.ctr(['-n', 'k8s.io', 'image', 'ls']).stdout).toContain(E.HARNESS_GAMMA_DIGEST);
    const statuses = registryStatuses('basic', 'gamma/app', mark);
    expect(statuses.filter((x) => x === 200).length).toBeGreaterThanOrEqual(3);
    expect(statuses.filter((x) => x !== 200).length).toBeLessThanOrEqual(1);
    expect(await userThroughProxy(serve, secret, 'basic', await routeOf(serve, 'reg-c.test'), 'reg-c.test', 'gamma/app')).toBe('ci');
  });

  it('an upstream that rejects the credential gets a 403 with the key, and containerd falls back to the next host', async () => {
    const r = ctd.ctr(['image', 'pull', '--snapshotter', 'native', '--hosts-dir', rendered, 'reg-d.test/gamma/app:v1']);
    expect(r.status, r.stderr).toBe(0);
    const denied = (await accessLog(serve)).filter((x) => x.status === 403 && x.ns === 'reg-d.test');
    expect(denied.length).toBeGreaterThan(0);
    expect(String(denied[0]?.note)).toContain(`${E.HARNESS_NSMIRROR}?ns=reg-d.test`);
    const served = (await accessLog(serve)).filter((x) => x.status === 200 && x.ns === 'reg-d.test');
    expect(served.every((x) => String(x.endpoint).includes(E.HARNESS_BASIC))).toBe(true);
  });

  it('a _default entry routes by ?ns= through the closed table', async () => {
    const r = ctd.ctr(['image', 'pull', '--snapshotter', 'native', '--hosts-dir', rendered, 'reg-e.test/alpha/app:v1']);
    expect(r.status, r.stderr).toBe(0);
    expect((await accessLog(serve)).some((x) => x.ns === 'reg-e.test' && x.status === 200)).toBe(true);
  });

  it('refuses requests without the access secret, and unknown ids or namespaces without dialling anything', async () => {
    const before = readFileSync(`${E.HARNESS_DIR}/log/nsmirror.log`, 'utf8').length;
    const beforeBasic = readFileSync(`${E.HARNESS_DIR}/log/basic.log`, 'utf8').length;
    const route = (await accessLog(serve)).find((x) => x.ns === 'reg-a.test')?.route as string;
    const path = `${serve.url}/m/${route}/v2/alpha/app/manifests/v1`;
    const none = await curl(path, {}, 'GET');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Basic');
    const wrong = await curl(path, { authorization: 'Bearer not-the-secret' });
    expect(wrong.status).toBe(403);
    const auth = { authorization: `Bearer ${secret}` };
    const unknownId = await curl(`${serve.url}/m/0123456789abcdef/v2/alpha/app/manifests/v1?ns=reg-a.test`, auth);
    expect(unknownId.status).toBe(404);
    expect(JSON.parse(unknownId.body).errors[0].code).toBe('NAME_UNKNOWN');
    const unknownNs = await curl(`${serve.url}/v2/alpha/app/manifests/v1?ns=unknown.test`, auth);
    expect(unknownNs.status).toBe(404);
    const spoofed = await curl(`${path}?ns=reg-b.test`, auth);
    expect(spoofed.status).toBe(404);
    const evil = await curl(`${serve.url}/v2/alpha/app/manifests/v1?ns=${encodeURIComponent('127.0.0.1:22')}`, auth);
    expect(evil.status).toBe(404);
    expect(readFileSync(`${E.HARNESS_DIR}/log/nsmirror.log`, 'utf8').length).toBe(before);
    expect(readFileSync(`${E.HARNESS_DIR}/log/basic.log`, 'utf8').length).toBe(beforeBasic);
    // HEAD carries what containerd needs to trust the digest without a GET
    const head = await curl(`${path}?ns=reg-a.test`, { ...auth, accept: 'application/vnd.oci.image.manifest.v1+json' }, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('docker-content-digest')).toBe(E.HARNESS_ALPHA_DIGEST);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);
    expect(head.headers.get('content-type')).toContain('application/vnd.oci.image.manifest.v1+json');
  });

  it('podman pulls through a registries.conf mirror rendered to the proxy, with the namespace in the path', async () => {
    const conf = `${tempDir()}/registries.conf`;
    const auth = `${tempDir()}/auth.json`;
    expect((await runBin(['render', '--format', 'registries-conf', '--via-serve', rendered, '-o', conf, '--config', cfg])).code).toBe(0);
    expect((await runBin(['render', '--format', 'containers', '--via-serve', rendered, '-o', auth, '--config', cfg])).code).toBe(0);
    expect(readFileSync(conf, 'utf8')).toContain('prefix = "reg-b.test"');
    const store = tempDir();
    const mark = logSize('nsmirror');
    const r = spawnSync(
      'podman',
      [
        '--root',
        `${store}/root`,
        '--runroot',
        `${store}/run`,
        '--storage-driver',
        'vfs',
        '--cgroup-manager',
        'cgroupfs',
        '--events-backend',
        'none',
        'pull',
        '--authfile',
        auth,
        'reg-b.test/beta/app:v1',
      ],
      { encoding: 'utf8', timeout: 120_000, env: { ...process.env, CONTAINERS_REGISTRIES_CONF: conf } },
    );
    expect(r.status, r.stderr).toBe(0);
    const podmanHits = (await accessLog(serve)).filter((x) => String(x.path).startsWith('/v2/mirrorauth/') && x.status === 200);
    expect(podmanHits.length).toBeGreaterThan(0);
    expect(podmanHits.every((x) => x.ns === 'reg-b.test')).toBe(true);
    expect(registryStatuses('nsmirror', 'beta/app', mark).filter((x) => x === 200).length).toBeGreaterThanOrEqual(3);
  });

  it('ctr pushes through a push-capable proxy entry with the namespace from the route (1.6 sends no ?ns= on push)', async () => {
    expect(ctd.ctr(['image', 'tag', 'reg-a.test/alpha/app:v1', 'reg-p.test/alpha/pushed:v1']).status).toBe(0);
    const r = ctd.ctr(['image', 'push', '--hosts-dir', rendered, 'reg-p.test/alpha/pushed:v1']);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const inspect = spawnSync(
      'skopeo',
      ['inspect', '--raw', '--tls-verify=false', '--creds', 'robot-a:robot-a-pw', `docker://${E.HARNESS_NSMIRROR}/alpha/pushed:v1`],
      { encoding: 'utf8' },
    );
    expect(inspect.status, inspect.stderr).toBe(0);
    expect(`sha256:${createHash('sha256').update(inspect.stdout).digest('hex')}`).toBe(E.HARNESS_ALPHA_DIGEST);
    const pushes = (await accessLog(serve)).filter((x) => x.ns === 'reg-p.test' && (x.method === 'PUT' || x.method === 'POST'));
    expect(pushes.some((x) => x.method === 'PUT' && String(x.path).includes('/manifests/'))).toBe(true);
    expect(pushes.every((x) => Number(x.status) >= 200 && Number(x.status) < 300)).toBe(true);
    expect(tokenLog().some((t) => t.user === 'robot-a' && t.scope === 'repository:alpha/pushed:pull,push')).toBe(true);
    // the pull-only entries refuse a push outright
    const denied = await curl(
      `${serve.url}/m/${await routeOf(serve, 'reg-a.test')}/v2/alpha/app/blobs/uploads/`,
      { authorization: `Bearer ${secret}` },
      'POST',
    );
    expect(denied.status).toBe(405);
  });

  it('passes a cross-origin blob redirect to containerd: the object store never sees an Authorization header', async () => {
    const r = ctd.ctr(['image', 'pull', '--snapshotter', 'native', '--hosts-dir', rendered, 'reg-r.test/test/hello:v1']);
    expect(r.status, r.stderr).toBe(0);
    const recs = readFileSync(redirectLog, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { server: string; authorization: string | null; path: string });
    const store = recs.filter((x) => x.server === 'store');
    expect(store.length).toBeGreaterThanOrEqual(2); // config and layer came from the store
    expect(store.every((x) => x.authorization === null)).toBe(true);
    expect(recs.filter((x) => x.server === 'registry' && x.path.includes('/blobs/')).every((x) => x.authorization === 'Basic')).toBe(true);
    expect((await accessLog(serve)).some((x) => x.note === 'redirect passed to the client' && x.ns === 'reg-r.test')).toBe(true);
  });

  it('--redirects follow fetches the redirect target itself, without credentials, and the bytes match the digest', async () => {
    const follow = await startServe([
      '--hosts-dir',
      certs,
      '--render',
      `${tempDir()}/certs.d`,
      '--config',
      cfg,
      '--containerd',
      '1.6.20',
      '--redirects',
      'follow',
    ]);
    try {
      const route = (
        JSON.parse(readFileSync(`${rendered}/.mirrorauth-serve.json`, 'utf8')) as { routes: Array<{ id: string; namespace: string }> }
      ).routes.find((x) => x.namespace === 'reg-r.test')?.id;
      const layout = JSON.parse(readFileSync(`${E.HARNESS_DIR}/image/blobs/sha256/${E.HARNESS_IMAGE_DIGEST.slice(7)}`, 'utf8')) as {
        layers: Array<{ digest: string }>;
      };
      const layer = layout.layers[0]?.digest as string;
      const before = readFileSync(redirectLog, 'utf8').length;
      const res = await fetch(`${follow.url}/m/${route}/v2/test/hello/blobs/${layer}?ns=reg-r.test`, {
        headers: { authorization: `Bearer ${secret}` },
        redirect: 'manual',
      });
      expect(res.status).toBe(200);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(layer);
      const store = readFileSync(redirectLog, 'utf8')
        .slice(before)
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { server: string; authorization: string | null });
      expect(store.filter((x) => x.server === 'store').length).toBe(1);
      expect(store.filter((x) => x.server === 'store').every((x) => x.authorization === null)).toBe(true);
    } finally {
      await follow.stop();
    }
  });

  it('explain shows the credential the proxy sends for a proxy host; doctor finds the running proxy and no false findings', async () => {
    const e = await runBin(['explain', 'reg-a.test/alpha/app:v1', '--hosts-dir', rendered, '--config', cfg, '--containerd', '1.6.20', '--json'], { env: E });
    expect(e.code, e.stderr).toBe(0);
    const j = JSON.parse(e.stdout) as {
      hosts: Array<{
        serve: { endpoint: string; namespace: string } | null;
        credential: { found: boolean; sourceText: string };
        differs: string[];
        reachedBy: string[];
      }>;
    };
    expect(j.hosts[0]?.serve).toMatchObject({ endpoint: `http://${E.HARNESS_NSMIRROR}/v2`, namespace: 'reg-a.test' });
    expect(j.hosts[0]?.credential.found).toBe(true);
    expect(j.hosts[0]?.credential.sourceText).toContain(`${E.HARNESS_NSMIRROR}?ns=reg-a.test`);
    // every client that reads the rendered hosts.toml goes through the proxy; helper and Bazel do not read it
    expect(j.hosts[0]?.differs.filter((c) => c !== 'helper' && c !== 'bazel')).toEqual([]);
    expect(j.hosts[0]?.reachedBy).toEqual(expect.arrayContaining(['serve', 'nerdctl', 'cri', 'ctr']));
    expect(j.hosts[1]?.serve).toBeNull();
    const human = await runBin(['explain', 'reg-b.test/beta/app:v1', '--hosts-dir', rendered, '--config', cfg, '--containerd', '1.6.20'], { env: E });
    expect(human.stdout).toContain(`serve → http://${E.HARNESS_NSMIRROR}/v2`);
    expect(human.stdout).not.toContain(secret);
    const d = await runBin(['doctor', '--hosts-dir', rendered, '--config', cfg, '--containerd', '1.6.20', '--json'], { env: E });
    const codes = (JSON.parse(d.stdout) as { diagnostics: Array<{ code: string; message: string }> }).diagnostics.map((x) => x.code);
    expect(codes).not.toContain('SERVE_PROXY_DOWN');
    expect(codes).not.toContain('SERVE_TREE_STALE');
    expect(
      (JSON.parse(d.stdout) as { diagnostics: Array<{ code: string; message: string }> }).diagnostics.filter(
        (x) => x.code === 'CRED_MIRROR_NO_CREDENTIALS' && x.message.includes(new URL(serve.url).host),
      ),
    ).toEqual([]);
  });

  it('a stopped proxy never blocks a pull that works without it', async () => {
    // the Basic registry itself is the last host; its mirror goes through the proxy
    const r1 = ctd.ctr(['image', 'pull', '--snapshotter', 'native', '--hosts-dir', rendered, '--user', 'alice:alice-pw', `${E.HARNESS_BASIC}/test/hello:v1`]);
    expect(r1.status, r1.stderr).toBe(0);
    const code = await serve.stop();
    expect(code).toBe(0); // clean shutdown on SIGTERM
    ctd.ctr(['image', 'rm', `${E.HARNESS_BASIC}/test/hello:v1`]);
    ctd.ctr(['content', 'rm', E.HARNESS_IMAGE_DIGEST]);
    const r2 = ctd.ctr(['image', 'pull', '--snapshotter', 'native', '--hosts-dir', rendered, '--user', 'alice:alice-pw', `${E.HARNESS_BASIC}/test/hello:v1`]);
    expect(r2.status, r2.stderr).toBe(0);
    // doctor says so, and says the tree is stale once the inputs change while nothing re-renders it
    write(`${certs}/reg-g.test/hosts.toml`, `[host."http://${E.HARNESS_NSMIRROR}"]\n`);
    const d = await runBin(['doctor', '--hosts-dir', rendered, '--config', cfg, '--containerd', '1.6.20', '--json'], { env: E });
    const codes = (JSON.parse(d.stdout) as { diagnostics: Array<{ code: string }> }).diagnostics.map((x) => x.code);
    expect(codes).toContain('SERVE_PROXY_DOWN');
    expect(codes).toContain('SERVE_TREE_STALE');
    // restart for the tests after this one (same port: the tree stays valid)
    serve = await startServe(['--hosts-dir', certs, '--render', rendered, '--config', cfg, '--containerd', '1.6.20', '--listen', new URL(serve.url).host]);
  });

  it('re-renders live when hosts.toml or the store change (no containerd restart)', async () => {
    write(`${certs}/reg-f.test/hosts.toml`, `server = "https://reg-f.test"\n\n[host."http://${E.HARNESS_NSMIRROR}"]\n  capabilities = ["pull", "resolve"]\n`);
    expect(existsSync(`${rendered}/reg-f.test`)).toBe(false);
    const deadline = Date.now() + 10_000;
    while (!existsSync(`${rendered}/reg-f.test`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(readlinkSync(`${rendered}/reg-f.test`)).toBe(`${certs}/reg-f.test`); // no credentials yet: a link
    await login(cfg, `${E.HARNESS_NSMIRROR}?ns=reg-f.test`, 'robot-a', 'robot-a-pw');
    while (!existsSync(`${rendered}/reg-f.test/hosts.toml`) || readFileSync(`${rendered}/reg-f.test/hosts.toml`, 'utf8').indexOf('/m/') < 0) {
      if (Date.now() > deadline + 10_000) throw new Error('not re-rendered');
      await new Promise((r) => setTimeout(r, 100));
    }
    const r = ctd.ctr(['image', 'pull', '--snapshotter', 'native', '--hosts-dir', rendered, 'reg-f.test/alpha/app:v1']);
    expect(r.status, r.stderr).toBe(0);
  });
});
