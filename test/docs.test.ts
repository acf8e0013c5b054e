/** Keeps docs/ current: every diagnostic code in the catalogue is documented, and no stale one is. */
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
