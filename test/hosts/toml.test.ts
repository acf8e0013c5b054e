import { describe, expect, it } from 'vitest';
import { outlineOf, parseToml } from '../../src/hosts/toml.js';

describe('outlineOf', () => {
  it('records headers, dotted keys and inline-table keys with their lines, in file order', () => {
    const text = [
      'server = "https://r.example.com" # comment',
      'host."https://d.example.com".capabilities = ["pull"]',
      '[host."https://a.example.com"]',
      '  capabilities = [',
      '    "pull", # one',
      '  ]',
      '  notes = """multi',
      'line ] string"""',
      '[host."https://a.example.com".header]',
      "  'x-lit' = 'v'",
      '[host]',
      '"https://i.example.com" = { capabilities = ["pull"], header = { x = "1" } }',
    ].join('\n');
    const events = outlineOf(text, 'v1').map((e) => `${e.line}:${e.kind}:${e.path.join('|')}`);
    expect(events).toEqual([
      '1:keyval:server',
      '2:keyval:host|https://d.example.com|capabilities',
      '3:table:host|https://a.example.com',
      '4:keyval:host|https://a.example.com|capabilities',
      '7:keyval:host|https://a.example.com|notes',
      '9:table:host|https://a.example.com|header',
      '10:keyval:host|https://a.example.com|header|x-lit',
      '11:table:host',
      '12:keyval:host|https://i.example.com',
      '12:keyval:host|https://i.example.com|capabilities',
      '12:keyval:host|https://i.example.com|header',
      '12:keyval:host|https://i.example.com|header|x',
    ]);
  });

  it('flags a ] inside a quoted table key (go-toml v1 cannot read it)', () => {
    const [e] = outlineOf('[host."http://[::1]:5001"]\n');
    expect(e?.bracketInQuotedKey).toBe(true);
    expect(outlineOf('[host."https://a"]\n')[0]?.bracketInQuotedKey).toBe(false);
  });
});

describe('parseToml', () => {
  it('reports syntax errors with a 1-based line', () => {
    const r = parseToml('a = 1\n[host."x"\n');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.line).toBe(2);
  });
});

describe('go-toml v1 and v2 dialects (containerd 1.x and 2.x)', () => {
  const both = ['v1', 'v2'] as const;

  it.each(both)('%s accepts CRLF line endings, also right after a comment', (dialect) => {
    const r = parseToml(
      '# mirrors for docker.io\r\nserver = "https://r.example.com" # upstream\r\n\r\n[host."https://m"]\r\n  capabilities = ["pull"] # x\r\n',
      dialect,
    );
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.doc.data).toEqual({ server: 'https://r.example.com', host: { 'https://m': { capabilities: ['pull'] } } });
  });

  it.each(both)('%s rejects a carriage return on its own', (dialect) => {
    expect(parseToml('a = 1\rb = 2\n', dialect).ok).toBe(false);
  });

  it('v1 merges a table re-opened with other quoting; v2 says it already exists', () => {
    const text = "[host.'https://m']\n  capabilities = ['pull']\n[host.\"https://m\"]\n  skip_verify = true\n";
    const v1 = parseToml(text, 'v1');
    expect(v1.ok).toBe(true);
    if (v1.ok) expect(v1.doc.data).toEqual({ host: { 'https://m': { capabilities: ['pull'], skip_verify: true } } });
    const v2 = parseToml(text, 'v2');
    expect(v2).toMatchObject({ ok: false, line: 3 });
    if (!v2.ok) expect(v2.message).toMatch(/already exists/);
  });

  it.each(both)('%s rejects a table defined twice with the same spelling', (dialect) => {
    expect(parseToml('[host."https://m"]\n[host."https://m"]\n', dialect)).toMatchObject({ ok: false, line: 2 });
  });

  it.each(both)('%s rejects a key defined twice', (dialect) => {
    expect(parseToml('[a]\nx = 1\nx = 2\n', dialect)).toMatchObject({ ok: false, line: 3 });
  });

  it('v1 lets a header extend a table made by dotted keys; v2 does not', () => {
    const text = 'host."https://m".ca = "a.pem"\n[host."https://m"]\n  skip_verify = true\n';
    expect(parseToml(text, 'v1').ok).toBe(true);
    expect(parseToml(text, 'v2')).toMatchObject({ ok: false, line: 2 });
  });

  it.each(both)('%s lets a header add a sub-table under a dotted-key table', (dialect) => {
    expect(parseToml('host."https://m".ca = "a.pem"\n[host."https://m".header]\n  x = "1"\n', dialect).ok).toBe(true);
  });

  it.each(both)('%s refuses to re-open an inline table', (dialect) => {
    expect(parseToml('[h]\nheader = { x = "1" }\n[h.header]\ny = "2"\n', dialect).ok).toBe(false);
    expect(parseToml('[h]\nheader = { x = "1" }\nheader.y = "2"\n', dialect).ok).toBe(false);
  });

  it('reads every TOML value kind', () => {
    const r = parseToml(
      [
        'a = "tab\\tq\\"\\u00e9"',
        "b = 'C:\\raw'",
        'c = """',
        'one \\',
        '   two"""',
        "d = '''x",
        "y'''",
        'e = [1, 0x1f, 0o7, 0b10, 1_000, -3]',
        'f = [1.5, -2e3, inf, -inf]',
        'g = [true, false]',
        'h = 1979-05-27T07:32:00Z',
        'i = { j.k = 1 }',
        '[[arr]]',
        'n = 1',
        '[[arr]]',
        'n = 2',
      ].join('\n'),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const d = r.doc.data;
    expect(d.a).toBe('tab\tq"é');
    expect(d.b).toBe('C:\\raw');
    expect(d.c).toBe('one two');
    expect(d.d).toBe('x\ny');
    expect(d.e).toEqual([1, 31, 7, 2, 1000, -3]);
    expect(d.f).toEqual([1.5, -2000, Infinity, -Infinity]);
    expect(d.g).toEqual([true, false]);
    expect(String(d.h)).toBe('1979-05-27T07:32:00Z');
    expect(d.i).toEqual({ j: { k: 1 } });
    expect(d.arr).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it.each([
    ['unquoted string', 'server = https://m\n', 1],
    ['unterminated string', 'a = "x\n', 1],
    ['missing ]', '[host."m"\n', 1],
    ['text after a value', 'a = 1 b\n', 1],
    ['inline table over two lines', 'a = { x = 1,\n y = 2 }\n', 1],
    ['bad escape', 'a = "\\q"\n', 1],
    ['leading zero', 'a = 01\n', 1],
  ])('reports %s with its line', (_name, text, line) => {
    expect(parseToml(text)).toMatchObject({ ok: false, line });
  });
});
