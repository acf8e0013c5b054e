/**
 * resolveCredential is the one function that decides which credentials a host
 * gets. Every front end (login warnings, helpers, explain, render) calls it, so
 * behaviour and explanations cannot drift apart. Order (docs/credential-keys.md):
 *   1. explicit credentials given for exactly this host;
 *   2. the namespaced store: this endpoint (longest path) and this upstream namespace;
 *   3. the namespaced store: this endpoint with ns=*;
 *   4. Docker's own lookup for the endpoint host (DOCKER_AUTH_CONFIG > credHelpers > credsStore > auths);
 *   5. the upstream's Docker credentials, only for a mirror marked trusted;
 *   6. anonymous.
 * Steps 2, 3 and 5 apply only when the endpoint serves another registry (a mirror).
 */
import { hubApiHost } from '../hosts/docker-hub.js';
import type { System } from '../system/system.js';
import { EMPTY_CREDENTIAL, credentialFromHelper, isEmptyCredential, type Credential } from './credential.js';
import { dockerConfigDir, loadDockerConfig, parseDockerAuthConfigEnv, type AuthEntry, type DockerConfig } from './docker-config.js';
import { helperClient, OWN_HELPER_NAME } from './helper-client.js';
import { canonicalHost, canonicalNamespace, convertToHostname, dockerConfigKey, dockerLookupKeys, formatNamespacedKey, parseNamespacedKey, pathCovers } from './keys.js';
import { getSecret, isNamespacedKey, loadStore, secretBackends, type NamespacedStore, type SecretBackends, type StoredEntry } from './namespaced-store.js';

export interface CredentialContext {
  sys: System;
  dockerDir: string;
  docker: DockerConfig;
  /** $DOCKER_AUTH_CONFIG entries, when set. */
  authConfigEnv: Map<string, AuthEntry> | null;
  store: NamespacedStore;
  backends: SecretBackends;
}

/** openCredentials loads Docker's config and the namespaced store for one command. */
export async function openCredentials(sys: System, configFlag?: string): Promise<CredentialContext> {
  const dockerDir = dockerConfigDir(sys, configFlag);
  const docker = await loadDockerConfig(sys, dockerDir);
  const envValue = sys.env.DOCKER_AUTH_CONFIG;
  const authConfigEnv = envValue !== undefined && envValue !== '' ? parseDockerAuthConfigEnv(envValue) : null;
  const store = await loadStore(sys, dockerDir);
  return { sys, dockerDir, docker, authConfigEnv, store, backends: secretBackends(sys, docker.credsStore) };
}

export type LookupSource =
  | { kind: 'explicit' }
  | { kind: 'namespaced'; key: string; backend: string }
  | { kind: 'docker-auth-config'; key: string }
  | { kind: 'cred-helper'; helper: string; key: string }
  | { kind: 'creds-store'; helper: string; key: string }
  | { kind: 'auths'; key: string }
  | { kind: 'trusted-upstream'; upstream: string; via: LookupSource }
  | { kind: 'anonymous' };

export interface LookupStep {
  /** Which rule of the order this step is. */
  step: 'explicit' | 'namespaced' | 'namespaced-wildcard' | 'docker-auth-config' | 'cred-helper' | 'creds-store' | 'auths' | 'trusted-upstream' | 'anonymous';
  key: string | null;
  outcome: 'hit' | 'miss' | 'skipped' | 'error';
  detail: string;
}

export interface Lookup {
  credential: Credential;
  source: LookupSource;
  trace: LookupStep[];
}

export interface Endpoint {
  /** host[:port] exactly as containerd passes it to its credential lookup. */
  host: string;
  /** The endpoint's path without the trailing /v2 (`/v2/proxy` for Harbor-style, `` for most). */
  path: string;
}

export interface LookupOptions {
  /** Credentials given for one invocation; used only when `host` is the endpoint's host. */
  explicit?: { host: string; credential: Credential };
}

/** sameRegistry: is the endpoint the namespace's registry itself (Docker Hub's API host counts as docker.io)? */
export function isSameRegistry(endpointHost: string, namespace: string): boolean {
  return canonicalNamespace(endpointHost) === canonicalNamespace(namespace);
}

/** findNamespaced picks the entry for an endpoint and namespace: same host, longest covering path. */
export function findNamespaced(store: NamespacedStore, endpoint: Endpoint, namespace: string): StoredEntry | null {
  const host = canonicalHost(endpoint.host);
  let best: { entry: StoredEntry; len: number } | null = null;
  for (const entry of store.entries.values()) {
    if (!isNamespacedKey(entry.key)) continue;
    const k = parseNamespacedKey(entry.key);
    if (k.host !== host || k.namespace !== namespace || !pathCovers(k.path, endpoint.path)) continue;
    if (best === null || k.path.length > best.len) best = { entry, len: k.path.length };
  }
  return best?.entry ?? null;
}

function authsMatch(auths: Map<string, AuthEntry>, key: string): AuthEntry | null {
  const exact = auths.get(key);
  if (exact) return exact;
  for (const [k, entry] of auths) if (k !== key && convertToHostname(k) === key) return entry;
  return null;
}

/**
 * dockerLookup asks Docker's sources for one host, trying each key variant;
 * with a helper selected for a key, Docker does not fall back to plaintext auths.
 */
export async function dockerLookup(ctx: CredentialContext, host: string, trace: LookupStep[], includeOwn = true): Promise<{ credential: Credential; source: LookupSource } | null> {
  const keys = dockerLookupKeys(host);
  // mirrorauth's own plain entries (stored through docker-credential-mirrorauth or a login Docker routes to it)
  if (includeOwn) {
    for (const key of keys) {
      const own = ctx.store.entries.get(key);
      if (!own || isNamespacedKey(own.key)) continue;
      const credential = await getSecret(ctx.backends, ctx.store, own);
      if (isEmptyCredential(credential)) continue;
      trace.push({ step: 'creds-store', key, outcome: 'hit', detail: `mirrorauth's own store (${own.backend})` });
      return { credential, source: { kind: 'creds-store', helper: OWN_HELPER_NAME, key } };
    }
  }
  if (ctx.authConfigEnv !== null) {
    for (const key of keys) {
      const hit = authsMatch(ctx.authConfigEnv, key);
      if (hit && !isEmptyCredential(hit.credential)) {
        trace.push({ step: 'docker-auth-config', key: hit.key, outcome: 'hit', detail: 'DOCKER_AUTH_CONFIG takes precedence over config.json' });
        return { credential: hit.credential, source: { kind: 'docker-auth-config', key: hit.key } };
      }
    }
    trace.push({ step: 'docker-auth-config', key: null, outcome: 'miss', detail: `no entry for ${keys.join(', ')}` });
  }
  const missed: string[] = [];
  for (const key of keys) {
    const named = ctx.docker.credHelpers.get(key);
    const helper = named ?? ctx.docker.credsStore;
    const step = named !== undefined ? 'cred-helper' : 'creds-store';
    if (helper !== null && helper !== undefined) {
      if (helper === OWN_HELPER_NAME) {
        // Docker routes this key to mirrorauth: answer from mirrorauth's own plain entries, never by calling itself.
        const own = ctx.store.entries.get(key);
        const via = `${named !== undefined ? `credHelpers[${key}]` : 'credsStore'} names mirrorauth itself`;
        if (own && !isNamespacedKey(own.key)) {
          const credential = await getSecret(ctx.backends, ctx.store, own);
          if (!isEmptyCredential(credential)) {
            trace.push({ step, key, outcome: 'hit', detail: `${via}: answered from mirrorauth's store (${own.backend})` });
            const source: LookupSource = named !== undefined ? { kind: 'cred-helper', helper, key } : { kind: 'creds-store', helper, key };
            return { credential, source };
          }
        }
        trace.push({ step, key, outcome: 'miss', detail: `${via}: nothing in mirrorauth's store for it (not called: it would recurse)` });
        continue;
      }
      try {
        const answer = await helperClient(ctx.sys, helper).get(key);
        if (answer !== null) {
          trace.push({ step, key, outcome: 'hit', detail: `docker-credential-${helper}` });
          const source: LookupSource = named !== undefined ? { kind: 'cred-helper', helper, key } : { kind: 'creds-store', helper, key };
          return { credential: credentialFromHelper(answer.username, answer.secret), source };
        }
        trace.push({ step, key, outcome: 'miss', detail: `docker-credential-${helper} has nothing for it` });
      } catch (e) {
        trace.push({ step, key, outcome: 'error', detail: (e as Error).message });
        throw e;
      }
      continue;
    }
    const hit = authsMatch(ctx.docker.auths, key);
    if (hit && !isEmptyCredential(hit.credential)) {
      trace.push({ step: 'auths', key: hit.key, outcome: 'hit', detail: `${ctx.docker.file} auths[${JSON.stringify(hit.key)}]` });
      return { credential: hit.credential, source: { kind: 'auths', key: hit.key } };
    }
    missed.push(key);
  }
  if (missed.length > 0) trace.push({ step: 'auths', key: null, outcome: 'miss', detail: `no auths entry in ${ctx.docker.file} for ${missed.join(', ')}` });
  return null;
}

/** resolveCredential answers: which credential does `endpoint`, serving `namespace`, get? */
export async function resolveCredential(ctx: CredentialContext, endpoint: Endpoint, namespace: string | null, opts: LookupOptions = {}): Promise<Lookup> {
  const trace: LookupStep[] = [];
  // `*` names no upstream: like an unknown one, only ns=* entries can apply
  const ns = namespace === null || canonicalNamespace(namespace) === '*' ? null : canonicalNamespace(namespace);
  const mirror = ns !== null && !isSameRegistry(endpoint.host, ns);

  if (opts.explicit) {
    if (canonicalHost(opts.explicit.host) === canonicalHost(endpoint.host)) {
      trace.push({ step: 'explicit', key: opts.explicit.host, outcome: 'hit', detail: 'credentials given for this host' });
      return { credential: opts.explicit.credential, source: { kind: 'explicit' }, trace };
    }
    trace.push({ step: 'explicit', key: opts.explicit.host, outcome: 'skipped', detail: `given for ${opts.explicit.host}, not for ${endpoint.host}` });
  }

  // With no namespace known (a bare host from a helper client), only ns=* entries can apply.
  const namespacedSteps: Array<readonly ['namespaced' | 'namespaced-wildcard', string]> = mirror
    ? [
        ['namespaced', ns],
        ['namespaced-wildcard', '*'],
      ]
    : ns === null
      ? [['namespaced-wildcard', '*']]
      : [];
  if (namespacedSteps.length > 0) {
    const wanted = formatNamespacedKey({ host: canonicalHost(endpoint.host), path: endpoint.path, namespace: ns ?? '*' });
    for (const [step, n] of namespacedSteps) {
      const entry = findNamespaced(ctx.store, endpoint, n);
      if (entry === null) {
        trace.push({ step, key: n === '*' ? formatNamespacedKey({ host: canonicalHost(endpoint.host), path: endpoint.path, namespace: '*' }) : wanted, outcome: 'miss', detail: `no entry in ${ctx.store.file}` });
        continue;
      }
      let credential: Credential;
      try {
        credential = await getSecret(ctx.backends, ctx.store, entry);
      } catch (e) {
        trace.push({ step, key: entry.key, outcome: 'error', detail: (e as Error).message });
        throw e;
      }
      if (isEmptyCredential(credential)) {
        trace.push({ step, key: entry.key, outcome: 'miss', detail: `indexed, but the ${entry.backend} backend has no secret for it` });
        continue;
      }
      trace.push({ step, key: entry.key, outcome: 'hit', detail: `${entry.backend}${entry.helper ? ` (docker-credential-${entry.helper})` : ''}` });
      return { credential, source: { kind: 'namespaced', key: entry.key, backend: entry.backend }, trace };
    }
  }
  if (!mirror) {
    const why = ns === null ? 'no upstream namespace given: only ns=* entries apply' : `${endpoint.host} is the registry itself`;
    trace.push({ step: 'namespaced', key: null, outcome: 'skipped', detail: why });
  }

  const docker = await dockerLookup(ctx, endpoint.host, trace);
  if (docker) return { ...docker, trace };

  if (mirror) {
    const trustedKeys = [formatNamespacedKey({ host: canonicalHost(endpoint.host), path: endpoint.path, namespace: ns }), formatNamespacedKey({ host: canonicalHost(endpoint.host), path: endpoint.path, namespace: '*' })];
    const trusted = ctx.store.trusted.find((t) => {
      try {
        const k = parseNamespacedKey(t);
        return k.host === canonicalHost(endpoint.host) && pathCovers(k.path, endpoint.path) && (k.namespace === ns || k.namespace === '*');
      } catch {
        return false;
      }
    });
    if (trusted) {
      const upstreamTrace: LookupStep[] = [];
      const up = await dockerLookup(ctx, hubApiHost(ns), upstreamTrace);
      if (up) {
        trace.push({ step: 'trusted-upstream', key: trusted, outcome: 'hit', detail: `mirror is trusted with ${ns}'s credentials (${up.source.kind} ${'key' in up.source ? up.source.key : ''})` });
        return { credential: up.credential, source: { kind: 'trusted-upstream', upstream: ns, via: up.source }, trace };
      }
      trace.push({ step: 'trusted-upstream', key: trusted, outcome: 'miss', detail: `trusted, but Docker has no credentials for ${ns} (${dockerConfigKey(ns)})` });
    } else {
      trace.push({ step: 'trusted-upstream', key: trustedKeys[0] ?? null, outcome: 'skipped', detail: `${ns}'s credentials never go to a mirror that is not marked trusted` });
    }
  }
  trace.push({ step: 'anonymous', key: null, outcome: 'hit', detail: 'no credentials: requests go without Authorization' });
  return { credential: EMPTY_CREDENTIAL, source: { kind: 'anonymous' }, trace };
}

/** describeSource renders a source for people (never a secret). */
export function describeSource(s: LookupSource): string {
  switch (s.kind) {
    case 'explicit':
      return 'explicit credentials';
    case 'namespaced':
      return `namespaced store ${s.key} (${s.backend})`;
    case 'docker-auth-config':
      return `DOCKER_AUTH_CONFIG ${s.key}`;
    case 'cred-helper':
      return `credHelpers ${s.helper} (${s.key})`;
    case 'creds-store':
      return `credsStore ${s.helper} (${s.key})`;
    case 'auths':
      return `auths ${s.key}`;
    case 'trusted-upstream':
      return `upstream ${s.upstream} via ${describeSource(s.via)} (trusted mirror)`;
    case 'anonymous':
      return 'anonymous';
    default: {
      const never: never = s;
      return never;
    }
  }
}
