#!/usr/bin/env node
// Benchmark: a credential helper is started once per request, so its start-up is the product's latency;
// the everyday commands are started by people. In one run, against the real gnome-keyring and registries
// (scripts/test-harness.sh), it times, through the installed launchers (dist/bin/*, as npm puts them on PATH):
//   node -e 0                                        the baseline
//   docker-credential-secretservice get              Debian's Go helper, same keyring
//   docker-credential-mirrorauth get                 our helper: secret in the keyring, in the store file,
//                                                    and in config.json auths
//   mirrorauth bazel get (warm token cache)          Bearer registry, token served from the disk cache: the
//                                                    steady state (the recorded decision) and the full path
//   mirrorauth hosts / explain                       the bundled example
//   mirrorauth login vs skopeo login                 loopback Basic registry
// Each is run interleaved (median of BENCH_RUNS), once with NODE_EXTRA_CA_CERTS unset and once as this
// machine sets it, and printed as a ratio to `node -e 0` measured in the same pass (login: to skopeo login).
// Two ratios: of the medians (ratioToNode), and the median of each round's own ratio (pairedRatioToNode: the
// command over the `node -e 0` of the same round, seconds apart, so a slow phase of the machine that spans a
// few rounds moves both). Each round runs the commands in a new order (seeded: BENCH_SEED), so no command
// always follows the same one (a login's registry still busy, the keyring daemon still encrypting).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const harnessDir = mkdtempSync(path.join(os.tmpdir(), 'mirrorauth-bench-harness-'));
const script = path.join(repo, 'scripts/test-harness.sh');
const missing = execFileSync('bash', [script, 'missing'], { encoding: 'utf8' }).trim();
if (missing) {
  console.error(`helper-startup needs the real keyring and registries: apt-get install -y ${missing}`);
  process.exit(process.env.CI === 'true' ? 1 : 0);
}
const envFile = execFileSync('bash', [script, 'up'], {
  encoding: 'utf8',
  env: { ...process.env, HARNESS_DIR: harnessDir, HARNESS_BASE_PORT: process.env.HARNESS_BASE_PORT ?? '16000' },
}).trim();
const H = {};
for (const m of readFileSync(envFile, 'utf8').matchAll(/([A-Z_]+)=(\S+)/g)) H[m[1]] = m[2];
const cfg = mkdtempSync(path.join(os.tmpdir(), 'mirrorauth-bench-config-'));
const cache = mkdtempSync(path.join(os.tmpdir(), 'mirrorauth-bench-cache-'));
try {
  // the harness registry is plain http: marked insecure, as a user would, so Bazel may use its token realm
  const base = { ...process.env, ...H, DOCKER_CONFIG: cfg, XDG_CACHE_HOME: cache, NO_COLOR: '1', MIRRORAUTH_BAZEL_INSECURE_HOSTS: H.HARNESS_UPSTREAM };
  const host = H.HARNESS_BASIC;
  // the same secret in both helpers' keyring entries
  execFileSync('docker-credential-secretservice', ['store'], { input: JSON.stringify({ ServerURL: host, Username: 'alice', Secret: 'alice-pw' }), env: base });
  execFileSync(process.execPath, [path.join(repo, 'dist/docker-credential-mirrorauth.cjs'), 'store'], {
    input: JSON.stringify({ ServerURL: host, Username: 'alice', Secret: 'alice-pw' }),
    env: base,
  });
  const stored = JSON.parse(readFileSync(path.join(cfg, 'mirrorauth/namespaced-auths.json'), 'utf8')).auths[host];
  if (stored.backend !== 'keychain') throw new Error(`expected the keychain backend, got ${stored.backend}`);
  execFileSync(process.execPath, [path.join(repo, 'dist/mirrorauth.cjs'), 'login', H.HARNESS_UPSTREAM, '-u', 'alice', '--password-stdin'], {
    input: 'alice-pw',
    env: base,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  const bazelInput = JSON.stringify({ uri: `http://${H.HARNESS_UPSTREAM}/v2/test/hello/manifests/v1` });
  const warm = execFileSync(process.execPath, [path.join(repo, 'dist/mirrorauth.cjs'), 'bazel', 'get'], { input: bazelInput, env: base, encoding: 'utf8' });
  if (!warm.includes('Bearer')) throw new Error('bazel get did not answer a bearer token');

  // the same credential in mirrorauth's store file, under its own host (no keychain entry on its lookup path),
  // and in config.json auths
  const storeFile = path.join(cfg, 'mirrorauth/namespaced-auths.json');
  const store = JSON.parse(readFileSync(storeFile, 'utf8'));
  store.auths['file.test'] = { username: 'alice', backend: 'file', kind: 'password', auth: Buffer.from('alice:alice-pw').toString('base64') };
  writeFileSync(storeFile, JSON.stringify(store), { mode: 0o600 });
  const auths = mkdtempSync(path.join(os.tmpdir(), 'mirrorauth-bench-auths-'));
  writeFileSync(path.join(auths, 'config.json'), JSON.stringify({ auths: { 'auths.test': { auth: Buffer.from('alice:alice-pw').toString('base64') } } }));
  // A warm `bazel get` is answered from the token cache's record of an earlier decision while no file that
  // decision read changed in the last 2 s (src/protocols/bazel-memo.ts RACY_MS): wait, then make the record,
  // so every timed run is the steady state of a build. The full path is timed too: the same request with a
  // query outside the plain form answers are recorded for (the same decision, the same cached token).
  await new Promise((r) => setTimeout(r, 2_100));
  execFileSync(process.execPath, [path.join(repo, 'dist/mirrorauth.cjs'), 'bazel', 'get'], { input: bazelInput, env: base });
  const recorded = JSON.parse(readFileSync(path.join(cache, 'mirrorauth/tokens.json'), 'utf8')).answers ?? {};
  if (Object.keys(recorded).length !== 1) throw new Error(`expected one recorded bazel answer, got ${Object.keys(recorded).length}`);
  const bazelFullInput = JSON.stringify({ uri: `http://${H.HARNESS_UPSTREAM}/v2/test/hello/manifests/v1?x=%41` });
  const bin = (name) => path.join(repo, 'dist/bin', name);
  const example = ['--hosts-dir', path.join(repo, 'examples/certs.d'), '--containerd', '2.3.4'];
  const loginCfg = mkdtempSync(path.join(os.tmpdir(), 'mirrorauth-bench-login-'));
  const commands = {
    'node -e 0': [process.execPath, ['-e', '0'], ''],
    'docker-credential-secretservice get': ['docker-credential-secretservice', ['get'], host],
    'docker-credential-mirrorauth get (keychain)': [bin('docker-credential-mirrorauth'), ['get'], host],
    'docker-credential-mirrorauth get (store file)': [bin('docker-credential-mirrorauth'), ['get'], 'file.test'],
    'docker-credential-mirrorauth get (config.json auths)': [bin('docker-credential-mirrorauth'), ['get'], 'auths.test', { DOCKER_CONFIG: auths }],
    'mirrorauth bazel get (warm cache)': [bin('mirrorauth'), ['bazel', 'get'], bazelInput],
    'mirrorauth bazel get (warm cache, full path)': [bin('mirrorauth'), ['bazel', 'get'], bazelFullInput],
    'mirrorauth hosts (example)': [bin('mirrorauth'), ['hosts', 'alpine:3.19', ...example], ''],
    'mirrorauth explain (example)': [bin('mirrorauth'), ['explain', 'alpine:3.19', ...example, '--config', path.join(repo, 'examples/docker')], ''],
    'skopeo login (loopback Basic)': [
      'skopeo',
      ['login', '--tls-verify=false', '--authfile', path.join(loginCfg, 'auth.json'), '-u', 'alice', '--password-stdin', host],
      'alice-pw',
    ],
    'mirrorauth login (loopback Basic)': [bin('mirrorauth'), ['login', host, '-u', 'alice', '--password-stdin', '--config', loginCfg], 'alice-pw'],
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  // mulberry32: the same orders for the same BENCH_SEED
  let seed = Number(process.env.BENCH_SEED ?? 1) | 0;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const shuffled = (xs) => {
    const a = [...xs];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  };
  const results = {};
  for (const mode of ['unset', 'set']) {
    const env = { ...base };
    if (mode === 'unset') delete env.NODE_EXTRA_CA_CERTS;
    else env.NODE_EXTRA_CA_CERTS = process.env.NODE_EXTRA_CA_CERTS || '/etc/ssl/certs/ca-certificates.crt';
    const times = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
    for (let i = 0; i < RUNS + 3; i++) {
      for (const [name, [cmd, args, input, extraEnv]] of shuffled(Object.entries(commands))) {
        const t0 = performance.now();
        const r = spawnSync(cmd, args, { input, env: { ...env, ...(typeof extraEnv === 'function' ? extraEnv(i) : extraEnv) } });
        const ms = performance.now() - t0;
        if (r.status !== 0) throw new Error(`${name} failed: ${r.stdout}${r.stderr}`);
        if (i >= 3) times[name].push(ms);
      }
    }
    const baseline = median(times['node -e 0']);
    const skopeo = median(times['skopeo login (loopback Basic)']);
    const paired = (v, base) => +median(v.map((x, i) => x / base[i])).toFixed(2);
    results[`NODE_EXTRA_CA_CERTS ${mode}`] = Object.fromEntries(
      Object.entries(times).map(([k, v]) => [
        k,
        {
          medianMs: +median(v).toFixed(1),
          ratioToNode: +(median(v) / baseline).toFixed(2),
          pairedRatioToNode: paired(v, times['node -e 0']),
          ...(k.includes('login')
            ? { ratioToSkopeoLogin: +(median(v) / skopeo).toFixed(2), pairedRatioToSkopeoLogin: paired(v, times['skopeo login (loopback Basic)']) }
            : {}),
        },
      ]),
    );
  }
  console.log(JSON.stringify({ benchmark: 'helper-startup', node: process.version, runs: RUNS, seed: Number(process.env.BENCH_SEED ?? 1), results }, null, 2));
  for (const [mode, r] of Object.entries(results)) {
    console.log(
      `${mode}: ${Object.entries(r)
        .map(
          ([k, v]) =>
            `${k} ${v.medianMs} ms (${v.ratioToNode}x node, paired ${v.pairedRatioToNode}x${v.ratioToSkopeoLogin ? `; ${v.ratioToSkopeoLogin}x skopeo login, paired ${v.pairedRatioToSkopeoLogin}x` : ''})`,
        )
        .join('; ')}`,
    );
  }
} finally {
  execFileSync('bash', [script, 'down'], { env: { ...process.env, HARNESS_DIR: harnessDir } });
  rmSync(cfg, { recursive: true, force: true });
  rmSync(cache, { recursive: true, force: true });
}
