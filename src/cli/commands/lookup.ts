/**
 * `mirrorauth lookup ENDPOINT[?ns=REGISTRY] [--json]`: which credential one
 * endpoint gets (for one upstream namespace), from where, and every step tried.
 * The secret is shown masked only.
 */
import { canonicalNamespace, parseEndpoint } from '../../credentials/keys.js';
import { whoReceives } from '../../credentials/reach.js';
import { describeSource, openCredentials, resolveCredential } from '../../credentials/resolve.js';
import { EXIT } from '../../errors.js';
import { maskSecret } from '../../mask.js';
import type { System } from '../../system/system.js';
import { fit, styleFor } from '../style.js';

export const LOOKUP_SCHEMA_VERSION = 1;

export async function lookupCommand(
  sys: System,
  address: string,
  o: { json?: boolean; config?: string; registryNamespace?: string; wide?: boolean },
): Promise<number> {
  const e = parseEndpoint(address);
  const namespace = o.registryNamespace !== undefined ? canonicalNamespace(o.registryNamespace) : e.namespace;
  const ctx = await openCredentials(sys, o.config);
  const r = await resolveCredential(ctx, { host: e.host, path: e.path }, namespace);
  const c = r.credential;
  const secret = c.identityToken || c.password || c.registryToken;
  const found = r.source.kind !== 'anonymous';
  const receivers = found ? await whoReceives(ctx, { host: e.host, path: e.path }, namespace, c) : [];
  if (o.json) {
    sys.stdout.write(
      `${JSON.stringify(
        {
          schemaVersion: LOOKUP_SCHEMA_VERSION,
          endpoint: { host: e.host, path: e.path },
          namespace,
          found,
          source: r.source,
          username: found ? c.username : null,
          secretKind: !found ? null : c.identityToken ? 'identitytoken' : c.registryToken ? 'registrytoken' : 'password',
          secret: found ? maskSecret(secret) : null,
          trace: r.trace,
          receivers: receivers.map((x) => ({ client: x.client, receives: x.receives, note: x.note })),
        },
        null,
        2,
      )}\n`,
    );
    return EXIT.OK;
  }
  const s = styleFor(sys, sys.stdout, { wide: o.wide === true });
  const lines = [
    `${s.c.bold(`${e.host}${e.path}`)}${namespace ? ` serving ${namespace}` : ''}: ${found ? s.c.green(describeSource(r.source)) : s.c.yellow('anonymous (no credentials)')}`,
    ...(found ? [`  user ${c.username || '(none)'}, secret ${maskSecret(secret)}`] : []),
    '  lookup order:',
    ...r.trace.map(
      (t) =>
        `    ${t.outcome === 'hit' ? s.c.green('hit    ') : t.outcome === 'error' ? s.c.red('error  ') : t.outcome === 'skipped' ? s.c.dim('skipped') : s.c.dim('miss   ')} ${t.step}${t.key ? ` ${t.key}` : ''}: ${t.detail}`,
    ),
  ];
  if (found) {
    lines.push('  who receives it:');
    for (const x of receivers) lines.push(`    ${x.receives ? s.c.green('yes') : s.c.yellow('no ')} ${x.label}${x.receives ? '' : s.c.dim(` — ${x.note}`)}`);
  }
  sys.stdout.write(`${fit(s, lines.join('\n'))}\n`);
  return EXIT.OK;
}
