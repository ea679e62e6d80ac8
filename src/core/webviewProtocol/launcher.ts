// The launcher panel's messages, each declared once: the host (src/vscode/panels/launcherController.ts)
// and the page (webview/launcher.ts) both take their types and checks from here.
// The page holds a form of plain values (lists typed as text, "1, 2, 4"); the host turns it into
// configs, estimates and field-named errors (src/views/launcherData.ts) and answers with a preview.
// Launch sends the form again, never configs: the host re-derives and re-checks what it runs.
import { array, bool, exact, int, literal, nullable, num, obj, oneOf, str, text, union } from './guard';
import type { Infer } from './guard';
import { ipcCommand, ipcNotification, ipcRequest } from './envelope';

/** The launcher's fields, as its errors name them (dotted like the form's paths). `sweep`: the whole product. */
export const LAUNCHER_FIELDS = [
  'source',
  'preset',
  'stage',
  'attention',
  'kvHeads',
  'mla.kvRank',
  'mla.qRank',
  'mla.ropeDim',
  'nsa.block',
  'nsa.selected',
  'nsa.window',
  'moe',
  'moeShared',
  'peft',
  'peftRank',
  'precision',
  'workload.batch',
  'workload.seqLen',
  'workload.newTokens',
  'workload.steps',
  'workload.warmup',
  'budget.trainTokens',
  'budget.evalEvery',
  'budget.data',
  'budget.dataPath',
  'seeds',
  'target',
  'sweep',
] as const;
export type LauncherField = (typeof LAUNCHER_FIELDS)[number];

// What the page sends is bounded: a form is typed by a person, not pasted megabytes.
const field = text(200);
const fieldList = array(field, 16);

export const isLauncherForm = obj({
  /** A preset alone, or a detected model site (its shape over the preset, or its checkpoint). */
  source: union(obj({ kind: literal('preset') }), obj({ kind: literal('site'), siteId: field })),
  /** Preset name; with a site, the shape the site's numbers are laid over. */
  preset: field,
  stage: field,
  /** Attention kinds ticked; each one is a config (times the other axes). */
  attention: fieldList,
  /** KV-head counts for GQA and NSA, as typed: "2, 4". */
  kvHeads: field,
  /** MLA and NSA options as typed; '' keeps the default. */
  mla: obj({ kvRank: field, qRank: field, ropeDim: field }),
  nsa: obj({ block: field, selected: field, window: field }),
  /** A dense FFN is one of the MoE axis' values. */
  dense: bool,
  /** Experts×top-k layouts as typed: "8x2, 16x4". */
  moe: field,
  moeShared: field,
  /** PEFT methods ticked (stage finetune only). */
  peft: fieldList,
  peftRank: field,
  precision: fieldList,
  /** batch, seqLen and newTokens take lists ("1, 8"); steps and warmup one number. */
  workload: obj({ batch: field, seqLen: field, newTokens: field, steps: field, warmup: field }),
  /**
   * Quality beside cost: train to this many tokens ("150k", "2M"; '' = speed only, no quality),
   * evaluating held-out loss every `evalEvery` tokens ('' = a quarter of the budget), on `data`
   * (synthetic | text | tokens; text and tokens read `dataPath` on the target).
   */
  budget: obj({ trainTokens: field, evalEvery: field, data: field, dataPath: text(1000) }),
  /** Seeds as typed ("0, 1, 2"): each repeats every config; '' = seed 0 once. */
  seeds: field,
  /** "local", "ssh:ALIAS" or "slurm:ALIAS": one of LauncherInit.targets. */
  target: field,
});
export type LauncherForm = Infer<typeof isLauncherForm>;

const isLauncherChoice = obj({ value: str, text: str });
export type LauncherChoice = Infer<typeof isLauncherChoice>;

/** A detected model site, as the launcher lists it. */
const isLauncherSiteView = obj({
  id: str,
  /** "models/llama.py:12 · LlamaAttention (gqa)". */
  text: str,
  /** What the launcher takes from it: "heads 32, KV heads 8, hidden 4096". */
  detail: str,
});
export type LauncherSiteView = Infer<typeof isLauncherSiteView>;

export const isLauncherInit = obj({
  /** Changes when the host opens the launcher with a new seed: the page then drops its saved form. */
  revision: num,
  title: str,
  /** Where the launcher was opened from ("From models/llama.py:12"), or null. */
  seedNote: nullable(str),
  sites: array(isLauncherSiteView),
  presets: array(isLauncherChoice),
  targets: array(isLauncherChoice),
  /** The values the checkboxes and pickers offer (from src/core/config.ts). */
  options: obj({
    stages: array(str),
    attention: array(str),
    precisions: array(str),
    peft: array(str),
    /** Data sources of a training budget, with what each reads. */
    data: array(isLauncherChoice),
  }),
  /** The form's starting values (settings, then the seed). */
  form: isLauncherForm,
  /** Why Launch is unavailable (an untrusted workspace), or null. */
  launchBlocked: nullable(str),
});
export type LauncherInit = Infer<typeof isLauncherInit>;

const isLauncherFieldError = obj({ field: oneOf(LAUNCHER_FIELDS), message: str });
export type LauncherFieldError = Infer<typeof isLauncherFieldError>;

/** One config of the sweep and its instant estimate (texts already formatted). */
const isLauncherConfigView = obj({
  label: str,
  params: str,
  /** Parameters a token passes through (MoE), or null when all are. */
  activeParams: nullable(str),
  weights: str,
  kvPer1k: str,
  /** Trainable parameters (pretrain, finetune), or null for inference. */
  trainable: nullable(str),
});
export type LauncherConfigView = Infer<typeof isLauncherConfigView>;

export const isLauncherPreview = obj({
  /** Configs the sweep runs; null while the form has errors. */
  sweepSize: nullable(int),
  /** The first configs (at most LAUNCHER_PREVIEW_ROWS); `more` counts the rest. */
  configs: array(isLauncherConfigView),
  more: num,
  errors: array(isLauncherFieldError),
  /** Things the user should know that are not errors ("PEFT applies to finetune only"). */
  notes: array(str),
});
export type LauncherPreview = Infer<typeof isLauncherPreview>;

export const LAUNCHER_PREVIEW_ROWS = 100;

/** Preview and launch carry the whole form and nothing else: the page never sends configs. */
const formParams = exact({ form: isLauncherForm });

export const LAUNCHER_MESSAGES = [
  /** Show a detected site's file at its line. */
  ipcCommand('launcher/openSite', obj({ siteId: field })),
  /** Configs, estimates and errors of this form. */
  ipcRequest('launcher/preview', formParams, isLauncherPreview),
  /** Hand the sweep of this form to the profiler; answers once it is handed over. */
  ipcRequest('launcher/launch', formParams, obj({ launched: num, target: str })),
  ipcNotification('launcher/init', isLauncherInit),
  /** A launched sweep finished or failed. */
  ipcNotification('launcher/launchResult', obj({ ok: bool, message: str })),
] as const;
