/** Runs the CLI in-process against the real file system with captured output. */
import { run } from '../../src/cli/run.js';
import { nodeSystem } from '../../src/system/node.js';
import type { System } from '../../src/system/system.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** runCli runs `mirrorauth ARGS` with the real world except captured stdio and the given env. */
export async function runCli(args: string[], env: Record<string, string | undefined> = {}, overrides: Partial<System> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const base = nodeSystem();
  const sys: System = {
    ...base,
    env: { ...base.env, NO_COLOR: '1', ...env },
    stdout: { isTTY: false, write: (s) => (stdout += s) },
    stderr: { isTTY: false, write: (s) => (stderr += s) },
    ...overrides,
  };
  const code = await run(args, sys);
  return { code, stdout, stderr };
}
