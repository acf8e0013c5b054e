/**
 * Where a secret can live, behind one interface, and the one router that
 * decides which of Docker's sources a key belongs to.
 *
 * - `Source`: get / has (presence without reading a secret) / put / delete.
 *   Docker's legacy keys (`https://host:port/v1/`) are matched inside get and
 *   has, so no caller can forget them (oras-go does the same in its file store).
 * - `dockerRoute(config, key)`: docker/cli's getConfiguredCredentialStore:
 *   credHelpers[key], else credsStore, else the `auths` file. A route to
 *   `mirrorauth` itself is answered from mirrorauth's own store, never by
 *   running the helper (it would call itself).
 * - `plaintext`: whether a source keeps secrets readable on disk; writers warn
 *   from it, and doctor reports every plaintext secret whatever wrote it.
 */
import { MirrorauthError } from '../errors.js';
import { EMPTY_CREDENTIAL, credentialFromHelper, dockerAuthFields, helperSecretOf, isEmptyCredential, type Credential } from './credential.js';
import { classifyKeychainError, type Keychain, type KeychainOpen } from './keychain.js';
import { updateDockerConfig, type AuthEntry, type DockerConfig } from './docker-config.js';
import { helperClient, OWN_HELPER_NAME } from './helper-client.js';
import { convertToHostname } from './keys.js';
import type { System } from '../system/system.js';

export interface Found {
  /** The key the secret was found under (a legacy key when that matched). */
  key: string;
  credential: Credential;
}

export interface Source {
  /** For traces and messages: `config.json auths`, `docker-credential-pass`, … */
  readonly label: string;
  /** Secrets at rest are readable by anyone who can read the file. */
  readonly plaintext: boolean;
  get(key: string): Promise<Found | null>;
  /** Is something stored for `key`? Never reads a secret (a helper route counts as configured). */
  has(key: string): boolean;
  put(key: string, credential: Credential): Promise<void>;
  /** Removes `key` and its legacy forms; true when something was removed. */
  delete(key: string): Promise<boolean>;
}

export type DockerRoute =
  { kind: 'helper'; helper: string; via: 'credHelpers' | 'credsStore' } | { kind: 'own'; via: 'credHelpers' | 'credsStore' } | { kind: 'auths' };

/** dockerRoute is the only place that decides which Docker source a key belongs to. */
export function dockerRoute(config: DockerConfig, key: string): DockerRoute {
  const named = config.credHelpers.get(key);
  const helper = named ?? config.credsStore;
  if (helper === null || helper === undefined || helper === '') return { kind: 'auths' };
  const via = named !== undefined ? 'credHelpers' : 'credsStore';
  return helper === OWN_HELPER_NAME ? { kind: 'own', via } : { kind: 'helper', helper, via };
}

/**
 * legacyMatch finds `key` in a map of Docker keys: the key itself, else a
 * legacy form whose host (docker's ConvertToHostname: scheme and path dropped,
 * the port kept as written) is the key.
 */
export function legacyMatch<T>(entries: Map<string, T>, key: string): [string, T] | null {
  const exact = entries.get(key);
  if (exact !== undefined) return [key, exact];
  for (const [k, v] of entries) if (k !== key && k.includes('://') && convertToHostname(k) === key) return [k, v];
  return null;
}

const CREDENTIAL_FIELDS = ['auth', 'username', 'password', 'identitytoken', 'registrytoken'];

/** authsSource: config.json `auths`, plaintext. put keeps fields another tool wrote into the entry. */
export function authsSource(sys: System, config: DockerConfig): Source {
  const live = (): Map<string, AuthEntry> => config.auths;
  return {
    label: `${config.file} auths`,
    plaintext: true,
    async get(key) {
      const hit = legacyMatch(live(), key);
      return hit && !isEmptyCredential(hit[1].credential) ? { key: hit[0], credential: hit[1].credential } : null;
    },
    has: (key) => {
      const hit = legacyMatch(live(), key);
      return hit !== null && !isEmptyCredential(hit[1].credential);
    },
    async put(key, credential) {
      await updateDockerConfig(sys, config.dir, (raw) => {
        const auths = (typeof raw.auths === 'object' && raw.auths !== null ? raw.auths : (raw.auths = {})) as Record<string, unknown>;
        const previous = typeof auths[key] === 'object' && auths[key] !== null ? (auths[key] as Record<string, unknown>) : {};
        const kept = Object.fromEntries(Object.entries(previous).filter(([k]) => !CREDENTIAL_FIELDS.includes(k)));
        auths[key] = { ...kept, ...dockerAuthFields(credential) };
      });
    },
    async delete(key) {
      const doomed = [...live().keys()].filter((k) => k === key || (k.includes('://') && convertToHostname(k) === key));
      if (doomed.length === 0) return false;
      await updateDockerConfig(sys, config.dir, (raw) => {
        const auths = raw.auths as Record<string, unknown> | undefined;
        if (auths) for (const k of doomed) delete auths[k];
      });
      return true;
    },
  };
}

/** envSource: $DOCKER_AUTH_CONFIG, read-only; it overrides everything Docker has stored. */
export function envSource(entries: Map<string, AuthEntry>): Source {
  return {
    label: 'DOCKER_AUTH_CONFIG',
    plaintext: false,
    async get(key) {
      const hit = legacyMatch(entries, key);
      return hit && !isEmptyCredential(hit[1].credential) ? { key: hit[0], credential: hit[1].credential } : null;
    },
    has: (key) => legacyMatch(entries, key) !== null,
    put: async () => {
      throw new Error('DOCKER_AUTH_CONFIG is read-only');
    },
    delete: async () => false,
  };
}

/**
 * helperSource: a docker-credential-NAME helper. `has` never runs the helper:
 * a key is configured when credHelpers names it or docker left its marker
 * entry in `auths` at login (put leaves that marker too).
 */
export function helperSource(sys: System, config: DockerConfig, name: string): Source {
  const client = () => helperClient(sys, name);
  return {
    label: `docker-credential-${name}`,
    plaintext: false,
    async get(key) {
      const answer = await client().get(key);
      return answer === null ? null : { key, credential: credentialFromHelper(answer.username, answer.secret) };
    },
    // configured for this key: its own credHelpers entry, or docker's marker in auths from a login
    has: (key) => config.credHelpers.has(key) || legacyMatch(config.auths, key) !== null,
    async put(key, credential) {
      const { username, secret } = helperSecretOf(credential);
      await client().store(key, username, secret);
      await updateDockerConfig(sys, config.dir, (raw) => {
        const auths = (typeof raw.auths === 'object' && raw.auths !== null ? raw.auths : (raw.auths = {})) as Record<string, unknown>;
        auths[key] = {};
      });
    },
    async delete(key) {
      const c = client();
      const had = (await c.get(key)) !== null;
      if (had) await c.erase(key);
      return had;
    },
  };
}

/**
 * keychainSource: the OS keychain (service `mirrorauth`, account = the key).
 * It holds only the secret; the user name and its kind live in the store's
 * index, which getSecret combines with it. `open` tells unreachable from locked.
 */
export function keychainSource(open: () => Promise<KeychainOpen>): Source {
  const ready = async (): Promise<Keychain> => {
    const k = await open();
    if (!k.ok)
      throw new MirrorauthError(k.code, `the OS keychain cannot be used: ${k.message}`, {
        hint: 'start or unlock the Secret Service (gnome-keyring) for this session',
      });
    return k.keychain;
  };
  const classified = (e: unknown): MirrorauthError =>
    e instanceof MirrorauthError
      ? e
      : new MirrorauthError(classifyKeychainError((e as Error).message), `the OS keychain cannot be used: ${(e as Error).message}`, {
          hint: 'start or unlock the Secret Service (gnome-keyring) for this session',
        });
  return {
    label: 'the OS keychain',
    plaintext: false,
    async get(key) {
      try {
        const secret = await (await ready()).get(key);
        return secret === null ? null : { key, credential: { ...EMPTY_CREDENTIAL, password: secret } };
      } catch (e) {
        throw classified(e);
      }
    },
    has: () => true,
    async put(key, credential) {
      await (await ready()).set(key, helperSecretOf(credential).secret);
    },
    async delete(key) {
      return (await ready()).delete(key);
    },
  };
}

/**
 * syntheticHelperSource: Docker's credsStore helper holding a namespaced secret
 * under a synthetic `https://<hash>.mirrorauth.invalid` server URL (never a
 * marker in config.json: Docker must not treat it as a login).
 */
export function syntheticHelperSource(sys: System, name: string): Source {
  return {
    label: `docker-credential-${name}`,
    plaintext: false,
    async get(serverURL) {
      const answer = await helperClient(sys, name).get(serverURL);
      return answer === null ? null : { key: serverURL, credential: credentialFromHelper(answer.username, answer.secret) };
    },
    has: () => true,
    async put(serverURL, credential) {
      const { username, secret } = helperSecretOf(credential);
      await helperClient(sys, name).store(serverURL, username, secret);
    },
    async delete(serverURL) {
      await helperClient(sys, name).erase(serverURL);
      return true;
    },
  };
}
