/** Keeps docs/ current: every diagnostic code in the catalogue is documented, and no stale one is. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIAGNOSTIC_CODES } from '../src/hosts/diagnostics.js';

const doc = readFileSync(path.resolve(import.meta.dirname, '../docs/diagnostics.md'), 'utf8');

describe('docs/diagnostics.md', () => {
  it('documents every code with its severity', () => {
    for (const [code, severity] of Object.entries(DIAGNOSTIC_CODES)) {
      expect(doc, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${severity} \\|`));
    }
  });

  it('documents no code that does not exist', () => {
    const documented = [...doc.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.filter((c) => !(c! in DIAGNOSTIC_CODES))).toEqual([]);
  });
});

describe('versions', () => {
  it("both commands say package.json's version (src/version.ts is generated from it by the build)", () => {
    const pkg = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../package.json'), 'utf8')) as { version: string };
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/);
    const bin = path.resolve(import.meta.dirname, '../dist');
    expect(execFileSync(process.execPath, [`${bin}/bin.js`, '--version'], { encoding: 'utf8' }).trim()).toBe(pkg.version);
    expect(execFileSync(process.execPath, [`${bin}/docker-credential-mirrorauth.cjs`, 'version'], { encoding: 'utf8' }).trim()).toBe(
      `docker-credential-mirrorauth (mirrorauth) ${pkg.version}`,
    );
    const changelog = readFileSync(path.resolve(import.meta.dirname, '../CHANGELOG.md'), 'utf8');
    expect(changelog).toContain(`## [${pkg.version}]`);
  });
});
