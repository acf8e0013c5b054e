/** findOnPath: the first executable file called `name` in PATH's directories, as a shell finds it. */
import { errnoCode } from '../errors.js';
import type { FileStat, System } from './system.js';

export async function findOnPath(sys: System, name: string): Promise<{ path: string; stat: FileStat } | null> {
  for (const dir of (sys.env.PATH ?? '').split(':')) {
    if (dir === '') continue;
    const p = `${dir.replace(/\/+$/, '')}/${name}`;
    try {
      const stat = await sys.fs.stat(p);
      if (stat.isFile && (stat.mode & 0o111) !== 0) return { path: p, stat };
    } catch (e) {
      if (!['ENOENT', 'ENOTDIR', 'EACCES'].includes(errnoCode(e) ?? '')) throw e;
    }
  }
  return null;
}
