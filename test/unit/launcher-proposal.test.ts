// The Launcher's proposal from a detected site (issue 13): the whole shape the code states, with
// where each number came from; a scaled version only as a labelled choice; the site's own technique
// kept ticked; configs that compute the same folded into one.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { detectText } from '../../src/detect/detector';
import type { ModelSite } from '../../src/detect/site';
import {
  defaultForm,
  isScaled,
  launcherInit,
  launcherPlan,
  launcherPreview,
  launcherSites,
  seededForm,
  siteId,
} from '../../src/views/launcherData';
import { LAUNCHER_SETTINGS } from '../webview/launcherFixtures';

const PUBLIC = path.resolve(__dirname, '../fixtures/public');

async function sites(rel: string): Promise<ModelSite[]> {
  return detectText(rel, await readFile(path.join(PUBLIC, rel), 'utf8'));
}

const TARGETS = [{ value: 'local', text: 'local (this machine)' }];

test('a GPT-2-shaped dataclass site: the full shape with its sources, the scaled version a labelled choice', async () => {
  const found = await sites('nanogpt/model.py');
  const attn = found.find((s) => s.kind === 'attention');
  assert.ok(attn);
  const seed = { file: attn.file, line: attn.line, site: attn };
  const init = launcherInit({
    sites: found,
    seed,
    defaults: LAUNCHER_SETTINGS,
    targets: TARGETS,
    revision: 1,
    launchBlocked: null,
  });
  // Proposed: the full shape, not the scaled one.
  assert.deepEqual(init.form.source, { kind: 'site', siteId: siteId(attn) });
  const full = init.sites.find((v) => v.id === siteId(attn));
  assert.ok(full);
  assert.match(full.detail, /layers 12 \(GPTConfig\.n_layer\)/);
  assert.match(full.detail, /FFN 3072 \(MLP\.c_fc\)/);
  assert.match(full.detail, /vocab 50304 \(GPTConfig\.vocab_size\)/);
  // The scaled choice sits right after it, labelled, with its own id.
  const at = init.sites.indexOf(full);
  const scaled = init.sites[at + 1];
  assert.equal(scaled.id, `${siteId(attn)}#2-layers`);
  assert.match(scaled.text, /GPTConfig shape scaled to 2 of 12 layers \(a quick run; not the full model\)/);

  const list = launcherSites(found, seed);
  const env = { sites: list, targets: ['local'] };
  const plan = launcherPlan(init.form, env);
  assert.ok(plan.ok);
  const shape = plan.configs[0].model.source === 'synthetic' ? plan.configs[0].model.shape : null;
  assert.deepEqual(shape, { layers: 12, hidden: 768, heads: 12, kvHeads: 12, headDim: 64, ffn: 3072, vocab: 50304 });
  assert.ok(plan.configs.every((c) => c.label.startsWith('GPTConfig shape · ')));
  const notes = plan.notes.join('\n');
  assert.match(notes, /Shape from GPTConfig in model\.py: layers 12 \(GPTConfig\.n_layer\)/);
  assert.doesNotMatch(notes, /from the tiny preset/, 'the code states every number');
  assert.match(notes, /Llama-style blocks/, "says the harness's blocks are not GPT-2's");

  const small = launcherPlan({ ...init.form, source: { kind: 'site', siteId: scaled.id } }, env);
  assert.ok(small.ok);
  const smallShape = small.configs[0].model.source === 'synthetic' ? small.configs[0].model.shape : null;
  assert.deepEqual(smallShape, { ...shape, layers: 2 });
  assert.ok(small.configs.every((c) => c.label.startsWith('GPTConfig shape 2L · ')));
  assert.match(small.notes.join('\n'), /Scaled choice: 2 of 12 layers/);
  // A scaled choice is the same site: its runs are indexed under the site's file, line and name.
  const pick = list.find((s) => siteId(s) === scaled.id);
  assert.ok(pick && isScaled(pick));
  assert.deepEqual([pick.file, pick.line, pick.name], [attn.file, attn.line, attn.name]);
  assert.equal(launcherSites(list, seed).length, list.length, 'listing again adds no choices');
});

test("Llama 3's site: the missing vocab is named with the preset; GQA with kv heads = heads folds into MHA", async () => {
  const found = await sites('llama3/model.py');
  const attn = found.find((s) => s.kind === 'attention');
  assert.ok(attn);
  assert.equal(attn.attention, 'mha');
  const list = launcherSites(found, undefined);
  const form = seededForm(defaultForm(LAUNCHER_SETTINGS), attn, list);
  assert.deepEqual(form.attention.slice(0, 1), ['mha'], "the site's own variant is ticked first");
  const env = { sites: list, targets: ['local'] };
  const preview = launcherPreview({ ...form, attention: ['mha', 'gqa'], kvHeads: '32, 8', precision: ['bf16'] }, env);
  // gqa-32 computes exactly what mha does (32 KV heads of 32): one config, not two.
  assert.deepEqual(
    preview.configs.map((c) => c.label),
    ['ModelArgs shape · MHA · bf16 · inference', 'ModelArgs shape · GQA-8 · bf16 · inference'],
  );
  assert.equal(preview.sweepSize, 2);
  assert.match(preview.notes.join('\n'), /Folded 1 duplicate config \(gqa-32 is mha here/);
  assert.match(preview.notes.join('\n'), /vocab from the tiny preset: the code does not state it/);
  // GQA alone with kv heads = heads is still one config, kept.
  const alone = launcherPlan({ ...form, attention: ['gqa'], kvHeads: '32', precision: ['bf16'] }, env);
  assert.ok(alone.ok);
  assert.equal(alone.configs.length, 1);
});

test("DeepSeek-V3's MoE lens: the model is the MLA site and MLA stays ticked, with the MoE's experts", async () => {
  const found = await sites('deepseek-v3/model.py');
  const moe = found.find((s) => s.kind === 'moe');
  const mla = found.find((s) => s.kind === 'attention');
  assert.ok(moe && mla);
  const list = launcherSites(found, undefined);
  const form = seededForm(defaultForm(LAUNCHER_SETTINGS), moe, list);
  assert.deepEqual(form.source, { kind: 'site', siteId: siteId(mla) });
  assert.deepEqual(form.attention, ['mla']);
  assert.deepEqual([form.mla.kvRank, form.mla.ropeDim], ['512', '64']);
  assert.equal(form.moe, '64x6');
  assert.equal(form.moeShared, '2');
});
