/**
 * The direct Secret Service reader (src/credentials/secret-service.ts) against the real gnome-keyring of the
 * suite's harness: it answers what @napi-rs/keyring answers for entries the binding wrote, says "not found"
 * for an absent one, and hands anything unusual (two matches, no bus, an unknown transport) back to the binding.
 */
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { openKeychain } from '../../src/credentials/keychain.js';
import { busSocketPath, lookupSecret } from '../../src/credentials/secret-service.js';
import { nodeSystem } from '../../src/system/node.js';

const h = inject('harness');
const E = h.env;

describe('busSocketPath', () => {
  it.each([
    ['unix:path=/run/user/1000/bus', '/run/user/1000/bus'],
    ['unix:path=/tmp/x%20y/bus,guid=0123', '/tmp/x y/bus'],
    ['unix:abstract=/tmp/dbus-abc,guid=1', '\0/tmp/dbus-abc'],
    ['tcp:host=localhost,port=1;unix:path=/b', '/b'],
    ['tcp:host=localhost,port=1', null],
    ['unix:runtime=yes', null],
    ['', null],
  ])('%s', (address, want) => expect(busSocketPath(address)).toBe(want));
  it('is null without an address', () => expect(busSocketPath(undefined)).toBeNull());
});

describe.skipIf(!h.available)('lookupSecret against gnome-keyring', () => {
  const sys = { ...nodeSystem(), env: { ...process.env, ...E } };
  const uid = process.getuid?.() ?? 0;
  const at = (address: string | undefined, account: string) => lookupSecret({ address, uid, service: 'mirrorauth', account, timeoutMs: 2000 });
  const direct = (account: string) => at(E.DBUS_SESSION_BUS_ADDRESS, account);
  // the binding reads the bus address from the process environment
  beforeAll(() => {
    for (const k of ['DBUS_SESSION_BUS_ADDRESS', 'XDG_RUNTIME_DIR', 'XDG_DATA_HOME'] as const) if (E[k] !== undefined) process.env[k] = E[k];
  });

  it('reads what the binding wrote, byte for byte, for every kind of account and secret', async () => {
    const k = await openKeychain(sys);
    if (!k.ok) throw new Error(k.message);
    const cases: Array<[string, string]> = [
      [`direct-${process.pid}.example`, 'pw'],
      [`direct-${process.pid}.example/v2/project?ns=docker.io`, 'pässwörd ☃ with spaces and "quotes"'],
      [`direct-${process.pid}-long`, 'x'.repeat(5000)],
      [`direct-${process.pid}-token`, 'eyJhbGciOi.eyJzdWIiOi.sig'],
    ];
    for (const [account, secret] of cases) {
      await k.keychain.set(account, secret);
      expect(await direct(account), account).toEqual({ found: true, secret });
      await k.keychain.delete(account);
      expect(await direct(account), `${account} after delete`).toEqual({ found: false });
    }
  });

  it('leaves two matching items to the binding instead of picking one', async () => {
    const account = `direct-dup-${process.pid}`;
    const env = { ...process.env, ...E };
    // secret-tool stores with its own label; two collections or two labels make two items with the same attributes
    execFileSync('secret-tool', ['store', '--label', 'one', 'service', 'mirrorauth', 'username', account, 'extra', '1'], { input: 'a', env });
    execFileSync('secret-tool', ['store', '--label', 'two', 'service', 'mirrorauth', 'username', account, 'extra', '2'], { input: 'b', env });
    try {
      expect(await direct(account)).toBe('fallback');
    } finally {
      execFileSync('secret-tool', ['clear', 'service', 'mirrorauth', 'username', account], { env });
    }
  });

  it('hands back to the binding when there is no bus to talk to', async () => {
    expect(await at('unix:path=/nonexistent/bus', 'x')).toBe('fallback');
    expect(await at('tcp:host=127.0.0.1,port=1', 'x')).toBe('fallback');
    expect(await at(undefined, 'x')).toBe('fallback');
  });
});
