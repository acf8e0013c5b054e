/** The file lock (src/system/lock.ts): exclusion, waiting, giving up, stale take-over, and the take-over race. */
import { mkdtempSync, readdirSync, statSync, utimesSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { takeLock, type LockFs, type LockOptions } from '../../src/system/lock.js';
import { nodeSystem } from '../../src/system/node.js';

/** An in-memory file system of directories with inode numbers and mtimes, and a clock. */
function fakeWorld() {
  let clock = 1_000_000;
  let nextIno = 1;
  const dirs = new Map<string, { ino: number; mtimeMs: number }>();
  const err = (c: string) => Object.assign(new Error(c), { code: c });
  const hooks: { beforeRename?: (() => void) | undefined } = {};
  const fs: LockFs = {
    mkdir: (p) => {
      if (dirs.has(p)) throw err('EEXIST');
      dirs.set(p, { ino: nextIno++, mtimeMs: clock });
    },
    stat: (p) => {
      const d = dirs.get(p);
      if (!d) throw err('ENOENT');
      return { ...d };
    },
    rename: (a, b) => {
      const h = hooks.beforeRename;
      hooks.beforeRename = undefined;
      h?.();
      const d = dirs.get(a);
      if (!d) throw err('ENOENT');
      dirs.delete(a);
      dirs.set(b, d);
    },
    rmdir: (p) => {
      if (!dirs.delete(p)) throw err('ENOENT');
    },
    touch: (p) => {
      const d = dirs.get(p);
      if (!d) throw err('ENOENT');
      d.mtimeMs = clock;
    },
  };
  const timers: Array<() => void> = [];
  const options: LockOptions = {
    staleMs: 10_000,
    retries: 5,
    minWaitMs: 10,
    maxWaitMs: 100,
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
      await Promise.resolve();
    },
    random: () => 0.5,
    every: (_ms, fn) => {
      timers.push(fn);
      return () => timers.splice(timers.indexOf(fn), 1);
    },
  };
  return { fs, dirs, options, hooks, timers, advance: (ms: number) => (clock += ms) };
}

describe('takeLock', () => {
  it('takes <file>.lock, refreshes it while held, and removes it on release (twice is harmless)', async () => {
    const w = fakeWorld();
    const release = await takeLock(w.fs, '/c/config.json', w.options);
    expect([...w.dirs.keys()]).toEqual(['/c/config.json.lock']);
    w.advance(6000);
    w.timers.forEach((t) => t());
    expect(w.dirs.get('/c/config.json.lock')?.mtimeMs).toBe(w.options.now());
    await release();
    await release();
    expect(w.dirs.size).toBe(0);
    expect(w.timers).toHaveLength(0);
  });

  it('waits for a live holder and gives up with ELOCKED after its retries', async () => {
    const w = fakeWorld();
    const first = await takeLock(w.fs, '/c/f', w.options);
    const waiting = takeLock(w.fs, '/c/f', { ...w.options, retries: 1000 });
    await Promise.resolve();
    await first();
    const second = await waiting;
    expect(w.dirs.has('/c/f.lock')).toBe(true);
    // a holder that keeps refreshing is never taken over
    const refresh = () => w.timers.forEach((t) => t());
    const gaveUp = takeLock(w.fs, '/c/f', { ...w.options, sleep: async (ms) => (w.advance(ms), refresh()) }).catch((e: { code?: string }) => e.code);
    expect(await gaveUp).toBe('ELOCKED');
    await second();
  });

  it('takes over a lock whose holder stopped refreshing it (older than staleMs)', async () => {
    const w = fakeWorld();
    w.fs.mkdir('/c/f.lock');
    w.advance(10_001);
    const release = await takeLock(w.fs, '/c/f', w.options);
    expect([...w.dirs.keys()]).toEqual(['/c/f.lock']);
    await release();
  });

  it('does not take a fresh lock another process created between its stat and its rename', async () => {
    const w = fakeWorld();
    w.fs.mkdir('/c/f.lock');
    w.advance(10_001);
    // process B breaks the stale lock and takes its own just before our rename
    w.hooks.beforeRename = () => {
      w.dirs.delete('/c/f.lock');
      w.fs.mkdir('/c/f.lock');
    };
    const bIno = () => w.dirs.get('/c/f.lock')?.ino;
    const ours = takeLock(w.fs, '/c/f', { ...w.options, retries: 2 }).then(
      () => 'taken',
      (e: { code?: string }) => e.code,
    );
    expect(await ours).toBe('ELOCKED');
    // B's lock is where it was, with its own inode, and no stale copy is left around
    expect(bIno()).toBeDefined();
    expect([...w.dirs.keys()]).toEqual(['/c/f.lock']);
  });

  it('on the real file system: 30 concurrent holders never overlap and leave nothing behind', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mirrorauth-lock-'));
    const sys = nodeSystem();
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 30 }, async () => {
        const release = await sys.lock(`${dir}/store.json`);
        inside += 1;
        most = Math.max(most, inside);
        await new Promise((r) => setTimeout(r, 2));
        inside -= 1;
        await release();
      }),
    );
    expect(most).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('on the real file system: a lock left by a dead process 11 s ago is taken over', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mirrorauth-lock-'));
    mkdirSync(`${dir}/store.json.lock`);
    const old = new Date(Date.now() - 11_000);
    utimesSync(`${dir}/store.json.lock`, old, old);
    const release = await nodeSystem().lock(`${dir}/store.json`);
    expect(statSync(`${dir}/store.json.lock`).mtimeMs).toBeGreaterThan(old.getTime() + 5000);
    await release();
    expect(readdirSync(dir)).toEqual([]);
  });
});
