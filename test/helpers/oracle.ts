/**
 * Reads containerd-oracle cases (inputs plus the oracle's JSON output) and
 * compares the oracle's facts with `mirrorauth hosts --json`: host order,
 * URLs, capabilities, first request URL per host, credential-lookup hosts,
 * TLS and header settings, the chosen directory, fatal errors and
 * parse-fallback diagnostics.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

export interface OracleCase {
  /** Case directory name plus the containerd version: `05-port-dir @2.3.4`. */
  name: string;
  /** The containerd version whose oracle produced this output. */
  version: string;
  dir: string;
  /** Directory the oracle's relative paths are relative to. */
  base: string;
  reference: string;
  op: 'pull' | 'push' | 'push-blob' | 'blob';
  flags: string[];
  /** null = no hosts dir ("-"). */
  roots: string[];
  nondeterministic: boolean;
  oracle: OracleOutput;
}

interface OracleHost {
  index: number;
  scheme: string;
  host: string;
  path: string;
  url_prefix: string;
  capabilities: string[];
  header: Record<string, string[]>;
  own_client: boolean;
  tls: { insecure_skip_verify: boolean; custom_root_cas: boolean; client_certificates: number };
}

interface OracleRequest {
  method: string;
  url: string;
  host_index: number;
  kind: string;
}

interface OracleOutput {
  normalized_ref: string;
  registry_host: string;
  repository: string;
  host_dir_lookup: { dir?: string } | null;
  hosts: OracleHost[];
  requests: OracleRequest[];
  credential_lookups: string[] | null;
  result: { ok: boolean; error?: string };
  logs: Array<{ level: string; msg: string }> | null;
}

/** loadOracleCases reads every case below `setDir`, once per oracle output (`oracle-<version>.json`); `base` is what the oracle's paths are relative to. */
export function loadOracleCases(setDir: string, base: string, versions: string[] | null = null): OracleCase[] {
  const out: OracleCase[] = [];
  const names = readdirSync(setDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  for (const name of names) {
    const dir = path.join(setDir, name);
    const outputs = readdirSync(dir)
      .map((f) => /^oracle-(\d+\.\d+\.\d+)\.json$/.exec(f)?.[1])
      .filter((v): v is string => v !== undefined && (versions === null || versions.includes(v)))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    if (outputs.length === 0) continue;
    const args = readFileSync(path.join(dir, 'args'), 'utf8').trim().split(/\s+/);
    const flags = existsSync(path.join(dir, 'flags')) ? readFileSync(path.join(dir, 'flags'), 'utf8').trim().split(/\s+/) : [];
    const hostsdir = existsSync(path.join(dir, 'hostsdir')) ? readFileSync(path.join(dir, 'hostsdir'), 'utf8').trim() : null;
    const roots = hostsdir === '-' ? [] : hostsdir === null ? [path.join(dir, 'certs.d')] : hostsdir.split(':').map((r) => path.join(base, r));
    for (const version of outputs) {
      out.push({
        name: `${name} @${version}`,
        version,
        dir,
        base,
        reference: args[0] as string,
        op: (args[1] ?? 'pull') as OracleCase['op'],
        flags,
        roots,
        // only go-toml v1 (containerd 1.x) orders inline-table hosts randomly
        nondeterministic: version.startsWith('1.') && existsSync(path.join(dir, 'NONDETERMINISTIC')),
        oracle: JSON.parse(readFileSync(path.join(dir, `oracle-${version}.json`), 'utf8')) as OracleOutput,
      });
    }
  }
  return out;
}

/** cliArgsFor builds the `mirrorauth hosts` arguments that ask what the oracle was asked. */
export function cliArgsFor(c: OracleCase): string[] {
  const args = ['hosts', c.reference, '--json', '--containerd', c.version];
  for (const r of c.roots) args.push('--hosts-dir', r);
  if (c.roots.length === 0) args.push('--hosts-dir', path.join(c.dir, '.no-such-root'));
  const opMap = { pull: 'pull', push: 'push', 'push-blob': 'push-blob', blob: 'fetch-blob' } as const;
  args.push('--operation', opMap[c.op]);
  if (c.op === 'blob' || c.op === 'push-blob') {
    const blobReq = c.oracle.requests.find((r) => r.kind === 'blob' || /\/blobs\/sha256:/.test(r.url));
    const digest = blobReq?.url.match(/blobs\/(sha256:[0-9a-f]{64})/)?.[1];
    if (digest) args.push('--blob', digest);
  }
  if (c.flags.includes('--default-scheme=http')) args.push('--plain-http');
  return args;
}

interface OurHost {
  url: string;
  capabilities: string[];
  requestUrl: string | null;
  credentialHost: string | null;
  header: Record<string, string[]>;
  ownClient: boolean;
  unusable: string | null;
  tls: { skipVerify: boolean | null; caCerts: string[]; clientCerts: unknown[] };
}

interface OurOutput {
  reference: { normalized: string; registry: string; repository: string };
  hostDir: string | null;
  fatal: boolean;
  hosts: OurHost[];
  diagnostics: Array<{ severity: string; code: string; file: string | null }>;
}

function uniq<T>(xs: T[]): T[] {
  return xs.filter((x, i) => xs.indexOf(x) === i);
}

/** compareWithOracle returns the list of disagreements (empty = agreement). */
export function compareWithOracle(c: OracleCase, ourJson: string): string[] {
  const problems: string[] = [];
  const o = c.oracle;
  let ours: OurOutput;
  try {
    ours = JSON.parse(ourJson) as OurOutput;
  } catch {
    return [`output is not JSON: ${ourJson.slice(0, 200)}`];
  }
  const eq = (what: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) problems.push(`${what}: oracle ${JSON.stringify(a)} vs mirrorauth ${JSON.stringify(b)}`);
  };
  eq('normalized reference', o.normalized_ref, ours.reference.normalized);
  eq('registry host', o.registry_host, ours.reference.registry);
  eq('repository', o.repository, ours.reference.repository);
  const oracleDir = o.host_dir_lookup?.dir ? path.join(c.base, o.host_dir_lookup.dir) : null;
  if (c.roots.length > 0) eq('host directory', oracleDir, ours.hostDir);

  const fatal = o.hosts.length === 0 && !o.result.ok && /ConfigureHosts|unable to|failed to load/.test(o.result.error ?? '');
  eq('fatal (no host tried)', fatal, ours.fatal);
  eq(
    'host order',
    o.hosts.map((h) => h.url_prefix),
    ours.hosts.map((h) => h.url),
  );
  if (o.hosts.length !== ours.hosts.length) return problems;

  // the first request containerd sent to each host, and whether the walk ended early
  // (a host listed twice has one index in the oracle's request log, so duplicates are matched by URL prefix)
  const firstRequest = new Map<number, string>();
  for (const r of o.requests ?? []) {
    if (r.host_index < 0 || r.kind === 'token') continue;
    o.hosts.forEach((h, i) => {
      const same = o.hosts.filter((x) => x.url_prefix === h.url_prefix).length > 1;
      const mine = same ? r.url.startsWith(`${h.url_prefix}/`) : r.host_index === i;
      if (mine && !firstRequest.has(i)) firstRequest.set(i, r.url);
    });
  }
  const lastContacted = Math.max(-1, ...firstRequest.keys());
  const stoppedEarly = o.result.ok;

  o.hosts.forEach((h, i) => {
    const our = ours.hosts[i] as OurHost;
    eq(`host ${i} capabilities`, h.capabilities, our.capabilities);
    const want = firstRequest.get(i) ?? null;
    // a push of a digest-only reference sends the pushed manifest's digest, which the oracle picks itself
    const object = (u: string | null) =>
      c.op === 'push' && !/:[^/]+$/.test((c.reference.split('@')[0] ?? '').split('/').pop() ?? '')
        ? (u?.replace(/manifests\/sha256:[0-9a-f]{64}/, 'manifests/<pushed digest>') ?? null)
        : u;
    if (want !== null || !(stoppedEarly && i > lastContacted)) eq(`host ${i} first request URL`, object(want), object(our.requestUrl));
    eq(`host ${i} skip_verify`, h.tls.insecure_skip_verify, our.tls.skipVerify === true);
    eq(`host ${i} custom CAs`, h.tls.custom_root_cas, our.tls.caCerts.length > 0);
    eq(`host ${i} client certificates`, h.tls.client_certificates, our.tls.clientCerts.length);
    eq(`host ${i} own client`, h.own_client, our.ownClient);
    eq(`host ${i} header names`, Object.keys(h.header ?? {}).sort(), Object.keys(our.header).sort());
  });

  const oracleLookups = uniq(o.credential_lookups ?? []);
  const ourLookups = uniq(
    ours.hosts
      .filter((_, i) => firstRequest.has(i) || !(stoppedEarly && i > lastContacted))
      .map((h) => h.credentialHost)
      .filter((x): x is string => x !== null),
  );
  eq('credential lookup hosts', oracleLookups, ourLookups);

  const decodeFailed = (o.logs ?? []).some((l) => l.msg.startsWith('failed to decode '));
  const fallbackDiag = ours.diagnostics.some((d) => d.code.startsWith('HOSTS_TOML_') && d.code !== 'HOSTS_TOML_CRASH' && d.severity !== 'info');
  const panicked = /panic/.test(o.result.error ?? '');
  const crashDiag = ours.diagnostics.some((d) => d.code === 'HOSTS_TOML_CRASH' && d.severity === 'error');
  if (panicked !== crashDiag)
    problems.push(panicked ? 'containerd crashed (panic) but mirrorauth did not say so' : 'mirrorauth reports a crash containerd does not have');
  if (decodeFailed && !fallbackDiag) problems.push('containerd rejected the hosts.toml but mirrorauth gave no diagnostic');
  if (!decodeFailed && fallbackDiag) problems.push('mirrorauth reports a rejected hosts.toml that containerd accepted');
  return problems;
}
