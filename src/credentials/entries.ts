/**
 * Writing and removing entries of mirrorauth's store (namespaced or plain).
 * The secret and its index record change together under the store's lock: two
 * concurrent logins of one key as different users leave one of them whole,
 * never a user name from one and a password from the other, and a login racing
 * a logout never orphans a secret. A re-login that lands in another backend (or
 * another helper key) deletes the old secret; fields another version wrote into
 * the entry are kept. Used by login, logout, import and the helper protocol.
 */
import type { Credential } from './credential.js';
import { deleteSecret, putSecret, withStoreLock, type PutResult, type StoreChoice, type StoredEntry } from './namespaced-store.js';
import type { CredentialContext } from './resolve.js';

/** The index fields mirrorauth itself writes; anything else in an entry belongs to someone else and is kept. */
const OWN_FIELDS = ['username', 'backend', 'kind', 'helper', 'serverURL', 'updatedAt', 'auth', 'identitytoken'];

function samePlace(previous: StoredEntry, put: PutResult & { entry: Record<string, unknown> }): boolean {
  return previous.backend === put.backend && previous.helper === put.helper && previous.serverURL === ((put.entry.serverURL as string | undefined) ?? null);
}

/**
 * plaintextWarning is what every writer says when a secret lands in a file
 * anyone with read access can use (the policy lives with the file backend;
 * login, the helper's store, import and refresh tokens all say the same).
 */
export function plaintextWarning(file: string, what: 'password' | 'refresh token' | 'secret' = 'secret', dockerFile = false): string {
  const fix = dockerFile
    ? 'Configure a credential helper (credsStore) to avoid it.'
    : "Log in where the OS keychain is reachable, or set a credsStore helper in Docker's config.json, to avoid it.";
  return `WARNING! Your ${what} is stored unencrypted in ${file}.\n${fix}`;
}

/** putEntry stores `credential` under `key` and records it in the index, atomically with respect to other writers. */
export async function putEntry(
  ctx: CredentialContext,
  key: string,
  credential: Credential,
  choice: StoreChoice,
  extra: Record<string, unknown> = {},
): Promise<PutResult> {
  return withStoreLock(ctx.sys, ctx.dockerDir, async (current, write) => {
    const previous = current.entries.get(key);
    const put = await putSecret(ctx.backends, key, credential, choice);
    if (previous && !samePlace(previous, put)) {
      // the old secret would outlive every later logout: remove it
      await deleteSecret(ctx.backends, previous).catch((e: unknown) =>
        put.notes.push(`the previous secret (${previous.backend}) could not be removed: ${(e as Error).message}`),
      );
    }
    const auths = current.raw.auths as Record<string, unknown>;
    const old = typeof auths[key] === 'object' && auths[key] !== null ? (auths[key] as Record<string, unknown>) : {};
    const kept = Object.fromEntries(Object.entries(old).filter(([k]) => !OWN_FIELDS.includes(k)));
    auths[key] = { ...kept, ...put.entry, ...extra };
    await write(current.raw);
    return put;
  });
}

/** removeEntry deletes an entry's secret and its index record, as they are now on disk; false when there was none. */
export async function removeEntry(ctx: CredentialContext, key: string): Promise<boolean> {
  return withStoreLock(ctx.sys, ctx.dockerDir, async (current, write) => {
    const entry = current.entries.get(key);
    if (!entry) return false;
    await deleteSecret(ctx.backends, entry);
    delete (current.raw.auths as Record<string, unknown>)[key];
    await write(current.raw);
    return true;
  });
}
