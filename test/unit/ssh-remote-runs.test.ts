// The detached-run logic (remote/remoteRuns.ts, sshTarget.ts) over a RemoteHost that runs the same
// shell scripts on this machine, with a fake harness and a fake nvidia-smi: fan-out over GPUs and
// hosts, CUDA_VISIBLE_DEVICES, a link that drops between polls (nothing lost, nothing twice),
// give-up with a clear message, the channel pool, the backoff schedule.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  openSync,
  readSync,
  closeSync,
  statSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';

import { expandSweep } from '../../src/core/sweep';
import type { ExecOptions, ExecResult, RemoteHost } from '../../src/run/remote/host';
import { RunFollower } from '../../src/run/follow';
import { withReconnect } from '../../src/run/remote/remoteRuns';
import { SshError } from '../../src/run/ssh/errors';
import { backoffDelayMs, ChannelPool } from '../../src/run/ssh/pool';
import { buildRemoteCommand } from '../../src/run/ssh/quote';
import { parseSshTargetSpec, SshTarget } from '../../src/run/sshTarget';
import type { RunOutcome } from '../../src/run/target';

const HELLO =
  '{"type":"hello","protocol":1,"python":"3.11.2","torch":"1.13.0a0","cuda":null,"device":{"name":"AMD EPYC","memoryBytes":25276026880},"nvml":false,"powerScope":null,"memorySource":"process-rss"}';
const RESULT =
  '{"type":"result","counters":{"params":2106624,"activeParams":2106624,"trainableParams":0,"weightBytes":8426496,"referenceWeightBytes":4213248,"kvCacheBytes":1179648,"optimizerStateBytes":null,"peakMemoryBytes":272932864,"iterations":2,"iterationS":[0.1,0.1],"tokensPerIteration":287,"generatedTokensPerIteration":32,"ttftS":0.08,"tpotS":0.002,"windowStartT":1.0,"windowEndT":1.2,"energyJ":null,"quality":0.98,"loss":null}}';

/** A RemoteHost on this machine: scripts run with sh, HOME is a folder of ours, calls can be made to fail. */
class ShellHost implements RemoteHost {
  failures = 0;
  calls = 0;
  constructor(
    readonly name: string,
    private readonly homeDir: string,
    private readonly path: string,
  ) {}

  private maybeFail(): void {
    this.calls += 1;
    if (this.failures > 0) {
      this.failures -= 1;
      throw new SshError('lost', this.name, `the connection to ${this.name} closed`);
    }
  }

  exec(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    return this.script('eval "$1"', [buildRemoteCommand(argv)], options);
  }

  async script(body: string, args: string[], _options: ExecOptions = {}): Promise<ExecResult> {
    this.maybeFail();
    return new Promise((resolve) => {
      const child = spawn('sh', ['-c', body, 'sh', ...args], {
        cwd: this.homeDir,
        env: { PATH: `${this.path}:/usr/bin:/bin`, HOME: this.homeDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
  }

  async readFrom(path: string, offset: number): Promise<Buffer> {
    this.maybeFail();
    if (!existsSync(path)) return Buffer.alloc(0);
    const size = statSync(path).size;
    if (size <= offset) return Buffer.alloc(0);
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(size - offset);
      const n = readSync(fd, buf, 0, buf.length, offset);
      return buf.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  }

  async writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
    this.maybeFail();
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(`${path}.tmp`, data);
    renameSync(`${path}.tmp`, path);
  }

  async home(): Promise<string> {
    return this.homeDir;
  }

  async close(): Promise<void> {}
}

const work = mkdtempSync(join(tmpdir(), 'elp-unit-ssh-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A fake harness (`python -m efficientllm_harness --run-dir D…`) and a fake nvidia-smi with `gpus` GPUs. */
function fakeBin(name: string, gpus: number): string {
  const bin = join(work, name, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(bin, 'fakepy'),
    `#!/bin/sh
if [ "$1" = -c ]; then exit 0; fi
shift 3
for d in "$@"; do
  echo "cvd=\${CUDA_VISIBLE_DEVICES:-none} pid=$$" > "$d/seen"
  printf '%s\\n' '${HELLO}' >> "$d/events.jsonl"
  sleep 0.2
  printf '%s\\n' '${RESULT}' >> "$d/events.jsonl"
  echo 0 > "$d/exit"
done
`,
    { mode: 0o755 },
  );
  writeFileSync(
    join(bin, 'nvidia-smi'),
    `#!/bin/sh\ni=0; while [ $i -lt ${gpus} ]; do echo "GPU $i: Fake GPU (UUID: GPU-$i)"; i=$((i+1)); done\n`,
    { mode: 0o755 },
  );
  return bin;
}

function makeHost(name: string, gpus: number): ShellHost {
  const home = join(work, name, 'home');
  mkdirSync(home, { recursive: true });
  return new ShellHost(name, home, fakeBin(name, gpus));
}

function planned(n: number) {
  const ex = expandSweep(
    { model: { preset: 'tiny' }, workload: { steps: 2 } },
    { stage: ['inference'], attention: ['mha'], batch: Array.from({ length: n }, (_, i) => i + 1) },
  );
  assert.ok(ex.ok);
  return ex.configs
    .slice(0, n)
    .map((config, i) => ({ id: `unit-${Date.now()}-${i}`, createdAt: new Date().toISOString(), config }));
}

function collect(): {
  ends: RunOutcome[];
  hooks: { onUpdate: () => void; onRunEnd: (o: RunOutcome) => Promise<void> };
} {
  const ends: RunOutcome[] = [];
  return { ends, hooks: { onUpdate: () => undefined, onRunEnd: async (o) => void ends.push(o) } };
}

describe('SshTarget over RemoteHosts', () => {
  it('a host with 2 GPUs runs 2 processes, one per GPU, each config in its own run folder', async () => {
    const host = makeHost('gpu2', 2);
    const target = new SshTarget({ hosts: ['gpu2'], python: 'fakepy', hostFactory: () => host, pollMs: 50 });
    await target.prepare();
    const runs = planned(4);
    const { ends, hooks } = collect();
    await target.execute(runs, hooks, new AbortController().signal);
    assert.deepEqual(ends.map((e) => e.id).sort(), runs.map((r) => r.id).sort());
    assert.ok(ends.every((e) => e.state.result !== null && e.ending === null));
    const seen = runs.map((r) =>
      readFileSync(join(work, 'gpu2', 'home', '.cache', 'efficientllm', 'runs', r.id, 'seen'), 'utf8').trim(),
    );
    // Round-robin: configs 0 and 2 share GPU 0's process, 1 and 3 GPU 1's.
    assert.deepEqual(
      seen.map((s) => s.split(' ')[0]),
      ['cvd=0', 'cvd=1', 'cvd=0', 'cvd=1'],
    );
    assert.equal(seen[0]!.split(' ')[1], seen[2]!.split(' ')[1], 'one process per GPU');
    assert.notEqual(seen[0]!.split(' ')[1], seen[1]!.split(' ')[1]);
    const harness = readdirSync(join(work, 'gpu2', 'home', '.cache', 'efficientllm', 'harness'));
    assert.equal(harness.length, 1);
    assert.match(harness[0]!, /^[0-9a-f]{64}$/);
  });

  it('a sweep spreads over several hosts (ssh:a,b); isolate gives each config its own process', async () => {
    const a = makeHost('hostA', 0);
    const b = makeHost('hostB', 0);
    const target = new SshTarget({
      hosts: parseSshTargetSpec('ssh:hostA,hostB'),
      python: 'fakepy',
      isolate: true,
      hostFactory: (n) => (n === 'hostA' ? a : b),
      pollMs: 50,
    });
    assert.equal(target.name, 'hostA,hostB');
    await target.prepare();
    const runs = planned(4);
    const { ends, hooks } = collect();
    await target.execute(runs, hooks, new AbortController().signal);
    assert.equal(ends.length, 4);
    const where = runs.map((r) =>
      existsSync(join(work, 'hostA', 'home', '.cache', 'efficientllm', 'runs', r.id, 'exit')) ? 'A' : 'B',
    );
    assert.equal(where.filter((w) => w === 'A').length, 2, `spread: ${where.join('')}`);
    const pids = runs.map(
      (r) =>
        readFileSync(
          join(
            work,
            where[runs.indexOf(r)] === 'A' ? 'hostA' : 'hostB',
            'home',
            '.cache',
            'efficientllm',
            'runs',
            r.id,
            'seen',
          ),
          'utf8',
        ).split('pid=')[1],
    );
    assert.equal(new Set(pids).size, 4, 'isolate: one process per config');
    assert.ok(
      readFileSync(
        join(work, 'hostA', 'home', '.cache', 'efficientllm', 'runs', runs[0]!.id, 'seen'),
        'utf8',
      ).startsWith('cvd=none'),
      'no CUDA_VISIBLE_DEVICES on a CPU host',
    );
  });

  it('a link that drops between polls loses nothing and reports each run once', async () => {
    const host = makeHost('flaky', 0);
    const dir = join(work, 'flaky', 'home', 'runs', 'r1');
    mkdirSync(dir, { recursive: true });
    const { ends, hooks } = collect();
    const set = new RunFollower(host, [{ id: 'r1', dir }], hooks);
    const policy = { giveUpMs: 5000, baseDelayMs: 1 };
    writeFileSync(join(dir, 'events.jsonl'), `${HELLO}\n{"type":"progress","phase":"measure","step":1,"tot`);
    await withReconnect(host, () => set.poll(), policy);
    host.failures = 3;
    writeFileSync(
      join(dir, 'events.jsonl'),
      `${HELLO}\n{"type":"progress","phase":"measure","step":1,"total":2}\nnot json\n${RESULT}\n`,
    );
    writeFileSync(join(dir, 'exit'), '0\n');
    await withReconnect(host, () => set.poll(), policy);
    await withReconnect(host, () => set.poll(), policy);
    await set.endRemaining(() => ({ status: 'failed', message: 'should not happen' }));
    assert.equal(ends.length, 1);
    assert.equal(ends[0]!.ending, null);
    assert.ok(ends[0]!.state.result);
    assert.deepEqual(
      ends[0]!.state.problems.map((p) => p.line),
      [3],
      'the broken line is reported once, with its line number',
    );
    assert.deepEqual(ends[0]!.state.lastProgress, { phase: 'measure', step: 1, total: 2 });
  });

  it('gives up after the configured downtime with a message that says how to resume', async () => {
    const host = makeHost('dead', 0);
    host.failures = 1_000_000;
    const retries: string[] = [];
    await assert.rejects(
      withReconnect(host, () => host.readFrom('/x', 0), {
        giveUpMs: 60,
        baseDelayMs: 10,
        onRetry: (m) => retries.push(m),
      }),
      /lost the connection to dead and could not reconnect for \d+ s .*"efficientllm runs --reattach"/,
    );
    assert.ok(retries.length >= 2 && /reconnecting to dead in/.test(retries[0]!));
  });

  it('a host-key or auth error is never retried', async () => {
    let calls = 0;
    await assert.rejects(
      withReconnect(makeHost('k', 0), async () => {
        calls += 1;
        throw new SshError('host-key-changed', 'k', 'HOST KEY CHANGED');
      }),
      /HOST KEY CHANGED/,
    );
    assert.equal(calls, 1);
  });
});

describe('ssh channel pool and backoff', () => {
  it('never holds more than max channels and hands slots over in order', async () => {
    const pool = new ChannelPool(3);
    let active = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        pool.with(async () => {
          active += 1;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, 2 + (i % 3)));
          active -= 1;
        }),
      ),
    );
    assert.equal(peak, 3);
    assert.equal(pool.peak, 3);
    assert.equal(pool.active, 0);
  });

  it('backs off 1, 2, 4 … 30 s', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 10].map((a) => backoffDelayMs(a) / 1000),
      [1, 2, 4, 8, 16, 30, 30, 30],
    );
  });

  it('parses ssh:a,b target specs', () => {
    assert.deepEqual(parseSshTargetSpec('ssh:a,b'), ['a', 'b']);
    assert.throws(() => parseSshTargetSpec('ssh:'), /name at least one/);
    assert.throws(() => parseSshTargetSpec('ssh:a,a'), /twice/);
  });
});
