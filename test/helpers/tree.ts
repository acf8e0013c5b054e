/** Builds real certs.d trees in a temporary directory for tests. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** makeTree writes files (path -> content; null = empty directory) below a fresh temp dir and returns it. */
export function makeTree(files: Record<string, string | null>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'mirrorauth-test-'));
  made.push(root);
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
