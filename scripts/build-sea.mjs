#!/usr/bin/env node
// Builds `mirrorauth` as one executable that needs no Node.js on the machine
// (Node's single executable application, SEA): the whole CLI bundled into one
// CommonJS file, turned into a blob, and injected into a copy of this node
// binary. Output (default dist-sea/, or the directory given): mirrorauth.bin and two sh launchers,
// mirrorauth and docker-credential-mirrorauth (copy all three; the launchers need only /bin/sh).
//
// What it cannot embed: the OS keychain binding (@napi-rs/keyring is a native
// addon), so the executable stores namespaced secrets in Docker's credsStore
// helper or the 0600 store file, as on a machine without a Secret Service, and
// says so when a login would have used the keychain. Everything else is inside.
import { execFileSync } from 'node:child_process';
import { copyFileSync, chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { launcher } from './lib/launcher.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.resolve(process.argv[2] ?? path.join(repo, 'dist-sea'));
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [path.join(repo, 'src/bin-sea.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: path.join(out, 'mirrorauth.cjs'),
  // the native keychain binding cannot live inside the executable: its import fails and the keychain counts as unavailable
  external: ['@napi-rs/keyring'],
  define: { 'import.meta.url': '__mirrorauth_import_meta_url', 'import.meta.dirname': '__dirname' },
  banner: { js: "const __mirrorauth_import_meta_url = require('node:url').pathToFileURL(process.execPath).href;" },
  logLevel: 'warning',
});

writeFileSync(
  path.join(out, 'sea-config.json'),
  JSON.stringify({ main: path.join(out, 'mirrorauth.cjs'), output: path.join(out, 'sea-prep.blob'), disableExperimentalSEAWarning: true }),
);
execFileSync(process.execPath, ['--experimental-sea-config', path.join(out, 'sea-config.json')], { stdio: 'inherit' });
const exe = path.join(out, 'mirrorauth.bin');
copyFileSync(process.execPath, exe);
chmodSync(exe, 0o755);
execFileSync(
  process.execPath,
  [
    path.join(repo, 'node_modules/postject/dist/cli.js'),
    exe,
    'NODE_SEA_BLOB',
    path.join(out, 'sea-prep.blob'),
    '--sentinel-fuse',
    'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
  ],
  { stdio: 'inherit' },
);
// sh launchers, as for the npm install: NODE_EXTRA_CA_CERTS is moved aside (the program trusts its CAs itself)
for (const name of ['mirrorauth', 'docker-credential-mirrorauth']) {
  writeFileSync(path.join(out, name), launcher(`MIRRORAUTH_PROGRAM=${name} exec "$dir/mirrorauth.bin" "$@"`));
  chmodSync(path.join(out, name), 0o755);
}
process.stdout.write(`built ${exe} with the launchers mirrorauth and docker-credential-mirrorauth\n`);
