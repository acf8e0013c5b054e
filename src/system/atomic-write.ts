/**
 * writeFileAtomic replaces a file without ever leaving it half written: a
 * temporary file in the same directory, then rename. As docker does, a
 * symlinked target is resolved and its real file replaced, and a dangling
 * link gets its target created. The directory is created 0700; the file ends
 * 0600 unless the existing file had another mode. Run as root on another
 * user's files (sudo with their DOCKER_CONFIG), new files and directories get
 * the owner of what they replace or sit in, so the owner is never locked out.
 */
import { errnoCode } from '../errors.js';
import type { System } from './system.js';

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? (i === 0 ? '/' : '.') : p.slice(0, i);
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

async function ownerOf(sys: System, path: string): Promise<{ uid: number; gid: number } | null> {
  try {
    const st = await sys.fs.stat(path);
    return { uid: st.uid, gid: st.gid };
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return null;
    throw e;
  }
}

/** keepOwner gives `path` the owner of `like` when root writes into another user's directory. */
async function keepOwner(sys: System, path: string, like: string): Promise<void> {
  if (sys.uid !== 0) return;
  const owner = await ownerOf(sys, like);
  if (owner !== null && owner.uid !== 0) await sys.fs.chown(path, owner.uid, owner.gid);
}

/** ensureDir creates a directory (0700) and any missing parents, owned like the directory it is created in. */
export async function ensureDir(sys: System, dir: string): Promise<void> {
  const missing: string[] = [];
  let d = dir;
  while (d !== '/' && d !== '.' && (await ownerOf(sys, d)) === null) {
    missing.unshift(d);
    d = dirname(d);
  }
  await sys.fs.mkdir(dir, { recursive: true, mode: 0o700 });
  for (const m of missing) await keepOwner(sys, m, dirname(m));
}

/** realTarget follows links to the file that is really written, dangling ones included. */
async function realTarget(sys: System, target: string): Promise<string> {
  try {
    return await sys.fs.realpath(target);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
  let p = target;
  for (let hops = 0; hops < 40; hops++) {
    let st;
    try {
      st = await sys.fs.lstat(p);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return p;
      throw e;
    }
    if (!st.isSymbolicLink) return p;
    const link = await sys.fs.readlink(p);
    p = link.startsWith('/') ? link : `${dirname(p)}/${link}`;
  }
  return p;
}

let tmpCounter = 0;
/**
 * tmpSuffix: a temporary name part no other writer picks at the same moment (time, a per-process counter,
 * randomness), without loading node:crypto. For names in the writer's own directories, where an existing name
 * is refused ('wx') or replaced atomically; not for names that must be unguessable.
 */
export function tmpSuffix(): string {
  tmpCounter += 1;
  return `${Date.now().toString(36)}${tmpCounter.toString(36)}${Math.random().toString(36).slice(2, 12)}`;
}

export async function writeFileAtomic(sys: System, target: string, data: string, options: { mode?: number; keepMode?: boolean } = {}): Promise<void> {
  const real = await realTarget(sys, target);
  const dir = dirname(real);
  await ensureDir(sys, dir);
  let mode = options.mode ?? 0o600;
  if (options.keepMode) {
    try {
      mode = (await sys.fs.stat(real)).mode & 0o777;
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
    }
  }
  // unique enough without node:crypto (4–7 ms to load): 'wx' refuses a name that exists, and a failed write leaves nothing
  const tmp = `${dir}/.${basename(real)}.${tmpSuffix()}.tmp`;
  try {
    await sys.fs.writeFile(tmp, data, { mode: 0o600, flag: 'wx' });
    await sys.fs.chmod(tmp, mode);
    await keepOwner(sys, tmp, (await ownerOf(sys, real)) !== null ? real : dir);
    await sys.fs.rename(tmp, real);
  } catch (e) {
    await sys.fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}
