/**
 * A cross-process lock named after a file: the directory `<file>.lock`,
 * created with mkdir (atomic on every local file system and on NFS), its
 * mtime refreshed while held, and taken over when older than `staleMs` (its
 * holder died). The same protocol and path as proper-lockfile, which
 * mirrorauth used before: an older mirrorauth and this one exclude each other.
 *
 * Why not the library: proper-lockfile loads graceful-fs, retry and
 * signal-exit (15–18 ms, a third of a login) for what is a dozen system calls.
 *
 * Taking over a stale lock: the stale directory is renamed to a unique name
 * first, so of two processes that judged it stale only one moves it; a
 * process that finds it moved a *fresh* lock (another process took over
 * between its stat and its rename: the inode differs) puts it back.
 */

export interface LockFs {
  /** mkdir without recursion; throws EEXIST when the lock is held. */
  mkdir(path: string): void;
  stat(path: string): { mtimeMs: number; ino: number };
  rename(from: string, to: string): void;
  rmdir(path: string): void;
  /** Sets the mtime to now. */
  touch(path: string): void;
}

export interface LockOptions {
  staleMs: number;
  retries: number;
  minWaitMs: number;
  maxWaitMs: number;
  now(): number;
  sleep(ms: number): Promise<void>;
  random(): number;
  /** Calls `fn` every `ms` until the returned function is called (unref'd: it never keeps the process alive). */
  every(ms: number, fn: () => void): () => void;
}

const code = (e: unknown) => (e as { code?: string }).code;

function lockedError(path: string): Error {
  return Object.assign(new Error(`${path} is locked by another process`), { code: 'ELOCKED', file: path });
}

/** takeLock waits for `<file>.lock` and resolves to its release function. */
export async function takeLock(fs: LockFs, file: string, o: LockOptions): Promise<() => Promise<void>> {
  const lock = `${file}.lock`;
  for (let attempt = 0; ; attempt++) {
    try {
      fs.mkdir(lock);
      break;
    } catch (e) {
      if (code(e) !== 'EEXIST') throw e;
    }
    if (breakIfStale(fs, lock, o)) continue;
    if (attempt >= o.retries) throw lockedError(file);
    const wait = Math.min(o.maxWaitMs, o.minWaitMs * 2 ** Math.min(attempt, 10));
    await o.sleep(wait * (0.5 + o.random() / 2));
  }
  let held = true;
  const stop = o.every(Math.max(1, Math.floor(o.staleMs / 2)), () => {
    try {
      fs.touch(lock);
    } catch {
      // removed under us (a takeover after a very long pause); release then finds nothing to remove
    }
  });
  return async () => {
    if (!held) return;
    held = false;
    stop();
    try {
      fs.rmdir(lock);
    } catch (e) {
      if (code(e) !== 'ENOENT') throw e;
    }
  };
}

/** breakIfStale removes a lock whose holder stopped refreshing it; true when the caller should try again at once. */
function breakIfStale(fs: LockFs, lock: string, o: LockOptions): boolean {
  let seen: { mtimeMs: number; ino: number };
  try {
    seen = fs.stat(lock);
  } catch (e) {
    if (code(e) === 'ENOENT') return true; // released meanwhile
    throw e;
  }
  if (o.now() - seen.mtimeMs <= o.staleMs) return false;
  const tomb = `${lock}.stale-${o.now().toString(36)}-${Math.floor(o.random() * 2 ** 32).toString(36)}`;
  try {
    fs.rename(lock, tomb);
  } catch (e) {
    if (code(e) === 'ENOENT') return true; // another process broke it first
    throw e;
  }
  let moved: { ino: number } | null = null;
  try {
    moved = fs.stat(tomb);
  } catch {
    moved = null;
  }
  if (moved !== null && moved.ino !== seen.ino) {
    // a fresh lock another process took between our stat and rename: give it back, unless the path is taken
    // again (rename would replace that empty directory). Reaching this needs a dead holder and three
    // processes within microseconds of each other.
    let free = false;
    try {
      fs.stat(lock);
    } catch (e) {
      free = code(e) === 'ENOENT';
    }
    if (free) {
      try {
        fs.rename(tomb, lock);
        return false;
      } catch {
        // fall through: remove it, as proper-lockfile would have
      }
    }
  }
  try {
    fs.rmdir(tomb);
  } catch {
    // left for a human; harmless
  }
  return true;
}
