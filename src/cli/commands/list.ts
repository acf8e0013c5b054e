/** `mirrorauth list [--json]`: every stored key, its user name and where it lives; never a secret. */
import { helperClient, OWN_HELPER_NAME } from '../../credentials/helper-client.js';
import { formatNamespacedKey, parseNamespacedKey, parseNerdctlKey } from '../../credentials/keys.js';
import { isNamespacedKey } from '../../credentials/namespaced-store.js';
import { openCredentials } from '../../credentials/resolve.js';
import { dockerRoute } from '../../credentials/sources.js';
import { EXIT } from '../../errors.js';
import type { System } from '../../system/system.js';
import { fit, styleFor, table } from '../style.js';

export const LIST_SCHEMA_VERSION = 1;

export interface ListOptions {
  json?: boolean;
  config?: string;
  wide?: boolean;
}

export async function listCommand(sys: System, o: ListOptions): Promise<number> {
  const ctx = await openCredentials(sys, o.config);
  const notes: string[] = ctx.store.skipped.map((b) => `skipped ${JSON.stringify(b.key)} in ${ctx.store.file}: ${b.why}`);
  let helperUsers: Record<string, string> = {};
  const store = ctx.docker.credsStore;
  if (store !== null && store !== OWN_HELPER_NAME) {
    try {
      helperUsers = await helperClient(sys, store).list();
    } catch (e) {
      notes.push(`docker-credential-${store} list failed: ${(e as Error).message}`);
    }
  }
  const namespaced = [...ctx.store.entries.values()]
    .filter((e) => isNamespacedKey(e.key))
    .map((e) => {
      const k = parseNamespacedKey(e.key);
      return {
        key: e.key,
        host: k.host,
        path: k.path,
        namespace: k.namespace,
        username: e.username,
        backend: e.backend,
        helper: e.helper,
        updatedAt: e.updatedAt,
        trusted: ctx.store.trusted.includes(e.key),
      };
    });
  const docker: Array<{ key: string; username: string | null; store: string; helper: string | null }> = [];
  for (const [key, entry] of ctx.docker.auths) {
    if (parseNerdctlKey(key)) continue;
    const route = dockerRoute(ctx.docker, key);
    if (route.kind !== 'auths')
      docker.push({ key, username: helperUsers[key] ?? null, store: route.via, helper: route.kind === 'helper' ? route.helper : OWN_HELPER_NAME });
    else docker.push({ key, username: entry.credential.username || (entry.credential.identityToken ? '<token>' : null), store: 'auths', helper: null });
  }
  for (const [key, user] of Object.entries(helperUsers)) {
    if (!ctx.docker.auths.has(key) && !key.endsWith('.mirrorauth.invalid') && !parseNerdctlKey(key))
      docker.push({ key, username: user, store: 'credsStore', helper: store });
  }
  for (const e of ctx.store.entries.values()) {
    if (isNamespacedKey(e.key)) continue;
    const at = docker.findIndex((d) => d.key === e.key);
    const row = { key: e.key, username: e.username, store: `mirrorauth (${e.backend})`, helper: OWN_HELPER_NAME };
    if (at >= 0) docker[at] = row;
    else docker.push(row);
  }
  for (const [key, helper] of ctx.docker.credHelpers)
    if (!docker.some((d) => d.key === key)) docker.push({ key, username: null, store: 'credHelpers', helper });
  const nerdctl = [...new Set([...ctx.docker.auths.keys(), ...Object.keys(helperUsers)])]
    .map((key) => ({ key, parsed: parseNerdctlKey(key) }))
    .filter((x): x is { key: string; parsed: NonNullable<ReturnType<typeof parseNerdctlKey>> } => x.parsed !== null)
    .map((x) => ({ key: x.key, importsAs: formatNamespacedKey(x.parsed) }));

  if (o.json) {
    sys.stdout.write(
      `${JSON.stringify({ schemaVersion: LIST_SCHEMA_VERSION, dockerConfig: ctx.docker.file, store: ctx.store.file, namespaced, docker, nerdctl, notes }, null, 2)}\n`,
    );
    return EXIT.OK;
  }
  const style = styleFor(sys, sys.stdout, { wide: o.wide === true });
  const out: string[] = [];
  out.push(style.c.bold(`Namespaced credentials (${ctx.store.file})`));
  out.push(
    namespaced.length === 0
      ? style.c.dim('  none')
      : table(
          style,
          ['key', 'user', 'backend', 'trusted'],
          namespaced.map((n) => [n.key, n.username, n.backend === 'helper' ? `helper ${n.helper}` : n.backend, n.trusted ? 'yes' : '']),
        ),
  );
  out.push('', style.c.bold(`Docker credentials (${ctx.docker.file})`));
  out.push(
    docker.length === 0
      ? style.c.dim('  none')
      : table(
          style,
          ['key', 'user', 'stored in'],
          docker.map((d) => [d.key, d.username ?? style.c.dim('?'), d.helper ? `${d.store} ${d.helper}` : 'config.json (plaintext)']),
        ),
  );
  if (nerdctl.length > 0) {
    out.push('', style.c.bold('nerdctl namespaced keys (run `mirrorauth import nerdctl`)'));
    out.push(
      table(
        style,
        ['nerdctl key', 'imports as'],
        nerdctl.map((n) => [n.key, n.importsAs]),
      ),
    );
  }
  for (const n of notes) out.push(style.c.yellow(`note: ${n}`));
  sys.stdout.write(`${fit(style, out.join('\n'))}\n`);
  return EXIT.OK;
}
