/**
 * The stages of host resolution, named as containerd names them:
 * hosts.toml text -> HostConfig (one parsed entry) -> RegistryHost (defaults
 * applied, what the resolver walks) -> ResolvedHost (plus what is sent to it
 * for one operation).
 */

export type Capability = 'pull' | 'resolve' | 'push' | 'referrers';
export const CAPABILITY_ORDER: readonly Capability[] = ['pull', 'resolve', 'push', 'referrers'];

export type Severity = 'error' | 'warning' | 'info';

/** Diagnostic is one finding about the configuration, as data; the CLI renders it. */
export interface Diagnostic {
  severity: Severity;
  /** Stable identifier, listed in docs/diagnostics.md. */
  code: string;
  message: string;
  /** The file the finding is about, or null. */
  file: string | null;
  /** 1-based line in `file`, or null when unknown. */
  line: number | null;
  /** How to fix it, when there is something to do. */
  fix: string | null;
  /** The containerd rule (docs/hosts-resolution.md) the finding rests on. */
  rule: string | null;
}

/** HostConfig is one entry of a hosts.toml (or of the Docker cert layout) after parsing. */
export interface HostConfig {
  /** `host` = a [host."…"] entry, `server` = the top-level entry, `certs` = Docker cert-file layout. */
  origin: 'host' | 'server' | 'certs';
  /** The host key or `server` value as written, or null when there is none. */
  key: string | null;
  /** Line of the entry in its file, when known. */
  line: number | null;
  scheme: string;
  /** host[:port] exactly as written; empty when the entry names no host. */
  host: string;
  path: string;
  capabilities: Capability[];
  /** Absolute paths; null when `ca` is not set (an empty list is "set"). */
  caCerts: string[] | null;
  /** [cert, key] pairs; key "" means the key is inside the cert file. */
  clientPairs: Array<[string, string]> | null;
  /** null when `skip_verify` is absent: presence alone matters to containerd. */
  skipVerify: boolean | null;
  /** Header name (as written) and values, in file order. */
  header: Array<[string, string[]]> | null;
  /** `dial_timeout` as written, when this containerd version reads it. */
  dialTimeout: string | null;
  overridePath: boolean;
}

/** blankHostConfig is an entry with nothing set: no host, no TLS settings, no headers. */
export function blankHostConfig(origin: HostConfig['origin'], key: string | null = null, line: number | null = null): HostConfig {
  return {
    origin,
    key,
    line,
    scheme: '',
    host: '',
    path: '',
    capabilities: [],
    caCerts: null,
    clientPairs: null,
    skipVerify: null,
    header: null,
    dialTimeout: null,
    overridePath: false,
  };
}

/** RegistryHost is one host containerd will walk, with defaults applied. */
export interface RegistryHost {
  /** `default` = the upstream filled in by containerd because the last entry had no host. */
  origin: 'host' | 'server' | 'certs' | 'default';
  key: string | null;
  file: string | null;
  line: number | null;
  scheme: string;
  host: string;
  path: string;
  capabilities: Capability[];
  skipVerify: boolean | null;
  caCerts: string[];
  clientPairs: Array<[string, string]>;
  header: Array<[string, string[]]>;
  dialTimeout: string | null;
  /** http host tried as https first, with a fallback to http (R31). */
  httpsFirst: boolean;
  /** The host gets its own HTTP client and authorizer (R33). */
  ownClient: boolean;
}

export type Operation = 'pull' | 'push' | 'fetch-blob' | 'push-blob';
