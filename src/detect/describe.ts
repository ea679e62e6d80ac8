// One short line saying what was found at a site: the CLI table's last column, and the start of a
// CodeLens title.
import type { ModelSite, SiteDetails } from './site';

function heads(d: SiteDetails): string[] {
  const out: string[] = [];
  const h = d.heads ?? d.headsFrom;
  const kv = d.kvHeads ?? d.kvHeadsFrom;
  if (h !== undefined) out.push(`heads ${h}`);
  if (kv !== undefined) out.push(`kv heads ${kv}`);
  if (d.hidden !== undefined) out.push(`hidden ${d.hidden}`);
  return out;
}

export function describeSite(site: ModelSite): string {
  const d = site.details;
  const parts: string[] = [];
  switch (site.kind) {
    case 'attention':
      parts.push(...heads(d));
      if (d.kvRank !== undefined) parts.push(`kv rank ${d.kvRank}`);
      if (d.qRank !== undefined) parts.push(`q rank ${d.qRank}`);
      if (d.nsaBranches) parts.push(`branches ${d.nsaBranches.join('+')}`);
      if (d.slidingWindow !== undefined)
        parts.push(d.slidingWindow === true ? 'sliding window' : `window ${d.slidingWindow}`);
      if (d.kernel !== undefined) parts.push(d.kernel);
      break;
    case 'moe':
      parts.push(`experts ${d.experts ?? d.expertsFrom ?? '?'}`);
      if (d.topK !== undefined || d.topKFrom !== undefined) parts.push(`top-k ${d.topK ?? d.topKFrom}`);
      if (d.sharedExperts !== undefined) parts.push(`shared ${d.sharedExperts}`);
      break;
    case 'peft':
      parts.push(d.method ?? 'lora');
      if (d.rank !== undefined) parts.push(`r ${d.rank}`);
      if (d.alpha !== undefined) parts.push(`alpha ${d.alpha}`);
      if (d.targetModules !== undefined)
        parts.push(`targets ${Array.isArray(d.targetModules) ? d.targetModules.join(',') : d.targetModules}`);
      break;
    case 'quantization':
      if (d.precision !== undefined) parts.push(d.precision);
      if (d.quantType !== undefined) parts.push(d.quantType);
      if (d.computeDtype !== undefined) parts.push(`compute ${d.computeDtype}`);
      if (d.doubleQuant) parts.push('double quant');
      break;
    case 'load':
      parts.push(d.model ?? d.modelFrom ?? '?');
      if (d.precision !== undefined) parts.push(d.precision);
      else if (d.dtype !== undefined) parts.push(d.dtype);
      if (d.deviceMap !== undefined) parts.push(`device_map ${d.deviceMap}`);
      break;
    case 'config':
      if (d.layers !== undefined) parts.push(`${d.layers} layers`);
      parts.push(...heads(d));
      if (d.kvRank !== undefined) parts.push(`kv rank ${d.kvRank}`);
      if (d.experts !== undefined) parts.push(`experts ${d.experts} top-k ${d.topK ?? '?'}`);
      if (d.dtype !== undefined) parts.push(d.dtype);
      if (d.problem !== undefined) parts.push(`(${d.problem})`);
      break;
  }
  return parts.join(' · ');
}
