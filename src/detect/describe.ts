// One short line saying what was found at a site: the CLI table's last column, and the start of a
// CodeLens title. Only what the code pins down is said as a number; a number read from a config
// object at run time is said as where it comes from ("heads from config.num_attention_heads"), and
// nothing is printed as the raw Python it was written in.
import type { ModelSite, SiteDetails } from './site';

const PRECISION_WORDS = new Set(['fp32', 'bf16', 'fp16', 'fp8', 'int8', 'int4', 'auto']);

/** The parts of a site's description, most telling first (a CodeLens keeps as many as fit). */
export function describeParts(site: ModelSite): string[] {
  const d = site.details;
  const parts: string[] = [];
  switch (site.kind) {
    case 'attention':
      if (d.layers !== undefined) parts.push(`${d.layers} layers`);
      parts.push(...heads(d));
      if (d.ffn !== undefined) parts.push(`ffn ${d.ffn}`);
      if (d.vocab !== undefined) parts.push(`vocab ${d.vocab}`);
      if (d.kvRank !== undefined) parts.push(`kv rank ${d.kvRank}`);
      if (d.qRank !== undefined) parts.push(`q rank ${d.qRank}`);
      if (d.nsaBranches) parts.push(`branches ${d.nsaBranches.join('+')}`);
      if (d.slidingWindow !== undefined)
        parts.push(d.slidingWindow === true ? 'sliding window' : `window ${d.slidingWindow}`);
      if (d.kernel !== undefined) parts.push(d.kernel);
      break;
    case 'moe':
      if (d.experts !== undefined) parts.push(`experts ${d.experts}`);
      else if (d.expertsFrom !== undefined) parts.push(`experts from ${d.expertsFrom}`);
      if (d.topK !== undefined) parts.push(`top-k ${d.topK}`);
      else if (d.topKFrom !== undefined) parts.push(`top-k from ${d.topKFrom}`);
      if (d.sharedExperts !== undefined) parts.push(`shared ${d.sharedExperts}`);
      break;
    case 'peft':
      parts.push(d.method ?? 'lora');
      if (d.rank !== undefined) parts.push(`r ${d.rank}`);
      if (d.alpha !== undefined) parts.push(`alpha ${d.alpha}`);
      if (d.targetModules !== undefined) parts.push(targets(d.targetModules));
      break;
    case 'quantization':
      if (d.precision === 'fp8' && d.evidence !== undefined) parts.push('fp8 weights (block-scaled matmul)');
      else if (d.precision !== undefined) parts.push(d.precision);
      if (d.quantType !== undefined) parts.push(d.quantType.toUpperCase());
      if (d.doubleQuant) parts.push('double quant');
      if (d.computeDtype !== undefined && PRECISION_WORDS.has(d.computeDtype)) parts.push(`compute ${d.computeDtype}`);
      break;
    case 'load':
      if (d.model !== undefined) parts.push(d.model);
      else if (d.modelChoices !== undefined) parts.push(`one of ${d.modelChoices.join(', ')}`);
      else parts.push('checkpoint chosen at run time');
      if (d.adapter) parts.push('adapter');
      if (d.precision !== undefined) parts.push(d.precision);
      else if (d.dtype !== undefined && PRECISION_WORDS.has(d.dtype)) parts.push(d.dtype);
      if (d.deviceMap !== undefined) parts.push(`device_map ${d.deviceMap}`);
      break;
    case 'config':
      if (d.layers !== undefined) parts.push(`${d.layers} layers`);
      parts.push(...heads(d));
      if (d.kvRank !== undefined) parts.push(`kv rank ${d.kvRank}`);
      if (d.experts !== undefined) parts.push(`experts ${d.experts}${d.topK !== undefined ? ` top-k ${d.topK}` : ''}`);
      if (d.dtype !== undefined) parts.push(d.dtype);
      if (d.problem !== undefined) parts.push(`(${d.problem})`);
      break;
  }
  return parts;
}

function heads(d: SiteDetails): string[] {
  const out: string[] = [];
  if (d.heads !== undefined) out.push(`heads ${d.heads}`);
  else if (d.headsFrom !== undefined) out.push(`heads from ${d.headsFrom}`);
  // kv heads = heads is MHA, which the kind already says.
  if (d.kvHeads !== undefined && d.kvHeads !== d.heads) out.push(`kv heads ${d.kvHeads}`);
  else if (d.kvHeads === undefined && d.kvHeadsFrom !== undefined) out.push(`kv heads from ${d.kvHeadsFrom}`);
  if (d.hidden !== undefined) out.push(`hidden ${d.hidden}`);
  return out;
}

function targets(t: string[] | string): string {
  if (!Array.isArray(t)) return t === 'all-linear' ? 'all linear layers' : `targets ${t}`;
  return t.length > 3 ? `${t.length} target modules` : `targets ${t.join(',')}`;
}

export function describeSite(site: ModelSite): string {
  return describeParts(site).join(' · ');
}
