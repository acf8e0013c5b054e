/**
 * The node's own containerd: which version runs here (from `containerd
 * --version`, else `ctr version`), so every answer describes the containerd the
 * user has, not the newest one mirrorauth knows. The answer is cached per
 * binary (path, size, mtime) in the user's cache dir, so a command pays for
 * the child process once per containerd upgrade, not on every call.
 */
import type { System } from '../system/system.js';
import { writeFileAtomic } from '../system/atomic-write.js';
import { findOnPath } from '../system/path-lookup.js';
import { DEFAULT_CONTAINERD_VERSION, parseContainerdVersion, type ContainerdVersion } from './version.js';

/** Where the containerd version came from, as every output states it. */
export interface VersionChoice {
  version: ContainerdVersion;
  /** `--containerd`, `MIRRORAUTH_CONTAINERD_VERSION`, `containerd --version`, `ctr version` or `default`. */
  source: string;
  /** The binary that was asked, when one was. */
  binary: string | null;
}

/** The containerd config CRI reads when none is named. */
export const DEFAULT_CONTAINERD_CONFIG = '/etc/containerd/config.toml';

/**
 * versionFromOutput reads the version out of `containerd --version`
 * ("containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3",
 * "containerd containerd.io v2.1.4 05044ec0…") or `ctr version` ("Version:  1.6.20~ds1").
 */
export function versionFromOutput(text: string): string | null {
  const fromVersionLine = /^\s*Version:\s*v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)/m.exec(text);
  if (fromVersionLine) return fromVersionLine[1] as string;
  const first = text.split('\n', 1)[0] ?? '';
  for (const word of first.trim().split(/\s+/).slice(1)) {
    const m = /^v?(\d+\.\d+\.\d+(?:-(?:alpha|beta|rc)[0-9A-Za-z.]*)?)/.exec(word);
    if (m) return m[1] as string;
  }
  return null;
}

function cacheFile(sys: System): string {
  const base = sys.env.XDG_CACHE_HOME || `${sys.homedir()}/.cache`;
  return `${base}/mirrorauth/containerd-version.json`;
}

interface CacheEntry {
  path: string;
  size: number;
  mtimeMs: number;
  version: string;
  source: string;
}

async function readCache(sys: System): Promise<CacheEntry[]> {
  try {
    const parsed = JSON.parse(await sys.fs.readText(cacheFile(sys))) as unknown;
    return Array.isArray(parsed) ? (parsed as CacheEntry[]) : [];
  } catch {
    return [];
  }
}

async function writeCache(sys: System, entries: CacheEntry[]): Promise<void> {
  const file = cacheFile(sys);
  try {
    await sys.fs.mkdir(file.slice(0, file.lastIndexOf('/')), { recursive: true, mode: 0o700 });
    await writeFileAtomic(sys, file, `${JSON.stringify(entries.slice(-8))}\n`, { mode: 0o600 });
  } catch {
    // a cache that cannot be written only costs the next call a child process
  }
}

/** detectContainerdVersion picks the version every command describes when --containerd is not given. */
export async function detectContainerdVersion(sys: System): Promise<VersionChoice> {
  const fromEnv = sys.env.MIRRORAUTH_CONTAINERD_VERSION;
  if (fromEnv !== undefined && fromEnv !== '') {
    return { version: parseContainerdVersion(fromEnv), source: 'MIRRORAUTH_CONTAINERD_VERSION', binary: null };
  }
  const probes: Array<{ name: string; args: string[]; source: string }> = [
    { name: 'containerd', args: ['--version'], source: 'containerd --version' },
    { name: 'ctr', args: ['version'], source: 'ctr version' },
  ];
  const cache = await readCache(sys);
  for (const probe of probes) {
    const found = await findOnPath(sys, probe.name);
    if (found === null) continue;
    const bin = { path: found.path, size: found.stat.size, mtimeMs: found.stat.mtimeMs };
    const hit = cache.find((c) => c.path === bin.path && c.size === bin.size && c.mtimeMs === bin.mtimeMs);
    if (hit) return { version: parseContainerdVersion(hit.version), source: hit.source, binary: bin.path };
    const out = await sys.spawn(bin.path, probe.args, { timeoutMs: 5000 });
    // `ctr version` exits 1 when no daemon answers, after printing the client version
    const text = versionFromOutput(out.stdout);
    if (text === null) continue;
    let version: ContainerdVersion;
    try {
      version = parseContainerdVersion(text);
    } catch {
      continue;
    }
    await writeCache(sys, [...cache.filter((c) => c.path !== bin.path), { ...bin, version: version.text, source: probe.source }]);
    return { version, source: probe.source, binary: bin.path };
  }
  return { version: parseContainerdVersion(DEFAULT_CONTAINERD_VERSION), source: 'default', binary: null };
}
