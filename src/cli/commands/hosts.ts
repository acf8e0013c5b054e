/** `mirrorauth hosts REF`: containerd's ordered host list for one reference. */
import { EXIT } from '../../errors.js';
import { resolveHosts, type Resolution } from '../../hosts/resolve.js';
import type { Diagnostic, Operation } from '../../hosts/types.js';
import type { System } from '../../system/system.js';
import { hostsJson } from '../hosts-json.js';
import { hostsSettings, versionLabel, type HostsOptionValues, type HostsSettings } from '../options.js';
import { fit, renderDiagnostics, styleFor, table, type Style } from '../style.js';

export interface HostsCommandOptions extends HostsOptionValues {
  push?: boolean;
  operation?: string;
  blob?: string;
  json?: boolean;
  wide?: boolean;
}

function renderHuman(style: Style, r: Resolution, extra: Diagnostic[], settings: HostsSettings): string {
  const c = style.c;
  const out: string[] = [];
  out.push(`${c.bold(r.reference.normalized)}  ${c.dim('·')}  ${r.operationLabel}  ${c.dim('·')}  ${versionLabel(settings)}`);
  out.push(c.dim(`hosts roots: ${settings.rootsSource}`));
  const dirLine =
    r.hostDir === null
      ? r.roots.length === 0
        ? 'no hosts roots: containerd uses the registry itself'
        : `no host directory for ${r.reference.registry} under ${r.roots.join(', ')}: containerd uses the registry itself`
      : `host directory ${r.hostDir} (${r.source === 'hosts.toml' ? 'hosts.toml' : r.source === 'certs' ? 'certificate files only' : 'hosts.toml rejected, certificate files only'})`;
  out.push(c.dim(dirLine));
  out.push('');
  if (r.hosts.length === 0) {
    out.push(c.red('containerd tries no host at all (see the errors below).'));
  } else {
    const rows = r.hosts.map((h) => {
      const used = h.unusable !== null ? c.red('unusable') : h.used ? c.green('yes') : c.dim('no');
      const flags = [
        h.httpsFirst ? 'https-first' : '',
        h.skipVerify ? 'skip-verify' : '',
        h.caCerts.length ? 'ca' : '',
        h.clientPairs.length ? 'client-cert' : '',
        h.header.length ? 'headers' : '',
      ]
        .filter(Boolean)
        .join(' ');
      return [
        String(h.index + 1),
        h.origin === 'default' ? `${h.url} ${c.dim('(upstream)')}` : h.url,
        h.capabilities.join(','),
        used,
        h.namespace ?? c.dim('-'),
        h.requestUrl ?? c.dim('-'),
        h.credentialHost ?? c.dim('-'),
        flags || c.dim('-'),
      ];
    });
    out.push(table(style, ['#', 'host', 'capabilities', 'used', 'ns', 'first request', 'credentials for', 'tls/headers'], rows, [7, 4, 6, 2, 3]));
  }
  const diags = renderDiagnostics(style, [...extra, ...r.diagnostics]);
  if (diags) out.push('', diags.trimEnd());
  return `${fit(style, out.join('\n'))}\n`;
}

/** hostsCommand runs the command and returns its exit code. */
export async function hostsCommand(sys: System, reference: string, o: HostsCommandOptions): Promise<number> {
  const settings = await hostsSettings(sys, o);
  const operation: Operation = o.push ? 'push' : ((o.operation as Operation | undefined) ?? 'pull');
  const r = await resolveHosts(sys, {
    reference,
    operation,
    roots: settings.roots,
    version: settings.version,
    defaultScheme: settings.defaultScheme,
    ...(o.blob ? { blobDigest: o.blob } : {}),
  });
  if (o.json) sys.stdout.write(`${JSON.stringify(hostsJson(r, settings.diagnostics, settings), null, 2)}\n`);
  else sys.stdout.write(renderHuman(styleFor(sys, sys.stdout, { wide: o.wide === true }), r, settings.diagnostics, settings));
  const failed = r.fatal || [...settings.diagnostics, ...r.diagnostics].some((d) => d.severity === 'error');
  return failed ? EXIT.FAILURE : EXIT.OK;
}
