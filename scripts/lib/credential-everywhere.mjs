// credentialEverywhere writes a Docker config dir whose namespaced store holds an ns=* credential for
// every host any hosts.toml under `roots` names, so that `mirrorauth serve` routes every mirror entry.
// Used by scripts/serve-conformance.mjs and test/serve/render-equivalence.test.ts; the caller passes the
// project's own loadHostDir and System (from dist/ or src/), so both read trees exactly as mirrorauth does.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export async function credentialEverywhere({ sys, loadHostDir, version, roots }) {
  const hosts = new Set();
  for (const root of roots) {
    let names = [];
    try {
      names = (await sys.fs.readdir(root)).filter((e) => !e.isFile).map((e) => e.name);
    } catch {
      continue;
    }
    for (const n of names) {
      const loaded = await loadHostDir(sys, `${root}/${n}`, version).catch(() => null);
      for (const e of loaded?.entries ?? [])
        if (e.host !== '' && /^[A-Za-z0-9.:[\]-]+$/.test(e.host)) hosts.add(`${e.host.toLowerCase()}${e.overridePath ? e.path : e.path.replace(/\/v2$/, '')}`);
    }
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mirrorauth-everywhere-'));
  fs.mkdirSync(`${dir}/mirrorauth`);
  const auths = {};
  for (const h of hosts) auths[`${h}?ns=*`] = { backend: 'file', auth: Buffer.from('u:p').toString('base64') };
  fs.writeFileSync(`${dir}/mirrorauth/namespaced-auths.json`, JSON.stringify({ version: 1, auths }));
  return dir;
}
