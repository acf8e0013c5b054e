/**
 * TOML as containerd's go-toml reads it. containerd 1.x links go-toml v1
 * (1.9.x), 2.x links go-toml v2; the two accept different documents (a table
 * re-opened with other quoting, dotted keys extending a [table]) and neither
 * matches a strict TOML 1.0 parser on every file containerd meets (CRLF after a
 * comment). No npm TOML parser can be told which of the two to be, so this
 * module is a parser of its own: one lexer, two table-definition rule sets.
 *
 * Besides the values it returns an outline of the document: every key and
 * table header with its 1-based line, in file order. containerd's host order
 * depends on that outline (go-toml v1 sorts hosts by line, go-toml v2 walks
 * table headers), which no value tree keeps.
 */

export type TomlValue = string | number | boolean | TomlDateTime | TomlValue[] | TomlTable;
export interface TomlTable {
  [key: string]: TomlValue;
}

/** A TOML date, time or date-time, kept as written (hosts.toml has no use for their value). */
export class TomlDateTime {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** Which go-toml's rules to follow: v1 (containerd 1.x) or v2 (containerd 2.x). */
export type TomlDialect = 'v1' | 'v2';

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
  /** For keyvals: how many parts of `path` come from the enclosing table header; the rest were written in the key. */
  tableDepth: number;
  /** For table headers: true when a `]` stands inside a quoted key (go-toml v1's lexer ends the key there). */
  bracketInQuotedKey: boolean;
}

export interface TomlDocument {
  data: TomlTable;
  outline: OutlineEvent[];
}

export type TomlResult =
  | { ok: true; doc: TomlDocument }
  /** `outline` holds the keys read before the error: go-toml v2 decodes as it parses, so they already took effect. */
  | { ok: false; message: string; line: number | null; column: number | null; outline: OutlineEvent[] };

class TomlSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}

/** How a table came to exist; decides which later definitions may extend it. */
type Origin = 'implicit' | 'header' | 'dotted' | 'inline' | 'array-element';

const BARE_KEY = /[A-Za-z0-9_-]/;
const ESCAPES: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^\d{2}:\d{2}:\d{2}(\.\d+)?$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$/;
const DEC_INT = /^[+-]?(0|[1-9](_?\d)*)$/;
const PREFIXED_INT = /^0(x[0-9A-Fa-f](_?[0-9A-Fa-f])*|o[0-7](_?[0-7])*|b[01](_?[01])*)$/;
const FLOAT = /^[+-]?(0|[1-9](_?\d)*)(\.\d(_?\d)*)?([eE][+-]?\d(_?\d)*)?$/;

/** Parser reads one document; tables are tracked by origin so each dialect can apply its own redefinition rules. */
class Parser {
  private pos = 0;
  private line = 1;
  private lineStart = 0;
  readonly events: OutlineEvent[] = [];
  readonly root: TomlTable = {};
  private readonly origins = new WeakMap<object, Origin>();
  /** Tables defined by `[…]` headers: canonical key path (v2) or raw header text (v1). */
  private readonly seenHeaders = new Set<string>();
  /** Arrays built by `[[…]]` (extendable), as opposed to static arrays. */
  private readonly tableArrays = new WeakSet<object>();

  constructor(
    private readonly text: string,
    private readonly dialect: TomlDialect,
  ) {
    this.origins.set(this.root, 'implicit');
    if (text.charCodeAt(0) === 0xfeff) this.pos = 1;
  }

  private peek(offset = 0): string {
    return this.text[this.pos + offset] ?? '';
  }

  private advance(n = 1): void {
    for (let i = 0; i < n; i++) {
      if (this.text[this.pos] === '\n') {
        this.line++;
        this.lineStart = this.pos + 1;
      }
      this.pos++;
    }
  }

  private fail(message: string): never {
    throw new TomlSyntaxError(message, this.line, this.pos - this.lineStart + 1);
  }

  private skipSpaces(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.advance();
  }

  /** A newline is LF or CRLF; a CR on its own is an error in both go-toml versions. */
  private atNewline(): boolean {
    return this.peek() === '\n' || (this.peek() === '\r' && this.peek(1) === '\n');
  }

  private skipNewline(): void {
    if (this.peek() === '\r') this.advance();
    this.advance();
  }

  private skipComment(): void {
    this.advance(); // '#'
    while (this.pos < this.text.length && !this.atNewline()) {
      const code = this.text.charCodeAt(this.pos);
      if ((code < 0x20 && code !== 0x09) || code === 0x7f) this.fail('control character in a comment');
      this.advance();
    }
  }

  /** Skips spaces, newlines and comments (inside arrays). */
  private skipBlank(): void {
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t') this.advance();
      else if (this.atNewline()) this.skipNewline();
      else if (c === '#') this.skipComment();
      else return;
    }
  }

  /** After a key/value or header: only spaces and a comment before the end of the line. */
  private endOfLine(): void {
    this.skipSpaces();
    if (this.peek() === '#') this.skipComment();
    if (this.pos >= this.text.length) return;
    if (!this.atNewline()) this.fail(`unexpected ${JSON.stringify(this.peek())} after a value; expected the end of the line`);
    this.skipNewline();
  }

  private checkChar(c: string, multiline: boolean): void {
    const code = c.charCodeAt(0);
    if (code === 0x09) return;
    if (multiline && (c === '\n' || (c === '\r' && this.peek(1) === '\n'))) return;
    if (code < 0x20 || code === 0x7f) this.fail(c === '\n' || c === '\r' ? 'unterminated string' : 'control character in a string');
  }

  private readEscape(): string {
    const e = this.peek(1);
    const simple = ESCAPES[e];
    if (simple !== undefined) {
      this.advance(2);
      return simple;
    }
    if (e === 'u' || e === 'U') {
      const len = e === 'u' ? 4 : 8;
      const hex = this.text.slice(this.pos + 2, this.pos + 2 + len);
      if (hex.length !== len || !/^[0-9a-fA-F]+$/.test(hex)) this.fail('invalid unicode escape');
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) this.fail('invalid unicode escape');
      this.advance(2 + len);
      return String.fromCodePoint(cp);
    }
    this.fail(`invalid escape \\${e}`);
  }

  private readBasicString(): string {
    this.advance();
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === '') this.fail('unterminated string');
      if (c === '"') {
        this.advance();
        return out;
      }
      if (c === '\\') {
        out += this.readEscape();
        continue;
      }
      this.checkChar(c, false);
      out += c;
      this.advance();
    }
  }

  private readLiteralString(): string {
    this.advance();
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === '') this.fail('unterminated string');
      if (c === "'") {
        this.advance();
        return out;
      }
      this.checkChar(c, false);
      out += c;
      this.advance();
    }
  }

  private readMultiline(quote: '"""' | "'''"): string {
    this.advance(3);
    if (this.atNewline()) this.skipNewline();
    let out = '';
    for (;;) {
      if (this.pos >= this.text.length) this.fail('unterminated multi-line string');
      if (this.text.startsWith(quote, this.pos)) {
        let n = 3;
        while (this.peek(n) === quote[0] && n < 5) n++;
        out += quote[0]?.repeat(n - 3) ?? '';
        this.advance(n);
        return out;
      }
      const c = this.peek();
      if (quote === '"""' && c === '\\') {
        // a line-ending backslash trims the newline and the whitespace after it
        let k = 1;
        while (this.peek(k) === ' ' || this.peek(k) === '\t') k++;
        if (this.peek(k) === '\n' || (this.peek(k) === '\r' && this.peek(k + 1) === '\n')) {
          this.advance(k);
          while (this.peek() === ' ' || this.peek() === '\t' || this.atNewline()) {
            if (this.atNewline()) this.skipNewline();
            else this.advance();
          }
          continue;
        }
        out += this.readEscape();
        continue;
      }
      this.checkChar(c, true);
      if (c === '\r') {
        this.advance();
        continue; // CRLF is one newline
      }
      out += c;
      this.advance();
    }
  }

  private readSimpleKey(): { key: string; quoted: boolean } {
    const c = this.peek();
    if (c === '"') {
      if (this.text.startsWith('"""', this.pos)) this.fail('a multi-line string cannot be a key');
      return { key: this.readBasicString(), quoted: true };
    }
    if (c === "'") {
      if (this.text.startsWith("'''", this.pos)) this.fail('a multi-line string cannot be a key');
      return { key: this.readLiteralString(), quoted: true };
    }
    let out = '';
    while (this.peek() !== '' && BARE_KEY.test(this.peek())) {
      out += this.peek();
      this.advance();
    }
    if (out === '') this.fail(c === '' || this.atNewline() ? 'a key is missing' : `unexpected character ${JSON.stringify(c)} where a key was expected`);
    return { key: out, quoted: false };
  }

  private readKey(): string[] {
    const parts = [this.readSimpleKey().key];
    for (;;) {
      this.skipSpaces();
      if (this.peek() !== '.') return parts;
      this.advance();
      this.skipSpaces();
      parts.push(this.readSimpleKey().key);
    }
  }

  private readScalar(): TomlValue {
    const start = this.pos;
    while (this.pos < this.text.length && !/[ \t\r\n,\]}#]/.test(this.peek())) this.advance();
    // a date may be followed by one space and a time
    if (DATE.test(this.text.slice(start, this.pos)) && this.peek() === ' ' && /\d/.test(this.peek(1))) {
      this.advance();
      while (this.pos < this.text.length && !/[ \t\r\n,\]}#]/.test(this.peek())) this.advance();
    }
    const word = this.text.slice(start, this.pos);
    if (word === '') this.fail('a value is missing');
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (DEC_INT.test(word)) return Number(word.replace(/_/g, ''));
    if (PREFIXED_INT.test(word)) {
      const digits = word.slice(2).replace(/_/g, '');
      const radix = word[1] === 'x' ? 16 : word[1] === 'o' ? 8 : 2;
      return parseInt(digits, radix);
    }
    if (/^[+-]?(inf|nan)$/.test(word)) return word.endsWith('inf') ? (word.startsWith('-') ? -Infinity : Infinity) : NaN;
    if (FLOAT.test(word)) return Number(word.replace(/_/g, ''));
    if (DATE.test(word) || TIME.test(word) || DATE_TIME.test(word)) return new TomlDateTime(word);
    this.pos = start;
    this.fail(`invalid value ${JSON.stringify(word.length > 40 ? `${word.slice(0, 40)}…` : word)} (strings must be quoted)`);
  }

  private readValue(path: string[]): TomlValue {
    const c = this.peek();
    if (this.text.startsWith('"""', this.pos)) return this.readMultiline('"""');
    if (this.text.startsWith("'''", this.pos)) return this.readMultiline("'''");
    if (c === '"') return this.readBasicString();
    if (c === "'") return this.readLiteralString();
    if (c === '[') {
      this.advance();
      const out: TomlValue[] = [];
      for (;;) {
        this.skipBlank();
        if (this.peek() === ']') {
          this.advance();
          return out;
        }
        out.push(this.readValue(path));
        this.skipBlank();
        if (this.peek() === ',') this.advance();
        else if (this.peek() !== ']') this.fail('expected , or ] in an array');
      }
    }
    if (c === '{') return this.readInlineTable(path);
    return this.readScalar();
  }

  private readInlineTable(path: string[]): TomlTable {
    this.advance();
    const table: TomlTable = {};
    this.origins.set(table, 'inline');
    this.skipSpaces();
    if (this.peek() === '}') {
      this.advance();
      return table;
    }
    for (;;) {
      this.skipSpaces();
      this.readKeyval(table, path, true);
      this.skipSpaces();
      if (this.peek() === ',') {
        this.advance();
        continue;
      }
      if (this.peek() === '}') {
        this.advance();
        return table;
      }
      this.fail(this.atNewline() ? 'an inline table must stay on one line' : 'expected , or } in an inline table');
    }
  }

  private isTableValue(v: TomlValue | undefined): v is TomlTable {
    return isTable(v);
  }

  /** The table a dotted key continues into, creating it when missing. */
  private dottedChild(parent: TomlTable, key: string, line: number): TomlTable {
    const existing = parent[key];
    if (existing === undefined) {
      const t: TomlTable = {};
      this.origins.set(t, this.origins.get(parent) === 'inline' ? 'inline' : 'dotted');
      parent[key] = t;
      return t;
    }
    if (this.dialect === 'v1') {
      if (Array.isArray(existing) && this.tableArrays.has(existing)) return existing[existing.length - 1] as TomlTable;
      if (this.isTableValue(existing)) return existing;
      throw new TomlSyntaxError(`key ${JSON.stringify(key)} is already a value, it cannot also be a table`, line, 1);
    }
    if (this.isTableValue(existing) && this.origins.get(existing) === 'dotted') return existing;
    if (this.isTableValue(existing) && this.origins.get(existing) === 'inline' && this.origins.get(parent) === 'inline') return existing;
    throw new TomlSyntaxError(
      this.isTableValue(existing)
        ? `table ${JSON.stringify(key)} is already defined; a dotted key cannot add to it`
        : `key ${JSON.stringify(key)} is already defined`,
      line,
      1,
    );
  }

  private readKeyval(table: TomlTable, tablePath: string[], inline: boolean): void {
    const line = this.line;
    const key = this.readKey();
    this.skipSpaces();
    if (this.peek() !== '=') this.fail(this.atNewline() || this.peek() === '' ? `key ${key.join('.')} has no value` : 'expected = after a key');
    this.advance();
    this.skipSpaces();
    const path = [...tablePath, ...key];
    this.events.push({ path, line, kind: 'keyval', inline, tableDepth: tablePath.length, bracketInQuotedKey: false });
    let target = table;
    for (const part of key.slice(0, -1)) target = this.dottedChild(target, part, line);
    if (this.dialect === 'v1' && !inline && this.origins.get(target) === 'inline') {
      throw new TomlSyntaxError(`cannot add a key to the inline table ${path.slice(0, -1).join('.')}`, line, 1);
    }
    const last = key[key.length - 1] as string;
    if (last in target) {
      throw new TomlSyntaxError(`key ${path.join('.')} is defined twice`, line, 1);
    }
    target[last] = this.readValue(path);
  }

  /** Walks (and creates) the tables a header names; returns the table new keys go into. */
  private openTable(keys: string[], raw: string, array: boolean, line: number): TomlTable {
    let current = this.root;
    for (let i = 0; i < keys.length - 1; i++) {
      const k = keys[i] as string;
      const next = current[k];
      if (next === undefined) {
        const t: TomlTable = {};
        this.origins.set(t, 'implicit');
        current[k] = t;
        current = t;
      } else if (Array.isArray(next) && this.tableArrays.has(next)) {
        current = next[next.length - 1] as TomlTable;
      } else if (this.isTableValue(next) && (this.dialect === 'v1' || this.origins.get(next) !== 'inline')) {
        current = next;
      } else {
        throw new TomlSyntaxError(`key ${keys.slice(0, i + 1).join('.')} is already defined as a value, it cannot hold a table`, line, 1);
      }
    }
    const last = keys[keys.length - 1] as string;
    const existing = current[last];
    const canonical = JSON.stringify(keys);
    if (array) {
      if (existing === undefined) {
        const arr: TomlValue[] = [];
        this.tableArrays.add(arr);
        current[last] = arr;
      } else if (!Array.isArray(existing) || !this.tableArrays.has(existing)) {
        throw new TomlSyntaxError(`key ${keys.join('.')} is already defined and is not an array of tables`, line, 1);
      }
      const arr = current[last] as TomlValue[];
      const t: TomlTable = {};
      this.origins.set(t, 'array-element');
      arr.push(t);
      // sub-tables of the previous element may be defined again under the new one
      const prefix = this.dialect === 'v1' ? `${raw}.` : canonical.slice(0, -1) + ',';
      for (const seen of [...this.seenHeaders]) if (seen.startsWith(prefix)) this.seenHeaders.delete(seen);
      return t;
    }
    // v1 tells headers apart by their raw text: the same table with other quoting or spacing is merged
    const seenKey = this.dialect === 'v1' ? raw : canonical;
    if (this.seenHeaders.has(seenKey)) throw new TomlSyntaxError(`table [${keys.join('.')}] already exists: a table can be defined only once`, line, 1);
    if (this.dialect === 'v1' && this.origins.get(current) === 'inline') {
      throw new TomlSyntaxError(`table ${keys.join('.')} is inside an inline table; it cannot be re-opened`, line, 1);
    }
    if (existing === undefined) {
      const t: TomlTable = {};
      this.origins.set(t, 'header');
      current[last] = t;
      this.seenHeaders.add(seenKey);
      return t;
    }
    if (Array.isArray(existing) && this.tableArrays.has(existing) && this.dialect === 'v1') {
      this.seenHeaders.add(seenKey);
      return existing[existing.length - 1] as TomlTable;
    }
    if (!this.isTableValue(existing)) throw new TomlSyntaxError(`key ${keys.join('.')} is already defined as a value, it cannot be a table`, line, 1);
    const origin = this.origins.get(existing);
    if (origin === 'inline') throw new TomlSyntaxError(`table ${keys.join('.')} is an inline table; it cannot be re-opened`, line, 1);
    if (this.dialect === 'v2' && origin !== 'implicit') {
      throw new TomlSyntaxError(`table [${keys.join('.')}] already exists (defined ${origin === 'dotted' ? 'by dotted keys' : 'above'})`, line, 1);
    }
    this.origins.set(existing, 'header');
    this.seenHeaders.add(seenKey);
    return existing;
  }

  private readHeader(): { table: TomlTable; path: string[] } {
    const line = this.line;
    const start = this.pos;
    const isArray = this.peek(1) === '[';
    this.advance(isArray ? 2 : 1);
    const rawStart = this.pos;
    this.skipSpaces();
    const key = this.readKey();
    this.skipSpaces();
    const raw = this.text.slice(rawStart, this.pos);
    const close = isArray ? ']]' : ']';
    if (!this.text.startsWith(close, this.pos)) this.fail(`expected ${close} at the end of a table header`);
    const firstBracket = this.text.indexOf(']', start);
    this.events.push({
      path: key,
      line,
      kind: isArray ? 'array-table' : 'table',
      inline: false,
      tableDepth: 0,
      bracketInQuotedKey: firstBracket !== this.pos,
    });
    this.advance(close.length);
    const table = this.openTable(key, raw, isArray, line);
    return { table, path: key };
  }

  parse(): TomlTable {
    let table = this.root;
    let path: string[] = [];
    while (this.pos < this.text.length) {
      this.skipSpaces();
      const c = this.peek();
      if (c === '') break;
      if (c === '#') {
        this.skipComment();
        this.endOfLine();
      } else if (this.atNewline()) this.skipNewline();
      else if (c === '[') {
        ({ table, path } = this.readHeader());
        this.endOfLine();
      } else {
        this.readKeyval(table, path, false);
        this.endOfLine();
      }
    }
    return this.root;
  }
}

/** outlineOf scans a document's keys (go-toml v2 rules); it throws on text it cannot read. */
export function outlineOf(text: string, dialect: TomlDialect = 'v2'): OutlineEvent[] {
  const p = new Parser(text, dialect);
  p.parse();
  return p.events;
}

/** parseToml parses a document by one go-toml version's rules; syntax errors come back with a 1-based line and column. */
export function parseToml(text: string, dialect: TomlDialect = 'v2'): TomlResult {
  const p = new Parser(text, dialect);
  try {
    const data = p.parse();
    return { ok: true, doc: { data, outline: p.events } };
  } catch (e) {
    if (e instanceof TomlSyntaxError) return { ok: false, message: e.message, line: e.line, column: e.column, outline: p.events };
    throw e;
  }
}

/** isTable tells a TOML table from the other value kinds. */
export function isTable(v: TomlValue | undefined): v is TomlTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof TomlDateTime);
}
