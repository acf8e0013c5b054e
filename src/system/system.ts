/**
 * System is the world as mirrorauth sees it: environment, files, clock, network,
 * child processes and standard streams. Every edge function receives it as a
 * parameter; only system/node.ts builds the real one, and tests build fakes.
 */
export interface FileStat {
  isFile: boolean;
  isDirectory: boolean;
  isSymbolicLink: boolean;
  size: number;
  mode: number;
  mtimeMs: number;
  uid: number;
  gid: number;
  /** Identity and change time, for telling whether a file changed since it was read (protocols/bazel-memo.ts). */
  dev?: number;
  ino?: number;
  ctimeMs?: number;
}

export interface DirEntry {
  name: string;
  isFile: boolean;
  isDirectory: boolean;
}

/**
 * FileSystem is the subset of node:fs/promises mirrorauth uses. Failures are
 * Node system errors (with `code` such as ENOENT), so callers can branch on
 * them with errnoCode().
 */
export interface FileSystem {
  readText(path: string): Promise<string>;
  stat(path: string): Promise<FileStat>;
  lstat(path: string): Promise<FileStat>;
  /** Entries sorted by name, as Go's os.ReadDir returns them. */
  readdir(path: string): Promise<DirEntry[]>;
  writeFile(path: string, data: string | Uint8Array, options?: { mode?: number; flag?: string }): Promise<void>;
  mkdir(path: string, options?: { recursive?: boolean; mode?: number }): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  realpath(path: string): Promise<string>;
  rm(path: string, options?: { recursive?: boolean; force?: boolean }): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  readlink(path: string): Promise<string>;
  chown(path: string, uid: number, gid: number): Promise<void>;
}

export interface SpawnOptions {
  input?: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

export interface SpawnResult {
  /** Exit code, or null when the process was killed by a signal. */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** A child process sharing the terminal (stdin, stdout, stderr inherited). */
export interface ChildHandle {
  /** Resolves when the child exits: its code, or the signal that ended it. */
  wait(): Promise<{ code: number | null; signal: string | null; error: string | null }>;
  kill(signal: string): void;
}

export interface OutputStream {
  isTTY: boolean;
  /** The terminal's width in columns, when the stream is a terminal. */
  columns?: number | undefined;
  write(text: string): void;
}

export interface InputStream {
  isTTY: boolean;
  /** Reads standard input to its end. */
  readAll(): Promise<string>;
  /** Asks a question on the terminal; `hidden` does not echo the answer (passwords). */
  prompt(question: string, options?: { hidden?: boolean }): Promise<string>;
}

export interface HttpExchange {
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** The whole exchange, answer included, must finish within this; else an ETIMEDOUT error. */
  timeoutMs: number;
  /** Bytes of the body kept; the rest is dropped unread. */
  maxBodyBytes: number;
  /** For https: a secure context and whether to verify; connections are pooled per `key`. Absent: Node's defaults. */
  tls?: { key: object; secureContext: import('node:tls').SecureContext; rejectUnauthorized: boolean };
}

export interface HttpExchangeResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface System {
  env: Readonly<Record<string, string | undefined>>;
  /**
   * A NODE_EXTRA_CA_CERTS file this process did not load at start-up, because
   * the launcher moved the variable aside to spare Node parsing it (bin/*.sh);
   * every TLS connection adds its certificates, so behaviour is unchanged.
   */
  unloadedExtraCa?: string | null;
  platform: NodeJS.Platform;
  /** Effective uid, or undefined where the platform has none. */
  uid: number | undefined;
  homedir(): string;
  /** Milliseconds since the epoch. */
  now(): number;
  /** Monotonic milliseconds, for measuring durations. */
  monotonic(): number;
  fs: FileSystem;
  /** One HTTP exchange; redirects are never followed (registry/http.ts adds the policy). */
  httpRequest(url: string, exchange: HttpExchange): Promise<HttpExchangeResult>;
  /**
   * Whether a port talks TLS, asked with a ClientHello and no TLS context: true (a TLS record came back),
   * false (an HTTP answer), null (anything else). Lets an https-then-http fallback skip a doomed TLS attempt.
   */
  speaksTls(host: string, port: number, timeoutMs: number): Promise<boolean | null>;
  spawn(command: string, args: readonly string[], options?: SpawnOptions): Promise<SpawnResult>;
  /** Starts a child with the terminal inherited (for `mirrorauth exec`). */
  spawnInherited(command: string, args: readonly string[], options: { env: Record<string, string | undefined> }): ChildHandle;
  /**
   * Calls `handler` on SIGINT, SIGTERM and SIGHUP (or, with `all`, on every
   * terminating signal a process can catch) instead of dying; returns the
   * unsubscribe function.
   */
  onSignals(handler: (signal: string) => void, which?: 'shutdown' | 'all'): () => void;
  /** The addresses a host name resolves to (A and AAAA). */
  lookup(host: string): Promise<string[]>;
  /** The number of a signal (SIGTERM -> 15), for 128+N exit codes. */
  signalNumber(name: string): number | undefined;
  /** The system's temporary directory. */
  tmpdir(): string;
  /**
   * lock takes an exclusive, cross-process lock named after `path` (the file
   * itself need not exist) and resolves to its release function.
   */
  lock(path: string): Promise<() => Promise<void>>;
  stdin: InputStream;
  stdout: OutputStream;
  stderr: OutputStream;
}
