// Helpers shared by the unit tests: a CliIo that keeps what a command prints, a run store in a temp
// folder, and a RunRecord of the tiny preset. Not a barrel: the tests import what they use from here.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { CliIo } from '../../src/cli/io';
import { resolveConfig } from '../../src/core/config';
import type { ProfileConfigInput } from '../../src/core/config';
import { emptyEnv, emptyMetrics } from '../../src/core/record';
import type { RunMetrics, RunRecord } from '../../src/core/record';
import { RunStore } from '../../src/run/store';

/** A CliIo as a pipe sees it (no TTY, empty env), keeping stdout and stderr as text. */
export interface CapturedIo extends CliIo {
  stdout: string;
  stderr: string;
}

export function fakeIo(cwd: string): CapturedIo {
  const io: CapturedIo = {
    stdout: '',
    stderr: '',
    out(text: string) {
      io.stdout += text;
    },
    err(text: string) {
      io.stderr += text;
    },
    isTTY: false,
    cwd,
    env: {},
  };
  return io;
}

/** Runs `fn` with the run store of a fresh temp workspace `root`, removed afterwards. */
export async function withStore(fn: (store: RunStore, root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'elp-unit-'));
  try {
    await fn(RunStore.forWorkspace(root), root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/**
 * A completed local run of the tiny preset (`input` resolved over it), created 2025-01-01 12:00 UTC,
 * with empty env and metrics: `metrics` fills some in, `extra` replaces whole fields.
 */
export function makeRunRecord(
  id: string,
  input: ProfileConfigInput = {},
  metrics: Partial<RunMetrics> = {},
  extra: Partial<RunRecord> = {},
): RunRecord {
  const cfg = resolveConfig({ model: { preset: 'tiny' }, ...input });
  assert.ok(cfg.ok, cfg.ok ? '' : JSON.stringify(cfg.errors));
  return {
    schema: 1,
    id,
    createdAt: '2025-01-01T12:00:00.000Z',
    status: 'completed',
    target: { kind: 'local', name: 'local' },
    config: cfg.value,
    env: emptyEnv(),
    metrics: { ...emptyMetrics(), ...metrics },
    measurement: null,
    samples: [],
    protocolProblems: [],
    error: null,
    ...extra,
  };
}
