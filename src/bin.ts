#!/usr/bin/env node
import { run } from './cli/run.js';
import { nodeSystem } from './system/node.js';

// dist/mirrorauth.cjs sends `bazel get` to the bundled fast path; everything else, and direct use of this file, comes here.
process.exitCode = await run(process.argv.slice(2), nodeSystem());
