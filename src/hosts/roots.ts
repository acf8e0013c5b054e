/**
 * Which certs.d roots to read: explicit --hosts-dir roots, the `config_path`
 * of a containerd config.toml (CRI), or nerdctl's defaults.
 */
import { decodeAuth } from '../auth-codec.js';
import { MirrorauthError, errnoCode } from '../errors.js';
import type { System } from '../system/system.js';
import { diagnostic } from './diagnostics.js';
import { isTable, parseToml, type TomlTable, type TomlValue } from './toml.js';
import type { Diagnostic } from './types.js';
import { hasFeature, type ContainerdVersion } from './version.js';

/** defaultRoots are nerdctl's default hosts directories (root and rootless). */
export function defaultRoots(sys: System): string[] {
  if (sys.uid === 0 || sys.uid === undefined) return ['/etc/containerd/certs.d', '/etc/docker/certs.d'];
  const xdg = sys.env.XDG_CONFIG_HOME || `${sys.homedir()}/.config`;
  return [`${xdg}/containerd/certs.d`, `${xdg}/docker/certs.d`];
}

/** The CRI registry sections of containerd config versions 1, 2 and 3, with the containerd that reads each. */
const CRI_REGISTRY_PATHS: Array<{ path: string[]; config: string }> = [
  { path: ['plugins', 'io.containerd.cri.v1.images', 'registry'], config: 'version 3 (containerd 2.x)' },
  { path: ['plugins', 'io.containerd.grpc.v1.cri', 'registry'], config: 'version 2 (containerd 1.x)' },
  { path: ['plugins', 'cri', 'registry'], config: 'version 1' },
];

function dig(table: TomlTable, path: string[]): TomlValue | undefined {
  let cur: TomlValue | undefined = table;
  for (const p of path) {
    if (!isTable(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

/** A `registry.configs."<host>".auth` entry of the CRI plugin (deprecated, but still read by CRI). */
export interface CriAuth {
  username: string;
  password: string;
  identityToken: string;
}

/** How CRI pulls images: through the transfer service (2.1+ default) or the local pull path. */
export interface CriPullMode {
  mode: 'transfer' | 'local';
  /** Why, in words (for explain and doctor). */
  reason: string;
  /** The deprecated registry keys that switched a 2.1+ CRI back to local pull. */
  deprecatedKeys: string[];
}

export interface ConfigRoots {
  roots: string[];
  diagnostics: Diagnostic[];
  /** CRI's per-host auth, keyed by the host containerd passes to its credential lookup. */
  criAuths: Map<string, CriAuth>;
  /** Whether the config sets config_path at all. */
  configPathSet: boolean;
  pullMode: CriPullMode;
}

const DEPRECATED_REGISTRY_KEYS = ['configs', 'mirrors', 'auths'];

/** criPullMode: 2.1+ pulls through the transfer service unless a deprecated registry key or use_local_image_pull says otherwise. */
function criPullMode(version: ContainerdVersion, registry: TomlTable | null, images: TomlTable | null): CriPullMode {
  const deprecatedKeys = registry === null ? [] : DEPRECATED_REGISTRY_KEYS.filter((k) => isTable(registry[k]) && Object.keys(registry[k]).length > 0);
  if (!hasFeature(version, 'criTransferPull')) {
    return { mode: 'local', reason: `containerd ${version.text} CRI always pulls locally (the transfer service is used from 2.1)`, deprecatedKeys };
  }
  if (images !== null && images.use_local_image_pull === true) {
    return { mode: 'local', reason: 'use_local_image_pull = true', deprecatedKeys };
  }
  if (deprecatedKeys.length > 0) {
    return {
      mode: 'local',
      reason: `the deprecated registry.${deprecatedKeys.join('/registry.')} switches CRI back to local pull`,
      deprecatedKeys,
    };
  }
  return { mode: 'transfer', reason: `containerd ${version.text} CRI pulls through the transfer service by default`, deprecatedKeys };
}

function criAuthsOf(registry: TomlTable): Map<string, CriAuth> {
  const out = new Map<string, CriAuth>();
  const configs = registry.configs;
  if (!isTable(configs)) return out;
  for (const [host, cfg] of Object.entries(configs)) {
    if (!isTable(cfg) || !isTable(cfg.auth)) continue;
    const a = cfg.auth;
    const str = (v: TomlValue | undefined) => (typeof v === 'string' ? v : '');
    let username = str(a.username);
    let password = str(a.password);
    if (str(a.auth) !== '') {
      const d = decodeAuth(str(a.auth));
      if (!('error' in d)) {
        username = d.username;
        password = d.password;
      }
    }
    out.set(host, { username, password, identityToken: str(a.identitytoken) });
  }
  return out;
}

/** rootsFromContainerdConfig parses a containerd config.toml and splits its CRI `config_path` (R8). */
export function rootsFromContainerdConfigText(text: string, file: string, version: ContainerdVersion): ConfigRoots {
  const parsed = parseToml(text, hasFeature(version, 'tomlV2') ? 'v2' : 'v1');
  if (!parsed.ok) {
    throw new MirrorauthError('CONFIG_INVALID', `${file}${parsed.line ? `:${parsed.line}` : ''}: ${parsed.message}`, {
      file,
      ...(parsed.line !== null ? { line: parsed.line } : {}),
      hint: 'fix the TOML syntax of the containerd config (containerd itself would not start with it)',
    });
  }
  const diagnostics: Diagnostic[] = [];
  const imagesSection = dig(parsed.doc.data, ['plugins', 'io.containerd.cri.v1.images']);
  const images = isTable(imagesSection) ? imagesSection : null;
  for (const section of CRI_REGISTRY_PATHS) {
    const registry = dig(parsed.doc.data, section.path);
    if (!isTable(registry)) continue;
    const pullMode = criPullMode(version, registry, images);
    if (pullMode.deprecatedKeys.length > 0 && hasFeature(version, 'criTransferPull')) {
      diagnostics.push(
        diagnostic('CRI_DEPRECATED_REGISTRY_KEYS', {
          message: `registry.${pullMode.deprecatedKeys.join(', registry.')} in [${section.path.join('.')}] is deprecated (removed in containerd 2.4) and silently switches containerd ${version.text} CRI from the transfer service back to local pull`,
          file,
          fix: 'move mirrors to hosts.toml files under config_path and credentials to kubelet pull secrets or a credential provider, then remove these keys',
          rule: 'C3',
        }),
      );
    }
    const line = parsed.doc.outline.find((e) => e.path.join('.') === [...section.path, 'config_path'].join('.'))?.line ?? null;
    if (isTable(registry.mirrors) && Object.keys(registry.mirrors).length > 0) {
      diagnostics.push(
        diagnostic('CONTAINERD_CONFIG_MIRRORS_IGNORED', {
          message: 'the deprecated registry.mirrors section is not modelled by mirrorauth; only config_path hosts directories are',
          file,
          fix: 'move the mirrors into hosts.toml files under config_path',
          rule: 'R8',
        }),
      );
    }
    const value = registry.config_path;
    if (typeof value !== 'string' || value === '') {
      diagnostics.push(
        diagnostic('CONTAINERD_CONFIG_NO_CONFIG_PATH', {
          message: `[${section.path.join('.')}] sets no config_path: CRI reads no hosts directory at all`,
          file,
          line,
          fix: `set config_path = "/etc/containerd/certs.d" in [${section.path.map((p) => (p.includes('.') ? JSON.stringify(p) : p)).join('.')}]`,
          rule: 'R8',
        }),
      );
      return { roots: [], diagnostics, criAuths: criAuthsOf(registry), configPathSet: false, pullMode };
    }
    const split = value.split(':').filter((r) => r !== '');
    if (pullMode.mode === 'transfer' && split.length > 1) {
      // the transfer service hands config_path to HostDirFromRoot whole (containerd#12415)
      diagnostics.push(
        diagnostic('CRI_TRANSFER_MULTI_ROOT', {
          message: `containerd ${version.text} CRI pulls through the transfer service, which reads config_path "${value}" as ONE directory: hosts.toml files under ${split.join(' and ')} are silently ignored by CRI pulls (containerd#12415)`,
          file,
          line,
          fix: `set config_path to one directory (config_path = "${split[0] ?? ''}"), or set use_local_image_pull = true in [plugins."io.containerd.cri.v1.images"]`,
          rule: 'C3',
        }),
      );
      return { roots: [value], diagnostics, criAuths: criAuthsOf(registry), configPathSet: true, pullMode };
    }
    return { roots: split, diagnostics, criAuths: criAuthsOf(registry), configPathSet: true, pullMode };
  }
  diagnostics.push(
    diagnostic('CONTAINERD_CONFIG_NO_CONFIG_PATH', {
      message: 'no CRI registry section with config_path found: CRI reads no hosts directory at all',
      file,
      fix: 'add [plugins."io.containerd.cri.v1.images".registry] (containerd 2.x) or [plugins."io.containerd.grpc.v1.cri".registry] (1.x) with config_path = "/etc/containerd/certs.d"',
      rule: 'R8',
    }),
  );
  return { roots: [], diagnostics, criAuths: new Map(), configPathSet: false, pullMode: criPullMode(version, null, images) };
}

/** rootsFromContainerdConfig reads the file, then parses it. */
export async function rootsFromContainerdConfig(sys: System, file: string, version: ContainerdVersion): Promise<ConfigRoots> {
  let text: string;
  try {
    text = await sys.fs.readText(file);
  } catch (e) {
    throw new MirrorauthError('IO', `cannot read containerd config ${file}: ${errnoCode(e) ?? (e as Error).message}`, {
      file,
      hint: "give the path of containerd's config.toml (usually /etc/containerd/config.toml)",
      cause: e,
    });
  }
  return rootsFromContainerdConfigText(text, file, version);
}
