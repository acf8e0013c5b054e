/** doctor's findings about containerd itself: crashes, CRLF, CRI pull mode, kubelet credentials, ignored keys. */
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/bin.js';
import { runCli } from '../helpers/cli.js';
import { makeTree } from '../helpers/tree.js';

interface Finding {
  code: string;
  severity: string;
  message: string;
  line: number | null;
  fix: string | null;
}

async function doctor(args: string[]): Promise<{ code: number; findings: Finding[] }> {
  const r = await runCli(['doctor', '--json', '--config', tempDir(), ...args]);
  return { code: r.code, findings: (JSON.parse(r.stdout) as { diagnostics: Finding[] }).diagnostics };
}

describe('doctor: containerd findings', () => {
  it('a hosts.toml that crashes containerd 2.x is an error with its line and fix; 1.6 reads it', async () => {
    const root = makeTree({ 'r.example.com/hosts.toml': 'host."https://m.example.com".ca = "ca.pem"\nhost."https://m.example.com".skip_verify = true\n' });
    const v2 = await doctor(['--hosts-dir', root, '--containerd', '2.3.4']);
    expect(v2.code).toBe(2);
    expect(v2.findings.find((f) => f.code === 'HOSTS_TOML_CRASH')).toMatchObject({
      severity: 'error',
      line: 2,
      fix: expect.stringContaining('[host."https://m.example.com"]'),
    });
    const v1 = await doctor(['--hosts-dir', root, '--containerd', '1.6.20']);
    expect(v1.findings.map((f) => f.code)).not.toContain('HOSTS_TOML_CRASH');
  });

  it('notes CRLF line endings without calling the file broken', async () => {
    const root = makeTree({ 'r.example.com/hosts.toml': '# mirror\r\n[host."https://m.example.com"]\r\n' });
    const r = await doctor(['--hosts-dir', root, '--containerd', '2.3.4']);
    expect(r.findings.find((f) => f.code === 'HOSTS_TOML_CRLF')).toMatchObject({ severity: 'info' });
    expect(r.findings.filter((f) => f.code.startsWith('HOSTS_TOML_') && f.code !== 'HOSTS_TOML_CRLF')).toEqual([]);
  });

  it('the transfer-service multi-root quirk, deprecated registry.configs and kubelet credentials replacing mirror auth', async () => {
    const a = makeTree({ 'r.example.com/hosts.toml': '[host."https://m.example.com"]\n  capabilities = ["pull", "resolve"]\n' });
    const multi = makeTree({ 'config.toml': `version = 3\n[plugins."io.containerd.cri.v1.images".registry]\n  config_path = "${a}:/etc/docker/certs.d"\n` });
    const quirk = await doctor(['--containerd-config', `${multi}/config.toml`, '--containerd', '2.2.7']);
    expect(quirk.findings.find((f) => f.code === 'CRI_TRANSFER_MULTI_ROOT')?.message).toMatch(/as ONE directory/);
    const legacy = makeTree({
      'config.toml': `version = 3\n[plugins."io.containerd.cri.v1.images".registry]\n  config_path = "${a}"\n[plugins."io.containerd.cri.v1.images".registry.configs."m.example.com".auth]\n  username = "robot"\n  password = "s3cret-value"\n`,
    });
    const r = await doctor(['--containerd-config', `${legacy}/config.toml`, '--containerd', '2.3.4']);
    const codes = r.findings.map((f) => f.code);
    expect(codes).toContain('CRI_DEPRECATED_REGISTRY_KEYS');
    expect(r.findings.find((f) => f.code === 'CRI_KUBELET_REPLACES_MIRROR_AUTH')?.message).toMatch(/without server_address/);
    expect(JSON.stringify(r.findings)).not.toContain('s3cret-value');
  });

  it('keys containerd ignores are named with where they come from; a static Authorization also goes to the token realm on 2.1+', async () => {
    const root = makeTree({
      'r.example.com/hosts.toml':
        '[host."https://m.example.com"]\n  rewrite = { "^(.*)$" = "mirror/$1" }\n  pass_upstream_credentials = true\n  password = "oops"\n  [host."https://m.example.com".header]\n    Authorization = "Basic eDp5"\n',
    });
    const r = await doctor(['--hosts-dir', root, '--containerd', '2.1.9']);
    const msgs = r.findings.map((f) => f.message).join('\n');
    expect(msgs).toMatch(/"rewrite" .* k3s' registries\.yaml key/);
    expect(msgs).toMatch(/"pass_upstream_credentials" .* containerd#13706, not merged/);
    expect(msgs).toMatch(/"password" .* never reads credentials from hosts\.toml/);
    expect(msgs).toMatch(/also sends it to the token realm/);
    const old = await doctor(['--hosts-dir', root, '--containerd', '2.0.11']);
    expect(old.findings.map((f) => f.message).join('\n')).not.toMatch(/token realm/);
  });
});
