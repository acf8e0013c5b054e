/**
 * The file edge of `mirrorauth serve --render DIR`: read the user's certs.d
 * roots the way containerd picks directories, decide which mirror entries have
 * mirrorauth credentials (through resolveCredential, the one decision), and
 * write a tree containerd's `config_path` can point at.
 *
 * - A registry directory with a routed entry gets a rendered hosts.toml (0600,
 *   dir 0700) with that entry replaced by a proxy entry in the same position.
 * - Every other directory is a symlink to the user's own, so containerd sees
 *   exactly what it saw before (certificate layouts and rejected files too).
 * Files are replaced atomically; containerd re-reads hosts directories on every
 * pull, so a re-render takes effect without a restart.
 */
import { resolveCredential, findNamespaced, isSameRegistry, type CredentialContext } from '../credentials/resolve.js';
import { canonicalHost, canonicalNamespace, parseNamespacedKey } from '../credentials/keys.js';
import { isNamespacedKey } from '../credentials/namespaced-store.js';
import { errnoCode, MirrorauthError } from '../errors.js';
import { configureHosts } from '../hosts/expand.js';
import { checkTlsFiles, findHostDir, loadHostDir, registryOfDir } from '../hosts/load.js';
import { defaultCapabilities } from '../hosts/parse.js';
import type { HostConfig, RegistryHost } from '../hosts/types.js';
import type { ContainerdVersion } from '../hosts/version.js';
import { tmpSuffix, writeFileAtomic } from '../system/atomic-write.js';
import type { System } from '../system/system.js';
import { jsonErrorReason } from '../json-error.js';
import {
  keyPathOf,
  MANIFEST_FILE,
  MANIFEST_VERSION,
  renderHostsToml,
  routeId,
  type RenderEntry,
  type RouteEndpoint,
  type ServeManifest,
  type ServeRoute,
} from './routes.js';

export interface ServeTreeOptions {
  roots: string[];
  version: ContainerdVersion;
  /** http://127.0.0.1:PORT */
  proxyUrl: string;
  secret: string;
}

export type DirPlan = { kind: 'toml'; text: string; source: string } | { kind: 'link'; target: string };

export interface ServeTreePlan {
  manifest: ServeManifest;
  dirs: Map<string, DirPlan>;
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

async function registryDirNames(sys: System, roots: string[]): Promise<string[]> {
  const names = new Set<string>();
  for (const root of roots) {
    let entries;
    try {
      entries = await sys.fs.readdir(root);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') continue;
      throw e;
    }
    for (const e of entries) if (!e.name.startsWith('.') && !e.isFile) names.add(e.name);
  }
  return [...names].sort();
}

function endpointOf(h: HostConfig): RouteEndpoint {
  return { scheme: h.scheme, host: h.host, apiPath: h.path };
}

function hasAuthorizationHeader(h: HostConfig): boolean {
  return (h.header ?? []).some(([name]) => name.toLowerCase() === 'authorization');
}

/** namespacesWithCredentials lists the upstreams the namespaced store has entries for at this endpoint. */
export function namespacesWithCredentials(ctx: CredentialContext, e: RouteEndpoint): string[] {
  const host = canonicalHost(e.host);
  const out = new Set<string>();
  for (const entry of ctx.store.entries.values()) {
    if (!isNamespacedKey(entry.key)) continue;
    const k = parseNamespacedKey(entry.key);
    if (k.host !== host) continue;
    if (findNamespaced(ctx.store, { host, path: keyPathOf(e) }, k.namespace) === entry) out.add(k.namespace);
  }
  return [...out].sort();
}

/** isRoutable: does mirrorauth hold a credential this entry would get when serving `namespace`? */
async function isRoutable(ctx: CredentialContext, h: HostConfig, namespace: string | null): Promise<boolean> {
  if (h.origin !== 'host' || h.host === '' || (h.scheme !== 'http' && h.scheme !== 'https') || hasAuthorizationHeader(h)) return false;
  const e = endpointOf(h);
  if (namespace !== null) {
    if (isSameRegistry(h.host, namespace)) return false;
    const found = await resolveCredential(ctx, { host: h.host, path: keyPathOf(e) }, namespace);
    return found.source.kind !== 'anonymous';
  }
  return namespacesWithCredentials(ctx, e).length > 0;
}

function routeFor(h: HostConfig, expanded: RegistryHost | undefined, namespace: string | null, registryDir: string, file: string): ServeRoute {
  // the scheme containerd dials: an http entry with TLS settings is tried over https first (R31)
  const endpoint: RouteEndpoint = expanded?.httpsFirst ? { ...endpointOf(h), scheme: 'https', httpFallback: true } : endpointOf(h);
  // the original entry's capabilities: a push goes through the proxy only where the mirror took pushes
  const capabilities = [...h.capabilities];
  return {
    id: routeId(endpoint, namespace),
    endpoint,
    namespace,
    registryDir,
    file,
    line: h.line,
    capabilities,
    caCerts: h.caCerts ?? [],
    clientPairs: h.clientPairs ?? [],
    skipVerify: h.skipVerify === true,
    headers: h.header ?? [],
  };
}

/** planServeTree decides the rendered tree without writing anything. */
export async function planServeTree(sys: System, ctx: CredentialContext, o: ServeTreeOptions): Promise<ServeTreePlan> {
  const dirs = new Map<string, DirPlan>();
  const routes: ServeRoute[] = [];
  const seenDirs = new Set<string>();
  for (const name of await registryDirNames(sys, o.roots)) {
    const dirHost = registryOfDir(name);
    const registry = dirHost === null ? null : canonicalNamespace(dirHost);
    const found = await findHostDir(sys, o.roots, dirHost ?? '_default');
    if (found.dir === null || basename(found.dir) !== name || seenDirs.has(found.dir)) continue; // shadowed by an earlier root
    seenDirs.add(found.dir);
    const loaded = await loadHostDir(sys, found.dir, o.version);
    const entries: RenderEntry[] = [];
    // a directory containerd cannot use (unreadable or missing TLS files: every pull fails) stays as it is
    const expanded = configureHosts(loaded.entries, registry ?? 'registry.invalid', { version: o.version, defaultScheme: '', file: loaded.file });
    const broken = loaded.fatal || (await checkTlsFiles(sys, expanded)).some((d) => d.severity === 'error');
    if (loaded.source === 'hosts.toml' && !broken) {
      for (const [i, entry] of loaded.entries.entries()) {
        const routable = await isRoutable(ctx, entry, registry);
        entries.push({ entry, route: routable ? routeFor(entry, expanded[i], registry, name, loaded.file ?? found.dir) : null });
      }
    }
    const routed = entries.filter((e) => e.route !== null);
    if (routed.length === 0) {
      dirs.set(name, { kind: 'link', target: found.dir });
      continue;
    }
    for (const r of routed) if (r.route) routes.push(r.route);
    dirs.set(name, {
      kind: 'toml',
      text: renderHostsToml(entries, o.proxyUrl, o.secret, loaded.file ?? found.dir, defaultCapabilities(o.version)),
      source: loaded.file ?? found.dir,
    });
  }
  const manifest: ServeManifest = {
    version: MANIFEST_VERSION,
    proxyUrl: o.proxyUrl,
    containerd: o.version.text,
    sourceRoots: o.roots,
    dirs: [...dirs.keys()],
    routes,
  };
  return { manifest, dirs };
}

async function lstatOrNull(sys: System, p: string) {
  try {
    return await sys.fs.lstat(p);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return null;
    throw e;
  }
}

/** readManifest reads a rendered tree's manifest, or null when the directory holds none. */
export async function readManifest(sys: System, outDir: string): Promise<ServeManifest | null> {
  const file = `${outDir}/${MANIFEST_FILE}`;
  let text: string;
  try {
    text = await sys.fs.readText(file);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return null;
    throw e;
  }
  try {
    const m = JSON.parse(text) as ServeManifest;
    if (m.version !== MANIFEST_VERSION || !Array.isArray(m.routes) || !Array.isArray(m.dirs)) throw new Error('unknown version');
    return m;
  } catch (e) {
    throw new MirrorauthError('CONFIG_INVALID', `${file} is not a mirrorauth serve manifest (${jsonErrorReason(e)})`, {
      file,
      hint: `remove ${outDir} and render it again with mirrorauth serve --render`,
    });
  }
}

/**
 * writeServeTree makes `outDir` match the plan. It refuses a non-empty
 * directory it did not render (it never deletes files it does not own) and
 * removes registry directories of an earlier render that are gone.
 * Returns the names of the directories it changed.
 */
export async function writeServeTree(sys: System, outDir: string, plan: ServeTreePlan): Promise<string[]> {
  await sys.fs.mkdir(outDir, { recursive: true, mode: 0o700 });
  await sys.fs.chmod(outDir, 0o700);
  const previous = await readManifest(sys, outDir);
  if (previous === null) {
    const existing = (await sys.fs.readdir(outDir)).filter((e) => !e.name.startsWith('.'));
    if (existing.length > 0) {
      throw new MirrorauthError('USAGE', `${outDir} is not empty and was not rendered by mirrorauth serve`, {
        hint: 'give --render an empty or new directory; mirrorauth never overwrites a certs.d tree it did not write',
      });
    }
  }
  const changed: string[] = [];
  for (const [name, d] of plan.dirs) {
    const path = `${outDir}/${name}`;
    const st = await lstatOrNull(sys, path);
    if (d.kind === 'link') {
      if (st?.isSymbolicLink && (await sys.fs.readlink(path)) === d.target) continue;
      const tmp = `${outDir}/.${name}.${tmpSuffix()}.tmp`;
      await sys.fs.symlink(d.target, tmp);
      if (st !== null && !st.isSymbolicLink) await sys.fs.rm(path, { recursive: true, force: true });
      await sys.fs.rename(tmp, path); // a symlink replaces a symlink atomically
      changed.push(name);
      continue;
    }
    if (st?.isSymbolicLink) await sys.fs.unlink(path);
    await sys.fs.mkdir(path, { recursive: true, mode: 0o700 });
    await sys.fs.chmod(path, 0o700);
    const file = `${path}/hosts.toml`;
    let current: string | null = null;
    try {
      current = await sys.fs.readText(file);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
    }
    if (current === d.text) continue;
    await writeFileAtomic(sys, file, d.text, { mode: 0o600 });
    changed.push(name);
  }
  for (const name of previous?.dirs ?? []) {
    if (plan.dirs.has(name) || name.includes('/') || name.startsWith('.')) continue;
    await sys.fs.rm(`${outDir}/${name}`, { recursive: true, force: true });
    changed.push(name);
  }
  const manifestText = `${JSON.stringify(plan.manifest, null, 2)}\n`;
  let currentManifest: string | null = null;
  try {
    currentManifest = await sys.fs.readText(`${outDir}/${MANIFEST_FILE}`);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
  if (currentManifest !== manifestText) await writeFileAtomic(sys, `${outDir}/${MANIFEST_FILE}`, manifestText, { mode: 0o600 });
  return changed;
}
