/**
 * POSIX shell quoting for commands sent over SSH.
 *
 * An SSH "exec" request carries ONE string, which the remote user's login shell parses. Every
 * argument we send must therefore be quoted so that the shell hands it to the program unchanged.
 * We single-quote every argument (no exceptions, no "looks safe" shortcut): inside single quotes a
 * POSIX shell gives no character a special meaning, and a single quote itself is written as
 * `'\''` (close the quote, an escaped quote, reopen).
 *
 * Assumption: the remote login shell is POSIX-like (sh, dash, bash, ksh, zsh, busybox ash). csh/tcsh
 * and fish do not follow these rules (csh rejects a newline inside quotes and expands `!`); the
 * caller should refuse arguments with newlines or wrap in `sh -c` for such hosts.
 */

/** Thrown for an argument that no shell can carry (a NUL byte) or an invalid argv / env name. */
export class ShellQuoteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShellQuoteError';
  }
}

/** Quote one argument for a POSIX shell: always `'…'`, with `'` written as `'\''`. */
export function shQuote(arg: string): string {
  if (typeof arg !== 'string') {
    throw new ShellQuoteError(`argument must be a string, got ${typeof arg}`);
  }
  if (arg.includes('\0')) {
    throw new ShellQuoteError('argument contains a NUL byte, which cannot be passed through a shell');
  }
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface RemoteCommandOptions {
  /** `cd -- DIR &&` before the command (the directory is quoted like any argument). */
  readonly cwd?: string;
  /** `NAME='value'` assignments placed before the program (names must be shell identifiers). */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Build a remote command line from an argv array. The result, parsed by a POSIX shell, runs
 * `argv[0]` with exactly `argv[1..]` as its arguments, whatever characters they hold.
 */
export function buildRemoteCommand(argv: readonly string[], options: RemoteCommandOptions = {}): string {
  if (!Array.isArray(argv) || argv.length === 0) {
    throw new ShellQuoteError('argv must contain at least the program');
  }
  if (argv[0] === '') {
    throw new ShellQuoteError('argv[0] (the program) must not be empty');
  }
  const parts: string[] = [];
  if (options.env !== undefined) {
    for (const [name, value] of Object.entries(options.env)) {
      if (!ENV_NAME.test(name)) {
        throw new ShellQuoteError(`invalid environment variable name ${JSON.stringify(name)}`);
      }
      parts.push(`${name}=${shQuote(value)}`);
    }
  }
  for (const arg of argv) parts.push(shQuote(arg));
  const command = parts.join(' ');
  if (options.cwd !== undefined) {
    return `cd -- ${shQuote(options.cwd)} && ${command}`;
  }
  return command;
}
