#!/usr/bin/env node
// Bundles the start-up paths into single CommonJS files, each loaded through a
// V8 code cache, and writes the launchers:
//   dist/fast.cjs   docker-credential-mirrorauth and `mirrorauth bazel get` (the per-request helpers)
//   dist/cli.cjs    every other command (hosts, explain, lookup, doctor, login …)
//   dist/load.cjs   loads a bundle with vm.Script cachedData from ~/.cache/mirrorauth/v8 (keyed by the
//                   bundle's hash and the Node version; written atomically; ignored when rejected or unwritable)
//   dist/mirrorauth.cjs, dist/docker-credential-mirrorauth.cjs   the node entry points
//   dist/bin/mirrorauth, dist/bin/docker-credential-mirrorauth    POSIX sh launchers (package.json "bin"):
//                   they move NODE_EXTRA_CA_CERTS aside so Node does not parse the file at start-up; the
//                   code puts it back for children and adds its CAs to every TLS connection itself.
// The keychain binding, undici and proper-lockfile stay external and load only when used.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launcher } from './lib/launcher.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(repo, 'dist');
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['@napi-rs/keyring', 'undici', 'proper-lockfile'],
  // import() becomes require(): the bundles run inside vm.Script, and require is the cheaper loader anyway
  supported: { 'dynamic-import': false },
  define: { 'import.meta.url': '__mirrorauth_import_meta_url' },
  // a file: URL for createRequire, built without loading node:url at start-up
  banner: { js: "const __mirrorauth_import_meta_url = 'file://' + __filename.split('/').map(encodeURIComponent).join('/');" },
  logLevel: 'warning',
};
await build({ ...common, entryPoints: [path.join(repo, 'src/fast.ts')], outfile: path.join(dist, 'fast.cjs') });
await build({ ...common, entryPoints: [path.join(repo, 'src/bin-cli.ts')], outfile: path.join(dist, 'cli.cjs') });
const hash = (name) =>
  createHash('sha256')
    .update(readFileSync(path.join(dist, name)))
    .digest('hex')
    .slice(0, 16);

const files = {
  'load.cjs': `'use strict';
// load(file, hash): run a CommonJS bundle through vm.Script with a V8 code cache (scripts/build-fast.mjs).
const fs = require('node:fs');
const vm = require('node:vm');
const Module = require('node:module');
module.exports = function load(file, hash) {
  const source = fs.readFileSync(file, 'utf8');
  const base = process.env.XDG_CACHE_HOME || require('node:os').homedir() + '/.cache';
  const dir = base + '/mirrorauth/v8';
  const cacheFile = dir + '/' + file.slice(file.lastIndexOf('/') + 1) + '-' + hash + '-' + process.version + '-' + process.arch + '.bin';
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {}
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
  if (cachedData === undefined || script.cachedDataRejected) {
    // written at exit, so the functions start-up compiled are in it; any failure only costs the next start its compile
    process.once('exit', () => {
      try {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        const tmp = cacheFile + '.' + process.pid + '.tmp';
        fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
        fs.renameSync(tmp, cacheFile);
        // caches of earlier builds of this bundle are dead weight
        const prefix = file.slice(file.lastIndexOf('/') + 1) + '-';
        for (const old of fs.readdirSync(dir)) if (old.startsWith(prefix) && dir + '/' + old !== cacheFile && old.endsWith('.bin')) fs.rmSync(dir + '/' + old, { force: true });
      } catch {}
    });
  }
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, Module.createRequire(file), mod, file, file.slice(0, file.lastIndexOf('/')));
  return mod.exports;
};
`,
  'docker-credential-mirrorauth.cjs': `#!/usr/bin/env node
'use strict';
const fast = require('./load.cjs')(__dirname + '/fast.cjs', '${hash('fast.cjs')}');
fast.serveDockerHelper(fast.nodeSystem(), process.argv.slice(2)).then((code) => { process.exitCode = code; });
`,
  'mirrorauth.cjs': `#!/usr/bin/env node
'use strict';
const argv = process.argv.slice(2);
const load = require('./load.cjs');
if (argv[0] === 'bazel' && argv[1] === 'get') {
  const fast = load(__dirname + '/fast.cjs', '${hash('fast.cjs')}');
  fast.serveBazel(fast.nodeSystem(), argv.slice(1)).then((code) => { process.exitCode = code; });
} else {
  const cli = load(__dirname + '/cli.cjs', '${hash('cli.cjs')}');
  cli.main(argv);
}
`,
};
for (const [name, text] of Object.entries(files)) {
  writeFileSync(path.join(dist, name), text);
  if (!name.startsWith('load')) chmodSync(path.join(dist, name), 0o755);
}

mkdirSync(path.join(dist, 'bin'), { recursive: true });
for (const [name, target] of [
  ['mirrorauth', 'mirrorauth.cjs'],
  ['docker-credential-mirrorauth', 'docker-credential-mirrorauth.cjs'],
]) {
  writeFileSync(path.join(dist, 'bin', name), launcher(`exec node "$dir/../${target}" "$@"`));
  chmodSync(path.join(dist, 'bin', name), 0o755);
}
