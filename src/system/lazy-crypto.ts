/**
 * nodeCrypto: node:crypto, loaded on first use. Its load costs 4–7 ms, and
 * most commands never need it (random names, X.509 checks of TLS files), so
 * modules on a start-up path ask for it here instead of importing it.
 */
import type * as CryptoModule from 'node:crypto';
import { createRequire } from 'node:module';

let mod: typeof CryptoModule | undefined;

export function nodeCrypto(): typeof CryptoModule {
  return (mod ??= createRequire(import.meta.url)('node:crypto') as typeof CryptoModule);
}
