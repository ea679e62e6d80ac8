import * as vscode from 'vscode';
import type { RunRecord } from '../core/record';
import type { PreflightReport } from '../run/preflight';
import type { SshError } from '../run/ssh/errors';
import type { TargetSpec } from '../run/targets';
import { loadSshConfig } from '../run/ssh/configFs';
import type { Ctx } from './ctx';
import { runtime } from './runtime';
import { sshOptions } from './sshPrompts';
import { sshAliases } from './targetAliases';
import {
  describeTargetSetting,
  LOCAL_TARGET_NAME,
  targetSpecOf,
  validateTargetSetting,
  type TargetSetting,
} from './targetSettings';

/** A target the user can pick: the built-in local one, or an entry of `efficientllm.targets`. */
export interface NamedTarget {
  readonly name: string;
  readonly description: string;
  readonly setting: TargetSetting | null;
  readonly spec: TargetSpec;
  /** The setting that holds its interpreter, named when that interpreter fails. */
  readonly pythonSetting: string;
}

/** What "Test target" found, kept in workspaceState so the Targets view shows it after a reload. */
export interface TargetStatus {
  readonly ready: boolean;
  readonly reachable: boolean;
  readonly gpus: readonly string[];
  readonly problems: readonly string[];
  readonly at: string;
  /** The target as tested (specKey); a status of another spec is stale and is tested again. */
  readonly spec?: string;
}

const STATUS_KEY = 'efficientllm.targetStatus';

export function targetStatuses(ctx: Ctx): Record<string, TargetStatus> {
  return ctx.extension.workspaceState.get<Record<string, TargetStatus>>(STATUS_KEY, {});
}

/** What identifies a tested target: its spec (interpreter, hosts, job fields). */
export function specKey(spec: TargetSpec): string {
  return JSON.stringify(spec);
}

/** The setting holding a target's interpreter: its own `python`, else the one it falls back to. */
function pythonSettingOf(t: TargetSetting): string {
  if (t.python !== undefined) return `efficientllm.targets ("${t.name}").python`;
  const usesLocal = t.kind === 'local' || (t.kind === 'slurm' && t.host === LOCAL_TARGET_NAME);
  return usesLocal ? 'efficientllm.pythonPath' : `efficientllm.targets ("${t.name}").python`;
}

/** Every target: local first, then the settings' valid entries (Config reports the others once). */
export function listTargets(ctx: Ctx): NamedTarget[] {
  const python = ctx.config.pythonPath;
  const isolate = ctx.config.isolateRuns;
  const local: NamedTarget = {
    name: LOCAL_TARGET_NAME,
    description: `local · ${python}`,
    setting: null,
    spec: { kind: 'local', python, isolate },
    pythonSetting: 'efficientllm.pythonPath',
  };
  return [
    local,
    ...ctx.config.targets.targets.map((t) => ({
      name: t.name,
      description: describeTargetSetting(t, python),
      setting: t,
      spec: targetSpecOf(t, python, isolate),
      pythonSetting: pythonSettingOf(t),
    })),
  ];
}

export function findTarget(ctx: Ctx, name: string): NamedTarget | undefined {
  return listTargets(ctx).find((t) => t.name === name);
}

/**
 * The target a stored run used, for "Run again": the spec the record keeps (exactly what ran), named
 * as it was; a record from before specs were kept is matched to a settings entry by name or hosts.
 */
export function targetOfRecord(ctx: Ctx, r: RunRecord): { spec: TargetSpec; name: string; pythonSetting?: string } {
  const all = listTargets(ctx);
  const byName = all.find((t) => t.name === r.target.name && t.spec.kind === r.target.kind);
  if (r.target.spec) return { spec: r.target.spec, name: r.target.name, pythonSetting: byName?.pythonSetting };
  if (byName) return byName;
  const bySlurmHost = all.find(
    (t) => t.spec.kind === 'slurm' && r.target.kind === 'slurm' && t.spec.alias === r.target.name,
  );
  if (bySlurmHost) return bySlurmHost;
  const bySshHosts = all.find(
    (t) => t.spec.kind === 'ssh' && r.target.kind === 'ssh' && t.spec.hosts.join(',') === r.target.name,
  );
  if (bySshHosts) return bySshHosts;
  if (r.target.kind === 'ssh')
    return {
      spec: { kind: 'ssh', hosts: r.target.name.split(','), python: 'python3', isolate: ctx.config.isolateRuns },
      name: r.target.name,
    };
  if (r.target.kind === 'slurm')
    return { spec: { kind: 'slurm', alias: r.target.name, python: 'python3' }, name: r.target.name };
  return all[0];
}

/** A quick pick of targets, the default one first; undefined when dismissed. */
export async function pickTarget(ctx: Ctx, title: string): Promise<NamedTarget | undefined> {
  const all = listTargets(ctx);
  const preferred = ctx.config.defaultTarget;
  all.sort((a, b) => (a.name === preferred ? -1 : b.name === preferred ? 1 : 0));
  const statuses = targetStatuses(ctx);
  const picked = await vscode.window.showQuickPick(
    all.map((t) => {
      const s = statuses[t.name];
      const detail = s
        ? s.ready
          ? vscode.l10n.t('ready · {0}', s.gpus.length > 0 ? s.gpus.join(', ') : vscode.l10n.t('no GPU'))
          : vscode.l10n.t('not ready: {0}', s.problems[0] ?? '')
        : undefined;
      return { label: t.name, description: t.description, detail, target: t };
    }),
    { title, placeHolder: vscode.l10n.t('Where should the runs execute?') },
  );
  return picked?.target;
}

function userSshAliases(ctx: Ctx): string[] {
  try {
    return sshAliases(loadSshConfig().nodes);
  } catch (error) {
    ctx.log.warn(`~/.ssh/config could not be read: ${error instanceof Error ? error.message : String(error)}`);
    return [];
  }
}

async function input(
  title: string,
  prompt: string,
  value: string | undefined,
  validate: (v: string) => string | undefined,
): Promise<string | undefined> {
  return vscode.window.showInputBox({
    title,
    prompt,
    value,
    ignoreFocusOut: true,
    validateInput: (v) => validate(v.trim()) ?? null,
  });
}

/** Add target…: kind, alias(es), Python, Slurm fields → appended to `efficientllm.targets` (user settings). */
export async function addTarget(ctx: Ctx): Promise<void> {
  const title = vscode.l10n.t('Add EfficientLLM target');
  const kindPick = await vscode.window.showQuickPick(
    [
      {
        label: 'ssh',
        description: vscode.l10n.t('a GPU machine you reach with ssh (an alias from ~/.ssh/config)'),
        targetKind: 'ssh' as const,
      },
      {
        label: 'slurm',
        description: vscode.l10n.t('a Slurm cluster: sbatch on its login node'),
        targetKind: 'slurm' as const,
      },
      {
        label: 'local',
        description: vscode.l10n.t('this machine with another Python interpreter'),
        targetKind: 'local' as const,
      },
    ],
    { title, placeHolder: vscode.l10n.t('Kind of target') },
  );
  if (!kindPick) return;
  const kind = kindPick.targetKind;
  const entry: Record<string, unknown> = { kind };
  if (kind === 'ssh' || kind === 'slurm') {
    const aliases = userSshAliases(ctx);
    const other = vscode.l10n.t('Type an alias…');
    const picked =
      aliases.length > 0
        ? await vscode.window.showQuickPick(
            [
              ...aliases.map((a) => ({ label: a })),
              ...(kind === 'slurm'
                ? [{ label: 'local', description: vscode.l10n.t('VS Code runs on the login node') }]
                : []),
              { label: other },
            ],
            {
              title,
              placeHolder:
                kind === 'ssh'
                  ? vscode.l10n.t('SSH host (from ~/.ssh/config)')
                  : vscode.l10n.t('Login node (from ~/.ssh/config)'),
              canPickMany: false,
            },
          )
        : { label: other };
    if (!picked) return;
    let alias = picked.label;
    if (alias === other) {
      const typed = await input(title, vscode.l10n.t('Host alias as in ~/.ssh/config'), undefined, (v) =>
        /^[A-Za-z0-9_.@-][A-Za-z0-9_.@:-]*$/.test(v)
          ? undefined
          : vscode.l10n.t('an alias has no spaces or shell characters'),
      );
      if (typed === undefined) return;
      alias = typed.trim();
    }
    if (kind === 'ssh') entry.hosts = [alias];
    else entry.host = alias;
  }
  const python = await input(
    title,
    vscode.l10n.t('Python with PyTorch on the target (empty: python3, or efficientllm.pythonPath for this machine)'),
    undefined,
    () => undefined,
  );
  if (python === undefined) return;
  if (python.trim() !== '') entry.python = python.trim();
  if (kind === 'slurm') {
    const fields: [string, string][] = [
      ['partition', vscode.l10n.t("Partition (empty: the cluster's default)")],
      ['account', vscode.l10n.t('Account (empty: your default)')],
      ['gres', vscode.l10n.t('GRES per task, e.g. gpu:1 or gpu:h100:1 (empty: none)')],
      ['timeLimit', vscode.l10n.t("Time limit per task, e.g. 30 or 1:00:00 (empty: the partition's default)")],
    ];
    for (const [field, prompt] of fields) {
      const v = await input(title, prompt, field === 'gres' ? 'gpu:1' : undefined, (text) => {
        if (text === '') return undefined;
        const probe = validateTargetSetting({ name: 'x', kind: 'slurm', host: 'x', [field]: text });
        return probe.errors[0]?.message;
      });
      if (v === undefined) return;
      if (v.trim() !== '') entry[field] = v.trim();
    }
  }
  const taken = new Set(listTargets(ctx).map((t) => t.name));
  const suggested =
    kind === 'ssh'
      ? String((entry.hosts as string[])[0])
      : kind === 'slurm'
        ? `${String(entry.host)}-slurm`
        : 'local-alt';
  const name = await input(
    title,
    vscode.l10n.t('Name shown in the Targets view'),
    suggested.replace(/[^A-Za-z0-9._-]/g, '-'),
    (v) => {
      if (taken.has(v)) return vscode.l10n.t('"{0}" is already a target', v);
      return validateTargetSetting({ ...entry, name: v }).errors.find((e) => e.field.endsWith('.name'))?.message;
    },
  );
  if (name === undefined) return;
  entry.name = name.trim();
  const check = validateTargetSetting(entry);
  if (!check.target) throw new Error(check.errors.map((e) => `${e.field}: ${e.message}`).join('; '));
  await ctx.config.setTargets([...ctx.config.rawTargets, entry]);
  ctx.log.info(`target ${entry.name} added to efficientllm.targets`);
  const test = vscode.l10n.t('Test target');
  const choice = await vscode.window.showInformationMessage(
    vscode.l10n.t('Target "{0}" added to your settings.', entry.name as string),
    test,
  );
  if (choice === test) await vscode.commands.executeCommand('efficientllm.testTarget', entry.name);
}

function fixFor(e: SshError): string {
  switch (e.kind) {
    case 'host-key-unknown':
      return vscode.l10n.t(
        'verify the fingerprint with the host\'s administrator, then test again and choose "Trust and connect"',
      );
    case 'host-key-changed':
    case 'host-key-revoked':
      return vscode.l10n.t(
        "do not connect until the host's administrator confirms the new key; then remove the old known_hosts entry",
      );
    case 'auth':
      return vscode.l10n.t('add your key to ssh-agent (ssh-add) or set IdentityFile for the host in ~/.ssh/config');
    case 'config':
      return vscode.l10n.t('fix ~/.ssh/config for this host');
    default:
      return vscode.l10n.t(
        'check that the host is up and reachable (ssh ALIAS true) and its HostName/Port in ~/.ssh/config',
      );
  }
}

async function storeStatus(ctx: Ctx, name: string, status: TargetStatus | undefined): Promise<void> {
  const all = { ...targetStatuses(ctx) };
  if (status) all[name] = status;
  else delete all[name];
  await ctx.extension.workspaceState.update(STATUS_KEY, all);
  ctx.targetsChanged.fire();
}

/** Runs the preflight probe on the target (the login node for Slurm) and stores what it found. */
async function probeTarget(ctx: Ctx, target: NamedTarget): Promise<{ report: PreflightReport; status: TargetStatus }> {
  const spec = target.spec;
  // Loaded on first use, like everything that reaches ssh2 (see runService.ts).
  const { probeLocal, probeSsh } = runtime();
  const report =
    spec.kind === 'local' || (spec.kind === 'slurm' && spec.alias === 'local')
      ? await probeLocal(spec.python, process.env)
      : await probeSsh(spec.kind === 'ssh' ? spec.hosts[0] : spec.alias, spec.python, sshOptions(ctx), fixFor);
  const status: TargetStatus = {
    ready: report.ready,
    reachable: report.reachable,
    gpus: report.gpus.map((g) => `${g.name}${g.memoryBytes ? ` ${Math.round(g.memoryBytes / 2 ** 30)} GiB` : ''}`),
    problems: report.problems.map((p) => `${p.what} — ${p.fix}`),
    at: new Date().toISOString(),
    spec: specKey(spec),
  };
  await storeStatus(ctx, target.name, status);
  ctx.log.info(
    `test ${target.name}: ${report.ready ? 'ready' : 'not ready'}; python ${report.python.version ?? 'missing'}, torch ${report.torch ?? 'missing'}, GPUs ${status.gpus.join('; ') || 'none'}`,
  );
  for (const p of report.problems) ctx.log.warn(`test ${target.name}: ${p.what}; fix: ${p.fix}`);
  return { report, status };
}

/** A launch found the target unable to start the harness: it is shown not ready, with the reason. */
export async function markNotReady(
  ctx: Ctx,
  name: string,
  spec: TargetSpec,
  problem: string,
  reachable: boolean,
): Promise<void> {
  await storeStatus(ctx, name, {
    ready: false,
    reachable,
    gpus: [],
    problems: [problem],
    at: new Date().toISOString(),
    spec: specKey(spec),
  });
}

/**
 * After a settings change: every tested target whose spec changed (another interpreter, hosts, job
 * fields) is tested again, quietly, so the view shows neither a stale ✓ nor a stale path. In an
 * untrusted workspace (nothing may run) the stale status is dropped instead.
 */
export async function recheckChangedTargets(ctx: Ctx): Promise<void> {
  const statuses = targetStatuses(ctx);
  const targets = listTargets(ctx);
  for (const name of Object.keys(statuses)) {
    const target = targets.find((t) => t.name === name);
    if (target && statuses[name].spec === specKey(target.spec)) continue;
    if (!target || !vscode.workspace.isTrusted) {
      await storeStatus(ctx, name, undefined);
      continue;
    }
    ctx.log.info(`target ${name} changed in the settings: testing it again`);
    await probeTarget(ctx, target).catch((error: unknown) =>
      ctx.log.warn(`re-testing ${name}: ${error instanceof Error ? error.message : String(error)}`),
    );
  }
}

/** Test target: the probe with a notification of what it found. */
export async function testTarget(ctx: Ctx, arg?: unknown): Promise<PreflightReport | undefined> {
  const name = typeof arg === 'string' ? arg : targetNameOf(arg);
  const target = name !== undefined ? findTarget(ctx, name) : await pickTarget(ctx, vscode.l10n.t('Test target'));
  if (!target) {
    if (name !== undefined) throw new Error(vscode.l10n.t('no target named "{0}" in efficientllm.targets', name));
    return undefined;
  }
  const { report, status } = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Testing target {0}…', target.name) },
    () => probeTarget(ctx, target),
  );
  if (report.ready) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t(
        'Target {0} is ready: {1}.',
        target.name,
        status.gpus.length > 0 ? status.gpus.join(', ') : vscode.l10n.t('no GPU, runs use the CPU'),
      ),
    );
  } else {
    const log = vscode.l10n.t('Show Log');
    void vscode.window
      .showWarningMessage(vscode.l10n.t('Target {0} is not ready: {1}', target.name, status.problems[0] ?? ''), log)
      .then((c) => {
        if (c === log) ctx.log.show(true);
      });
  }
  return report;
}

/** The target name of a Targets view item passed to a context-menu command. */
function targetNameOf(arg: unknown): string | undefined {
  if (typeof arg === 'object' && arg !== null && 'targetName' in arg && typeof arg.targetName === 'string')
    return arg.targetName;
  return undefined;
}

class TargetItem extends vscode.TreeItem {
  constructor(
    readonly targetName: string,
    description: string,
    status: TargetStatus | undefined,
  ) {
    super(targetName, vscode.TreeItemCollapsibleState.None);
    this.description = status
      ? `${description} · ${status.ready ? (status.gpus.length > 0 ? status.gpus.join(', ') : vscode.l10n.t('CPU only')) : vscode.l10n.t('not ready')}`
      : description;
    this.iconPath = new vscode.ThemeIcon(
      status === undefined
        ? 'vm-outline'
        : status.ready
          ? 'vm-active'
          : status.reachable
            ? 'warning'
            : 'debug-disconnect',
    );
    const md = new vscode.MarkdownString();
    md.appendText(`${targetName} — ${description}\n`);
    if (status) {
      md.appendText(
        vscode.l10n.t(
          'Tested {0}: {1}',
          status.at.replace('T', ' ').slice(0, 16),
          status.ready ? vscode.l10n.t('ready') : vscode.l10n.t('not ready'),
        ) + '\n',
      );
      for (const g of status.gpus) md.appendText(`• ${g}\n`);
      for (const p of status.problems) md.appendText(`! ${p}\n`);
    } else {
      md.appendText(vscode.l10n.t('Not tested yet: right-click → Test target'));
    }
    this.tooltip = md;
    this.contextValue = 'target';
  }
}

class TargetsProvider implements vscode.TreeDataProvider<TargetItem> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly ctx: Ctx) {}

  refresh(): void {
    this.changed.fire();
  }

  getTreeItem(element: TargetItem): TargetItem {
    return element;
  }

  getChildren(): TargetItem[] {
    const statuses = targetStatuses(this.ctx);
    // A status of another spec (the settings changed since) is not shown; recheckChangedTargets replaces it.
    return listTargets(this.ctx).map((t) => {
      const s = statuses[t.name];
      return new TargetItem(
        t.name,
        t.description,
        s && (s.spec ?? specKey(t.spec)) === specKey(t.spec) ? s : undefined,
      );
    });
  }
}

export function registerTargetsView(ctx: Ctx): void {
  const provider = new TargetsProvider(ctx);
  ctx.register(vscode.window.registerTreeDataProvider('efficientllm.targets', provider));
  ctx.register(ctx.targetsChanged.event(() => provider.refresh()));
  let rechecking = Promise.resolve();
  ctx.register(
    ctx.config.onDidChange((e) => {
      if (!e.affects('targets') && !e.affects('pythonPath') && !e.affects('isolateRuns')) return;
      provider.refresh();
      rechecking = rechecking.then(() => recheckChangedTargets(ctx));
    }),
  );
}
