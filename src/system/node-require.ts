/**
 * nodeRequire: one `require` for what is loaded on first use (builtins such as
 * node:crypto and node:net, the keychain binding). Inside the bundles
 * (scripts/build-fast.mjs) it is the bundle's own, which the loader already
 * made; createRequire(import.meta.url) would build another (~0.5 ms each).
 */
import { createRequire } from 'node:module';

declare const __mirrorauth_require: NodeJS.Require | undefined;

let req: NodeJS.Require | undefined;

export function nodeRequire(id: string): unknown {
  req ??= typeof __mirrorauth_require === 'function' ? __mirrorauth_require : createRequire(import.meta.url);
  return req(id);
}
