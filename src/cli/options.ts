/**
 * Options shared by every command that reads hosts roots (--hosts-dir,
 * --containerd-config, --containerd), turned into resolver settings in one place.
 */
import type { Command } from 'commander';
import { MirrorauthError } from '../errors.js';
import { diagnostic } from '../hosts/diagnostics.js';
import { defaultRoots, rootsFromContainerdConfig, type CriAuth } from '../hosts/roots.js';
import type { Diagnostic } from '../hosts/types.js';
import { DEFAULT_CONTAINERD_VERSION, parseContainerdVersion, type ContainerdVersion } from '../hosts/version.js';
import type { System } from '../system/system.js';

export interface HostsOptionValues {
  hostsDir?: string[];
  containerdConfig?: string;
  containerd?: string;
  plainHttp?: boolean;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** addHostsOptions declares the hosts-root options on a command. */
export function addHostsOptions(cmd: Command): Command {
  return cmd
    .option('--hosts-dir <dir>', 'a certs.d root with <registry>/hosts.toml; repeat for several roots, tried in order', collect)
    .option('--containerd-config <file>', "read the hosts roots from config_path in containerd's config.toml")
    .option('--containerd <version>', `containerd version whose behaviour to reproduce (default ${DEFAULT_CONTAINERD_VERSION})`)
    .option('--plain-http', 'resolve as with DefaultScheme=http (ctr --plain-http, nerdctl --insecure-registry)');
}

export interface HostsSettings {
  roots: string[];
  /** CRI `registry.configs` auth from --containerd-config, or null when no config was given. */
  criAuths: Map<string, CriAuth> | null;
  version: ContainerdVersion;
  defaultScheme: '' | 'http';
  diagnostics: Diagnostic[];
}

/** hostsSettings resolves the options into roots, version and diagnostics about the roots. */
export async function hostsSettings(sys: System, o: HostsOptionValues): Promise<HostsSettings> {
  const version = parseContainerdVersion(o.containerd ?? DEFAULT_CONTAINERD_VERSION);
  const diagnostics: Diagnostic[] = [];
  let roots: string[] = [...(o.hostsDir ?? [])];
  let criAuths: Map<string, CriAuth> | null = null;
  if (o.containerdConfig !== undefined) {
    const fromConfig = await rootsFromContainerdConfig(sys, o.containerdConfig);
    roots.push(...fromConfig.roots);
    diagnostics.push(...fromConfig.diagnostics);
    criAuths = fromConfig.criAuths;
  }
  const explicit = o.hostsDir !== undefined || o.containerdConfig !== undefined;
  if (!explicit) roots = defaultRoots(sys);
  if (o.hostsDir) {
    for (const root of o.hostsDir) {
      if (root === '') throw new MirrorauthError('USAGE', '--hosts-dir needs a directory', { hint: 'write --hosts-dir /etc/containerd/certs.d' });
      try {
        const st = await sys.fs.stat(root);
        if (!st.isDirectory) {
          diagnostics.push(
            diagnostic('HOSTS_ROOT_MISSING', {
              message: `hosts root ${root} is not a directory; nothing under it is read`,
              file: root,
              fix: 'give the certs.d directory itself',
              rule: 'R8',
            }),
          );
        }
      } catch {
        diagnostics.push(
          diagnostic('HOSTS_ROOT_MISSING', {
            message: `hosts root ${root} does not exist; nothing under it is read`,
            file: root,
            fix: 'check the path given to --hosts-dir',
            rule: 'R8',
          }),
        );
      }
    }
  }
  return { roots, criAuths, version, defaultScheme: o.plainHttp ? 'http' : '', diagnostics };
}
