/**
 * The namespaced store: credentials for (mirror endpoint, upstream namespace)
 * pairs, kept beside Docker's config in `<docker config dir>/mirrorauth/namespaced-auths.json`
 * (never inside config.json, which Docker rewrites). The index is versioned and
 * keeps fields it does not know; secrets live in the OS keychain, in Docker's
 * credsStore helper under a synthetic `.invalid` server URL, or inline.
 */
import { decodeAuth, encodeAuth } from '../auth-codec.js';
import { asWriteError, MirrorauthError, errnoCode } from '../errors.js';
import { ensureDir, writeFileAtomic } from '../system/atomic-write.js';
import type { System } from '../system/system.js';
import { jsonErrorLine, jsonErrorReason } from '../json-error.js';
import { EMPTY_CREDENTIAL, type Credential } from './credential.js';
import { OWN_HELPER_NAME } from './helper-client.js';
import { openKeychain, type Keychain } from './keychain.js';
import { formatNamespacedKey, parseNamespacedKey, syntheticServerUrl } from './keys.js';
import { keychainSource, syntheticHelperSource } from './sources.js';

export const STORE_VERSION = 1;
export const STORE_DIR = 'mirrorauth';
export const STORE_FILE = 'namespaced-auths.json';

export type Backend = 'keychain' | 'helper' | 'file';
export type StoreChoice = 'auto' | Backend;

/**
 * An entry is namespaced (`HOST[/PATH]?ns=NS`) or plain: a Docker key such as
 * `ghcr.io` or the Hub URL, held for Docker when its config names mirrorauth as
 * credsStore or credHelpers, and answered only through that route.
 */
export interface StoredEntry {
  key: string;
  username: string;
  backend: Backend;
  /** What the secret is: a password or an identity (refresh) token. */
  kind: 'password' | 'identitytoken';
  helper: string | null;
  serverURL: string | null;
  updatedAt: string | null;
}

/** isNamespacedKey tells namespaced entries from plain (Docker-keyed) ones. */
export function isNamespacedKey(key: string): boolean {
  return key.includes('?ns=');
}

export interface NamespacedStore {
  file: string;
  exists: boolean;
  raw: Record<string, unknown>;
  entries: Map<string, StoredEntry>;
  /** Mirror keys allowed to receive their upstream's Docker credentials. */
  trusted: string[];
  /** Entries that cannot be used (a key that is not canonical, an unknown backend): skipped, reported by list and doctor. */
  skipped: Array<{ key: string; why: string }>;
}

export function storeFile(dockerDir: string): string {
  return `${dockerDir}/${STORE_DIR}/${STORE_FILE}`;
}

function invalid(file: string, what: string): MirrorauthError {
  return new MirrorauthError('CONFIG_INVALID', `${file}: ${what}`, {
    file,
    hint: `fix or move the file by hand; mirrorauth does not rewrite a store it cannot read`,
  });
}

/** parseStore reads the index; unknown fields are kept in `raw`. */
export function parseStore(text: string, file: string): NamespacedStore {
  // One piece: the store format, field by field.
  let raw: unknown;
  try {
    raw = text.trim() === '' ? {} : JSON.parse(text);
  } catch (e) {
    const line = jsonErrorLine(text) ?? undefined;
    throw new MirrorauthError('CONFIG_INVALID', `${file}${line ? `:${line}` : ''}: not valid JSON (${jsonErrorReason(e)})`, {
      file,
      ...(line ? { line } : {}),
      hint: 'fix or move the file by hand; mirrorauth does not rewrite a store it cannot read',
    });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(file, 'the top level must be a JSON object');
  const doc = raw as Record<string, unknown>;
  if (doc.version !== undefined && doc.version !== STORE_VERSION) {
    throw new MirrorauthError(
      'CONFIG_INVALID',
      `${file}: store version ${String(doc.version)} is not understood by this mirrorauth (it reads version ${STORE_VERSION})`,
      {
        file,
        hint: 'use the mirrorauth version that wrote it, or upgrade mirrorauth',
      },
    );
  }
  const entries = new Map<string, StoredEntry>();
  const skipped: NamespacedStore['skipped'] = [];
  const auths = doc.auths ?? {};
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) throw invalid(file, '"auths" must be an object');
  // one unusable entry is skipped and reported; it never makes the other entries unreadable
  for (const [key, value] of Object.entries(auths as Record<string, unknown>)) {
    if (typeof value !== 'object' || value === null) {
      skipped.push({ key, why: 'the entry is not an object' });
      continue;
    }
    const v = value as Record<string, unknown>;
    const backend = v.backend;
    if (backend !== 'keychain' && backend !== 'helper' && backend !== 'file') {
      skipped.push({ key, why: 'its backend is not keychain, helper or file' });
      continue;
    }
    if (key.includes('?ns=')) {
      try {
        const k = parseNamespacedKey(key);
        if (formatNamespacedKey(k) !== key) throw new Error(`it is not canonical (mirrorauth writes it as ${formatNamespacedKey(k)})`);
      } catch (e) {
        skipped.push({ key, why: `not a usable namespaced key: ${(e as Error).message}` });
        continue;
      }
    }
    entries.set(key, {
      key,
      username: typeof v.username === 'string' ? v.username : '',
      backend,
      kind: v.kind === 'identitytoken' ? 'identitytoken' : 'password',
      helper: typeof v.helper === 'string' ? v.helper : null,
      serverURL: typeof v.serverURL === 'string' ? v.serverURL : null,
      updatedAt: typeof v.updatedAt === 'string' ? v.updatedAt : null,
    });
  }
  const trusted = Array.isArray(doc.trusted) ? doc.trusted.filter((t): t is string => typeof t === 'string') : [];
  return { file, exists: true, raw: doc, entries, trusted, skipped };
}

/** loadStore reads the index; a missing file is an empty store. */
export async function loadStore(sys: System, dockerDir: string): Promise<NamespacedStore> {
  const file = storeFile(dockerDir);
  try {
    return parseStore(await sys.fs.readText(file), file);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return { file, exists: false, raw: {}, entries: new Map(), trusted: [], skipped: [] };
    if (e instanceof MirrorauthError) throw e;
    throw new MirrorauthError('IO', `cannot read ${file}: ${errnoCode(e) ?? (e as Error).message}`, { file, cause: e });
  }
}

/**
 * withStoreLock runs `fn` holding the store's cross-process lock, with the
 * index as it is on disk now; `write` replaces the index atomically (0600 in a
 * 0700 directory). Secrets are written inside the same lock, so a secret and
 * its index record always change together.
 */
export async function withStoreLock<T>(
  sys: System,
  dockerDir: string,
  fn: (current: NamespacedStore, write: (raw: Record<string, unknown>) => Promise<void>) => Promise<T>,
): Promise<T> {
  const file = storeFile(dockerDir);
  let release: () => Promise<void>;
  try {
    await ensureDir(sys, `${dockerDir}/${STORE_DIR}`);
    release = await sys.lock(file);
  } catch (e) {
    throw asWriteError(e, file);
  }
  try {
    const current = await loadStore(sys, dockerDir);
    if (typeof current.raw.auths !== 'object' || current.raw.auths === null) current.raw.auths = {};
    return await fn(current, async (raw) => {
      raw.version = STORE_VERSION;
      if (typeof raw.auths !== 'object' || raw.auths === null) raw.auths = {};
      try {
        await writeFileAtomic(sys, file, `${JSON.stringify(raw, null, 2)}\n`, { mode: 0o600 });
      } catch (e) {
        throw asWriteError(e, file);
      }
    });
  } finally {
    await release().catch(() => undefined);
  }
}

/** updateStore edits the index under the lock (re-read, mutate, atomic write), so concurrent writers lose nothing. */
export async function updateStore(sys: System, dockerDir: string, mutate: (raw: Record<string, unknown>) => void): Promise<void> {
  await withStoreLock(sys, dockerDir, async (current, write) => {
    const raw = current.raw;
    if (typeof raw.auths !== 'object' || raw.auths === null) raw.auths = {};
    mutate(raw);
    await write(raw);
  });
}

/** Everything a secret backend needs, opened lazily once per command. */
export interface SecretBackends {
  sys: System;
  /** Docker's credsStore (the helper backend), if any. */
  credsStore: string | null;
  /** The keychain, probed (for choosing where to write) or not (for reading, where the real call's error tells). */
  keychain(probe?: boolean): Promise<{ ok: true; keychain: Keychain } | { ok: false; code: 'KEYCHAIN_UNAVAILABLE' | 'KEYCHAIN_LOCKED'; message: string }>;
}

export function secretBackends(sys: System, credsStore: string | null): SecretBackends {
  const opened = new Map<boolean, ReturnType<typeof openKeychain>>();
  return {
    sys,
    credsStore,
    keychain: (probe = true) => {
      let k = opened.get(probe);
      if (!k) {
        k = openKeychain(sys, probe);
        opened.set(probe, k);
      }
      return k;
    },
  };
}

export interface PutResult {
  backend: Backend;
  helper: string | null;
  /** The secret is readable on disk (the store file): every writer warns about it. */
  plaintext: boolean;
  /** Why a backend was passed over (for the user), in order. */
  notes: string[];
}

/**
 * putSecret stores the secret of `credential` for `key` in the chosen
 * backend (auto: keychain, then Docker's credsStore helper, then the file) and
 * returns the index fields to record.
 */
export async function putSecret(
  b: SecretBackends,
  key: string,
  credential: Credential,
  choice: StoreChoice,
): Promise<PutResult & { entry: Record<string, unknown> }> {
  const notes: string[] = [];
  const kind = credential.identityToken !== '' ? 'identitytoken' : 'password';
  const base = { username: credential.username, kind, updatedAt: new Date(b.sys.now()).toISOString() };

  if (choice === 'auto' || choice === 'keychain') {
    const k = await b.keychain();
    if (k.ok) {
      try {
        await keychainSource(async () => k).put(key, credential);
        return { backend: 'keychain', helper: null, plaintext: false, notes, entry: { ...base, backend: 'keychain' } };
      } catch (e) {
        if (choice === 'keychain')
          throw new MirrorauthError('KEYCHAIN_UNAVAILABLE', `the keychain refused to store the secret: ${(e as Error).message}`, {
            hint: 'unlock the keyring, or choose --store helper|file',
          });
        notes.push(`keychain refused the secret (${(e as Error).message})`);
      }
    } else {
      if (choice === 'keychain')
        throw new MirrorauthError(k.code, `the OS keychain cannot be used: ${k.message}`, {
          hint: 'start a Secret Service (gnome-keyring) in this session, or choose --store helper|file',
        });
      notes.push(`keychain ${k.code === 'KEYCHAIN_LOCKED' ? 'locked' : 'unavailable'}: ${k.message}`);
    }
  }
  if (choice === 'auto' || choice === 'helper') {
    const helper = b.credsStore;
    if (helper !== null && helper !== OWN_HELPER_NAME) {
      const serverURL = syntheticServerUrl(key);
      await syntheticHelperSource(b.sys, helper).put(serverURL, credential);
      return { backend: 'helper', helper, plaintext: false, notes, entry: { ...base, backend: 'helper', helper, serverURL } };
    }
    if (choice === 'helper') {
      throw new MirrorauthError(
        'USAGE',
        helper === OWN_HELPER_NAME
          ? "Docker's credsStore is mirrorauth itself, which cannot hold its own secrets"
          : "Docker's config.json names no credsStore helper",
        {
          hint: 'set "credsStore" (e.g. "pass" or "secretservice") in Docker\'s config.json, or choose --store keychain|file',
        },
      );
    }
    notes.push(helper === null ? "no credsStore helper in Docker's config.json" : 'credsStore is mirrorauth itself');
  }
  const inline = kind === 'identitytoken' ? { identitytoken: credential.identityToken } : { auth: encodeAuth(credential.username, credential.password) };
  return { backend: 'file', helper: null, plaintext: true, notes, entry: { ...base, backend: 'file', ...inline } };
}

/** getSecret reads the credential of one index entry from its backend. */
export async function getSecret(b: SecretBackends, store: NamespacedStore, entry: StoredEntry): Promise<Credential> {
  // the index holds the user name and what the secret is; the backend's Source holds the secret
  const shaped = (secret: string): Credential =>
    entry.kind === 'identitytoken'
      ? { ...EMPTY_CREDENTIAL, username: entry.username, identityToken: secret }
      : { ...EMPTY_CREDENTIAL, username: entry.username, password: secret };
  switch (entry.backend) {
    case 'keychain': {
      let found;
      try {
        found = await keychainSource(() => b.keychain(false)).get(entry.key);
      } catch (e) {
        const err = e as MirrorauthError;
        throw new MirrorauthError(
          err.code,
          `the secret for ${entry.key} is in the OS keychain, which cannot be used: ${err.message.replace(/^the OS keychain cannot be used: /, '')}`,
          {
            hint: 'start or unlock the Secret Service (gnome-keyring) for this session',
          },
        );
      }
      return found === null ? EMPTY_CREDENTIAL : shaped(found.credential.password);
    }
    case 'helper': {
      if (entry.helper === null || entry.serverURL === null) throw invalid(store.file, `${entry.key}: a helper entry needs "helper" and "serverURL"`);
      const found = await syntheticHelperSource(b.sys, entry.helper).get(entry.serverURL);
      if (found === null) return EMPTY_CREDENTIAL;
      const c = found.credential;
      return c.identityToken !== '' ? { ...c, username: entry.username } : c;
    }
    case 'file': {
      const v = (store.raw.auths as Record<string, Record<string, unknown>>)[entry.key] ?? {};
      if (typeof v.identitytoken === 'string' && v.identitytoken !== '') return shaped(v.identitytoken);
      if (typeof v.auth === 'string' && v.auth !== '') {
        const d = decodeAuth(v.auth);
        if ('error' in d) throw invalid(store.file, `${entry.key}: "auth" ${d.error}`);
        return { ...EMPTY_CREDENTIAL, username: d.username, password: d.password };
      }
      return EMPTY_CREDENTIAL;
    }
    default: {
      const never: never = entry.backend;
      return never;
    }
  }
}

/** deleteSecret removes the secret of an entry from its backend (best effort for missing ones). */
export async function deleteSecret(b: SecretBackends, entry: StoredEntry): Promise<void> {
  if (entry.backend === 'keychain') {
    await keychainSource(() => b.keychain()).delete(entry.key);
  } else if (entry.backend === 'helper' && entry.helper !== null && entry.serverURL !== null) {
    await syntheticHelperSource(b.sys, entry.helper).delete(entry.serverURL);
  }
}
