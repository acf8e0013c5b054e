/**
 * Output styling for people: colour only on a terminal and never with NO_COLOR
 * (https://no-color.org), tables through cli-table3. Helper protocols never
 * come here.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import type { OutputStream, System } from '../system/system.js';
import type { Diagnostic, Severity } from '../hosts/types.js';

export interface Style {
  c: ChalkInstance;
  color: boolean;
}

/** styleFor decides colour for one stream from the environment (NO_COLOR, FORCE_COLOR, TTY). */
export function styleFor(sys: System, stream: OutputStream): Style {
  const env = sys.env;
  let level: 0 | 1 | 2 | 3 = 0;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') level = 0;
  else if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') level = 1;
  else if (stream.isTTY && env.TERM !== 'dumb') level = 1;
  return { c: new Chalk({ level }), color: level > 0 };
}

/** table renders rows with a header; colour only on the header when enabled. */
export function table(style: Style, head: string[], rows: string[][]): string {
  const t = new Table({
    head: head.map((h) => style.c.bold(h)),
    style: { head: [], border: [], compact: true },
    wordWrap: false,
  });
  for (const r of rows) t.push(r);
  return t.toString();
}

export function severityLabel(style: Style, s: Severity): string {
  switch (s) {
    case 'error':
      return style.c.red.bold('error');
    case 'warning':
      return style.c.yellow.bold('warning');
    case 'info':
      return style.c.cyan('info');
    default: {
      const never: never = s;
      return never;
    }
  }
}

/** renderDiagnostics prints findings grouped by severity, each with its place and fix. */
export function renderDiagnostics(style: Style, diagnostics: Diagnostic[]): string {
  if (diagnostics.length === 0) return '';
  const order: Severity[] = ['error', 'warning', 'info'];
  const lines: string[] = [style.c.bold('Diagnostics')];
  for (const sev of order) {
    for (const d of diagnostics.filter((x) => x.severity === sev)) {
      const where = d.file ? `${d.file}${d.line ? `:${d.line}` : ''}` : '';
      lines.push(`  ${severityLabel(style, d.severity)} ${style.c.dim(d.code)}${where ? ` ${where}` : ''}${d.rule ? style.c.dim(` [${d.rule}]`) : ''}`);
      lines.push(`    ${d.message}`);
      if (d.fix) lines.push(`    ${style.c.green('fix:')} ${d.fix}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
