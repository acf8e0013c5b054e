#!/usr/bin/env node
// docker-credential-mirrorauth: started once per request by its caller, so it loads only what `get` needs.
import { serveDockerHelper } from './protocols/docker-helper.js';
import { nodeSystem } from './system/node.js';

process.exitCode = await serveDockerHelper(nodeSystem(), process.argv.slice(2));
