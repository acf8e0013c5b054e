#!/usr/bin/env node
// write-version.mjs: src/version.ts from package.json's version, so `mirrorauth --version` and
// `docker-credential-mirrorauth version` always say the released version. Run by `npm run build`.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
const file = path.join(repo, 'src/version.ts');
const text = `// Generated from package.json by scripts/write-version.mjs (npm run build). Do not edit.\nexport const VERSION = '${version}';\n`;
let current = '';
try {
  current = readFileSync(file, 'utf8');
} catch {
  /* first build */
}
if (current !== text) writeFileSync(file, text);
