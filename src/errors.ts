/**
 * The one error type of mirrorauth. Every failure that a user can act on is a
 * MirrorauthError with a stable code; `exitCodeFor` is the only place that turns
 * a code into a process exit code (see docs/architecture.md, "Exit codes").
 */
export type ErrorCode =
  /** Bad command-line usage: unknown flag, missing argument, conflicting options. */
  | 'USAGE'
  /** The image reference cannot be parsed. */
  | 'INVALID_REFERENCE'
  /** `--containerd VERSION` is not a version. */
  | 'INVALID_VERSION'
  /** A configuration file (containerd config.toml, config.json, store) is malformed. */
  | 'CONFIG_INVALID'
  /** A file could not be read or written for a reason other than bad content. */
  | 'IO'
  /** Resolution finished but containerd would fail (an `error` diagnostic). */
  | 'RESOLUTION_FAILED'
  /** The registry refused the credentials (wrong user or password). */
  | 'AUTH_FAILED'
  /** The registry or its token server could not be reached or answered unexpectedly. */
  | 'REGISTRY_ERROR'
  /** The registry's TLS certificate is signed by a CA nobody here trusts. */
  | 'TLS_UNTRUSTED'
  /** A token realm failed the safety checks (other origin, downgrade, private address). */
  | 'REALM_REJECTED'
  /** A docker-credential helper failed for a reason other than "not found". */
  | 'HELPER_FAILED'
  /** The OS keychain cannot be reached (no D-Bus, no Secret Service). */
  | 'KEYCHAIN_UNAVAILABLE'
  /** The OS keychain is locked. */
  | 'KEYCHAIN_LOCKED'
  /** Nothing stored under the given address. */
  | 'NOT_FOUND'
  /** The user interrupted a prompt (Ctrl-C): exit 130 like a shell, nothing printed. */
  | 'INTERRUPTED'
  /** A bug: an invariant of mirrorauth itself was broken. */
  | 'INTERNAL';

/** Exit codes, documented in docs/architecture.md and README.md. */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  CONFIG: 3,
  INTERNAL: 70,
  INTERRUPTED: 130,
} as const;

export interface ErrorDetails {
  /** What the user can do about it; printed after the message. */
  hint?: string;
  /** The file the problem is in, when there is one. */
  file?: string;
  /** 1-based line in `file`, when known. */
  line?: number;
  cause?: unknown;
}

/** MirrorauthError carries a stable code plus optional file/line/hint. */
export class MirrorauthError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly file: string | undefined;
  readonly line: number | undefined;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'MirrorauthError';
    this.code = code;
    this.hint = details.hint;
    this.file = details.file;
    this.line = details.line;
  }
}

/** isMirrorauthError narrows unknown values thrown across module boundaries. */
export function isMirrorauthError(e: unknown): e is MirrorauthError {
  return e instanceof MirrorauthError;
}

/** exitCodeFor maps an error code to the documented process exit code. */
export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'USAGE':
    case 'INVALID_REFERENCE':
    case 'INVALID_VERSION':
      return EXIT.USAGE;
    case 'CONFIG_INVALID':
    case 'IO':
      return EXIT.CONFIG;
    case 'RESOLUTION_FAILED':
    case 'AUTH_FAILED':
    case 'REGISTRY_ERROR':
    case 'TLS_UNTRUSTED':
    case 'REALM_REJECTED':
    case 'HELPER_FAILED':
    case 'KEYCHAIN_UNAVAILABLE':
    case 'KEYCHAIN_LOCKED':
    case 'NOT_FOUND':
      return EXIT.FAILURE;
    case 'INTERNAL':
      return EXIT.INTERNAL;
    case 'INTERRUPTED':
      return EXIT.INTERRUPTED;
    default: {
      const never: never = code;
      return never;
    }
  }
}

/** errnoCode returns the `code` of a Node system error (ENOENT, EACCES …), if any. */
export function errnoCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') {
    return (e as { code: string }).code;
  }
  return undefined;
}

/** Errno codes of a write that failed for an ordinary reason (permissions, space, a file in the way). */
const WRITE_ERRNOS = new Set(['ENXIO', 'ENOENT', 'EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'ENOTDIR', 'EISDIR', 'EEXIST', 'ELOCKED', 'EMFILE', 'ENFILE']);

/**
 * asWriteError turns an ordinary write failure into an IO error naming the
 * file and what to do; anything else (a bug) is returned unchanged.
 */
export function asWriteError(e: unknown, file: string): unknown {
  if (e instanceof MirrorauthError) return e;
  const code = errnoCode(e);
  if (code === undefined || !WRITE_ERRNOS.has(code)) return e;
  const why =
    code === 'ENOSPC' || code === 'EDQUOT'
      ? 'the disk is full'
      : code === 'EROFS'
        ? 'the file system is read-only'
        : code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST'
          ? 'something else is in the way'
          : code === 'ENOENT'
            ? 'its directory does not exist or cannot hold files'
            : code === 'ELOCKED'
              ? 'another mirrorauth holds its lock for too long'
              : 'permission denied';
  return new MirrorauthError('IO', `cannot write ${file}: ${why} (${code}); nothing was changed`, {
    file,
    hint: code === 'ENOSPC' || code === 'EDQUOT' ? 'free some space and try again' : `check the permissions of ${file} and its directory, or pass --config DIR`,
    cause: e,
  });
}
