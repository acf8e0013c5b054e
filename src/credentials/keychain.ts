/**
 * The OS keychain through @napi-rs/keyring, loaded lazily with require (an ESM
 * import of the binding costs ~60 ms more). On Linux entries are pinned to the
 * Secret Service: the library's silent fallback to the kernel keyring is not
 * wanted. Unreachable (no D-Bus, no Secret Service) and locked are told apart.
 */
import { nodeRequire } from '../system/node-require.js';
import type { System } from '../system/system.js';
import { lookupSecret } from './secret-service.js';

export const KEYCHAIN_SERVICE = 'mirrorauth';

export interface Keychain {
  get(account: string): Promise<string | null>;
  set(account: string, secret: string): Promise<void>;
  delete(account: string): Promise<boolean>;
}

export type KeychainOpen = { ok: true; keychain: Keychain } | { ok: false; code: 'KEYCHAIN_UNAVAILABLE' | 'KEYCHAIN_LOCKED'; message: string };

interface KeyringModule {
  AsyncEntry: new (
    service: string,
    user: string,
    options?: { linux?: { store?: 'secret-service' | 'keyutils' } },
  ) => {
    getPassword(signal?: AbortSignal): Promise<string | null>;
    setPassword(password: string, signal?: AbortSignal): Promise<void>;
    deleteCredential(signal?: AbortSignal): Promise<boolean>;
  };
}

const OP_TIMEOUT_MS = 3_000;

/** classify maps the binding's error texts to unreachable or locked. */
export function classifyKeychainError(message: string): 'KEYCHAIN_UNAVAILABLE' | 'KEYCHAIN_LOCKED' {
  return /unlock prompt was dismissed|IsLocked|locked/i.test(message) ? 'KEYCHAIN_LOCKED' : 'KEYCHAIN_UNAVAILABLE';
}

/**
 * openKeychain prepares the keychain. It returns within milliseconds when no
 * session bus is configured and never waits longer than a few seconds. With
 * `probe` it also makes one round trip to prove the Secret Service answers
 * (each entry costs a D-Bus session, so read paths skip the probe and
 * classify the error of the real call instead).
 */
export async function openKeychain(sys: System, probe = true): Promise<KeychainOpen> {
  if (sys.platform === 'linux' && !sys.env.DBUS_SESSION_BUS_ADDRESS) {
    return { ok: false, code: 'KEYCHAIN_UNAVAILABLE', message: 'no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set), so no Secret Service' };
  }
  let mod: KeyringModule | undefined;
  const binding = (): KeyringModule => {
    try {
      return (mod ??= nodeRequire('@napi-rs/keyring') as KeyringModule);
    } catch (e) {
      throw new Error(`the keychain binding cannot be loaded: ${(e as Error).message}`);
    }
  };
  // probing, writing and deleting go through the binding: load it now, so a missing one is told at open
  if (probe) {
    try {
      binding();
    } catch (e) {
      return { ok: false, code: 'KEYCHAIN_UNAVAILABLE', message: (e as Error).message };
    }
  }
  const options = sys.platform === 'linux' ? { linux: { store: 'secret-service' as const } } : undefined;
  const entry = (account: string) => new (binding().AsyncEntry)(KEYCHAIN_SERVICE, account, options);
  const withTimeout = async <T>(f: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), OP_TIMEOUT_MS);
    try {
      return await f(ctl.signal);
    } finally {
      clearTimeout(timer);
    }
  };
  const keychain: Keychain = {
    get: async (account) => {
      // the helpers' hot path: read over D-Bus directly when that is the plain case (secret-service.ts)
      if (sys.platform === 'linux' && sys.uid !== undefined && sys.env.MIRRORAUTH_KEYCHAIN_DIRECT !== '0') {
        const r = await lookupSecret({ address: sys.env.DBUS_SESSION_BUS_ADDRESS, uid: sys.uid, service: KEYCHAIN_SERVICE, account, timeoutMs: 1000 });
        if (r !== 'fallback') return r.found ? r.secret : null;
      }
      return withTimeout((s) => entry(account).getPassword(s));
    },
    set: (account, secret) => withTimeout((s) => entry(account).setPassword(secret, s)),
    delete: (account) => withTimeout((s) => entry(account).deleteCredential(s)),
  };
  if (!probe) return { ok: true, keychain };
  try {
    await keychain.get('.probe');
  } catch (e) {
    const message = (e as Error).message;
    return { ok: false, code: classifyKeychainError(message), message };
  }
  return { ok: true, keychain };
}
