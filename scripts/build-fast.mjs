#!/usr/bin/env node
// Bundles src/fast.ts into dist/fast.cjs and writes the two CommonJS launchers:
//   dist/docker-credential-mirrorauth.cjs  the docker-credential helper
//   dist/mirrorauth.cjs                    `mirrorauth`: `bazel get` from the bundle, everything else from dist/bin.js
// The keychain binding, undici and proper-lockfile stay external and load only when used.
import { build } from 'esbuild';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
await build({
  entryPoints: [path.join(repo, 'src/fast.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: path.join(repo, 'dist/fast.cjs'),
  external: ['@napi-rs/keyring', 'undici', 'proper-lockfile'],
  define: { 'import.meta.url': '__mirrorauth_import_meta_url' },
  banner: { js: "const __mirrorauth_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});

const launchers = {
  'docker-credential-mirrorauth.cjs': `#!/usr/bin/env node
'use strict';
const fast = require('./fast.cjs');
fast.serveDockerHelper(fast.nodeSystem(), process.argv.slice(2)).then((code) => { process.exitCode = code; });
`,
  'mirrorauth.cjs': `#!/usr/bin/env node
'use strict';
const argv = process.argv.slice(2);
if (argv[0] === 'bazel' && argv[1] === 'get') {
  const fast = require('./fast.cjs');
  fast.serveBazel(fast.nodeSystem(), argv.slice(1)).then((code) => { process.exitCode = code; });
} else {
  import('./bin.js');
}
`,
};
for (const [name, text] of Object.entries(launchers)) {
  const file = path.join(repo, 'dist', name);
  writeFileSync(file, text);
  chmodSync(file, 0o755);
}
