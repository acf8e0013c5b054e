#!/usr/bin/env node
import { nodeSystem } from './system/node.js';

// `mirrorauth bazel get` is started once per download by Bazel: skip the CLI framework on that path.
const argv = process.argv.slice(2);
if (argv[0] === 'bazel') {
  const { serveBazel } = await import('./protocols/bazel.js');
  process.exitCode = await serveBazel(nodeSystem(), argv.slice(1));
} else {
  const { run } = await import('./cli/run.js');
  process.exitCode = await run(argv, nodeSystem());
}
