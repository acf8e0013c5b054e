/**
 * `mirrorauth login [SERVER] [--registry-namespace NS]`: verify against the real
 * registry, then store — namespaced logins in mirrorauth's store, plain ones
 * exactly where `docker login` would — and warn where hosts.toml sends traffic
 * to hosts without credentials.
 */
import { hubApiHost } from '../../hosts/docker-hub.js';
import { EMPTY_CREDENTIAL, type Credential } from '../../credentials/credential.js';
import { storeDockerLogin, dockerServerKey } from '../../credentials/docker-store.js';
import { canonicalHost, canonicalNamespace, endpointPath, formatNamespacedKey, namespacedKey, parseEndpoint, pathCovers } from '../../credentials/keys.js';
import { plaintextWarning, putEntry } from '../../credentials/entries.js';
import type { StoreChoice } from '../../credentials/namespaced-store.js';
import { whoReceives } from '../../credentials/reach.js';
import { isSameRegistry, openCredentials, resolveCredential, type CredentialContext } from '../../credentials/resolve.js';
import { EXIT, MirrorauthError } from '../../errors.js';
import { isLocalhost } from '../../hosts/go-semantics.js';
import { resolveRegistryHosts, type ResolvedHost } from '../../hosts/resolve.js';
import type { TlsSettings } from '../../registry/http.js';
import { apiBasesFor, tlsSettingsFor } from '../../registry/tls.js';
import { trustFor } from '../../registry/trust.js';
import { verifyCredential, type VerifyResult } from '../../registry/ping.js';
import type { System } from '../../system/system.js';
import { hostsSettings, type HostsOptionValues, type HostsSettings } from '../options.js';
import { styleFor } from '../style.js';
import { shellCommand } from '../../shell.js';

export interface LoginOptions extends HostsOptionValues {
  registryNamespace?: string;
  username?: string;
  password?: string;
  passwordStdin?: boolean;
  store?: string;
  insecure?: boolean;
  caFile?: string;
  config?: string;
}

const STORES: readonly StoreChoice[] = ['auto', 'keychain', 'helper', 'file'];

/** hostsFor resolves the hosts containerd uses for pulls of `registry`. */
async function hostsFor(sys: System, settings: HostsSettings, registry: string): Promise<ResolvedHost[]> {
  if (registry === '*') return [];
  return (await resolveRegistryHosts(sys, registry, settings)).hosts;
}

async function readPassword(sys: System, o: LoginOptions, warn: (s: string) => void): Promise<Credential> {
  if (o.password !== undefined && o.passwordStdin)
    throw new MirrorauthError('USAGE', 'conflicting options: cannot specify both --password and --password-stdin');
  let username = o.username ?? '';
  let password: string;
  if (o.passwordStdin) {
    if (username === '')
      throw new MirrorauthError('USAGE', 'the --password-stdin option requires --username to be set', {
        hint: 'echo "$PASSWORD" | mirrorauth login -u USER --password-stdin SERVER',
      });
    password = (await sys.stdin.readAll()).replace(/\r?\n$|\r$/, '');
  } else if (o.password !== undefined) {
    warn('WARNING! Using --password via the CLI is insecure: it shows in the process list and shell history. Use --password-stdin.');
    password = o.password;
  } else {
    if (!sys.stdin.isTTY) {
      throw new MirrorauthError('USAGE', 'cannot perform an interactive login from a non-TTY device', {
        hint: 'use --username USER --password-stdin and pipe the password in',
      });
    }
    if (username === '') username = (await sys.stdin.prompt('Username: ')).trim();
    password = await sys.stdin.prompt('Password: ', { hidden: true });
  }
  if (username === '') throw new MirrorauthError('USAGE', 'username is empty', { hint: 'pass -u USER' });
  if (username.includes(':')) throw new MirrorauthError('USAGE', 'username cannot contain colons', { hint: 'a colon would corrupt base64("user:password")' });
  if (password === '') throw new MirrorauthError('USAGE', 'password is empty');
  return { ...EMPTY_CREDENTIAL, username, password };
}

interface Target {
  apiBases: string[];
  tls: TlsSettings | null;
  /** Where the trusted CAs came from, for a TLS failure message. */
  trustedFrom: string[];
}

/** apiBaseFor: the API root of an endpoint that hosts.toml does not describe. */
function apiBaseFor(scheme: string, host: string, path: string): string {
  const apiHost = hubApiHost(host);
  // A path starting with /v2/ is a Harbor-style API root (override_path); others get /v2 appended.
  const apiPath = path.startsWith('/v2/') ? path : `${path}/v2`;
  return `${scheme}://${apiHost}${apiPath}`;
}

async function verifyAny(sys: System, target: Target, namespace: string | null, credential: Credential, warn: (s: string) => void): Promise<VerifyResult> {
  let lastError: unknown;
  for (const [i, base] of target.apiBases.entries()) {
    const next = target.apiBases[i + 1];
    if (base.startsWith('https://') && next?.startsWith('http://')) {
      // docker's fallback for an insecure registry: https, then http. A port that answers a ClientHello in
      // plain HTTP would fail the https attempt anyway; asking first spares building a TLS context (~45 ms).
      const u = new URL(base);
      if ((await sys.speaksTls(u.hostname, Number(u.port || 443), 2000)) === false) continue;
    }
    try {
      if (base.startsWith('http://')) warn(`WARNING! ${base} is plain http: the password travels unencrypted.`);
      return await verifyCredential(sys, { apiBase: base, namespace, tls: target.tls, trustedFrom: target.trustedFrom }, credential);
    } catch (e) {
      lastError = e;
      const unreachable = e instanceof MirrorauthError && e.code === 'REGISTRY_ERROR' && /cannot reach/.test(e.message);
      if (!unreachable || i === target.apiBases.length - 1) throw e;
    }
  }
  throw lastError;
}

function storeChoice(o: LoginOptions): StoreChoice {
  const s = (o.store ?? 'auto') as StoreChoice;
  if (!STORES.includes(s)) throw new MirrorauthError('USAGE', `--store must be one of ${STORES.join(', ')}`);
  return s;
}

/** missingMirrorWarnings lists mirrors of `registry` that would get no credentials, with the login command for each. */
async function missingMirrorWarnings(ctx: CredentialContext, hosts: ResolvedHost[], registry: string): Promise<string[]> {
  const lines: string[] = [];
  for (const h of hosts) {
    if (h.origin === 'default' || h.unusable !== null || isSameRegistry(h.host, registry)) continue;
    const endpoint = { host: h.host, path: endpointPath(h.path) };
    const lookup = await resolveCredential(ctx, endpoint, registry).catch(() => null);
    if (lookup === null || lookup.source.kind === 'anonymous') {
      lines.push(`  ${shellCommand('mirrorauth', 'login', formatNamespacedKey(namespacedKey(endpoint.host, endpoint.path, registry)))}`);
    }
  }
  return lines;
}

/** loginCommand runs `mirrorauth login` and returns the exit code. */
export async function loginCommand(sys: System, server: string | undefined, o: LoginOptions): Promise<number> {
  // One piece: login's steps in the order docker login takes them (address, verify, store, warn).
  const err = styleFor(sys, sys.stderr);
  const warn = (s: string) => sys.stderr.write(`${err.c.yellow(s)}\n`);
  const choice = storeChoice(o);
  const endpoint = parseEndpoint(server ?? 'docker.io');
  let namespace = endpoint.namespace;
  if (o.registryNamespace !== undefined) {
    const ns = canonicalNamespace(o.registryNamespace);
    if (namespace !== null && namespace !== ns)
      throw new MirrorauthError('USAGE', `the address says ns=${namespace} but --registry-namespace says ${ns}`, { hint: 'give the namespace once' });
    namespace = ns;
  }
  if (namespace !== null && isSameRegistry(endpoint.host, namespace)) namespace = null;
  if (namespace === null && choice !== 'auto') {
    throw new MirrorauthError('USAGE', '--store applies to namespaced logins only; a plain login is stored where `docker login` stores it', {
      hint: 'drop --store, or log in to MIRROR?ns=REGISTRY',
    });
  }

  const settings = await hostsSettings(sys, o);
  const ctx = await openCredentials(sys, o.config);
  if (ctx.authConfigEnv !== null)
    warn('WARNING! DOCKER_AUTH_CONFIG is set and takes precedence over what this login stores. Unset it to use the stored credentials.');

  // Where to verify: the endpoint as hosts.toml describes it (scheme, path, TLS), else as written.
  const nsHosts = namespace !== null ? await hostsFor(sys, settings, namespace) : [];
  // the hosts.toml entry for this endpoint: the same path, else one below it (a login for the host covers its projects)
  const sameHost = nsHosts.filter((h) => canonicalHost(h.host) === endpoint.host && h.unusable === null);
  const listed = sameHost.find((h) => endpointPath(h.path) === endpoint.path) ?? sameHost.find((h) => pathCovers(endpoint.path, endpointPath(h.path))) ?? null;
  let target: Target;
  // trust like docker and containerd: system store, the host's certs.d ca.crt, hosts.toml ca, --ca-file
  const trusted = async (tls: TlsSettings | null) => {
    if (tls?.skipVerify === true) return { tls, from: [] };
    const t = await trustFor(sys, { host: hubApiHost(endpoint.host), roots: settings.roots, caFiles: o.caFile ? [o.caFile] : [], tls });
    return { tls: t.tls, from: t.from };
  };
  if (listed) {
    const t = await trusted(await tlsSettingsFor(sys, listed));
    target = { apiBases: apiBasesFor(listed), tls: t.tls, trustedFrom: t.from };
  } else {
    const loopback = isLocalhost(endpoint.host);
    if (endpoint.scheme === 'http' && !loopback && !o.insecure) {
      throw new MirrorauthError('USAGE', `refusing to send a password over plain http to ${endpoint.host}`, {
        hint: 'use https, or pass --insecure if this registry really only speaks http',
      });
    }
    const schemes = endpoint.scheme !== null ? [endpoint.scheme] : loopback || o.insecure ? ['https', 'http'] : ['https'];
    const t = await trusted(o.insecure ? { ca: [], clientCerts: [], skipVerify: true } : null);
    target = {
      apiBases: schemes.map((s) => apiBaseFor(s, endpoint.host, endpoint.path)),
      tls: t.tls,
      trustedFrom: t.from,
    };
    if (o.insecure) warn(`WARNING! --insecure: TLS certificates of ${endpoint.host} are not verified.`);
  }

  const typed = await readPassword(sys, o, warn);
  const verified = await verifyAny(sys, target, namespace === '*' ? null : namespace, typed, warn);
  const toStore: Credential = verified.refreshToken !== null ? { ...EMPTY_CREDENTIAL, username: typed.username, identityToken: verified.refreshToken } : typed;

  let storedWhere: string;
  if (namespace !== null) {
    const key = formatNamespacedKey(namespacedKey(endpoint.host, endpoint.path, namespace));
    const put = await putEntry(ctx, key, toStore, choice);
    for (const n of put.notes) sys.stderr.write(`${err.c.dim(`note: ${n}`)}\n`);
    storedWhere = `${key} in ${put.backend === 'keychain' ? 'the OS keychain' : put.backend === 'helper' ? `docker-credential-${put.helper}` : ctx.store.file}`;
    if (put.plaintext) warn(plaintextWarning(ctx.store.file, toStore.identityToken !== '' ? 'refresh token' : 'password'));
    if (namespace !== '*') {
      // explain's rule: does any host hosts.toml sends this namespace to look up the entry just stored?
      const fresh = await openCredentials(sys, o.config);
      let used = false;
      for (const h of nsHosts.filter((x) => x.unusable === null && !isSameRegistry(x.host, namespace ?? ''))) {
        const r = await resolveCredential(fresh, { host: h.credentialHost ?? h.host, path: endpointPath(h.path) }, namespace).catch(() => null);
        if (r?.source.kind === 'namespaced' && r.source.key === key) used = true;
      }
      if (!used) {
        warn(
          `WARNING! No hosts.toml for ${namespace} sends it to ${endpoint.host}${endpoint.path}, so containerd will not use these credentials for ${namespace} pulls.`,
        );
      }
    }
  } else {
    const key = dockerServerKey(server ?? 'docker.io');
    const stored = await storeDockerLogin(ctx, key, toStore);
    const w = stored.where;
    storedWhere =
      w.kind === 'own'
        ? `${key} in mirrorauth's store (${w.backend}), which Docker reaches through docker-credential-mirrorauth`
        : `${key} in ${w.kind === 'helper' ? `docker-credential-${w.helper}` : w.file}`;
    if (stored.plaintext)
      warn(plaintextWarning(w.kind === 'file' ? w.file : ctx.store.file, toStore.identityToken !== '' ? 'refresh token' : 'password', w.kind === 'file'));
  }

  sys.stdout.write('Login Succeeded\n');
  sys.stderr.write(
    `${err.c.dim(`stored ${storedWhere} (${verified.scheme === 'none' ? 'the registry also allows anonymous access' : `verified with ${verified.scheme} auth`})`)}\n`,
  );

  // Which clients will use what was just stored, by their own lookups (the same answers explain and lookup give).
  if (namespace !== null) {
    const fresh = await openCredentials(sys, o.config);
    const reach = await whoReceives(fresh, { host: endpoint.host, path: endpoint.path }, namespace === '*' ? null : namespace, toStore);
    const yes = reach.filter((r) => r.receives).map((r) => r.short);
    const no = reach.filter((r) => !r.receives);
    // one line each, docker-sized: who uses it, who does not and the command that changes that (details: mirrorauth lookup)
    const fixes = [
      ...(no.some((r) => r.client === 'containerd')
        ? [`containerd: ${shellCommand('mirrorauth', 'serve', '--render', '/etc/containerd/certs.d.mirrorauth')}`]
        : []),
      ...(no.some((r) => r.client === 'helper' || r.client === 'nerdctl') ? [`the others: ${shellCommand('mirrorauth', 'login', endpoint.host)}`] : []),
    ];
    sys.stderr.write(
      `${err.c.dim(`used by ${yes.join(', ')}${no.length > 0 ? `; not by ${no.map((r) => r.short).join(', ')} (to reach ${fixes.join('; ')})` : ''}`)}\n`,
    );
  }

  // Warnings from the hosts.toml view.
  const registry = namespace ?? (endpoint.host === 'index.docker.io' ? 'docker.io' : endpoint.host);
  if (namespace === null) {
    const fresh = await openCredentials(sys, o.config);
    const missing = await missingMirrorWarnings(fresh, await hostsFor(sys, settings, registry), registry);
    if (missing.length > 0) {
      warn(`WARNING! hosts.toml sends pulls of ${registry} to mirrors that have no credentials. If they need them, log in to each:\n${missing.join('\n')}`);
    }
  }
  return EXIT.OK;
}
