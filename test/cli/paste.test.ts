/**
 * Every command mirrorauth suggests pastes into bash and zsh: each one found in
 * doctor's fixes, lookup's notes and error hints is run through `bash -c` and
 * `zsh -c` (where zsh exists) with `mirrorauth` replaced by a function that
 * prints its arguments; both shells must run it and see the same arguments.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { shellCommand, shellQuote } from '../../src/shell.js';
import { tempDir } from '../helpers/bin.js';
import { runCli } from '../helpers/cli.js';
import { makeTree } from '../helpers/tree.js';

const CI = process.env.CI === 'true' || process.env.CI === '1';
const hasZsh = spawnSync('zsh', ['-c', 'true']).status === 0;
if (!hasZsh && !CI) console.warn('paste test: zsh is not installed (apt-get install -y zsh); only bash is checked');
if (!hasZsh && CI) throw new Error('CI=true and zsh is missing (apt-get install -y zsh)');

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** The argument list a shell hands to `mirrorauth` for one command line. */
function argsIn(shell: 'bash' | 'zsh', command: string): string[] {
  const script = `mirrorauth() { for a in "$@"; do printf '%s\\0' "$a"; done; }\n${command}`;
  const out = execFileSync(shell, ['-c', script], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

/** Every `mirrorauth …` command in a text: the command word and the shell words after it (quoted or bare). */
function commandsIn(text: string): string[] {
  return [...text.matchAll(/mirrorauth (?:login|logout|trust|lookup|serve|hosts|import)(?: +(?:'[^']*'|[^\s`()'][^\s`()]*))*/g)].map((m) =>
    m[0].trim().replace(/[.;,]$/, ''),
  );
}

describe('shellQuote', () => {
  it.each([
    ['mirror.corp', 'mirror.corp'],
    ['mirror.corp/v2/proxy?ns=docker.io', "'mirror.corp/v2/proxy?ns=docker.io'"],
    ['m?ns=*', "'m?ns=*'"],
    ["it's", "'it'\\''s'"],
    ['', "''"],
  ])('%s -> %s', (arg, want) => {
    expect(shellQuote(arg)).toBe(want);
  });
});

describe('suggested commands paste into bash and zsh', () => {
  it('doctor fixes, lookup notes and hints', async () => {
    const cfg = tempDir();
    mkdirSync(`${cfg}/mirrorauth`, { recursive: true });
    writeFileSync(
      `${cfg}/mirrorauth/namespaced-auths.json`,
      JSON.stringify({
        version: 1,
        auths: {
          'unused.example.com?ns=r.example.com': { username: 'u', backend: 'file', kind: 'password', auth: b64('u:p') },
          'wild.example.com/v2/cache?ns=*': { username: 'w', backend: 'file', kind: 'password', auth: b64('w:p') },
        },
      }),
    );
    writeFileSync(`${cfg}/config.json`, '{}');
    const root = makeTree({
      'r.example.com/hosts.toml': '[host."https://m.example.com/v2/proxy"]\n  override_path = true\n',
      '_default/hosts.toml': '[host."https://wild.example.com/v2/cache"]\n  override_path = true\n',
    });
    const texts: string[] = [];
    const doctor = JSON.parse((await runCli(['doctor', '--hosts-dir', root, '--config', cfg, '--json'])).stdout) as {
      diagnostics: Array<{ fix: string | null }>;
    };
    texts.push(...doctor.diagnostics.map((d) => d.fix ?? ''));
    texts.push((await runCli(['lookup', 'wild.example.com/v2/cache?ns=quay.io', '--config', cfg])).stdout);
    texts.push((await runCli(['trust', 'mirror.corp', '--config', cfg])).stderr);
    const commands = [...new Set(texts.flatMap(commandsIn))];
    // the scenario must produce the commands that once broke zsh
    expect(commands.some((c) => c.includes('?ns='))).toBe(true);
    expect(commands.some((c) => c.includes('?ns=*'))).toBe(true);
    for (const c of commands) {
      const bash = argsIn('bash', c);
      expect(bash.some((a) => a.includes('?ns=')) || !c.includes('?ns='), c).toBe(true);
      if (hasZsh) expect(argsIn('zsh', c), c).toEqual(bash);
    }
  });

  it('shellCommand round-trips awkward arguments through both shells', () => {
    const args = ['login', "m.corp/v2/it's?ns=*", '--registry-namespace', 'a b', '$HOME', '!x'];
    const line = shellCommand('mirrorauth', ...args);
    expect(argsIn('bash', line)).toEqual(args);
    if (hasZsh) expect(argsIn('zsh', line)).toEqual(args);
  });
});
