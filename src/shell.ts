/**
 * Commands mirrorauth suggests are printed so they paste into bash and zsh:
 * an argument with anything but safe characters is single-quoted (`?` and `*`
 * are globs in zsh, which answers "no matches found" for an unquoted `?ns=`).
 */

const SAFE = /^[A-Za-z0-9_./:@%+=,-]+$/;

/** shellQuote returns the argument as one shell word. */
export function shellQuote(arg: string): string {
  if (arg !== '' && SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** shellCommand joins a command line from arguments, quoting each as needed. */
export function shellCommand(...args: string[]): string {
  return args.map(shellQuote).join(' ');
}
