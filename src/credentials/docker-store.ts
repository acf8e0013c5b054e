/**
 * Plain (non-namespaced) logins, stored exactly where `docker login` stores
 * them, by `dockerRoute`: credHelpers[key] > credsStore > config.json auths
 * (plaintext). When the route is mirrorauth itself, the entry goes to
 * mirrorauth's own store, which is what docker-credential-mirrorauth answers
 * from. A logout erases what `docker logout` erases (the helper the key routes
 * to and the file, for the key and its legacy forms) and mirrorauth's own entry.
 */
import { isDockerHub } from '../hosts/docker-hub.js';
import type { Credential } from './credential.js';
import { putEntry, removeEntry } from './entries.js';
import { convertToHostname, dockerConfigKey, DOCKER_HUB_KEY } from './keys.js';
import type { CredentialContext } from './resolve.js';
import { authsSource, dockerRoute, helperSource } from './sources.js';

/** dockerServerKey is the key `docker login SERVER` uses. */
export function dockerServerKey(server: string): string {
  const s = server.trim();
  if (s === '' || isDockerHub(s) || s === DOCKER_HUB_KEY) return DOCKER_HUB_KEY;
  return dockerConfigKey(convertToHostname(s));
}

export interface DockerStoreResult {
  key: string;
  where: { kind: 'helper'; helper: string } | { kind: 'file'; file: string } | { kind: 'own'; backend: string };
  /** The secret is readable on disk. */
  plaintext: boolean;
}

/** storeDockerLogin writes a credential the way `docker login` would. */
export async function storeDockerLogin(ctx: CredentialContext, key: string, credential: Credential): Promise<DockerStoreResult> {
  const route = dockerRoute(ctx.docker, key);
  switch (route.kind) {
    case 'own': {
      const put = await putEntry(ctx, key, credential, 'auto');
      return { key, where: { kind: 'own', backend: put.backend }, plaintext: put.plaintext };
    }
    case 'helper':
      await helperSource(ctx.sys, ctx.docker, route.helper).put(key, credential);
      return { key, where: { kind: 'helper', helper: route.helper }, plaintext: false };
    case 'auths': {
      const file = authsSource(ctx.sys, ctx.docker);
      await file.put(key, credential);
      return { key, where: { kind: 'file', file: ctx.docker.file }, plaintext: file.plaintext };
    }
    default: {
      const never: never = route;
      return never;
    }
  }
}

/** eraseDockerLogin removes what `docker logout SERVER` removes, and mirrorauth's own entry; it returns where it erased. */
export async function eraseDockerLogin(ctx: CredentialContext, server: string): Promise<string[]> {
  const key = dockerServerKey(server);
  const erased: string[] = [];
  if (await removeEntry(ctx, key)) erased.push(`${key} (mirrorauth's store)`);
  const host = convertToHostname(key);
  const candidates = key === DOCKER_HUB_KEY ? [key] : [...new Set([key, host, `http://${host}`, `https://${host}`])];
  for (const k of candidates) {
    const route = dockerRoute(ctx.docker, k);
    // docker erases from the helper for the key it was given, and for legacy keys it finds in the file
    if (route.kind === 'helper' && (k === key || ctx.docker.auths.has(k)) && (await helperSource(ctx.sys, ctx.docker, route.helper).delete(k)))
      erased.push(`${k} (docker-credential-${route.helper})`);
  }
  if (await authsSource(ctx.sys, ctx.docker).delete(key)) erased.push(`${key} (${ctx.docker.file})`);
  return erased;
}
