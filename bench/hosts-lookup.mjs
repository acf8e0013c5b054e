#!/usr/bin/env node
// Benchmark: resolving one reference against a certs.d tree of 10 registry
// directories versus one of 10,000. containerd's lookup (and ours) stats only
// the candidate paths of the one registry, so the two should cost the same.
// Measures (a) the resolver in-process, interleaved rounds, median per call,
// and (b) the whole `mirrorauth hosts --json` process, with NODE_EXTRA_CA_CERTS
// unset (it triples Node's start-up on this machine) and recorded.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { resolveHosts } = await import(path.join(repo, 'dist/hosts/resolve.js'));
const { parseContainerdVersion } = await import(path.join(repo, 'dist/hosts/version.js'));
const { nodeSystem } = await import(path.join(repo, 'dist/system/node.js'));

const SIZES = [10, 10_000];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 400);
const PROCESS_RUNS = Number(process.env.BENCH_PROCESS_RUNS ?? 15);
const work = mkdtempSync(path.join(os.tmpdir(), 'mirrorauth-bench-'));

function makeTree(n) {
  const root = path.join(work, `tree-${n}`);
  for (let i = 0; i < n; i++) {
    const dir = path.join(root, `registry-${String(i).padStart(5, '0')}.example.com`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'hosts.toml'), `[host."https://mirror-${i}.example.com"]\n  capabilities = ["pull", "resolve"]\n`);
  }
  // the registry we resolve sits in the middle of the tree
  return root;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

const trees = Object.fromEntries(SIZES.map((n) => [n, makeTree(n)]));
const sys = nodeSystem();
const version = parseContainerdVersion('2.3.4');
const ref = (n) => `registry-${String(Math.floor(n / 2)).padStart(5, '0')}.example.com/team/app:1`;
const once = (n) => resolveHosts(sys, { reference: ref(n), operation: 'pull', roots: [trees[n]], version });

const inProcess = Object.fromEntries(SIZES.map((n) => [n, []]));
for (let i = 0; i < 50; i++) for (const n of SIZES) await once(n); // warm-up
for (let i = 0; i < ROUNDS; i++) {
  for (const n of i % 2 ? SIZES : [...SIZES].reverse()) {
    const t0 = performance.now();
    const r = await once(n);
    inProcess[n].push(performance.now() - t0);
    if (r.hosts.length !== 2) throw new Error(`unexpected resolution for ${n}`);
  }
}

const env = { ...process.env, NO_COLOR: '1' };
delete env.NODE_EXTRA_CA_CERTS;
const processTimes = Object.fromEntries(SIZES.map((n) => [n, []]));
for (let i = 0; i < PROCESS_RUNS; i++) {
  for (const n of SIZES) {
    const t0 = performance.now();
    execFileSync(process.execPath, [path.join(repo, 'dist/bin.js'), 'hosts', ref(n), '--hosts-dir', trees[n], '--json'], { env });
    processTimes[n].push(performance.now() - t0);
  }
}
rmSync(work, { recursive: true, force: true });

const [small, large] = SIZES;
const result = {
  benchmark: 'hosts-lookup',
  node: process.version,
  nodeExtraCaCerts: process.env.NODE_EXTRA_CA_CERTS ? 'set in the environment, unset for the process runs' : 'not set',
  rounds: ROUNDS,
  inProcessMedianMs: { [small]: +median(inProcess[small]).toFixed(4), [large]: +median(inProcess[large]).toFixed(4) },
  inProcessRatio: +(median(inProcess[large]) / median(inProcess[small])).toFixed(3),
  processRuns: PROCESS_RUNS,
  processMedianMs: { [small]: +median(processTimes[small]).toFixed(1), [large]: +median(processTimes[large]).toFixed(1) },
  processRatio: +(median(processTimes[large]) / median(processTimes[small])).toFixed(3),
};
console.log(JSON.stringify(result, null, 2));
console.log(
  `hosts lookup: ${small} dirs ${result.inProcessMedianMs[small]} ms, ${large} dirs ${result.inProcessMedianMs[large]} ms per resolution ` +
    `(ratio ${result.inProcessRatio}); whole process ${result.processMedianMs[small]} ms vs ${result.processMedianMs[large]} ms (ratio ${result.processRatio})`,
);
