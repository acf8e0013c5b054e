#!/usr/bin/env node
// Runs every benchmark under bench/ in turn; each prints its own JSON and a summary line.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
let failed = 0;
for (const f of readdirSync(here)
  .filter((n) => n.endsWith('.mjs') && n !== 'run.mjs')
  .sort()) {
  console.log(`\n== ${f}`);
  const r = spawnSync(process.execPath, [path.join(here, f)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
