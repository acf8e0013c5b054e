/**
 * `mirrorauth trust MIRROR?ns=REGISTRY [--remove]`: allow (or stop allowing) a
 * mirror to receive the upstream registry's own Docker credentials (step 5 of
 * the lookup). Off by default: upstream credentials never go to a mirror otherwise.
 */
import { formatNamespacedKey, parseNamespacedKey, withNamespace } from '../../credentials/keys.js';
import { updateStore } from '../../credentials/namespaced-store.js';
import { openCredentials } from '../../credentials/resolve.js';
import { EXIT, MirrorauthError } from '../../errors.js';
import type { System } from '../../system/system.js';
import { shellCommand } from '../../shell.js';

export async function trustCommand(sys: System, address: string, o: { remove?: boolean; config?: string }): Promise<number> {
  const parsed = parseNamespacedKey(address);
  if (parsed.namespace === '*') {
    throw new MirrorauthError('USAGE', `refusing to trust ${address}: ns=* would hand any registry's credentials to whatever ?ns= a requester names`, {
      hint: `trust the mirror for each registry it serves: ${shellCommand('mirrorauth', 'trust', formatNamespacedKey(withNamespace(parsed, 'docker.io')))}`,
    });
  }
  const key = formatNamespacedKey(parsed);
  const ctx = await openCredentials(sys, o.config);
  await updateStore(sys, ctx.dockerDir, (raw) => {
    const list = Array.isArray(raw.trusted) ? (raw.trusted as unknown[]).filter((t) => t !== key) : [];
    if (!o.remove) list.push(key);
    raw.trusted = list;
  });
  sys.stdout.write(
    o.remove ? `${key} no longer receives its upstream's credentials\n` : `${key} now receives its upstream's Docker credentials when it has none of its own\n`,
  );
  return EXIT.OK;
}
