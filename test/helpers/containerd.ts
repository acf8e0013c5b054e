/**
 * A throwaway containerd daemon for the serve tests: its own root, state and
 * sockets in a temp dir, the native snapshotter, CRI on with cgroups and
 * AppArmor off (images are pulled, never run), and `config_path` pointing at
 * the tree under test. Needs the `containerd` package and root.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { tempDir } from './bin.js';

export interface Containerd {
  socket: string;
  dir: string;
  ctr(args: string[], env?: Record<string, string>): { status: number | null; stdout: string; stderr: string };
  log(): string;
  stop(): Promise<void>;
}

/** unavailable says why the daemon cannot run here, or null. */
export function containerdUnavailable(): string | null {
  if (spawnSync('containerd', ['--version']).status !== 0) return 'containerd is not installed (apt-get install -y containerd)';
  if (process.getuid?.() !== 0) return 'a containerd daemon needs root';
  return null;
}

/** startContainerd starts a daemon reading `configPath`; `extra` is appended to its config.toml (e.g. registry.configs). */
export async function startContainerd(configPath: string, extra = ''): Promise<Containerd> {
  const dir = tempDir('mirrorauth-ctd-');
  const socket = `${dir}/containerd.sock`;
  writeFileSync(
    `${dir}/config.toml`,
    `version = 2
root = "${dir}/root"
state = "${dir}/state"
[grpc]
  address = "${socket}"
[ttrpc]
  address = "${dir}/containerd.ttrpc.sock"
[debug]
  level = "debug"
[plugins."io.containerd.grpc.v1.cri"]
  disable_cgroup = true
  disable_apparmor = true
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "${configPath}"
${extra}`,
  );
  const child: ChildProcess = spawn('containerd', ['--config', `${dir}/config.toml`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const deadline = Date.now() + 15_000;
  while (!existsSync(socket) || spawnSync('ctr', ['-a', socket, 'version']).status !== 0) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`containerd did not start:\n${log.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    socket,
    dir,
    ctr: (args, env) => {
      const r = spawnSync('ctr', ['-a', socket, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    log: () => log,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    },
  };
}
