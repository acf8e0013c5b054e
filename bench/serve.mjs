#!/usr/bin/env node
// Benchmark for `mirrorauth serve`, all in one run on loopback (scripts/test-harness.sh components):
//   blob:  GET a 256 MiB blob (BENCH_BLOB_MIB) from
//            direct     the Bearer registry itself (the client does the token exchange once)
//            serve      mirrorauth serve in front of that registry (credential from mirrorauth login)
//            dist-warm  distribution's own pull-through proxy (docker-registry in proxy mode), warm
//          interleaved, BENCH_BLOB_RUNS times each, timed with curl into tmpfs, the sha256 of every
//          transfer verified afterwards;
//          figure: serve throughput / dist-warm throughput (goal >= 0.8)
//   heads: 3,000 sequential keep-alive HEAD manifest requests, direct vs through serve;
//          figure: added p50 latency per HEAD (goal < 1 ms)
//          and the proxy's own cost: the same HEADs against an instant stub upstream (no registry work),
//          direct vs through serve
//   tokens: token requests serve made per (repository, scope, expiry) over everything above (goal: 1)
// The whole set runs twice: with the proxy's NODE_EXTRA_CA_CERTS unset and set.
// Ratios are measured within one run; absolute numbers depend on the machine.
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import http from 'node:http';

// the client is node:http with keep-alive, like containerd's Go client (undici closes a connection after a HEAD)
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
function request(url, { method = 'GET', headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      res.statusCode ??= 0;
      resolve({
        statusCode: res.statusCode,
        body: Object.assign(res, {
          dump: () => new Promise((r) => (res.resume(), res.on('end', r))),
          json: () =>
            new Promise((r) => {
              let t = '';
              res.on('data', (d) => (t += d));
              res.on('end', () => r(JSON.parse(t)));
            }),
          text: () =>
            new Promise((r) => {
              let t = '';
              res.on('data', (d) => (t += d));
              res.on('end', () => r(t));
            }),
        }),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BLOB_MIB = Number(process.env.BENCH_BLOB_MIB ?? 256);
const BLOB_RUNS = Number(process.env.BENCH_BLOB_RUNS ?? 5);
const HEADS = Number(process.env.BENCH_HEADS ?? 3000);
const script = path.join(repo, 'scripts/test-harness.sh');
const missing = execFileSync('bash', [script, 'missing'], { encoding: 'utf8' }).trim();
if (missing) {
  console.error(`serve bench needs the real registries: apt-get install -y ${missing}`);
  process.exit(process.env.CI === 'true' ? 1 : 0);
}
const work = mkdtempSync(path.join(os.tmpdir(), 'mirrorauth-bench-serve-'));
const harnessDir = path.join(work, 'harness');
const env0 = { ...process.env, HARNESS_DIR: harnessDir, HARNESS_BASE_PORT: process.env.HARNESS_BASE_PORT ?? '17000', HARNESS_TOKEN_TTL: '3600' };
const envFile = execFileSync('bash', [script, 'up'], { encoding: 'utf8', env: env0 }).trim();
const H = {};
for (const m of readFileSync(envFile, 'utf8').matchAll(/([A-Z_]+)=(\S+)/g)) H[m[1]] = m[2];
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const pct = (a, p) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor((a.length * p) / 100))];

/** An OCI layout with one random layer of BLOB_MIB MiB, written to disk and pushed with skopeo. */
function makeBigImage() {
  const dir = path.join(work, 'big');
  mkdirSync(path.join(dir, 'blobs/sha256'), { recursive: true });
  const put = (buf) => {
    const d = createHash('sha256').update(buf).digest('hex');
    writeFileSync(path.join(dir, 'blobs/sha256', d), buf);
    return { digest: `sha256:${d}`, size: buf.length };
  };
  const layer = put(randomBytes(BLOB_MIB * 1024 * 1024));
  const config = put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } })));
  const manifest = put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
      }),
    ),
  );
  writeFileSync(
    path.join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }],
    }),
  );
  writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  execFileSync('skopeo', [
    'copy',
    '-q',
    '--dest-tls-verify=false',
    '--dest-creds',
    'alice:alice-pw',
    `oci:${dir}:v1`,
    `docker://${H.HARNESS_UPSTREAM}/big/blob:v1`,
  ]);
  rmSync(dir, { recursive: true, force: true });
  // skopeo compresses a layer that is not really gzip: take the digests the registry holds
  const raw = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', '--creds', 'alice:alice-pw', `docker://${H.HARNESS_UPSTREAM}/big/blob:v1`]);
  void manifest;
  return { layer: JSON.parse(raw.toString()).layers[0].digest };
}

async function token(user, password, scope) {
  const res = await request(`http://${H.HARNESS_TOKEN}/token?service=registry-${H.HARNESS_UPSTREAM.split(':')[1]}&scope=${scope}`, {
    headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
  });
  return (await res.body.json()).token;
}

/**
 * get downloads one blob with curl (C, no hashing while timed, so the client is never the bottleneck)
 * into tmpfs, checks its sha256 afterwards, and returns curl's MiB/s.
 */
const sink = path.join(fs_shm(), `mirrorauth-bench-${process.pid}.blob`);
function fs_shm() {
  try {
    return statSync('/dev/shm').isDirectory() ? '/dev/shm' : os.tmpdir();
  } catch {
    return os.tmpdir();
  }
}
async function get(url, headers, digest) {
  const args = ['-s', '-f', '-o', sink, '-w', '%{speed_download}'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  const speed = Number(execFileSync('curl', [...args, url], { encoding: 'utf8' }));
  const h = createHash('sha256');
  h.update(readFileSync(sink));
  if (`sha256:${h.digest('hex')}` !== digest) throw new Error(`${url}: digest mismatch`);
  return speed / 1024 / 1024;
}

async function heads(url, headers) {
  const times = [];
  for (let i = 0; i < HEADS; i++) {
    const t0 = performance.now();
    const res = await request(url, { method: 'HEAD', headers });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`HEAD ${url}: ${res.statusCode}`);
    times.push(performance.now() - t0);
  }
  return times;
}

async function startServe(cfg, certs, extraCa) {
  const env = { ...process.env, ...H, DOCKER_CONFIG: cfg, NO_COLOR: '1' };
  if (extraCa) env.NODE_EXTRA_CA_CERTS = process.env.NODE_EXTRA_CA_CERTS || '/etc/ssl/certs/ca-certificates.crt';
  else delete env.NODE_EXTRA_CA_CERTS;
  const child = spawn(
    process.execPath,
    [
      path.join(repo, 'dist/bin.js'),
      'serve',
      '--hosts-dir',
      certs,
      '--render',
      path.join(work, `rendered-${extraCa}`),
      '--listen',
      '127.0.0.1:0',
      '--json',
      '--quiet',
      '--config',
      cfg,
    ],
    { env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    child.once('exit', (c) => reject(new Error(`serve exited ${c}`)));
  });
  const j = JSON.parse(line);
  return {
    url: j.listening,
    route: j.routes.find((r) => r.namespace === 'reg-big.test').id,
    stubRoute: j.routes.find((r) => r.namespace === 'reg-stub.test').id,
    stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))),
  };
}

const results = { blobMiB: BLOB_MIB, blobRuns: BLOB_RUNS, heads: HEADS, node: process.version, cores: os.cpus().length, passes: {} };
try {
  const { layer } = makeBigImage();
  // an upstream that answers at once: what serve adds when the registry costs nothing
  const stub = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': 2, 'docker-content-digest': 'sha256:0' });
    res.end(req.method === 'HEAD' ? undefined : '{}');
  });
  await new Promise((r) => stub.listen(0, '127.0.0.1', r));
  const STUB = `127.0.0.1:${stub.address().port}`;
  const cfg = path.join(work, 'docker');
  const certs = path.join(work, 'certs.d');
  mkdirSync(path.join(certs, 'reg-big.test'), { recursive: true });
  writeFileSync(
    path.join(certs, 'reg-big.test/hosts.toml'),
    `server = "https://reg-big.test"\n\n[host."http://${H.HARNESS_UPSTREAM}"]\n  capabilities = ["pull", "resolve"]\n`,
  );
  mkdirSync(path.join(certs, 'reg-stub.test'), { recursive: true });
  writeFileSync(
    path.join(certs, 'reg-stub.test/hosts.toml'),
    `server = "https://reg-stub.test"\n\n[host."http://${STUB}"]\n  capabilities = ["pull", "resolve"]\n`,
  );
  mkdirSync(path.join(cfg, 'mirrorauth'), { recursive: true });
  execFileSync(
    process.execPath,
    [path.join(repo, 'dist/bin.js'), 'login', `${H.HARNESS_UPSTREAM}?ns=reg-big.test`, '-u', 'alice', '--password-stdin', '--store', 'file', '--config', cfg],
    { input: 'alice-pw', env: { ...process.env, ...H }, stdio: ['pipe', 'ignore', 'ignore'] },
  );
  // the stub needs no credentials, but serve routes only endpoints that have some
  const storeFile = path.join(cfg, 'mirrorauth/namespaced-auths.json');
  const store = JSON.parse(readFileSync(storeFile, 'utf8'));
  store.auths[`${STUB}?ns=reg-stub.test`] = { backend: 'file', auth: Buffer.from('stub:stub').toString('base64') };
  writeFileSync(storeFile, JSON.stringify(store), { mode: 0o600 });
  const direct = { authorization: `Bearer ${await token('alice', 'alice-pw', 'repository:big/blob:pull')}` };
  const mirrorAuth = { authorization: `Basic ${Buffer.from('mirror-user:mirror-pw').toString('base64')}` };
  // warm distribution's pull-through cache (manifest first, as a client pulls; then the blob, checked)
  const warm = await request(`http://${H.HARNESS_MIRROR}/v2/big/blob/manifests/v1`, {
    headers: { ...mirrorAuth, accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  await warm.body.dump();
  if (warm.statusCode !== 200) throw new Error(`the pull-through mirror answered ${warm.statusCode} for the manifest`);
  await get(`http://${H.HARNESS_MIRROR}/v2/big/blob/blobs/${layer}`, mirrorAuth, layer);
  const accept = { accept: 'application/vnd.oci.image.manifest.v1+json' };
  for (const extraCa of [false, true]) {
    const tokenLog = () =>
      readFileSync(H.HARNESS_TOKEN_LOG, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"issued":true') && l.includes('big/blob:pull'));
    const before = tokenLog().length;
    const serve = await startServe(cfg, certs, extraCa);
    const proxied = { authorization: `Bearer ${readFileSync(path.join(cfg, 'mirrorauth/serve-secret'), 'utf8').trim()}` };
    const base = `${serve.url}/m/${serve.route}/v2/big/blob`;
    const mibs = { direct: [], serve: [], 'dist-warm': [] };
    for (let i = 0; i < BLOB_RUNS; i++) {
      mibs.direct.push(await get(`http://${H.HARNESS_UPSTREAM}/v2/big/blob/blobs/${layer}`, direct, layer));
      mibs.serve.push(await get(`${base}/blobs/${layer}?ns=reg-big.test`, proxied, layer));
      mibs['dist-warm'].push(await get(`http://${H.HARNESS_MIRROR}/v2/big/blob/blobs/${layer}`, mirrorAuth, layer));
    }
    // warm both paths' connections, then measure
    await heads(`http://${H.HARNESS_UPSTREAM}/v2/big/blob/manifests/v1`, { ...direct, ...accept });
    const hd = await heads(`http://${H.HARNESS_UPSTREAM}/v2/big/blob/manifests/v1`, { ...direct, ...accept });
    const hs = await heads(`${base}/manifests/v1?ns=reg-big.test`, { ...proxied, ...accept });
    // direct again, same URL: the baseline brackets the proxied run
    const hd2 = await heads(`http://${H.HARNESS_UPSTREAM}/v2/big/blob/manifests/v1`, { ...direct, ...accept });
    const sd = await heads(`http://${STUB}/v2/big/blob/manifests/v1`, accept);
    const ss = await heads(`${serve.url}/m/${serve.stubRoute}/v2/big/blob/manifests/v1?ns=reg-stub.test`, { ...proxied, ...accept });
    const sd2 = await heads(`http://${STUB}/v2/big/blob/manifests/v1`, accept);
    await serve.stop();
    const m = Object.fromEntries(
      Object.entries(mibs).map(([k, v]) => [k, { medianMiBs: +median(v).toFixed(0), min: +Math.min(...v).toFixed(0), max: +Math.max(...v).toFixed(0) }]),
    );
    const p50d = median([...hd, ...hd2]);
    results.passes[`NODE_EXTRA_CA_CERTS ${extraCa ? 'set' : 'unset'}`] = {
      blob: m,
      serveVsDistWarm: +(median(mibs.serve) / median(mibs['dist-warm'])).toFixed(2),
      serveVsDirect: +(median(mibs.serve) / median(mibs.direct)).toFixed(2),
      head: {
        directP50Ms: +p50d.toFixed(3),
        serveP50Ms: +median(hs).toFixed(3),
        addedP50Ms: +(median(hs) - p50d).toFixed(3),
        serveP99Ms: +pct(hs, 99).toFixed(3),
      },
      headStub: {
        directP50Ms: +median([...sd, ...sd2]).toFixed(3),
        serveP50Ms: +median(ss).toFixed(3),
        addedP50Ms: +(median(ss) - median([...sd, ...sd2])).toFixed(3),
      },
      tokenRequests: tokenLog().length - before,
      requestsThroughServe: BLOB_RUNS + HEADS * 2,
      sha256Verified: BLOB_RUNS * 3,
    };
  }
  console.log(JSON.stringify(results, null, 2));
  for (const [pass, r] of Object.entries(results.passes)) {
    console.log(
      `serve (${pass}): blob ${r.blob.serve.medianMiBs} MiB/s = ${r.serveVsDistWarm}x distribution's warm proxy (${r.blob['dist-warm'].medianMiBs}), ${r.serveVsDirect}x direct (${r.blob.direct.medianMiBs}); HEAD p50 +${r.head.addedP50Ms} ms against the registry, +${r.headStub.addedP50Ms} ms against an instant stub; ${r.tokenRequests} token request(s) for ${r.requestsThroughServe} requests; ${r.sha256Verified} transfers sha256-verified`,
    );
  }
  stub.close();
  agent.destroy();
} finally {
  execFileSync('bash', [script, 'down'], { env: env0, stdio: 'inherit' });
  rmSync(work, { recursive: true, force: true });
  rmSync(sink, { force: true });
}
