/**
 * The CLI as one bundle (scripts/build-fast.mjs builds dist/cli.cjs from it):
 * `mirrorauth hosts`, `explain`, `lookup`, `doctor` … load one file through a
 * V8 code cache instead of an ES module graph.
 */
import { run } from './cli/run.js';
import { nodeSystem } from './system/node.js';

/**
 * main runs the CLI with this process's arguments and exits with its code as
 * soon as the command is done: an idle keep-alive connection of fetch's pool
 * must not hold the process open (it kept `login` alive 50–100 ms). stdout and
 * stderr are synchronous on Linux (files, pipes and terminals), so nothing
 * written is lost; elsewhere the process ends by itself.
 */
export function main(argv: string[]): void {
  void run(argv, nodeSystem()).then((code) => {
    process.exitCode = code;
    if (process.platform === 'linux') process.exit(code);
  });
}
