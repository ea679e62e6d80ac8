// The launcher's quality fields (issue 14): a training budget ("150k" tokens), how often to evaluate,
// the data it trains on (synthetic, or a text or token file on the target) and the seeds that repeat
// each config. Parsed here as the CLI parses --train-tokens, --eval-every, --data and --seeds, each
// problem naming its form field; resolveConfig (src/core/config.ts) checks the result again.
import type { DataSpec, ProfileConfigInput } from '../core/config';
import type { LauncherChoice, LauncherField, LauncherForm } from '../core/webviewProtocol/launcher';

/** What the page offers for `budget.data` (short: the picker is narrow; the path field says "on the target"). */
export const DATA_CHOICES: readonly LauncherChoice[] = [
  { value: 'synthetic', text: 'synthetic (known entropy)' },
  { value: 'text', text: 'text file or folder (UTF-8)' },
  { value: 'tokens', text: 'token file (uint16 .bin)' },
];

/** Budgets above this are almost always a typo (a trillion tokens is a frontier pretraining run). */
export const MAX_TRAIN_TOKENS = 1e12;
/** Seeds one launch may repeat each config with. */
export const MAX_SEEDS = 16;

export const EMPTY_BUDGET: LauncherForm['budget'] = { trainTokens: '', evalEvery: '', data: 'synthetic', dataPath: '' };

export interface BudgetErrors {
  add(field: LauncherField, message: string): void;
}

export interface ParsedBudget {
  /** Fields of every config's input (none without a budget). */
  input: Pick<ProfileConfigInput, 'trainTokens' | 'evalEvery' | 'data'>;
  /** The seeds axis; [] = the default seed once. */
  seeds: number[];
}

/** "150k" → 150000, "2M" → 2000000, "1.5k" → 1500; null when it is not a whole token count. */
export function tokenCount(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMbB]?)$/.exec(text.trim().replace(/[_,](?=\d{3})/g, ''));
  if (!m) return null;
  const scale = { '': 1, k: 1e3, m: 1e6, b: 1e9 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'b'];
  const v = Number(m[1]) * scale;
  const n = Math.abs(v - Math.round(v)) < 1e-6 ? Math.round(v) : v;
  return Number.isSafeInteger(n) && n >= 1 ? n : null;
}

function parseTokens(text: string, field: LauncherField, errors: BudgetErrors): number | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  const n = tokenCount(t);
  if (n === null) {
    errors.add(field, `"${t}" is not a token count; write a whole number such as 150000, 150k or 2M`);
    return undefined;
  }
  if (n > MAX_TRAIN_TOKENS) {
    errors.add(field, `${t} is more than ${MAX_TRAIN_TOKENS.toExponential(0)} tokens; check the suffix (k, M, B)`);
    return undefined;
  }
  return n;
}

/** "0, 1, 2" → [0, 1, 2]. */
function parseSeeds(text: string, errors: BudgetErrors): number[] {
  const out: number[] = [];
  for (const item of text.split(/[\s,;]+/).filter((s) => s.length > 0)) {
    const n = /^\d+$/.test(item) ? Number(item) : NaN;
    if (!Number.isSafeInteger(n)) {
      errors.add('seeds', `"${item}" is not a seed; give whole numbers ≥ 0 separated by commas, e.g. "0, 1, 2"`);
      continue;
    }
    if (!out.includes(n)) out.push(n);
  }
  if (out.length > MAX_SEEDS) errors.add('seeds', `${out.length} seeds; give at most ${MAX_SEEDS}`);
  return out;
}

/** The budget, data and seeds of `form`, with problems added to `errors` and notes for the reader. */
export function parseBudget(form: LauncherForm, errors: BudgetErrors, notes: string[]): ParsedBudget {
  const b = form.budget;
  const trainTokens = parseTokens(b.trainTokens, 'budget.trainTokens', errors);
  const evalEvery = parseTokens(b.evalEvery, 'budget.evalEvery', errors);
  const seeds = parseSeeds(form.seeds, errors);
  const kind = b.data.trim();
  const path = b.dataPath.trim();
  let data: DataSpec | undefined;
  if (kind === 'synthetic') data = 'synthetic';
  else if (kind === 'text' || kind === 'tokens') {
    if (path === '')
      errors.add(
        'budget.dataPath',
        kind === 'text'
          ? 'give the path on the target of a UTF-8 text file or folder, e.g. /data/tinyshakespeare.txt'
          : 'give the path on the target of a uint16 token file, e.g. /data/openwebtext/train.bin',
      );
    else if (/[\0\n]/.test(path)) errors.add('budget.dataPath', 'a path cannot hold a line break');
    else data = `${kind}:${path}`;
  } else errors.add('budget.data', `"${kind}" is not a data source; use synthetic, text or tokens`);

  const hasBudget = b.trainTokens.trim() !== '';
  if (!hasBudget) {
    if (b.evalEvery.trim() !== '')
      errors.add('budget.evalEvery', 'applies only with a training budget: give Train tokens (e.g. 150k) first');
    if (kind === 'text' || kind === 'tokens')
      errors.add(
        'budget.data',
        'is read only when training to a budget: give Train tokens (e.g. 150k), or pick synthetic',
      );
    notes.push(
      'No training budget: the runs measure speed and memory only, and quality (held-out loss, perplexity) stays empty. Give Train tokens (e.g. 150k) to measure it.',
    );
  } else if (trainTokens !== undefined && evalEvery !== undefined && evalEvery > trainTokens) {
    errors.add(
      'budget.evalEvery',
      `evaluating every ${b.evalEvery.trim()} tokens never happens within ${b.trainTokens.trim()}; give at most the budget`,
    );
  }
  if (seeds.length > 1)
    notes.push(
      `Each config runs once per seed (${seeds.join(', ')}): results show mean ± spread, and a difference inside it is a tie.`,
    );
  else if (hasBudget && seeds.length <= 1)
    notes.push('One seed: add seeds (e.g. "0, 1") to see whether a quality difference is beyond the noise.');
  if (hasBudget && kind !== 'synthetic' && path !== '')
    notes.push(
      `The data is read on the target at ${path}; a missing or empty file fails the run naming the path, before any work starts.`,
    );

  const input: ParsedBudget['input'] = {};
  if (trainTokens !== undefined) {
    input.trainTokens = trainTokens;
    if (evalEvery !== undefined) input.evalEvery = evalEvery;
    if (data !== undefined) input.data = data;
  }
  return { input, seeds };
}

/** Where resolveConfig's errors about these fields belong on the form, or null for other fields. */
export function budgetFieldOf(configField: string): LauncherField | null {
  if (configField === 'trainTokens') return 'budget.trainTokens';
  if (configField === 'evalEvery') return 'budget.evalEvery';
  if (configField === 'data') return 'budget.data';
  if (configField === 'seed') return 'seeds';
  return null;
}
