#!/usr/bin/env node
import { run } from './cli/run.js';
import { nodeSystem } from './system/node.js';

process.exitCode = await run(process.argv.slice(2), nodeSystem());
