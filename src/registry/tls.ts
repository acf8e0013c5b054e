/**
 * tlsSettingsFor reads the CA and client-certificate files a hosts.toml entry
 * names into what the HTTP layer needs; null when the host sets nothing.
 */
import type { System } from '../system/system.js';
import type { TlsSettings } from './http.js';

export interface TlsFiles {
  caCerts: string[];
  clientPairs: Array<[string, string]>;
  skipVerify: boolean | null;
}

export async function tlsSettingsFor(sys: System, h: TlsFiles): Promise<TlsSettings | null> {
  if (h.caCerts.length === 0 && h.clientPairs.length === 0 && h.skipVerify !== true) return null;
  const read = (p: string) => sys.fs.readText(p);
  return {
    ca: await Promise.all(h.caCerts.map(read)),
    clientCerts: await Promise.all(h.clientPairs.map(async ([cert, key]) => ({ cert: await read(cert), key: await read(key === '' ? cert : key) }))),
    skipVerify: h.skipVerify === true,
  };
}

/** apiBasesFor lists the API roots to try for a host: https first, then http, for https-first hosts. */
export function apiBasesFor(h: { scheme: string; host: string; path: string; httpsFirst: boolean }): string[] {
  const bases = [`${h.scheme}://${h.host}${h.path}`];
  if (h.httpsFirst) bases.push(`http://${h.host}${h.path}`);
  return bases;
}
