/**
 * The per-request entry points (docker-credential-mirrorauth and
 * `mirrorauth bazel get`), bundled by scripts/build-fast.mjs into one
 * CommonJS file so a helper start-up loads one small script instead of an
 * ESM module graph.
 */
export { serveBazel } from './protocols/bazel.js';
export { serveDockerHelper } from './protocols/docker-helper.js';
export { nodeSystem } from './system/node.js';
