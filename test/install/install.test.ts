/**
 * Installation as a user does it: `npm pack` ships the built dist/ (no build
 * at install time), `npm install -g` of the tarball into a temp prefix puts
 * both commands on PATH; and the single executable (scripts/build-sea.mjs)
 * runs `hosts` on the bundled example with no `node` on PATH.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repo, tempDir } from '../helpers/bin.js';

const CI = process.env.CI === 'true' || process.env.CI === '1';
const npm = (args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) => execFileSync('npm', args, { cwd, env, encoding: 'utf8', stdio: 'pipe' });

// installing the tarball fetches its dependencies from the npm registry
const registryReachable = spawnSync('npm', ['ping'], { timeout: 20_000 }).status === 0;
if (!registryReachable && !CI) console.warn('install test: the npm registry is not reachable; the global-install test is skipped');

describe('installation', () => {
  it('npm pack ships the built files only, with both commands', () => {
    const out = tempDir();
    // the suite's build already produced dist/: pack it as it is (prepack would rebuild under running tests)
    const json = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', out], repo)) as Array<{ files: Array<{ path: string }> }>;
    const files = (json[0]?.files ?? []).map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining(['dist/bin.js', 'dist/mirrorauth.cjs', 'dist/docker-credential-mirrorauth.cjs', 'dist/fast.cjs', 'README.md']),
    );
    expect(files.filter((f) => f.startsWith('src/') || f.endsWith('.map') || f.endsWith('.d.ts') || f.startsWith('test/'))).toEqual([]);
  });

  it.skipIf(!registryReachable && !CI)(
    'npm install -g of the tarball puts mirrorauth and docker-credential-mirrorauth on PATH',
    () => {
      const out = tempDir();
      npm(['pack', '--ignore-scripts', '--pack-destination', out], repo);
      const tgz = readdirSync(out).find((f) => f.endsWith('.tgz')) as string;
      const prefix = tempDir();
      npm(['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', path.join(out, tgz)], out);
      const env = { ...process.env, PATH: `${prefix}/bin:${process.env.PATH ?? ''}` };
      const version = (
        JSON.parse(
          execFileSync(process.execPath, ['-p', 'JSON.stringify(require(process.argv[1]).version)', `${repo}/package.json`], { encoding: 'utf8' }),
        ) as string
      ).trim();
      expect(execFileSync('mirrorauth', ['--version'], { env, encoding: 'utf8' }).trim()).toBe(version);
      expect(execFileSync('docker-credential-mirrorauth', ['version'], { env, encoding: 'utf8' })).toContain(version);
      expect(
        execFileSync('mirrorauth', ['hosts', 'alpine:3.19', '--hosts-dir', `${repo}/examples/certs.d`, '--containerd', '2.3.4'], { env, encoding: 'utf8' }),
      ).toContain('harbor.corp.example');
    },
    180_000,
  );

  it('the single executable runs hosts on the bundled example with no node on PATH', () => {
    const out = tempDir();
    execFileSync(process.execPath, [`${repo}/scripts/build-sea.mjs`, out], { cwd: repo, stdio: 'pipe' });
    expect(existsSync(`${out}/mirrorauth`)).toBe(true);
    const env = { PATH: '/nonexistent', HOME: tempDir() };
    expect(spawnSync('sh', ['-c', 'command -v node'], { env }).status).not.toBe(0);
    const r = spawnSync(`${out}/mirrorauth`, ['hosts', 'alpine:3.19', '--hosts-dir', `${repo}/examples/certs.d`, '--json'], { env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { hosts: Array<{ url: string }>; containerdSource: string };
    expect(j.hosts[0]?.url).toBe('https://harbor.corp.example/v2/dockerhub-proxy');
    const helper = spawnSync(`${out}/docker-credential-mirrorauth`, ['version'], { env, encoding: 'utf8' });
    expect(helper.stdout).toMatch(/^docker-credential-mirrorauth/);
  }, 120_000);
});
