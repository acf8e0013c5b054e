/**
 * sha256Hex: the SHA-256 of a string's UTF-8 bytes, as lowercase hex.
 *
 * Pure JavaScript (@noble/hashes, audited, no dependencies) rather than
 * node:crypto, whose first load costs 4–7 ms: the credential helpers and
 * `bazel get` hash on every call (keychain names, token-cache keys), and a
 * hash of a few hundred bytes takes microseconds either way. The digests are
 * the same (test/hash.test.ts checks them against node:crypto). The bytes in
 * and the hex out go through Buffer, whose first use costs a start-up less
 * than TextEncoder's and a JavaScript hex loop's.
 */
import { sha256 } from '@noble/hashes/sha2.js';

export function sha256Hex(text: string): string {
  const digest = sha256(Buffer.from(text, 'utf8'));
  return Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString('hex');
}
