import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveConfig } from '../../src/core/config';
import { archFromConfig, estimateModel } from '../../src/core/estimate';
import {
  configView,
  defaultForm,
  formFieldOf,
  launcherInit,
  launcherPlan,
  launcherPreview,
  MAX_LAUNCH_CONFIGS,
  seededForm,
  seedSite,
  siteId,
  siteShape,
  targetChoices,
} from '../../src/views/launcherData';
import type { LauncherEnv } from '../../src/views/launcherData';
import { formatBytes, formatCount, MISSING } from '../../src/core/units';
import { isLauncherInit, isLauncherPreview, LAUNCHER_PREVIEW_ROWS } from '../../src/core/webviewProtocol/launcher';
import type { LauncherFieldError, LauncherForm } from '../../src/core/webviewProtocol/launcher';
import type { ModelSite } from '../../src/detect/site';
import { LAUNCHER_SETTINGS, llamaAttentionSite } from '../webview/launcherFixtures';

const ENV: LauncherEnv = { sites: [], targets: ['local', 'gpubox'] };

const form = (patch: Partial<LauncherForm> = {}): LauncherForm => ({ ...defaultForm(LAUNCHER_SETTINGS), ...patch });

function plan(f: LauncherForm, env: LauncherEnv = ENV) {
  const p = launcherPlan(f, env);
  assert.ok(p.ok, p.ok ? '' : JSON.stringify(p.errors));
  return p;
}

function errorsOf(f: LauncherForm, env: LauncherEnv = ENV): LauncherFieldError[] {
  const p = launcherPlan(f, env);
  assert.ok(!p.ok, 'expected errors');
  return p.errors;
}

const fields = (errors: LauncherFieldError[]): string[] => errors.map((e) => e.field);

const ATTENTION_SITE = llamaAttentionSite({
  heads: 32,
  kvHeads: 8,
  hidden: 4096,
  layers: 32,
  headsFrom: 'config.num_attention_heads',
});

describe('the form from settings and a seed', () => {
  test('settings give the defaults; wrong values in them are skipped', () => {
    const f = defaultForm(LAUNCHER_SETTINGS);
    assert.deepEqual(f.source, { kind: 'preset' });
    assert.equal(f.preset, 'tiny');
    assert.deepEqual(f.attention, ['mha', 'gqa', 'mqa']);
    assert.deepEqual(f.precision, ['fp32']);
    assert.deepEqual(f.workload, { batch: '1', seqLen: '128', newTokens: '32', steps: '5', warmup: '2' });
    assert.equal(f.dense, true);
    const odd = defaultForm({
      preset: 'huge',
      attention: ['mha', 'flash', 3],
      stage: 'train',
      precision: 'bf16',
      batch: -1,
      seqLen: 512,
    });
    assert.equal(odd.preset, 'tiny');
    assert.deepEqual(odd.attention, ['mha']);
    assert.equal(odd.stage, 'inference');
    assert.deepEqual(odd.precision, ['fp32']);
    assert.equal(odd.workload.batch, '1');
    assert.equal(odd.workload.seqLen, '512');
    const moe = defaultForm({ preset: '0.5bx8' });
    assert.equal(moe.dense, false, 'an MoE preset starts sparse');
    assert.equal(moe.moe, '8x2');
  });

  test('an attention site: its shape is the model, its variant and KV heads join the sweep', () => {
    const f = seededForm(defaultForm(LAUNCHER_SETTINGS), ATTENTION_SITE, [ATTENTION_SITE]);
    assert.deepEqual(f.source, { kind: 'site', siteId: siteId(ATTENTION_SITE) });
    assert.deepEqual(f.attention, ['gqa', 'mha', 'mqa']);
    assert.equal(f.kvHeads, '8');
    assert.deepEqual(siteShape(ATTENTION_SITE), { layers: 32, hidden: 4096, heads: 32, kvHeads: 8, headDim: 128 });
    const p = plan(f, { ...ENV, sites: [ATTENTION_SITE] });
    assert.deepEqual(
      p.configs.map((c) => c.label),
      [
        'LlamaAttention shape · GQA-8 · fp32 · inference',
        'LlamaAttention shape · MHA · fp32 · inference',
        'LlamaAttention shape · MQA · fp32 · inference',
      ],
    );
    const shape = p.configs[0].model.source === 'synthetic' ? p.configs[0].model.shape : null;
    assert.deepEqual(
      shape,
      { layers: 32, hidden: 4096, heads: 32, kvHeads: 8, headDim: 128, ffn: 688, vocab: 1024 },
      'numbers the site lacks come from the preset',
    );
    assert.match(p.notes.join(' '), /FFN, vocab from the tiny preset: the code does not state them/);
  });

  test('MoE, PEFT, quantization and loading sites seed their techniques; a shape site of the same file is the model', () => {
    const moe: ModelSite = {
      file: 'models/llama.py',
      line: 40,
      kind: 'moe',
      attention: null,
      name: 'SparseMoe',
      details: { experts: 8, topK: 2, sharedExperts: 1 },
    };
    const f = seededForm(defaultForm(LAUNCHER_SETTINGS), moe, [ATTENTION_SITE, moe]);
    assert.deepEqual(f.source, { kind: 'site', siteId: siteId(ATTENTION_SITE) });
    assert.equal(f.dense, true, 'dense stays as the baseline');
    assert.equal(f.moe, '8x2');
    assert.equal(f.moeShared, '1');

    const lora: ModelSite = {
      file: 'train.py',
      line: 5,
      kind: 'peft',
      attention: null,
      name: 'LoraConfig',
      details: { method: 'dora', rank: 16 },
    };
    const g = seededForm(defaultForm(LAUNCHER_SETTINGS), lora, [lora]);
    assert.deepEqual(g.source, { kind: 'preset' });
    assert.equal(g.stage, 'finetune');
    assert.deepEqual(g.peft, ['full', 'dora']);
    assert.equal(g.peftRank, '16');

    const q: ModelSite = {
      file: 'load.py',
      line: 3,
      kind: 'quantization',
      attention: null,
      name: 'BitsAndBytesConfig',
      details: { loadIn4bit: true },
    };
    assert.deepEqual(seededForm(defaultForm(LAUNCHER_SETTINGS), q, [q]).precision, ['fp32', 'int4']);

    const load: ModelSite = {
      file: 'load.py',
      line: 9,
      kind: 'load',
      attention: null,
      name: 'AutoModelForCausalLM.from_pretrained',
      details: { model: 'Qwen/Qwen2.5-0.5B', dtype: 'bf16' },
    };
    const h = seededForm(defaultForm(LAUNCHER_SETTINGS), load, [load]);
    assert.deepEqual(h.source, { kind: 'site', siteId: siteId(load) });
    assert.deepEqual(h.precision, ['fp32', 'bf16']);
    const p = plan(h, { ...ENV, sites: [load] });
    assert.ok(p.configs.every((c) => c.model.source === 'hf' && c.model.path === 'Qwen/Qwen2.5-0.5B'));
    assert.match(p.notes.join(' '), /loads Qwen\/Qwen2\.5-0\.5B on the target/);
    assert.equal(configView(p.configs[0]).params, MISSING, 'no estimate without the checkpoint’s config.json');
  });

  test('a seed by file and line finds the nearest site at or above the line', () => {
    const later: ModelSite = { ...ATTENTION_SITE, line: 80, name: 'Other' };
    const sites = [ATTENTION_SITE, later];
    assert.equal(seedSite({ file: 'models/llama.py', line: 50 }, sites), ATTENTION_SITE);
    assert.equal(
      seedSite({ file: '/ws/models/llama.py', line: 90 }, sites),
      later,
      'an absolute path matches a relative site',
    );
    assert.equal(seedSite({ file: 'models/llama.py', line: 1 }, sites), ATTENTION_SITE, 'above every site: the first');
    assert.equal(seedSite({ file: 'other.py', line: 1 }, sites), null);
    assert.equal(seedSite(undefined, sites), null);
  });

  test('launcherInit: sites as text, the seed first, targets and choices; it passes the protocol guard', () => {
    const hostile: ModelSite = { ...ATTENTION_SITE, file: '<img src=x onerror=1>.py', name: '</script>' };
    const i = launcherInit({
      sites: [ATTENTION_SITE],
      seed: { site: hostile },
      defaults: LAUNCHER_SETTINGS,
      targets: targetChoices([{ name: 'gpubox', kind: 'ssh', hosts: ['gpubox'] }]),
      defaultTarget: 'gpubox',
      revision: 3,
      launchBlocked: null,
      displayPath: (f) => `ws/${f}`,
    });
    assert.ok(isLauncherInit(i));
    assert.equal(
      i.sites[0].text,
      'ws/<img src=x onerror=1>.py:12 · </script> (gqa)',
      'the seed’s own site, first, as plain text',
    );
    assert.equal(i.seedNote, 'From ws/<img src=x onerror=1>.py:12 · </script>');
    assert.equal(i.form.target, 'gpubox', 'the default target when it is on offer');
    assert.deepEqual(i.options.attention, ['mha', 'mqa', 'gqa', 'mla', 'nsa']);
    assert.ok(i.presets.some((p) => p.value === '0.5bx8' && p.text === '0.5bx8 (MoE 8×2)'));
    const none = launcherInit({
      sites: [],
      seed: { file: 'x.py', line: 4 },
      defaults: {},
      targets: targetChoices(undefined),
      revision: 1,
      launchBlocked: 'not trusted',
    });
    assert.equal(none.seedNote, 'From x.py:4 (no detected model site there; pick one or a preset)');
    assert.equal(none.form.target, 'local');
  });

  test('targets: local first, then named entries of the setting; junk skipped', () => {
    assert.deepEqual(
      targetChoices([
        { name: 'gpubox', kind: 'ssh', hosts: ['a'] },
        { name: 'cluster', kind: 'slurm', host: 'login' },
        'ssh:raw',
        7,
        { name: 'x y', kind: 'ssh' },
        { name: 'n', kind: 'ftp' },
        { name: 'gpubox', kind: 'ssh' },
      ]),
      [
        { value: 'local', text: 'local (this machine)' },
        { value: 'gpubox', text: 'gpubox (ssh)' },
        { value: 'cluster', text: 'cluster (slurm)' },
        { value: 'ssh:raw', text: 'ssh:raw' },
      ],
    );
    assert.deepEqual(
      targetChoices({ gpubox: { kind: 'ssh' } }).map((t) => t.value),
      ['local'],
    );
  });
});

describe('form → configs', () => {
  test('the product of the ticked values; KV-head lists apply to GQA and NSA only', () => {
    assert.equal(plan(form()).configs.length, 3);
    const p = plan(form({ attention: ['mha', 'gqa', 'mqa', 'nsa'], kvHeads: '1, 2, 4', precision: ['bf16', 'fp16'] }));
    // mha, mqa: 1 each; gqa, nsa: 3 each → 8 per precision, less gqa-1, which is mqa (folded).
    assert.equal(p.configs.length, 14);
    assert.match(p.notes.join(' '), /Folded 2 duplicate configs \(gqa-1 is mqa here/);
    assert.deepEqual(
      p.configs.filter((c) => c.precision === 'bf16').map((c) => c.label),
      [
        'tiny mha bf16 inference',
        'tiny gqa-2 bf16 inference',
        'tiny gqa-4 bf16 inference',
        'tiny mqa bf16 inference',
        'tiny nsa-1 bf16 inference',
        'tiny nsa-2 bf16 inference',
        'tiny nsa-4 bf16 inference',
      ],
    );
    assert.equal(plan(form({ kvHeads: '2, 2, 2' })).configs.length, 3, 'repeated values count once');
  });

  test('MLA and NSA options reach their configs only', () => {
    const p = plan(
      form({
        attention: ['mla', 'nsa', 'mha'],
        mla: { kvRank: '32', qRank: '0', ropeDim: '8' },
        nsa: { block: '16', selected: '2', window: '64' },
      }),
    );
    const mla = p.configs.find((c) => c.attention.kind === 'mla');
    assert.deepEqual(mla?.attention.mla, { kvRank: 32, qRank: 0, ropeDim: 8 });
    assert.deepEqual(p.configs.find((c) => c.attention.kind === 'nsa')?.attention.nsa, {
      block: 16,
      selected: 2,
      window: 64,
    });
    assert.equal(p.configs.find((c) => c.attention.kind === 'mha')?.attention.mla, null);
  });

  test('MoE: dense and each experts×top-k layout, with shared experts', () => {
    const p = plan(form({ attention: ['gqa'], dense: true, moe: '8x2, 16×4;4 x 1', moeShared: '1' }));
    assert.deepEqual(
      p.configs.map((c) => c.moe),
      [
        null,
        { experts: 8, topK: 2, shared: 1 },
        { experts: 16, topK: 4, shared: 1 },
        { experts: 4, topK: 1, shared: 1 },
      ],
    );
    assert.deepEqual(
      p.configs.map((c) => c.label),
      [
        'tiny gqa-2 fp32 inference',
        'tiny gqa-2 moe8x2 fp32 inference',
        'tiny gqa-2 moe16x4 fp32 inference',
        'tiny gqa-2 moe4x1 fp32 inference',
      ],
    );
    assert.equal(plan(form({ attention: ['gqa'], dense: false, moe: '8x2' })).configs.length, 1);
  });

  test('PEFT: each method for finetune; the rank goes to adapters only; ignored for inference', () => {
    const p = plan(
      form({ stage: 'finetune', attention: ['gqa'], peft: ['full', 'lora', 'freeze', 'dora'], peftRank: '4' }),
    );
    assert.deepEqual(
      p.configs.map((c) => [c.peft?.method, c.peft?.rank]),
      [
        ['full', 0],
        ['lora', 4],
        ['freeze', 1],
        ['dora', 4],
      ],
    );
    assert.ok(
      p.configs.every((c) => c.workload.newTokens === 0),
      'training configs generate nothing',
    );
    assert.ok(plan(form({ peft: ['lora'] })).configs.every((c) => c.peft === null));
  });

  test('workload lists multiply and are named in the labels; steps, warmup and sampleMs apply to all', () => {
    const p = plan(
      form({
        attention: ['mqa'],
        workload: { batch: '1, 8', seqLen: '128 512', newTokens: '16', steps: '3', warmup: '0' },
      }),
      { ...ENV, sampleMs: 20 },
    );
    assert.deepEqual(
      p.configs.map((c) => c.label),
      [
        'tiny mqa fp32 inference b1 L128+16',
        'tiny mqa fp32 inference b1 L512+16',
        'tiny mqa fp32 inference b8 L128+16',
        'tiny mqa fp32 inference b8 L512+16',
      ],
    );
    assert.ok(p.configs.every((c) => c.workload.steps === 3 && c.workload.warmup === 0 && c.sampleMs === 20));
  });

  test('each config equals resolveConfig of the same input (the launcher adds nothing of its own but the label)', () => {
    const p = plan(form({ attention: ['gqa'], precision: ['bf16'], kvHeads: '4' }), { ...ENV, sampleMs: 50 });
    const direct = resolveConfig({
      stage: 'inference',
      model: { preset: 'tiny' },
      attention: { kind: 'gqa', kvHeads: 4 },
      precision: 'bf16',
      workload: { batch: 1, seqLen: 128, newTokens: 32, steps: 5, warmup: 2 },
      sampleMs: 50,
    });
    assert.ok(direct.ok);
    assert.deepEqual({ ...p.configs[0], label: '' }, { ...direct.value, label: '' });
  });
});

describe('errors name the field to fix', () => {
  test('typed lists', () => {
    const e = errorsOf(
      form({ kvHeads: '2, two', workload: { batch: '', seqLen: '0', newTokens: '8', steps: '1.5', warmup: '-1' } }),
    );
    assert.deepEqual(fields(e), ['kvHeads', 'workload.batch', 'workload.seqLen', 'workload.steps', 'workload.warmup']);
    assert.match(e[0].message, /"two" is not a whole number ≥ 1/);
    assert.match(e[1].message, /give at least one whole number/);
    assert.match(e[4].message, /"-1" is not a whole number ≥ 0; leave it empty for the default/);
  });

  test('choices, MoE layouts, PEFT and the target', () => {
    assert.deepEqual(fields(errorsOf(form({ attention: [] }))), ['attention']);
    assert.deepEqual(fields(errorsOf(form({ precision: ['fp64'] }))), ['precision']);
    assert.deepEqual(fields(errorsOf(form({ preset: '7b' }))), ['preset']);
    assert.deepEqual(fields(errorsOf(form({ stage: 'serve' }))), ['stage']);
    const moe = errorsOf(form({ moe: '8x9, 8', dense: true }));
    assert.deepEqual(fields(moe), ['moe', 'moe']);
    assert.match(moe[0].message, /top-k must be 1 to 8/);
    assert.match(moe[1].message, /"8" is not experts×top-k; write e\.g\. "8x2"/);
    assert.match(errorsOf(form({ dense: false, moe: '' }))[0].message, /tick "Dense FFN" or give experts×top-k/);
    assert.deepEqual(fields(errorsOf(form({ stage: 'finetune', peft: [] }))), ['peft']);
    const t = errorsOf(form({ target: 'nowhere' }));
    assert.deepEqual(fields(t), ['target']);
    assert.match(t[0].message, /pick one of local, gpubox/);
  });

  test('errors from resolving the configs land on the form field, once, naming a config', () => {
    const e = errorsOf(form({ kvHeads: '3', precision: ['fp32', 'bf16'] }));
    assert.deepEqual(fields(e), ['kvHeads']);
    assert.equal(
      e[0].message,
      '3 does not divide the 8 query heads; use one of 1, 2, 4, 8 (in tiny gqa 3 fp32 inference and 1 more)',
    );
    assert.deepEqual(fields(errorsOf(form({ attention: ['mla'], mla: { kvRank: '', qRank: '', ropeDim: '7' } }))), [
      'mla.ropeDim',
    ]);
    // Every problem at once, in the form's order.
    assert.deepEqual(
      fields(errorsOf(form({ kvHeads: '3', target: 'x', workload: { ...form().workload, steps: 'x' } }))),
      ['kvHeads', 'workload.steps', 'target'],
    );
  });

  test('a site that is gone, and a sweep that is too large', () => {
    assert.deepEqual(fields(errorsOf(form({ source: { kind: 'site', siteId: 'attention:gone.py:1:X' } }))), ['source']);
    const big = errorsOf(
      form({
        attention: ['mha', 'mqa', 'gqa', 'mla', 'nsa'],
        kvHeads: '1 2 4 8',
        precision: ['fp32', 'bf16', 'fp16', 'int8', 'int4', 'fp8'],
        workload: { ...form().workload, batch: '1 2 4 8', seqLen: '64 128 256' },
      }),
    );
    assert.deepEqual(fields(big), ['sweep']);
    assert.match(big[0].message, new RegExp(`one launch runs at most ${MAX_LAUNCH_CONFIGS}`));
    assert.equal(formFieldOf('model.shape.heads', true), 'source');
    assert.equal(formFieldOf('model.preset', false), 'preset');
    assert.equal(formFieldOf('attention.nsa.window', false), 'nsa.window');
    assert.equal(formFieldOf('peft.alpha', false), 'peftRank');
    assert.equal(formFieldOf('seed', false), 'seeds');
    assert.equal(formFieldOf('trainTokens', false), 'budget.trainTokens');
  });
});

describe('preview', () => {
  test('sweep size and each config’s estimate, from the estimator', () => {
    const p = launcherPreview(form({ attention: ['mha', 'mqa'], precision: ['bf16'], moe: '4x2' }), ENV);
    assert.ok(isLauncherPreview(p));
    assert.equal(p.sweepSize, 4);
    assert.deepEqual(p.errors, []);
    const cfg = plan(form({ attention: ['mqa'], precision: ['bf16'], dense: false, moe: '4x2' })).configs[0];
    const arch = archFromConfig(cfg);
    assert.ok(arch);
    const e = estimateModel(arch, { precision: 'bf16', batch: 1, seqLen: 128, gpu: null });
    const view = p.configs.find((c) => c.label === 'tiny mqa moe4x2 bf16 inference');
    assert.deepEqual(view, {
      label: 'tiny mqa moe4x2 bf16 inference',
      params: formatCount(e.params),
      activeParams: formatCount(e.activeParams),
      weights: formatBytes(e.weightBytes),
      kvPer1k: formatBytes(e.kvBytesPerToken * 1000),
      trainable: null,
    });
    assert.equal(
      p.configs.find((c) => c.label === 'tiny mha bf16 inference')?.activeParams,
      null,
      'dense: every parameter is active',
    );
    assert.equal(launcherPreview(form({ stage: 'finetune', peft: ['lora'] }), ENV).configs[0].trainable !== null, true);
  });

  test('errors leave the size unknown; a long sweep shows its first rows and counts the rest', () => {
    const bad = launcherPreview(form({ kvHeads: '3' }), ENV);
    assert.equal(bad.sweepSize, null);
    assert.equal(bad.configs.length, 0);
    assert.deepEqual(fields(bad.errors), ['kvHeads']);
    const long = launcherPreview(
      form({
        attention: ['mha', 'mqa', 'gqa', 'nsa'],
        kvHeads: '1 2 4 8',
        precision: ['fp32', 'bf16', 'fp16', 'int8'],
        workload: { ...form().workload, batch: '1 8' },
      }),
      ENV,
    );
    // 5 attention configs per precision and batch: gqa-1 is mqa, folded (4 × 4 × 2 × … = 64).
    assert.equal(long.sweepSize, 64);
    assert.equal(long.configs.length, Math.min(64, LAUNCHER_PREVIEW_ROWS));
    assert.equal(long.more, 64 - long.configs.length);
  });
});
