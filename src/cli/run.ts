/**
 * run(argv, sys) is the whole CLI: it builds the commander program, imports
 * each command lazily, and holds the one catch that turns errors into messages
 * and exit codes.
 */
import { Command, CommanderError, Option } from 'commander';
import { EXIT, exitCodeFor, isMirrorauthError } from '../errors.js';
import type { System } from '../system/system.js';
import { addHostsOptions } from './options.js';
import { styleFor } from './style.js';

export const VERSION = '0.1.0';

interface Context {
  exitCode: number;
}

function buildProgram(sys: System, ctx: Context): Command {
  const program = new Command('mirrorauth')
    .description('Which host does containerd talk to for an image, and which credentials should that host get?')
    .version(VERSION, '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => sys.stdout.write(s),
      writeErr: (s) => sys.stderr.write(s),
    });

  addHostsOptions(
    program
      .command('hosts')
      .description("list the hosts containerd contacts for REF, in order, with each request URL (?ns=) and credential-lookup host")
      .argument('<ref>', 'image reference, e.g. alpine:3.19 or registry.example.com/team/app@sha256:…')
      .option('--push', 'show the hosts used to push instead of pull')
      .addOption(new Option('--operation <op>', 'pull, push, fetch-blob or push-blob').choices(['pull', 'push', 'fetch-blob', 'push-blob']).hideHelp())
      .addOption(new Option('--blob <digest>', 'blob digest for the blob operations').hideHelp())
      .option('--json', 'print the documented JSON contract instead of a table'),
  ).action(async (ref: string, opts: Record<string, unknown>) => {
    const { hostsCommand } = await import('./commands/hosts.js');
    ctx.exitCode = await hostsCommand(sys, ref, opts);
  });

  return program;
}

/** run executes one CLI invocation and resolves to its exit code. */
export async function run(argv: string[], sys: System): Promise<number> {
  const ctx: Context = { exitCode: EXIT.OK };
  const program = buildProgram(sys, ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (e) {
    const style = styleFor(sys, sys.stderr);
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.OK;
      return EXIT.USAGE;
    }
    if (isMirrorauthError(e)) {
      const where = e.file ? `${e.file}${e.line ? `:${e.line}` : ''}: ` : '';
      sys.stderr.write(`${style.c.red.bold('error:')} ${where}${e.message}\n`);
      if (e.hint) sys.stderr.write(`${style.c.green('hint:')} ${e.hint}\n`);
      return exitCodeFor(e.code);
    }
    const err = e as Error;
    sys.stderr.write(`${style.c.red.bold('internal error:')} ${err?.stack ?? String(e)}\n`);
    sys.stderr.write('This is a bug in mirrorauth; please report it with the command you ran.\n');
    return EXIT.INTERNAL;
  }
}
