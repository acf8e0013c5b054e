import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/hash.js';

describe('sha256Hex', () => {
  it('gives node:crypto digests for ASCII, multi-byte, empty and long inputs', () => {
    for (const text of ['', 'abc', 'registry.example/v2?ns=docker.io', 'ünïcødé ☃ 🐳', 'x'.repeat(100_000), JSON.stringify(['realm', '', ['a', 'b'], 'id'])]) {
      expect(sha256Hex(text), text.slice(0, 20)).toBe(createHash('sha256').update(text).digest('hex'));
    }
  });
});
