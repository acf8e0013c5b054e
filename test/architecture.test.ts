/**
 * Import-direction rules of docs/architecture.md, checked by scanning src/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const src = path.resolve(import.meta.dirname, '../src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

const modules = files(src).map((f) => {
  const text = readFileSync(f, 'utf8');
  const rel = path.relative(src, f);
  const imports = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => {
    const spec = (m[1] ?? m[2]) as string;
    return spec.startsWith('.') ? path.relative(src, path.resolve(path.dirname(f), spec)).replace(/\.js$/, '.ts') : spec;
  });
  return { rel, text, imports };
});

describe('architecture', () => {
  it('finds the modules', () => {
    expect(modules.length).toBeGreaterThan(10);
  });

  it('reference/ depends only on errors.ts', () => {
    for (const m of modules.filter((x) => x.rel.startsWith('reference/'))) {
      expect(
        m.imports.filter((i) => !i.startsWith('node:') && i !== 'errors.ts'),
        m.rel,
      ).toEqual([]);
    }
  });

  it('hosts/ never imports cli/ (the core does not print)', () => {
    for (const m of modules.filter((x) => x.rel.startsWith('hosts/'))) {
      expect(
        m.imports.filter((i) => i.startsWith('cli/')),
        m.rel,
      ).toEqual([]);
    }
  });

  it('only system/node.ts touches node:fs, node:os, node:child_process or process', () => {
    for (const m of modules.filter((x) => x.rel !== 'system/node.ts' && !x.rel.startsWith('bin'))) {
      expect(
        m.imports.filter((i) => ['node:fs', 'node:fs/promises', 'node:os', 'node:child_process'].includes(i)),
        m.rel,
      ).toEqual([]);
      expect(/\bprocess\.(env|argv|exit|stdout|stderr|stdin|cwd|platform|getuid)/.test(m.text), m.rel).toBe(false);
    }
  });

  it('registry/ knows credentials only as a value type, never the stores', () => {
    for (const m of modules.filter((x) => x.rel.startsWith('registry/'))) {
      expect(
        m.imports.filter((i) => i.startsWith('credentials/') && i !== 'credentials/credential.ts'),
        m.rel,
      ).toEqual([]);
    }
  });

  it('credentials/ never imports cli/ or registry/', () => {
    for (const m of modules.filter((x) => x.rel.startsWith('credentials/'))) {
      expect(
        m.imports.filter((i) => i.startsWith('cli/') || i.startsWith('registry/')),
        m.rel,
      ).toEqual([]);
    }
  });

  it('only bin.ts sets the exit code', () => {
    for (const m of modules.filter((x) => !x.rel.startsWith('bin'))) expect(m.text.includes('process.exitCode'), m.rel).toBe(false);
  });

  it('third-party libraries stay behind their one module', () => {
    for (const m of modules) {
      // TOML is read by mirrorauth's own go-toml-compatible parser (hosts/toml.ts): no TOML library at all
      expect(
        m.imports.filter((i) => /toml/i.test(i) && !i.endsWith('.ts')),
        m.rel,
      ).toEqual([]);
      for (const lib of ['commander', 'chalk', 'cli-table3'])
        if (m.imports.includes(lib)) expect(m.rel.startsWith('cli/'), `${m.rel} imports ${lib}`).toBe(true);
      // HTTP is node:http in system/http-client.ts: fetch's undici costs 60–100 ms to load and delays exit
      expect(m.imports.includes('undici'), m.rel).toBe(false);
      if (m.imports.includes('node:http') || m.imports.includes('node:https'))
        expect(['system/http-client.ts', 'registry/http.ts', 'serve/proxy.ts', 'serve/server.ts'], m.rel).toContain(m.rel);
      expect(m.imports.includes('proper-lockfile'), m.rel).toBe(false);
      if (m.text.includes('@napi-rs/keyring')) expect(m.rel).toBe('credentials/keychain.ts');
    }
  });
});

describe('architecture: front-end layers', () => {
  it('diagnose/, render/, protocols/ and serve/ never import cli/', () => {
    for (const m of modules.filter((x) => /^(diagnose|render|protocols|serve)\//.test(x.rel))) {
      expect(
        m.imports.filter((i) => i.startsWith('cli/')),
        m.rel,
      ).toEqual([]);
    }
  });

  it('the per-request bundle entry reaches no CLI library', () => {
    const seen = new Set<string>();
    const visit = (rel: string) => {
      if (seen.has(rel)) return;
      seen.add(rel);
      const m = modules.find((x) => x.rel === rel);
      for (const i of m?.imports ?? []) if (i.endsWith('.ts')) visit(i);
    };
    visit('fast.ts');
    const libs = [...seen].flatMap((rel) => modules.find((x) => x.rel === rel)?.imports ?? []).filter((i) => !i.startsWith('node:') && !i.endsWith('.ts'));
    expect(libs.filter((l) => ['commander', 'chalk', 'cli-table3'].includes(l))).toEqual([]);
    expect([...seen].some((r) => r.startsWith('cli/'))).toBe(false);
  });
});
