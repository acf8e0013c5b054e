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
import { VERSION } from '../version.js';

export { VERSION } from '../version.js';

function collectValues(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The commands, in the order `--help` lists them (a test checks this against the program). */
export const COMMAND_NAMES = [
  'hosts',
  'login',
  'logout',
  'list',
  'lookup',
  'import',
  'trust',
  'explain',
  'doctor',
  'render',
  'exec',
  'kubelet-provider',
  'serve',
  'bazel',
  'completion',
] as const;
type CommandName = (typeof COMMAND_NAMES)[number];

/**
 * commandToBuild: the one command to register when the first argument names it, else all of them. Building
 * all fifteen costs every start-up ~1.2 ms; `completion` describes the whole program, and anything else (help,
 * --version, an unknown or misspelt command) needs them all for its answer.
 */
export function commandToBuild(argv: readonly string[]): CommandName | undefined {
  const first = argv[0];
  return first !== 'completion' && (COMMAND_NAMES as readonly string[]).includes(first ?? '') ? (first as CommandName) : undefined;
}

interface Context {
  exitCode: number;
}

function buildProgram(sys: System, ctx: Context, only?: CommandName): Command {
  // One piece: the command table: each command is a few declarative lines, and one list shows the whole CLI surface.
  // `only` registers just the command being run (see run): its parsing, help and errors do not depend on the others.
  const want = (name: CommandName) => only === undefined || only === name;
  const program = new Command('mirrorauth')
    .description('Which host does containerd talk to for an image, and which credentials should that host get?')
    .version(VERSION, '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (s) => sys.stdout.write(s),
      writeErr: (s) => sys.stderr.write(s),
    });

  if (want('hosts')) {
    addHostsOptions(
      program
        .command('hosts')
        .description('list the hosts containerd contacts for REF, in order, with each request URL (?ns=) and credential-lookup host')
        .argument('<ref>', 'image reference, e.g. alpine:3.19 or registry.example.com/team/app@sha256:…')
        .option('--push', 'show the hosts used to push instead of pull')
        .addOption(new Option('--operation <op>', 'pull, push, fetch-blob or push-blob').choices(['pull', 'push', 'fetch-blob', 'push-blob']).hideHelp())
        .addOption(new Option('--blob <digest>', 'blob digest for the blob operations').hideHelp())
        .option('--json', 'print the documented JSON contract instead of a table')
        .option('--wide', 'do not fit the table to the terminal width'),
    ).action(async (ref: string, opts: Record<string, unknown>) => {
      const { hostsCommand } = await import('./commands/hosts.js');
      ctx.exitCode = await hostsCommand(sys, ref, opts);
    });
  }

  const configOption = (cmd: Command) => cmd.option('--config <dir>', "Docker's config directory (default $DOCKER_CONFIG, else ~/.docker)");
  const storeOption = () =>
    new Option('--store <backend>', 'where a namespaced secret goes: auto (keychain, then credsStore helper, then file), keychain, helper or file').choices([
      'auto',
      'keychain',
      'helper',
      'file',
    ]);

  if (want('login')) {
    configOption(
      addHostsOptions(
        program
          .command('login')
          .description('verify credentials against the registry and store them (SERVER may be MIRROR?ns=REGISTRY)')
          .argument('[server]', 'registry or mirror endpoint, e.g. ghcr.io or mirror.corp/v2/proxy?ns=docker.io (default Docker Hub)')
          .option('--registry-namespace <registry>', 'store the credentials for SERVER as a mirror of this registry (ns=* for every upstream)')
          .option('-u, --username <user>', 'user name')
          .option('-p, --password <password>', 'password (insecure: use --password-stdin)')
          .option('--password-stdin', 'read the password from standard input')
          .addOption(storeOption())
          .option('--insecure', 'allow plain http and unverified TLS for a non-loopback registry')
          .option('--ca-file <file>', "trust this PEM CA too (besides the system store, the host's certs.d ca.crt and hosts.toml ca)"),
      ),
    ).action(async (server: string | undefined, opts: Record<string, unknown>) => {
      const { loginCommand } = await import('./commands/login.js');
      ctx.exitCode = await loginCommand(sys, server, opts);
    });
  }

  if (want('logout')) {
    configOption(
      program
        .command('logout')
        .description('remove stored credentials (same addressing as login)')
        .argument('[server]', 'registry or MIRROR?ns=REGISTRY (default Docker Hub)')
        .option('--registry-namespace <registry>', 'the upstream namespace of a mirror login'),
    ).action(async (server: string | undefined, opts: Record<string, unknown>) => {
      const { logoutCommand } = await import('./commands/logout.js');
      ctx.exitCode = await logoutCommand(sys, server, opts);
    });
  }

  if (want('list')) {
    configOption(
      program
        .command('list')
        .description('list stored credentials: keys, user names and backends, never secrets')
        .option('--json', 'print the documented JSON contract')
        .option('--wide', 'do not fit the tables to the terminal width'),
    ).action(async (opts: Record<string, unknown>) => {
      const { listCommand } = await import('./commands/list.js');
      ctx.exitCode = await listCommand(sys, opts);
    });
  }

  if (want('lookup')) {
    configOption(
      program
        .command('lookup')
        .description('show which credential one endpoint gets (for one upstream namespace), from where, and why')
        .argument('<address>', 'HOST[:PORT][/PATH][?ns=REGISTRY]')
        .option('--registry-namespace <registry>', 'the upstream namespace the endpoint serves')
        .option('--json', 'print the documented JSON contract')
        .option('--wide', 'do not wrap lines to the terminal width'),
    ).action(async (address: string, opts: Record<string, unknown>) => {
      const { lookupCommand } = await import('./commands/lookup.js');
      ctx.exitCode = await lookupCommand(sys, address, opts);
    });
  }

  if (want('import')) {
    configOption(
      program
        .command('import')
        .description("copy nerdctl's experimental namespaced keys into mirrorauth's store (they are left in place)")
        .argument('<source>', 'nerdctl')
        .addOption(storeOption())
        .option('--dry-run', 'only show what would be imported'),
    ).action(async (source: string, opts: Record<string, unknown>) => {
      const { importCommand } = await import('./commands/import.js');
      ctx.exitCode = await importCommand(sys, source, opts);
    });
  }

  if (want('trust')) {
    configOption(
      program
        .command('trust')
        .description("let a mirror receive its upstream registry's own Docker credentials when it has none of its own")
        .argument('<address>', 'MIRROR[/PATH]?ns=REGISTRY')
        .option('--remove', 'stop trusting it'),
    ).action(async (address: string, opts: Record<string, unknown>) => {
      const { trustCommand } = await import('./commands/trust.js');
      ctx.exitCode = await trustCommand(sys, address, opts);
    });
  }

  if (want('explain')) {
    configOption(
      addHostsOptions(
        program
          .command('explain')
          .description('for each host containerd contacts for REF: the credentials it gets, from where and why, and what stock clients send')
          .argument('<ref>', 'image reference')
          .option('--push', 'explain a push instead of a pull')
          .option('--probe', 'contact each host for real (GET /v2/ with ?ns= and the resolved credential)')
          .option('--json', 'print the documented JSON contract')
          .option('--wide', 'do not fit the table to the terminal width'),
      ),
    ).action(async (ref: string, opts: Record<string, unknown>) => {
      const { explainCommand } = await import('./commands/explain.js');
      ctx.exitCode = await explainCommand(sys, ref, opts);
    });
  }

  if (want('doctor')) {
    configOption(
      addHostsOptions(
        program
          .command('doctor')
          .description('check every hosts root and credential source; exit 0 clean, 1 warnings with --strict, 2 errors')
          .option('--strict', 'exit 1 when there are warnings')
          .option('--json', 'print the documented JSON contract')
          .option('--wide', 'do not wrap findings to the terminal width'),
      ),
    ).action(async (opts: Record<string, unknown>) => {
      const { doctorCommand } = await import('./commands/doctor.js');
      ctx.exitCode = await doctorCommand(sys, opts);
    });
  }

  const renderOptions = (cmd: Command) =>
    configOption(
      addHostsOptions(
        cmd
          .option('--registry <registry>', 'a registry or mirror endpoint (HOST[?ns=NS]) to include; repeatable', collectValues)
          .option('--helper', 'point entries at docker-credential-mirrorauth instead of embedding secrets'),
      ),
    );

  if (want('render')) {
    renderOptions(
      program
        .command('render')
        .description('write a registry config (docker, helm, containers-auth or k3s registries.yaml) for the named registries to stdout')
        .addOption(
          new Option(
            '--format <format>',
            'docker, helm, containers, k3s, containerd (1.x registry.configs; with --via-serve: config_path), or registries-conf (with --via-serve)',
          )
            .choices(['docker', 'helm', 'containers', 'k3s', 'containerd', 'registries-conf'])
            .default('docker'),
        )
        .option(
          '--via-serve <dir>',
          'send pulls through mirrorauth serve: registries.conf mirrors (--format registries-conf) or its access secret (--format containers) from a tree rendered by serve --render DIR',
        )
        .option('-o, --output <file>', 'write to FILE (0600, atomically) instead of stdout'),
    ).action(async (opts: Record<string, unknown>) => {
      const { renderCommand } = await import('./commands/render.js');
      ctx.exitCode = await renderCommand(sys, opts);
    });
  }

  if (want('exec')) {
    renderOptions(
      program
        .command('exec')
        .description(
          'run COMMAND with a private, freshly rendered registry config (DOCKER_CONFIG, REGISTRY_AUTH_FILE, HELM_REGISTRY_CONFIG), removed afterwards',
        )
        .argument('<command...>', 'the command and its arguments, after --')
        .passThroughOptions(),
    ).action(async (command: string[], opts: Record<string, unknown>) => {
      const { execCommand } = await import('./commands/exec.js');
      ctx.exitCode = await execCommand(sys, command, opts);
    });
  }

  if (want('kubelet-provider')) {
    configOption(
      program
        .command('kubelet-provider')
        .description('kubelet image credential provider (credentialprovider.kubelet.k8s.io/v1): request on stdin, response on stdout')
        .option('--cache-duration <duration>', "cacheDuration to answer, e.g. 5m0s (default: the provider config's defaultCacheDuration)")
        .addHelpText(
          'after',
          `
Input (stdin), from kubelet:
  {"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"mirror.corp/team/app:1"}
Output (stdout):
  {"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderResponse","cacheKeyType":"Registry",
   "cacheDuration":"5m0s","auth":{"mirror.corp":{"username":"robot","password":"…"}}}
Example:
  echo '{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"ghcr.io/org/app:1"}' | mirrorauth kubelet-provider
Install: put the binary in kubelet's --image-credential-provider-bin-dir and name it in --image-credential-provider-config
(docs/protocols.md). kubelet sends what it returns with no server_address: CRI gives it to every host, mirrors included.`,
        ),
    ).action(async (opts: { cacheDuration?: string; config?: string }) => {
      const { serveKubelet } = await import('../protocols/kubelet.js');
      ctx.exitCode = await serveKubelet(sys, {
        ...(opts.cacheDuration !== undefined ? { cacheDuration: opts.cacheDuration } : {}),
        ...(opts.config !== undefined ? { config: opts.config } : {}),
      });
    });
  }

  if (want('serve')) {
    configOption(
      addHostsOptions(
        program
          .command('serve')
          .description(
            'run the loopback proxy that gives containerd per-mirror, per-namespace credentials, and render the certs.d tree its config_path points at',
          )
          .option('--listen <addr>', 'loopback HOST:PORT to listen on (default 127.0.0.1:5599)')
          .option('--render <dir>', "write the rendered certs.d tree here (containerd's config_path); kept current while serving")
          .option('--render-only', 'render the tree and exit without serving')
          .addOption(
            new Option('--redirects <mode>', 'blob redirects to another origin: pass them to the client, or follow them without credentials').choices([
              'pass',
              'follow',
            ]),
          )
          .option('--reload <seconds>', 'how often to re-read hosts.toml and the credential store (0 = never; default 2)')
          .option('--quiet', 'no access log')
          .option('--json', 'print the routes as JSON (docs/serve.md)'),
      ),
    ).action(async (opts: Record<string, unknown>) => {
      const { serveCommand } = await import('./commands/serve.js');
      ctx.exitCode = await serveCommand(sys, opts);
    });
  }

  if (want('bazel')) {
    program
      .command('bazel')
      .description('Bazel credential helper: `mirrorauth bazel get` reads {"uri": …} on stdin (docs/protocols.md)')
      .argument('<action>', 'get')
      .addHelpText(
        'after',
        `
Input (stdin):  {"uri":"https://ghcr.io/v2/org/app/blobs/sha256:…"}
Output (stdout): {"headers":{"Authorization":["Bearer …"]},"expires":"2026-12-01T10:00:00Z"}, or {} for none
Example:
  echo '{"uri":"https://ghcr.io/v2/org/app/manifests/1"}' | mirrorauth bazel get
Install: in .bazelrc, common --credential_helper=ghcr.io=mirrorauth (the command must be on PATH) (docs/protocols.md).`,
      )
      .action(async (action: string) => {
        const { serveBazel } = await import('../protocols/bazel.js');
        ctx.exitCode = await serveBazel(sys, [action]);
      });
  }

  if (want('completion')) {
    program
      .command('completion')
      .description('print a shell completion script: eval "$(mirrorauth completion bash)" (or zsh)')
      .argument('<shell>', 'bash or zsh')
      .action(async (shell: string) => {
        if (shell !== 'bash' && shell !== 'zsh') {
          sys.stderr.write(`mirrorauth completion: unknown shell ${JSON.stringify(shell)}; use bash or zsh\n`);
          ctx.exitCode = EXIT.USAGE;
          return;
        }
        const { completionScript } = await import('./completion.js');
        sys.stdout.write(completionScript(program, shell));
      });
  }

  return program;
}

/** programFor: the whole program, as `--help` and completion see it (tests compare it with COMMAND_NAMES). */
export function programFor(sys: System): Command {
  return buildProgram(sys, { exitCode: EXIT.OK });
}

/** run executes one CLI invocation and resolves to its exit code. */
export async function run(argv: string[], sys: System): Promise<number> {
  const ctx: Context = { exitCode: EXIT.OK };
  const program = buildProgram(sys, ctx, commandToBuild(argv));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (e) {
    const style = styleFor(sys, sys.stderr);
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.OK;
      return EXIT.USAGE;
    }
    if (isMirrorauthError(e) && e.code === 'INTERRUPTED') return exitCodeFor(e.code); // Ctrl-C: the terminal showed it
    if (isMirrorauthError(e)) {
      // a message that already starts with its file does not get it twice
      const where = e.file && !e.message.startsWith(e.file) ? `${e.file}${e.line ? `:${e.line}` : ''}: ` : '';
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
