/**
 * `npm run check` is what keeps the small things so: it must fail on a
 * misformatted file and on a floating promise. Both are planted in a
 * throw-away file inside the project (so the type-aware linter sees it with
 * the project's tsconfig), checked with the project's own configuration, and removed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = path.resolve(import.meta.dirname, '..');
const dir = path.join(repo, 'test', `tmp-check-fixture-${process.pid}`); // not a dot-directory: tsconfig globs skip those
mkdirSync(dir, { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const npx = (args: string[]) => spawnSync('npx', args, { cwd: repo, encoding: 'utf8', timeout: 120_000 });

describe('npm run check', () => {
  it('fails on a floating promise (typescript-eslint, type-aware)', () => {
    const file = path.join(dir, 'floating.ts');
    writeFileSync(file, 'async function work(): Promise<number> {\n  return 1;\n}\nexport function planted(): void {\n  work();\n}\n');
    const r = npx(['eslint', file]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('no-floating-promises');
    writeFileSync(file, 'async function work(): Promise<number> {\n  return 1;\n}\nexport async function planted(): Promise<void> {\n  await work();\n}\n');
    expect(npx(['eslint', file]).status).toBe(0);
  });

  it('fails on a misformatted file (Prettier)', () => {
    const file = path.join(dir, 'misformatted.ts');
    writeFileSync(file, 'export const  x = {a:1,\n    b: "two"}\n');
    const r = npx(['prettier', '--check', '--ignore-path', '.prettierignore', file]);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('misformatted.ts');
    writeFileSync(file, "export const x = { a: 1, b: 'two' };\n");
    expect(npx(['prettier', '--check', '--ignore-path', '.prettierignore', file]).status).toBe(0);
  });
});
