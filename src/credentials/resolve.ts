/**
 * resolveCredential is the one function that decides which credentials a host
 * gets. It is a plan (which sources an endpoint may use, in order, and why)
 * and a run (ask each source in turn). Every front end uses it: lookup, login's
 * warnings, explain, render, serve and the three helper protocols; doctor's
 * presence check and bazel's known-host check run the same plan with `has`,
 * which never reads a secret. Order (docs/credential-keys.md):
 *   1. explicit credentials given for exactly this host;
 *   2. the namespaced store: this endpoint (longest path) and this upstream namespace;
 *   3. the namespaced store: this endpoint with ns=*;
 *   4. Docker's own lookup for the endpoint host: DOCKER_AUTH_CONFIG (it overrides
 *      everything Docker stores), then per key Docker's route: credHelpers[key] >
 *      credsStore > config.json auths; a route to mirrorauth is answered from its
 *      own store (steps 2 and 3 are mirrorauth's own concept, so they come first);
 *   5. the upstream's Docker credentials, only for a mirror marked trusted for
 *      exactly this namespace;
 *   6. anonymous.
 * Steps 2, 3 and 5 apply only when the endpoint serves another registry (a mirror).
 * As the docker-credential helper itself (`asHelper`), mirrorauth is the store
 * being asked, so its own plain entries answer before Docker's sources.
 */
import { hubApiHost } from '../hosts/docker-hub.js';
import type { System } from '../system/system.js';
import { EMPTY_CREDENTIAL, isEmptyCredential, type Credential } from './credential.js';
import { dockerConfigDir, loadDockerConfig, parseDockerAuthConfigEnv, type AuthEntry, type DockerConfig } from './docker-config.js';
import { OWN_HELPER_NAME } from './helper-client.js';
import {
  canonicalHost,
  canonicalNamespace,
  dockerConfigKey,
  dockerLookupKeys,
  formatNamespacedKey,
  namespacedKey,
  parseNamespacedKey,
  pathCovers,
} from './keys.js';
import { getSecret, isNamespacedKey, loadStore, secretBackends, type NamespacedStore, type SecretBackends, type StoredEntry } from './namespaced-store.js';
import { authsSource, dockerRoute, envSource, helperSource, type Found, type Source } from './sources.js';

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
  | { kind: 'own-store'; key: string; backend: string }
  | { kind: 'docker-auth-config'; key: string }
  | { kind: 'cred-helper'; helper: string; key: string }
  | { kind: 'creds-store'; helper: string; key: string }
  | { kind: 'auths'; key: string }
  | { kind: 'trusted-upstream'; upstream: string; via: LookupSource }
  | { kind: 'anonymous' };

export type StepName =
  | 'explicit'
  | 'namespaced'
  | 'namespaced-wildcard'
  | 'own-store'
  | 'docker-auth-config'
  | 'cred-helper'
  | 'creds-store'
  | 'auths'
  | 'trusted-upstream'
  | 'anonymous';

export interface LookupStep {
  /** Which rule of the order this step is. */
  step: StepName;
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
  /** Answering as docker-credential-mirrorauth: its own plain entries come first. */
  asHelper?: boolean;
}

/** One step of a plan: a source to ask under a key, or a skip with its reason. */
export interface PlanStep {
  step: StepName;
  key: string | null;
  /** Why this step is here (or why it is skipped), for the trace. */
  detail: string;
  /** null: the step is skipped (the trace says why). */
  ask: { source: Source; key: string; found: (f: Found) => LookupSource } | null;
  /** A nested plan whose hit this step hands on (the trusted upstream). */
  then?: { plan: PlanStep[]; wrap: (via: LookupSource) => LookupSource; hitDetail: (via: LookupSource) => string; missDetail: string };
  /** The explicit credential, answered as is. */
  explicit?: Credential;
}

/** isSameRegistry: is the endpoint the namespace's registry itself (Docker Hub's API host counts as docker.io)? */
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

/** storeSource reads one index entry of the namespaced store (or an own plain entry) from its backend. */
function storeSource(ctx: CredentialContext, entry: StoredEntry): Source {
  return {
    label: `${entry.backend}${entry.helper ? ` (docker-credential-${entry.helper})` : ''}`,
    plaintext: entry.backend === 'file',
    async get() {
      const credential = await getSecret(ctx.backends, ctx.store, entry);
      return isEmptyCredential(credential) ? null : { key: entry.key, credential };
    },
    has: () => true,
    put: async () => {
      throw new Error('write entries with putEntry');
    },
    delete: async () => false,
  };
}

/** ownPlain: mirrorauth's own plain entry for a Docker key, when there is one. */
function ownPlain(ctx: CredentialContext, key: string): StoredEntry | null {
  const e = ctx.store.entries.get(key);
  return e && !isNamespacedKey(e.key) ? e : null;
}

/** dockerPlan: Docker's lookup for one host, as plan steps (DOCKER_AUTH_CONFIG, then each key's route). */
export function dockerPlan(ctx: CredentialContext, host: string): PlanStep[] {
  const keys = dockerLookupKeys(host);
  const steps: PlanStep[] = [];
  if (ctx.authConfigEnv !== null) {
    const env = envSource(ctx.authConfigEnv);
    for (const key of keys)
      steps.push({
        step: 'docker-auth-config',
        key,
        detail: 'DOCKER_AUTH_CONFIG overrides everything Docker stores',
        ask: { source: env, key, found: (f) => ({ kind: 'docker-auth-config', key: f.key }) },
      });
  }
  const auths = authsSource(ctx.sys, ctx.docker);
  for (const key of keys) {
    const route = dockerRoute(ctx.docker, key);
    const step: StepName = route.kind === 'auths' ? 'auths' : route.via === 'credHelpers' ? 'cred-helper' : 'creds-store';
    const viaText = route.kind === 'auths' ? '' : route.via === 'credHelpers' ? `credHelpers[${JSON.stringify(key)}]` : 'credsStore';
    if (route.kind === 'own') {
      const own = ownPlain(ctx, key);
      const label = (): LookupSource =>
        route.via === 'credHelpers' ? { kind: 'cred-helper', helper: OWN_HELPER_NAME, key } : { kind: 'creds-store', helper: OWN_HELPER_NAME, key };
      steps.push(
        own
          ? {
              step,
              key,
              detail: `${viaText} names mirrorauth itself: answered from mirrorauth's store (${own.backend})`,
              ask: { source: storeSource(ctx, own), key, found: label },
            }
          : { step, key, detail: `${viaText} names mirrorauth itself: nothing in mirrorauth's store for it (not called: it would recurse)`, ask: null },
      );
    } else if (route.kind === 'helper') {
      const helper = route.helper;
      steps.push({
        step,
        key,
        detail: `${viaText}: docker-credential-${helper}`,
        ask: {
          source: helperSource(ctx.sys, ctx.docker, helper),
          key,
          found: () => (step === 'cred-helper' ? { kind: 'cred-helper', helper, key } : { kind: 'creds-store', helper, key }),
        },
      });
    } else {
      steps.push({ step, key, detail: `${ctx.docker.file} auths`, ask: { source: auths, key, found: (f) => ({ kind: 'auths', key: f.key }) } });
    }
  }
  return steps;
}

/** planLookup decides which sources an endpoint may use for a namespace, in order, without reading anything secret. */
export function planLookup(ctx: CredentialContext, endpoint: Endpoint, namespace: string | null, opts: LookupOptions = {}): PlanStep[] {
  // One piece: the lookup order, top to bottom exactly as docs/credential-keys.md lists it.
  const steps: PlanStep[] = [];
  // `*` names no upstream: like an unknown one, only ns=* entries can apply
  const ns = namespace === null || canonicalNamespace(namespace) === '*' ? null : canonicalNamespace(namespace);
  const mirror = ns !== null && !isSameRegistry(endpoint.host, ns);
  const host = canonicalHost(endpoint.host);

  if (opts.explicit) {
    if (canonicalHost(opts.explicit.host) === host) {
      steps.push({ step: 'explicit', key: opts.explicit.host, detail: 'credentials given for this host', ask: null, explicit: opts.explicit.credential });
      return steps;
    }
    steps.push({ step: 'explicit', key: opts.explicit.host, detail: `given for ${opts.explicit.host}, not for ${endpoint.host}`, ask: null });
  }

  if (opts.asHelper) {
    for (const key of dockerLookupKeys(endpoint.host)) {
      const own = ownPlain(ctx, key);
      if (own)
        steps.push({
          step: 'own-store',
          key,
          detail: `mirrorauth's own store (${own.backend}): the helper is the store being asked`,
          ask: { source: storeSource(ctx, own), key, found: () => ({ kind: 'own-store', key, backend: own.backend }) },
        });
    }
  }

  // With no namespace known (a bare host from a helper client), only ns=* entries can apply.
  const namespaced: Array<[StepName, string]> = mirror
    ? [
        ['namespaced', ns],
        ['namespaced-wildcard', '*'],
      ]
    : ns === null
      ? [['namespaced-wildcard', '*']]
      : [];
  for (const [step, n] of namespaced) {
    const key = formatNamespacedKey(namespacedKey(host, endpoint.path, n));
    const entry = findNamespaced(ctx.store, endpoint, n);
    steps.push(
      entry === null
        ? { step, key, detail: `no entry in ${ctx.store.file}`, ask: null }
        : {
            step,
            key: entry.key,
            detail: `${entry.backend}${entry.helper ? ` (docker-credential-${entry.helper})` : ''}`,
            ask: { source: storeSource(ctx, entry), key: entry.key, found: () => ({ kind: 'namespaced', key: entry.key, backend: entry.backend }) },
          },
    );
  }
  if (!mirror)
    steps.push({
      step: 'namespaced',
      key: null,
      detail: ns === null ? 'no upstream namespace given: only ns=* entries apply' : `${endpoint.host} is the registry itself`,
      ask: null,
    });

  steps.push(...dockerPlan(ctx, endpoint.host));

  if (mirror) {
    // a trust entry names exactly one namespace; an old ns=* entry would hand any registry's
    // credentials to whatever ?ns= a requester names, so it is never honoured
    const trustKey = formatNamespacedKey(namespacedKey(host, endpoint.path, ns));
    const trusted = ctx.store.trusted.find((t) => {
      try {
        const k = parseNamespacedKey(t);
        return k.host === host && pathCovers(k.path, endpoint.path) && k.namespace === ns;
      } catch {
        return false;
      }
    });
    if (trusted) {
      steps.push({
        step: 'trusted-upstream',
        key: trusted,
        detail: '',
        ask: null,
        then: {
          plan: dockerPlan(ctx, hubApiHost(ns)),
          wrap: (via) => ({ kind: 'trusted-upstream', upstream: ns, via }),
          hitDetail: (via) => `mirror is trusted with ${ns}'s credentials (${via.kind}${'key' in via ? ` ${via.key}` : ''})`,
          missDetail: `trusted, but Docker has no credentials for ${ns} (${dockerConfigKey(ns)})`,
        },
      });
    } else {
      steps.push({ step: 'trusted-upstream', key: trustKey, detail: `${ns}'s credentials never go to a mirror that is not marked trusted for it`, ask: null });
    }
  }
  return steps;
}

/** runPlan asks each step's source in turn and records the whole trace. */
export async function runPlan(plan: PlanStep[]): Promise<Lookup> {
  const trace: LookupStep[] = [];
  const run = async (steps: PlanStep[], t: LookupStep[]): Promise<{ credential: Credential; source: LookupSource } | null> => {
    // consecutive misses of one kind of step are folded into one trace line, as Docker tries key variants
    for (const s of steps) {
      if (s.explicit) {
        t.push({ step: s.step, key: s.key, outcome: 'hit', detail: s.detail });
        return { credential: s.explicit, source: { kind: 'explicit' } };
      }
      if (s.then) {
        const inner: LookupStep[] = [];
        const hit = await run(s.then.plan, inner);
        if (hit) {
          t.push({ step: s.step, key: s.key, outcome: 'hit', detail: s.then.hitDetail(hit.source) });
          return { credential: hit.credential, source: s.then.wrap(hit.source) };
        }
        t.push({ step: s.step, key: s.key, outcome: 'miss', detail: s.then.missDetail });
        continue;
      }
      if (s.ask === null) {
        t.push({
          step: s.step,
          key: s.key,
          outcome:
            s.step === 'namespaced' || s.step === 'namespaced-wildcard'
              ? s.key === null
                ? 'skipped'
                : 'miss'
              : s.step === 'explicit' || s.step === 'trusted-upstream'
                ? 'skipped'
                : 'miss',
          detail: s.detail,
        });
        continue;
      }
      let found: Found | null;
      try {
        found = await s.ask.source.get(s.ask.key);
      } catch (e) {
        t.push({ step: s.step, key: s.key, outcome: 'error', detail: (e as Error).message });
        throw e;
      }
      if (found === null) {
        const prev = t[t.length - 1];
        if (prev && prev.step === s.step && prev.outcome === 'miss' && s.step !== 'namespaced' && s.step !== 'namespaced-wildcard')
          prev.key = `${prev.key}, ${s.key}`;
        else t.push({ step: s.step, key: s.key, outcome: 'miss', detail: `${s.detail}: nothing for it` });
        continue;
      }
      t.push({ step: s.step, key: found.key, outcome: 'hit', detail: s.detail });
      return { credential: found.credential, source: s.ask.found(found) };
    }
    return null;
  };
  const hit = await run(plan, trace);
  if (hit) return { ...hit, trace };
  trace.push({ step: 'anonymous', key: null, outcome: 'hit', detail: 'no credentials: requests go without Authorization' });
  return { credential: EMPTY_CREDENTIAL, source: { kind: 'anonymous' }, trace };
}

/** resolveCredential answers: which credential does `endpoint`, serving `namespace`, get? */
export async function resolveCredential(ctx: CredentialContext, endpoint: Endpoint, namespace: string | null, opts: LookupOptions = {}): Promise<Lookup> {
  return runPlan(planLookup(ctx, endpoint, namespace, opts));
}

/**
 * hasCredential: does the plan for this endpoint reach a source that holds
 * something, without reading a secret? (A helper route counts: only running
 * the helper would tell, and presence checks never do.)
 */
export function hasCredential(ctx: CredentialContext, endpoint: Endpoint, namespace: string | null): boolean {
  const any = (steps: PlanStep[]): boolean =>
    steps.some((s) => s.explicit !== undefined || (s.ask !== null && s.ask.source.has(s.ask.key)) || (s.then !== undefined && any(s.then.plan)));
  return any(planLookup(ctx, endpoint, namespace));
}

/** dockerLookup is Docker's own lookup for a host (what nerdctl asks), with its trace. */
export async function dockerLookup(
  ctx: CredentialContext,
  host: string,
  trace: LookupStep[],
): Promise<{ credential: Credential; source: LookupSource } | null> {
  const r = await runPlan(dockerPlan(ctx, host));
  trace.push(...r.trace.filter((t) => t.step !== 'anonymous'));
  return r.source.kind === 'anonymous' ? null : { credential: r.credential, source: r.source };
}

/** describeSource renders a source for people (never a secret). */
export function describeSource(s: LookupSource): string {
  switch (s.kind) {
    case 'explicit':
      return 'explicit credentials';
    case 'namespaced':
      return `namespaced store ${s.key} (${s.backend})`;
    case 'own-store':
      return `mirrorauth's own store ${s.key} (${s.backend})`;
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
