/**
 * containerd versions and the behaviour each one has. Behaviour is derived
 * from the documented "since" versions (docs/hosts-resolution.md, "Versions"),
 * never from a list of releases: a feature is on for a version when the
 * version's release line has its own "since" entry and the version reaches it,
 * or when the line has no entry and the version is newer than a line that has.
 */
import { MirrorauthError } from '../errors.js';

export interface ContainerdVersion {
  major: number;
  minor: number;
  patch: number;
  /** Pre-release part ("beta.0"), empty for a release. */
  pre: string;
  /** The version as written by the user (or the default). */
  text: string;
}

/** The behaviour used when no --containerd is given: the newest 2.x we know. */
export const DEFAULT_CONTAINERD_VERSION = '2.3.4';

/** parseContainerdVersion accepts `1.6.20`, `v2.1.0`, `2.1` (patch 0) and `2.4.0-beta.0`. */
export function parseContainerdVersion(text: string): ContainerdVersion {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?$/.exec(text.trim());
  if (!m) {
    throw new MirrorauthError('INVALID_VERSION', `invalid containerd version ${JSON.stringify(text)}`, {
      hint: 'give a version such as 1.6.20, 1.7.27 or 2.1.0 (what `containerd --version` prints)',
    });
  }
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3] ?? 0),
    pre: m[4] ?? '',
    text: text.trim().replace(/^v/, ''),
  };
}

/** compareVersions orders versions; a pre-release sorts before its release. */
export function compareVersions(a: ContainerdVersion, b: ContainerdVersion): number {
  if (a.major !== b.major) return a.major - b.major;
  if (a.minor !== b.minor) return a.minor - b.minor;
  if (a.patch !== b.patch) return a.patch - b.patch;
  if (a.pre === b.pre) return 0;
  if (a.pre === '') return 1;
  if (b.pre === '') return -1;
  return a.pre < b.pre ? -1 : 1;
}

/** Behaviour switches, each with the versions it appeared in and the rule it comes from. */
export const FEATURES = {
  /** go-toml v2: host order from table headers, server-only files work, `]` in keys works (R15, R16). */
  tomlV2: { since: ['2.0.0'], rule: 'R16' },
  /** A hosts.toml without any `[host]` table is accepted (R15). */
  serverOnlyFile: { since: ['1.7.32', '2.0.0'], rule: 'R15' },
  /** localhost defaults: https for no port/443, http plus https-first otherwise (R20). */
  localhostHttpsDefault: { since: ['1.6.25', '1.7.8', '2.0.0'], rule: 'R20' },
  /** An http host with explicit TLS settings is tried with https first (R31). */
  httpsFirst: { since: ['1.6.25', '1.7.8', '2.0.0'], rule: 'R31' },
  /** https-first also applies to http hosts written without a port (R31). */
  httpsFirstWithoutPort: { since: ['1.7.24', '2.0.0'], rule: 'R31' },
  /** `dial_timeout` is read (and an invalid one rejects the file) (R13). */
  dialTimeout: { since: ['2.0.7'], rule: 'R13' },
  /** 2.0.7–2.0.x only: `dial_timeout` gives the host its own client and makes an http host https-first, like TLS settings (R31). */
  dialTimeoutAsTls: { since: ['2.0.7'], until: '2.1.0', rule: 'R31' },
  /** A host with `header` or `dial_timeout` gets its own client; headers also go to token requests (R33). */
  headerOwnClient: { since: ['2.1.0'], rule: 'R33' },
  /** The `referrers` capability exists and is in the default set (R13). */
  referrersCapability: { since: ['2.2.0'], rule: 'R13' },
  /** Push requests carry `?ns=` (R26). */
  nsOnPush: { since: ['2.3.0'], rule: 'R26' },
  /** An existing query in a host path is kept and merged with `ns`, keys sorted (R26). */
  nsMergedQuery: { since: ['2.2.0'], rule: 'R26' },
  /** After walking the hosts, the error reported is chosen by priority, not the first non-404. */
  errorByPriority: { since: ['2.0.0'], rule: 'R29' },
  /** A 5xx answer is retried once, on the last host only. */
  retry5xxLastHost: { since: ['2.1.0'], rule: 'R29' },
  /** A transport error is retried, on the last host only. */
  retryTransportLastHost: { since: ['2.3.2'], rule: 'R29' },
  /** 429/408: four retries after the auth round instead of five (`maxAttempts = 5` counts the auth round). */
  fewerRateLimitRetries: { since: ['2.3.2'], rule: 'R29' },
  /** A HEAD answered 403 is repeated as GET to read the error body (resolver and pusher). */
  head403Get: { since: ['2.3.3'], rule: 'R29' },
  /** A host listed twice with its own authorizer is looked up (credentials) once per entry, not once per operation (R32). */
  lookupPerEntry: { since: ['2.1.0'], rule: 'R32' },
  /** CRI pulls through the transfer service by default (C3). */
  criTransferPull: { since: ['2.1.0'], rule: 'C3' },
} as const;

export type Feature = keyof typeof FEATURES;

/** hasFeature answers whether `version` behaves as the feature describes. */
export function hasFeature(version: ContainerdVersion, feature: Feature): boolean {
  const f: { since: readonly string[]; until?: string } = FEATURES[feature];
  if (f.until !== undefined && compareVersions(version, parseContainerdVersion(f.until)) >= 0) return false;
  const since = f.since.map(parseContainerdVersion);
  const sameLine = since.find((s) => s.major === version.major && s.minor === version.minor);
  if (sameLine) return compareVersions(version, sameLine) >= 0;
  return since.some((s) => s.major < version.major || (s.major === version.major && s.minor < version.minor));
}

/** featureSet lists every feature with its state, for --json output and explanations. */
export function featureSet(version: ContainerdVersion): Record<Feature, boolean> {
  const out = {} as Record<Feature, boolean>;
  for (const f of Object.keys(FEATURES) as Feature[]) out[f] = hasFeature(version, f);
  return out;
}
