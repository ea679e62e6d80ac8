// The CodeLens model (src/vscode/codeLensModel.ts): lens text from detected sites, instant estimates
// and the runs launched from a site; run in plain Node, as the provider's real code path.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { DetectionCache } from '../../src/detect/detector';
import type { ModelSite } from '../../src/detect/site';
import { buildLenses, detectionText, lensesForDocument, siteLenses } from '../../src/vscode/codeLensModel';
import { estimateSite } from '../../src/vscode/siteEstimate';
import { addSiteRuns, emptySitesIndex } from '../../src/vscode/sitesIndex';
import { trio } from './vscode-models.fixtures';

const FIXTURES = path.resolve(__dirname, '../fixtures/models');
const noRuns = new Map();

const mqaSite: ModelSite = {
  file: '/ws/model.py',
  line: 15,
  kind: 'attention',
  attention: 'mqa',
  name: 'MultiQueryAttention',
  details: { heads: 16, kvHeads: 1, hidden: 1024, kernel: 'sdpa' },
};

test('an attention class with literal head counts gets the per-layer estimate', () => {
  const e = estimateSite(mqaSite, 'bf16');
  assert.ok(e);
  assert.equal(e.scope, 'layer');
  // q (1024×1024) + k, v (64×1024 each, one KV head of dim 64) + o (1024×1024)
  assert.equal(e.params, 1024 * 1024 * 2 + 2 * 64 * 1024);
  assert.equal(e.weightBytes, 2 * e.params);
  // K and V of one head of 64 at 2 bytes, per token, × 1000 tokens
  assert.equal(e.kvBytesPer1k, 2 * 64 * 2 * 1000);
  const [first, profile, estimate] = siteLenses(mqaSite, {
    sites: [mqaSite],
    file: mqaSite.file,
    relFile: 'model.py',
    precision: 'bf16',
    index: null,
    runsById: noRuns,
  });
  assert.equal(first.line, 14, "lenses sit on the site's line (0-based)");
  // The title keeps what fits in MAX_LENS_CHARS; the tooltip has all of it.
  assert.equal(
    first.title,
    '$(pulse) MQA attention · heads 16 — per layer 2.23M params · 4.25 MiB bf16 · KV 250 KiB/1k tok',
  );
  assert.match(
    first.tooltip ?? '',
    /MQA attention · heads 16 · kv heads 1 · hidden 1024 · sdpa\nper layer: 2\.23M attention params · 4\.25 MiB \(bf16\) · KV 250 KiB \/ 1k tokens/,
  );
  assert.equal(profile.title, 'Profile variants…');
  assert.deepEqual(profile.command?.name, 'profileSite');
  assert.equal(estimate.title, 'Estimate…');
  assert.equal(estimate.command?.name, 'estimateSite');
});

test('head counts read from config.* give the detection only, no numbers', () => {
  const site: ModelSite = {
    ...mqaSite,
    attention: 'gqa',
    details: { headsFrom: 'config.num_attention_heads', kvHeadsFrom: 'config.num_key_value_heads' },
  };
  assert.equal(estimateSite(site, 'bf16'), null);
  const [first] = siteLenses(site, {
    sites: [site],
    file: site.file,
    relFile: null,
    precision: 'bf16',
    index: null,
    runsById: noRuns,
  });
  assert.equal(
    first.title,
    '$(pulse) GQA attention · heads from config.num_attention_heads — pick a config.json for numbers',
  );
  assert.match(first.tooltip ?? '', /kv heads from config\.num_key_value_heads/);
  assert.equal(first.command, null);
});

test('a config.json is estimated exactly from its text, at its own dtype', async () => {
  const file = path.join(FIXTURES, 'llama-3-8b/config.json');
  const text = await readFile(file, 'utf8');
  const lenses = await lensesForDocument(
    { fileName: file, getText: () => text },
    {
      detection: new DetectionCache(),
      workspaceRoot: FIXTURES,
      index: async () => null,
      runsById: noRuns,
      precision: 'fp32',
    },
  );
  assert.equal(lenses.length, 3);
  // Llama-3-8B: 8.03B parameters, bf16 in its config → 2 bytes each; KV 2×32 layers×8 heads×128×2 B = 128 KiB/token.
  assert.equal(
    lenses[0].title,
    '$(pulse) GQA config · 32 layers · heads 32 — 8.03B params · 15.0 GiB bf16 · KV 125 MiB/1k tok',
  );
  assert.match(
    lenses[0].tooltip ?? '',
    /GQA config · 32 layers · heads 32 · kv heads 8 · hidden 4096 · bf16\n8\.03B params · 15\.0 GiB weights \(bf16\) · KV 125 MiB \/ 1k tokens/,
  );
});

test('the fixture modeling_llama.py gets Profile variants… and Estimate… on each attention class', async () => {
  const file = path.join(FIXTURES, 'hf/modeling_llama.py');
  const text = await readFile(file, 'utf8');
  let cancelled = false;
  const sources = {
    detection: new DetectionCache(),
    workspaceRoot: FIXTURES,
    index: async () => null,
    runsById: noRuns,
    precision: 'bf16' as const,
  };
  const lenses = await lensesForDocument({ fileName: file, getText: () => text }, sources, () => cancelled);
  const lines = lenses.filter((l) => l.title === 'Profile variants…').map((l) => l.line + 1);
  assert.deepEqual(lines, [43, 80]);
  cancelled = true;
  assert.deepEqual(
    await lensesForDocument({ fileName: file, getText: () => `${text}\n# edit` }, sources, () => cancelled),
    [],
    'a cancelled request returns nothing',
  );
});

test('after runs from a site: the last result and the recommendation, linking to their runs', () => {
  const runs = trio();
  const index = addSiteRuns(
    emptySitesIndex(),
    { file: 'model.py', line: 15, name: 'MultiQueryAttention' },
    runs.map((r) => r.id),
  );
  // Lines moved (an edit above): the site is still found by name.
  const moved = { ...mqaSite, line: 18 };
  const lenses = buildLenses({
    sites: [moved],
    file: moved.file,
    relFile: 'model.py',
    precision: 'bf16',
    index,
    runsById: new Map(runs.map((r) => [r.id, r])),
  });
  assert.equal(lenses.length, 5);
  const [last, rec] = lenses.slice(3);
  assert.equal(last.title, '$(history) Last inference run MQA: 1.30 s latency · 5.50 GiB peak', 'the stage is named');
  assert.deepEqual(last.command, { name: 'openRuns', args: [['20250101-120200-e5f6']] });
  assert.equal(rec.title, '$(star-full) Recommended for inference: GQA-2');
  assert.match(rec.tooltip ?? '', /runs c3d4, a1b2, e5f6/);
  assert.deepEqual(rec.command, {
    name: 'openRuns',
    args: [['20250101-120100-c3d4', '20250101-120000-a1b2', '20250101-120200-e5f6']],
  });
});

test('a failed last run says so, with its error kind', () => {
  const [run] = trio();
  const failed = {
    ...run,
    status: 'failed' as const,
    metrics: { ...run.metrics, latencyS: null },
    error: { kind: 'oom' as const, message: 'CUDA out of memory', stderrTail: '' },
  };
  const index = addSiteRuns(emptySitesIndex(), { file: 'model.py', line: 15, name: 'MultiQueryAttention' }, [
    failed.id,
  ]);
  const lenses = buildLenses({
    sites: [mqaSite],
    file: mqaSite.file,
    relFile: 'model.py',
    precision: 'bf16',
    index,
    runsById: new Map([[failed.id, failed]]),
  });
  assert.equal(lenses.length, 4, 'no recommendation without a completed run');
  assert.equal(lenses[3].title, '$(history) Last inference run MHA fp32: failed (oom)');
});

test('detectionText names the kind of every site', () => {
  const lora: ModelSite = {
    file: 't.py',
    line: 3,
    kind: 'peft',
    attention: null,
    name: 'LoraConfig',
    details: { method: 'lora', rank: 16, alpha: 32 },
  };
  assert.equal(detectionText(lora), 'PEFT · lora · r 16 · alpha 32');
});
