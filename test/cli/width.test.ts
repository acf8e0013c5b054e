/** Every table command fits 80, 120 and 200 columns; --wide and non-terminal output keep the full table. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { visibleWidth, wrapLine } from '../../src/cli/style.js';
import { repo } from '../helpers/bin.js';
import { runCli } from '../helpers/cli.js';

const ex = path.join(repo, 'examples');
const base = ['--hosts-dir', `${ex}/certs.d`];
const COMMANDS: string[][] = [
  ['hosts', 'alpine:3.19', ...base],
  ['hosts', 'quay.io/prometheus/node-exporter:v1.8.0', '--push', ...base],
  ['explain', 'alpine:3.19', ...base, '--config', `${ex}/docker`],
  ['doctor', ...base, '--config', `${ex}/docker`],
  ['list', '--config', `${ex}/docker`],
  ['lookup', 'harbor.corp.example/v2/dockerhub-proxy?ns=docker.io', '--config', `${ex}/docker`],
];

const widest = (text: string) => Math.max(...text.split('\n').map(visibleWidth));

describe('output fits the terminal', () => {
  for (const columns of [80, 120, 200]) {
    it.each(COMMANDS.map((c) => [c.slice(0, 2).join(' '), c] as const))(`%s at ${columns} columns`, async (_name, args) => {
      const r = await runCli([...args], { COLUMNS: String(columns) });
      expect(r.stdout.length).toBeGreaterThan(0);
      expect(widest(r.stdout), r.stdout).toBeLessThanOrEqual(columns);
    });
  }

  it('--wide, and output that is not a terminal without COLUMNS, keep the whole table on one line per host', async () => {
    const narrow = await runCli(['hosts', 'alpine:3.19', ...base], { COLUMNS: '80' });
    const wide = await runCli(['hosts', 'alpine:3.19', ...base, '--wide'], { COLUMNS: '80' });
    const plain = await runCli(['hosts', 'alpine:3.19', ...base], { COLUMNS: undefined });
    expect(widest(wide.stdout)).toBeGreaterThan(80);
    expect(plain.stdout).toBe(wide.stdout);
    expect(narrow.stdout).not.toBe(wide.stdout);
    expect(wide.stdout).toMatch(/│ first request/);
  });

  it('wraps at word boundaries, keeps the indentation and cuts only words longer than a line', () => {
    expect(wrapLine('    one two three four five six', 16)).toEqual(['    one two', '      three four', '      five six']);
    expect(wrapLine(`  ${'x'.repeat(30)}`, 20).every((l) => l.length <= 20)).toBe(true);
    expect(wrapLine('short', 80)).toEqual(['short']);
  });
});

describe('the bundles’ string width for table cells (scripts/lib/fast-string-width.cjs)', () => {
  it('measures as string-width does: ASCII, the symbols mirrorauth prints, colour, wide and emoji text', async () => {
    const { createRequire } = await import('node:module');
    const req = createRequire(import.meta.url);
    const fast = req('../../scripts/lib/fast-string-width.cjs') as (s: unknown) => number;
    const full = req('string-width') as (s: unknown) => number;
    const samples = [
      '',
      'docker.io/library/alpine:3.19',
      'https://mirror.corp/v2?ns=docker.io · pull — resolve … → done',
      '\u001b[31mred\u001b[39m and \u001b[1mbold\u001b[22m',
      '\u001b[2m· dim\u001b[22m',
      '镜像 registry',
      'ﾊﾝｶｸ and 全角',
      'ship 🐳 it',
      '© ® ™ ↔',
      'tab\there',
      'e\u0301 combining',
      42,
    ];
    for (const s of samples) expect(fast(s), String(s)).toBe(full(s));
  });
});
