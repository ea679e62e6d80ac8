// What the dashboard, compare and sidebar panels do with their messages, free of `vscode`: the data
// comes from an injected run source, files are written through an injected save function, other
// panels are opened through injected callbacks. The vscode classes (dashboardPanel.ts, …) only wire
// these to a webview; test/webview/host-*.test.ts drives them without VS Code.
import { toCsv, toJson, toMarkdown } from '../../core/export';
import { groupKeyOf } from '../../core/recommend';
import type { RunRecord } from '../../core/record';
import { compareData, dashboardData, sidebarData } from '../../views/webviewData';
import type { CompareData } from '../../core/webviewProtocol/compare';
import type { DashboardData, ExportFormat } from '../../core/webviewProtocol/dashboard';
import type { SidebarData } from '../../core/webviewProtocol/sidebar';
import { PanelDispatcher } from './dispatch';
import type { DispatchLog, PostToPage } from './dispatch';

/** Every readable run of the workspace (any order). */
export interface RunSource {
  list(): Promise<RunRecord[]>;
}

/** A file the user is asked to save: a save dialog, then the bytes written. Resolves to the path, or null when cancelled. */
export interface SaveRequest {
  title: string;
  suggestedName: string;
  /** Dialog filters, e.g. { "CSV": ["csv"] }. */
  filters: Record<string, string[]>;
  bytes: Uint8Array;
}
export type SaveFile = (request: SaveRequest) => Promise<string | null>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The run ids a restored panel showed (its page's getState), or [] when the state holds none. */
export function runIdsFromState(state: unknown): string[] {
  if (!isObject(state) || !Array.isArray(state.runIds)) return [];
  return (state.runIds as unknown[]).filter(
    (id): id is string => typeof id === 'string' && id.length > 0 && id.length <= 128,
  );
}

/** `ids` of `all`, in the store's order; every run when `ids` is empty. */
export function selectRuns(all: readonly RunRecord[], ids: readonly string[]): RunRecord[] {
  if (ids.length === 0) return [...all];
  const wanted = new Set(ids);
  return all.filter((r) => wanted.has(r.id));
}

const EXPORTS: Record<ExportFormat, { filter: string; ext: string; text: (runs: readonly RunRecord[]) => string }> = {
  csv: { filter: 'CSV', ext: 'csv', text: toCsv },
  md: { filter: 'Markdown', ext: 'md', text: toMarkdown },
  json: { filter: 'JSON', ext: 'json', text: toJson },
};

const PNG_PREFIX = 'data:image/png;base64,';
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** A chart PNG is a few hundred KiB; anything near this is not one of ours. */
export const MAX_PNG_BYTES = 32 * 2 ** 20;

/** The bytes of a `data:image/png;base64,…` URL, checked to be a PNG. */
export function decodePngDataUrl(dataUrl: string): Uint8Array {
  if (!dataUrl.startsWith(PNG_PREFIX)) throw new Error('the chart image is not a PNG data: URL');
  const b64 = dataUrl.slice(PNG_PREFIX.length);
  if (b64.length > (MAX_PNG_BYTES * 4) / 3 + 4)
    throw new Error(`the chart image is larger than ${MAX_PNG_BYTES / 2 ** 20} MiB`);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new Error('the chart image is not valid base64');
  const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
  if (bytes.length < PNG_SIGNATURE.length || PNG_SIGNATURE.some((b, i) => bytes[i] !== b))
    throw new Error('the chart image does not start with a PNG signature');
  return bytes;
}

/** A file-name-safe chart name ("bars", "pareto"). */
export function chartFileName(chart: string): string {
  const safe = chart.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 40);
  return `efficientllm-${safe || 'chart'}.png`;
}

/** The dashboard and compare panels: a set of runs, replaced when the panel is reused. */
abstract class RunSetController {
  protected ids: string[];

  constructor(runIds: readonly string[]) {
    this.ids = [...runIds];
  }

  get runIds(): readonly string[] {
    return this.ids;
  }

  /** Shows another set of runs (the panel is reused). */
  async setRunIds(runIds: readonly string[]): Promise<void> {
    this.ids = [...runIds];
    await this.push();
  }

  /** Posts fresh data if the page listens (after `ready`, or when the store changed). */
  abstract push(): Promise<void>;
}

export interface DashboardDeps {
  runs: RunSource;
  save: SaveFile;
  openCompare(runIds: string[]): void | Promise<void>;
  /** The page picked a run (for its samples chart). */
  selectRun?(runId: string): void;
}

/** The dashboard of a set of runs (empty: every run of the workspace). */
export class DashboardController extends RunSetController {
  readonly dispatcher: PanelDispatcher<'dashboard'>;

  constructor(
    runIds: readonly string[],
    private readonly deps: DashboardDeps,
    post: PostToPage<'dashboard'>,
    log: DispatchLog,
  ) {
    super(runIds);
    this.dispatcher = new PanelDispatcher(
      'dashboard',
      post,
      {
        ready: () => this.push(),
        commands: {
          'dashboard/compare': (p) => deps.openCompare(p.runIds),
          'dashboard/selectRun': (p) => deps.selectRun?.(p.runId),
        },
        requests: {
          'dashboard/export': (p) => this.exportRuns(p.format, p.runIds),
          'dashboard/savePng': (p) => this.savePng(p.chart, p.dataUrl),
          'dashboard/refresh': () => this.data(),
        },
      },
      log,
    );
  }

  async data(): Promise<DashboardData> {
    const all = await this.deps.runs.list();
    const runs = selectRuns(all, this.ids);
    // One run (a click in the Runs view): its whole group of comparable runs, that run highlighted, so
    // the page never "recommends" a run compared with nothing.
    if (this.ids.length === 1 && runs.length === 1) {
      const key = groupKeyOf(runs[0]).key;
      return dashboardData(
        all.filter((r) => groupKeyOf(r).key === key),
        { focusRunId: runs[0].id },
      );
    }
    return dashboardData(runs);
  }

  async push(): Promise<void> {
    if (!this.dispatcher.ready) return;
    await this.dispatcher.notify('dashboard/data', await this.data());
  }

  private async exportRuns(format: ExportFormat, runIds: string[]): Promise<{ savedTo: string | null }> {
    const runs = selectRuns(await this.deps.runs.list(), runIds.length > 0 ? runIds : this.ids);
    if (runs.length === 0) throw new Error("none of these runs is in the workspace's run store any more");
    // Sweep order (oldest first), as the dashboard shows them.
    runs.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1));
    const e = EXPORTS[format];
    const savedTo = await this.deps.save({
      title: `Export ${runs.length} run${runs.length === 1 ? '' : 's'} as ${e.filter}`,
      suggestedName: `efficientllm-runs.${e.ext}`,
      filters: { [e.filter]: [e.ext] },
      bytes: new TextEncoder().encode(e.text(runs)),
    });
    return { savedTo };
  }

  private async savePng(chart: string, dataUrl: string): Promise<{ savedTo: string | null }> {
    const bytes = decodePngDataUrl(dataUrl);
    const savedTo = await this.deps.save({
      title: 'Save chart as PNG',
      suggestedName: chartFileName(chart),
      filters: { 'PNG image': ['png'] },
      bytes,
    });
    return { savedTo };
  }
}

export interface CompareDeps {
  runs: RunSource;
  openDashboard(runIds: string[]): void | Promise<void>;
}

/** Two or more runs side by side. */
export class CompareController extends RunSetController {
  readonly dispatcher: PanelDispatcher<'compare'>;

  constructor(
    runIds: readonly string[],
    private readonly deps: CompareDeps,
    post: PostToPage<'compare'>,
    private readonly log: DispatchLog,
  ) {
    super(runIds);
    this.dispatcher = new PanelDispatcher(
      'compare',
      post,
      {
        ready: () => this.push(),
        commands: { 'compare/openDashboard': (p) => deps.openDashboard(p.runIds) },
        requests: { 'compare/refresh': () => this.data() },
      },
      log,
    );
  }

  async data(): Promise<CompareData> {
    const runs = selectRuns(await this.deps.runs.list(), this.ids);
    if (runs.length === 0 || this.ids.length === 0)
      throw new Error("none of the compared runs is in the workspace's run store any more");
    return compareData(runs);
  }

  async push(): Promise<void> {
    if (!this.dispatcher.ready) return;
    let data: CompareData;
    try {
      data = await this.data();
    } catch (e) {
      // The page keeps what it shows; the log says why it is not refreshed.
      this.log.warn(`compare panel: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    await this.dispatcher.notify('compare/data', data);
  }
}

export interface SidebarDeps {
  runs: RunSource;
  openDashboard(runIds: string[]): void | Promise<void>;
}

/** The results view: the latest sweep of the workspace. */
export class SidebarController {
  readonly dispatcher: PanelDispatcher<'sidebar'>;

  constructor(
    private readonly deps: SidebarDeps,
    post: PostToPage<'sidebar'>,
    log: DispatchLog,
  ) {
    this.dispatcher = new PanelDispatcher(
      'sidebar',
      post,
      {
        ready: () => this.push(),
        commands: { 'sidebar/openDashboard': (p) => deps.openDashboard(p.runIds) },
        requests: {},
      },
      log,
    );
  }

  async data(): Promise<SidebarData> {
    return sidebarData(await this.deps.runs.list());
  }

  async push(): Promise<void> {
    if (!this.dispatcher.ready) return;
    await this.dispatcher.notify('sidebar/data', await this.data());
  }
}
