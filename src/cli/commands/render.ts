/**
 * `mirrorauth render --format docker|helm|containers|k3s --registry R…`: a
 * registry config for other tools, on stdout (or `-o FILE`, 0600, atomic).
 */
import { openCredentials } from '../../credentials/resolve.js';
import { asWriteError, EXIT, MirrorauthError } from '../../errors.js';
import { collectCredentials, type RegistrySet } from '../../render/collect.js';
import { FORMATS, render, type Format } from '../../render/formats.js';
import { dockerConfigDir } from '../../credentials/docker-config.js';
import { containersAuth, registriesConf } from '../../serve/clients.js';
import { readManifest } from '../../serve/render-tree.js';
import { loadOrCreateSecret } from '../../serve/secret.js';
import { writeFileAtomic } from '../../system/atomic-write.js';
import type { System } from '../../system/system.js';
import { hostsSettings, type HostsOptionValues } from '../options.js';
import { styleFor } from '../style.js';
import { shellCommand } from '../../shell.js';

export interface RenderOptions extends HostsOptionValues {
  format?: string;
  viaServe?: string;
  registry?: string[];
  helper?: boolean;
  output?: string;
  config?: string;
}

/** collectFor resolves the --registry values once; `exec` renders the result in several formats. */
export async function collectFor(sys: System, o: RenderOptions, warn: (s: string) => void): Promise<RegistrySet[]> {
  const settings = await hostsSettings(sys, o);
  const ctx = await openCredentials(sys, o.config);
  const sets = await collectCredentials(sys, ctx, o.registry ?? [], {
    roots: settings.roots,
    version: settings.version,
    defaultScheme: settings.defaultScheme,
  });
  if (o.helper) {
    for (const s of sets) {
      if (s.named.source === 'namespaced' && !(o.registry ?? []).some((r) => r.includes('ns=*'))) {
        warn(
          `${s.named.host}: stock clients ask docker-credential-mirrorauth for the bare host, which is answered from ns=* or plain entries only, not from ?ns=${s.registry}`,
        );
      }
    }
  }
  return sets;
}

/** renderSets renders one format and reports hosts rendered without credentials. */
export function renderSets(format: Format, sets: RegistrySet[], helper: boolean, warn: (s: string) => void): string {
  const { text, missing } = render(format, sets, helper);
  for (const m of missing) warn(`no credentials for ${m}: rendered without them (run \`${shellCommand('mirrorauth', 'lookup', m)}\` to see why)`);
  return text;
}

export function formatOf(value: string | undefined): Format {
  const f = (value ?? 'docker') as Format;
  if (!FORMATS.includes(f)) throw new MirrorauthError('USAGE', `unknown format ${JSON.stringify(value)}`, { hint: `use one of ${FORMATS.join(', ')}` });
  return f;
}

function dirOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? (i === 0 ? '/' : '.') : p.slice(0, i);
}

/**
 * writeOutput writes a rendered config (secrets inside) to `-o TARGET`:
 * - a regular file (or none yet) is replaced atomically, 0600;
 * - something that exists and is not a regular file (a device, a pipe such as
 *   /dev/stdout or a process substitution) is written in place, never replaced;
 * - a symlink another user planted in a sticky, world-writable directory (/tmp)
 *   is refused, as the kernel's protected_symlinks would (the link is resolved
 *   here, in user space, so the kernel's guard never fires).
 */
export async function writeOutput(sys: System, target: string, text: string): Promise<'replaced' | 'in-place'> {
  // this process's own streams: a socket cannot be reopened through /proc (ENXIO), so write to the stream
  if (['/dev/stdout', '/dev/fd/1', '/proc/self/fd/1'].includes(target)) {
    sys.stdout.write(text);
    return 'in-place';
  }
  if (['/dev/stderr', '/dev/fd/2', '/proc/self/fd/2'].includes(target)) {
    sys.stderr.write(text);
    return 'in-place';
  }
  try {
    const link = await sys.fs.lstat(target).catch(() => null);
    if (link?.isSymbolicLink) {
      const dir = await sys.fs.stat(dirOf(target));
      const sticky = (dir.mode & 0o1000) !== 0 && (dir.mode & 0o002) !== 0;
      if (sticky && link.uid !== sys.uid && link.uid !== dir.uid) {
        throw new MirrorauthError('USAGE', `refusing to follow ${target}: a symlink owned by another user (uid ${link.uid}) in a shared sticky directory`, {
          hint: 'someone may have planted it to make you overwrite their target; write to a directory only you can write, or remove the link',
        });
      }
    }
    const st = await sys.fs.stat(target).catch(() => null);
    if (st !== null && !st.isFile) {
      if (st.isDirectory) throw new MirrorauthError('USAGE', `${target} is a directory`, { hint: 'give a file name, or -o - for standard output' });
      await sys.fs.writeFile(target, text);
      return 'in-place';
    }
    await writeFileAtomic(sys, target, text, { mode: 0o600 });
    return 'replaced';
  } catch (e) {
    throw asWriteError(e, target);
  }
}

/** viaServe renders client configuration that sends pulls through `mirrorauth serve` (docs/serve.md). */
async function viaServe(sys: System, o: RenderOptions): Promise<string> {
  const dir = o.viaServe as string;
  const manifest = await readManifest(sys, dir);
  if (manifest === null)
    throw new MirrorauthError('USAGE', `${dir} is not a tree rendered by mirrorauth serve`, {
      hint: `render it first: ${shellCommand('mirrorauth', 'serve', '--hosts-dir', '/etc/containerd/certs.d', '--render', dir, '--render-only')}`,
    });
  if (o.registry !== undefined || o.helper)
    throw new MirrorauthError('USAGE', '--via-serve takes its registries from the rendered tree', { hint: 'drop --registry and --helper' });
  if (o.format === 'registries-conf') return registriesConf(manifest);
  if (o.format === 'containerd') {
    const settings = await hostsSettings(sys, o);
    const v2 = settings.version.major >= 2;
    const section = v2 ? '[plugins."io.containerd.cri.v1.images".registry]' : '[plugins."io.containerd.grpc.v1.cri".registry]';
    return [
      `# containerd ${settings.version.text}: point CRI at the tree mirrorauth serve renders (${manifest.routes.length} route(s) through ${manifest.proxyUrl}).`,
      `# In /etc/containerd/config.toml (version = ${v2 ? 3 : 2}); hosts.toml changes need no restart, this line does once.`,
      section,
      `  config_path = ${JSON.stringify(dir)}`,
      '',
    ].join('\n');
  }
  if (o.format === 'containers') return containersAuth(manifest, await loadOrCreateSecret(sys, dockerConfigDir(sys, o.config)));
  throw new MirrorauthError('USAGE', `--via-serve renders --format registries-conf or containers, not ${o.format ?? 'docker'}`, {
    hint: 'containerd itself reads the rendered certs.d tree: --format containerd prints the config_path line',
  });
}

export async function renderCommand(sys: System, o: RenderOptions): Promise<number> {
  const err = styleFor(sys, sys.stderr);
  const warn = (s: string) => sys.stderr.write(`${err.c.yellow(`warning: ${s}`)}\n`);
  let text: string;
  if (o.viaServe !== undefined) text = await viaServe(sys, o);
  else if (o.format === 'registries-conf')
    throw new MirrorauthError('USAGE', '--format registries-conf needs --via-serve DIR', {
      hint: 'registries.conf mirrors come from a tree rendered by mirrorauth serve',
    });
  else if (o.format === 'containerd' && (await hostsSettings(sys, o)).version.major >= 2)
    throw new MirrorauthError('USAGE', 'containerd 2.x: registry.configs auth is deprecated (removed in 2.4) and switches CRI off the transfer service', {
      hint: `render a hosts.toml tree for mirrorauth serve and point config_path at it: ${shellCommand('mirrorauth', 'serve', '--render', '/etc/containerd/certs.d.mirrorauth', '--render-only')}, then ${shellCommand('mirrorauth', 'render', '--format', 'containerd', '--via-serve', '/etc/containerd/certs.d.mirrorauth')} (or --containerd 1.7 for a 1.x node)`,
    });
  else text = renderSets(formatOf(o.format), await collectFor(sys, o, warn), o.helper === true, warn);
  if (o.output !== undefined && o.output !== '-') {
    const how = await writeOutput(sys, o.output, text);
    sys.stderr.write(`${err.c.dim(how === 'replaced' ? `wrote ${o.output} (0600)` : `wrote into ${o.output}`)}\n`);
  } else {
    sys.stdout.write(text);
  }
  return EXIT.OK;
}
