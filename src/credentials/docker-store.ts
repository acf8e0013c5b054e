/**
 * Plain (non-namespaced) logins, stored exactly where `docker login` stores
 * them: credHelpers[key] > credsStore > config.json auths (plaintext, with
 * Docker's warning), under Docker's key for the server. When that helper is
 * mirrorauth itself, the entry goes to mirrorauth's own store, which is what
 * docker-credential-mirrorauth answers from.
 */
import { isDockerHub } from '../hosts/docker-hub.js';
import { dockerAuthFields, helperSecretOf, type Credential } from './credential.js';
import { updateDockerConfig } from './docker-config.js';
import { putEntry, removeEntry } from './entries.js';
import { helperClient, OWN_HELPER_NAME } from './helper-client.js';
import { convertToHostname, dockerConfigKey, DOCKER_HUB_KEY } from './keys.js';
import type { CredentialContext } from './resolve.js';

/** dockerServerKey is the key `docker login SERVER` uses. */
export function dockerServerKey(server: string): string {
  const s = server.trim();
  if (s === '' || isDockerHub(s) || s === DOCKER_HUB_KEY) return DOCKER_HUB_KEY;
  return dockerConfigKey(convertToHostname(s));
}

export interface DockerStoreResult {
  key: string;
  where: { kind: 'helper'; helper: string } | { kind: 'file'; file: string } | { kind: 'own'; backend: string };
}

/** storeDockerLogin writes a credential the way `docker login` would. */
export async function storeDockerLogin(ctx: CredentialContext, key: string, credential: Credential): Promise<DockerStoreResult> {
  const { sys, docker } = ctx;
  const helper = docker.credHelpers.get(key) ?? docker.credsStore;
  if (helper === OWN_HELPER_NAME) {
    const put = await putEntry(ctx, key, credential, 'auto');
    return { key, where: { kind: 'own', backend: put.backend } };
  }
  if (helper !== null && helper !== undefined) {
    const { username, secret } = helperSecretOf(credential);
    await helperClient(sys, helper).store(key, username, secret);
    // docker leaves an empty marker entry in auths when a helper holds the secret
    await updateDockerConfig(sys, docker.dir, (raw) => {
      const auths = (typeof raw.auths === 'object' && raw.auths !== null ? raw.auths : (raw.auths = {})) as Record<string, unknown>;
      auths[key] = {};
    });
    return { key, where: { kind: 'helper', helper } };
  }
  await updateDockerConfig(sys, docker.dir, (raw) => {
    const auths = (typeof raw.auths === 'object' && raw.auths !== null ? raw.auths : (raw.auths = {})) as Record<string, unknown>;
    const previous = typeof auths[key] === 'object' && auths[key] !== null ? (auths[key] as Record<string, unknown>) : {};
    const kept = Object.fromEntries(Object.entries(previous).filter(([k]) => !['auth', 'username', 'password', 'identitytoken', 'registrytoken'].includes(k)));
    auths[key] = { ...kept, ...dockerAuthFields(credential) };
  });
  return { key, where: { kind: 'file', file: docker.file } };
}

/** eraseDockerLogin removes what `docker logout SERVER` removes (and mirrorauth's own entry); it returns the keys erased. */
export async function eraseDockerLogin(ctx: CredentialContext, server: string): Promise<string[]> {
  const { sys, docker } = ctx;
  const key = dockerServerKey(server);
  if (await removeEntry(ctx, key)) return [key];
  const host = convertToHostname(key);
  const candidates = [...new Set([key, host, `http://${host}`, `https://${host}`])];
  const erased: string[] = [];
  for (const k of candidates) {
    const helper = docker.credHelpers.get(k) ?? docker.credsStore;
    if (helper !== null && helper !== undefined && helper !== OWN_HELPER_NAME && (docker.auths.has(k) || k === key)) {
      const client = helperClient(sys, helper);
      if ((await client.get(k)) !== null) {
        await client.erase(k);
        erased.push(k);
      }
    }
    if (docker.auths.has(k) && !erased.includes(k)) erased.push(k);
  }
  if (erased.length > 0) {
    await updateDockerConfig(sys, docker.dir, (raw) => {
      const auths = raw.auths as Record<string, unknown> | undefined;
      if (auths) for (const k of erased) delete auths[k];
    });
  }
  return erased;
}
