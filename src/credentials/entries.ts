/**
 * Writing and removing entries of mirrorauth's store (namespaced or plain):
 * the secret to its backend first, then the index under the lock. Used by
 * login, logout, import and the docker-credential helper alike.
 */
import type { Credential } from './credential.js';
import { deleteSecret, putSecret, updateStore, type PutResult, type StoreChoice } from './namespaced-store.js';
import type { CredentialContext } from './resolve.js';

/** putEntry stores `credential` under `key` and records it in the index. */
export async function putEntry(ctx: CredentialContext, key: string, credential: Credential, choice: StoreChoice, extra: Record<string, unknown> = {}): Promise<PutResult> {
  const put = await putSecret(ctx.backends, key, credential, choice);
  await updateStore(ctx.sys, ctx.dockerDir, (raw) => {
    (raw.auths as Record<string, unknown>)[key] = { ...put.entry, ...extra };
  });
  return put;
}

/** removeEntry deletes an entry's secret and its index record; false when there was none. */
export async function removeEntry(ctx: CredentialContext, key: string): Promise<boolean> {
  const entry = ctx.store.entries.get(key);
  if (!entry) return false;
  await deleteSecret(ctx.backends, entry);
  await updateStore(ctx.sys, ctx.dockerDir, (raw) => {
    delete (raw.auths as Record<string, unknown>)[key];
  });
  return true;
}
