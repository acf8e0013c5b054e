/**
 * What a real containerd 1.6.20 CRI sends a mirror when kubelet's PullImage
 * carries a credential, against what `explain` says: kubelet-style requests
 * (hand-encoded gRPC, test/fixtures/cri-pull.mjs) with and without
 * `server_address`, on a daemon with and without `registry.configs` auth for
 * the mirror. The mirror (a distribution registry with users alice and ci)
 * logs which user each request came as; explain's CRI views must name the same.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { repo, runBin, tempDir } from '../helpers/bin.js';
import { containerdUnavailable, startContainerd, type Containerd } from '../helpers/containerd.js';

const h = inject('harness');
const E = h.env as Record<string, string> & { HARNESS_DIR: string; HARNESS_BASIC: string };
const ci = process.env.CI === 'true' || process.env.CI === '1';
const why = h.available ? containerdUnavailable() : h.reason;
if (why !== null && h.available && ci) throw new Error(`CI=true and the CRI kubelet tests cannot run: ${why}`);
if (why !== null && h.available) process.stderr.write(`\n[mirrorauth tests] skipping the CRI kubelet tests with a real containerd: ${why}\n`);

const IMAGE = 'reg-k.test/test/hello:v1';

/**
 * The users the mirror saw for the image's repository since `from` ('-' = a
 * request without credentials). The registry logs at debug level, so some line
 * of each authenticated request carries auth.user.name with the request id.
 */
function mirrorUsers(from: number): string[] {
  const lines = readFileSync(`${E.HARNESS_DIR}/log/basic.log`, 'utf8').slice(from).split('\n');
  const users = new Map<string, string>();
  for (const l of lines) {
    const id = /http\.request\.id=([0-9a-f-]+)/.exec(l)?.[1];
    const user = /auth\.user\.name="?([^"\s]*)/.exec(l)?.[1];
    if (id !== undefined && user !== undefined) users.set(id, user);
  }
  return lines
    .filter((l) => l.includes('/v2/test/hello/') && l.includes('msg="response completed'))
    .map((l) => users.get(/http\.request\.id=([0-9a-f-]+)/.exec(l)?.[1] ?? '') ?? '-');
}

const logSize = () => readFileSync(`${E.HARNESS_DIR}/log/basic.log`, 'utf8').length;

function criPull(ctd: Containerd, auth: string[]): { ok: boolean; out: string } {
  const r = spawnSync(process.execPath, [`${repo}/test/fixtures/cri-pull.mjs`, ctd.socket, IMAGE, ...auth], { encoding: 'utf8', timeout: 120_000 });
  return { ok: r.status === 0, out: r.stdout + r.stderr };
}

type Views = Record<string, { found: boolean; username: string | null }>;

async function explainMirror(cfg: string, containerdConfig: string): Promise<Views> {
  const r = await runBin(['explain', IMAGE, '--containerd-config', containerdConfig, '--config', cfg, '--containerd', '1.6.20', '--json'], { env: E });
  const j = JSON.parse(r.stdout) as { hosts: Array<{ host: string; stockClients: Views }> };
  const mirror = j.hosts.find((x) => x.host === E.HARNESS_BASIC);
  if (!mirror) throw new Error(`explain lists no mirror host: ${r.stdout}`);
  return mirror.stockClients;
}

/** What explain's view predicts the mirror logs: the user, or '-' for no credentials. */
const predicted = (v: { found: boolean; username: string | null }) => (v.found ? (v.username ?? '-') : '-');

describe.skipIf(why !== null)('CRI with kubelet credentials, real containerd 1.6.20: explain matches the mirror log', () => {
  let certs: string;
  let cfg: string;
  let plain: Containerd;
  let withConfigs: Containerd;

  beforeAll(async () => {
    certs = tempDir('mirrorauth-cri-certs-');
    mkdirSync(`${certs}/reg-k.test`, { recursive: true });
    writeFileSync(
      `${certs}/reg-k.test/hosts.toml`,
      `server = "https://reg-k.test"\n\n[host."http://${E.HARNESS_BASIC}"]\n  capabilities = ["pull", "resolve"]\n`,
    );
    // what kubelet holds for the image's registry (a pull secret or mirrorauth kubelet-provider): alice
    cfg = tempDir();
    writeFileSync(`${cfg}/config.json`, JSON.stringify({ auths: { 'reg-k.test': { auth: Buffer.from('alice:alice-pw').toString('base64') } } }));
    plain = await startContainerd(certs);
    withConfigs = await startContainerd(
      certs,
      `  [plugins."io.containerd.grpc.v1.cri".registry.configs."${E.HARNESS_BASIC}".auth]\n    username = "ci"\n    password = "ci-pw"\n`,
    );
  }, 120_000);

  afterAll(async () => {
    await plain?.stop();
    await withConfigs?.stop();
  });

  const kubelet = ['--user', 'alice', '--password', 'alice-pw'];

  it.each([
    ['no registry.configs, kubelet credential without server_address', 'plain', kubelet, 'cri-kubelet', 'alice'],
    ['no registry.configs, kubelet credential with server_address', 'plain', [...kubelet, '--server-address', 'reg-k.test'], 'cri-kubelet-server', '-'],
    ['registry.configs, kubelet credential without server_address (replaces the mirror auth)', 'configs', kubelet, 'cri-kubelet', 'alice'],
    // a request that carries a credential makes CRI skip registry.configs altogether: the mirror gets nothing
    ['registry.configs, kubelet credential with server_address', 'configs', [...kubelet, '--server-address', 'reg-k.test'], 'cri-kubelet-server', '-'],
    ['registry.configs, no kubelet credential', 'configs', [], 'cri', 'ci'],
  ] as const)('%s', async (_name, daemon, auth, client, user) => {
    const ctd = daemon === 'plain' ? plain : withConfigs;
    const views = await explainMirror(cfg, `${ctd.dir}/config.toml`);
    const mark = logSize();
    const pulled = criPull(ctd, [...auth]);
    const seen = [...new Set(mirrorUsers(mark))];
    // the mirror's own log: the credential containerd sent it (a 401 round first is anonymous)
    const sent = seen.filter((u) => u !== '-');
    expect(sent.length > 0 ? sent : ['-'], `pull: ${pulled.out}`).toEqual([user]);
    expect(predicted(views[client] as { found: boolean; username: string | null }), JSON.stringify(views)).toBe(user);
    expect(pulled.ok, pulled.out).toBe(user !== '-');
  });
});
