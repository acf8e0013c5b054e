/**
 * docker-credential-mirrorauth: the docker-credential-helpers protocol, byte
 * for byte (actions get/store/erase/list/version; errors on stdout with exit 1;
 * the exact not-found text). `get` answers through resolveCredential, so a
 * namespaced entry is returned only for its endpoint and namespace.
 */
import { credentialFromHelper, helperSecretOf } from '../credentials/credential.js';
import { plaintextWarning, putEntry, removeEntry } from '../credentials/entries.js';
import { NOT_FOUND_MESSAGE } from '../credentials/helper-client.js';
import { formatNamespacedKey, namespacedKey, parseEndpoint } from '../credentials/keys.js';
import { isNamespacedKey } from '../credentials/namespaced-store.js';
import { openCredentials, resolveCredential } from '../credentials/resolve.js';
import { isMirrorauthError } from '../errors.js';
import { jsonErrorReason } from '../json-error.js';
import type { System } from '../system/system.js';
import { VERSION } from '../version.js';

export const HELPER_PROGRAM = 'docker-credential-mirrorauth';
export const HELPER_VERSION = VERSION;
const USAGE = `Usage: ${HELPER_PROGRAM} <store|get|erase|list|version>`;
const HELP = `
The docker-credential-helpers protocol; docker, podman, skopeo, buildah and nerdctl run it.
  get    stdin: the server, e.g. ghcr.io (clients send the bare host; host?ns=NS selects a namespaced entry)
         stdout: {"ServerURL":"ghcr.io","Username":"u","Secret":"…"}; "credentials not found in native keychain" and exit 1 when none
  store  stdin: {"ServerURL":"ghcr.io","Username":"u","Secret":"…"}
  erase  stdin: the server
  list   stdout: {"ghcr.io":"u", …}
Example:
  echo ghcr.io | ${HELPER_PROGRAM} get
Install: put it on PATH and set "credsStore": "mirrorauth" or "credHelpers": {"ghcr.io": "mirrorauth"} in ~/.docker/config.json.
`;

export interface HelperReply {
  stdout: string;
  /** For people only (the protocol reads stdout): warnings such as a secret kept in plaintext. */
  stderr?: string;
  code: number;
}

const ok = (stdout = '', stderr = ''): HelperReply => ({ stdout, code: 0, ...(stderr ? { stderr } : {}) });
const fail = (message: string): HelperReply => ({ stdout: `${message}\n`, code: 1 });

/**
 * keyFor turns what a client sends (bare host, URL, host?ns=NS, or a full
 * request URL with ?ns=) into the store key and lookup endpoint; null when the
 * input is ambiguous (several ns values) or unusable.
 */
export function addressOf(serverURL: string): { key: string; endpoint: { host: string; path: string }; namespace: string | null } | null {
  const q = serverURL.indexOf('?');
  if (q >= 0 && new URLSearchParams(serverURL.slice(q + 1)).getAll('ns').length > 1) return null;
  let e;
  try {
    e = parseEndpoint(serverURL);
  } catch {
    return null;
  }
  const key = e.namespace === null ? serverURL : formatNamespacedKey(namespacedKey(e.host, e.path, e.namespace));
  return { key, endpoint: { host: e.host, path: e.path }, namespace: e.namespace };
}

async function get(sys: System, input: string): Promise<HelperReply> {
  const serverURL = input.trim();
  if (serverURL === '') return fail('no credentials server URL');
  const a = addressOf(serverURL);
  if (a === null) return fail(NOT_FOUND_MESSAGE);
  const ctx = await openCredentials(sys);
  // the helper is the store being asked: its own plain entries answer first
  const r = await resolveCredential(ctx, a.endpoint, a.namespace, { asHelper: true });
  if (r.source.kind === 'anonymous') return fail(NOT_FOUND_MESSAGE);
  const { username, secret } = helperSecretOf(r.credential);
  return ok(`${JSON.stringify({ ServerURL: serverURL, Username: username, Secret: secret })}\n`);
}

async function store(sys: System, input: string): Promise<HelperReply> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(input);
  } catch (e) {
    return fail(`the request on stdin is not JSON (${jsonErrorReason(e)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return fail('the request must be a JSON object {"ServerURL": …, "Username": …, "Secret": …}');
  const req = parsed as { ServerURL?: unknown; Username?: unknown; Secret?: unknown };
  const serverURL = typeof req.ServerURL === 'string' ? req.ServerURL.trim() : '';
  const username = typeof req.Username === 'string' ? req.Username : '';
  const secret = typeof req.Secret === 'string' ? req.Secret : '';
  if (serverURL === '') return fail('no credentials server URL');
  if (username === '') return fail('no credentials username');
  const a = addressOf(serverURL);
  if (a === null) return fail(`invalid server URL ${JSON.stringify(serverURL)}`);
  const ctx = await openCredentials(sys);
  const put = await putEntry(ctx, a.key, credentialFromHelper(username, secret), 'auto');
  return ok('', put.plaintext ? `${plaintextWarning(ctx.store.file)}\n` : '');
}

async function erase(sys: System, input: string): Promise<HelperReply> {
  const serverURL = input.trim();
  if (serverURL === '') return fail('no credentials server URL');
  const a = addressOf(serverURL);
  if (a === null) return ok();
  await removeEntry(await openCredentials(sys), a.key);
  return ok();
}

async function list(sys: System): Promise<HelperReply> {
  const ctx = await openCredentials(sys);
  const out: Record<string, string> = {};
  // Only plain entries: namespaced ones would be handed to builds for the wrong host.
  for (const e of ctx.store.entries.values()) if (!isNamespacedKey(e.key)) out[e.key] = e.username;
  return ok(`${JSON.stringify(out)}\n`);
}

/** handleDockerHelper runs one invocation; stdin is read only by the actions that take it. */
export async function handleDockerHelper(sys: System, args: readonly string[], readStdin: () => Promise<string>): Promise<HelperReply> {
  if (args.length !== 1) return fail(USAGE);
  const action = args[0] as string;
  try {
    switch (action) {
      case 'get':
        return await get(sys, await readStdin());
      case 'store':
        return await store(sys, await readStdin());
      case 'erase':
        return await erase(sys, await readStdin());
      case 'list':
        return await list(sys);
      case 'version':
      case '--version':
      case '-v':
        return ok(`${HELPER_PROGRAM} (mirrorauth) ${HELPER_VERSION}\n`);
      case '--help':
      case '-h':
        // stdout stays byte-identical to the Go helpers' usage line; the shapes go to stderr
        return ok(`${USAGE}\n`, HELP);
      default:
        return fail(`${HELPER_PROGRAM}: unknown action: ${action}`);
    }
  } catch (e) {
    // errors go to stdout, one line, exit 1 — what docker and containers/image read
    return fail(isMirrorauthError(e) ? e.message : `internal error: ${(e as Error).message}`);
  }
}

/** serveDockerHelper is the process shell: argv in, stdout and exit code out. */
export async function serveDockerHelper(sys: System, args: readonly string[]): Promise<number> {
  const reply = await handleDockerHelper(sys, args, () => sys.stdin.readAll());
  sys.stdout.write(reply.stdout);
  if (reply.stderr) sys.stderr.write(reply.stderr);
  return reply.code;
}
