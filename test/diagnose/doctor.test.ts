/** doctor: one broken tree or config per problem, each reported with its code, file and line. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyKeychainError } from '../../src/credentials/keychain.js';
import { runBin, tempDir } from '../helpers/bin.js';
import { makeTree } from '../helpers/tree.js';

interface Finding {
  severity: string;
  code: string;
  file: string | null;
  line: number | null;
  fix: string | null;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const caPem = readFileSync(path.resolve(import.meta.dirname, '../../testdata/oracle/holdout/h33-ca-array-valid/certs.d/registry.example.com/ca.pem'), 'utf8');

async function doctor(root: string | null, opts: { config?: Record<string, string>; args?: string[]; env?: Record<string, string | undefined> } = {}) {
  const cfg = tempDir();
  for (const [rel, text] of Object.entries(opts.config ?? {})) {
    mkdirSync(path.dirname(`${cfg}/${rel}`), { recursive: true });
    writeFileSync(`${cfg}/${rel}`, text);
  }
  const args = ['doctor', '--json', '--config', cfg, ...(root ? ['--hosts-dir', root] : ['--hosts-dir', tempDir()]), ...(opts.args ?? [])];
  const r = await runBin(args, { env: { DBUS_SESSION_BUS_ADDRESS: undefined, DOCKER_AUTH_CONFIG: undefined, ...opts.env } });
  return { ...r, cfg, report: JSON.parse(r.stdout) as { diagnostics: Finding[]; summary: Record<string, number>; directories: number } };
}

const MIRROR = '[host."https://m.example.com"]\n  capabilities = ["pull", "resolve"]\n';

describe('mirrorauth doctor: hosts.toml problems', () => {
  it.each([
    [
      'a TOML syntax error',
      { 'r.example.com/hosts.toml': 'server = "https://r.example.com"\n[host."https://m"\n' },
      'HOSTS_TOML_SYNTAX',
      'r.example.com/hosts.toml',
      2,
      [],
    ],
    [
      'a wrong type',
      { 'r.example.com/hosts.toml': '[host."https://m.example.com"]\n  skip_verify = "yes"\n' },
      'HOSTS_TOML_TYPE',
      'r.example.com/hosts.toml',
      2,
      [],
    ],
    [
      'an unknown capability',
      { 'r.example.com/hosts.toml': '[host."https://m.example.com"]\n\n  capabilities = ["pull", "mirror"]\n' },
      'HOSTS_TOML_UNKNOWN_CAPABILITY',
      'r.example.com/hosts.toml',
      3,
      [],
    ],
    [
      'a server-only file on 1.6',
      { 'r.example.com/hosts.toml': 'server = "https://m.example.com"\n' },
      'HOSTS_TOML_SERVER_ONLY',
      'r.example.com/hosts.toml',
      null,
      ['--containerd', '1.6.20'],
    ],
    [
      'a ] in a table key on 1.x',
      { 'r.example.com/hosts.toml': '# v6\n[host."http://[::1]:5001"]\n' },
      'HOSTS_TOML_BRACKET_KEY',
      'r.example.com/hosts.toml',
      2,
      ['--containerd', '1.7.27'],
    ],
    ['a missing CA file', { 'r.example.com/hosts.toml': `${MIRROR}  ca = "nope.pem"\n` }, 'HOSTS_CA_MISSING', 'r.example.com/hosts.toml', 1, []],
    [
      'a CA file that is not PEM',
      { 'r.example.com/hosts.toml': `${MIRROR}  ca = "ca.pem"\n`, 'r.example.com/ca.pem': 'hello\n' },
      'HOSTS_CA_INVALID',
      'r.example.com/hosts.toml',
      1,
      [],
    ],
    [
      'a missing client certificate',
      { 'r.example.com/hosts.toml': `\n${MIRROR}  client = [["c.cert", "c.key"]]\n` },
      'HOSTS_CLIENT_CERT_MISSING',
      'r.example.com/hosts.toml',
      2,
      [],
    ],
    [
      'a client certificate without its key',
      { 'r.example.com/hosts.toml': `${MIRROR}  client = "ca.pem"\n`, 'r.example.com/ca.pem': caPem },
      'HOSTS_CLIENT_CERT_INVALID',
      'r.example.com/hosts.toml',
      1,
      [],
    ],
    ['an empty directory shadowing _default', { 'r.example.com': null, '_default/hosts.toml': MIRROR }, 'HOSTS_DIR_SHADOWS_DEFAULT', 'r.example.com', null, []],
    [
      'a host listed twice',
      { 'r.example.com/hosts.toml': `server = "https://m.example.com"\n${MIRROR}` },
      'HOSTS_DUPLICATE_HOST',
      'r.example.com/hosts.toml',
      1,
      [],
    ],
    [
      'an http-prefixed scheme-less key',
      { 'r.example.com/hosts.toml': '\n[host."httpcache.example.com"]\n' },
      'HOSTS_HTTP_PREFIX_TRAP',
      'r.example.com/hosts.toml',
      2,
      [],
    ],
    ['an unknown key', { 'r.example.com/hosts.toml': `${MIRROR}  overide_path = true\n` }, 'HOSTS_UNKNOWN_KEY', 'r.example.com/hosts.toml', 3, []],
    [
      'a colon-form directory hidden by the underscore form',
      { 'r.example.com:5000/hosts.toml': MIRROR, 'r.example.com_5000_/hosts.toml': MIRROR },
      'HOSTS_DIR_NAME_SHADOWED',
      'r.example.com:5000',
      null,
      [],
    ],
  ])('%s', async (_name, files, code, file, line, args) => {
    const root = makeTree(files);
    const { report } = await doctor(root, { args: args as string[] });
    const hit = report.diagnostics.find((d) => d.code === code);
    expect(hit, JSON.stringify(report.diagnostics.map((d) => d.code))).toBeDefined();
    expect(hit?.file).toBe(`${root}/${file}`);
    expect(hit?.line).toBe(line);
    expect(hit?.fix).toBeTruthy();
  });

  it('a later root that an earlier _default shadows entirely', async () => {
    const a = makeTree({ '_default/hosts.toml': MIRROR });
    const b = makeTree({ 'r.example.com/hosts.toml': MIRROR });
    const cfg = tempDir();
    const r = await runBin(['doctor', '--json', '--config', cfg, '--hosts-dir', a, '--hosts-dir', b], { env: { DBUS_SESSION_BUS_ADDRESS: undefined } });
    expect(JSON.parse(r.stdout).diagnostics).toContainEqual(expect.objectContaining({ code: 'HOSTS_LATER_ROOT_SHADOWED', file: b }));
  });
});

describe('mirrorauth doctor: credential problems', () => {
  it('a mirror with no credentials anywhere, with the login command to fix it', async () => {
    const root = makeTree({ 'r.example.com/hosts.toml': `# mirrors\n${MIRROR}` });
    const { report } = await doctor(root);
    expect(report.diagnostics).toContainEqual(
      expect.objectContaining({
        code: 'CRED_MIRROR_NO_CREDENTIALS',
        file: `${root}/r.example.com/hosts.toml`,
        line: 2,
        fix: "if it needs them: mirrorauth login 'm.example.com?ns=r.example.com'",
      }),
    );
    // once stored, the finding goes away
    const store = { version: 1, auths: { 'm.example.com?ns=r.example.com': { username: 'u', backend: 'file', kind: 'identitytoken', identitytoken: 't' } } };
    const again = await doctor(root, { config: { 'mirrorauth/namespaced-auths.json': JSON.stringify(store) } });
    expect(again.report.diagnostics.map((d) => d.code)).not.toContain('CRED_MIRROR_NO_CREDENTIALS');
  });

  it('credentials stored for an endpoint no hosts.toml uses', async () => {
    const root = makeTree({ 'r.example.com/hosts.toml': MIRROR });
    const store = `{\n  "version": 1,\n  "auths": {\n    "m.example.com?ns=r.example.com": { "username": "u", "backend": "file", "kind": "identitytoken", "identitytoken": "t" },\n    "old-mirror.example.com?ns=r.example.com": { "username": "u", "backend": "file", "kind": "identitytoken", "identitytoken": "t" }\n  }\n}\n`;
    const { report, cfg } = await doctor(root, { config: { 'mirrorauth/namespaced-auths.json': store } });
    const unused = report.diagnostics.filter((d) => d.code === 'CRED_UNUSED_ENTRY');
    expect(unused).toEqual([expect.objectContaining({ file: `${cfg}/mirrorauth/namespaced-auths.json`, line: 5 })]);
  });

  it('plaintext passwords in config.json and in the store', async () => {
    const config = `{\n  "auths": {\n    "ghcr.io": { "auth": "${b64('u:p')}" }\n  }\n}\n`;
    const store = `{\n  "version": 1,\n  "auths": {\n    "m.example.com?ns=*": { "username": "u", "backend": "file", "kind": "password", "auth": "${b64('u:p')}" }\n  }\n}\n`;
    const { report, cfg } = await doctor(null, { config: { 'config.json': config, 'mirrorauth/namespaced-auths.json': store } });
    const plain = report.diagnostics.filter((d) => d.code === 'CRED_PLAINTEXT_PASSWORD');
    expect(plain).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: `${cfg}/config.json`, line: 3 }),
        expect.objectContaining({ file: `${cfg}/mirrorauth/namespaced-auths.json`, line: 4 }),
      ]),
    );
    expect(JSON.stringify(report)).not.toContain(b64('u:p'));
  });

  it('a credsStore or credHelper whose binary is not on PATH is an error (exit 2)', async () => {
    const config = `{\n  "credsStore": "nosuchhelper",\n  "credHelpers": {\n    "gcr.io": "alsomissing"\n  }\n}\n`;
    const r = await doctor(null, { config: { 'config.json': config } });
    const missing = r.report.diagnostics.filter((d) => d.code === 'CRED_HELPER_MISSING');
    expect(missing.map((d) => [d.file, d.line])).toEqual([
      [`${r.cfg}/config.json`, 2],
      [`${r.cfg}/config.json`, 4],
    ]);
    expect(r.code).toBe(2);
  });

  it('keychain entries with no reachable keychain are an error', async () => {
    const store = JSON.stringify({ version: 1, auths: { 'm.example.com?ns=*': { username: 'u', backend: 'keychain', kind: 'password' } } });
    const { report, cfg } = await doctor(null, { config: { 'mirrorauth/namespaced-auths.json': store } });
    expect(report.diagnostics).toContainEqual(
      expect.objectContaining({ code: 'CRED_KEYCHAIN_UNAVAILABLE', severity: 'error', file: `${cfg}/mirrorauth/namespaced-auths.json` }),
    );
    expect(classifyKeychainError("Couldn't access platform storage: Secret Service: unlock prompt was dismissed")).toBe('KEYCHAIN_LOCKED');
    expect(classifyKeychainError('zbus error: org.freedesktop.Secret.Error.IsLocked: Cannot get secret of a locked object')).toBe('KEYCHAIN_LOCKED');
    expect(classifyKeychainError('Platform failure: DBus error: Failed to connect to socket /x')).toBe('KEYCHAIN_UNAVAILABLE');
  });

  it('nerdctl namespaced keys waiting to be imported', async () => {
    const config = `{\n  "auths": {\n    "ghcr.io": {},\n    "nerdctl-experimental://r.example.com:443/host/m.example.com:443": { "auth": "${b64('u:p')}" }\n  }\n}\n`;
    const { report, cfg } = await doctor(null, { config: { 'config.json': config } });
    expect(report.diagnostics).toContainEqual(
      expect.objectContaining({ code: 'CRED_NERDCTL_KEYS', file: `${cfg}/config.json`, line: 4, fix: 'mirrorauth import nerdctl' }),
    );
  });

  it('a config.json that does not parse is reported with its line, not thrown', async () => {
    const r = await doctor(null, { config: { 'config.json': '{\n  "auths": {\n    "x": \n}\n' } });
    expect(r.report.diagnostics).toContainEqual(expect.objectContaining({ code: 'CRED_CONFIG_INVALID', file: `${r.cfg}/config.json`, line: 4 }));
    expect(r.code).toBe(2);
  });
});

describe('mirrorauth doctor: exit codes and output', () => {
  it('0 when clean, 0 with warnings, 1 with warnings and --strict, 2 with errors', async () => {
    const clean = makeTree({ 'r.example.com/hosts.toml': 'server = "https://r.example.com"\n[host]\n' });
    expect((await doctor(clean)).code).toBe(0);
    const warn = makeTree({ 'r.example.com/hosts.toml': `${MIRROR}  typo = 1\n` });
    expect((await doctor(warn)).code).toBe(0);
    expect((await doctor(warn, { args: ['--strict'] })).code).toBe(1);
    const err = makeTree({ 'r.example.com/hosts.toml': `${MIRROR}  ca = "missing.pem"\n` });
    expect((await doctor(err)).code).toBe(2);
  });

  it('prints findings grouped by severity, each with file:line and a fix', async () => {
    const root = makeTree({ 'r.example.com/hosts.toml': `${MIRROR}  ca = "missing.pem"\n  typo = 1\n` });
    const r = await runBin(['doctor', '--hosts-dir', root, '--config', tempDir()], { env: { DBUS_SESSION_BUS_ADDRESS: undefined } });
    expect(r.stdout.indexOf('error HOSTS_CA_MISSING')).toBeLessThan(r.stdout.indexOf('warning HOSTS_UNKNOWN_KEY'));
    expect(r.stdout).toContain(`${root}/r.example.com/hosts.toml:4`);
    expect(r.stdout).toMatch(/1 error\(s\), \d+ warning\(s\)/);
  });
});
