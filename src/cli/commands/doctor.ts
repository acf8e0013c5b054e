/**
 * `mirrorauth doctor [--json] [--strict]`: every hosts root and every credential
 * source, findings grouped by severity with file, line and fix.
 * Exit: 0 clean, 1 warnings with --strict, 2 errors (doctor's own scale).
 */
import { openCredentials } from '../../credentials/resolve.js';
import { doctor } from '../../diagnose/doctor.js';
import type { Diagnostic } from '../../hosts/types.js';
import type { System } from '../../system/system.js';
import { hostsSettings, versionLabel, type HostsOptionValues } from '../options.js';
import { fit, renderDiagnostics, styleFor } from '../style.js';

export const DOCTOR_SCHEMA_VERSION = 1;
export const DOCTOR_EXIT = { CLEAN: 0, WARNINGS: 1, ERRORS: 2 } as const;

export interface DoctorCommandOptions extends HostsOptionValues {
  json?: boolean;
  strict?: boolean;
  config?: string;
  wide?: boolean;
}

function count(ds: Diagnostic[], severity: Diagnostic['severity']): number {
  return ds.filter((d) => d.severity === severity).length;
}

export async function doctorCommand(sys: System, o: DoctorCommandOptions): Promise<number> {
  const t0 = sys.monotonic();
  const settings = await hostsSettings(sys, o);
  const ctx = await openCredentials(sys, o.config).catch((e: Error) => e);
  const report = await doctor(sys, ctx, {
    roots: settings.roots,
    version: settings.version,
    defaultScheme: settings.defaultScheme,
    criAuths: settings.criAuths,
  });
  const diagnostics = [...settings.diagnostics, ...report.diagnostics];
  const summary = { error: count(diagnostics, 'error'), warning: count(diagnostics, 'warning'), info: count(diagnostics, 'info') };
  const durationMs = Math.round(sys.monotonic() - t0);
  if (o.json) {
    sys.stdout.write(
      `${JSON.stringify(
        {
          schemaVersion: DOCTOR_SCHEMA_VERSION,
          containerd: settings.version.text,
          containerdSource: settings.versionSource,
          rootsSource: settings.rootsSource,
          criPullMode: settings.criPullMode ? { mode: settings.criPullMode.mode, reason: settings.criPullMode.reason } : null,
          roots: report.roots,
          directories: report.directories,
          summary,
          durationMs,
          diagnostics,
        },
        null,
        2,
      )}\n`,
    );
  } else {
    const style = styleFor(sys, sys.stdout, { wide: o.wide === true });
    const body = renderDiagnostics(style, diagnostics);
    const head = `${report.directories} host director${report.directories === 1 ? 'y' : 'ies'} under ${settings.roots.join(', ') || '(no roots)'} for ${versionLabel(settings)}\nhosts roots: ${settings.rootsSource}${settings.criPullMode ? `; CRI pull mode: ${settings.criPullMode.mode} (${settings.criPullMode.reason})` : ''}`;
    const tail = `${summary.error} error(s), ${summary.warning} warning(s), ${summary.info} note(s) in ${durationMs} ms`;
    sys.stdout.write(
      `${fit(style, head)}\n\n${body || `${style.c.green('No problems found.')}\n`}\n${summary.error ? style.c.red(tail) : summary.warning ? style.c.yellow(tail) : style.c.green(tail)}\n`,
    );
  }
  if (summary.error > 0) return DOCTOR_EXIT.ERRORS;
  if (summary.warning > 0 && o.strict) return DOCTOR_EXIT.WARNINGS;
  return DOCTOR_EXIT.CLEAN;
}
