/**
 * The file-reading edge of host resolution: which host directory containerd
 * picks (R4–R9), what it loads from it (R10, R11) and the TLS files it must be
 * able to read (R12). Only the candidate paths of one registry are touched, so
 * the cost does not grow with the size of the certs.d tree.
 */
import { errnoCode } from '../errors.js';
import { nodeCrypto } from '../system/lazy-crypto.js';
import type { System } from '../system/system.js';
import { cleanPath } from './go-semantics.js';
import { diagnostic } from './diagnostics.js';
import { parseHostsToml } from './parse.js';
import { blankHostConfig, type Diagnostic, type HostConfig, type RegistryHost } from './types.js';
import type { ContainerdVersion } from './version.js';

/** hostDirectory turns `host:port` into `host_port_` (hosts.go hostDirectory). */
export function hostDirectory(host: string): string {
  const i = host.lastIndexOf(':');
  return i > 0 ? `${host.slice(0, i)}_${host.slice(i + 1)}_` : host;
}

/** registryOfDir is hostDirectory's inverse: a host directory name back to the registry host (`_default` -> null). */
export function registryOfDir(name: string): string | null {
  if (name === '_default') return null;
  const m = /^(.*)_(\d+)_$/.exec(name);
  return m ? `${m[1]}:${m[2]}` : name;
}

function joinDir(root: string, name: string): string {
  return cleanPath(`${root}/${name}`);
}

/** hostPaths lists the candidate directories for `host` under one root, in containerd's order (R4, R6). */
export function hostPaths(root: string, host: string, platform: NodeJS.Platform = 'linux'): string[] {
  if (platform === 'win32') {
    const ch = hostDirectory(host).replaceAll(':', '');
    const plain = host.replaceAll(':', '');
    return [...(ch !== plain ? [joinDir(root, ch)] : []), joinDir(root, plain), joinDir(root, '_default')];
  }
  const ch = hostDirectory(host);
  return [...(ch !== host ? [joinDir(root, ch)] : []), joinDir(root, host), joinDir(root, '_default')];
}

export interface DirCandidate {
  root: string;
  path: string;
  exists: boolean;
}

export interface HostDirLookup {
  dir: string | null;
  root: string | null;
  tried: DirCandidate[];
  /** A stat error other than "does not exist": containerd fails the pull. */
  error: Diagnostic | null;
}

/** findHostDir returns the first candidate that exists, root by root (R4, R8). */
export async function findHostDir(sys: System, roots: string[], host: string): Promise<HostDirLookup> {
  const tried: DirCandidate[] = [];
  for (const root of roots) {
    for (const path of hostPaths(root, host, sys.platform)) {
      try {
        await sys.fs.stat(path);
        tried.push({ root, path, exists: true });
        return { dir: path, root, tried, error: null };
      } catch (e) {
        if (errnoCode(e) === 'ENOENT') {
          tried.push({ root, path, exists: false });
          continue;
        }
        tried.push({ root, path, exists: false });
        return {
          dir: null,
          root,
          tried,
          error: diagnostic('HOSTS_DIR_UNREADABLE', {
            message: `cannot check ${path}: ${(e as Error).message}; containerd fails every pull of this registry`,
            file: path,
            fix: 'make the hosts directory readable by containerd, or remove the entry in its way',
            rule: 'R4',
          }),
        };
      }
    }
  }
  return { dir: null, root: null, tried, error: null };
}

export interface LoadedDir {
  /** Entries for ConfigureHosts; a fatal error leaves them unusable. */
  entries: HostConfig[];
  /** `hosts.toml`, `certs` (Docker layout or empty dir), or `fallback` (hosts.toml rejected, R11). */
  source: 'hosts.toml' | 'certs' | 'fallback';
  file: string | null;
  diagnostics: Diagnostic[];
  /** Set when containerd's ConfigureHosts returns an error (no host is tried). */
  fatal: boolean;
}

/** loadCertFiles reads the Docker cert layout: *.crt as CAs, *.cert (+ .key) as client pairs (R10). */
async function loadCertFiles(sys: System, dir: string): Promise<HostConfig> {
  const entry = blankHostConfig('certs');
  let names: { name: string; isDirectory: boolean }[] = [];
  try {
    names = await sys.fs.readdir(dir);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
  for (const f of names) {
    if (f.isDirectory) continue;
    if (f.name.endsWith('.crt')) (entry.caCerts ??= []).push(joinDir(dir, f.name));
    if (f.name.endsWith('.cert')) {
      const keyFile = joinDir(dir, `${f.name.slice(0, -5)}.key`);
      let key = '';
      try {
        await sys.fs.stat(keyFile);
        key = keyFile;
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT') throw e;
      }
      (entry.clientPairs ??= []).push([joinDir(dir, f.name), key]);
    }
  }
  return entry;
}

/** fatal: a hosts.toml that makes containerd fail before any host is tried. */
function fatal(file: string, diagnostics: Diagnostic[]): LoadedDir {
  return { entries: [], source: 'hosts.toml', file, fatal: true, diagnostics };
}

/** loadHostDir reads one host directory the way containerd's loadHostDir does. */
export async function loadHostDir(sys: System, dir: string, version: ContainerdVersion): Promise<LoadedDir> {
  const file = joinDir(dir, 'hosts.toml');
  let text: string | null = null;
  try {
    text = await sys.fs.readText(file);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') {
      return fatal(file, [
        diagnostic('HOSTS_FILE_UNREADABLE', {
          message: `cannot read ${file}: ${(e as Error).message}; containerd fails every pull of this registry`,
          file,
          fix: errnoCode(e) === 'ENOTDIR' ? `${dir} is a file, not a directory: move it away` : 'make the file readable by containerd',
          rule: 'R10',
        }),
      ]);
    }
  }
  if (text === null || text.length === 0) {
    const diagnostics: Diagnostic[] = [];
    if (text !== null) {
      diagnostics.push(
        diagnostic('HOSTS_FILE_EMPTY', {
          message: `${file} is empty: containerd treats the directory as Docker's certificate layout`,
          file,
          fix: 'remove the empty file or give it [host."…"] entries',
          rule: 'R10',
        }),
      );
    }
    return { entries: [await loadCertFiles(sys, dir)], source: 'certs', file: text === null ? null : file, diagnostics, fatal: false };
  }
  const parsed = parseHostsToml(text, { file, baseDir: dir, version });
  if (parsed.ok) return { entries: parsed.hosts, source: 'hosts.toml', file, diagnostics: parsed.diagnostics, fatal: false };
  const f = parsed.failure;
  if (f.crash === true) {
    return fatal(file, [
      ...parsed.diagnostics,
      diagnostic(f.code, { message: `${f.message}; ctr and every pull of this registry fail`, file, line: f.line, fix: f.fix, rule: f.rule }),
    ]);
  }
  const diagnostics = [
    ...parsed.diagnostics,
    diagnostic(f.code, {
      message: `containerd ${version.text} rejects this hosts.toml (${f.message}) and silently uses the registry itself with the directory's certificate files instead; no mirror in this file is used`,
      file,
      line: f.line,
      fix: f.fix,
      rule: f.rule,
    }),
  ];
  return { entries: [await loadCertFiles(sys, dir)], source: 'fallback', file, diagnostics, fatal: false };
}

function pemBlocks(text: string, label: RegExp): string[] {
  const re = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
  const out: string[] = [];
  for (const m of text.matchAll(re)) if (label.test(m[1] ?? '')) out.push(m[0]);
  return out;
}

/** Parsed CA texts: doctor sees the same CA file from many host directories, and parses it once. */
const parsedCas = new Map<string, number>();

/** validCertificates counts the PEM certificates in a text that parse as X.509 (memoised by text). */
function validCertificates(text: string): number {
  const hit = parsedCas.get(text);
  if (hit !== undefined) return hit;
  const n = pemBlocks(text, /^CERTIFICATE$/).filter((b) => {
    try {
      new (nodeCrypto().X509Certificate)(b);
      return true;
    } catch {
      return false;
    }
  }).length;
  if (parsedCas.size > 256) parsedCas.clear();
  parsedCas.set(text, n);
  return n;
}

async function readForTls(sys: System, path: string): Promise<string | Error> {
  try {
    return await sys.fs.readText(path);
  } catch (e) {
    return e as Error;
  }
}

/**
 * checkTlsFiles reads every CA and client certificate the hosts name, as
 * ConfigureHosts does before any request; any failure is fatal (R12).
 */
export async function checkTlsFiles(sys: System, hosts: RegistryHost[]): Promise<Diagnostic[]> {
  // One piece: parallel blocks per file kind (CA, client cert, key), each the check containerd makes.
  const out: Diagnostic[] = [];
  for (const h of hosts) {
    const where = h.file ?? null;
    const hostName = h.host || h.key || '(default)';
    for (const ca of h.caCerts) {
      const text = await readForTls(sys, ca);
      if (text instanceof Error) {
        out.push(
          diagnostic('HOSTS_CA_MISSING', {
            message: `CA file ${ca} for ${hostName} cannot be read (${errnoCode(text) ?? text.message}); containerd fails every pull of this registry without trying any host`,
            file: where,
            line: h.line,
            fix: `create ${ca} or correct the "ca" path (relative paths are taken from the hosts.toml directory)`,
            rule: 'R12',
          }),
        );
        continue;
      }
      if (validCertificates(text) === 0) {
        out.push(
          diagnostic('HOSTS_CA_INVALID', {
            message: `CA file ${ca} for ${hostName} holds no PEM certificate; containerd fails every pull of this registry`,
            file: where,
            line: h.line,
            fix: `put the registry's CA certificate in PEM form (-----BEGIN CERTIFICATE-----) into ${ca}`,
            rule: 'R12',
          }),
        );
      }
    }
    for (const [certPath, keyPath] of h.clientPairs) {
      const certText = await readForTls(sys, certPath);
      const keyText = keyPath === '' ? certText : await readForTls(sys, keyPath);
      const missing = certText instanceof Error ? certPath : keyText instanceof Error ? keyPath : null;
      if (missing !== null || certText instanceof Error || keyText instanceof Error) {
        out.push(
          diagnostic('HOSTS_CLIENT_CERT_MISSING', {
            message: `client certificate file ${missing} for ${hostName} cannot be read; containerd fails every pull of this registry`,
            file: where,
            line: h.line,
            fix: `create ${missing} or correct the "client" path`,
            rule: 'R12',
          }),
        );
        continue;
      }
      let problem: string | null = null;
      try {
        const cert = pemBlocks(certText, /^CERTIFICATE$/)[0];
        const key = pemBlocks(keyText, /PRIVATE KEY$/)[0];
        if (cert === undefined) problem = `${certPath} holds no PEM certificate`;
        else if (key === undefined) problem = `${keyPath === '' ? certPath : keyPath} holds no PEM private key`;
        else if (!new (nodeCrypto().X509Certificate)(cert).checkPrivateKey(nodeCrypto().createPrivateKey(key)))
          problem = 'the private key does not match the certificate';
      } catch (e) {
        problem = (e as Error).message;
      }
      if (problem !== null) {
        out.push(
          diagnostic('HOSTS_CLIENT_CERT_INVALID', {
            message: `client certificate for ${hostName} is unusable: ${problem}; containerd fails every pull of this registry`,
            file: where,
            line: h.line,
            fix: 'give "client" a PEM certificate and its matching PEM private key',
            rule: 'R12',
          }),
        );
      }
    }
  }
  return out;
}

/** dirHasContent tells whether a directory holds hosts.toml or any certificate file (R7). */
export async function dirHasContent(sys: System, dir: string): Promise<boolean> {
  try {
    const entries = await sys.fs.readdir(dir);
    return entries.some((e) => !e.isDirectory && (e.name === 'hosts.toml' || /\.(crt|cert|key)$/.test(e.name)));
  } catch {
    return false;
  }
}
