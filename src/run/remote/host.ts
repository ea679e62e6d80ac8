// A machine the harness runs on, reached one way or another: over SSH (SshHost) or, for tests and the
// Slurm login node on this machine, through local processes (LocalHost). The SSH and Slurm targets are
// written against this interface only, so the same remote-run logic serves both.

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Bytes for the command's stdin. */
  stdin?: string | Buffer;
  /** Kill the command after this long (ms); the result then has code null. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface RemoteHost {
  /** How the user names it: "local", an SSH alias, a Slurm login alias. */
  readonly name: string;
  /**
   * Runs argv through the host's POSIX shell; every argument is quoted by the implementation
   * (src/run/ssh/quote.ts), so argv never needs escaping by the caller.
   */
  exec(argv: string[], options?: ExecOptions): Promise<ExecResult>;
  /** Runs a fixed shell script (our own text, never user input) with positional args quoted as $1… */
  script(body: string, args: string[], options?: ExecOptions): Promise<ExecResult>;
  /** Bytes of `path` from `offset` to its current end; empty when the file is missing. */
  readFrom(path: string, offset: number): Promise<Buffer>;
  /** Writes `data` to `path` atomically (temp file in the same folder, then rename), creating folders. */
  writeFileAtomic(path: string, data: string | Buffer, mode?: number): Promise<void>;
  /** The remote user's home folder, absolute. */
  home(): Promise<string>;
  close(): Promise<void>;
}
