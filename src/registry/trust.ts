/**
 * Which CAs a registry connection trusts, as docker and containerd do: the
 * system store (SSL_CERT_FILE / SSL_CERT_DIR, else the distribution's bundle),
 * the host's certs.d CA files (`<root>/<host>/*.crt` under the hosts roots and
 * /etc/docker/certs.d), hosts.toml `ca`, and `--ca-file`. They are added to
 * Node's own roots, never in place of them. Each source is named, so a TLS
 * failure can say what was trusted and which file would fix it.
 */
import type { System } from '../system/system.js';
import type { TlsSettings } from './http.js';

const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];
const PEM = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** pemCertificates splits a text (a bundle, a ca.crt) into its PEM certificates. */
export function pemCertificates(text: string): string[] {
  return text.match(PEM) ?? [];
}

export interface TrustSources {
  /** PEM certificates, in the order they were found. */
  ca: string[];
  /** For people: the files and directories that were read. */
  from: string[];
}

async function readPems(sys: System, file: string): Promise<string[]> {
  try {
    return pemCertificates(await sys.fs.readText(file));
  } catch {
    return [];
  }
}

async function dirPems(sys: System, dir: string, pattern: RegExp): Promise<{ ca: string[]; files: string[] }> {
  let entries: Array<{ name: string; isDirectory: boolean }>;
  try {
    entries = await sys.fs.readdir(dir);
  } catch {
    return { ca: [], files: [] };
  }
  const ca: string[] = [];
  const files: string[] = [];
  for (const e of entries) {
    if (e.isDirectory || !pattern.test(e.name)) continue;
    const pems = await readPems(sys, `${dir}/${e.name}`);
    if (pems.length > 0) {
      ca.push(...pems);
      files.push(`${dir}/${e.name}`);
    }
  }
  return { ca, files };
}

let systemCache: TrustSources | null = null;

/** systemTrust reads the system store once per process. */
export async function systemTrust(sys: System): Promise<TrustSources> {
  if (systemCache !== null) return systemCache;
  const ca: string[] = [];
  const from: string[] = [];
  const file = sys.env.SSL_CERT_FILE;
  for (const f of file ? [file] : SYSTEM_BUNDLES) {
    const pems = await readPems(sys, f);
    if (pems.length > 0) {
      ca.push(...pems);
      from.push(f);
      break;
    }
  }
  for (const dir of (sys.env.SSL_CERT_DIR ?? '').split(':').filter(Boolean)) {
    const d = await dirPems(sys, dir, /\.(pem|crt)$|^[0-9a-f]{8}\.\d+$/);
    ca.push(...d.ca);
    if (d.files.length > 0) from.push(dir);
  }
  systemCache = { ca, from };
  return systemCache;
}

/** The certs.d directory names containerd and docker use for a host (`host:port` and `host_port_`). */
function hostDirNames(host: string): string[] {
  const i = host.lastIndexOf(':');
  return i > 0 && !host.endsWith(']') ? [host, `${host.slice(0, i)}_${host.slice(i + 1)}_`] : [host];
}

/** certsDirTrust: the CA files (`*.crt`) of the host's certs.d directories, as docker and containerd read them. */
export async function certsDirTrust(sys: System, host: string, roots: string[]): Promise<TrustSources> {
  const ca: string[] = [];
  const from: string[] = [];
  const seen = new Set<string>();
  for (const root of [...roots, '/etc/docker/certs.d']) {
    for (const name of hostDirNames(host)) {
      const dir = `${root.replace(/\/+$/, '')}/${name}`;
      if (seen.has(dir)) continue;
      seen.add(dir);
      const d = await dirPems(sys, dir, /\.crt$/);
      ca.push(...d.ca);
      from.push(...d.files);
    }
  }
  return { ca, from };
}

/**
 * trustFor adds the system store, the host's certs.d CAs and `caFiles` to
 * `tls` (hosts.toml's settings, or null). The result always carries a CA list,
 * so a connection trusts Node's roots plus all of these.
 */
export async function trustFor(
  sys: System,
  o: { host: string; roots: string[]; caFiles: string[]; tls: TlsSettings | null },
): Promise<{ tls: TlsSettings; from: string[] }> {
  const certsDir = await certsDirTrust(sys, o.host, o.roots);
  const extra: string[] = [];
  for (const f of o.caFiles) {
    const pems = await readPems(sys, f);
    if (pems.length === 0) {
      const { MirrorauthError } = await import('../errors.js');
      throw new MirrorauthError('USAGE', `--ca-file ${f} holds no PEM certificate`, {
        file: f,
        hint: 'give a PEM file with the CA certificate (-----BEGIN CERTIFICATE-----)',
      });
    }
    extra.push(...pems);
  }
  const system = sys.env.SSL_CERT_FILE ?? SYSTEM_BUNDLES.find(() => true) ?? 'the system store';
  return {
    tls: {
      ca: [...certsDir.ca, ...(o.tls?.ca ?? []), ...extra],
      // the system store is read only if Node's own roots do not verify the registry (a private CA)
      lazyCa: async () => (await systemTrust(sys)).ca,
      clientCerts: o.tls?.clientCerts ?? [],
      skipVerify: o.tls?.skipVerify ?? false,
    },
    from: [
      system,
      ...(sys.env.SSL_CERT_DIR ? [sys.env.SSL_CERT_DIR] : []),
      ...certsDir.from,
      ...(o.tls && o.tls.ca.length > 0 ? ['hosts.toml ca'] : []),
      ...o.caFiles.map((f) => `--ca-file ${f}`),
    ],
  };
}
