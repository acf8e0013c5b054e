/**
 * writeFileAtomic replaces a file without ever leaving it half written: a
 * temporary file in the same directory, then rename. A symlinked target is
 * resolved and its real file replaced (as docker does), the directory is
 * created 0700, the file ends 0600 unless the existing file had another mode.
 */
import { randomUUID } from 'node:crypto';
import { errnoCode } from '../errors.js';
import type { System } from './system.js';

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? (i === 0 ? '/' : '.') : p.slice(0, i);
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

export async function writeFileAtomic(sys: System, target: string, data: string, options: { mode?: number; keepMode?: boolean } = {}): Promise<void> {
  let real = target;
  try {
    real = await sys.fs.realpath(target);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
  const dir = dirname(real);
  await sys.fs.mkdir(dir, { recursive: true, mode: 0o700 });
  let mode = options.mode ?? 0o600;
  if (options.keepMode) {
    try {
      mode = (await sys.fs.stat(real)).mode & 0o777;
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
    }
  }
  const tmp = `${dir}/.${basename(real)}.${randomUUID()}.tmp`;
  try {
    await sys.fs.writeFile(tmp, data, { mode: 0o600, flag: 'wx' });
    await sys.fs.chmod(tmp, mode);
    await sys.fs.rename(tmp, real);
  } catch (e) {
    await sys.fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}
