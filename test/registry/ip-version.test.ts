/** ipVersion agrees with node:net's isIP (which the helpers no longer load). */
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ipVersion } from '../../src/registry/token.js';

describe('ipVersion', () => {
  it.each([
    '127.0.0.1',
    '10.0.0.1',
    '255.255.255.255',
    '256.1.1.1',
    '1.2.3',
    '01.2.3.4',
    '::1',
    '::ffff:127.0.0.1',
    'fe80::1',
    'fe80::1%eth0',
    '2001:db8::',
    'gggg::1',
    'localhost',
    'registry.example.com',
    '',
    ':',
    '1::2::3',
  ])('%s', (h) => {
    expect(ipVersion(h)).toBe(isIP(h));
  });
});
