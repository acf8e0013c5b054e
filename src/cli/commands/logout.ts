/** `mirrorauth logout [SERVER] [--registry-namespace NS]`: remove stored credentials, same addressing as login. */
import { eraseDockerLogin } from '../../credentials/docker-store.js';
import { removeEntry } from '../../credentials/entries.js';
import { canonicalNamespace, formatNamespacedKey, namespacedKey, parseEndpoint } from '../../credentials/keys.js';
import { isSameRegistry, openCredentials } from '../../credentials/resolve.js';
import { EXIT, MirrorauthError } from '../../errors.js';
import type { System } from '../../system/system.js';

export interface LogoutOptions {
  registryNamespace?: string;
  config?: string;
}

export async function logoutCommand(sys: System, server: string | undefined, o: LogoutOptions): Promise<number> {
  const endpoint = parseEndpoint(server ?? 'docker.io');
  let namespace = endpoint.namespace;
  if (o.registryNamespace !== undefined) namespace = canonicalNamespace(o.registryNamespace);
  if (namespace !== null && isSameRegistry(endpoint.host, namespace)) namespace = null;
  const ctx = await openCredentials(sys, o.config);
  if (namespace !== null) {
    const key = formatNamespacedKey(namespacedKey(endpoint.host, endpoint.path, namespace));
    if (!(await removeEntry(ctx, key))) {
      throw new MirrorauthError('NOT_FOUND', `not logged in to ${key}`, { hint: 'run `mirrorauth list` to see the stored keys' });
    }
    sys.stdout.write(`Removing login credentials for ${key}\n`);
    return EXIT.OK;
  }
  const erased = await eraseDockerLogin(ctx, server ?? 'docker.io');
  if (erased.length === 0) {
    throw new MirrorauthError('NOT_FOUND', `not logged in to ${server ?? 'docker.io'}`, { hint: 'run `mirrorauth list` to see the stored keys' });
  }
  sys.stdout.write(`Removing login credentials for ${erased.join(', ')}\n`);
  return EXIT.OK;
}
