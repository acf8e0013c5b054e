/** Runs the built mirrorauth binary as a user would, with a given environment and stdin. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

export const repo = path.resolve(import.meta.dirname, '../..');
/**
 * The CLI as installed: the bundle entry npm's launcher runs (dist/mirrorauth.cjs: minified bundle, code cache,
 * build-time substitutions). MIRRORAUTH_TEST_ENTRY=esm runs the unbundled ESM entry (dist/bin.js) instead;
 * test/cli/startup.test.ts checks both answer alike.
 */
export const bin = path.join(repo, process.env.MIRRORAUTH_TEST_ENTRY === 'esm' ? 'dist/bin.js' : 'dist/mirrorauth.cjs');
export const esmBin = path.join(repo, 'dist/bin.js');

export interface BinResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** runBin runs `node <bin> ARGS` with env (merged over a clean base) and optional stdin. */
export function runBin(args: string[], opts: { env?: Record<string, string | undefined>; input?: string; cwd?: string } = {}): Promise<BinResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: '1', ...opts.env })) if (v !== undefined) env[k] = v;
    const child = spawn(process.execPath, [bin, ...args], { env, cwd: opts.cwd ?? repo, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - t0 }));
    child.stdin.end(opts.input ?? '');
  });
}

/** tempDir makes a fresh directory (a Docker config dir, a HOME …). */
export function tempDir(prefix = 'mirrorauth-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}
