/**
 * `mirrorauth exec [--registry R]… -- COMMAND [ARGS…]`: run COMMAND with a
 * private, freshly rendered registry config in a 0700 directory on a
 * memory-backed file system (else the temp dir, with a warning), pointed to
 * by DOCKER_CONFIG, REGISTRY_AUTH_FILE and HELM_REGISTRY_CONFIG. The directory
 * is removed when COMMAND exits, also on signals and errors; COMMAND's exit
 * code passes through (128+N when a signal ended it) and signals are forwarded.
 */
import { nodeCrypto } from '../../system/lazy-crypto.js';
import { openCredentials } from '../../credentials/resolve.js';
import { EXIT, MirrorauthError } from '../../errors.js';
import { writeFileAtomic } from '../../system/atomic-write.js';
import type { ChildHandle, System } from '../../system/system.js';
import { styleFor } from '../style.js';
import { collectFor, renderSets, type RenderOptions } from './render.js';

/** The Docker config fields that hold credentials; every other field is the user's and is carried over. */
const CREDENTIAL_FIELDS = ['auths', 'credsStore', 'credHelpers'];

/**
 * privateDockerConfig is the user's config.json without its credentials, plus
 * the rendered ones: contexts, proxies, plugins and every other setting keep
 * working inside the command. The user's plugin directory is added by reference.
 */
export function privateDockerConfig(userRaw: Record<string, unknown>, rendered: string, userDir: string): string {
  const mine = JSON.parse(rendered) as Record<string, unknown>;
  const kept = Object.fromEntries(Object.entries(userRaw).filter(([k]) => !CREDENTIAL_FIELDS.includes(k)));
  const extra = Array.isArray(kept.cliPluginsExtraDirs) ? (kept.cliPluginsExtraDirs as unknown[]).filter((x): x is string => typeof x === 'string') : [];
  const plugins = `${userDir}/cli-plugins`;
  return `${JSON.stringify({ ...kept, ...mine, cliPluginsExtraDirs: extra.includes(plugins) ? extra : [...extra, plugins] }, null, '\t')}\n`;
}

/** memoryBackedDir picks a tmpfs directory for secrets: $XDG_RUNTIME_DIR or /dev/shm, when they are tmpfs. */
export async function memoryBackedDir(sys: System): Promise<string | null> {
  let mounts = '';
  try {
    mounts = await sys.fs.readText('/proc/self/mounts');
  } catch {
    return null;
  }
  const tmpfs = mounts
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[2] === 'tmpfs' || f[2] === 'ramfs')
    .map((f) => (f[1] ?? '').replace(/\\040/g, ' '));
  const mountOf = (p: string) => tmpfs.filter((m) => p === m || p.startsWith(`${m}/`)).sort((a, b) => b.length - a.length)[0];
  for (const candidate of [sys.env.XDG_RUNTIME_DIR, '/dev/shm']) {
    if (!candidate || !mountOf(candidate)) continue;
    try {
      const st = await sys.fs.stat(candidate);
      if (st.isDirectory) return candidate;
    } catch {
      /* next */
    }
  }
  return null;
}

export async function execCommand(sys: System, command: string[], o: RenderOptions): Promise<number> {
  const err = styleFor(sys, sys.stderr);
  const warn = (s: string) => sys.stderr.write(`${err.c.yellow(`mirrorauth exec: warning: ${s}`)}\n`);
  if (command.length === 0)
    throw new MirrorauthError('USAGE', 'no command to run', { hint: 'mirrorauth exec --registry ghcr.io -- helm push chart.tgz oci://ghcr.io/org' });
  const sets = await collectFor(sys, o, warn);
  const user = await openCredentials(sys, o.config);
  const docker = privateDockerConfig(user.docker.raw, renderSets('docker', sets, o.helper === true, warn), user.dockerDir);
  const containers = renderSets('containers', sets, o.helper === true, () => undefined);

  const base =
    (await memoryBackedDir(sys)) ??
    (warn(`no memory-backed file system found; the private config goes to ${sys.tmpdir()} (it is removed when the command exits)`), sys.tmpdir());
  const dir = `${base.replace(/\/+$/, '')}/mirrorauth-exec-${nodeCrypto().randomBytes(8).toString('hex')}`;
  await sys.fs.mkdir(dir, { mode: 0o700 });
  let removed = false;
  const cleanup = async () => {
    if (removed) return;
    removed = true;
    await sys.fs.rm(dir, { recursive: true, force: true });
  };
  let unsubscribe: () => void = () => undefined;
  try {
    await sys.fs.chmod(dir, 0o700);
    await writeFileAtomic(sys, `${dir}/config.json`, docker, { mode: 0o600 });
    await writeFileAtomic(sys, `${dir}/auth.json`, containers, { mode: 0o600 });
    await writeFileAtomic(sys, `${dir}/helm-registry.json`, docker, { mode: 0o600 });
    // the rest of the user's Docker directory (contexts, buildx state, plugins, tls …) by reference
    for (const e of await sys.fs.readdir(user.dockerDir).catch(() => [])) {
      if (e.name === 'config.json' || e.name === 'mirrorauth' || e.name.startsWith('.')) continue;
      await sys.fs.symlink(`${user.dockerDir}/${e.name}`, `${dir}/${e.name}`).catch(() => undefined);
    }
    const env = {
      ...sys.env,
      DOCKER_CONFIG: dir,
      REGISTRY_AUTH_FILE: `${dir}/auth.json`,
      HELM_REGISTRY_CONFIG: `${dir}/helm-registry.json`,
      // with --helper the command's docker-credential-mirrorauth must read the user's store, not this copy
      MIRRORAUTH_DOCKER_CONFIG: user.dockerDir,
    };
    // every catchable terminating signal is passed on, and the directory removed after the command ends. The
    // handlers go in before the command starts: a signal sent once the command is visibly running (it may run
    // before spawn returns) would otherwise end mirrorauth by its default action and leave the directory.
    let child: ChildHandle | null = null;
    let early: string | null = null;
    unsubscribe = sys.onSignals((signal) => (child !== null ? child.kill(signal) : (early ??= signal)), 'all');
    child = sys.spawnInherited(command[0] as string, command.slice(1), { env });
    if (early !== null) child.kill(early);
    const r = await child.wait();
    if (r.error !== null) throw new MirrorauthError('USAGE', `cannot run ${command[0]}: ${r.error}`, { hint: 'check the command name and PATH' });
    if (r.signal !== null) return 128 + (sys.signalNumber(r.signal) ?? 1);
    return r.code ?? EXIT.FAILURE;
  } finally {
    unsubscribe();
    await cleanup();
  }
}
