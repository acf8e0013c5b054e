/** Builds real certs.d trees in a temporary directory (removed after the file's tests) for tests. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './bin.js';

/** makeTree writes files (path -> content; null = empty directory) below a fresh temp dir and returns it. */
export function makeTree(files: Record<string, string | null>): string {
  const root = tempDir('mirrorauth-test-');
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(root, rel);
    if (content === null) {
      mkdirSync(p, { recursive: true });
      continue;
    }
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  return root;
}
