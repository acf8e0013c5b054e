import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeTree } from '../helpers/tree.js';

const MIRROR = '[host."https://mirror.example.com"]\n  capabilities = ["pull", "resolve"]\n';

describe('mirrorauth hosts', () => {
  it('README example: prints containerd order as a table with request URLs and credential hosts', async () => {
    const root = makeTree({ 'docker.io/hosts.toml': MIRROR });
    const out = await runCli(['hosts', 'alpine:3.19', '--hosts-dir', root]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('docker.io/library/alpine:3.19');
    expect(out.stdout).toContain('https://mirror.example.com/v2/library/alpine/manifests/3.19?ns=docker.io');
    expect(out.stdout).toContain('https://registry-1.docker.io/v2/library/alpine/manifests/3.19');
    expect(out.stdout.indexOf('mirror.example.com')).toBeLessThan(out.stdout.indexOf('registry-1.docker.io'));
    expect(out.stdout).not.toMatch(/\u001b\[/);
  });

  it('uses colour only when asked for on a non-TTY and never with NO_COLOR', async () => {
    const root = makeTree({ 'docker.io/hosts.toml': MIRROR });
    const forced = await runCli(['hosts', 'alpine', '--hosts-dir', root], { NO_COLOR: undefined, FORCE_COLOR: '1' });
    expect(forced.stdout).toMatch(/\u001b\[/);
    const both = await runCli(['hosts', 'alpine', '--hosts-dir', root], { NO_COLOR: '1', FORCE_COLOR: '1' });
    expect(both.stdout).not.toMatch(/\u001b\[/);
  });

  it('--json follows the documented contract', async () => {
    const root = makeTree({ 'docker.io/hosts.toml': MIRROR });
    const out = await runCli(['hosts', 'alpine', '--hosts-dir', root, '--json']);
    const j = JSON.parse(out.stdout);
    expect(Object.keys(j)).toEqual(expect.arrayContaining(['schemaVersion', 'containerd', 'operation', 'reference', 'hostDir', 'hosts', 'diagnostics']));
    expect(j.reference).toEqual({
      input: 'alpine',
      normalized: 'docker.io/library/alpine:latest',
      registry: 'docker.io',
      repository: 'library/alpine',
      tag: 'latest',
      digest: null,
    });
    expect(j.hosts[0]).toMatchObject({
      url: 'https://mirror.example.com/v2',
      scheme: 'https',
      host: 'mirror.example.com',
      path: '/v2',
      capabilities: ['pull', 'resolve'],
      namespace: 'docker.io',
      requestUrl: 'https://mirror.example.com/v2/library/alpine/manifests/latest?ns=docker.io',
      credentialHost: 'mirror.example.com',
      tls: { skipVerify: null, caCerts: [], clientCerts: [], httpsFirst: false },
      header: {},
    });
    expect(j.hosts[1]).toMatchObject({ origin: 'default', namespace: null, credentialHost: 'registry-1.docker.io' });
  });

  it('--push lists only the first push-capable host', async () => {
    const root = makeTree({ 'docker.io/hosts.toml': MIRROR });
    const j = JSON.parse((await runCli(['hosts', 'alpine', '--push', '--hosts-dir', root, '--json'])).stdout);
    expect(j.hosts.map((h: { requestUrl: string | null }) => h.requestUrl)).toEqual([null, 'https://registry-1.docker.io/v2/library/alpine/manifests/latest']);
  });

  it('masks header values that carry secrets', async () => {
    const root = makeTree({
      'r.example.com/hosts.toml': '[host."https://m.example.com".header]\n  Authorization = "Basic c2VjcmV0LXZhbHVl"\n  x-plain = "visible"\n',
    });
    const out = await runCli(['hosts', 'r.example.com/app', '--hosts-dir', root, '--json']);
    expect(out.stdout).not.toContain('c2VjcmV0LXZhbHVl');
    const j = JSON.parse(out.stdout);
    expect(j.hosts[0].header).toEqual({ Authorization: ['Basic ****** (16 chars)'], 'x-plain': ['visible'] });
    const human = await runCli(['hosts', 'r.example.com/app', '--hosts-dir', root]);
    expect(human.stdout).not.toContain('c2VjcmV0LXZhbHVl');
  });

  it('never repeats a password written into a host URL (containerd ignores it; the key is shown with ***)', async () => {
    const root = makeTree({ 'docker.io/hosts.toml': '[host."https://bob:hunter2@mirror.example.com"]\n  capabilities = ["pull", "resolve"]\n' });
    for (const args of [
      ['hosts', 'alpine', '--hosts-dir', root, '--json'],
      ['hosts', 'alpine', '--hosts-dir', root],
      ['explain', 'alpine', '--hosts-dir', root, '--json'],
      ['explain', 'alpine', '--hosts-dir', root],
      ['doctor', '--hosts-dir', root, '--json'],
    ]) {
      const out = await runCli(args);
      expect(`${out.stdout}${out.stderr}`, args.join(' ')).not.toContain('hunter2');
    }
    const j = JSON.parse((await runCli(['hosts', 'alpine', '--hosts-dir', root, '--json'])).stdout);
    expect(j.hosts[0].key).toBe('https://***@mirror.example.com');
  });

  it('exits 1 when containerd would fail (missing CA) and says how to fix it', async () => {
    const root = makeTree({ 'r.example.com/hosts.toml': '[host."https://m.example.com"]\n  ca = "nope.pem"\n' });
    const out = await runCli(['hosts', 'r.example.com/app', '--hosts-dir', root]);
    expect(out.code).toBe(1);
    expect(out.stdout).toContain('HOSTS_CA_MISSING');
    expect(out.stdout).toContain(`${root}/r.example.com/hosts.toml`);
    expect(out.stdout).toContain('fix:');
  });

  it('rejects a CA file that is not PEM', async () => {
    const root = makeTree({ 'r.example.com/hosts.toml': '[host."https://m.example.com"]\n  ca = "ca.pem"\n', 'r.example.com/ca.pem': 'not a certificate\n' });
    const j = JSON.parse((await runCli(['hosts', 'r.example.com/app', '--hosts-dir', root, '--json'])).stdout);
    expect(j.fatal).toBe(true);
    expect(j.hosts).toEqual([]);
    expect(j.diagnostics.map((d: { code: string }) => d.code)).toContain('HOSTS_CA_INVALID');
  });

  it('keeps going but warns, with file and line, when containerd drops a hosts.toml', async () => {
    const root = makeTree({ 'r.example.com/hosts.toml': '[host."https://m.example.com"]\n  capabilities = ["pull", "resolve"]\n  skip_verify = "yes"\n' });
    const out = await runCli(['hosts', 'r.example.com/app', '--hosts-dir', root, '--json', '--containerd', '1.7.27']);
    expect(out.code).toBe(0);
    const j = JSON.parse(out.stdout);
    expect(j.source).toBe('fallback');
    expect(j.hosts.map((h: { url: string }) => h.url)).toEqual(['https://r.example.com/v2']);
    expect(j.diagnostics[0]).toMatchObject({ severity: 'warning', code: 'HOSTS_TOML_TYPE', file: `${root}/r.example.com/hosts.toml`, line: 3 });
  });

  it.each([
    [['hosts', 'Not/Valid'], 2, /must be lowercase/],
    [['hosts', 'alpine', '--containerd', 'banana'], 2, /invalid containerd version/],
    [['hosts'], 2, /missing required argument/],
    [['hosts', 'alpine', '--no-such-flag'], 2, /unknown option/],
  ])('%j exits %d with a clear message', async (args, code, message) => {
    const out = await runCli(args);
    expect(out.code).toBe(code);
    expect(out.stderr).toMatch(message);
  });

  it('reads config_path from a containerd 2.x config.toml (several roots, in order, local pull)', async () => {
    const a = makeTree({ '_default/hosts.toml': '[host."https://first.example.com"]\n' });
    const b = makeTree({ 'r.example.com/hosts.toml': '[host."https://second.example.com"]\n' });
    const cfg = makeTree({
      'config.toml': `version = 3\n[plugins."io.containerd.cri.v1.images".registry]\n  config_path = "${a}:${b}"\n`,
    });
    const j = JSON.parse(
      (await runCli(['hosts', 'r.example.com/app', '--containerd-config', `${cfg}/config.toml`, '--containerd', '2.0.11', '--json'])).stdout,
    );
    expect(j.roots).toEqual([a, b]);
    expect(j.criPullMode.mode).toBe('local');
    expect(j.hosts[0].url).toBe('https://first.example.com/v2');
    expect(j.diagnostics.map((d: { code: string }) => d.code)).toContain('HOSTS_LATER_ROOT_SHADOWED');
  });

  it('2.1+ transfer-service CRI reads a multi-directory config_path as one directory: mirrors ignored, with a warning', async () => {
    const a = makeTree({ 'r.example.com/hosts.toml': '[host."https://first.example.com"]\n' });
    const b = makeTree({ 'other/hosts.toml': '' });
    const body = `version = 3\n[plugins."io.containerd.cri.v1.images".registry]\n  config_path = "${a}:${b}"\n`;
    const cfg = makeTree({ 'config.toml': body, 'local.toml': `${body}[plugins."io.containerd.cri.v1.images"]\n  use_local_image_pull = true\n` });
    const j = JSON.parse((await runCli(['hosts', 'r.example.com/app', '--containerd-config', `${cfg}/config.toml`, '--containerd', '2.1.9', '--json'])).stdout);
    expect(j.criPullMode.mode).toBe('transfer');
    expect(j.roots).toEqual([`${a}:${b}`]);
    expect(j.hosts.map((h: { url: string }) => h.url)).toEqual(['https://r.example.com/v2']);
    expect(j.diagnostics.map((d: { code: string }) => d.code)).toContain('CRI_TRANSFER_MULTI_ROOT');
    const local = JSON.parse(
      (await runCli(['hosts', 'r.example.com/app', '--containerd-config', `${cfg}/local.toml`, '--containerd', '2.1.9', '--json'])).stdout,
    );
    expect(local.criPullMode).toEqual({ mode: 'local', reason: 'use_local_image_pull = true' });
    expect(local.hosts[0].url).toBe('https://first.example.com/v2');
  });

  it('the deprecated registry.configs switches 2.1+ CRI back to local pull, and says so', async () => {
    const a = makeTree({ 'r.example.com/hosts.toml': '[host."https://first.example.com"]\n' });
    const cfg = makeTree({
      'config.toml': `version = 3\n[plugins."io.containerd.cri.v1.images".registry]\n  config_path = "${a}:/nowhere"\n[plugins."io.containerd.cri.v1.images".registry.configs."first.example.com".auth]\n  username = "u"\n  password = "p"\n`,
    });
    const j = JSON.parse((await runCli(['hosts', 'r.example.com/app', '--containerd-config', `${cfg}/config.toml`, '--containerd', '2.3.4', '--json'])).stdout);
    expect(j.criPullMode.mode).toBe('local');
    expect(j.hosts[0].url).toBe('https://first.example.com/v2');
    expect(j.diagnostics.map((d: { code: string }) => d.code)).toContain('CRI_DEPRECATED_REGISTRY_KEYS');
  });

  it('reads config_path from a containerd 1.x (version 2) config.toml', async () => {
    const a = makeTree({ 'r.example.com/hosts.toml': '[host."https://one.example.com"]\n' });
    const cfg = makeTree({ 'config.toml': `version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "${a}"\n` });
    const j = JSON.parse(
      (await runCli(['hosts', 'r.example.com/app', '--containerd-config', `${cfg}/config.toml`, '--json', '--containerd', '1.7.27'])).stdout,
    );
    expect(j.hosts[0].url).toBe('https://one.example.com/v2');
  });

  it('names the file and line of a broken containerd config and exits 3', async () => {
    const cfg = makeTree({ 'config.toml': 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry\n' });
    const out = await runCli(['hosts', 'alpine', '--containerd-config', `${cfg}/config.toml`]);
    expect(out.code).toBe(3);
    expect(out.stderr).toContain(`${cfg}/config.toml:2`);
  });

  it('warns when a containerd config has no config_path', async () => {
    const cfg = makeTree({ 'config.toml': 'version = 3\n' });
    const j = JSON.parse((await runCli(['hosts', 'alpine', '--containerd-config', `${cfg}/config.toml`, '--json'])).stdout);
    expect(j.roots).toEqual([]);
    expect(j.diagnostics.map((d: { code: string }) => d.code)).toContain('CONTAINERD_CONFIG_NO_CONFIG_PATH');
  });

  it("uses nerdctl's default roots: system dirs for root, XDG dirs rootless", async () => {
    const xdg = makeTree({ 'containerd/certs.d/r.example.com/hosts.toml': '[host."https://rootless.example.com"]\n' });
    const rootless = JSON.parse((await runCli(['hosts', 'r.example.com/app', '--json'], { XDG_CONFIG_HOME: xdg }, { uid: 1000 })).stdout);
    expect(rootless.roots).toEqual([`${xdg}/containerd/certs.d`, `${xdg}/docker/certs.d`]);
    expect(rootless.hosts[0].url).toBe('https://rootless.example.com/v2');
    const asRoot = JSON.parse((await runCli(['hosts', 'r.example.com/app', '--json'], {}, { uid: 0 })).stdout);
    expect(asRoot.roots).toEqual(['/etc/containerd/certs.d', '/etc/docker/certs.d']);
  });

  it('says when a --hosts-dir does not exist', async () => {
    const j = JSON.parse((await runCli(['hosts', 'alpine', '--hosts-dir', '/no/such/dir', '--json'])).stdout);
    expect(j.diagnostics[0]).toMatchObject({ code: 'HOSTS_ROOT_MISSING', file: '/no/such/dir' });
  });
});
