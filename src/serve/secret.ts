/**
 * The per-install access secret of `mirrorauth serve`: random, 0600, beside
 * the namespaced store. The rendered hosts.toml sends it as a static header;
 * registries.conf clients present it as a Basic password.
 */
import { nodeCrypto } from '../system/lazy-crypto.js';
import { errnoCode, MirrorauthError } from '../errors.js';
import { writeFileAtomic } from '../system/atomic-write.js';
import type { System } from '../system/system.js';

/** secretFile is where the per-install access secret lives, beside the namespaced store. */
export function secretFile(dockerDir: string): string {
  return `${dockerDir}/mirrorauth/serve-secret`;
}

/** loadOrCreateSecret reads the access secret, creating a random one (0600) on first use. */
export async function loadOrCreateSecret(sys: System, dockerDir: string): Promise<string> {
  const file = secretFile(dockerDir);
  try {
    const text = (await sys.fs.readText(file)).trim();
    if (/^[A-Za-z0-9_-]{32,}$/.test(text)) return text;
    throw new MirrorauthError('CONFIG_INVALID', `${file} does not hold a mirrorauth serve secret`, {
      file,
      hint: `remove ${file}; serve makes a new one (then re-render so hosts.toml sends it)`,
    });
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
  const secret = nodeCrypto().randomBytes(32).toString('base64url');
  await writeFileAtomic(sys, file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
