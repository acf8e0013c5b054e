/**
 * `mirrorauth completion bash|zsh`: a completion script generated from the
 * command table itself (subcommands and each one's options), so it can never
 * list a flag the CLI does not have. zsh loads the bash function through
 * bashcompinit, as many CLIs do.
 */
import type { Command } from 'commander';

function words(cmd: Command): string[] {
  return cmd.options.filter((o) => !o.hidden).flatMap((o) => [o.long, o.short].filter((x): x is string => typeof x === 'string'));
}

export function completionScript(program: Command, shell: 'bash' | 'zsh'): string {
  const subs = program.commands.filter((c) => c.name() !== 'help');
  const cases = subs.map((c) => `    ${c.name()}) opts="${[...words(c), '--help'].join(' ')}" ;;`).join('\n');
  const bash = `# mirrorauth ${shell} completion: eval "$(mirrorauth completion ${shell})"
_mirrorauth() {
  local cur prev sub opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${subs.map((c) => c.name()).join(' ')} --help --version" -- "$cur") )
    return 0
  fi
  sub="\${COMP_WORDS[1]}"
  case "$prev" in
    --hosts-dir|--config|--render|--via-serve|--ca-file|--containerd-config|-o|--output) COMPREPLY=( $(compgen -f -- "$cur") ); return 0 ;;
  esac
  case "$sub" in
${cases}
    *) opts="--help" ;;
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W "$opts" -- "$cur") ); else COMPREPLY=( $(compgen -f -- "$cur") ); fi
  return 0
}
complete -F _mirrorauth mirrorauth
`;
  if (shell === 'bash') return bash;
  return `#compdef mirrorauth
autoload -U +X bashcompinit && bashcompinit
${bash}`;
}
