/** The deployment files in docs/deploy: the systemd unit verifies, the DaemonSet mounts what serve writes. */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bin, repo, tempDir } from '../helpers/bin.js';

const unit = readFileSync(`${repo}/docs/deploy/mirrorauth-serve.service`, 'utf8');
const daemonset = readFileSync(`${repo}/docs/deploy/daemonset.yaml`, 'utf8');
const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;
if (!analyze) process.stderr.write('\n[mirrorauth tests] systemd-analyze is not installed: the unit file is not verified (apt-get install -y systemd)\n');

describe('docs/deploy', () => {
  it.skipIf(!analyze)('the systemd unit passes systemd-analyze verify', () => {
    const dir = tempDir();
    // the unit names the globally installed binary; point it at this build for the check
    const launcher = `${dir}/mirrorauth`;
    writeFileSync(launcher, `#!/bin/sh\nexec "${process.execPath}" "${bin}" "$@"\n`, { mode: 0o755 });
    writeFileSync(`${dir}/mirrorauth-serve.service`, unit.replace('/usr/local/bin/mirrorauth', launcher));
    const r = spawnSync('systemd-analyze', ['verify', `${dir}/mirrorauth-serve.service`], { encoding: 'utf8' });
    expect(r.stderr.split('\n').filter((l) => l.includes('mirrorauth-serve.service'))).toEqual([]);
    expect(r.status).toBe(0);
  });

  it('the unit and the DaemonSet run serve on loopback with a render dir containerd can point at', () => {
    expect(unit).toMatch(/ExecStart=\/usr\/local\/bin\/mirrorauth serve .*--render \/etc\/containerd\/certs\.d\.mirrorauth .*--listen 127\.0\.0\.1:5599/);
    expect(unit).toContain('ReadWritePaths=/etc/containerd/certs.d.mirrorauth /etc/mirrorauth');
    expect(daemonset).toContain('hostNetwork: true');
    expect(daemonset).toContain('--listen=127.0.0.1:5599');
    // host paths are mounted at the same paths, so the rendered files name paths containerd can open
    for (const p of ['/etc/containerd/certs.d', '/etc/containerd/certs.d.mirrorauth']) {
      expect(daemonset).toMatch(new RegExp(`mountPath: ${p.replaceAll('.', '\\.')}[,}]`));
      expect(daemonset).toMatch(new RegExp(`hostPath: \\{path: ${p.replaceAll('.', '\\.')},`));
    }
    for (const key of ['config.json', 'mirrorauth/namespaced-auths.json', 'mirrorauth/serve-secret']) expect(daemonset).toContain(`path: ${key}}`);
  });
});
