#!/usr/bin/env node
// serve-conformance.mjs --corpus DIR --oracle BIN --containerd VERSION [--keep DIR]
//
// Does containerd's own code read a tree rendered by `mirrorauth serve` the way
// it reads the original? For each case of a fuzz-conformance corpus
// (../shared/tools/fuzz-conformance: `fuzz.js --no-cli --out DIR`), every mirror
// is given a credential (an ns=* entry), the tree is rendered for VERSION, and
// the oracle (containerd 1.6.20's or 2.x's own ConfigureHosts and resolver) runs
// on both trees. They agree when the host lists match host for host: a proxy
// entry stands exactly where its mirror was (the route's endpoint is the
// mirror's scheme, host and path) with the same capabilities, and every other
// host is the same URL with the same capabilities, TLS and headers.
// Last line: "serve-conformance: A/N agree"; exit 0 only when all agree.
// Needs `npm run build` and an oracle binary; not used by CI.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { credentialEverywhere } from './lib/credential-everywhere.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({
  options: { corpus: { type: 'string' }, oracle: { type: 'string' }, containerd: { type: 'string', default: '1.6.20' }, keep: { type: 'string' } },
});
const { nodeSystem } = await import(path.join(repo, 'dist/system/node.js'));
const { openCredentials } = await import(path.join(repo, 'dist/credentials/resolve.js'));
const { loadHostDir } = await import(path.join(repo, 'dist/hosts/load.js'));
const { parseContainerdVersion } = await import(path.join(repo, 'dist/hosts/version.js'));
const { planServeTree, writeServeTree } = await import(path.join(repo, 'dist/serve/render-tree.js'));

const sys = nodeSystem();
const version = parseContainerdVersion(opt.containerd);
const PROXY = 'http://127.0.0.1:5599';
const oracle = (roots, ref, op) => {
  try {
    return JSON.parse(execFileSync(opt.oracle, [roots.join(':'), ref, op], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 30_000 }));
  } catch (e) {
    return e.stdout ? JSON.parse(e.stdout) : { error: String(e.message) };
  }
};

const hostView = (h) => ({ url: `${h.scheme}://${h.host}${h.path}`, capabilities: h.capabilities, header: h.header ?? {}, tls: h.tls });

let agree = 0;
let n = 0;
let routes = 0;
let compared = 0;
const failures = [];
for (const name of fs.readdirSync(opt.corpus).sort()) {
  const dir = path.join(opt.corpus, name);
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'fuzz-meta.json'), 'utf8'));
  const roots = meta.roots.map((r) => path.join(dir, r));
  const op = meta.op === 'blob' ? 'blob' : meta.op;
  const cfg = await credentialEverywhere({ sys, loadHostDir, version, roots });
  const ctx = await openCredentials({ ...sys, env: {} }, cfg);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'serve-conf-out-'));
  let why = null;
  try {
    const plan = await planServeTree(sys, ctx, { roots, version, proxyUrl: PROXY, secret: 'S' });
    await writeServeTree(sys, `${out}/certs.d`, plan);
    routes += plan.manifest.routes.length;
    const before = oracle(roots, meta.ref, op);
    const after = oracle([`${out}/certs.d`], meta.ref, op);
    const b = before.hosts ?? [];
    const a = after.hosts ?? [];
    if (Boolean(before.result?.ok) !== Boolean(after.result?.ok) && (b.length > 0 || a.length > 0)) why = `result ${before.result?.ok} vs ${after.result?.ok}`;
    else if (a.length !== b.length)
      why = `${b.length} hosts vs ${a.length}: ${JSON.stringify(b.map((h) => hostView(h).url))} vs ${JSON.stringify(a.map((h) => hostView(h).url))}`;
    else {
      for (let i = 0; i < a.length && why === null; i++) {
        const x = hostView(a[i]);
        const y = hostView(b[i]);
        const route = plan.manifest.routes.find((r) => x.url === `${PROXY}/m/${r.id}/v2`);
        if (route) {
          compared++;
          const ep = `${route.endpoint.scheme}://${route.endpoint.host}${route.endpoint.apiPath}`;
          if (ep !== y.url) why = `host ${i}: route endpoint ${ep} stands where ${y.url} was`;
          else if (JSON.stringify(x.capabilities) !== JSON.stringify(y.capabilities)) why = `host ${i}: capabilities ${x.capabilities} vs ${y.capabilities}`;
        } else if (JSON.stringify(x) !== JSON.stringify(y)) why = `host ${i}: ${JSON.stringify(y)} vs ${JSON.stringify(x)}`;
      }
    }
  } catch (e) {
    why = `render failed: ${e.message}`;
  }
  n++;
  if (why === null) agree++;
  else {
    failures.push({
      name,
      why,
      crlf: fs.readdirSync(dir, { recursive: true }).some((f) => f.endsWith('hosts.toml') && fs.readFileSync(path.join(dir, f), 'utf8').includes('\r')),
    });
    if (opt.keep) fs.cpSync(dir, path.join(opt.keep, name), { recursive: true });
  }
  fs.rmSync(out, { recursive: true, force: true });
  fs.rmSync(cfg, { recursive: true, force: true });
}
for (const f of failures) console.log(`${f.name}${f.crlf ? ' (CRLF)' : ''}: ${f.why}`);
console.log(`serve-conformance: ${routes} proxy routes rendered, ${compared} proxy entries compared in containerd's host lists`);
console.log(`serve-conformance: ${agree}/${n} agree (containerd ${opt.containerd}, corpus ${opt.corpus})`);
process.exit(agree === n ? 0 : 1);
