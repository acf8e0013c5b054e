import { describe, expect, it } from 'vitest';
import { parseHostsToml } from '../../src/hosts/parse.js';
import { parseContainerdVersion } from '../../src/hosts/version.js';

const opts = (version = '2.3.4') => ({
  file: '/etc/containerd/certs.d/r/hosts.toml',
  baseDir: '/etc/containerd/certs.d/r',
  version: parseContainerdVersion(version),
});

describe('parseHostsToml', () => {
  it('parses every field of an entry', () => {
    const r = parseHostsToml(
      [
        'server = "https://registry.example.com"',
        '[host."https://m.example.com:5000/prefix/"]',
        '  capabilities = ["pull", "RESOLVE"]',
        '  ca = ["ca.pem", "/abs/ca2.pem"]',
        '  client = [["c.cert", "c.key"], "both.pem"]',
        '  skip_verify = false',
        '  override_path = false',
        '  dial_timeout = "5s"',
        '  [host."https://m.example.com:5000/prefix/".header]',
        '    x-one = "1"',
        '    x-two = ["a", "b"]',
      ].join('\n'),
      opts(),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.hosts[0]).toMatchObject({
      origin: 'host',
      line: 2,
      scheme: 'https',
      host: 'm.example.com:5000',
      path: '/prefix/v2',
      capabilities: ['pull', 'resolve'],
      caCerts: ['/etc/containerd/certs.d/r/ca.pem', '/abs/ca2.pem'],
      clientPairs: [
        ['/etc/containerd/certs.d/r/c.cert', '/etc/containerd/certs.d/r/c.key'],
        ['/etc/containerd/certs.d/r/both.pem', ''],
      ],
      skipVerify: false,
      dialTimeout: '5s',
      header: [
        ['x-one', ['1']],
        ['x-two', ['a', 'b']],
      ],
    });
    expect(r.hosts[1]).toMatchObject({ origin: 'server', host: 'registry.example.com', path: '/v2', line: 1 });
  });

  it.each([
    ['syntax error', '[host."https://m"\n', 'HOSTS_TOML_SYNTAX', 1],
    ['wrong type', '[host."https://m"]\n  skip_verify = "yes"\n', 'HOSTS_TOML_TYPE', 2],
    ['wrong type in an unused 2.x host', 'host."https://d".override_path = 1\n[host."https://m"]\n', 'HOSTS_TOML_TYPE', 1],
    ['capabilities string', '[host."https://m"]\n\n  capabilities = "pull"\n', 'HOSTS_TOML_TYPE', 3],
    ['unknown capability', '[host."https://m"]\n  capabilities = ["pull", "fetch"]\n', 'HOSTS_TOML_UNKNOWN_CAPABILITY', 2],
    ['bad client pair', '[host."https://m"]\n  client = [["only-one"]]\n', 'HOSTS_TOML_TYPE', 2],
    ['bad header value', '[host."https://m".header]\n  x = { y = 1 }\n', 'HOSTS_TOML_TYPE', 2],
    ['bad URL', '[host."https://m:port"]\n', 'HOSTS_TOML_BAD_URL', 1],
  ])('rejects the file on %s, with code and line', (_n, text, code, line) => {
    const r = parseHostsToml(text, opts());
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.failure.code).toBe(code);
    expect(r.failure.line).toBe(line);
    expect(r.failure.fix).toBeTruthy();
  });

  it('reports a misspelt key with its line and a suggestion, without rejecting the file', () => {
    const r = parseHostsToml('[host."https://m"]\n  capabilites = ["pull"]\n  skip_verfy = true\n', opts());
    expect(r.ok).toBe(true);
    const unknown = r.diagnostics.filter((d) => d.code === 'HOSTS_UNKNOWN_KEY');
    expect(unknown.map((d) => [d.line, d.fix])).toEqual([
      [2, 'did you mean "capabilities"?'],
      [3, 'did you mean "skip_verify"?'],
    ]);
  });

  it('notes a key that only matches through go-toml case folding', () => {
    const r = parseHostsToml('[host."https://m"]\n  Capabilities = ["pull"]\n', opts('2.1.0'));
    expect(r.ok && r.hosts[0]?.capabilities).toEqual(['pull']);
    expect(r.diagnostics.map((d) => d.code)).toContain('HOSTS_KEY_ALIAS');
  });

  it('reports hosts that share a line as randomly ordered in 1.x', () => {
    const r = parseHostsToml('host = { "https://b" = {}, "https://a" = {} }\n', opts('1.6.20'));
    expect(r.ok).toBe(true);
    expect(r.diagnostics.find((d) => d.code === 'HOSTS_ORDER_RANDOM')?.line).toBe(1);
  });

  it('keeps a server entry last and blank when there is no server', () => {
    const r = parseHostsToml('[host."https://m"]\n', opts());
    expect(r.ok && r.hosts.map((h) => [h.origin, h.host])).toEqual([
      ['host', 'm'],
      ['server', ''],
    ]);
  });
});

describe('containerd 2.x crashes (go-toml v2 panic)', () => {
  const crashing = 'host."https://m".capabilities = ["pull"]\nhost."https://m".skip_verify = true\n';

  it('reports a dotted skip_verify after another dotted key of the same host as a crash, with its line', () => {
    const r = parseHostsToml(crashing, opts('2.3.4'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.failure).toMatchObject({ code: 'HOSTS_TOML_CRASH', line: 2, crash: true });
    expect(r.failure.message).toMatch(/crashes/);
    expect(r.failure.fix).toMatch(/\[host\."https:\/\/m"\]/);
  });

  it.each([
    ['skip_verify first', 'host."https://m".skip_verify = true\nhost."https://m".ca = "a.pem"\n'],
    ['another host', 'host."https://m".ca = "a.pem"\nhost."https://n".skip_verify = true\n'],
    ['inline table', 'host."https://m" = { ca = "a.pem", skip_verify = true }\n'],
    ['table', '[host."https://m"]\n  ca = "a.pem"\n  skip_verify = true\n'],
  ])('does not crash with %s', (_name, text) => {
    const r = parseHostsToml(text, opts('2.3.4'));
    expect(r.ok ? 'ok' : r.failure.code).not.toBe('HOSTS_TOML_CRASH');
  });

  it('the same file works on containerd 1.6.20 (go-toml v1)', () => {
    const r = parseHostsToml(crashing, opts('1.6.20'));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.hosts[0]).toMatchObject({ host: 'm', skipVerify: true, capabilities: ['pull'] });
  });

  it('1.6.20 uses a host re-opened with other quoting; 2.x falls back', () => {
    const text = "[host.'https://m']\n  capabilities = ['pull']\n[host.\"https://m\"]\n  skip_verify = true\n";
    const old = parseHostsToml(text, opts('1.6.20'));
    expect(old.ok).toBe(true);
    if (old.ok) expect(old.hosts[0]).toMatchObject({ host: 'm', skipVerify: true, capabilities: ['pull'] });
    const v2 = parseHostsToml(text, opts('2.3.4'));
    expect(v2.ok ? 'ok' : v2.failure.code).toBe('HOSTS_TOML_SYNTAX');
  });
});

describe('go-toml v2 decodes while it parses', () => {
  it('a crashing key before a later TOML error still crashes containerd 2.x (the later error is never reached)', () => {
    const text = 'host."https://m".capabilities = ["pull"]\nhost."https://m".skip_verify = true\n\n[host."https://m"]\n';
    const v2 = parseHostsToml(text, opts('2.3.4'));
    expect(v2.ok ? 'ok' : v2.failure.code).toBe('HOSTS_TOML_CRASH');
    if (!v2.ok) expect(v2.failure.line).toBe(2);
    // the error first, then the key: no crash, the file is rejected
    const late = parseHostsToml('[host."https://m"]\n[host."https://m"]\nhost = 1\n', opts('2.3.4'));
    expect(late.ok ? 'ok' : late.failure.code).toBe('HOSTS_TOML_SYNTAX');
  });
});
