/**
 * `mirrorauth exec [--registry R]… -- COMMAND [ARGS…]`: run COMMAND with a
 * private, freshly rendered registry config in a 0700 directory on a
 * memory-backed file system (else the temp dir, with a warning), pointed to
 * by DOCKER_CONFIG, REGISTRY_AUTH_FILE and HELM_REGISTRY_CONFIG. The directory
 * is removed when COMMAND exits, also on signals and errors; COMMAND's exit
 * code passes through (128+N when a signal ended it) and signals are forwarded.
 */
import { randomBytes } from 'node:crypto';
import { EXIT, MirrorauthError } from '../../errors.js';
import { writeFileAtomic } from '../../system/atomic-write.js';
import type { System } from '../../system/system.js';
import { styleFor } from '../style.js';
import { collectFor, renderSets, type RenderOptions } from './render.js';

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

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
  if (command.length === 0) throw new MirrorauthError('USAGE', 'no command to run', { hint: 'mirrorauth exec --registry ghcr.io -- helm push chart.tgz oci://ghcr.io/org' });
  const sets = await collectFor(sys, o, warn);
  const docker = renderSets('docker', sets, o.helper === true, warn);
  const containers = renderSets('containers', sets, o.helper === true, () => undefined);

  const base = (await memoryBackedDir(sys)) ?? (warn(`no memory-backed file system found; the private config goes to ${sys.tmpdir()} (it is removed when the command exits)`), sys.tmpdir());
  const dir = `${base.replace(/\/+$/, '')}/mirrorauth-exec-${randomBytes(8).toString('hex')}`;
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
    const env = {
      ...sys.env,
      DOCKER_CONFIG: dir,
      REGISTRY_AUTH_FILE: `${dir}/auth.json`,
      HELM_REGISTRY_CONFIG: `${dir}/helm-registry.json`,
    };
    const child = sys.spawnInherited(command[0] as string, command.slice(1), { env });
    unsubscribe = sys.onSignals((signal) => child.kill(signal));
    const r = await child.wait();
    if (r.error !== null) throw new MirrorauthError('USAGE', `cannot run ${command[0]}: ${r.error}`, { hint: 'check the command name and PATH' });
    if (r.signal !== null) return 128 + (SIGNAL_NUMBERS[r.signal] ?? 1);
    return r.code ?? EXIT.FAILURE;
  } finally {
    unsubscribe();
    await cleanup();
  }
}
