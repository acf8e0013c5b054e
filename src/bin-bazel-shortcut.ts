/**
 * The launcher's side of the `bazel get` shortcut (protocols/bazel-memo.ts) on node:fs, an entry point like
 * bin.ts: built into dist/mirrorauth.cjs by scripts/build-fast.mjs and run before the bundle is loaded.
 */
import { readFileSync, statSync } from 'node:fs';
import { recordedAnswer } from './protocols/bazel-memo.js';

export function answerFromRecord(input: string, build: string): string | null {
  return recordedAnswer(input, process.env, build, {
    now: () => Date.now(),
    readText: (p) => {
      try {
        return readFileSync(p, 'utf8');
      } catch {
        return null;
      }
    },
    stat: (p) => statSync(p, { throwIfNoEntry: false }) ?? null,
  });
}
