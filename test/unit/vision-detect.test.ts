// Detection of image transformers (src/detect/vision.ts) on fixtures written from the papers'
// descriptions: a DiT block as the DiT paper's code writes it (timm's Attention, imported, inside an
// adaLN-Zero block) and a timm-style ViT; and a text decoder that stays untagged.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { DetectionCache, detectText } from '../../src/detect/detector';
import { configSites } from '../../src/detect/hfConfigSite';

const VISION = path.resolve(__dirname, '../fixtures/models/vision');

async function sitesOf(name: string, prefilter = true): Promise<Awaited<ReturnType<typeof detectText>>> {
  const text = await readFile(path.join(VISION, name), 'utf8');
  return new DetectionCache(undefined, { prefilter }).detectText(name, text);
}

test("a DiT block on timm's imported Attention is an MHA attention site of family dit", async () => {
  const sites = await sitesOf('dit_models.py');
  assert.equal(sites.length, 1, JSON.stringify(sites));
  const [s] = sites;
  assert.equal(s.name, 'DiTBlock');
  assert.equal(s.kind, 'attention');
  assert.equal(s.attention, 'mha');
  assert.equal(s.line, 48);
  assert.equal(s.details.family, 'dit');
  assert.equal(s.details.headsFrom, 'num_heads');
  assert.deepEqual(s.details.evidence, ['Attention', 'adaLN_modulation']);
  // The embedders, the final layer and the DiT class itself are not attention sites.
  assert.ok(!sites.some((x) => ['TimestepEmbedder', 'FinalLayer', 'DiT'].includes(x.name)));
});

test("a timm ViT's fused-qkv Attention is found and tagged vit", async () => {
  const sites = await sitesOf('vit_timm.py');
  assert.deepEqual(
    sites.map((s) => [s.name, s.kind, s.attention, s.details.family]),
    [['Attention', 'attention', 'mha', 'vit']],
  );
});

test('the prefiltered path finds the same vision sites as reading every statement', async () => {
  for (const f of ['dit_models.py', 'vit_timm.py'])
    assert.deepEqual(await sitesOf(f, true), await sitesOf(f, false), f);
});

test('an adaLN block without an attention module is no site; a text decoder is not tagged', async () => {
  const noAttention = `import torch.nn as nn
class Modulated(nn.Module):
    def __init__(self, hidden_size):
        super().__init__()
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(hidden_size, 6 * hidden_size))
        self.mlp = nn.Linear(hidden_size, hidden_size)
`;
  assert.deepEqual(await detectText('m.py', noAttention), []);
  const text = `import torch.nn as nn
class SelfAttention(nn.Module):
    def __init__(self, dim, n_heads=8):
        super().__init__()
        self.q_proj = nn.Linear(dim, dim)
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
`;
  const [s] = await detectText('t.py', text);
  assert.equal(s.attention, 'mha');
  assert.equal(s.details.family, undefined);
});

test('config.json of a transformers ViT and of a diffusers DiT are config sites of their family', async () => {
  const vit = configSites('config.json', await readFile(path.join(VISION, 'vit-base-hf', 'config.json'), 'utf8'));
  assert.ok(vit.ok);
  assert.equal(vit.sites.length, 1);
  assert.deepEqual(
    [vit.sites[0].name, vit.sites[0].attention, vit.sites[0].details.family, vit.sites[0].details.layers],
    ['ViTForImageClassification', 'mha', 'vit', 12],
  );
  assert.equal(vit.sites[0].details.problem, undefined); // not reported as an unsupported text model
  const dit = configSites(
    'config.json',
    await readFile(path.join(VISION, 'dit-xl-2-diffusers', 'transformer', 'config.json'), 'utf8'),
  );
  assert.ok(dit.ok);
  const d = dit.sites[0].details;
  assert.deepEqual(
    [dit.sites[0].name, d.family, d.layers, d.heads, d.hidden, d.vocab],
    ['DiTTransformer2DModel', 'dit', 28, 16, 1152, 1000],
  );
  // A Transformer2DModel without adaLN-Zero (PixArt's ada_norm_single, latent diffusion's) is not called a DiT.
  const other = configSites(
    'config.json',
    JSON.stringify({ _class_name: 'Transformer2DModel', norm_type: 'layer_norm' }),
  );
  assert.ok(other.ok);
  assert.deepEqual(other.sites, []);
});
