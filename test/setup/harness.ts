/**
 * Global setup: starts the real components (scripts/test-harness.sh) once for
 * the whole run and hands their addresses to the tests through `inject('harness')`.
 * Under CI=true a missing component fails the run; elsewhere the dependent
 * tests are skipped and the reason, with the install command, is printed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

export interface HarnessInfo {
  available: boolean;
  reason: string;
  env: Record<string, string>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    harness: HarnessInfo;
  }
}

const repo = path.resolve(import.meta.dirname, '../..');
const script = path.join(repo, 'scripts/test-harness.sh');

export default function setup(project: TestProject): (() => void) | undefined {
  const ci = process.env.CI === 'true' || process.env.CI === '1';
  if (process.env.MIRRORAUTH_NO_HARNESS === '1' && !ci) {
    project.provide('harness', { available: false, reason: 'MIRRORAUTH_NO_HARNESS=1', env: {} });
    return undefined;
  }
  const missing = execFileSync('bash', [script, 'missing'], { encoding: 'utf8' }).trim();
  if (missing !== '') {
    const reason = `real-component tests need Debian packages that are not installed: ${missing}. Install them with: sudo apt-get install -y --no-install-recommends ${missing} (or run bash .ci/run as root)`;
    if (ci) throw new Error(`CI=true and ${reason}`);
    process.stderr.write(`\n[mirrorauth tests] ${reason}\n\n`);
    project.provide('harness', { available: false, reason, env: {} });
    return undefined;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mirrorauth-harness-'));
  const env = { ...process.env, HARNESS_DIR: dir };
  let envFile: string;
  try {
    envFile = execFileSync('bash', [script, 'up'], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  } catch (e) {
    const reason = `the test harness did not start: ${(e as Error).message}`;
    if (ci) throw new Error(reason);
    process.stderr.write(`\n[mirrorauth tests] ${reason}\n\n`);
    project.provide('harness', { available: false, reason, env: {} });
    return undefined;
  }
  const vars: Record<string, string> = {};
  for (const line of readFileSync(envFile, 'utf8').split('\n')) {
    for (const m of line.matchAll(/([A-Z_]+)=(\S+)/g)) vars[m[1] as string] = m[2] as string;
  }
  project.provide('harness', { available: true, reason: '', env: vars });
  return () => {
    execFileSync('bash', [script, 'down'], { env, stdio: 'inherit' });
  };
}
