/**
 * configureHosts applies containerd's defaults to the parsed entries of one
 * host directory (hosts.go ConfigureHosts): the default upstream (R20),
 * https-first for http hosts with TLS settings (R31) and which hosts get their
 * own client (R33). Pure.
 */
import { isLocalhost, splitHostPort } from './go-semantics.js';
import { blankHostConfig, type HostConfig, type RegistryHost } from './types.js';
import { hasFeature, type ContainerdVersion } from './version.js';
import { defaultCapabilities } from './parse.js';

export interface ExpandOptions {
  version: ContainerdVersion;
  /** HostOptions.DefaultScheme: "" (CRI, nerdctl) or "http" (ctr --plain-http, nerdctl --insecure-registry). */
  defaultScheme: '' | 'http' | 'https';
  /** The hosts.toml the entries came from, for provenance. */
  file: string | null;
}

/**
 * configureHosts turns entries (null = no host directory) into the hosts
 * containerd walks for `refHost`, in order.
 */
export function configureHosts(entries: HostConfig[] | null, refHost: string, opts: ExpandOptions): RegistryHost[] {
  // One piece: containerd's ConfigureHosts defaults, in its order.
  const list = entries === null ? [blankHostConfig('server')] : entries.map((e) => ({ ...e }));
  const filled = new Set<number>();
  const last = list[list.length - 1];
  if (last && last.host === '') {
    filled.add(list.length - 1);
    if (refHost === 'docker.io') {
      last.scheme = 'https';
      last.host = 'registry-1.docker.io';
    } else if (isLocalhost(refHost)) {
      last.host = refHost;
      if (hasFeature(opts.version, 'localhostHttpsDefault')) {
        if (opts.defaultScheme === '') {
          const port = splitHostPort(refHost)?.port ?? '';
          last.scheme = port === '' || port === '443' ? 'https' : 'http';
          if (port !== '80') last.skipVerify = true;
        } else {
          last.scheme = opts.defaultScheme;
        }
      } else if (opts.defaultScheme === '' || opts.defaultScheme === 'http') {
        last.scheme = 'http';
        last.skipVerify = true;
      } else {
        last.scheme = opts.defaultScheme;
      }
    } else {
      last.host = refHost;
      last.scheme = opts.defaultScheme === '' ? 'https' : opts.defaultScheme;
    }
    last.path = '/v2';
    last.capabilities = defaultCapabilities(opts.version);
  }

  return list.map((h, i) => {
    const explicitTls =
      h.caCerts !== null || h.clientPairs !== null || h.skipVerify !== null || (h.dialTimeout !== null && hasFeature(opts.version, 'dialTimeoutAsTls'));
    const header = h.header ?? [];
    let scheme = h.scheme;
    let httpsFirst = false;
    if (scheme === 'http' && explicitTls && hasFeature(opts.version, 'httpsFirst')) {
      const port = splitHostPort(h.host)?.port ?? '';
      if (port !== '80' && (port !== '' || hasFeature(opts.version, 'httpsFirstWithoutPort'))) {
        scheme = 'https';
        httpsFirst = true;
      }
    }
    const ownClient = explicitTls || (hasFeature(opts.version, 'headerOwnClient') && (header.length > 0 || h.dialTimeout !== null));
    return {
      origin: filled.has(i) ? 'default' : h.origin,
      key: h.key,
      file: h.origin === 'certs' && !filled.has(i) ? null : opts.file,
      line: h.line,
      scheme,
      host: h.host,
      path: h.path,
      capabilities: h.capabilities,
      skipVerify: h.skipVerify,
      caCerts: h.caCerts ?? [],
      clientPairs: h.clientPairs ?? [],
      header,
      dialTimeout: h.dialTimeout,
      httpsFirst,
      ownClient,
    };
  });
}
