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
    const events = outlineOf(text).map((e) => `${e.line}:${e.kind}:${e.path.join('|')}`);
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
