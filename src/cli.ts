// `efficientllm`: the command-line twin of the extension, on the same core (DESIGN.md).
import { detectCommand } from './cli/detect';
import { estimateCommand } from './cli/estimate';
import { exportCommand } from './cli/export';
import { UsageError, type CliIo, type Subcommand } from './cli/io';
import { preflightCommand } from './cli/preflight';
import { profileCommand } from './cli/profile';
import { recommendCommand } from './cli/recommend';
import { reportCommand } from './cli/report';
import { runsCommand } from './cli/runs';
import { showCommand } from './cli/show';

const COMMANDS: Record<string, { run: Subcommand; summary: string }> = {
  profile: { run: profileCommand, summary: 'run a sweep on a target and store the results' },
  preflight: { run: preflightCommand, summary: 'check a target: reachable, Python, torch, CUDA, GPUs, NVML, disk' },
  runs: { run: runsCommand, summary: 'list stored runs' },
  show: { run: showCommand, summary: 'show one stored run' },
  export: { run: exportCommand, summary: 'export stored runs as csv, md or json' },
  recommend: {
    run: recommendCommand,
    summary: 'Pareto front and a recommended technique per group of comparable runs',
  },
  report: { run: reportCommand, summary: 'write a self-contained HTML dashboard of stored runs (--html FILE)' },
  estimate: { run: estimateCommand, summary: 'analytic parameters, memory, FLOPs and floors for a config' },
  detect: {
    run: detectCommand,
    summary: 'find attention, MoE, PEFT, quantization and model-loading code and config.json files',
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: efficientllm <command> [flags]\n\ncommands:\n${lines.join('\n')}\n\nEvery command takes --json.\n`;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw new UsageError(`"${name}" is not a command; use one of ${Object.keys(COMMANDS).join(', ')}`);
    return await command.run(rest, io);
  } catch (e) {
    // Bad input of any kind: one line naming the thing and what to do.
    const isParseError = e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS');
    if (e instanceof UsageError || isParseError) {
      io.err(`efficientllm: ${(e as Error).message.replace(/\s*\n\s*/g, ' ')}\n`);
      return 2;
    }
    io.err(`efficientllm: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

if (require.main === module) {
  const io: CliIo = {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    isTTY: Boolean(process.stderr.isTTY),
    cwd: process.cwd(),
    env: process.env,
  };
  main(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
  });
}
