// The seam between CLI subcommands and the process: tests pass their own CliIo and read what was written.
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** True when stdout is a terminal (progress bars, colours); false under --json or a pipe. */
  isTTY: boolean;
  /** The folder relative paths and the run store are resolved against. */
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** A subcommand: parses its own flags (node:util parseArgs), returns the process exit code. */
export type Subcommand = (argv: string[], io: CliIo) => Promise<number>;

/** Thrown for bad input; the CLI prints `efficientllm: <message>` as one line and exits 2. */
export class UsageError extends Error {}
