/**
 * resolveHosts answers the first half of mirrorauth's question for one image
 * reference: which hosts containerd contacts, in which order, with which
 * request URL and which credential-lookup host, plus every diagnostic about
 * the configuration that decided it.
 */
import { parseReference, type ImageReference } from '../reference/reference.js';
import type { System } from '../system/system.js';
import { diagnostic } from './diagnostics.js';
import { configureHosts } from './expand.js';
import { checkTlsFiles, dirHasContent, findHostDir, hostPaths, loadHostDir, type DirCandidate } from './load.js';
import { defaultCapabilities } from './parse.js';
import { namespaceFor, planFor, requestUrl, selectHosts, unusableReason, type Target } from './requests.js';
import type { Capability, Diagnostic, HostConfig, Operation, RegistryHost } from './types.js';
import { hasFeature, type ContainerdVersion } from './version.js';
import { shellCommand } from '../shell.js';

export interface ResolveOptions {
  reference: string;
  operation: Operation;
  /** certs.d roots, in order; empty = no HostDir (as `ctr` without --hosts-dir). */
  roots: string[];
  version: ContainerdVersion;
  defaultScheme?: '' | 'http' | 'https';
  /** Blob digest for the blob operations. */
  blobDigest?: string;
}

/** ResolvedHost is one host in containerd's order and what the operation sends it. */
export interface ResolvedHost extends RegistryHost {
  index: number;
  /** scheme://host + path, as containerd prints a host. */
  url: string;
  /** The ?ns= value requests to this host carry, or null. */
  namespace: string | null;
  /** Whether the operation contacts this host. */
  used: boolean;
  /** The first request URL of the operation to this host, or null when it is not contacted. */
  requestUrl: string | null;
  /** The string containerd passes to its credential lookup for this host, or null. */
  credentialHost: string | null;
  /** hosts.toml sends a fixed Authorization header: containerd asks for credentials only if the host rejects it. */
  staticAuthorization: boolean;
  /** Why no request can reach this host (R17), or null. */
  unusable: string | null;
  usedFor: { resolveByTag: boolean; pullByDigest: boolean; push: boolean; fetchBlob: boolean };
}

export interface Resolution {
  reference: ImageReference;
  operation: Operation;
  operationLabel: string;
  containerdVersion: string;
  roots: string[];
  hostDir: string | null;
  hostDirCandidates: DirCandidate[];
  /** Where the entries came from: hosts.toml, Docker cert layout, fallback after a rejected hosts.toml, or none. */
  source: 'hosts.toml' | 'certs' | 'fallback' | 'none';
  hostsFile: string | null;
  hosts: ResolvedHost[];
  /** containerd's ConfigureHosts fails: no host is tried at all. */
  fatal: boolean;
  diagnostics: Diagnostic[];
}

const SAME_CAPS = (a: Capability[], b: Capability[]) => a.length === b.length && a.every((c, i) => c === b[i]);

function referenceDiagnostics(ref: ImageReference, version: ContainerdVersion): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (ref.ipv6 && !hasFeature(version, 'tomlV2')) {
    out.push(
      diagnostic('REF_IPV6_OLD_GRAMMAR', {
        message: `containerd ${version.text}'s reference grammar rejects IPv6 registries, so CRI and nerdctl refuse ${JSON.stringify(ref.input)}; only ctr (no normalisation) resolves it as shown`,
        fix: 'use a host name for the registry, or containerd 2.x',
        rule: 'R2',
      }),
    );
  }
  if (ref.droppedTag !== null) {
    out.push(
      diagnostic('REF_TAG_DROPPED', {
        message: `the tag ${JSON.stringify(ref.droppedTag)} is ignored because the reference also has a digest`,
        rule: 'R2',
      }),
    );
  }
  return out;
}

function hostDiagnostics(hosts: RegistryHost[], entries: HostConfig[] | null, version: ContainerdVersion): Diagnostic[] {
  // One piece: independent findings over one host list, each a short block.
  const out: Diagnostic[] = [];
  const last = entries?.[entries.length - 1];
  if (last && last.host === '' && last.origin === 'server' && !SAME_CAPS(last.capabilities, defaultCapabilities(version))) {
    out.push(
      diagnostic('HOSTS_ROOT_CAPABILITIES_IGNORED', {
        message: `top-level capabilities = [${last.capabilities.join(', ')}] are ignored: without "server" the default upstream always gets ${defaultCapabilities(version).join(', ')}`,
        file: hosts[hosts.length - 1]?.file ?? null,
        fix: 'set "server" explicitly if the upstream must have fewer capabilities',
        rule: 'R20',
      }),
    );
  }
  const seen = new Map<string, RegistryHost>();
  hosts.forEach((h) => {
    const url = `${h.scheme}://${h.host}${h.path}`;
    const earlier = seen.get(url);
    if (earlier && !(earlier.origin === 'host' && h.origin === 'host' && earlier.key === h.key)) {
      out.push(
        diagnostic('HOSTS_DUPLICATE_HOST', {
          message: `${url} is listed twice (${earlier.origin === 'host' ? `[host.${JSON.stringify(earlier.key)}]` : earlier.origin} and ${h.origin === 'host' ? `[host.${JSON.stringify(h.key)}]` : h.origin === 'default' ? 'the default upstream' : '"server"'}), so containerd tries it twice`,
          file: h.file,
          line: h.line,
          fix: 'remove one of the two entries',
          rule: 'R21',
        }),
      );
    }
    if (!earlier) seen.set(url, h);
    const reason = unusableReason(h);
    if (reason !== null) {
      const trap = h.key !== null && h.key.startsWith('http') && !/^https?:\/\//.test(h.key);
      out.push(
        diagnostic(trap ? 'HOSTS_HTTP_PREFIX_TRAP' : 'HOSTS_HOST_UNUSABLE', {
          message: trap
            ? `host ${JSON.stringify(h.key)} starts with "http" but has no scheme, so containerd does not add https:// and the host is skipped on every pull (${reason})`
            : `host ${JSON.stringify(h.key ?? h.host)} is skipped on every request: ${reason}`,
          file: h.file,
          line: h.line,
          fix: trap ? `write it as "https://${h.key}"` : 'write the host as https://HOST[:PORT][/PATH]',
          rule: 'R17',
        }),
      );
    }
    if (h.header.some(([name]) => name.toLowerCase() === 'authorization')) {
      out.push(
        diagnostic('HOSTS_STATIC_AUTHORIZATION', {
          message: `hosts.toml sends a fixed Authorization header to ${h.host}; containerd looks up credentials for it only if the host rejects that header, and the secret sits in plain text in the file${hasFeature(version, 'headerOwnClient') ? `; containerd ${version.text} also sends it to the token realm, whatever host that is` : ''}`,
          file: h.file,
          line: h.line,
          fix: `store the credential with \`${shellCommand('mirrorauth', 'login', h.host)}\` and remove the header`,
          rule: 'R32',
        }),
      );
    }
    if (h.httpsFirst) {
      out.push(
        diagnostic('HOSTS_HTTPS_FIRST', {
          message:
            h.origin === 'default'
              ? `containerd ${version.text} tries the loopback registry ${h.host} with https first and falls back to http`
              : `${h.host} is configured as http but has TLS settings, so containerd ${version.text} tries https first and falls back to http`,
          file: h.file,
          line: h.line,
          fix: h.origin === 'default' ? null : 'write the host as https:// or remove the unused TLS settings',
          rule: 'R31',
        }),
      );
    }
  });
  return out;
}

async function lookupDiagnostics(
  sys: System,
  roots: string[],
  lookup: { dir: string | null; root: string | null },
  host: string,
  source: string,
): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  if (lookup.dir === null || lookup.root === null) return out;
  const candidates = hostPaths(lookup.root, host, sys.platform);
  const def = candidates[candidates.length - 1] as string;
  if (lookup.dir !== def && source === 'certs' && !(await dirHasContent(sys, lookup.dir))) {
    try {
      await sys.fs.stat(def);
      out.push(
        diagnostic('HOSTS_DIR_SHADOWS_DEFAULT', {
          message: `${lookup.dir} exists but holds no hosts.toml and no certificates, so containerd ignores ${def} for this registry and contacts it directly`,
          file: lookup.dir,
          fix: `remove the empty directory ${lookup.dir}, or copy the hosts.toml from ${def} into it`,
          rule: 'R7',
        }),
      );
    } catch {
      /* no _default to shadow */
    }
  }
  const later = roots.slice(roots.indexOf(lookup.root) + 1);
  for (const root of later) {
    for (const p of hostPaths(root, host, sys.platform).slice(0, -1)) {
      try {
        await sys.fs.stat(p);
        out.push(
          diagnostic('HOSTS_LATER_ROOT_SHADOWED', {
            message: `${p} is never read: ${lookup.dir} in an earlier root answers first`,
            file: p,
            fix: `merge it into ${lookup.dir} if its settings are wanted`,
            rule: 'R8',
          }),
        );
      } catch {
        /* absent, nothing shadowed */
      }
    }
  }
  return out;
}

/** resolveHosts resolves one reference for one operation. Throws only on an invalid reference. */
export async function resolveHosts(sys: System, opts: ResolveOptions): Promise<Resolution> {
  // One piece: containerd's lookup, configure and walk, step by step in its own order.
  const ref = parseReference(opts.reference);
  const version = opts.version;
  const diagnostics: Diagnostic[] = referenceDiagnostics(ref, version);
  const lookup = await findHostDir(sys, opts.roots, ref.registry);
  let entries: HostConfig[] | null = null;
  let source: Resolution['source'] = 'none';
  let hostsFile: string | null = null;
  let fatal = false;
  if (lookup.error) {
    diagnostics.push(lookup.error);
    fatal = true;
  } else if (lookup.dir !== null) {
    const loaded = await loadHostDir(sys, lookup.dir, version);
    entries = loaded.entries;
    source = loaded.source;
    hostsFile = loaded.file;
    fatal = loaded.fatal;
    diagnostics.push(...loaded.diagnostics);
    diagnostics.push(...(await lookupDiagnostics(sys, opts.roots, lookup, ref.registry, loaded.source)));
  }

  const plan = planFor(
    opts.operation,
    { repository: ref.repository, tag: ref.tag, digest: ref.digest, ...(opts.blobDigest ? { blobDigest: opts.blobDigest } : {}) },
    version,
  );
  let registryHosts: RegistryHost[] = [];
  if (!fatal) {
    registryHosts = configureHosts(entries, ref.registry, { version, defaultScheme: opts.defaultScheme ?? '', file: hostsFile });
    diagnostics.push(...hostDiagnostics(registryHosts, entries, version));
    const tls = await checkTlsFiles(sys, registryHosts);
    if (tls.length > 0) {
      diagnostics.push(...tls);
      fatal = true;
    }
  }
  const hostsForOutput = fatal ? [] : registryHosts;

  const used = selectHosts(hostsForOutput, plan);
  const target: Target = { repository: ref.repository, tag: ref.tag, digest: ref.digest };
  const usedFor = (op: Operation, t: Target) => selectHosts(hostsForOutput, planFor(op, t, version));
  const byTag = usedFor('pull', { ...target, digest: null, tag: ref.tag ?? 'latest' });
  const byDigest = usedFor('pull', { ...target, digest: ref.digest ?? 'sha256:' });
  const push = usedFor('push', target);
  const blob = usedFor('fetch-blob', target);

  const hosts: ResolvedHost[] = hostsForOutput.map((h, index) => {
    const unusable = unusableReason(h);
    const ns = plan.carriesNs ? namespaceFor(h.host, ref.registry) : null;
    const contacted = (used[index] ?? false) && unusable === null;
    const staticAuth = h.header.some(([name]) => name.toLowerCase() === 'authorization');
    return {
      ...h,
      index,
      url: `${h.scheme}://${h.host}${h.path}`,
      namespace: ns,
      used: used[index] ?? false,
      requestUrl: contacted ? requestUrl(h, ref.repository, plan.parts, ns) : null,
      credentialHost: contacted && !staticAuth ? h.host : null,
      staticAuthorization: staticAuth,
      unusable,
      usedFor: {
        resolveByTag: byTag[index] ?? false,
        pullByDigest: byDigest[index] ?? false,
        push: push[index] ?? false,
        fetchBlob: blob[index] ?? false,
      },
    };
  });

  if (!fatal && !hosts.some((h) => h.used && h.unusable === null)) {
    diagnostics.push(
      diagnostic('HOSTS_NO_HOST_FOR_OPERATION', {
        message: `no host can ${plan.label} ${ref.normalized}: none has the capabilities ${plan.needs.join('+') || 'pull'}${hosts.some((h) => h.used) ? ' and a usable URL' : ''}`,
        file: hostsFile,
        fix: `give at least one host capabilities = [${plan.needs.map((c) => JSON.stringify(c)).join(', ')}]`,
        rule: 'R28',
      }),
    );
  }

  return {
    reference: ref,
    operation: opts.operation,
    operationLabel: plan.label,
    containerdVersion: version.text,
    roots: opts.roots,
    hostDir: lookup.dir,
    hostDirCandidates: lookup.tried,
    source,
    hostsFile,
    hosts,
    fatal,
    diagnostics,
  };
}

/** DirInspection is what one host directory means to containerd for one registry. */
export interface DirInspection {
  dir: string;
  registry: string;
  source: 'hosts.toml' | 'certs' | 'fallback';
  hostsFile: string | null;
  /** Hosts in containerd's order; empty when containerd would fail (fatal). */
  hosts: RegistryHost[];
  fatal: boolean;
  diagnostics: Diagnostic[];
}

/**
 * inspectHostDir loads one directory as containerd would for `registry`
 * (rules R10–R21, R31, R12) without looking anything up around it: the unit
 * `doctor` runs over every directory of every root.
 */
export async function inspectHostDir(
  sys: System,
  dir: string,
  registry: string,
  version: ContainerdVersion,
  defaultScheme: '' | 'http' | 'https' = '',
): Promise<DirInspection> {
  const loaded = await loadHostDir(sys, dir, version);
  const diagnostics = [...loaded.diagnostics];
  if (loaded.fatal) return { dir, registry, source: loaded.source, hostsFile: loaded.file, hosts: [], fatal: true, diagnostics };
  const hosts = configureHosts(loaded.entries, registry, { version, defaultScheme, file: loaded.file });
  diagnostics.push(...hostDiagnostics(hosts, loaded.entries, version));
  const tls = await checkTlsFiles(sys, hosts);
  diagnostics.push(...tls);
  return { dir, registry, source: loaded.source, hostsFile: loaded.file, hosts: tls.length > 0 ? [] : hosts, fatal: tls.length > 0, diagnostics };
}

/**
 * resolveRegistryHosts lists the hosts containerd uses for pulls of any image
 * of `registry` (a reference of that registry stands in; the repository does
 * not change which hosts are used).
 */
export async function resolveRegistryHosts(
  sys: System,
  registry: string,
  o: { roots: string[]; version: ContainerdVersion; defaultScheme?: '' | 'http' | 'https' },
): Promise<Resolution> {
  return resolveHosts(sys, {
    reference: `${registry}/mirrorauth/probe:latest`,
    operation: 'pull',
    roots: o.roots,
    version: o.version,
    defaultScheme: o.defaultScheme ?? '',
  });
}
