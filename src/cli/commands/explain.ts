/** `mirrorauth explain REF`: which host gets which credentials, from where, why, and what stock clients send. */
import { openCredentials } from '../../credentials/resolve.js';
import { explain, type CredentialView, type Explanation } from '../../diagnose/explain.js';
import { EXIT } from '../../errors.js';
import { maskSecret } from '../../mask.js';
import type { System } from '../../system/system.js';
import { hostsJson, type SourcesOfTruth } from '../hosts-json.js';
import { hostsSettings, versionLabel, type HostsOptionValues, type HostsSettings } from '../options.js';
import { fit, renderDiagnostics, styleFor, table, type Style } from '../style.js';

export const EXPLAIN_SCHEMA_VERSION = 1;

export interface ExplainCommandOptions extends HostsOptionValues {
  push?: boolean;
  json?: boolean;
  probe?: boolean;
  config?: string;
  wide?: boolean;
}

function masked(v: CredentialView): string | null {
  return v.found ? maskSecret('x'.repeat(v.secretLength)) : null;
}

function credentialJson(v: CredentialView) {
  return { found: v.found, source: v.source, sourceText: v.sourceText, username: v.username, secretKind: v.secretKind, secret: masked(v) };
}

/** explainJson is the documented contract (docs/diagnostics.md, "explain --json"). */
export function explainJson(e: Explanation, sources: SourcesOfTruth | null = null): Record<string, unknown> {
  const base = hostsJson(e.resolution, [], sources);
  const hosts = base.hosts as Array<Record<string, unknown>>;
  return {
    schemaVersion: EXPLAIN_SCHEMA_VERSION,
    containerd: e.resolution.containerdVersion,
    containerdSource: base.containerdSource,
    rootsSource: base.rootsSource,
    criPullMode: base.criPullMode,
    operation: e.resolution.operation,
    reference: base.reference,
    hostDir: e.resolution.hostDir,
    hosts: e.hosts.map((x, i) => ({
      ...(hosts[i] ?? {}),
      serve: x.serve,
      credential: credentialJson(x.credential),
      lookupError: x.error,
      trace: x.trace,
      stockClients: Object.fromEntries(x.stock.map((s) => [s.client, { ...credentialJson(s), note: s.note }])),
      differs: x.differs,
      reachedBy: x.reachedBy,
      probe: x.probe,
    })),
    diagnostics: e.resolution.diagnostics,
  };
}

function cell(style: Style, v: CredentialView): string {
  if (!v.found) return style.c.dim('none');
  return `${v.username ?? ''} ${style.c.dim(maskSecret('x'.repeat(v.secretLength)))}`.trim();
}

/** Short names for the "sent by" column. */
const CLIENT_LABEL: Record<string, string> = {
  serve: 'serve proxy',
  nerdctl: 'nerdctl',
  cri: 'CRI',
  'cri-kubelet': 'CRI+kubelet',
  'cri-kubelet-server': 'CRI+kubelet(server_address)',
  ctr: 'ctr',
  helper: 'podman/skopeo/docker',
  bazel: 'Bazel',
};

function reachCell(style: Style, x: Explanation['hosts'][number]): string {
  if (!x.credential.found) return style.c.dim('-');
  if (x.reachedBy.length === 0) return style.c.yellow('no client (needs mirrorauth serve)');
  return x.reachedBy.map((r) => CLIENT_LABEL[r] ?? r).join(', ');
}

function renderHuman(style: Style, e: Explanation, probe: boolean, settings: HostsSettings): string {
  const c = style.c;
  const r = e.resolution;
  const out: string[] = [`${c.bold(r.reference.normalized)}  ${c.dim('·')}  ${r.operationLabel}  ${c.dim('·')}  ${versionLabel(settings)}`];
  if (settings.criPullMode) out.push(c.dim(`CRI pull mode: ${settings.criPullMode.mode} (${settings.criPullMode.reason})`));
  out.push(c.dim(r.hostDir ? `host directory ${r.hostDir} (${r.source})` : 'no host directory: containerd uses the registry itself'), '');
  if (e.hosts.length === 0) out.push(c.red('containerd tries no host at all (see the errors below).'));
  else {
    const head = ['#', 'host', 'used · capabilities', 'first request', 'stored credential', 'from', 'sent by'];
    if (probe) head.push('probe');
    const rows = e.hosts.map((x, i) => {
      const h = x.host;
      const row = [
        String(i + 1),
        h.origin === 'default' ? `${h.url} ${c.dim('(upstream)')}` : x.serve ? `${h.url} ${c.dim(`(serve → ${x.serve.endpoint})`)}` : h.url,
        `${h.unusable ? c.red('unusable') : h.used ? c.green('yes') : c.dim('no')} ${c.dim(h.capabilities.join(','))}`,
        h.requestUrl ?? c.dim('-'),
        x.error ? c.red('lookup failed') : cell(style, x.credential),
        x.error ? c.red(x.error) : x.credential.found ? x.credential.sourceText : c.dim('anonymous'),
        reachCell(style, x),
      ];
      if (probe) {
        const p = x.probe;
        row.push(
          p === null
            ? c.dim('-')
            : `${p.outcome === 'ok' || p.outcome === 'anonymous-ok' ? c.green(String(p.status)) : c.red(String(p.status ?? 'no answer'))} ${p.scheme ?? ''}${p.tokenExchange === 'ok' ? ' token ok' : p.tokenExchange === 'failed' ? c.red(' token failed') : ''} ${c.dim(`${p.latencyMs} ms`)}`,
        );
      }
      return row;
    });
    out.push(table(style, head, rows, [5, 3, 2]));
    out.push('', c.bold('Lookup, host by host'));
    e.hosts.forEach((x, i) => {
      if (x.host.unusable) return;
      out.push(`  ${i + 1}. ${x.host.credentialHost ?? x.host.host}${x.host.namespace ? ` (ns=${x.host.namespace})` : ''}`);
      if (x.serve)
        out.push(
          `     ${c.cyan('serve  ')} route ${x.serve.routeId}: the proxy sends ${x.serve.endpoint} (ns=${x.serve.namespace}) this credential; rendered from ${x.serve.file}${x.serve.line ? `:${x.serve.line}` : ''}`,
        );
      for (const t of x.trace) {
        const tag =
          t.outcome === 'hit' ? c.green('hit    ') : t.outcome === 'error' ? c.red('error  ') : c.dim(t.outcome === 'skipped' ? 'skipped' : 'miss   ');
        out.push(`     ${tag} ${t.step}${t.key ? ` ${t.key}` : ''}: ${t.detail}`);
      }
      for (const s of x.stock)
        out.push(
          `     ${x.differs.includes(s.client) ? c.yellow('client ') : c.dim('client ')} ${CLIENT_LABEL[s.client] ?? s.client}: ${s.found ? `${s.username ?? ''} via ${s.sourceText}` : 'sends no credentials'} — ${s.note}`,
        );
      if (x.probe?.error) out.push(`     ${c.red('probe')}   ${x.probe.url}: ${x.probe.error}`);
    });
  }
  const diags = renderDiagnostics(style, e.resolution.diagnostics);
  if (diags) out.push('', diags.trimEnd());
  return `${fit(style, out.join('\n'))}\n`;
}

export async function explainCommand(sys: System, reference: string, o: ExplainCommandOptions): Promise<number> {
  const settings = await hostsSettings(sys, o);
  const ctx = await openCredentials(sys, o.config);
  const progress = o.probe && sys.stderr.isTTY && !o.json;
  const e = await explain(sys, ctx, {
    reference,
    operation: o.push ? 'push' : 'pull',
    roots: settings.roots,
    version: settings.version,
    defaultScheme: settings.defaultScheme,
    criAuths: settings.criAuths,
    criPullMode: settings.criPullMode?.mode ?? null,
    probe: o.probe === true,
    ...(progress ? { onProbe: (i: number, n: number, host: string) => sys.stderr.write(`\r\u001b[Kprobing ${i + 1}/${n} ${host} …`) } : {}),
  });
  if (progress) sys.stderr.write('\r\u001b[K');
  e.resolution.diagnostics.unshift(...settings.diagnostics);
  if (o.json) sys.stdout.write(`${JSON.stringify(explainJson(e, settings), null, 2)}\n`);
  else sys.stdout.write(renderHuman(styleFor(sys, sys.stdout, { wide: o.wide === true }), e, o.probe === true, settings));
  const failed = e.resolution.fatal || e.resolution.diagnostics.some((d) => d.severity === 'error') || e.hosts.some((x) => x.error !== null);
  return failed ? EXIT.FAILURE : EXIT.OK;
}
