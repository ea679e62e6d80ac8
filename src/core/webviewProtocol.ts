// The typed message protocol between the extension host and the webview pages (STYLE.md: GitLens
// `ipc`, vscode-pull-request-github's ready handshake and request ids). Both sides import this file;
// the page (webview/) may import nothing else of src/core except types, so everything the page shows
// arrives here already computed and formatted by the host (src/views/webviewData.ts builds it).
//
// Envelope, per panel:
//   page → host   {kind: 'ready', panel, protocol}                 first message, once per page load
//                 {kind: 'command', method, params}                fire and forget
//                 {kind: 'request', id, method, params}            the host answers with one response
//   host → page   {kind: 'notification', method, params}           data pushed by the host
//                 {kind: 'response', id, ok: true, result} | {kind: 'response', id, ok: false, error}
// The host must not post notifications before the page's `ready` (messages to a page that is not
// listening yet are lost). Method names carry the panel ("dashboard/export") so one log reads clearly.
// Every value here is data: run labels, device names, paths and error text are rendered with
// textContent or chart labels, never as HTML.
import type { RunStatus } from './record';
import type { RunMetrics } from './record';

export const WEBVIEW_PROTOCOL_VERSION = 1;

/** The panels that speak this protocol. */
export const PANEL_KINDS = ['dashboard', 'compare', 'sidebar', 'launcher'] as const;
export type PanelKind = (typeof PANEL_KINDS)[number];

export type MetricKey = keyof RunMetrics;

// ---- data the pages show ----

/** Which way is better for a metric; null where neither is (parameter counts). */
export type MetricDirection = 'min' | 'max' | null;

/** A metric column: its name, unit and how to scale raw values for a chart axis. */
export interface MetricColumnView {
  key: MetricKey;
  label: string;
  /** Unit of the raw stored number, e.g. "bytes". */
  unit: string;
  direction: MetricDirection;
  /** Chart axis: plotted value = raw ÷ divisor, axis titled `${label} (${unit})`. Chosen from the data's range. */
  axis: { divisor: number; unit: string };
  /** True when at least one run measured it. */
  measured: boolean;
}

/** One metric of one run: the raw number (null = not measured, never 0) and its formatted text. */
export interface MetricCell {
  v: number | null;
  text: string;
}

/** One monitor sample: seconds since the run's first sample, bytes, NVML % (0–100), watts. */
export interface SampleView {
  t: number;
  memoryBytes: number;
  utilization: number | null;
  powerW: number | null;
}

export interface RunView {
  id: string;
  /** Unique, short within the page: what differs between the runs ("GQA-2", "MQA bf16"). */
  label: string;
  /** The config's own label as the user gave it. */
  configLabel: string;
  status: RunStatus;
  /** "local", "ssh:ALIAS", "slurm:ALIAS". */
  target: string;
  device: string | null;
  createdAt: string;
  /** createdAt as "YYYY-MM-DD HH:MM:SSZ". */
  createdText: string;
  stage: string;
  attention: string;
  precision: string;
  metrics: Record<MetricKey, MetricCell>;
  samples: SampleView[];
  /** How memory, utilisation, power and time were measured, for the reader. */
  measurement: { memory: string; utilization: string; power: string; timing: string } | null;
  error: { kind: string; message: string; stderrTail: string } | null;
}

/** The recommended run of one group of comparable runs, and the front it was chosen from. */
export interface RecommendationView {
  group: string;
  runId: string;
  label: string;
  reason: string;
  /** Ids of the runs on the Pareto front of this group. */
  front: string[];
  objectives: string[];
}

export const EXPORT_FORMATS = ['csv', 'md', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface DashboardData {
  title: string;
  /** ISO time the host built this payload. */
  generatedAt: string;
  metrics: MetricColumnView[];
  /** In sweep order (oldest first). */
  runs: RunView[];
  recommendations: RecommendationView[];
  /** Precomputed export texts, only in the static report (there is no host to ask). */
  exports: Record<ExportFormat, string> | null;
}

export type DeltaVerdict = 'better' | 'worse' | 'same' | 'neutral';

/** A run's metric against the baseline's: signed absolute difference (formatted) and percent. */
export interface DeltaView {
  absText: string;
  /** (run − baseline) ÷ |baseline| × 100; null when the baseline is 0. */
  pct: number | null;
  pctText: string;
  verdict: DeltaVerdict;
}

export interface CompareData {
  title: string;
  generatedAt: string;
  metrics: MetricColumnView[];
  runs: RunView[];
  baselineId: string;
  /** deltas[baselineId][runId][metric]: null where either side did not measure it. */
  deltas: Record<string, Record<string, Partial<Record<MetricKey, DeltaView | null>>>>;
}

export interface SidebarData {
  /** Human name of the latest sweep ("inference · tiny · …"), or null when there are no runs. */
  sweep: string | null;
  /** A few headline metrics of the latest sweep, each a small bar chart. */
  headline: MetricColumnView[];
  runs: RunView[];
  recommendation: RecommendationView | null;
}

// ---- the launcher's data ----
// The page holds a form of plain values (lists typed as text, "1, 2, 4"); the host turns it into
// configs, estimates and field-named errors (src/views/launcherData.ts) and answers with a preview.
// Launch sends the form again, never configs: the host re-derives and re-checks what it runs.

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
  'target',
  'sweep',
] as const;
export type LauncherField = (typeof LAUNCHER_FIELDS)[number];

export interface LauncherForm {
  /** A preset alone, or a detected model site (its shape over the preset, or its checkpoint). */
  source: { kind: 'preset' } | { kind: 'site'; siteId: string };
  /** Preset name; with a site, the shape the site's numbers are laid over. */
  preset: string;
  stage: string;
  /** Attention kinds ticked; each one is a config (times the other axes). */
  attention: string[];
  /** KV-head counts for GQA and NSA, as typed: "2, 4". */
  kvHeads: string;
  /** MLA and NSA options as typed; '' keeps the default. */
  mla: { kvRank: string; qRank: string; ropeDim: string };
  nsa: { block: string; selected: string; window: string };
  /** A dense FFN is one of the MoE axis' values. */
  dense: boolean;
  /** Experts×top-k layouts as typed: "8x2, 16x4". */
  moe: string;
  moeShared: string;
  /** PEFT methods ticked (stage finetune only). */
  peft: string[];
  peftRank: string;
  precision: string[];
  /** batch, seqLen and newTokens take lists ("1, 8"); steps and warmup one number. */
  workload: { batch: string; seqLen: string; newTokens: string; steps: string; warmup: string };
  /** "local", "ssh:ALIAS" or "slurm:ALIAS": one of LauncherInit.targets. */
  target: string;
}

export interface LauncherChoice {
  value: string;
  text: string;
}

/** A detected model site, as the launcher lists it. */
export interface LauncherSiteView {
  id: string;
  /** "models/llama.py:12 · LlamaAttention (gqa)". */
  text: string;
  /** What the launcher takes from it: "heads 32, KV heads 8, hidden 4096". */
  detail: string;
}

export interface LauncherInit {
  /** Changes when the host opens the launcher with a new seed: the page then drops its saved form. */
  revision: number;
  title: string;
  /** Where the launcher was opened from ("From models/llama.py:12"), or null. */
  seedNote: string | null;
  sites: LauncherSiteView[];
  presets: LauncherChoice[];
  targets: LauncherChoice[];
  /** The values the checkboxes and pickers offer (from src/core/config.ts). */
  options: { stages: string[]; attention: string[]; precisions: string[]; peft: string[] };
  /** The form's starting values (settings, then the seed). */
  form: LauncherForm;
  /** Why Launch is unavailable (an untrusted workspace), or null. */
  launchBlocked: string | null;
}

export interface LauncherFieldError {
  field: LauncherField;
  message: string;
}

/** One config of the sweep and its instant estimate (texts already formatted). */
export interface LauncherConfigView {
  label: string;
  params: string;
  /** Parameters a token passes through (MoE), or null when all are. */
  activeParams: string | null;
  weights: string;
  kvPer1k: string;
  /** Trainable parameters (pretrain, finetune), or null for inference. */
  trainable: string | null;
}

export interface LauncherPreview {
  /** Configs the sweep runs; null while the form has errors. */
  sweepSize: number | null;
  /** The first configs (at most LAUNCHER_PREVIEW_ROWS); `more` counts the rest. */
  configs: LauncherConfigView[];
  more: number;
  errors: LauncherFieldError[];
  /** Things the user should know that are not errors ("PEFT applies to finetune only"). */
  notes: string[];
}

export const LAUNCHER_PREVIEW_ROWS = 100;

// ---- method sets per panel ----

/** Payload types of one panel's messages; `requests` map a method to its params and result. */
interface PanelMethods {
  commands: Record<string, unknown>;
  requests: Record<string, { params: unknown; result: unknown }>;
  notifications: Record<string, unknown>;
}

export interface DashboardMethods extends PanelMethods {
  commands: {
    /** Open the Compare panel with these runs. */
    'dashboard/compare': { runIds: string[] };
    /** Remember the selected run (the host may reveal it in the Runs view). */
    'dashboard/selectRun': { runId: string };
  };
  requests: {
    /** Save an export of these runs; result: the file written, or null when the user cancelled. */
    'dashboard/export': { params: { format: ExportFormat; runIds: string[] }; result: { savedTo: string | null } };
    /** Save a chart as PNG (a data: URL from canvas.toDataURL). */
    'dashboard/savePng': { params: { chart: string; dataUrl: string }; result: { savedTo: string | null } };
    /** Ask for the data again (after a refresh button, or a reload). */
    'dashboard/refresh': { params: Record<string, never>; result: DashboardData };
  };
  notifications: {
    'dashboard/data': DashboardData;
  };
}

export interface CompareMethods extends PanelMethods {
  commands: {
    'compare/openDashboard': { runIds: string[] };
  };
  requests: {
    'compare/refresh': { params: Record<string, never>; result: CompareData };
  };
  notifications: {
    'compare/data': CompareData;
  };
}

export interface SidebarMethods extends PanelMethods {
  commands: {
    'sidebar/openDashboard': { runIds: string[] };
  };
  requests: Record<string, never>;
  notifications: {
    'sidebar/data': SidebarData;
  };
}

export interface LauncherMethods extends PanelMethods {
  commands: {
    /** Show a detected site's file at its line. */
    'launcher/openSite': { siteId: string };
  };
  requests: {
    /** Configs, estimates and errors of this form. */
    'launcher/preview': { params: { form: LauncherForm }; result: LauncherPreview };
    /** Hand the sweep of this form to the profiler; answers once it is handed over. */
    'launcher/launch': { params: { form: LauncherForm }; result: { launched: number; target: string } };
  };
  notifications: {
    'launcher/init': LauncherInit;
    /** A launched sweep finished or failed. */
    'launcher/launchResult': { ok: boolean; message: string };
  };
}

export interface PanelMethodMap {
  dashboard: DashboardMethods;
  compare: CompareMethods;
  sidebar: SidebarMethods;
  launcher: LauncherMethods;
}

// ---- envelopes ----

export interface ReadyMessage<P extends PanelKind = PanelKind> {
  kind: 'ready';
  panel: P;
  protocol: typeof WEBVIEW_PROTOCOL_VERSION;
}

type Commands<P extends PanelKind> = PanelMethodMap[P]['commands'];
type Requests<P extends PanelKind> = PanelMethodMap[P]['requests'];
type Notifications<P extends PanelKind> = PanelMethodMap[P]['notifications'];
type ParamsOf<R> = R extends { params: infer X } ? X : never;
type ResultOf<R> = R extends { result: infer X } ? X : never;

export type CommandMessage<P extends PanelKind> = {
  [M in keyof Commands<P> & string]: { kind: 'command'; method: M; params: Commands<P>[M] };
}[keyof Commands<P> & string];

export type RequestMessage<P extends PanelKind> = {
  [M in keyof Requests<P> & string]: { kind: 'request'; id: number; method: M; params: ParamsOf<Requests<P>[M]> };
}[keyof Requests<P> & string];

export type NotificationMessage<P extends PanelKind> = {
  [M in keyof Notifications<P> & string]: { kind: 'notification'; method: M; params: Notifications<P>[M] };
}[keyof Notifications<P> & string];

export type CommandMethod<P extends PanelKind> = keyof Commands<P> & string;
export type CommandParams<P extends PanelKind, M extends CommandMethod<P>> = Commands<P>[M];
export type NotificationMethod<P extends PanelKind> = keyof Notifications<P> & string;
export type NotificationParams<P extends PanelKind, M extends NotificationMethod<P>> = Notifications<P>[M];
export type RequestMethod<P extends PanelKind> = keyof Requests<P> & string;
export type RequestParams<P extends PanelKind, M extends RequestMethod<P>> = ParamsOf<Requests<P>[M]>;
export type RequestResult<P extends PanelKind, M extends RequestMethod<P>> = ResultOf<Requests<P>[M]>;

export type ResponseMessage =
  | { kind: 'response'; id: number; ok: true; result: unknown }
  | { kind: 'response'; id: number; ok: false; error: string };

/** Everything a page of panel P sends to the host. */
export type PageToHost<P extends PanelKind> = ReadyMessage<P> | CommandMessage<P> | RequestMessage<P>;
/** Everything the host sends to a page of panel P. */
export type HostToPage<P extends PanelKind> = NotificationMessage<P> | ResponseMessage;

// ---- runtime checks (both sides: postMessage carries untyped structured clones) ----

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isRequestId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

type Check = (params: unknown) => boolean;

const runIdsParams: Check = (p) => isObject(p) && isStringArray(p.runIds);
const emptyParams: Check = (p) => isObject(p) && Object.keys(p).length === 0;
const isDataUrlPng = (v: unknown): boolean => typeof v === 'string' && v.startsWith('data:image/png;base64,');

function isMetricColumns(v: unknown): boolean {
  return (
    Array.isArray(v) &&
    v.every((m) => isObject(m) && typeof m.key === 'string' && typeof m.label === 'string' && isObject(m.axis))
  );
}

function isRunViews(v: unknown): boolean {
  return (
    Array.isArray(v) &&
    v.every(
      (r) =>
        isObject(r) &&
        typeof r.id === 'string' &&
        typeof r.label === 'string' &&
        isObject(r.metrics) &&
        Array.isArray(r.samples),
    )
  );
}

/** Shape check of a DashboardData (the parts the page indexes into). */
export function isDashboardData(v: unknown): v is DashboardData {
  return (
    isObject(v) &&
    typeof v.title === 'string' &&
    isMetricColumns(v.metrics) &&
    isRunViews(v.runs) &&
    Array.isArray(v.recommendations) &&
    v.recommendations.every(
      (r) => isObject(r) && typeof r.runId === 'string' && typeof r.reason === 'string' && isStringArray(r.front),
    ) &&
    (v.exports === null ||
      (isObject(v.exports) &&
        EXPORT_FORMATS.every((f) => typeof (v.exports as Record<string, unknown>)[f] === 'string')))
  );
}

export function isCompareData(v: unknown): v is CompareData {
  return (
    isObject(v) &&
    typeof v.title === 'string' &&
    isMetricColumns(v.metrics) &&
    isRunViews(v.runs) &&
    typeof v.baselineId === 'string' &&
    isObject(v.deltas)
  );
}

export function isSidebarData(v: unknown): v is SidebarData {
  return (
    isObject(v) &&
    (v.sweep === null || typeof v.sweep === 'string') &&
    isMetricColumns(v.headline) &&
    isRunViews(v.runs) &&
    (v.recommendation === null || (isObject(v.recommendation) && typeof v.recommendation.runId === 'string'))
  );
}

// Launcher payloads. Strings and lists are bounded: a form is typed by a person, not pasted megabytes.
const MAX_TEXT = 200;
const MAX_LIST = 16;
const isText = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_TEXT;
const isTextList = (v: unknown): v is string[] => Array.isArray(v) && v.length <= MAX_LIST && v.every(isText);
const hasTexts = (v: unknown, keys: readonly string[]): boolean => isObject(v) && keys.every((k) => isText(v[k]));

export function isLauncherForm(v: unknown): v is LauncherForm {
  if (!isObject(v)) return false;
  const src = v.source;
  const sourceOk = isObject(src) && (src.kind === 'preset' || (src.kind === 'site' && isText(src.siteId)));
  return (
    sourceOk &&
    isText(v.preset) &&
    isText(v.stage) &&
    isTextList(v.attention) &&
    isText(v.kvHeads) &&
    hasTexts(v.mla, ['kvRank', 'qRank', 'ropeDim']) &&
    hasTexts(v.nsa, ['block', 'selected', 'window']) &&
    typeof v.dense === 'boolean' &&
    isText(v.moe) &&
    isText(v.moeShared) &&
    isTextList(v.peft) &&
    isText(v.peftRank) &&
    isTextList(v.precision) &&
    hasTexts(v.workload, ['batch', 'seqLen', 'newTokens', 'steps', 'warmup']) &&
    isText(v.target)
  );
}

const isChoices = (v: unknown): boolean =>
  Array.isArray(v) && v.every((c) => isObject(c) && typeof c.value === 'string' && typeof c.text === 'string');

export function isLauncherInit(v: unknown): v is LauncherInit {
  return (
    isObject(v) &&
    typeof v.revision === 'number' &&
    typeof v.title === 'string' &&
    (v.seedNote === null || typeof v.seedNote === 'string') &&
    Array.isArray(v.sites) &&
    v.sites.every(
      (s) => isObject(s) && typeof s.id === 'string' && typeof s.text === 'string' && typeof s.detail === 'string',
    ) &&
    isChoices(v.presets) &&
    isChoices(v.targets) &&
    isObject(v.options) &&
    ['stages', 'attention', 'precisions', 'peft'].every((k) =>
      isStringArray((v.options as Record<string, unknown>)[k]),
    ) &&
    isLauncherForm(v.form) &&
    (v.launchBlocked === null || typeof v.launchBlocked === 'string')
  );
}

export function isLauncherPreview(v: unknown): v is LauncherPreview {
  return (
    isObject(v) &&
    (v.sweepSize === null || (typeof v.sweepSize === 'number' && Number.isSafeInteger(v.sweepSize))) &&
    Array.isArray(v.configs) &&
    v.configs.every(
      (c) =>
        isObject(c) &&
        typeof c.label === 'string' &&
        typeof c.params === 'string' &&
        typeof c.weights === 'string' &&
        typeof c.kvPer1k === 'string',
    ) &&
    typeof v.more === 'number' &&
    Array.isArray(v.errors) &&
    v.errors.every(
      (e) => isObject(e) && (LAUNCHER_FIELDS as readonly unknown[]).includes(e.field) && typeof e.message === 'string',
    ) &&
    isStringArray(v.notes)
  );
}

const formParams: Check = (p) => isObject(p) && Object.keys(p).length === 1 && isLauncherForm(p.form);

/** Per panel, each method's params check. Keys are the only methods a guard lets through. */
const COMMAND_CHECKS: { [P in PanelKind]: Record<keyof Commands<P> & string, Check> } = {
  dashboard: {
    'dashboard/compare': runIdsParams,
    'dashboard/selectRun': (p) => isObject(p) && typeof p.runId === 'string',
  },
  compare: { 'compare/openDashboard': runIdsParams },
  sidebar: { 'sidebar/openDashboard': runIdsParams },
  launcher: { 'launcher/openSite': (p) => isObject(p) && isText(p.siteId) },
};

const REQUEST_CHECKS: { [P in PanelKind]: Record<keyof Requests<P> & string, Check> } = {
  dashboard: {
    'dashboard/export': (p) =>
      isObject(p) && (EXPORT_FORMATS as readonly unknown[]).includes(p.format) && isStringArray(p.runIds),
    'dashboard/savePng': (p) => isObject(p) && typeof p.chart === 'string' && isDataUrlPng(p.dataUrl),
    'dashboard/refresh': emptyParams,
  },
  compare: { 'compare/refresh': emptyParams },
  sidebar: {},
  launcher: { 'launcher/preview': formParams, 'launcher/launch': formParams },
};

const NOTIFICATION_CHECKS: { [P in PanelKind]: Record<keyof Notifications<P> & string, Check> } = {
  dashboard: { 'dashboard/data': isDashboardData },
  compare: { 'compare/data': isCompareData },
  sidebar: { 'sidebar/data': isSidebarData },
  launcher: {
    'launcher/init': isLauncherInit,
    'launcher/launchResult': (p) => isObject(p) && typeof p.ok === 'boolean' && typeof p.message === 'string',
  },
};

/** Result checks of requests, used by the page on responses. */
const RESULT_CHECKS: { [P in PanelKind]: Record<keyof Requests<P> & string, Check> } = {
  dashboard: {
    'dashboard/export': (r) => isObject(r) && (r.savedTo === null || typeof r.savedTo === 'string'),
    'dashboard/savePng': (r) => isObject(r) && (r.savedTo === null || typeof r.savedTo === 'string'),
    'dashboard/refresh': isDashboardData,
  },
  compare: { 'compare/refresh': isCompareData },
  sidebar: {},
  launcher: {
    'launcher/preview': isLauncherPreview,
    'launcher/launch': (r) => isObject(r) && typeof r.launched === 'number' && typeof r.target === 'string',
  },
};

const hasMethod = (table: Record<string, Check>, method: unknown): method is string =>
  typeof method === 'string' && Object.prototype.hasOwnProperty.call(table, method);

export function isPanelKind(v: unknown): v is PanelKind {
  return typeof v === 'string' && (PANEL_KINDS as readonly string[]).includes(v);
}

export function isReadyMessage<P extends PanelKind>(panel: P, m: unknown): m is ReadyMessage<P> {
  return isObject(m) && m.kind === 'ready' && m.panel === panel && m.protocol === WEBVIEW_PROTOCOL_VERSION;
}

export function isCommandMessage<P extends PanelKind>(panel: P, m: unknown): m is CommandMessage<P> {
  const checks: Record<string, Check> = COMMAND_CHECKS[panel];
  return isObject(m) && m.kind === 'command' && hasMethod(checks, m.method) && checks[m.method](m.params);
}

export function isRequestMessage<P extends PanelKind>(panel: P, m: unknown): m is RequestMessage<P> {
  const checks: Record<string, Check> = REQUEST_CHECKS[panel];
  return (
    isObject(m) &&
    m.kind === 'request' &&
    isRequestId(m.id) &&
    hasMethod(checks, m.method) &&
    checks[m.method](m.params)
  );
}

/** Host side: each message a page of `panel` may send, checked down to each method's params. */
export function isPageToHost<P extends PanelKind>(panel: P, m: unknown): m is PageToHost<P> {
  return isReadyMessage(panel, m) || isCommandMessage(panel, m) || isRequestMessage(panel, m);
}

export function isNotificationMessage<P extends PanelKind>(panel: P, m: unknown): m is NotificationMessage<P> {
  const checks: Record<string, Check> = NOTIFICATION_CHECKS[panel];
  return isObject(m) && m.kind === 'notification' && hasMethod(checks, m.method) && checks[m.method](m.params);
}

export function isResponseMessage(m: unknown): m is ResponseMessage {
  if (!isObject(m) || m.kind !== 'response' || !isRequestId(m.id)) return false;
  return m.ok === true ? 'result' in m : m.ok === false && typeof m.error === 'string';
}

/** Page side: whether `result` is what `method` of `panel` answers. */
export function isRequestResult<P extends PanelKind, M extends RequestMethod<P>>(
  panel: P,
  method: M,
  result: unknown,
): result is RequestResult<P, M> {
  const checks: Record<string, Check> = RESULT_CHECKS[panel];
  return hasMethod(checks, method) && checks[method](result);
}

// ---- constructors (so neither side spells an envelope by hand) ----

export function readyMessage<P extends PanelKind>(panel: P): ReadyMessage<P> {
  return { kind: 'ready', panel, protocol: WEBVIEW_PROTOCOL_VERSION };
}

export function notification<P extends PanelKind, M extends keyof Notifications<P> & string>(
  _panel: P,
  method: M,
  params: Notifications<P>[M],
): NotificationMessage<P> {
  return { kind: 'notification', method, params } as NotificationMessage<P>;
}

/** The host's answer to request `req`. */
export function responseOk<P extends PanelKind, M extends RequestMethod<P>>(
  req: { id: number; method: M },
  result: RequestResult<P, M>,
): ResponseMessage {
  return { kind: 'response', id: req.id, ok: true, result };
}

export function responseError(req: { id: number }, error: string): ResponseMessage {
  return { kind: 'response', id: req.id, ok: false, error };
}

/** The id of the data element in a static report page: `<script type="application/json" id=…>`. */
export const INLINE_DATA_ELEMENT_ID = 'efficientllm-data';
