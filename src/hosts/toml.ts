/**
 * The only importer of the TOML library. It returns the parsed values plus an
 * outline of the document: every key and table header with its 1-based line,
 * in file order. containerd's host order depends on that outline (go-toml v1
 * sorts hosts by line, go-toml v2 walks table headers), which no parser's
 * value tree keeps, so the outline is read here by a small scanner.
 */
import TOML from '@iarna/toml';

export type TomlValue = string | number | boolean | Date | TomlValue[] | TomlTable;
export interface TomlTable {
  [key: string]: TomlValue;
}

/** One key or table header of the document. */
export interface OutlineEvent {
  /** The full key path from the document root. */
  path: string[];
  /** 1-based line of the key (or of the `[` of a header). */
  line: number;
  /** `table` = `[a.b]`, `array-table` = `[[a.b]]`, `keyval` = `a.b = …`, including keys inside inline tables. */
  kind: 'table' | 'array-table' | 'keyval';
  /** For keyvals: true when the key sits inside an inline table. */
  inline: boolean;
  /** For table headers: true when a `]` stands inside a quoted key (go-toml v1's lexer ends the key there). */
  bracketInQuotedKey: boolean;
}

export interface TomlDocument {
  data: TomlTable;
  outline: OutlineEvent[];
}

export type TomlResult = { ok: true; doc: TomlDocument } | { ok: false; message: string; line: number | null; column: number | null };

class ScanError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

const BARE_KEY = /[A-Za-z0-9_-]/;

/** Scanner walks a TOML document and records its keys; values are skipped, not converted. */
class Scanner {
  private pos = 0;
  private line = 1;
  readonly events: OutlineEvent[] = [];

  constructor(private readonly text: string) {}

  private peek(offset = 0): string {
    return this.text[this.pos + offset] ?? '';
  }

  private advance(n = 1): void {
    for (let i = 0; i < n; i++) {
      if (this.text[this.pos] === '\n') this.line++;
      this.pos++;
    }
  }

  private fail(message: string): never {
    throw new ScanError(message, this.line);
  }

  private skipSpaces(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.advance();
  }

  private skipComment(): void {
    while (this.pos < this.text.length && this.peek() !== '\n') this.advance();
  }

  /** Skips spaces, newlines and comments (inside arrays). */
  private skipBlank(): void {
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') this.advance();
      else if (c === '#') this.skipComment();
      else return;
    }
  }

  private readBasicString(): string {
    this.advance(); // opening quote
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === '' || c === '\n') this.fail('unterminated string');
      if (c === '"') {
        this.advance();
        return out;
      }
      if (c === '\\') {
        const e = this.peek(1);
        const simple: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };
        if (e in simple) {
          out += simple[e];
          this.advance(2);
          continue;
        }
        if (e === 'u' || e === 'U') {
          const len = e === 'u' ? 4 : 8;
          const hex = this.text.slice(this.pos + 2, this.pos + 2 + len);
          if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) this.fail('invalid unicode escape');
          out += String.fromCodePoint(parseInt(hex, 16));
          this.advance(2 + len);
          continue;
        }
        this.fail('invalid escape');
      }
      out += c;
      this.advance();
    }
  }

  private readLiteralString(): string {
    this.advance();
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === '' || c === '\n') this.fail('unterminated string');
      if (c === "'") {
        this.advance();
        return out;
      }
      out += c;
      this.advance();
    }
  }

  private skipMultiline(quote: string): void {
    this.advance(3);
    for (;;) {
      if (this.pos >= this.text.length) this.fail('unterminated multi-line string');
      if (quote === '"""' && this.peek() === '\\') {
        this.advance(2);
        continue;
      }
      if (this.text.startsWith(quote, this.pos)) {
        this.advance(3);
        // up to two extra quotes belong to the string
        while (this.peek() === quote[0]) this.advance();
        return;
      }
      this.advance();
    }
  }

  private readSimpleKey(): string {
    const c = this.peek();
    if (c === '"') return this.readBasicString();
    if (c === "'") return this.readLiteralString();
    let out = '';
    while (BARE_KEY.test(this.peek()) && this.peek() !== '') {
      out += this.peek();
      this.advance();
    }
    if (out === '') this.fail(`unexpected character ${JSON.stringify(c)} where a key was expected`);
    return out;
  }

  private readKey(): string[] {
    const parts = [this.readSimpleKey()];
    for (;;) {
      this.skipSpaces();
      if (this.peek() !== '.') return parts;
      this.advance();
      this.skipSpaces();
      parts.push(this.readSimpleKey());
    }
  }

  private skipValue(path: string[]): void {
    const c = this.peek();
    if (this.text.startsWith('"""', this.pos)) return this.skipMultiline('"""');
    if (this.text.startsWith("'''", this.pos)) return this.skipMultiline("'''");
    if (c === '"') {
      this.readBasicString();
      return;
    }
    if (c === "'") {
      this.readLiteralString();
      return;
    }
    if (c === '[') {
      this.advance();
      for (;;) {
        this.skipBlank();
        if (this.peek() === ']') {
          this.advance();
          return;
        }
        this.skipValue(path);
        this.skipBlank();
        if (this.peek() === ',') this.advance();
        else if (this.peek() !== ']') this.fail('expected , or ] in array');
      }
    }
    if (c === '{') {
      this.advance();
      this.skipSpaces();
      if (this.peek() === '}') {
        this.advance();
        return;
      }
      for (;;) {
        this.skipSpaces();
        this.readKeyval(path, true);
        this.skipSpaces();
        if (this.peek() === ',') {
          this.advance();
          continue;
        }
        if (this.peek() === '}') {
          this.advance();
          return;
        }
        this.fail('expected , or } in inline table');
      }
    }
    // number, boolean or date-time: up to a delimiter; a date may hold one space before its time
    const start = this.pos;
    while (this.pos < this.text.length && !/[ \t\r\n,\]}#]/.test(this.peek())) this.advance();
    if (/^\d{4}-\d{2}-\d{2}$/.test(this.text.slice(start, this.pos)) && this.peek() === ' ' && /\d/.test(this.peek(1))) {
      this.advance();
      while (this.pos < this.text.length && !/[ \t\r\n,\]}#]/.test(this.peek())) this.advance();
    }
    if (this.pos === start) this.fail('missing value');
  }

  private readKeyval(table: string[], inline: boolean): void {
    const line = this.line;
    const key = this.readKey();
    this.skipSpaces();
    if (this.peek() !== '=') this.fail('expected = after key');
    this.advance();
    this.skipSpaces();
    const path = [...table, ...key];
    this.events.push({ path, line, kind: 'keyval', inline, bracketInQuotedKey: false });
    this.skipValue(path);
  }

  private readHeader(): string[] {
    const line = this.line;
    const start = this.pos;
    const isArray = this.peek(1) === '[';
    this.advance(isArray ? 2 : 1);
    this.skipSpaces();
    const key = this.readKey();
    this.skipSpaces();
    const close = isArray ? ']]' : ']';
    if (!this.text.startsWith(close, this.pos)) this.fail('expected ] at the end of a table header');
    const firstBracket = this.text.indexOf(']', start);
    this.events.push({
      path: key,
      line,
      kind: isArray ? 'array-table' : 'table',
      inline: false,
      bracketInQuotedKey: firstBracket !== this.pos,
    });
    this.advance(close.length);
    return key;
  }

  scan(): OutlineEvent[] {
    let table: string[] = [];
    while (this.pos < this.text.length) {
      this.skipSpaces();
      const c = this.peek();
      if (c === '') break;
      if (c === '#') this.skipComment();
      else if (c === '\n' || c === '\r') this.advance();
      else if (c === '[') table = this.readHeader();
      else this.readKeyval(table, false);
      this.skipSpaces();
      if (this.peek() === '#') this.skipComment();
    }
    return this.events;
  }
}

/** outlineOf scans a document's keys; it throws on text it cannot read. */
export function outlineOf(text: string): OutlineEvent[] {
  return new Scanner(text).scan();
}

function firstLine(message: string): string {
  const head = message.split('\n', 1)[0] ?? message;
  return head.replace(/ at row \d+, col \d+, pos \d+:?$/, '').trim();
}

/** parseToml parses a document; syntax errors come back with a 1-based line. */
export function parseToml(text: string): TomlResult {
  let data: TomlTable;
  try {
    data = TOML.parse(text);
  } catch (e) {
    const err = e as { message?: string; line?: number; col?: number };
    return {
      ok: false,
      message: firstLine(err.message ?? String(e)),
      line: typeof err.line === 'number' ? err.line + 1 : null,
      column: typeof err.col === 'number' ? err.col + 1 : null,
    };
  }
  try {
    return { ok: true, doc: { data, outline: outlineOf(text) } };
  } catch (e) {
    if (e instanceof ScanError) return { ok: false, message: e.message, line: e.line, column: null };
    throw e;
  }
}

/** isTable tells a TOML table from the other value kinds. */
export function isTable(v: TomlValue | undefined): v is TomlTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}
