/** Shell completion (bash, zsh) and the input/output shapes in the protocol commands' --help. */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bin, repo, runBin, tempDir } from '../helpers/bin.js';

const hasZsh = spawnSync('zsh', ['-c', 'true']).status === 0;

function bashComplete(words: string[]): string[] {
  const script = `source <("${process.execPath}" "${bin}" completion bash)
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _mirrorauth; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync('bash', ['-c', script], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

describe('mirrorauth completion', () => {
  it('bash completes commands and each command’s own options', () => {
    expect(bashComplete(['mirrorauth', 'ho'])).toEqual(['hosts']);
    expect(bashComplete(['mirrorauth', 'login', '--ca'])).toEqual(['--ca-file']);
    expect(bashComplete(['mirrorauth', 'explain', '--pr'])).toEqual(['--probe']);
    expect(bashComplete(['mirrorauth', 'doctor', '--st'])).toEqual(['--strict']);
  });

  it.skipIf(!hasZsh)('zsh loads it (through bashcompinit) and defines the completion', async () => {
    const file = `${tempDir()}/_mirrorauth.zsh`;
    writeFileSync(file, (await runBin(['completion', 'zsh'])).stdout);
    const r = spawnSync('zsh', ['-f', '-c', `autoload -U +X compinit && compinit -u -D; source ${file}; whence -w _mirrorauth; complete -p mirrorauth`], {
      encoding: 'utf8',
      cwd: repo,
    });
    expect(r.stdout).toContain('_mirrorauth: function');
    expect(r.stdout).toContain('complete -F _mirrorauth mirrorauth');
  });

  it('an unknown shell is a usage error', async () => {
    const r = await runBin(['completion', 'fish']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('use bash or zsh');
  });
});

describe('protocol commands show their input and output shapes', () => {
  it.each([
    [['kubelet-provider', '--help'], /Input \(stdin\)[\s\S]*CredentialProviderRequest[\s\S]*Output \(stdout\)[\s\S]*CredentialProviderResponse[\s\S]*Example:/],
    [['bazel', '--help'], /Input \(stdin\):\s+\{"uri"[\s\S]*Output \(stdout\): \{"headers"[\s\S]*Example:/],
  ])('%j', async (args, shape) => {
    const r = await runBin(args);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(shape);
  });

  it("docker-credential-mirrorauth --help: the Go helpers' usage line on stdout, the shapes on stderr", () => {
    const r = spawnSync(process.execPath, [`${repo}/dist/docker-credential-mirrorauth.cjs`, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('Usage: docker-credential-mirrorauth <store|get|erase|list|version>\n');
    expect(r.stderr).toMatch(/get\s+stdin: the server[\s\S]*stdout: \{"ServerURL"[\s\S]*Example:/);
  });
});
