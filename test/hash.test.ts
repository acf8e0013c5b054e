import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/hash.js';
import { seeded } from './helpers/random.js';

const reference = (text: string) => createHash('sha256').update(text).digest('hex');

describe('sha256Hex', () => {
  it('gives node:crypto digests for ASCII, multi-byte, empty and long inputs', () => {
    for (const text of ['', 'abc', 'registry.example/v2?ns=docker.io', 'ünïcødé ☃ 🐳', 'x'.repeat(100_000), JSON.stringify(['realm', '', ['a', 'b'], 'id'])]) {
      expect(sha256Hex(text), text.slice(0, 20)).toBe(reference(text));
    }
  });

  it('matches the FIPS 180-4 examples', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  it('gives node:crypto digests at every length across the padding boundaries (0–300 bytes) and on random text', () => {
    for (let n = 0; n <= 300; n++) {
      const text = Array.from({ length: n }, (_, i) => String.fromCharCode(32 + ((i * 7 + n) % 95))).join('');
      expect(sha256Hex(text), `length ${n}`).toBe(reference(text));
    }
    // multi-byte characters move the byte length off the character count
    const alphabet = ['a', 'é', '☃', '🐳', '\u0000', '\u007f', '\u0080', '\u07ff', '\u0800', '\uffff'];
    const rnd = seeded(3);
    for (let i = 0; i < 500; i++) {
      const text = Array.from({ length: rnd(90) }, () => alphabet[rnd(alphabet.length)]).join('');
      expect(sha256Hex(text), JSON.stringify(text)).toBe(reference(text));
    }
  });
});
