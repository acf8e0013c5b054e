/**
 * parseHostsToml turns hosts.toml text into containerd's ordered entries, the
 * way the selected containerd version does (rules R13–R19), or reports why
 * containerd would reject the whole file (R11). It never reads files.
 */
import { cleanPath, GoUrlError, parseGoUrl, parseGoDuration } from './go-semantics.js';
import { diagnostic, type DiagnosticCode } from './diagnostics.js';
import { isTable, parseToml, TomlDateTime, type OutlineEvent, type TomlTable, type TomlValue } from './toml.js';
import { blankHostConfig, type Capability, type Diagnostic, type HostConfig } from './types.js';
import { hasFeature, type ContainerdVersion } from './version.js';

export interface ParseOptions {
  /** Path of the hosts.toml, for diagnostics. */
  file: string;
  /** Directory relative `ca`/`client` paths are joined to. */
  baseDir: string;
  version: ContainerdVersion;
}

/** Why containerd rejects the file; it then falls back to the cert-file layout (R11). */
export interface ParseFailure {
  code: DiagnosticCode;
  message: string;
  line: number | null;
  fix: string;
  rule: string;
  /** containerd does not fall back: it crashes (go-toml v2 panics inside ConfigureHosts). */
  crash?: boolean;
}

export type ParseResult = { ok: true; hosts: HostConfig[]; diagnostics: Diagnostic[] } | { ok: false; failure: ParseFailure; diagnostics: Diagnostic[] };

class Rejected extends Error {
  constructor(readonly failure: ParseFailure) {
    super(failure.message);
  }
}

function reject(code: DiagnosticCode, message: string, line: number | null, fix: string, rule = 'R11'): never {
  throw new Rejected({ code, message, line, fix, rule });
}

/** The fields of one entry: TOML tag and Go field name (go-toml v1 also matches the field name). */
const FIELDS = {
  capabilities: 'Capabilities',
  ca: 'CACert',
  client: 'Client',
  skip_verify: 'SkipVerify',
  header: 'Header',
  override_path: 'OverridePath',
  dial_timeout: 'DialTimeout',
} as const;
const ROOT_ONLY = { server: 'Server', host: 'HostConfigs' } as const;

/** Keys people write into hosts.toml that containerd never reads, and where they come from. */
const FOREIGN_KEYS: Record<string, string> = {
  rewrite: "k3s' registries.yaml key (mirrors.<name>.rewrite); containerd ignores it in hosts.toml",
  pass_upstream_credentials: 'proposed in containerd#13706, not merged: containerd ignores it',
  credential_helper: 'proposed in containerd#8476, not merged: containerd ignores it',
  dial_addr: 'proposed in containerd#13569, not merged: containerd ignores it',
  proxy: 'proposed in containerd#13359, not merged: containerd ignores it',
  username: 'containerd never reads credentials from hosts.toml (containerd#10996)',
  password: 'containerd never reads credentials from hosts.toml (containerd#10996)',
  auth: 'containerd never reads credentials from hosts.toml (containerd#10996)',
  mirrors: 'a registries.yaml / daemon.json key; hosts.toml lists mirrors as [host."…"] tables',
  plain_http: 'not a hosts.toml key: write the host with http:// instead',
  insecure: 'not a hosts.toml key: use skip_verify = true (TLS) or an http:// host',
};

interface FieldValue {
  value: TomlValue;
  key: string;
  path: string[];
}

function typeName(v: TomlValue): string {
  if (Array.isArray(v)) return 'array';
  if (v instanceof TomlDateTime) return 'date-time';
  if (isTable(v)) return 'table';
  return typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'float') : typeof v;
}

/** Line lookup over the document outline: first line that mentions a key path or anything below it. */
class Lines {
  private readonly first = new Map<string, number>();
  constructor(outline: OutlineEvent[]) {
    for (const e of outline) {
      for (let n = 1; n <= e.path.length; n++) {
        const k = e.path.slice(0, n).join('\u0000');
        if (!this.first.has(k)) this.first.set(k, e.line);
      }
    }
  }
  of(path: string[]): number | null {
    return this.first.get(path.join('\u0000')) ?? null;
  }
}

/** Parser holds the state of one parse: version rules, file, outline lines and collected diagnostics. */
class Parser {
  readonly diagnostics: Diagnostic[] = [];
  private readonly v2: boolean;

  constructor(
    private readonly opts: ParseOptions,
    private readonly lines: Lines,
  ) {
    this.v2 = hasFeature(opts.version, 'tomlV2');
  }

  private note(code: DiagnosticCode, message: string, path: string[], fix: string | null = null, rule: string | null = null): void {
    this.diagnostics.push(diagnostic(code, { message, file: this.opts.file, line: this.lines.of(path), fix, rule }));
  }

  /** matchField finds which struct field a TOML key fills, as go-toml v1 or v2 matches keys. */
  private matchField(key: string, fields: Record<string, string>): string | null {
    for (const [tag, goName] of Object.entries(fields)) {
      if (key === tag) return tag;
      if (this.v2 ? key.toLowerCase() === tag.toLowerCase() : key === goName || key === goName.toLowerCase()) return tag;
    }
    return null;
  }

  /** fieldsOf splits a table into known fields and reports unknown keys. */
  fieldsOf(table: TomlTable, path: string[], root: boolean): Map<string, FieldValue> {
    const known: Record<string, string> = root ? { ...FIELDS, ...ROOT_ONLY } : { ...FIELDS };
    if (!hasFeature(this.opts.version, 'dialTimeout')) delete known.dial_timeout;
    const out = new Map<string, FieldValue>();
    for (const key of Object.keys(table)) {
      const value = table[key] as TomlValue;
      const keyPath = [...path, key];
      const tag = this.matchField(key, known);
      if (tag === null) {
        if (key.toLowerCase() === 'dial_timeout' && !hasFeature(this.opts.version, 'dialTimeout')) {
          this.note(
            'HOSTS_KEY_IGNORED_BY_VERSION',
            `"dial_timeout" is ignored by containerd ${this.opts.version.text}; it is read from containerd 2.0.7 on`,
            keyPath,
            'remove it, or keep it for containerd >= 2.0.7',
            'R13',
          );
          continue;
        }
        const where = root ? 'at the top level' : `in host ${JSON.stringify(path[path.length - 1])}`;
        const suggestion = suggest(key, Object.keys(known));
        const rootOnly = !root && key in ROOT_ONLY;
        const foreign = FOREIGN_KEYS[key.toLowerCase()];
        const credentials = ['username', 'password', 'auth'].includes(key.toLowerCase());
        this.note(
          'HOSTS_UNKNOWN_KEY',
          rootOnly
            ? `"${key}" ${where} is ignored: it is only read at the top level of hosts.toml`
            : foreign !== undefined
              ? `"${key}" ${where} is ignored: ${foreign}`
              : `unknown key "${key}" ${where} is ignored by containerd`,
          keyPath,
          credentials
            ? 'remove it and store the credential with mirrorauth login (the file is readable by every process that reads containerd config)'
            : foreign !== undefined
              ? 'remove it'
              : suggestion
                ? `did you mean "${suggestion}"?`
                : 'remove it, or check the spelling against docs/hosts-resolution.md',
          'R13',
        );
        continue;
      }
      if (tag !== key) {
        this.note('HOSTS_KEY_ALIAS', `"${key}" is read as "${tag}" by this containerd version`, keyPath, `write it as "${tag}"`, 'R13');
      }
      if (!out.has(tag)) out.set(tag, { value, key, path: keyPath });
    }
    return out;
  }

  private typeError(f: FieldValue, want: string): never {
    reject('HOSTS_TOML_TYPE', `"${f.key}" must be ${want}, not ${typeName(f.value)}`, this.lines.of(f.path), `write "${f.key}" as ${want}`);
  }

  private stringList(f: FieldValue, want: string): string[] {
    if (!Array.isArray(f.value)) this.typeError(f, want);
    return f.value.map((item) => {
      if (typeof item !== 'string') this.typeError(f, want);
      return item;
    });
  }

  private absPath(p: string): string {
    return p.startsWith('/') ? p : cleanPath(`${this.opts.baseDir}/${p}`);
  }

  /** parseEntry mirrors containerd's parseHostConfig for one entry. */
  parseEntry(server: string, fields: Map<string, FieldValue>, origin: 'host' | 'server', keyPath: string[]): HostConfig {
    // One piece: one hosts.toml entry, field by field in the order containerd's parser checks them; each field is a short block.
    const result = blankHostConfig(origin, server === '' ? null : server, this.lines.of(keyPath));
    const override = fields.get('override_path');
    if (override) {
      if (typeof override.value !== 'boolean') this.typeError(override, 'true or false');
      result.overridePath = override.value;
    }
    const skip = fields.get('skip_verify');
    if (skip) {
      if (typeof skip.value !== 'boolean') this.typeError(skip, 'true or false');
      result.skipVerify = skip.value;
    }
    const caps = fields.get('capabilities');
    const capsList = caps ? this.stringList(caps, 'an array of strings') : [];

    if (server !== '') {
      const withScheme = server.startsWith('http') ? server : `https://${server}`;
      let u;
      try {
        u = parseGoUrl(withScheme);
      } catch (e) {
        if (!(e instanceof GoUrlError)) throw e;
        reject(
          'HOSTS_TOML_BAD_URL',
          `cannot parse ${JSON.stringify(server)} as a URL: ${e.message}`,
          result.line,
          'write the host as https://HOST[:PORT][/PATH]',
        );
      }
      result.scheme = u.scheme;
      result.host = u.host;
      let p = u.path;
      if (p.length > 0) {
        p = cleanPath(p);
        if (!p.endsWith('/v2') && !result.overridePath) p += '/v2';
      } else if (!result.overridePath) {
        p = '/v2';
      }
      result.path = p;
    }

    if (capsList.length > 0) {
      const set = new Set<Capability>();
      for (const c of capsList) {
        const lc = c.toLowerCase();
        if (lc === 'pull' || lc === 'resolve' || lc === 'push' || (lc === 'referrers' && hasFeature(this.opts.version, 'referrersCapability'))) {
          set.add(lc);
          continue;
        }
        const hint =
          lc === 'referrers'
            ? `"referrers" exists from containerd 2.2 on; remove it for containerd ${this.opts.version.text}`
            : 'use only "pull", "resolve" and "push"' + (hasFeature(this.opts.version, 'referrersCapability') ? ' (and "referrers")' : '');
        reject('HOSTS_TOML_UNKNOWN_CAPABILITY', `unknown capability ${JSON.stringify(c)}`, this.lines.of(caps?.path ?? keyPath), hint);
      }
      result.capabilities = ['pull', 'resolve', 'push', 'referrers'].filter((c) => set.has(c as Capability)) as Capability[];
    } else {
      result.capabilities = defaultCapabilities(this.opts.version);
    }

    const ca = fields.get('ca');
    if (ca) {
      if (typeof ca.value === 'string') result.caCerts = [this.absPath(ca.value)];
      else if (Array.isArray(ca.value)) result.caCerts = this.stringList(ca, 'a path or an array of paths').map((p) => this.absPath(p));
      else this.typeError(ca, 'a path or an array of paths');
    }

    const client = fields.get('client');
    if (client) {
      const want = 'a path, an array of paths or an array of [cert, key] pairs';
      if (typeof client.value === 'string') {
        result.clientPairs = [[this.absPath(client.value), '']];
      } else if (Array.isArray(client.value)) {
        for (const item of client.value) {
          result.clientPairs ??= [];
          if (typeof item === 'string') {
            result.clientPairs.push([this.absPath(item), '']);
          } else if (Array.isArray(item)) {
            const pair = this.stringList({ ...client, value: item }, want);
            if (pair.length !== 2) {
              reject(
                'HOSTS_TOML_TYPE',
                `a "client" pair must hold exactly two paths (cert and key), not ${pair.length}`,
                this.lines.of(client.path),
                'write it as ["client.cert", "client.key"]',
              );
            }
            result.clientPairs.push([this.absPath(pair[0] as string), this.absPath(pair[1] as string)]);
          } else {
            this.typeError(client, want);
          }
        }
      } else {
        this.typeError(client, want);
      }
    }

    const header = fields.get('header');
    if (header) {
      if (!isTable(header.value)) this.typeError(header, 'a table of header names');
      result.header = [];
      for (const [name, value] of Object.entries(header.value)) {
        const hf: FieldValue = { value, key: `header.${name}`, path: [...header.path, name] };
        if (typeof value === 'string') result.header.push([name, [value]]);
        else if (Array.isArray(value)) result.header.push([name, this.stringList(hf, 'a string or an array of strings')]);
        else this.typeError(hf, 'a string or an array of strings');
      }
    }

    const dial = fields.get('dial_timeout');
    if (dial) {
      if (typeof dial.value !== 'string') this.typeError(dial, 'a duration string such as "5s"');
      if (dial.value !== '') {
        if (parseGoDuration(dial.value) === null) {
          reject(
            'HOSTS_TOML_BAD_DIAL_TIMEOUT',
            `"dial_timeout" ${JSON.stringify(dial.value)} is not a duration`,
            this.lines.of(dial.path),
            'write a Go duration such as "500ms", "5s" or "1m"',
          );
        }
        result.dialTimeout = dial.value;
      }
    }
    return result;
  }

  /** checkDecodeTypes rejects values go-toml cannot decode into containerd's typed fields. */
  checkDecodeTypes(fields: Map<string, FieldValue>): void {
    for (const [tag, f] of fields) {
      switch (tag) {
        case 'skip_verify':
        case 'override_path':
          if (typeof f.value !== 'boolean') this.typeError(f, 'true or false');
          break;
        case 'capabilities':
          this.stringList(f, 'an array of strings');
          break;
        case 'header':
          if (!isTable(f.value)) this.typeError(f, 'a table of header names');
          break;
        case 'server':
        case 'dial_timeout':
          if (typeof f.value !== 'string')
            this.typeError(f, tag === 'server' ? 'a string such as "https://registry.example.com"' : 'a duration string such as "5s"');
          break;
        default:
          break;
      }
    }
  }

  /** hostOrder returns the host keys in the order this containerd version walks them (R15, R16). */
  hostOrder(hostTable: TomlTable, outline: OutlineEvent[]): string[] {
    // One piece: go-toml's key order rules per version, which only read right together.
    const keys = Object.keys(hostTable);
    if (this.v2) {
      const order: string[] = [];
      let previous: string | undefined;
      for (const e of outline) {
        if (e.kind !== 'table' || e.path.length < 2 || e.path[0] !== 'host') continue;
        const h = e.path[1] as string;
        if (h === previous) continue;
        if (order.includes(h)) {
          this.note(
            'HOSTS_HOST_REPEATED',
            `host ${JSON.stringify(h)} is tried again here, because one of its sub-tables comes after another host`,
            ['host', h],
            `move [host.${JSON.stringify(h)}.…] sub-tables directly below [host.${JSON.stringify(h)}]`,
            'R16',
          );
        }
        previous = h;
        order.push(h);
      }
      for (const k of keys) {
        if (!order.includes(k)) {
          this.note(
            'HOSTS_HOST_DROPPED',
            `host ${JSON.stringify(k)} is ignored: containerd ${this.opts.version.text} only uses hosts declared with a [host."…"] table header, not dotted keys or inline tables`,
            ['host', k],
            `declare it as [host.${JSON.stringify(k)}]`,
            'R16',
          );
        }
      }
      return order;
    }
    // go-toml v1: sort by the line where each host's table was first created.
    const firstSeen = new Map<string, { line: number; seq: number }>();
    outline.forEach((e, seq) => {
      if (e.path[0] !== 'host' || e.path.length < 2) return;
      const h = e.path[1] as string;
      if (!firstSeen.has(h)) firstSeen.set(h, { line: e.line, seq });
    });
    const sorted = [...keys].sort((a, b) => {
      const fa = firstSeen.get(a);
      const fb = firstSeen.get(b);
      return (fa?.line ?? 0) - (fb?.line ?? 0) || (fa?.seq ?? 0) - (fb?.seq ?? 0);
    });
    const byLine = new Map<number, string[]>();
    for (const k of sorted) {
      const line = firstSeen.get(k)?.line ?? 0;
      byLine.set(line, [...(byLine.get(line) ?? []), k]);
    }
    for (const [line, group] of byLine) {
      if (group.length > 1) {
        this.diagnostics.push(
          diagnostic('HOSTS_ORDER_RANDOM', {
            message: `hosts ${group.map((g) => JSON.stringify(g)).join(', ')} share line ${line}; containerd ${this.opts.version.text} tries them in a random order on every pull (shown here in file order)`,
            file: this.opts.file,
            line,
            fix: 'give each host its own [host."…"] table header',
            rule: 'R15',
          }),
        );
      }
    }
    return sorted;
  }
}

/** defaultCapabilities is what an entry without `capabilities` gets (R13). */
export function defaultCapabilities(version: ContainerdVersion): Capability[] {
  return hasFeature(version, 'referrersCapability') ? ['pull', 'resolve', 'push', 'referrers'] : ['pull', 'resolve', 'push'];
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] as number;
}

function suggest(key: string, known: string[]): string | null {
  let best: string | null = null;
  let bestDistance = 3;
  for (const k of known) {
    const d = levenshtein(key.toLowerCase(), k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * goTomlV2Crash finds the key that makes go-toml v2 panic while decoding into
 * containerd's structs: a dotted key that sets `skip_verify` (the one pointer
 * field) on a host entry an earlier dotted key already created. The map value
 * is not addressable and reflect panics; containerd does not recover (oracle,
 * 2.0 to 2.3.4).
 */
function goTomlV2Crash(outline: OutlineEvent[]): ParseFailure | null {
  const started = new Set<string>();
  for (const e of outline) {
    if (e.kind !== 'keyval' || e.inline || e.path[0] !== 'host' || e.path.length < 3 || e.tableDepth > 1) continue;
    const host = e.path[1] as string;
    if (e.path.length === 3 && (e.path[2] as string).toLowerCase() === 'skip_verify' && started.has(host)) {
      return {
        code: 'HOSTS_TOML_CRASH',
        message: `containerd 2.x crashes on this file: go-toml v2 panics ("reflect.Value.Set using unaddressable value") when a dotted key sets skip_verify on host ${JSON.stringify(host)} after another dotted key of that host`,
        line: e.line,
        fix: `declare the host as a table: [host.${JSON.stringify(host)}] with skip_verify = … inside it (or move this line above the host's other dotted keys)`,
        rule: 'R16',
        crash: true,
      };
    }
    started.add(host);
  }
  return null;
}

/** parseHostsToml parses one hosts.toml for one containerd version. */
export function parseHostsToml(text: string, opts: ParseOptions): ParseResult {
  // One piece: containerd's parseHostsFile in its order: the server entry, then the hosts, then the fallbacks.
  const v2 = hasFeature(opts.version, 'tomlV2');
  const parsed = parseToml(text, v2 ? 'v2' : 'v1');
  if (!parsed.ok) {
    // go-toml v2 decodes while it parses: a crash on a line before the error happens first
    const crash = v2 ? goTomlV2Crash(parsed.outline) : null;
    if (crash !== null && (parsed.line === null || (crash.line ?? 0) < parsed.line)) return { ok: false, failure: crash, diagnostics: [] };
    return {
      ok: false,
      failure: {
        code: 'HOSTS_TOML_SYNTAX',
        message: `TOML syntax error: ${parsed.message}`,
        line: parsed.line,
        fix: 'correct the TOML syntax (containerd checks it with go-toml)',
        rule: 'R11',
      },
      diagnostics: [],
    };
  }
  const { data, outline } = parsed.doc;
  const lines = new Lines(outline);
  const parser = new Parser(opts, lines);
  if (text.includes('\r\n') || text.charCodeAt(0) === 0xfeff) {
    parser.diagnostics.push(
      diagnostic('HOSTS_TOML_CRLF', {
        message: `${text.charCodeAt(0) === 0xfeff ? 'the file starts with a byte-order mark' : 'the file has Windows (CRLF) line endings'}; containerd ${opts.version.text} reads it as is, but editors and tools on the node may not`,
        file: opts.file,
        line: null,
        fix: text.charCodeAt(0) === 0xfeff ? 'save it as UTF-8 without BOM' : "convert it with dos2unix (or sed -i 's/\\r$//')",
        rule: 'R11',
      }),
    );
  }
  const crash = v2 ? goTomlV2Crash(outline) : null;
  try {
    if (!v2) {
      const bracket = outline.find((e) => e.kind !== 'keyval' && e.bracketInQuotedKey);
      if (bracket) {
        reject(
          'HOSTS_TOML_BRACKET_KEY',
          `table header [${bracket.path.map((p) => JSON.stringify(p)).join('.')}] has a "]" inside its quoted key, which go-toml v1 (containerd < 2.0) cannot read`,
          bracket.line,
          'for an IPv6 host, use the host name form or upgrade to containerd 2.x; a dotted key such as host."http://[::1]:5000".capabilities = [...] also works on 1.x',
          'R15',
        );
      }
    }
    const rootFields = parser.fieldsOf(data, [], true);
    const hostField = rootFields.get('host');
    let hostTable: TomlTable = {};
    if (hostField === undefined || data.host === undefined) {
      if (!hasFeature(opts.version, 'serverOnlyFile')) {
        const hasServer = rootFields.has('server');
        reject(
          hasServer ? 'HOSTS_TOML_SERVER_ONLY' : 'HOSTS_TOML_NO_HOST_TREE',
          `containerd ${opts.version.text} rejects a hosts.toml without any [host."…"] table ("invalid \`host\` tree")`,
          null,
          'add an empty [host] table at the end of the file, or upgrade containerd (fixed in 1.7.32 and 2.0)',
          'R15',
        );
      }
    } else {
      if (!isTable(hostField.value)) {
        if (!v2)
          reject(
            'HOSTS_TOML_NO_HOST_TREE',
            `"host" must be a table, not ${typeName(hostField.value)} ("invalid \`host\` tree")`,
            lines.of(['host']),
            'declare mirrors as [host."https://mirror.example.com"] tables',
          );
        reject(
          'HOSTS_TOML_TYPE',
          `"host" must be a table, not ${typeName(hostField.value)}`,
          lines.of(['host']),
          'declare mirrors as [host."https://mirror.example.com"] tables',
        );
      }
      hostTable = hostField.value;
    }
    for (const [key, value] of Object.entries(hostTable)) {
      if (!isTable(value)) {
        reject(
          'HOSTS_TOML_TYPE',
          `host ${JSON.stringify(key)} must be a table, not ${typeName(value)}`,
          lines.of(['host', key]),
          `declare it as [host.${JSON.stringify(key)}]`,
        );
      }
    }
    const order = parser.hostOrder(hostTable, outline);
    const hostFields = new Map<string, Map<string, FieldValue>>();
    for (const key of Object.keys(hostTable)) hostFields.set(key, parser.fieldsOf(hostTable[key] as TomlTable, ['host', key], false));
    // go-toml decodes the whole file into containerd's structs before any entry is parsed,
    // so a wrongly typed value rejects the file even in a host that is never used.
    try {
      parser.checkDecodeTypes(rootFields);
      for (const fields of hostFields.values()) parser.checkDecodeTypes(fields);
    } catch (e) {
      // go-toml decodes in file order: a type error above the crashing key wins
      if (!(e instanceof Rejected) || crash === null || (e.failure.line !== null && e.failure.line < (crash.line ?? Infinity))) throw e;
    }
    if (crash !== null) throw new Rejected(crash);
    const hosts: HostConfig[] = [];
    for (const key of order) {
      hosts.push(parser.parseEntry(key, hostFields.get(key) ?? new Map(), 'host', ['host', key]));
    }
    const server = rootFields.get('server');
    hosts.push(parser.parseEntry(server ? (server.value as string) : '', rootFields, 'server', server ? server.path : []));
    return { ok: true, hosts, diagnostics: parser.diagnostics };
  } catch (e) {
    if (e instanceof Rejected) return { ok: false, failure: e.failure, diagnostics: parser.diagnostics };
    throw e;
  }
}
