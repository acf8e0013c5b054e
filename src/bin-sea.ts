/**
 * Entry point of the single executable (scripts/build-sea.mjs): one program,
 * two names. Called as docker-credential-mirrorauth (a hard link) it is the
 * docker-credential helper; otherwise it is `mirrorauth`.
 */
import { run } from './cli/run.js';
import { serveDockerHelper } from './protocols/docker-helper.js';
import { nodeSystem } from './system/node.js';

// the launchers (scripts/build-sea.mjs) say which program to be; run directly, the file name does
const name = process.env.MIRRORAUTH_PROGRAM ?? process.execPath.slice(process.execPath.lastIndexOf('/') + 1);
delete process.env.MIRRORAUTH_PROGRAM;
// in a single executable argv[1] repeats the executable's path; the user's arguments follow
const args = process.argv.slice(2);
const main = name.startsWith('docker-credential-') ? serveDockerHelper(nodeSystem(), args) : run(args, nodeSystem());
void main.then((code) => {
  process.exitCode = code;
});
