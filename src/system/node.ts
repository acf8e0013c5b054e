/**
 * nodeSystem builds the real System. This is the only module that touches
 * process.*, node:fs, node:os and node:child_process (checked by
 * test/architecture.test.ts).
 */
import { MirrorauthError } from '../errors.js';
import type * as ChildProcessModule from 'node:child_process';
import { nodeRequire as lazyRequire } from './node-require.js';
import {
  chmodSync,
  chownSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import type { Stats } from 'node:fs';
import type * as OsModule from 'node:os';
import type * as TtyModule from 'node:tty';
import { nodeHttpRequest, nodeSpeaksTls } from './http-client.js';
import { takeLock, type LockFs } from './lock.js';
import type { ChildHandle, DirEntry, FileStat, FileSystem, OutputStream, SpawnOptions, SpawnResult, System } from './system.js';

function toStat(s: Stats): FileStat {
  return {
    isFile: s.isFile(),
    isDirectory: s.isDirectory(),
    isSymbolicLink: s.isSymbolicLink(),
    size: s.size,
    mode: s.mode,
    mtimeMs: s.mtimeMs,
    uid: s.uid,
    gid: s.gid,
    dev: s.dev,
    ino: s.ino,
    ctimeMs: s.ctimeMs,
  };
}

const nodeFs: FileSystem = {
  // synchronous: the files are small (configs, hosts.toml, PEM), and fs.promises would load its module and
  // start libuv's thread pool (~5 ms) on every start-up path for nothing
  readText: async (p) => readFileSync(p, 'utf8'),
  stat: async (p) => toStat(statSync(p)),
  lstat: async (p) => toStat(lstatSync(p)),
  readdir: async (p) => {
    const entries = readdirSync(p, { withFileTypes: true });
    const out: DirEntry[] = entries.map((e) => ({ name: e.name, isFile: e.isFile(), isDirectory: e.isDirectory() }));
    out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return out;
  },
  // writes are synchronous too, for the same reason: a login writes two small files
  writeFile: async (p, data, options) => writeFileSync(p, data, options),
  mkdir: async (p, options) => {
    mkdirSync(p, options);
  },
  rename: async (a, b) => renameSync(a, b),
  unlink: async (p) => unlinkSync(p),
  chmod: async (p, mode) => chmodSync(p, mode),
  realpath: async (p) => realpathSync(p),
  rm: async (p, options) => rmSync(p, options),
  symlink: async (target, p) => symlinkSync(target, p),
  readlink: async (p) => readlinkSync(p),
  chown: async (p, uid, gid) => chownSync(p, uid, gid),
};

/**
 * isatty without loading node:tty when the answer is plainly no: a pipe, a file or a socket is no terminal,
 * nor (on Linux) is a memory device such as /dev/null (character-device major 1). Only another character
 * device is asked about.
 */
const isatty = (fd: number): boolean => {
  try {
    const st = fstatSync(fd);
    if (!st.isCharacterDevice()) return false;
    if (process.platform === 'linux' && ((st.rdev >> 8) & 0xfff) === 1) return false;
  } catch {
    return false;
  }
  return (lazyRequire('node:tty') as typeof TtyModule).isatty(fd);
};
// node:child_process (with node:net) costs ~5 ms to load; the helpers rarely need it
const nodeSpawn: typeof ChildProcessModule.spawn = ((...args: Parameters<typeof ChildProcessModule.spawn>) =>
  (lazyRequire('node:child_process') as typeof ChildProcessModule).spawn(...args)) as typeof ChildProcessModule.spawn;

/** outputStream: process.stdout/stderr are created only when first written (or asked for the width). */
function outputStream(fd: 1 | 2): OutputStream {
  const stream = () => (fd === 1 ? process.stdout : process.stderr);
  let tty: boolean | undefined;
  let opened = false;
  const isTTY = () => (tty ??= isatty(fd));
  return {
    get isTTY() {
      return isTTY();
    },
    get columns() {
      return isTTY() && stream().columns > 0 ? stream().columns : undefined;
    },
    write: (text) => {
      // straight to the descriptor while nothing else has opened the stream: a helper's one answer needs no
      // stream machinery (~6 ms); a descriptor that would block (EAGAIN) falls back to the stream
      if (!opened) {
        const buf = Buffer.from(text, 'utf8');
        let done = 0;
        try {
          while (done < buf.length) done += writeSync(fd, buf, done);
          return;
        } catch {
          // EAGAIN, EPIPE …: the stream takes over (and reports as it always did) from the first unwritten byte
          opened = true;
          stream().write(buf.subarray(done));
          return;
        }
      }
      stream().write(text);
    },
  };
}

function spawn(command: string, args: readonly string[], options: SpawnOptions = {}): Promise<SpawnResult> {
  return new Promise((resolve) => {
    const child = nodeSpawn(command, args, {
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const finish = (code: number | null, signal: string | null, err?: Error) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      resolve({ code: err ? 127 : code, signal, stdout, stderr: err ? `${stderr}${err.message}` : stderr, timedOut });
    };
    child.on('error', (err) => finish(null, null, err));
    child.on('close', (code, signal) => finish(code, signal));
    child.stdin.on('error', () => {
      /* the child may exit before reading its input */
    });
    child.stdin.end(options.input ?? '');
  });
}

function spawnInherited(command: string, args: readonly string[], options: { env: Record<string, string | undefined> }): ChildHandle {
  const child = nodeSpawn(command, args, { env: options.env, stdio: 'inherit' });
  const done = new Promise<{ code: number | null; signal: string | null; error: string | null }>((resolve) => {
    child.on('error', (err) => resolve({ code: 127, signal: null, error: err.message }));
    child.on('exit', (code, signal) => resolve({ code, signal, error: null }));
  });
  return {
    wait: () => done,
    kill: (signal) => {
      child.kill(signal as NodeJS.Signals);
    },
  };
}

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/**
 * Every signal whose default action ends a process and that a Node process can
 * catch. SIGKILL and SIGSTOP cannot be caught by anyone; SIGBUS, SIGFPE, SIGSEGV
 * and SIGILL are Node's own (a fault in mirrorauth itself); SIGPIPE is ignored by Node.
 */
const TERMINATING_SIGNALS: NodeJS.Signals[] = [
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGTERM',
  'SIGALRM',
  'SIGUSR1',
  'SIGUSR2',
  'SIGTRAP',
  'SIGABRT',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGVTALRM',
  'SIGPROF',
  'SIGSYS',
  'SIGIO',
  ...(process.platform === 'linux' ? (['SIGPWR', 'SIGSTKFLT'] as NodeJS.Signals[]) : []),
];

function onSignals(handler: (signal: string) => void, which: 'shutdown' | 'all' = 'shutdown'): () => void {
  const listeners = (which === 'all' ? TERMINATING_SIGNALS : FORWARDED_SIGNALS).map((sig) => {
    const l = () => handler(sig);
    process.on(sig, l);
    return [sig, l] as const;
  });
  return () => {
    for (const [sig, l] of listeners) process.off(sig, l);
  };
}

/** promptTty reads one line from the terminal, without echo when hidden. */
function promptTty(question: string, hidden: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const input = process.stdin;
    process.stderr.write(question);
    if (!hidden || !input.isTTY) {
      let line = '';
      const onData = (d: Buffer) => {
        line += d.toString('utf8');
        const nl = line.indexOf('\n');
        if (nl >= 0) {
          input.off('data', onData);
          input.pause();
          resolve(line.slice(0, nl).replace(/\r$/, ''));
        }
      };
      input.on('data', onData).resume();
      return;
    }
    input.setRawMode(true);
    let answer = '';
    const onData = (d: Buffer) => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          input.setRawMode(false);
          input.off('data', onData);
          input.pause();
          process.stderr.write('\n');
          resolve(answer);
          return;
        }
        if (ch === '\u0003') {
          input.setRawMode(false);
          input.off('data', onData);
          input.pause();
          process.stderr.write('\n');
          reject(new MirrorauthError('INTERRUPTED', 'interrupted'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else answer += ch;
      }
    };
    input.on('data', onData).resume();
  });
}

/**
 * The launchers (dist/bin/*) move NODE_EXTRA_CA_CERTS aside so Node does not
 * parse the file before a helper that makes no TLS connection answers. Put it
 * back at once: children and `sys.env` see the user's environment unchanged,
 * and the TLS code adds the file's CAs itself (System.unloadedExtraCa).
 */
const movedExtraCa = process.env.MIRRORAUTH_NODE_EXTRA_CA_CERTS;
if (movedExtraCa !== undefined) {
  delete process.env.MIRRORAUTH_NODE_EXTRA_CA_CERTS;
  if (process.env.NODE_EXTRA_CA_CERTS === undefined && movedExtraCa !== '') process.env.NODE_EXTRA_CA_CERTS = movedExtraCa;
}

const lockFs: LockFs = {
  mkdir: (p) => mkdirSync(p),
  stat: (p) => statSync(p),
  rename: (a, b) => renameSync(a, b),
  rmdir: (p) => rmdirSync(p),
  touch: (p) => {
    const now = new Date();
    utimesSync(p, now, now);
  },
};

// node:os costs ~0.3 ms to load; a helper start-up needs only the home directory, which is $HOME when set
const os = () => lazyRequire('node:os') as typeof OsModule;
/** homedir answers what os.homedir() answers (libuv returns $HOME whenever it is set, even empty) without loading node:os. */
export function homedirOf(env: NodeJS.ProcessEnv, fromOs: () => string): string {
  return env.HOME !== undefined ? env.HOME : fromOs();
}

/** nodeSystem returns the System backed by the running Node process. */
export function nodeSystem(): System {
  return {
    env: process.env,
    unloadedExtraCa: movedExtraCa !== undefined && movedExtraCa !== '' ? movedExtraCa : null,
    platform: process.platform,
    uid: typeof process.getuid === 'function' ? process.getuid() : undefined,
    homedir: () => homedirOf(process.env, () => os().homedir()),
    now: () => Date.now(),
    // process.hrtime, not performance.now(): node:perf_hooks costs ~3 ms to load
    monotonic: () => Number(process.hrtime.bigint()) / 1e6,
    fs: nodeFs,
    httpRequest: nodeHttpRequest,
    speaksTls: nodeSpeaksTls,
    spawn,
    spawnInherited,
    onSignals,
    // loaded only when a token realm is checked: the credential helpers start without it
    lookup: async (host) => (await (await import('node:dns/promises')).lookup(host, { all: true })).map((a) => a.address),
    signalNumber: (name) => (os().constants.signals as Record<string, number | undefined>)[name],
    tmpdir: () => os().tmpdir(),
    lock: (path) =>
      takeLock(lockFs, path, {
        staleMs: 10_000,
        retries: 200,
        minWaitMs: 10,
        maxWaitMs: 100,
        now: () => Date.now(),
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        random: () => Math.random(),
        every: (ms, fn) => {
          const t = setInterval(fn, ms);
          t.unref();
          return () => clearInterval(t);
        },
      }),
    stdin: {
      get isTTY() {
        return isatty(0);
      },
      readAll: async () => {
        // synchronous (the helpers' one small request), else a stream when the descriptor is non-blocking
        try {
          return readFileSync(0, 'utf8');
        } catch (e) {
          if ((e as { code?: string }).code !== 'EAGAIN') throw e;
        }
        const chunks: Buffer[] = [];
        for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks).toString('utf8');
      },
      prompt: (question, options = {}) => promptTty(question, options.hidden === true),
    },
    stdout: outputStream(1),
    stderr: outputStream(2),
  };
}
