/**
 * The `hosts --json` contract (docs/hosts-resolution.md, "JSON output").
 * schemaVersion changes only when a field is removed or changes meaning;
 * new fields may be added within a version.
 */
import type { Resolution } from '../hosts/resolve.js';
import type { CriPullMode } from '../hosts/roots.js';
import type { Diagnostic } from '../hosts/types.js';
import { FEATURES, hasFeature, parseContainerdVersion, type Feature } from '../hosts/version.js';
import { maskHeaderValue, maskUserinfo } from '../mask.js';

export const HOSTS_SCHEMA_VERSION = 1;

/** Where the answer's facts came from (hostsSettings). */
export interface SourcesOfTruth {
  versionSource: string;
  rootsSource: string;
  containerdConfig: string | null;
  criPullMode: CriPullMode | null;
}

/** behaviourJson lists the version-dependent behaviours and whether this version has them. */
export function behaviourJson(versionText: string): Record<string, boolean> {
  const v = parseContainerdVersion(versionText);
  return Object.fromEntries((Object.keys(FEATURES) as Feature[]).map((f) => [f, hasFeature(v, f)]));
}

/** hostsJson shapes a Resolution into the documented JSON object. */
export function hostsJson(r: Resolution, extraDiagnostics: Diagnostic[] = [], sources: SourcesOfTruth | null = null): Record<string, unknown> {
  return {
    schemaVersion: HOSTS_SCHEMA_VERSION,
    containerd: r.containerdVersion,
    containerdSource: sources?.versionSource ?? null,
    rootsSource: sources?.rootsSource ?? null,
    containerdConfig: sources?.containerdConfig ?? null,
    criPullMode: sources?.criPullMode ? { mode: sources.criPullMode.mode, reason: sources.criPullMode.reason } : null,
    behaviour: behaviourJson(r.containerdVersion),
    operation: r.operation,
    operationLabel: r.operationLabel,
    reference: {
      input: r.reference.input,
      normalized: r.reference.normalized,
      registry: r.reference.registry,
      repository: r.reference.repository,
      tag: r.reference.tag,
      digest: r.reference.digest,
    },
    roots: r.roots,
    hostDir: r.hostDir,
    hostDirCandidates: r.hostDirCandidates.map((c) => ({ path: c.path, exists: c.exists })),
    source: r.source,
    hostsFile: r.hostsFile,
    fatal: r.fatal,
    hosts: r.hosts.map((h) => ({
      index: h.index,
      url: h.url,
      scheme: h.scheme,
      host: h.host,
      path: h.path,
      capabilities: h.capabilities,
      used: h.used,
      namespace: h.namespace,
      requestUrl: h.requestUrl,
      credentialHost: h.credentialHost,
      staticAuthorization: h.staticAuthorization,
      usedFor: h.usedFor,
      origin: h.origin,
      key: h.key === null ? null : maskUserinfo(h.key),
      file: h.file,
      line: h.line,
      unusable: h.unusable,
      tls: {
        skipVerify: h.skipVerify,
        caCerts: h.caCerts,
        clientCerts: h.clientPairs.map(([cert, key]) => ({ cert, key: key === '' ? null : key })),
        httpsFirst: h.httpsFirst,
      },
      header: Object.fromEntries(h.header.map(([name, values]) => [name, values.map((v) => maskHeaderValue(name, v))])),
      dialTimeout: h.dialTimeout,
      ownClient: h.ownClient,
    })),
    diagnostics: [...extraDiagnostics, ...r.diagnostics],
  };
}
