// LocalHost: a RemoteHost that is this machine. Commands go through `sh -c` with every argument quoted
// by quote.ts, exactly as an SSH exec request would carry them, so the Slurm (and SSH) targets run the
// same command text here as on a remote login node. Used by tests and by `--target slurm:local` (a
// login node that is this machine). With `runAs`, every command runs as that user through
// `runuser -u USER --` (root only), which lets tests exercise an unprivileged account.
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { readFileFrom } from '../readFrom';
import { buildRemoteCommand, shQuote } from '../ssh/quote';
import type { ExecOptions, ExecResult, RemoteHost } from './host';

export interface LocalHostOptions {
  /** How the user names it; "local" by default. */
  name?: string;
  /** Run every command as this user (`runuser -u USER --`); needs root. */
  runAs?: string;
  /** Environment for the commands; defaults to this process's environment. */
  env?: NodeJS.ProcessEnv;
}

const USER_NAME = /^[a-z_][a-z0-9_.-]*\$?$/i;

// Writes stdin to "$1" through a temp file in the same folder, then renames it over the target.
const WRITE_ATOMIC = `set -e
dir=$(dirname -- "$1")
mkdir -p -- "$dir"
tmp="$1.tmp.$$"
trap 'rm -f -- "$tmp"' EXIT
cat > "$tmp"
if [ -n "$2" ]; then chmod "$2" "$tmp"; fi
mv -f -- "$tmp" "$1"
trap - EXIT`;

// Prints the bytes of "$1" from byte offset "$2" (0-based); nothing when the file is missing.
const READ_FROM = `[ -f "$1" ] || exit 0
exec tail -c +"$(($2 + 1))" -- "$1"`;

export class LocalHost implements RemoteHost {
  readonly name: string;
  private readonly runAs: string | undefined;
  private readonly env: NodeJS.ProcessEnv;
  private homeDir: string | null = null;

  constructor(options: LocalHostOptions = {}) {
    this.name = options.name ?? 'local';
    this.env = options.env ?? process.env;
    if (options.runAs !== undefined && !USER_NAME.test(options.runAs)) {
      throw new Error(`LocalHost runAs: "${options.runAs}" is not a user name`);
    }
    this.runAs = options.runAs;
  }

  exec(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    return this.shell(buildRemoteCommand(argv), options);
  }

  script(body: string, args: string[], options: ExecOptions = {}): Promise<ExecResult> {
    // `sh -c BODY NAME ARG…`: the args become $1… without passing through the shell's parser.
    const command = ['sh', '-c', body, 'efficientllm', ...args].map(shQuote).join(' ');
    return this.shell(command, options);
  }

  async readFrom(path: string, offset: number): Promise<Buffer> {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new Error(`readFrom: bad offset ${offset}`);
    if (this.runAs === undefined) return readFileFrom(path, offset);
    const r = await this.run(['sh', '-c', READ_FROM, 'efficientllm', path, String(offset)].map(shQuote).join(' '), {});
    if (r.code !== 0) throw new Error(`readFrom ${path} failed on ${this.name}: ${r.stderr.toString('utf8').trim()}`);
    return r.stdout;
  }

  async writeFileAtomic(path: string, data: string | Buffer, mode?: number): Promise<void> {
    const modeArg = mode === undefined ? '' : (mode & 0o7777).toString(8);
    const r = await this.script(WRITE_ATOMIC, [path, modeArg], { stdin: data });
    if (r.code !== 0) throw new Error(`cannot write ${path} on ${this.name}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  async home(): Promise<string> {
    if (this.homeDir !== null) return this.homeDir;
    if (this.runAs === undefined) {
      this.homeDir = this.env.HOME ?? homedir();
    } else {
      const r = await this.script('cd && pwd -P', []);
      const home = r.stdout.trim();
      if (r.code !== 0 || !home.startsWith('/'))
        throw new Error(`cannot find the home folder of ${this.runAs}: ${r.stderr.trim()}`);
      this.homeDir = home;
    }
    return this.homeDir;
  }

  async close(): Promise<void> {
    // Nothing held open between commands.
  }

  private async shell(command: string, options: ExecOptions): Promise<ExecResult> {
    const r = await this.run(command, options);
    return { code: r.code, signal: r.signal, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
  }

  private run(
    command: string,
    options: ExecOptions,
  ): Promise<{ code: number | null; signal: string | null; stdout: Buffer; stderr: Buffer }> {
    const [file, args] =
      this.runAs === undefined
        ? ['/bin/sh', ['-c', command]]
        : ['runuser', ['-u', this.runAs, '--', '/bin/sh', '-c', command]];
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) {
        reject(new Error('aborted'));
        return;
      }
      // Its own process group, so a timeout or abort kills the shell and whatever it started.
      const child = spawn(file, args, { env: this.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let killed = false;
      const killGroup = (): void => {
        killed = true;
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      };
      const timer = options.timeoutMs !== undefined ? setTimeout(killGroup, options.timeoutMs) : null;
      options.signal?.addEventListener('abort', killGroup, { once: true });
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.stdin.on('error', () => undefined); // the command may exit without reading its stdin
      const cleanup = (): void => {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', killGroup);
      };
      child.once('error', (e) => {
        cleanup();
        reject(e);
      });
      child.once('close', (code, signal) => {
        cleanup();
        resolve({ code: killed ? null : code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
      });
      if (options.stdin !== undefined) child.stdin.end(options.stdin);
      else child.stdin.end();
    });
  }
}
