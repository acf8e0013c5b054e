/**
 * Docker's config.json, read exactly as the docker CLI reads it and written
 * without losing anything Docker or other tools put there: unknown fields and
 * their order are kept, writes are atomic, a symlinked config.json keeps its link.
 */
import { asWriteError, MirrorauthError, errnoCode } from '../errors.js';
import { ensureDir, writeFileAtomic } from '../system/atomic-write.js';
import type { System } from '../system/system.js';
import { jsonErrorLine, jsonErrorReason } from '../json-error.js';
import { decodeAuth } from '../auth-codec.js';
import { EMPTY_CREDENTIAL, type Credential } from './credential.js';

export interface AuthEntry {
  key: string;
  credential: Credential;
}

export interface DockerConfig {
  dir: string;
  file: string;
  exists: boolean;
  /** The whole document, unknown fields included. */
  raw: Record<string, unknown>;
  auths: Map<string, AuthEntry>;
  credsStore: string | null;
  credHelpers: Map<string, string>;
}

/**
 * dockerConfigDir: `--config` > $MIRRORAUTH_DOCKER_CONFIG > $DOCKER_CONFIG > ~/.docker.
 * MIRRORAUTH_DOCKER_CONFIG is set by `mirrorauth exec` for its command, whose
 * DOCKER_CONFIG is a private copy: mirrorauth run inside (the helper with
 * --helper) still reads the user's own store.
 */
export function dockerConfigDir(sys: System, flag?: string): string {
  if (flag !== undefined && flag !== '') return flag;
  const own = sys.env.MIRRORAUTH_DOCKER_CONFIG;
  if (own !== undefined && own !== '') return own;
  const env = sys.env.DOCKER_CONFIG;
  if (env !== undefined && env !== '') return env;
  return `${sys.homedir()}/.docker`;
}

function invalid(file: string, what: string, line?: number): MirrorauthError {
  return new MirrorauthError('CONFIG_INVALID', `${file}${line ? `:${line}` : ''}: ${what}`, {
    file,
    ...(line ? { line } : {}),
    hint: 'fix the file by hand (mirrorauth never rewrites a file it cannot read); `docker` would fail on it too',
  });
}

/** decodeAuthEntry turns one `auths` value into a Credential, as docker's decodeAuth does. */
export function decodeAuthEntry(key: string, value: unknown, file: string): Credential {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(file, `auths[${JSON.stringify(key)}] must be an object`);
  const v = value as Record<string, unknown>;
  const str = (name: string): string => {
    const x = v[name];
    if (x === undefined || x === null) return '';
    if (typeof x !== 'string') throw invalid(file, `auths[${JSON.stringify(key)}].${name} must be a string`);
    return x;
  };
  const c: Credential = {
    ...EMPTY_CREDENTIAL,
    username: str('username'),
    password: str('password'),
    identityToken: str('identitytoken'),
    registryToken: str('registrytoken'),
  };
  const auth = str('auth');
  if (auth !== '') {
    const d = decodeAuth(auth);
    if ('error' in d) throw invalid(file, `auths[${JSON.stringify(key)}].auth ${d.error}`);
    c.username = d.username;
    c.password = d.password;
  }
  return c;
}

/** parseDockerConfig parses config.json text; it throws CONFIG_INVALID naming the file and line. */
export function parseDockerConfig(text: string, file: string, dir: string): DockerConfig {
  let raw: unknown;
  if (text.trim() === '') raw = {};
  else {
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw invalid(file, `not valid JSON (${jsonErrorReason(e)})`, jsonErrorLine(text) ?? undefined);
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(file, 'the top level must be a JSON object');
  const doc = raw as Record<string, unknown>;
  const auths = new Map<string, AuthEntry>();
  if (doc.auths !== undefined && doc.auths !== null) {
    if (typeof doc.auths !== 'object' || Array.isArray(doc.auths)) throw invalid(file, '"auths" must be an object');
    for (const [key, value] of Object.entries(doc.auths as Record<string, unknown>)) auths.set(key, { key, credential: decodeAuthEntry(key, value, file) });
  }
  let credsStore: string | null = null;
  if (doc.credsStore !== undefined && doc.credsStore !== null && doc.credsStore !== '') {
    if (typeof doc.credsStore !== 'string') throw invalid(file, '"credsStore" must be a string');
    credsStore = doc.credsStore;
  }
  const credHelpers = new Map<string, string>();
  if (doc.credHelpers !== undefined && doc.credHelpers !== null) {
    if (typeof doc.credHelpers !== 'object' || Array.isArray(doc.credHelpers)) throw invalid(file, '"credHelpers" must be an object');
    for (const [k, v] of Object.entries(doc.credHelpers as Record<string, unknown>)) {
      if (typeof v !== 'string') throw invalid(file, `credHelpers[${JSON.stringify(k)}] must be a string`);
      credHelpers.set(k, v);
    }
  }
  return { dir, file, exists: true, raw: doc, auths, credsStore, credHelpers };
}

/** loadDockerConfig reads `<dir>/config.json`; a missing file is an empty config. */
export async function loadDockerConfig(sys: System, dir: string): Promise<DockerConfig> {
  const file = `${dir}/config.json`;
  let text: string;
  try {
    text = await sys.fs.readText(file);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return { dir, file, exists: false, raw: {}, auths: new Map(), credsStore: null, credHelpers: new Map() };
    throw new MirrorauthError('IO', `cannot read ${file}: ${errnoCode(e) ?? (e as Error).message}`, { file, cause: e });
  }
  return parseDockerConfig(text, file, dir);
}

/** parseDockerAuthConfigEnv reads $DOCKER_AUTH_CONFIG: `{"auths":{KEY:{"auth":"…"}}}` only, as docker does. */
export function parseDockerAuthConfigEnv(value: string): Map<string, AuthEntry> {
  const name = 'DOCKER_AUTH_CONFIG';
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch (e) {
    throw new MirrorauthError('CONFIG_INVALID', `${name} is not valid JSON (${jsonErrorReason(e)})`, {
      hint: `unset ${name} or give it {"auths":{"HOST":{"auth":"BASE64"}}}`,
    });
  }
  const doc = raw as { auths?: unknown };
  if (typeof raw !== 'object' || raw === null || Object.keys(raw).some((k) => k !== 'auths') || typeof doc.auths !== 'object' || doc.auths === null) {
    throw new MirrorauthError('CONFIG_INVALID', `${name} must be {"auths":{...}} and nothing else`, { hint: `unset ${name} or fix its JSON` });
  }
  const out = new Map<string, AuthEntry>();
  for (const [key, entry] of Object.entries(doc.auths as Record<string, unknown>)) {
    const e = entry as Record<string, unknown>;
    if (typeof e !== 'object' || e === null || Object.keys(e).some((k) => k !== 'auth') || typeof e.auth !== 'string') {
      throw new MirrorauthError('CONFIG_INVALID', `${name} is missing key \`auth\` for ${key}`, {
        hint: 'each entry takes only "auth": base64("user:password")',
      });
    }
    out.set(key, { key, credential: decodeAuthEntry(key, e, name) });
  }
  return out;
}

/**
 * updateDockerConfig changes config.json under a cross-process lock: it re-reads
 * the file, lets `mutate` edit the raw document, and writes it back atomically.
 * A file that does not parse is never written.
 */
export async function updateDockerConfig(sys: System, dir: string, mutate: (raw: Record<string, unknown>) => void): Promise<void> {
  const file = `${dir}/config.json`;
  let release: () => Promise<void>;
  try {
    await ensureDir(sys, dir);
    release = await sys.lock(file);
  } catch (e) {
    throw asWriteError(e, file);
  }
  try {
    const current = await loadDockerConfig(sys, dir);
    const raw = current.raw;
    mutate(raw);
    await writeFileAtomic(sys, file, `${JSON.stringify(raw, null, '\t')}\n`, { keepMode: current.exists });
  } catch (e) {
    throw asWriteError(e, file);
  } finally {
    await release().catch(() => undefined);
  }
}
