/**
 * What containerd sends to each host for one operation: which hosts the
 * operation uses (R28), the exact first request URL with `?ns=` (R22–R27) and
 * the host string handed to the credential lookup (R32). Pure.
 */
import { joinPath, queryEscape } from './go-semantics.js';
import type { Capability, Operation, RegistryHost } from './types.js';
import { hasFeature, type ContainerdVersion } from './version.js';

/** isProxy is containerd's RegistryHost.isProxy: does a request to `host` carry ?ns=? (R24) */
export function isProxy(host: string, refHost: string): boolean {
  if (refHost === host) return false;
  return !(refHost === 'docker.io' && host === 'registry-1.docker.io');
}

/** namespaceFor returns the ns value a request to `host` carries, or null (R24, R25). */
export function namespaceFor(host: string, refHost: string): string | null {
  return isProxy(host, refHost) ? refHost : null;
}

/**
 * unusableReason explains why containerd cannot send any request to the host
 * (R17: a URL that does not parse, or a scheme the HTTP client refuses), or null.
 */
export function unusableReason(h: RegistryHost): string | null {
  if (h.scheme === '') return 'its URL has no scheme, so the request URL does not parse ("missing protocol scheme")';
  if (h.scheme !== 'http' && h.scheme !== 'https') return `the HTTP client refuses the scheme ${JSON.stringify(h.scheme)}`;
  if (h.host === '') return 'its URL names no host ("no Host in request URL")';
  return null;
}

export interface Target {
  repository: string;
  tag: string | null;
  digest: string | null;
  /** Digest of the blob for the blob operations. */
  blobDigest?: string;
}

export interface RequestPlan {
  method: 'HEAD' | 'GET';
  /** Path elements below the repository. */
  parts: string[];
  /** Capabilities a host needs to be used (empty: every host). */
  needs: Capability[];
  /** Only the first matching host is used (push has no fallback, R28). */
  firstOnly: boolean;
  /** Whether requests of this operation carry ?ns= (R26). */
  carriesNs: boolean;
  /** Human name of the operation. */
  label: string;
}

/** planFor describes the first request of an operation (R23, R26, R28). */
export function planFor(op: Operation, target: Target, version: ContainerdVersion): RequestPlan {
  const nsOnPush = hasFeature(version, 'nsOnPush');
  const object = target.tag ?? target.digest ?? 'latest';
  switch (op) {
    case 'pull':
      return target.digest !== null
        ? { method: 'HEAD', parts: ['manifests', target.digest], needs: ['pull'], firstOnly: false, carriesNs: true, label: 'pull by digest' }
        : { method: 'HEAD', parts: ['manifests', object], needs: ['pull', 'resolve'], firstOnly: false, carriesNs: true, label: 'pull by tag' };
    case 'push':
      return { method: 'HEAD', parts: ['manifests', object], needs: ['push'], firstOnly: true, carriesNs: nsOnPush, label: 'push' };
    case 'fetch-blob':
      return { method: 'GET', parts: ['blobs', target.blobDigest ?? target.digest ?? ''], needs: [], firstOnly: false, carriesNs: true, label: 'fetch blob' };
    case 'push-blob':
      return {
        method: 'HEAD',
        parts: ['blobs', target.blobDigest ?? target.digest ?? ''],
        needs: ['push'],
        firstOnly: true,
        carriesNs: nsOnPush,
        label: 'push blob',
      };
    default: {
      const never: never = op;
      return never;
    }
  }
}

/** requestUrl builds containerd's request URL: scheme://host + path.Join("/", path, repo, parts…) [+ ?ns=] (R22, R25). */
export function requestUrl(h: RegistryHost, repository: string, parts: string[], ns: string | null): string {
  let p = joinPath('/', h.path, repository, ...parts);
  const lastPart = parts[parts.length - 1] ?? '';
  if (lastPart.endsWith('/')) p += '/';
  // Go's URL.String() writes the host's non-ASCII bytes %-escaped
  const host = h.host.replace(/[^\x00-\x7f]/gu, (ch) => Buffer.from(ch, 'utf8').toString('hex').toUpperCase().replace(/(..)/g, '%$1'));
  return `${h.scheme}://${host}${p}${ns === null ? '' : `?ns=${queryEscape(ns)}`}`;
}

/** hasCapabilities checks capabilities ⊇ needs (filterHosts). */
export function hasCapabilities(h: RegistryHost, needs: readonly Capability[]): boolean {
  return needs.every((c) => h.capabilities.includes(c));
}

/**
 * selectHosts returns, per host index, whether the operation contacts it.
 * Fetching a blob walks every host once any host can pull (R28).
 */
export function selectHosts(hosts: RegistryHost[], plan: RequestPlan): boolean[] {
  if (plan.needs.length === 0) {
    const anyPull = hosts.some((h) => h.capabilities.includes('pull'));
    return hosts.map(() => anyPull);
  }
  const matches = hosts.map((h) => hasCapabilities(h, plan.needs));
  if (!plan.firstOnly) return matches;
  const first = matches.indexOf(true);
  return hosts.map((_, i) => i === first);
}
