/**
 * doctor: every hosts root and every credential source, checked at once.
 * Host directories are inspected the way containerd loads them (inspectHostDir);
 * credentials are checked for presence only (no secret is read, no helper is
 * asked for one), so a tree of a thousand registries takes well under a second.
 */
import type { CredentialContext } from '../credentials/resolve.js';
import { hasCredential, isSameRegistry } from '../credentials/resolve.js';
import { dockerRoute } from '../credentials/sources.js';
import { openKeychain } from '../credentials/keychain.js';
import { canonicalHost, endpointPath, formatNamespacedKey, namespacedKey, parseNamespacedKey, parseNerdctlKey, pathCovers } from '../credentials/keys.js';
import { isNamespacedKey } from '../credentials/namespaced-store.js';
import { errnoCode } from '../errors.js';
import { diagnostic } from '../hosts/diagnostics.js';
import { dirHasContent, registryOfDir } from '../hosts/load.js';
import { parseContainerdVersion } from '../hosts/version.js';
import { request } from '../registry/http.js';
import { planServeTree, readManifest } from '../serve/render-tree.js';
import { MANIFEST_FILE } from '../serve/routes.js';
import { inspectHostDir, type DirInspection } from '../hosts/resolve.js';
import type { CriAuth } from '../hosts/roots.js';
import type { Diagnostic } from '../hosts/types.js';
import type { ContainerdVersion } from '../hosts/version.js';
import { findOnPath } from '../system/path-lookup.js';
import type { System } from '../system/system.js';
import { shellCommand } from '../shell.js';

export interface DoctorOptions {
  roots: string[];
  version: ContainerdVersion;
  defaultScheme: '' | 'http' | 'https';
  /** CRI's registry.configs auth from the containerd config, when one was read. */
  criAuths?: Map<string, CriAuth> | null;
}

export interface DoctorReport {
  roots: Array<{ root: string; exists: boolean; directories: number }>;
  directories: number;
  diagnostics: Diagnostic[];
}

async function mapLimit<T, R>(items: T[], limit: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i] as T);
      }
    }),
  );
  return out;
}

function lineOfKey(text: string | null, key: string): number | null {
  if (text === null) return null;
  const i = text.indexOf(JSON.stringify(key));
  return i < 0 ? null : text.slice(0, i).split('\n').length;
}

/**
 * serveChecks looks at roots rendered by `mirrorauth serve`: is the proxy they
 * point at answering, and does the tree still match the user's certs.d and
 * credentials? Returns the proxy origins found.
 */
async function serveChecks(sys: System, ctx: CredentialContext, roots: string[], out: Diagnostic[]): Promise<Set<string>> {
  const origins = new Set<string>();
  for (const root of roots) {
    const manifest = await readManifest(sys, root).catch(() => null);
    if (manifest === null) continue;
    origins.add(manifest.proxyUrl);
    const file = `${root.replace(/\/+$/, '')}/${MANIFEST_FILE}`;
    const health = await request(sys, `${manifest.proxyUrl}/healthz`, { timeoutMs: 2000 }).catch((e: Error) => e);
    if (health instanceof Error || health.status !== 200) {
      out.push(
        diagnostic('SERVE_PROXY_DOWN', {
          message: `${root} is rendered for mirrorauth serve at ${manifest.proxyUrl}, which does not answer (${health instanceof Error ? health.message : `HTTP ${health.status}`}): containerd skips its ${manifest.routes.length} proxy entr${manifest.routes.length === 1 ? 'y' : 'ies'} and those mirrors get no requests`,
          file,
          fix: `start it: ${shellCommand('mirrorauth', 'serve', ...manifest.sourceRoots.flatMap((r) => ['--hosts-dir', r]), '--render', root, '--listen', new URL(manifest.proxyUrl).host)}`,
        }),
      );
    }
    const plan = await planServeTree(sys, ctx, {
      roots: manifest.sourceRoots,
      version: parseContainerdVersion(manifest.containerd),
      proxyUrl: manifest.proxyUrl,
      secret: '',
    }).catch(() => null);
    const routesOf = (rs: Array<{ id: string }>) => rs.map((r) => r.id).join(',');
    if (plan !== null && (routesOf(plan.manifest.routes) !== routesOf(manifest.routes) || plan.manifest.dirs.join(',') !== manifest.dirs.join(','))) {
      out.push(
        diagnostic('SERVE_TREE_STALE', {
          message: `${root} no longer matches ${manifest.sourceRoots.join(', ')} and the credential store (${plan.manifest.routes.length} route(s) now, ${manifest.routes.length} rendered): containerd pulls as the old files say`,
          file,
          fix: `a running mirrorauth serve re-renders by itself within seconds; otherwise: ${shellCommand('mirrorauth', 'serve', ...manifest.sourceRoots.flatMap((r) => ['--hosts-dir', r]), '--render', root, '--render-only')}`,
        }),
      );
    }
  }
  return origins;
}

/**
 * scanRoots inspects every directory of every root the way containerd loads it
 * (earlier roots first, `_default` shadowing later roots, the host_port_ form
 * before host:port), with the findings about the directories themselves.
 */
async function scanRoots(sys: System, o: DoctorOptions): Promise<{ roots: DoctorReport['roots']; inspections: DirInspection[]; diagnostics: Diagnostic[] }> {
  // One piece: containerd's walk over roots, where each directory's finding depends on what earlier roots held.
  const diagnostics: Diagnostic[] = [];
  const roots: DoctorReport['roots'] = [];
  const inspections: DirInspection[] = [];
  const seenNames = new Map<string, string>();
  let defaultRoot: string | null = null;
  for (const root of o.roots) {
    const base = root.replace(/\/+$/, '');
    let entries: Array<{ name: string; isDirectory: boolean }> = [];
    try {
      entries = await sys.fs.readdir(root);
    } catch (e) {
      roots.push({ root, exists: false, directories: 0 });
      if (errnoCode(e) !== 'ENOENT')
        diagnostics.push(diagnostic('HOSTS_DIR_UNREADABLE', { message: `cannot list ${root}: ${(e as Error).message}`, file: root, rule: 'R4' }));
      continue;
    }
    roots.push({ root, exists: true, directories: entries.length });
    if (defaultRoot !== null && entries.length > 0) {
      diagnostics.push(
        diagnostic('HOSTS_LATER_ROOT_SHADOWED', {
          message: `nothing under ${root} is ever read: ${defaultRoot}/_default in an earlier root answers for every registry first`,
          file: root,
          fix: `move the directories of ${root} into ${defaultRoot}`,
          rule: 'R8',
        }),
      );
      continue;
    }
    const names = new Set(entries.map((e) => e.name));
    const hasDefault = names.has('_default');
    const skip = new Set<string>();
    for (const e of entries) {
      const dir = `${base}/${e.name}`;
      const registry = registryOfDir(e.name);
      const earlier = seenNames.get(e.name);
      if (earlier !== undefined) {
        diagnostics.push(
          diagnostic('HOSTS_LATER_ROOT_SHADOWED', {
            message: `${dir} is never read: ${earlier} in an earlier root answers first`,
            file: dir,
            fix: `merge it into ${earlier}`,
            rule: 'R8',
          }),
        );
        skip.add(e.name);
        continue;
      }
      const colon = registry !== null && !e.name.endsWith('_') ? registry.lastIndexOf(':') : -1;
      if (registry !== null && colon > 0 && names.has(`${registry.slice(0, colon)}_${registry.slice(colon + 1)}_`)) {
        diagnostics.push(
          diagnostic('HOSTS_DIR_NAME_SHADOWED', {
            message: `${dir} is never read: the ${registry.slice(0, colon)}_${registry.slice(colon + 1)}_ form next to it is tried first`,
            file: dir,
            fix: 'keep one of the two directories',
            rule: 'R4',
          }),
        );
        skip.add(e.name);
        continue;
      }
      seenNames.set(e.name, dir);
      if (e.isDirectory && e.name !== '_default' && hasDefault && !(await dirHasContent(sys, dir))) {
        diagnostics.push(
          diagnostic('HOSTS_DIR_SHADOWS_DEFAULT', {
            message: `${dir} holds no hosts.toml and no certificates, so containerd ignores ${base}/_default for ${registry} and contacts it directly`,
            file: dir,
            fix: `remove the empty directory, or copy ${base}/_default/hosts.toml into it`,
            rule: 'R7',
          }),
        );
      }
    }
    if (hasDefault) defaultRoot = base;
    const dirs = entries.filter((e) => !skip.has(e.name));
    const inspected = await mapLimit(dirs, 32, (e) =>
      inspectHostDir(sys, `${base}/${e.name}`, registryOfDir(e.name) ?? 'registry.invalid', o.version, o.defaultScheme),
    );
    for (const i of inspected) {
      inspections.push(i);
      diagnostics.push(...i.diagnostics);
    }
  }
  return { roots, inspections, diagnostics };
}

/** What every credential check may read: the configuration, once. */
interface CheckInput {
  sys: System;
  ctx: CredentialContext;
  o: DoctorOptions;
  inspections: DirInspection[];
  /** The raw texts, for line numbers. */
  storeText: string | null;
  configText: string | null;
  /** Origins of serve proxies named by rendered roots: their entries are not mirrors to check. */
  proxies: Set<string>;
  /** For each namespace ("*" for `_default`), the mirror endpoints hosts.toml sends it to. */
  used: Map<string, Array<{ host: string; path: string; file: string | null; line: number | null }>>;
}

/** A credential check: a name (for people and tests) and the findings it makes. */
interface Check {
  name: string;
  run(i: CheckInput): Diagnostic[] | Promise<Diagnostic[]>;
}

/** usedEndpoints: which mirror endpoints each namespace is sent to, from the inspected directories. */
function usedEndpoints(inspections: DirInspection[], proxies: Set<string>): CheckInput['used'] {
  const used: CheckInput['used'] = new Map();
  for (const i of inspections) {
    const ns = i.dir.endsWith('/_default') ? '*' : i.registry;
    for (const h of i.hosts) {
      if (h.origin === 'default' || h.host === '' || h.scheme === '' || isSameRegistry(h.host, i.registry)) continue;
      if (proxies.has(`${h.scheme}://${h.host}`)) continue; // the serve proxy: it adds the credentials itself
      used.set(ns, [...(used.get(ns) ?? []), { host: canonicalHost(h.host), path: endpointPath(h.path), file: i.hostsFile, line: h.line }]);
    }
  }
  return used;
}

/** The credential checks, in the order of docs/diagnostics.md. Each is small and independent. */
const CHECKS: Check[] = [
  {
    name: 'mirrors without credentials',
    run: ({ ctx, used }) =>
      [...used].flatMap(([ns, endpoints]) =>
        endpoints
          .filter((e) => !hasCredential(ctx, { host: e.host, path: e.path }, ns === '*' ? null : ns))
          .map((e) =>
            diagnostic('CRED_MIRROR_NO_CREDENTIALS', {
              message: `mirror ${e.host}${e.path} serving ${ns === '*' ? 'every registry without its own directory' : ns} has no credentials anywhere: containerd and mirrorauth send it none`,
              file: e.file,
              line: e.line,
              fix: `if it needs them: ${shellCommand('mirrorauth', 'login', formatNamespacedKey(namespacedKey(e.host, e.path, ns)))}`,
            }),
          ),
      ),
  },
  {
    name: "kubelet credentials that replace a mirror's auth",
    run: ({ o, used }) => {
      const seen = new Set<string>();
      return [...used.values()].flat().flatMap((e) => {
        if (seen.has(e.host) || o.criAuths?.get(e.host) === undefined) return [];
        seen.add(e.host);
        return [
          diagnostic('CRI_KUBELET_REPLACES_MIRROR_AUTH', {
            message: `mirror ${e.host} has registry.configs auth, but CRI skips registry.configs for any pull whose request carries a kubelet credential (a pull secret or credential provider): without server_address (what kubelet sends) that credential goes to this mirror instead, with server_address the mirror gets nothing; either way pulls of images with a pull secret can fail on the mirror`,
            file: e.file,
            line: e.line,
            fix: 'give the mirror credentials that do not depend on the request: put it behind mirrorauth serve (mirrorauth login for the mirror, then serve --render), or make the pull secret valid on the mirror too',
            rule: 'C2',
          }),
        ];
      });
    },
  },
  {
    name: 'store entries that cannot be used',
    run: ({ ctx, storeText }) =>
      ctx.store.skipped.map((bad) =>
        diagnostic('CRED_STORE_ENTRY_SKIPPED', {
          message: `the store entry ${JSON.stringify(bad.key)} is skipped: ${bad.why}`,
          file: ctx.store.file,
          line: lineOfKey(storeText, bad.key),
          fix: `remove it by hand from ${ctx.store.file} and log in again with a valid address`,
        }),
      ),
  },
  {
    name: 'namespaced secrets docker enumerates',
    run: ({ ctx, storeText }) => {
      const enumerable = [...ctx.store.entries.values()].filter((e) => isNamespacedKey(e.key) && e.backend === 'helper');
      if (enumerable.length === 0) return [];
      return [
        diagnostic('CRED_HELPER_BACKEND_ENUMERATED', {
          message: `${enumerable.length} namespaced secret(s) are kept in Docker's credsStore helper (${enumerable.map((e) => e.key).join(', ')}), which docker lists and hands to every classic-builder build it runs`,
          file: ctx.store.file,
          line: lineOfKey(storeText, (enumerable[0] as { key: string }).key),
          fix: 'log in again where the keychain is reachable (--store keychain); the helper backend is the last resort before plaintext',
        }),
      ];
    },
  },
  {
    name: 'namespaced entries no hosts.toml uses',
    run: ({ ctx, o, used, storeText }) =>
      [...ctx.store.entries.values()]
        .filter((entry) => isNamespacedKey(entry.key))
        .flatMap((entry) => {
          const k = parseNamespacedKey(entry.key);
          const candidates = k.namespace === '*' ? [...used.values()].flat() : [...(used.get(k.namespace) ?? []), ...(used.get('*') ?? [])];
          if (candidates.some((c) => c.host === k.host && pathCovers(k.path, c.path))) return [];
          return [
            diagnostic('CRED_UNUSED_ENTRY', {
              message: `credentials for ${entry.key} are stored, but no hosts.toml under ${o.roots.join(', ') || '(no roots)'} sends ${k.namespace === '*' ? 'any registry' : k.namespace} to ${k.host}${k.path}`,
              file: ctx.store.file,
              line: lineOfKey(storeText, entry.key),
              fix: `add the mirror to hosts.toml, or remove the entry: ${shellCommand('mirrorauth', 'logout', entry.key)}`,
            }),
          ];
        }),
  },
  {
    name: 'plaintext secrets',
    run: ({ ctx, storeText, configText }) => [
      ...[...ctx.store.entries.values()]
        .filter((entry) => entry.backend === 'file')
        .map((entry) =>
          diagnostic('CRED_PLAINTEXT_PASSWORD', {
            message: `the ${entry.kind === 'identitytoken' ? 'refresh token' : 'password'} for ${entry.key} is stored in plain text`,
            file: ctx.store.file,
            line: lineOfKey(storeText, entry.key),
            fix: `log in again with a keychain or credsStore available: ${shellCommand('mirrorauth', 'login', entry.key, '--store', 'keychain')}`,
          }),
        ),
      ...[...ctx.docker.auths]
        .filter(([key, entry]) => !parseNerdctlKey(key) && entry.credential.password !== '' && dockerRoute(ctx.docker, key).kind === 'auths')
        .map(([key]) =>
          diagnostic('CRED_PLAINTEXT_PASSWORD', {
            message: `the password for ${key} is stored in plain text in Docker's config`,
            file: ctx.docker.file,
            line: lineOfKey(configText, key),
            fix: 'configure a credsStore (pass, secretservice or mirrorauth) and log in again',
          }),
        ),
    ],
  },
  {
    name: 'helpers missing from PATH',
    run: async ({ sys, ctx, configText }) => {
      const helpers = new Map<string, string>();
      if (ctx.docker.credsStore !== null) helpers.set(ctx.docker.credsStore, 'credsStore');
      for (const [k, h] of ctx.docker.credHelpers) if (!helpers.has(h)) helpers.set(h, k);
      const out: Diagnostic[] = [];
      for (const [helper, where] of helpers) {
        if ((await findOnPath(sys, `docker-credential-${helper}`)) !== null) continue;
        out.push(
          diagnostic('CRED_HELPER_MISSING', {
            message: `Docker's config names the helper "${helper}" (${where === 'credsStore' ? 'credsStore' : `credHelpers["${where}"]`}), but docker-credential-${helper} is not on PATH: every lookup through it fails`,
            file: ctx.docker.file,
            line: lineOfKey(configText, where === 'credsStore' ? 'credsStore' : where),
            fix: `install docker-credential-${helper}, or remove it from ${ctx.docker.file}`,
          }),
        );
      }
      return out;
    },
  },
  {
    name: 'nerdctl keys',
    run: ({ ctx, configText }) => {
      const keys = [...ctx.docker.auths.keys()].filter((k) => parseNerdctlKey(k) !== null);
      if (keys.length === 0) return [];
      return [
        diagnostic('CRED_NERDCTL_KEYS', {
          message: `${keys.length} nerdctl namespaced key(s) in Docker's config are read by nothing at pull time: ${keys.join(', ')}`,
          file: ctx.docker.file,
          line: lineOfKey(configText, keys[0] as string),
          fix: 'mirrorauth import nerdctl',
        }),
      ];
    },
  },
  {
    name: 'DOCKER_AUTH_CONFIG',
    run: ({ ctx }) =>
      ctx.authConfigEnv === null
        ? []
        : [
            diagnostic('CRED_DOCKER_AUTH_CONFIG', {
              message: 'DOCKER_AUTH_CONFIG is set: its entries take precedence over config.json and every helper',
              fix: 'unset it to use the stored credentials',
            }),
          ],
  },
  {
    name: 'the OS keychain',
    run: async ({ sys, ctx }) => {
      if (![...ctx.store.entries.values()].some((e) => e.backend === 'keychain')) return [];
      const k = await openKeychain(sys);
      if (k.ok) return [];
      return [
        diagnostic(k.code === 'KEYCHAIN_LOCKED' ? 'CRED_KEYCHAIN_LOCKED' : 'CRED_KEYCHAIN_UNAVAILABLE', {
          message: `stored secrets are in the OS keychain, which ${k.code === 'KEYCHAIN_LOCKED' ? 'is locked' : 'cannot be reached'}: ${k.message}`,
          file: ctx.store.file,
          fix:
            k.code === 'KEYCHAIN_LOCKED'
              ? 'unlock the login keyring (e.g. log in to the desktop session, or gnome-keyring-daemon --unlock)'
              : 'run in a session with a D-Bus session bus and a Secret Service (gnome-keyring)',
        }),
      ];
    },
  },
];

/** doctor: the hosts roots, then every credential check of the table, sorted by file and line. */
export async function doctor(sys: System, ctx: CredentialContext | Error, o: DoctorOptions): Promise<DoctorReport> {
  const { roots, inspections, diagnostics } = await scanRoots(sys, o);
  if (ctx instanceof Error) {
    const file = (ctx as { file?: string }).file ?? null;
    const line = (ctx as { line?: number }).line ?? null;
    diagnostics.push(
      diagnostic('CRED_CONFIG_INVALID', { message: ctx.message, file, line, fix: 'fix the file by hand; nothing can be looked up until it parses' }),
    );
    return { roots, directories: inspections.length, diagnostics };
  }
  const proxies = await serveChecks(sys, ctx, o.roots, diagnostics);
  const input: CheckInput = {
    sys,
    ctx,
    o,
    inspections,
    storeText: ctx.store.exists ? await sys.fs.readText(ctx.store.file).catch(() => null) : null,
    configText: ctx.docker.exists ? await sys.fs.readText(ctx.docker.file).catch(() => null) : null,
    proxies,
    used: usedEndpoints(inspections, proxies),
  };
  for (const check of CHECKS) diagnostics.push(...(await check.run(input)));
  return { roots, directories: inspections.length, diagnostics: sortByPlace(diagnostics) };
}

/** The names of the credential checks, in order (docs and tests list them). */
export const DOCTOR_CHECKS: readonly string[] = CHECKS.map((c) => c.name);

/** sortByPlace orders findings by file and line, so a file's problems read top to bottom. */
function sortByPlace(ds: Diagnostic[]): Diagnostic[] {
  return ds
    .map((d, i) => ({ d, i }))
    .sort((a, b) => (a.d.file ?? '').localeCompare(b.d.file ?? '') || (a.d.line ?? 0) - (b.d.line ?? 0) || a.i - b.i)
    .map((x) => x.d);
}
