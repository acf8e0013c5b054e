#!/usr/bin/env node
// Bundles the start-up paths into single CommonJS files, each loaded through a
// V8 code cache, and writes the launchers:
//   dist/fast.cjs   docker-credential-mirrorauth and `mirrorauth bazel get` (the per-request helpers)
//   dist/cli.cjs    every other command (hosts, explain, lookup, doctor, login …)
//   (loader)        written into each entry: loads a bundle with vm.Script cachedData from ~/.cache/mirrorauth/v8 (keyed by the
//                   bundle's hash and the Node version; written atomically; ignored when rejected or unwritable)
//   dist/mirrorauth.cjs, dist/docker-credential-mirrorauth.cjs   the node entry points
//   dist/bin/mirrorauth, dist/bin/docker-credential-mirrorauth    POSIX sh launchers (package.json "bin"):
//                   they move NODE_EXTRA_CA_CERTS aside so Node does not parse the file at start-up; the
//                   code puts it back for children and adds its CAs to every TLS connection itself.
// The keychain binding stays external and loads only when used.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launcher } from './lib/launcher.mjs';

/**
 * lazyBuiltins: what third-party modules load at import but mirrorauth does not need there.
 * commander requires node:child_process at load (for executable subcommands, which mirrorauth
 * does not use), and child_process pulls in node:net: ~5 ms on every start. Inside commander that require
 * becomes a proxy that loads the module on first use.
 */
function lazyBuiltins() {
  return {
    name: 'lazy-builtins',
    setup(b) {
      b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
        /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'node:child_process', namespace: 'lazy-builtin' } : undefined,
      );
      // cli-table3 measures every cell with string-width, whose emoji regex costs ~4 ms to compile on first use
      b.onResolve({ filter: /^string-width$/ }, (args) =>
        /[\\/]node_modules[\\/]cli-table3[\\/]/.test(args.importer) ? { path: path.join(repo, 'scripts/lib/fast-string-width.cjs') } : undefined,
      );
      // chalk probes the terminal when imported (node:tty, node:os: ~6 ms); mirrorauth decides the colour level
      // itself (cli/style.ts: NO_COLOR, FORCE_COLOR, TTY) and only ever uses new Chalk({ level })
      b.onResolve({ filter: /^#supports-color$/ }, (args) =>
        /[\\/]node_modules[\\/]chalk[\\/]/.test(args.importer) ? { path: 'supports-color', namespace: 'no-probe' } : undefined,
      );
      // src/system/node-require.ts imports node:module (~0.35 ms) for createRequire, which the unbundled build
      // needs; inside a bundle the loader's own require is there already (the banner's __mirrorauth_require)
      b.onLoad({ filter: /[\\/]src[\\/]system[\\/]node-require\.ts$/ }, () => ({
        loader: 'js',
        contents: 'export function nodeRequire(id) { return __mirrorauth_require(id); }',
      }));
      b.onLoad({ filter: /.*/, namespace: 'no-probe' }, () => ({
        loader: 'js',
        contents: 'export const stdout = false; export const stderr = false; export default { stdout: false, stderr: false };',
      }));
      b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
        loader: 'js',
        contents: `let m; const load = () => (m ??= require(${JSON.stringify(args.path)}));
module.exports = new Proxy({}, {
  get: (_, k) => load()[k],
  has: (_, k) => k in load(),
  ownKeys: () => Reflect.ownKeys(load()),
  getOwnPropertyDescriptor: (_, k) => { const d = Reflect.getOwnPropertyDescriptor(load(), k); return d && { ...d, configurable: true }; },
});`,
      }));
    },
  };
}

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(repo, 'dist');
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['@napi-rs/keyring'],
  // import() becomes require(): the bundles run inside vm.Script, and require is the cheaper loader anyway
  supported: { 'dynamic-import': false },
  define: { 'import.meta.url': '__mirrorauth_import_meta_url' },
  // a file: URL for createRequire, built without loading node:url at start-up
  // and the bundle's own require for what loads on first use (src/system/node-require.ts)
  banner: {
    js: "const __mirrorauth_import_meta_url = 'file://' + __filename.split('/').map(encodeURIComponent).join('/'); const __mirrorauth_require = require;",
  },
  logLevel: 'warning',
  plugins: [lazyBuiltins()],
  minify: process.env.MIRRORAUTH_NO_MINIFY !== '1',
};
await build({ ...common, entryPoints: [path.join(repo, 'src/fast.ts')], outfile: path.join(dist, 'fast.cjs') });
await build({ ...common, entryPoints: [path.join(repo, 'src/bin-cli.ts')], outfile: path.join(dist, 'cli.cjs') });
const hash = (name) =>
  createHash('sha256')
    .update(readFileSync(path.join(dist, name)))
    .digest('hex')
    .slice(0, 16);
// The `bazel get` shortcut (src/protocols/bazel-memo.ts) is built into the entry and runs before any bundle
// loads; answers recorded by one build are read only by the same build of both halves.
const shortcut = (
  await build({
    ...common,
    banner: {},
    entryPoints: [path.join(repo, 'src/bin-bazel-shortcut.ts')],
    write: false,
    outfile: path.join(dist, 'shortcut.cjs'),
  })
).outputFiles[0].text;
const bazelBuild = createHash('sha256')
  .update(readFileSync(path.join(dist, 'fast.cjs')))
  .update(shortcut)
  .digest('hex')
  .slice(0, 16);

// The loader is written into each entry file (one file read and module resolution fewer per start).
const loader = `// load(file, hash, variant): run a CommonJS bundle through vm.Script with a V8 code cache (scripts/build-fast.mjs).
// The cache holds the functions the run that wrote it compiled, so each command (variant) keeps its own:
// explain started from a cache that hosts wrote would compile its own functions on every start.
const fs = require('node:fs');
const vm = require('node:vm');
// The bundle sits next to this entry, so this entry's require resolves what the bundle asks for exactly as
// Module.createRequire(bundle) would; the function wrapper is CommonJS's own. node:module costs ~0.35 ms to load.
// $HOME is what os.homedir() answers whenever it is set (node:os, ~0.3 ms, only without it).
function load(file, hash, variant) {
  const source = fs.readFileSync(file, 'utf8');
  const cacheBase = process.env.XDG_CACHE_HOME || (process.env.HOME !== undefined ? process.env.HOME : require('node:os').homedir()) + '/.cache';
  const dir = cacheBase + '/mirrorauth/v8';
  const base = file.slice(file.lastIndexOf('/') + 1);
  const cacheFile = dir + '/' + base + '-' + (/^[a-z][a-z-]{0,23}$/.test(variant || '') ? variant : 'other') + '-' + hash + '-' + process.version + '-' + process.arch + '.bin';
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {}
  const script = new vm.Script('(function (exports, require, module, __filename, __dirname) { ' + source + '\\n});', { filename: file, cachedData, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
  if (cachedData === undefined || script.cachedDataRejected) {
    // written at exit, so the functions start-up compiled are in it; any failure only costs the next start its compile
    process.once('exit', () => {
      try {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        const tmp = cacheFile + '.' + process.pid + '.tmp';
        fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
        fs.renameSync(tmp, cacheFile);
        // caches of earlier builds of this bundle are dead weight
        for (const old of fs.readdirSync(dir)) if (old.startsWith(base + '-') && old.endsWith('.bin') && !old.includes('-' + hash + '-')) fs.rmSync(dir + '/' + old, { force: true });
      } catch {}
    });
  }
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, require, mod, file, file.slice(0, file.lastIndexOf('/')));
  return mod.exports;
}
// done(code): the answer is written (stdout and stderr are synchronous on Linux: files, pipes and terminals),
// so end now rather than after one more turn of the event loop (~1 ms of a helper's start-up); elsewhere
// the process ends by itself once the streams are flushed
function done(code) {
  process.exitCode = code;
  if (process.platform === 'linux') process.exit(code);
}
// failed(program): the helpers answer every error they expect; anything else ends in one line and exit 1, never
// a stack trace (which would print a line of the minified bundle). Only mirrorauth's own messages are shown:
// they are written never to hold a secret; another error shows its kind.
function failed(program) {
  return (e) => {
    const own = e instanceof Error && e.name === 'MirrorauthError';
    const what = own ? e.message : (e instanceof Error ? e.name : typeof e) + (e && typeof e.code === 'string' ? ' ' + e.code : '');
    try {
      fs.writeSync(2, program + ': internal error: ' + what + '\\n');
    } catch {}
    done(1);
  };
}
`;

const files = {
  'docker-credential-mirrorauth.cjs': `#!/usr/bin/env node
'use strict';
${loader}
const fast = load(__dirname + '/fast.cjs', '${hash('fast.cjs')}', process.argv[2] === 'get' ? 'get' : 'helper');
fast.serveDockerHelper(fast.nodeSystem(), process.argv.slice(2)).then(done, failed('docker-credential-mirrorauth'));
`,
  'mirrorauth.cjs': `#!/usr/bin/env node
'use strict';
${loader}
// bazelShortcut(): answers a \`bazel get\` from the token cache's record of an earlier full answer when nothing
// it depended on changed (src/protocols/bazel-memo.ts); evaluated only for \`bazel get\`
function bazelShortcut() {
  const module = { exports: {} };
  (function (exports, module, require) {
${shortcut}
  })(module.exports, module, require);
  return module.exports;
}
// writeAll: the answer straight to the descriptor; one that would block gets the rest through the stream
function writeAll(text) {
  const b = Buffer.from(text, 'utf8');
  let n = 0;
  try {
    while (n < b.length) n += fs.writeSync(1, b, n);
    return true;
  } catch {
    process.exitCode = 0;
    process.stdout.write(b.subarray(n));
    return false;
  }
}
const argv = process.argv.slice(2);
if (argv[0] === 'bazel' && argv[1] === 'get') {
  let input;
  if (argv.length === 2) {
    try {
      input = fs.readFileSync(0, 'utf8');
    } catch {}
  }
  let hit = null;
  try {
    // the shortcut only ever answers or declines: anything unexpected declines, and the full path answers
    if (input !== undefined) hit = bazelShortcut().answerFromRecord(input, '${bazelBuild}');
  } catch {}
  if (hit === null) {
    const fast = load(__dirname + '/fast.cjs', '${hash('fast.cjs')}', 'bazel');
    fast.serveBazel(fast.nodeSystem(), argv.slice(1), { input, build: '${bazelBuild}' }).then(done, failed('mirrorauth bazel'));
  } else if (writeAll(hit)) done(0);
} else {
  const cli = load(__dirname + '/cli.cjs', '${hash('cli.cjs')}', argv[0]);
  cli.main(argv);
}
`,
};
for (const [name, text] of Object.entries(files)) {
  writeFileSync(path.join(dist, name), text);
  chmodSync(path.join(dist, name), 0o755);
}

mkdirSync(path.join(dist, 'bin'), { recursive: true });
for (const [name, target] of [
  ['mirrorauth', 'mirrorauth.cjs'],
  ['docker-credential-mirrorauth', 'docker-credential-mirrorauth.cjs'],
]) {
  writeFileSync(path.join(dist, 'bin', name), launcher(`exec node "$dir/../${target}" "$@"`));
  chmodSync(path.join(dist, 'bin', name), 0o755);
}
