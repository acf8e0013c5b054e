/**
 * Output styling for people: colour only on a terminal and never with NO_COLOR
 * (https://no-color.org), tables through cli-table3, and everything fitted to
 * the terminal's width: tables drop their least important columns first, then
 * turn into one card per row; long lines wrap at word boundaries. Output that
 * is not a terminal stays plain and unwrapped (stable for scripts) unless
 * COLUMNS is set; `--wide` turns fitting off. Helper protocols never come here.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import type { OutputStream, System } from '../system/system.js';
import type { Diagnostic, Severity } from '../hosts/types.js';

export interface Style {
  c: ChalkInstance;
  color: boolean;
  /** Columns to fit output into, or null for no limit (not a terminal, or --wide). */
  width: number | null;
}

/** styleFor decides colour and width for one stream from the environment (NO_COLOR, FORCE_COLOR, TTY, COLUMNS). */
export function styleFor(sys: System, stream: OutputStream, opts: { wide?: boolean } = {}): Style {
  const env = sys.env;
  let level: 0 | 1 | 2 | 3 = 0;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') level = 0;
  else if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') level = 1;
  else if (stream.isTTY && env.TERM !== 'dumb') level = 1;
  const fromEnv = Number(env.COLUMNS);
  const width = opts.wide === true ? null : (stream.columns ?? (Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : null));
  return { c: new Chalk({ level }), color: level > 0, width: width === null ? null : Math.max(40, width) };
}

const ANSI = /\u001b\[[0-9;]*m/g;

/** visibleWidth: the columns a string takes on a terminal (colour codes take none). */
export function visibleWidth(s: string): number {
  return [...s.replace(ANSI, '')].length;
}

function widest(text: string): number {
  return Math.max(0, ...text.split('\n').map(visibleWidth));
}

/**
 * wrapLine breaks one line at spaces so no piece is wider than `width`;
 * continuation lines keep the line's indentation plus two. A word longer than
 * a line (a URL) is cut. Colour is dropped from lines that need wrapping.
 */
export function wrapLine(line: string, width: number): string[] {
  if (visibleWidth(line) <= width) return [line];
  const plain = line.replace(ANSI, '');
  const indent = /^\s*/.exec(plain)?.[0] ?? '';
  const hang = `${indent}  `.slice(0, Math.floor(width / 2));
  const out: string[] = [];
  let current = '';
  let prefix = indent;
  const flush = () => {
    out.push(`${prefix}${current}`.trimEnd());
    prefix = hang;
    current = '';
  };
  for (const word of plain.slice(indent.length).split(/ +/)) {
    let w = word;
    for (;;) {
      const room = width - prefix.length - (current === '' ? 0 : current.length + 1);
      if ([...w].length <= room) {
        current = current === '' ? w : `${current} ${w}`;
        break;
      }
      if (current !== '') {
        flush();
        continue;
      }
      const cut = Math.max(1, width - prefix.length);
      current = [...w].slice(0, cut).join('');
      w = [...w].slice(cut).join('');
      flush();
      if (w === '') break;
    }
  }
  if (current !== '') flush();
  return out;
}

/** fit wraps every line of `text` that is wider than the style's width (tables are fitted before they get here). */
export function fit(style: Style, text: string): string {
  if (style.width === null) return text;
  const width = style.width;
  return text
    .split('\n')
    .flatMap((l) => wrapLine(l, width))
    .join('\n');
}

function render(style: Style, head: string[], rows: string[][]): string {
  const t = new Table({
    head: head.map((h) => style.c.bold(h)),
    style: { head: [], border: [], compact: true },
    wordWrap: false,
  });
  for (const r of rows) t.push(r);
  return t.toString();
}

/**
 * table renders rows with a header, fitted to the width: whole if it fits;
 * else without the columns named in `dropOrder` (first dropped first) until it
 * fits, saying which are hidden; else as one card per row.
 */
export function table(style: Style, head: string[], rows: string[][], dropOrder: number[] = []): string {
  const full = render(style, head, rows);
  if (style.width === null || widest(full) <= style.width) return full;
  const width = style.width;
  const dropped: number[] = [];
  for (const col of dropOrder) {
    dropped.push(col);
    const keep = head.map((_, i) => i).filter((i) => !dropped.includes(i));
    const t = render(
      style,
      keep.map((i) => head[i] as string),
      rows.map((r) => keep.map((i) => r[i] ?? '')),
    );
    const note = style.c.dim(`(${dropped.map((i) => head[i]).join(', ')} hidden to fit ${width} columns; --wide or --json shows everything)`);
    if (widest(t) <= width) return `${t}\n${fit(style, note)}`;
  }
  // cards: the first two cells as a title, then one "label: value" line per other cell
  const label = Math.min(Math.max(...head.slice(2).map((h) => [...h].length)), 22);
  const cards = rows.map((r) => {
    const title = `${style.c.bold(r[0] ?? '')} ${r[1] ?? ''}`;
    const body = head.slice(2).map((h, k) => `  ${style.c.dim(h.padEnd(label))}  ${r[k + 2] ?? ''}`);
    return [title, ...body].flatMap((l) => wrapLine(l, width)).join('\n');
  });
  return cards.join('\n\n');
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

/** renderDiagnostics prints findings grouped by severity, each with its place and fix, wrapped to the width. */
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
  return `${fit(style, lines.join('\n'))}\n`;
}
