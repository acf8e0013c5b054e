/**
 * Client side of the docker-credential-helpers protocol: runs
 * `docker-credential-NAME get|store|erase|list` with a timeout. "Not found"
 * (the standard text, or pass 0.6.4's empty fields) is null, never an error;
 * any other failure names the helper and its message.
 */
import { MirrorauthError } from '../errors.js';
import type { System } from '../system/system.js';

/** The exact text helpers print when nothing is stored (docker-credential-helpers credentials/error.go). */
export const NOT_FOUND_MESSAGE = 'credentials not found in native keychain';

/** The helper name mirrorauth itself answers to; never called from inside mirrorauth. */
export const OWN_HELPER_NAME = 'mirrorauth';

export interface HelperAnswer {
  serverURL: string;
  username: string;
  secret: string;
}

export interface HelperClient {
  readonly name: string;
  get(serverURL: string): Promise<HelperAnswer | null>;
  store(serverURL: string, username: string, secret: string): Promise<void>;
  erase(serverURL: string): Promise<void>;
  list(): Promise<Record<string, string>>;
}

const DEFAULT_TIMEOUT_MS = 15_000;

/** helperClient builds a client for `docker-credential-<name>`. */
export function helperClient(sys: System, name: string, timeoutMs = DEFAULT_TIMEOUT_MS): HelperClient {
  // One piece: one client object with the four protocol actions, sharing the exec and error mapping.
  const program = `docker-credential-${name}`;
  if (name === OWN_HELPER_NAME) {
    throw new MirrorauthError('HELPER_FAILED', `refusing to call ${program} from inside mirrorauth (it would call itself)`, {
      hint: 'name another helper as credsStore/credHelpers for the Docker side, or use --store keychain|file',
    });
  }
  const exec = async (action: string, input: string) => {
    const r = await sys.spawn(program, [action], { input, timeoutMs, env: sys.env });
    if (r.timedOut)
      throw new MirrorauthError('HELPER_FAILED', `${program} ${action} did not answer within ${timeoutMs} ms`, {
        hint: `check that ${program} works: echo HOST | ${program} get`,
      });
    if (r.code === 127 && r.signal === null && /ENOENT/.test(r.stderr)) {
      throw new MirrorauthError('HELPER_FAILED', `${program} is not on PATH`, {
        hint: `install ${program} or remove "${name}" from credsStore/credHelpers in Docker's config.json`,
      });
    }
    return r;
  };
  const failure = (action: string, out: string, err: string, code: number | null) =>
    new MirrorauthError(
      'HELPER_FAILED',
      `${program} ${action} failed (exit ${code ?? 'signal'}): ${(out.trim() || err.trim() || 'no message').slice(0, 500)}`,
      {
        hint: `run \`${program} ${action}\` by hand to see why (a locked keyring or a missing GPG key are common causes)`,
      },
    );
  return {
    name,
    async get(serverURL) {
      const r = await exec('get', serverURL);
      if (r.code !== 0) {
        if (r.stdout.trim() === NOT_FOUND_MESSAGE) return null;
        throw failure('get', r.stdout, r.stderr, r.code);
      }
      let parsed: { ServerURL?: unknown; Username?: unknown; Secret?: unknown };
      try {
        parsed = JSON.parse(r.stdout) as typeof parsed;
      } catch {
        throw new MirrorauthError('HELPER_FAILED', `${program} get answered with something that is not JSON`, {
          hint: `run \`echo ${serverURL} | ${program} get\` by hand`,
        });
      }
      const username = typeof parsed.Username === 'string' ? parsed.Username : '';
      const secret = typeof parsed.Secret === 'string' ? parsed.Secret : '';
      if (username === '' && secret === '') return null;
      return { serverURL: typeof parsed.ServerURL === 'string' ? parsed.ServerURL : serverURL, username, secret };
    },
    async store(serverURL, username, secret) {
      const r = await exec('store', JSON.stringify({ ServerURL: serverURL, Username: username, Secret: secret }));
      if (r.code !== 0) throw failure('store', r.stdout, r.stderr, r.code);
    },
    async erase(serverURL) {
      const r = await exec('erase', serverURL);
      if (r.code !== 0 && r.stdout.trim() !== NOT_FOUND_MESSAGE && !/is not in the password store/.test(r.stdout))
        throw failure('erase', r.stdout, r.stderr, r.code);
    },
    async list() {
      const r = await exec('list', 'unused');
      if (r.code !== 0) throw failure('list', r.stdout, r.stderr, r.code);
      try {
        const parsed = JSON.parse(r.stdout) as unknown;
        return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string>) : {};
      } catch {
        throw new MirrorauthError('HELPER_FAILED', `${program} list answered with something that is not JSON`);
      }
    },
  };
}
