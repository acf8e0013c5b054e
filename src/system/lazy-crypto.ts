/**
 * nodeCrypto: node:crypto, loaded on first use. Its load costs 4–7 ms, and
 * most commands never need it (random names, X.509 checks of TLS files), so
 * modules on a start-up path ask for it here instead of importing it.
 */
import type * as CryptoModule from 'node:crypto';
import { nodeRequire } from './node-require.js';

let mod: typeof CryptoModule | undefined;

export function nodeCrypto(): typeof CryptoModule {
  return (mod ??= nodeRequire('node:crypto') as typeof CryptoModule);
}
