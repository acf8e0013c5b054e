/**
 * Options shared by every command that reads hosts roots (--hosts-dir,
 * --containerd-config, --containerd), turned into resolver settings in one place.
 */
import type { Command } from 'commander';
import { MirrorauthError } from '../errors.js';
import { diagnostic } from '../hosts/diagnostics.js';
import { DEFAULT_CONTAINERD_CONFIG, detectContainerdVersion } from '../hosts/node-facts.js';
import { defaultRoots, rootsFromContainerdConfig, type CriAuth, type CriPullMode } from '../hosts/roots.js';
import type { Diagnostic } from '../hosts/types.js';
import { parseContainerdVersion, type ContainerdVersion } from '../hosts/version.js';
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
    .option(
      '--containerd-config <file>',
      `read the hosts roots from config_path in containerd's config.toml (default ${DEFAULT_CONTAINERD_CONFIG} when it sets one)`,
    )
    .option('--containerd <version>', "containerd version whose behaviour to reproduce (default: this node's, from `containerd --version`)")
    .option('--plain-http', 'resolve as with DefaultScheme=http (ctr --plain-http, nerdctl --insecure-registry)');
}

export interface HostsSettings {
  roots: string[];
  /** CRI `registry.configs` auth from --containerd-config, or null when no config was given. */
  criAuths: Map<string, CriAuth> | null;
  version: ContainerdVersion;
  /** Where the version came from: `--containerd`, `containerd --version`, `ctr version`, `default`… */
  versionSource: string;
  /** Where the roots came from: `--hosts-dir`, the config file's config_path, or nerdctl's defaults. */
  rootsSource: string;
  /** The containerd config that was read (given or the node's default), or null. */
  containerdConfig: string | null;
  /** How CRI pulls with that config and version, or null when no config was read. */
  criPullMode: CriPullMode | null;
  defaultScheme: '' | 'http';
  diagnostics: Diagnostic[];
}

/** hostsSettings resolves the options into roots, version and diagnostics about the roots. */
export async function hostsSettings(sys: System, o: HostsOptionValues): Promise<HostsSettings> {
  const choice =
    o.containerd !== undefined ? { version: parseContainerdVersion(o.containerd), source: '--containerd', binary: null } : await detectContainerdVersion(sys);
  const version = choice.version;
  const diagnostics: Diagnostic[] = [];
  let roots: string[] = [...(o.hostsDir ?? [])];
  let criAuths: Map<string, CriAuth> | null = null;
  let rootsSource = '--hosts-dir';
  let containerdConfig: string | null = null;
  let criPullMode: CriPullMode | null = null;
  if (o.containerdConfig !== undefined) {
    const fromConfig = await rootsFromContainerdConfig(sys, o.containerdConfig, version);
    roots.push(...fromConfig.roots);
    diagnostics.push(...fromConfig.diagnostics);
    criAuths = fromConfig.criAuths;
    containerdConfig = o.containerdConfig;
    criPullMode = fromConfig.pullMode;
    rootsSource = o.hostsDir !== undefined ? '--hosts-dir and --containerd-config' : `config_path in ${o.containerdConfig}`;
  }
  const explicit = o.hostsDir !== undefined || o.containerdConfig !== undefined;
  if (!explicit) {
    // the node's own containerd config, when it names hosts directories; otherwise nerdctl's defaults
    const file = sys.env.MIRRORAUTH_CONTAINERD_CONFIG ?? DEFAULT_CONTAINERD_CONFIG;
    const fromConfig = file === '' ? null : await rootsFromContainerdConfig(sys, file, version).catch(() => null);
    if (fromConfig !== null) {
      containerdConfig = file;
      criAuths = fromConfig.criAuths;
      criPullMode = fromConfig.pullMode;
    }
    if (fromConfig !== null && fromConfig.configPathSet) {
      roots = fromConfig.roots;
      diagnostics.push(...fromConfig.diagnostics);
      rootsSource = `config_path in ${file}`;
    } else {
      roots = defaultRoots(sys);
      rootsSource = fromConfig !== null ? `nerdctl's defaults (${file} sets no config_path)` : "nerdctl's defaults";
    }
  }
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
  return {
    roots,
    criAuths,
    version,
    versionSource: choice.source,
    rootsSource,
    containerdConfig,
    criPullMode,
    defaultScheme: o.plainHttp ? 'http' : '',
    diagnostics,
  };
}

/** versionLabel says which containerd an answer describes and how mirrorauth knows: "containerd 1.6.20 (from containerd --version)". */
export function versionLabel(s: Pick<HostsSettings, 'version' | 'versionSource'>): string {
  const from = s.versionSource === 'default' ? 'no containerd found here; --containerd sets another' : `from ${s.versionSource}`;
  return `containerd ${s.version.text} (${from})`;
}
