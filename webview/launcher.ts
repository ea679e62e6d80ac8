// The launcher: pick a model (a detected site or a preset), stage, attention variants, MoE, PEFT
// methods, precisions, workload and target; see the sweep size and each config's estimate before
// launching. The page holds only the form: the host turns it into configs, estimates and field-named
// errors (src/views/launcherData.ts) and answers `launcher/preview`; Launch sends the form, and the host
// validates it again. Every control is a native input or a vscode-element in tab order, each error is
// tied to its input (aria-invalid, aria-describedby) and listed in an alert with a button that focuses
// the field. Site names and paths are text (textContent), never markup.
import type {
  LauncherChoice,
  LauncherField,
  LauncherForm,
  LauncherInit,
  LauncherPreview,
} from '../src/core/webviewProtocol/launcher';
import { isLauncherForm } from '../src/core/webviewProtocol/launcher';
import { button, select } from './controls';
import { clear, el, showProblem, uid } from './dom';
import type { Environment } from './host';

export interface LauncherState {
  form: LauncherForm;
  /** LauncherInit.revision the form belongs to; another revision (a new seed) replaces the form. */
  revision: number;
}

type Env = Environment<'launcher', LauncherState>;
type WebviewEnv = Extract<Env, { kind: 'webview' }>;

/** How each field is named to the reader (labels and error messages). */
export const FIELD_LABELS: Record<LauncherField, string> = {
  source: 'Model',
  preset: 'Preset',
  stage: 'Stage',
  attention: 'Attention variants',
  kvHeads: 'KV heads',
  'mla.kvRank': 'MLA KV rank',
  'mla.qRank': 'MLA query rank',
  'mla.ropeDim': 'MLA RoPE dim',
  'nsa.block': 'NSA block',
  'nsa.selected': 'NSA selected blocks',
  'nsa.window': 'NSA window',
  moe: 'Experts × top-k',
  moeShared: 'Shared experts',
  peft: 'PEFT methods',
  peftRank: 'Adapter rank',
  precision: 'Precisions',
  'workload.batch': 'Batch',
  'workload.seqLen': 'Sequence length',
  'workload.newTokens': 'New tokens',
  'workload.steps': 'Steps',
  'workload.warmup': 'Warm-up steps',
  'budget.trainTokens': 'Train tokens',
  'budget.evalEvery': 'Evaluate every',
  'budget.data': 'Data',
  'budget.dataPath': 'Data path',
  seeds: 'Seeds',
  target: 'Target',
  sweep: 'Sweep',
};

/** Waits this long after typing stops before asking the host for a preview. */
const PREVIEW_DELAY_MS = 150;

export function startLauncher(root: HTMLElement, env: Env): void {
  if (env.kind !== 'webview') {
    showProblem(root, 'The launcher runs inside VS Code.');
    return;
  }
  let page: LauncherPage | null = null;
  env.channel.start((m) => {
    if (m.method === 'launcher/init') page = new LauncherPage(root, env, m.params);
    else if (m.method === 'launcher/launchResult') page?.showLaunchResult(m.params);
  });
}

/** The saved form when it belongs to this init and still names a site and target on offer. */
function startingForm(init: LauncherInit, saved: Partial<LauncherState>): LauncherForm {
  if (saved.revision !== init.revision || !isLauncherForm(saved.form)) return structuredClone(init.form);
  const form = structuredClone(saved.form);
  const src = form.source;
  if (src.kind === 'site' && !init.sites.some((s) => s.id === src.siteId))
    form.source = structuredClone(init.form.source);
  if (!init.targets.some((t) => t.value === form.target)) form.target = init.form.target;
  return form;
}

interface FieldSlot {
  /** The control that receives focus and aria-invalid. */
  control: HTMLElement;
  error: HTMLElement;
}

class LauncherPage {
  private readonly form: LauncherForm;
  private readonly slots = new Map<LauncherField, FieldSlot>();
  private readonly toggles: (() => void)[] = [];
  private preview: LauncherPreview | null = null;
  private previewSeq = 0;
  private previewTimer = 0;
  private launching = false;

  private readonly sizeNode = el('p', { className: 'sweep-size', attrs: { 'aria-live': 'polite' } });
  private readonly errorList = el('ul', { className: 'error-list' });
  private readonly errorBox = el('div', { className: 'errors', attrs: { role: 'alert' } });
  private readonly notesNode = el('ul', { className: 'notes muted' });
  private readonly tableHost = el('div', {
    className: 'table-scroll',
    attrs: { tabindex: '0', role: 'region', 'aria-label': 'Configs of the sweep' },
  });
  private readonly status = el('p', { className: 'status', attrs: { role: 'status', 'aria-live': 'polite' } });
  private readonly launchButton: HTMLElement;

  constructor(
    private readonly root: HTMLElement,
    private readonly env: WebviewEnv,
    private readonly init: LauncherInit,
  ) {
    this.form = startingForm(init, env.state.get());
    this.save();
    this.launchButton = button('Launch', () => void this.launch(), { name: 'launch', label: 'Launch the sweep' });
    this.render();
    this.requestPreview(0);
  }

  // ---- building the form ----

  private render(): void {
    const { root, init, form } = this;
    clear(root);
    root.setAttribute('aria-busy', 'false');
    root.classList.add('launcher');
    root.appendChild(el('h1', { text: init.title }));
    if (init.seedNote) root.appendChild(el('p', { className: 'muted seed-note', text: init.seedNote }));

    // Model
    const siteDetail = el('p', { className: 'muted site-detail' });
    const openSite = button(
      'Open file',
      () => {
        if (form.source.kind === 'site')
          this.env.channel.command({ method: 'launcher/openSite', params: { siteId: form.source.siteId } });
      },
      { secondary: true, name: 'open-site', label: 'Open the model site in the editor' },
    );
    const showSite = (): void => {
      const src = form.source;
      const site = src.kind === 'site' ? init.sites.find((s) => s.id === src.siteId) : undefined;
      siteDetail.textContent = site ? site.detail : 'The preset gives the whole shape.';
      openSite.hidden = !site;
    };
    const sourceChoices: LauncherChoice[] = [
      { value: 'preset', text: 'Preset only' },
      ...init.sites.map((s) => ({ value: `site:${s.id}`, text: s.text })),
    ];
    const sourceValue = form.source.kind === 'site' ? `site:${form.source.siteId}` : 'preset';
    const sourceSelect = this.picker('source', sourceChoices, sourceValue, (v) => {
      form.source = v.startsWith('site:') ? { kind: 'site', siteId: v.slice('site:'.length) } : { kind: 'preset' };
      showSite();
    });
    const presetSelect = this.picker('preset', init.presets, form.preset, (v) => {
      form.preset = v;
    });
    showSite();
    root.appendChild(
      this.card('Model', [
        this.labelled(
          'source',
          init.sites.length > 0 ? 'Model (detected sites or a preset)' : 'Model (no detected sites yet)',
          sourceSelect,
        ),
        this.labelled('preset', 'Preset (with a site: the shape its numbers go over)', presetSelect),
        el('div', { className: 'bar-row' }, [siteDetail, openSite]),
      ]),
    );

    // Stage
    root.appendChild(
      this.card('Stage', [
        this.labelled(
          'stage',
          'Stage',
          this.picker(
            'stage',
            init.options.stages.map((s) => ({ value: s, text: s })),
            form.stage,
            (v) => {
              form.stage = v;
            },
          ),
        ),
      ]),
    );

    // Attention
    const kvHeads = this.textField(
      'kvHeads',
      'KV heads for GQA and NSA (e.g. "2, 4"; empty: the shape\'s)',
      form.kvHeads,
      (v) => (form.kvHeads = v),
    );
    const mla = el('div', { className: 'field-row' }, [
      this.textField('mla.kvRank', 'MLA KV rank', form.mla.kvRank, (v) => (form.mla.kvRank = v), 'default'),
      this.textField('mla.qRank', 'MLA query rank (0: none)', form.mla.qRank, (v) => (form.mla.qRank = v), 'default'),
      this.textField('mla.ropeDim', 'MLA RoPE dim', form.mla.ropeDim, (v) => (form.mla.ropeDim = v), 'default'),
    ]);
    const nsa = el('div', { className: 'field-row' }, [
      this.textField('nsa.block', 'NSA block', form.nsa.block, (v) => (form.nsa.block = v), 'default'),
      this.textField(
        'nsa.selected',
        'NSA selected blocks',
        form.nsa.selected,
        (v) => (form.nsa.selected = v),
        'default',
      ),
      this.textField('nsa.window', 'NSA window', form.nsa.window, (v) => (form.nsa.window = v), 'default'),
    ]);
    this.toggles.push(() => {
      kvHeads.hidden = !form.attention.some((k) => k === 'gqa' || k === 'nsa');
      mla.hidden = !form.attention.includes('mla');
      nsa.hidden = !form.attention.includes('nsa');
    });
    root.appendChild(
      this.card('Attention', [
        this.checks('attention', 'Attention variants', init.options.attention, form.attention),
        kvHeads,
        mla,
        nsa,
      ]),
    );

    // MoE
    const dense = this.checkbox('moe', 'dense', 'Dense FFN', form.dense, (on) => (form.dense = on));
    root.appendChild(
      this.card('Mixture of experts', [
        el('div', { className: 'checks' }, [dense]),
        el('div', { className: 'field-row' }, [
          this.textField('moe', 'Experts × top-k (e.g. "8x2, 16x4")', form.moe, (v) => (form.moe = v), 'none'),
          this.textField('moeShared', 'Shared experts', form.moeShared, (v) => (form.moeShared = v), '0'),
        ]),
      ]),
    );

    // PEFT
    const peft = this.card('PEFT (stage finetune)', [
      this.checks('peft', 'PEFT methods', init.options.peft, form.peft),
      this.textField(
        'peftRank',
        'Adapter rank (LoRA, RSLoRA, DoRA)',
        form.peftRank,
        (v) => (form.peftRank = v),
        'default',
      ),
    ]);
    this.toggles.push(() => {
      peft.hidden = form.stage !== 'finetune';
    });
    root.appendChild(peft);

    // Precision
    root.appendChild(
      this.card('Precision', [this.checks('precision', 'Precisions', init.options.precisions, form.precision)]),
    );

    // Workload
    const w = form.workload;
    const newTokens = this.textField('workload.newTokens', 'New tokens', w.newTokens, (v) => (w.newTokens = v));
    this.toggles.push(() => {
      newTokens.hidden = form.stage !== 'inference';
    });
    root.appendChild(
      this.card('Workload', [
        el('p', {
          className: 'muted',
          text: 'Batch, sequence length and new tokens take lists ("1, 8"): each value multiplies the sweep.',
        }),
        el('div', { className: 'field-row' }, [
          this.textField('workload.batch', 'Batch', w.batch, (v) => (w.batch = v)),
          this.textField('workload.seqLen', 'Sequence length', w.seqLen, (v) => (w.seqLen = v)),
          newTokens,
          this.textField('workload.steps', 'Steps', w.steps, (v) => (w.steps = v)),
          this.textField('workload.warmup', 'Warm-up steps', w.warmup, (v) => (w.warmup = v)),
        ]),
      ]),
    );

    // Training budget, data and seeds (quality beside cost)
    const bg = form.budget;
    const evalEvery = this.textField(
      'budget.evalEvery',
      'Evaluate held-out loss every (tokens)',
      bg.evalEvery,
      (v) => (bg.evalEvery = v),
      'a quarter of the budget',
    );
    const dataPath = this.textField(
      'budget.dataPath',
      'Data path on the target',
      bg.dataPath,
      (v) => (bg.dataPath = v),
      '/data/corpus.txt',
    );
    const budgetHint = el('p', { className: 'muted budget-hint' });
    this.toggles.push(() => {
      const on = bg.trainTokens.trim() !== '';
      evalEvery.hidden = !on;
      dataPath.hidden = bg.data === 'synthetic';
      budgetHint.textContent = on
        ? form.stage === 'finetune'
          ? 'Each PEFT method fine-tunes a trained base for this many tokens on a held-apart task: held-out loss before and after.'
          : form.stage === 'inference'
            ? 'A model is trained for this many tokens first (once per shape and seed); each precision is scored by held-out perplexity.'
            : 'Each config trains from scratch for this many tokens; held-out loss is evaluated along the way.'
        : 'Empty: speed and memory only, no quality. Give a budget (e.g. 150k) to measure held-out loss and perplexity beside the cost.';
    });
    root.appendChild(
      this.card('Training budget and seeds', [
        budgetHint,
        el('div', { className: 'field-row' }, [
          this.textField(
            'budget.trainTokens',
            'Train tokens (e.g. 150k, 2M)',
            bg.trainTokens,
            (v) => (bg.trainTokens = v),
            'none (speed only)',
          ),
          evalEvery,
        ]),
        el('div', { className: 'field-row' }, [
          this.labelled(
            'budget.data',
            'Data',
            this.picker('budget.data', init.options.data, bg.data, (v) => {
              bg.data = v;
            }),
          ),
          dataPath,
        ]),
        this.textField(
          'seeds',
          'Seeds (e.g. "0, 1, 2": each repeats every config)',
          form.seeds,
          (v) => (form.seeds = v),
          '0',
        ),
      ]),
    );

    // Target
    root.appendChild(
      this.card('Target', [
        this.labelled(
          'target',
          'Where the runs execute',
          this.picker('target', init.targets, form.target, (v) => {
            form.target = v;
          }),
        ),
      ]),
    );

    // Sweep and launch
    this.errorBox.appendChild(this.errorList);
    this.errorBox.hidden = true;
    const sweepError = el('p', { className: 'field-error', id: uid('error') });
    this.slots.set('sweep', { control: this.sizeNode, error: sweepError });
    const launchRow = el('div', { className: 'bar-row' }, [this.launchButton, this.status]);
    const blocked = init.launchBlocked
      ? el('p', { className: 'problem launch-blocked', text: init.launchBlocked })
      : null;
    root.appendChild(
      this.card('Sweep', [
        this.sizeNode,
        sweepError,
        this.errorBox,
        this.notesNode,
        this.tableHost,
        blocked,
        launchRow,
      ]),
    );
    this.applyToggles();
    this.updateLaunchButton();
    document.documentElement.dataset.rendered = 'launcher';
  }

  private card(title: string, children: (Node | null)[]): HTMLElement {
    const id = uid('section');
    const s = el('section', { className: 'card', attrs: { 'aria-labelledby': id } }, [el('h2', { id, text: title })]);
    for (const c of children) if (c) s.appendChild(c);
    return s;
  }

  /** A labelled single-choice control with its error line. */
  private labelled(field: LauncherField, label: string, control: HTMLElement): HTMLElement {
    const error = el('p', { className: 'field-error', id: uid('error') });
    control.setAttribute('aria-describedby', error.id);
    this.slots.set(field, { control, error });
    return el('div', { className: 'field' }, [
      el('span', { className: 'field-label', text: label, attrs: { 'aria-hidden': 'true' } }),
      control,
      error,
    ]);
  }

  private picker(
    field: LauncherField,
    choices: readonly LauncherChoice[],
    selected: string,
    onChange: (v: string) => void,
  ): HTMLElement {
    const s = select(FIELD_LABELS[field], choices, selected, (v) => {
      onChange(v);
      this.changed(0);
    });
    s.setAttribute('data-field', field);
    return s;
  }

  private textField(
    field: LauncherField,
    label: string,
    value: string,
    onInput: (v: string) => void,
    placeholder = '',
  ): HTMLElement {
    const id = uid('field');
    const error = el('p', { className: 'field-error', id: uid('error') });
    const input = el('input', {
      id,
      attrs: {
        type: 'text',
        'data-field': field,
        autocomplete: 'off',
        spellcheck: 'false',
        'aria-describedby': error.id,
      },
    });
    if (placeholder) input.placeholder = placeholder;
    input.value = value;
    input.addEventListener('input', () => {
      onInput(input.value);
      this.changed(PREVIEW_DELAY_MS);
    });
    this.slots.set(field, { control: input, error });
    return el('div', { className: 'field' }, [el('label', { text: label, attrs: { for: id } }), input, error]);
  }

  private checkbox(
    field: LauncherField,
    value: string,
    label: string,
    checked: boolean,
    onChange: (on: boolean) => void,
  ): HTMLElement {
    const box = el('input', { attrs: { type: 'checkbox', 'data-field': field, value } });
    box.checked = checked;
    box.addEventListener('change', () => {
      onChange(box.checked);
      this.changed(0);
    });
    return el('label', { className: 'check' }, [box, ` ${label}`]);
  }

  /** A group of checkboxes whose ticked values are `list` (kept in place). */
  private checks(field: LauncherField, legend: string, values: readonly string[], list: string[]): HTMLElement {
    const error = el('p', { className: 'field-error', id: uid('error') });
    const set = el('fieldset', { className: 'checks', attrs: { 'aria-describedby': error.id } }, [
      el('legend', { text: legend }),
    ]);
    for (const v of values) {
      set.appendChild(
        this.checkbox(field, v, v, list.includes(v), (on) => {
          const i = list.indexOf(v);
          if (on && i < 0) list.push(v);
          if (!on && i >= 0) list.splice(i, 1);
        }),
      );
    }
    this.slots.set(field, { control: set, error });
    return el('div', {}, [set, error]);
  }

  private applyToggles(): void {
    for (const t of this.toggles) t();
  }

  // ---- preview ----

  private save(): void {
    this.env.state.update({ form: this.form, revision: this.init.revision });
  }

  private changed(delay: number): void {
    this.save();
    this.applyToggles();
    this.requestPreview(delay);
  }

  private requestPreview(delay: number): void {
    window.clearTimeout(this.previewTimer);
    this.previewTimer = window.setTimeout(() => void this.fetchPreview(), delay);
  }

  private async fetchPreview(): Promise<void> {
    const seq = ++this.previewSeq;
    this.sizeNode.setAttribute('aria-busy', 'true');
    this.updateLaunchButton();
    try {
      const preview = await this.env.channel.request('launcher/preview', { form: structuredClone(this.form) });
      if (seq !== this.previewSeq) return; // a newer form is on its way
      this.preview = preview;
      this.showPreview(preview);
    } catch (e) {
      if (seq !== this.previewSeq) return;
      this.preview = null;
      this.sizeNode.textContent = `No estimate: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      if (seq === this.previewSeq) this.sizeNode.setAttribute('aria-busy', 'false');
      this.updateLaunchButton();
    }
  }

  private showPreview(p: LauncherPreview): void {
    const n = p.sweepSize;
    this.sizeNode.textContent =
      n === null ? 'Sweep: fix the fields marked below to see its size.' : `Sweep: ${n} config${n === 1 ? '' : 's'}`;
    this.sizeNode.dataset.size = n === null ? '' : String(n);

    // Errors: on their fields, and as a list whose items focus the field.
    for (const [, slot] of this.slots) {
      slot.error.textContent = '';
      slot.control.removeAttribute('aria-invalid');
    }
    clear(this.errorList);
    for (const e of p.errors) {
      const slot = this.slots.get(e.field);
      if (slot) {
        slot.error.textContent = slot.error.textContent ? `${slot.error.textContent} ${e.message}` : e.message;
        slot.control.setAttribute('aria-invalid', 'true');
      }
      const go = el('button', {
        className: 'link',
        text: FIELD_LABELS[e.field],
        attrs: { type: 'button', 'data-field': e.field },
      });
      go.addEventListener('click', () => this.slots.get(e.field)?.control.focus());
      this.errorList.appendChild(el('li', {}, [go, el('span', { text: `: ${e.message}` })]));
    }
    this.errorBox.hidden = p.errors.length === 0;

    clear(this.notesNode);
    for (const note of p.notes) this.notesNode.appendChild(el('li', { text: note }));

    clear(this.tableHost);
    if (p.configs.length > 0) {
      const active = p.configs.some((c) => c.activeParams !== null);
      const trainable = p.configs.some((c) => c.trainable !== null);
      const heads = [
        'Config',
        'Parameters',
        ...(active ? ['Active per token'] : []),
        'Weights',
        'KV cache / 1k tokens',
        ...(trainable ? ['Trainable'] : []),
      ];
      const table = el('table', { className: 'data-table launcher-configs' }, [
        el('caption', { text: 'Each config of the sweep, estimated from its shape (no GPU needed)' }),
        el('thead', {}, [
          el(
            'tr',
            {},
            heads.map((h, i) => el('th', { text: h, attrs: { scope: 'col' }, className: i > 0 ? 'num' : '' })),
          ),
        ]),
      ]);
      const body = el('tbody');
      for (const c of p.configs) {
        const cells = [
          c.params,
          ...(active ? [c.activeParams ?? c.params] : []),
          c.weights,
          c.kvPer1k,
          ...(trainable ? [c.trainable ?? '—'] : []),
        ];
        body.appendChild(
          el('tr', {}, [
            el('th', { text: c.label, attrs: { scope: 'row' } }),
            ...cells.map((t) => el('td', { className: 'num', text: t })),
          ]),
        );
      }
      table.appendChild(body);
      this.tableHost.appendChild(table);
      if (p.more > 0) this.tableHost.appendChild(el('p', { className: 'muted', text: `… and ${p.more} more.` }));
    }
  }

  // ---- launch ----

  private canLaunch(): boolean {
    return (
      !this.launching &&
      this.init.launchBlocked === null &&
      this.preview !== null &&
      this.preview.sweepSize !== null &&
      this.preview.sweepSize > 0 &&
      this.sizeNode.getAttribute('aria-busy') !== 'true'
    );
  }

  private updateLaunchButton(): void {
    if (this.canLaunch()) this.launchButton.removeAttribute('disabled');
    else this.launchButton.setAttribute('disabled', '');
  }

  private async launch(): Promise<void> {
    if (!this.canLaunch() || !this.preview) return;
    const n = this.preview.sweepSize ?? 0;
    this.launching = true;
    this.updateLaunchButton();
    this.status.textContent = `Launching ${n} config${n === 1 ? '' : 's'}…`;
    try {
      const r = await this.env.channel.request('launcher/launch', { form: structuredClone(this.form) });
      this.status.textContent = `Launched ${r.launched} config${r.launched === 1 ? '' : 's'} on ${r.target}.`;
    } catch (e) {
      this.status.textContent = `Not launched: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      this.launching = false;
      this.updateLaunchButton();
    }
  }

  showLaunchResult(r: { ok: boolean; message: string }): void {
    this.status.textContent = r.message;
    this.status.classList.toggle('problem', !r.ok);
  }
}
