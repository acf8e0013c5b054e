#!/usr/bin/env node
// Benchmark: `mirrorauth doctor` over a certs.d tree of 1,000 registry directories (each with a
// hosts.toml naming a mirror, a tenth with a CA file, a few with problems), in-process and as a
// whole process (NODE_EXTRA_CA_CERTS unset, recorded). Goal: well under a second.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { doctor } = await import(path.join(repo, 'dist/diagnose/doctor.js'));
const { openCredentials } = await import(path.join(repo, 'dist/credentials/resolve.js'));
const { parseContainerdVersion } = await import(path.join(repo, 'dist/hosts/version.js'));
const { nodeSystem } = await import(path.join(repo, 'dist/system/node.js'));

const N = Number(process.env.BENCH_DIRS ?? 1000);
const work = mkdtempSync(path.join(os.tmpdir(), 'mirrorauth-bench-doctor-'));
const root = path.join(work, 'certs.d');
const ca = readFileSync(path.join(repo, 'testdata/oracle/holdout/h33-ca-array-valid/certs.d/registry.example.com/ca.pem'), 'utf8');
for (let i = 0; i < N; i++) {
  const dir = path.join(root, `registry-${String(i).padStart(4, '0')}.example.com`);
  mkdirSync(dir, { recursive: true });
  let toml = `server = "https://registry-${String(i).padStart(4, '0')}.example.com"\n\n[host."https://mirror-${i % 17}.example.com"]\n  capabilities = ["pull", "resolve"]\n`;
  if (i % 10 === 0) {
    writeFileSync(path.join(dir, 'ca.pem'), ca);
    toml += '  ca = "ca.pem"\n';
  }
  if (i % 250 === 1) toml += '  capabilites = ["pull"]\n';
  writeFileSync(path.join(dir, 'hosts.toml'), toml);
}
const cfg = path.join(work, 'docker');
mkdirSync(cfg);
const sys = { ...nodeSystem(), env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: undefined } };
const version = parseContainerdVersion('2.3.4');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const inProcess = [];
let report;
for (let i = 0; i < 7; i++) {
  const t0 = performance.now();
  const ctx = await openCredentials(sys, cfg);
  report = await doctor(sys, ctx, { roots: [root], version, defaultScheme: '' });
  inProcess.push(performance.now() - t0);
}
if (report.directories !== N) throw new Error(`inspected ${report.directories} directories, expected ${N}`);

const env = { ...process.env, NO_COLOR: '1', DBUS_SESSION_BUS_ADDRESS: '' };
delete env.NODE_EXTRA_CA_CERTS;
const processTimes = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  try {
    execFileSync(process.execPath, [path.join(repo, 'dist/mirrorauth.cjs'), 'doctor', '--json', '--hosts-dir', root, '--config', cfg], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    if (e.status !== 0 && e.status !== 1) throw e; // warnings are expected in this tree
  }
  processTimes.push(performance.now() - t0);
}
rmSync(work, { recursive: true, force: true });
const result = {
  benchmark: 'doctor',
  node: process.version,
  directories: N,
  findings: report.diagnostics.length,
  inProcessMedianMs: +median(inProcess).toFixed(1),
  processMedianMs: +median(processTimes).toFixed(1),
  nodeExtraCaCerts: process.env.NODE_EXTRA_CA_CERTS ? 'set in the environment, unset for the process runs' : 'not set',
};
console.log(JSON.stringify(result, null, 2));
console.log(`doctor: ${N} directories in ${result.inProcessMedianMs} ms in-process, ${result.processMedianMs} ms as a process (${result.findings} findings)`);
