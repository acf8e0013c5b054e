/**
 * render and exec: files parse with real consumers (skopeo), exec leaves no
 * secret behind (after a normal exit and after being killed), and the
 * rendered formats match their documented shapes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { bin, repo, runBin, tempDir } from '../helpers/bin.js';
import { makeTree } from '../helpers/tree.js';

const h = inject('harness');
const E = h.env as Record<string, string> & { HARNESS_BASIC: string; HARNESS_IMAGE_DIGEST: string };
const b64 = (s: string) => Buffer.from(s).toString('base64');
const noKeychain = { DBUS_SESSION_BUS_ADDRESS: undefined, DOCKER_AUTH_CONFIG: undefined };

const privateDirs: string[] = [];
afterAll(() => {
  for (const d of privateDirs) rmSync(d, { recursive: true, force: true });
});

/** A Docker config dir outside the temp dirs that are searched for leftovers. */
function privateConfig(files: Record<string, unknown>): string {
  const dir = path.join(repo, '.test-tmp', randomUUID());
  privateDirs.push(dir);
  mkdirSync(`${dir}/mirrorauth`, { recursive: true });
  for (const [rel, v] of Object.entries(files)) writeFileSync(`${dir}/${rel}`, typeof v === 'string' ? v : JSON.stringify(v));
  return dir;
}

/** Every file under the temp dirs, written since `since`, that holds any of the needles. */
function leftovers(needles: string[], since: number): string[] {
  const roots = [
    ...new Set([os.tmpdir(), '/tmp', '/dev/shm', process.env.XDG_RUNTIME_DIR, E.XDG_RUNTIME_DIR].filter((d): d is string => !!d && existsSync(d))),
  ];
  const hits: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        // the test's own private config dirs hold the secret on purpose (and may sit under /tmp in CI)
        if (depth < 8 && e.name !== 'node_modules' && p !== path.join(repo, '.test-tmp')) walk(p, depth + 1);
      } else if (e.isFile()) {
        try {
          const st = statSync(p);
          if (st.mtimeMs < since - 2000 || st.size > 1 << 20) continue;
          const text = readFileSync(p, 'utf8');
          if (needles.some((n) => text.includes(n))) hits.push(p);
        } catch {
          /* vanished or unreadable */
        }
      }
    }
  };
  for (const r of roots) walk(r, 0);
  return hits;
}

function secretWorld() {
  const secret = `s3cret-${randomUUID()}`;
  // a plain entry of mirrorauth's own store, reached the way Docker reaches it: credHelpers names mirrorauth
  const cfg = privateConfig({
    'config.json': { credHelpers: { 'reg.example.com': 'mirrorauth' } },
    'mirrorauth/namespaced-auths.json': {
      version: 1,
      auths: { 'reg.example.com': { username: 'robot', backend: 'file', kind: 'password', auth: b64(`robot:${secret}`) } },
    },
  });
  return { secret, cfg, needles: [secret, b64(`robot:${secret}`)] };
}

describe('mirrorauth exec', () => {
  it('gives the command the three variables, passes its exit code through, and leaves no secret file behind', async () => {
    const { cfg, needles } = secretWorld();
    // what the command saw is kept outside the searched temp dirs
    const out = `${privateConfig({})}/seen`;
    const since = Date.now();
    const script = `for f in "$DOCKER_CONFIG/config.json" "$REGISTRY_AUTH_FILE" "$HELM_REGISTRY_CONFIG"; do stat -c '%a %n' "$f"; cat "$f"; done > "${out}"; stat -c '%a' "$DOCKER_CONFIG" >> "${out}"; echo "$DOCKER_CONFIG" >> "${out}"; exit 3`;
    const r = await runBin(['exec', '--registry', 'reg.example.com', '--config', cfg, '--', 'sh', '-c', script], { env: noKeychain });
    expect(r.code).toBe(3);
    const seen = readFileSync(out, 'utf8');
    expect(seen.match(/^600 /gm)).toHaveLength(3);
    expect(seen).toMatch(/^700$/m);
    expect(seen).toContain(`"reg.example.com"`);
    expect(seen).toContain(needles[1]);
    const dir = seen.trim().split('\n').pop() as string;
    expect(dir).toMatch(/mirrorauth-exec-[0-9a-f]{16}$/);
    expect(existsSync(dir)).toBe(false);
    expect(leftovers(needles, since)).toEqual([]);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('cleans up when it is killed with %s, and the command gets the signal', async (signal) => {
    const { cfg, needles } = secretWorld();
    const marker = `${tempDir()}/dir`;
    const since = Date.now();
    const child = spawn(
      process.execPath,
      [
        bin,
        'exec',
        '--registry',
        'reg.example.com',
        '--config',
        cfg,
        '--',
        'sh',
        '-c',
        `echo "$DOCKER_CONFIG" > "${marker}"; trap 'exit 42' TERM INT; while :; do sleep 0.05; done`,
      ],
      {
        env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: '' },
        stdio: 'ignore',
      },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // the shell creates the marker before it writes the line: wait for the whole line
    const written = () => existsSync(marker) && readFileSync(marker, 'utf8').endsWith('\n');
    for (let i = 0; i < 200 && !written(); i++) await new Promise((r) => setTimeout(r, 25));
    const dir = readFileSync(marker, 'utf8').trim();
    expect(existsSync(`${dir}/config.json`)).toBe(true);
    child.kill(signal);
    expect(await exited).toBe(42);
    expect(existsSync(dir)).toBe(false);
    expect(leftovers(needles, since)).toEqual([]);
  });

  it('reports a command that cannot be started, and cleans up', async () => {
    const { cfg } = secretWorld();
    const r = await runBin(['exec', '--registry', 'reg.example.com', '--config', cfg, '--', 'no-such-command-xyz'], { env: noKeychain });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot run no-such-command-xyz');
  });
});

describe('mirrorauth render', () => {
  const world = () => {
    const cfg = privateConfig({
      // the Hub credential is a plain entry of mirrorauth's own store, reached through Docker's route to it
      'config.json': { auths: { 'ghcr.io': { auth: b64('gh:gh-pw') } }, credHelpers: { 'registry-1.docker.io': 'mirrorauth' } },
      'mirrorauth/namespaced-auths.json': {
        version: 1,
        auths: {
          'mirror.corp?ns=docker.io': { username: 'm', backend: 'file', kind: 'password', auth: b64('m:m-pw') },
          'registry-1.docker.io': { username: 'hub', backend: 'file', kind: 'password', auth: b64('hub:hub-pw') },
        },
      },
    });
    const ca = readFileSync(path.join(repo, 'testdata/oracle/holdout/h33-ca-array-valid/certs.d/registry.example.com/ca.pem'), 'utf8');
    const hosts = makeTree({
      'docker.io/hosts.toml': '[host."https://mirror.corp"]\n  capabilities = ["pull", "resolve"]\n  ca = "mirror-ca.pem"\n  skip_verify = false\n',
      'docker.io/mirror-ca.pem': ca,
    });
    return { cfg, hosts };
  };

  it('docker and helm formats: Docker config.json keyed by host, Hub under its URL', async () => {
    const { cfg, hosts } = world();
    for (const format of ['docker', 'helm']) {
      const r = await runBin(
        ['render', '--format', format, '--registry', 'ghcr.io', '--registry', 'mirror.corp?ns=docker.io', '--config', cfg, '--hosts-dir', hosts],
        { env: noKeychain },
      );
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ auths: { 'ghcr.io': { auth: b64('gh:gh-pw') }, 'mirror.corp': { auth: b64('m:m-pw') } } });
    }
  });

  it('--helper renders credHelpers instead of secrets', async () => {
    const { cfg, hosts } = world();
    const r = await runBin(
      ['render', '--helper', '--format', 'containers', '--registry', 'ghcr.io', '--registry', 'docker.io', '--config', cfg, '--hosts-dir', hosts],
      { env: noKeychain },
    );
    expect(JSON.parse(r.stdout)).toEqual({ auths: {}, credHelpers: { 'ghcr.io': 'mirrorauth', 'docker.io': 'mirrorauth' } });
    expect(r.stdout).not.toMatch(/pw/);
  });

  it('k3s registries.yaml: mirrors from hosts.toml, credentials and TLS per endpoint host', async () => {
    const { cfg, hosts } = world();
    const r = await runBin(['render', '--format', 'k3s', '--registry', 'docker.io', '--config', cfg, '--hosts-dir', hosts], { env: noKeychain });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'mirrors:',
        '  "docker.io":',
        '    endpoint:',
        '      - "https://mirror.corp"',
        'configs:',
        '  "mirror.corp":',
        '    auth:',
        '      username: "m"',
        '      password: "m-pw"',
        '    tls:',
        `      ca_file: "${hosts}/docker.io/mirror-ca.pem"`,
        '      insecure_skip_verify: false',
        '  "registry-1.docker.io":',
        '    auth:',
        '      username: "hub"',
        '      password: "hub-pw"',
        '',
      ].join('\n'),
    );
  });

  it('k3s endpoints keep the whole API root (/v2 included) for Nexus, Artifactory and Harbor paths', async () => {
    const cfg = privateConfig({ 'config.json': { auths: {} } });
    const hosts = makeTree({
      'docker.io/hosts.toml': [
        '[host."https://nexus.corp/repository/docker-group/v2"]',
        '  capabilities = ["pull", "resolve"]',
        '  override_path = true',
        '[host."https://art.corp/artifactory/api/docker/docker-remote"]',
        '  capabilities = ["pull", "resolve"]',
        '[host."https://harbor.corp/v2/dockerhub-proxy"]',
        '  capabilities = ["pull", "resolve"]',
        '  override_path = true',
        '[host."https://plain.corp"]',
        '  capabilities = ["pull", "resolve"]',
        '',
      ].join('\n'),
    });
    const r = await runBin(['render', '--format', 'k3s', '--registry', 'docker.io', '--config', cfg, '--hosts-dir', hosts, '--containerd', '2.3.4'], {
      env: noKeychain,
    });
    expect(r.code, r.stderr).toBe(0);
    // k3s keeps a path other than "", "/" or "/v2" as written, with override_path (pkg/agent/containerd/config.go)
    expect(r.stdout).toContain(
      [
        '      - "https://nexus.corp/repository/docker-group/v2"',
        '      - "https://art.corp/artifactory/api/docker/docker-remote/v2"',
        '      - "https://harbor.corp/v2/dockerhub-proxy"',
        '      - "https://plain.corp"',
      ].join('\n'),
    );
  });

  it('containerd format: registry.configs auth for a 1.x node; 2.x is pointed at mirrorauth serve instead', async () => {
    const { cfg, hosts } = world();
    const v1 = await runBin(['render', '--format', 'containerd', '--registry', 'docker.io', '--config', cfg, '--hosts-dir', hosts, '--containerd', '1.6.20'], {
      env: noKeychain,
    });
    expect(v1.code, v1.stderr).toBe(0);
    expect(v1.stdout).toContain('[plugins."io.containerd.grpc.v1.cri".registry.configs."mirror.corp".auth]\n  username = "m"\n  password = "m-pw"');
    expect(v1.stdout).toContain('[plugins."io.containerd.grpc.v1.cri".registry.configs."registry-1.docker.io".auth]');
    const v2 = await runBin(['render', '--format', 'containerd', '--registry', 'docker.io', '--config', cfg, '--hosts-dir', hosts, '--containerd', '2.3.4'], {
      env: noKeychain,
    });
    expect(v2.code).toBe(2);
    expect(v2.stderr).toContain('mirrorauth serve --render /etc/containerd/certs.d.mirrorauth --render-only');
    const tree = tempDir();
    const rendered = await runBin(['serve', '--hosts-dir', hosts, '--render', tree, '--render-only', '--config', cfg, '--containerd', '2.3.4', '--quiet'], {
      env: noKeychain,
    });
    expect(rendered.code, rendered.stderr).toBe(0);
    const via = await runBin(['render', '--format', 'containerd', '--via-serve', tree, '--config', cfg, '--containerd', '2.3.4'], { env: noKeychain });
    expect(via.code, via.stderr).toBe(0);
    expect(via.stdout).toContain(`[plugins."io.containerd.cri.v1.images".registry]\n  config_path = "${tree}"`);
  });

  it('refuses what a format cannot express: one host needing two credentials', async () => {
    const cfg = privateConfig({
      'mirrorauth/namespaced-auths.json': {
        version: 1,
        auths: {
          'mirror.corp?ns=docker.io': { username: 'a', backend: 'file', kind: 'password', auth: b64('a:1') },
          'mirror.corp?ns=ghcr.io': { username: 'b', backend: 'file', kind: 'password', auth: b64('b:2') },
        },
      },
    });
    const r = await runBin(['render', '--registry', 'mirror.corp?ns=docker.io', '--registry', 'mirror.corp?ns=ghcr.io', '--config', cfg], { env: noKeychain });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/two different credentials/);
  });

  it('-o writes the file 0600 atomically; without --registry it says what to do', async () => {
    const { cfg, hosts } = world();
    const file = `${tempDir()}/out/config.json`;
    const r = await runBin(['render', '--registry', 'ghcr.io', '--config', cfg, '--hosts-dir', hosts, '-o', file], { env: noKeychain });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const none = await runBin(['render', '--config', cfg], { env: noKeychain });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--registry');
  });
});

describe.skipIf(!h.available)('render and exec with skopeo against the Basic registry', () => {
  const registryWorld = async () => {
    const cfg = privateConfig({});
    expect((await runBin(['login', E.HARNESS_BASIC, '-u', 'alice', '--password-stdin', '--config', cfg], { input: 'alice-pw', env: E })).code).toBe(0);
    return cfg;
  };

  it.each(['docker', 'containers'])('skopeo reads a rendered %s file', async (format) => {
    const cfg = await registryWorld();
    const file = `${tempDir()}/auth.json`;
    expect((await runBin(['render', '--format', format, '--registry', E.HARNESS_BASIC, '--config', cfg, '-o', file], { env: E })).code).toBe(0);
    const r = spawnSync('skopeo', ['inspect', '--tls-verify=false', '--authfile', file, `docker://${E.HARNESS_BASIC}/test/hello:v1`], {
      encoding: 'utf8',
      env: { ...process.env, HOME: tempDir(), DOCKER_CONFIG: tempDir() },
    });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).Digest).toBe(E.HARNESS_IMAGE_DIGEST);
  });

  it('exec runs skopeo through REGISTRY_AUTH_FILE with no login of its own', async () => {
    const cfg = await registryWorld();
    const r = await runBin(
      ['exec', '--registry', E.HARNESS_BASIC, '--config', cfg, '--', 'skopeo', 'inspect', '--tls-verify=false', `docker://${E.HARNESS_BASIC}/test/hello:v1`],
      { env: { ...E, HOME: tempDir() } },
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).Digest).toBe(E.HARNESS_IMAGE_DIGEST);
    const anonymous = spawnSync('skopeo', ['inspect', '--tls-verify=false', `docker://${E.HARNESS_BASIC}/test/hello:v1`], {
      encoding: 'utf8',
      env: { ...process.env, HOME: tempDir(), DOCKER_CONFIG: tempDir(), REGISTRY_AUTH_FILE: `${tempDir()}/none.json` },
    });
    expect(anonymous.status).not.toBe(0);
  });
});
