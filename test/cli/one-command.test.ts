/**
 * run registers only the command named by the first argument (building all of them cost every start-up
 * ~1.2 ms). What a user sees must not change: help, usage errors and the command list are the same as
 * with the whole program.
 */
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES, commandToBuild, programFor } from '../../src/cli/run.js';
import { nodeSystem } from '../../src/system/node.js';
import type { System } from '../../src/system/system.js';
import { runCli } from '../helpers/cli.js';

/** The whole program's answer to argv, as run gave it before it registered one command. */
async function wholeProgram(argv: string[]): Promise<{ stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const base = nodeSystem();
  const sys: System = {
    ...base,
    env: { ...base.env, NO_COLOR: '1' },
    stdout: { isTTY: false, write: (s) => (stdout += s) },
    stderr: { isTTY: false, write: (s) => (stderr += s) },
  };
  try {
    await programFor(sys).parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
  }
  return { stdout, stderr };
}

describe('one command per start-up', () => {
  it('COMMAND_NAMES lists the program’s commands, in its order', () => {
    expect(programFor(nodeSystem()).commands.map((c) => c.name())).toEqual([...COMMAND_NAMES]);
  });

  it('builds one command only when the first argument names it, and never for completion', () => {
    expect(commandToBuild(['login', 'ghcr.io'])).toBe('login');
    expect(commandToBuild(['kubelet-provider'])).toBe('kubelet-provider');
    for (const argv of [[], ['--help'], ['help', 'login'], ['-v'], ['logn'], ['completion', 'bash'], ['--hosts-dir', 'x', 'hosts']]) {
      expect(commandToBuild(argv), argv.join(' ')).toBeUndefined();
    }
  });

  it.each(COMMAND_NAMES.filter((n) => n !== 'completion'))('%s: --help and a usage error read as with the whole program', async (name) => {
    // too many arguments (exec takes any number: its action would run)
    const extra = name === 'exec' ? [] : [[name, 'a', 'b', 'c', 'd']];
    for (const argv of [[name, '--help'], [name, '--no-such-option'], ...extra]) {
      const one = await runCli(argv);
      const whole = await wholeProgram(argv);
      expect(one.stdout, argv.join(' ')).toBe(whole.stdout);
      expect(one.stderr, argv.join(' ')).toBe(whole.stderr);
    }
  });

  it('help, a misspelt command and completion still see every command', async () => {
    expect((await runCli(['--help'])).stdout).toContain('kubelet-provider');
    expect((await runCli(['logn'])).stderr).toMatch(/unknown command 'logn'[\s\S]*Did you mean login\?/);
    const completion = await runCli(['completion', 'bash']);
    for (const n of COMMAND_NAMES) expect(completion.stdout).toContain(n);
  });
});
