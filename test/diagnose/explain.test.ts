/** explain without a registry: which host gets which credentials, against stock clients, with the trace. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runBin, tempDir } from '../helpers/bin.js';
import { makeTree } from '../helpers/tree.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const env = { DBUS_SESSION_BUS_ADDRESS: undefined, DOCKER_AUTH_CONFIG: undefined };

function world(store: unknown, config: unknown) {
  const cfg = tempDir();
  mkdirSync(`${cfg}/mirrorauth`, { recursive: true });
  writeFileSync(`${cfg}/mirrorauth/namespaced-auths.json`, JSON.stringify(store));
  writeFileSync(`${cfg}/config.json`, JSON.stringify(config));
  const root = makeTree({
    'r.example.com/hosts.toml':
      '[host."https://m.example.com"]\n  capabilities = ["pull", "resolve"]\n[host."https://plain-mirror.example.com"]\n  capabilities = ["pull", "resolve"]\n',
  });
  return { cfg, root };
}

const STORE = {
  version: 1,
  auths: { 'm.example.com?ns=r.example.com': { username: 'robot', backend: 'file', kind: 'password', auth: b64('robot:namespaced-secret') } },
};
const CONFIG = { auths: { 'r.example.com': { auth: b64('upstream-user:upstream-secret') }, 'plain-mirror.example.com': { auth: b64('pm:pm-secret') } } };

describe('mirrorauth explain', () => {
  it('gives each host its credential with source and trace, and marks where stock clients differ', async () => {
    const { cfg, root } = world(STORE, CONFIG);
    const r = await runBin(['explain', 'r.example.com/app:1', '--hosts-dir', root, '--config', cfg, '--json'], { env });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.schemaVersion).toBe(1);
    const [mirror, plain, upstream] = j.hosts;
    expect(mirror).toMatchObject({
      url: 'https://m.example.com/v2',
      requestUrl: 'https://m.example.com/v2/app/manifests/1?ns=r.example.com',
      credential: {
        found: true,
        source: { kind: 'namespaced', key: 'm.example.com?ns=r.example.com' },
        username: 'robot',
        secretKind: 'password',
        secret: '****** (17 chars)',
      },
      stockClients: { nerdctl: { found: false }, cri: { found: false }, helper: { found: false }, bazel: { found: false }, ctr: { found: false } },
      // a ?ns= entry: no stock client can receive it, only the serve proxy could deliver it
      reachedBy: [],
    });
    expect(mirror.differs).toEqual(expect.arrayContaining(['nerdctl', 'cri', 'helper', 'bazel']));
    // kubelet's credential for the registry goes to the mirror when server_address is empty (C2), not when it is set
    expect(mirror.stockClients['cri-kubelet']).toMatchObject({ found: true, username: 'upstream-user' });
    expect(mirror.stockClients['cri-kubelet-server']).toMatchObject({ found: false });
    expect(mirror.trace.map((t: { step: string; outcome: string }) => `${t.step}:${t.outcome}`)).toEqual(['namespaced:hit']);
    // a mirror with only Docker's own entry for its host: nerdctl sends the same, CRI does not
    expect(plain).toMatchObject({
      credential: { found: true, source: { kind: 'auths' }, username: 'pm' },
      stockClients: { nerdctl: { found: true, username: 'pm' }, helper: { found: true, username: 'pm' } },
    });
    expect(plain.differs).toContain('cri');
    expect(plain.reachedBy).toEqual(expect.arrayContaining(['nerdctl', 'helper', 'bazel']));
    expect(plain.reachedBy).not.toContain('cri');
    expect(upstream).toMatchObject({ origin: 'default', credential: { found: true, username: 'upstream-user' } });
    expect(upstream.reachedBy).toEqual(expect.arrayContaining(['nerdctl', 'cri-kubelet', 'cri-kubelet-server', 'helper', 'bazel']));
    expect(r.stdout).not.toMatch(/namespaced-secret|upstream-secret|pm-secret/);
  });

  it("shows CRI's registry.configs answer from --containerd-config", async () => {
    const { cfg, root } = world(STORE, CONFIG);
    const cc = makeTree({
      'config.toml': `version = 3\n[plugins."io.containerd.cri.v1.images".registry]\n  config_path = "${root}"\n[plugins."io.containerd.cri.v1.images".registry.configs."m.example.com".auth]\n  username = "cri-user"\n  password = "cri-secret-value"\n`,
    });
    const j = JSON.parse(
      (await runBin(['explain', 'r.example.com/app:1', '--containerd-config', `${cc}/config.toml`, '--config', cfg, '--json'], { env })).stdout,
    );
    expect(j.hosts[0].stockClients.cri).toMatchObject({ found: true, username: 'cri-user', sourceText: 'registry.configs."m.example.com".auth' });
    expect(j.hosts[0].differs).toEqual(expect.arrayContaining(['nerdctl', 'cri']));
    // with no kubelet credential in the request CRI uses registry.configs; kubelet's, without server_address, replaces it
    expect(j.hosts[0].stockClients['cri-kubelet']).toMatchObject({ found: true, username: 'upstream-user' });
    // with server_address set the mirror gets nothing: a request carrying a credential makes CRI skip registry.configs
    expect(j.hosts[0].stockClients['cri-kubelet-server']).toMatchObject({ found: false });
  });

  it('prints a table for people, marks differences, and never a secret', async () => {
    const { cfg, root } = world(STORE, CONFIG);
    const r = await runBin(['explain', 'r.example.com/app:1', '--hosts-dir', root, '--config', cfg], { env });
    expect(r.stdout).toContain('namespaced store m.example.com?ns=r.example.com (file)');
    expect(r.stdout).toContain('no client (needs mirrorauth serve)');
    expect(r.stdout).toContain('podman/skopeo/docker: sends no credentials');
    expect(r.stdout).toContain('Lookup, host by host');
    expect(r.stdout).not.toMatch(/namespaced-secret|upstream-secret|pm-secret|\u001b\[/);
  });

  it('a lookup that fails (keychain entry, no keychain) is shown and exits 1', async () => {
    const { cfg, root } = world(
      { version: 1, auths: { 'm.example.com?ns=r.example.com': { username: 'robot', backend: 'keychain', kind: 'password' } } },
      CONFIG,
    );
    const r = await runBin(['explain', 'r.example.com/app:1', '--hosts-dir', root, '--config', cfg, '--json'], { env });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).hosts[0].lookupError).toMatch(/OS keychain/);
  });

  it('--push explains the push host only', async () => {
    const { cfg, root } = world(STORE, CONFIG);
    const j = JSON.parse((await runBin(['explain', 'r.example.com/app:1', '--push', '--hosts-dir', root, '--config', cfg, '--json'], { env })).stdout);
    expect(j.hosts.map((h: { used: boolean }) => h.used)).toEqual([false, false, true]);
  });
});
