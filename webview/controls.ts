// Controls from @vscode-elements/elements (only the two used: button and single select, so the
// bundle carries Lit and these, not the whole library), and downloads for the static report.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import { custom } from './dom';

/** A <vscode-button>: focusable, Enter and Space click it. */
export function button(
  text: string,
  onClick: () => void,
  options: { secondary?: boolean; label?: string; name?: string } = {},
): HTMLElement {
  const attrs: Record<string, string> = {};
  if (options.secondary) attrs.secondary = '';
  if (options.label) attrs['aria-label'] = options.label;
  if (options.name) attrs['data-action'] = options.name;
  const b = custom('vscode-button', { text, attrs });
  b.addEventListener('click', onClick);
  return b;
}

/** A <vscode-single-select> of `choices`; `onChange` gets the chosen value. */
export function select(
  label: string,
  choices: readonly { value: string; text: string }[],
  selected: string,
  onChange: (value: string) => void,
  options: { name?: string } = {},
): HTMLElement {
  const attrs: Record<string, string> = { 'aria-label': label };
  if (options.name) attrs['data-action'] = options.name;
  const s = custom('vscode-single-select', { attrs });
  for (const c of choices) {
    const attrs: Record<string, string> = { value: c.value };
    if (c.value === selected) attrs.selected = '';
    s.appendChild(custom('vscode-option', { text: c.text, attrs }));
  }
  s.addEventListener('change', () => {
    const v = (s as HTMLElement & { value?: unknown }).value;
    if (typeof v === 'string') onChange(v);
  });
  return s;
}

/** Saves `content` as a file from the page (static report: no host to write it). */
export function download(name: string, content: string | Blob, type: string): void {
  const blob = typeof content === 'string' ? new Blob([content], { type }) : content;
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A data: URL (canvas.toDataURL) as a Blob, so it downloads like any other file. */
export function dataUrlBlob(dataUrl: string): Blob {
  const [head, body] = dataUrl.split(',', 2);
  const type = /^data:([^;]+)/.exec(head)?.[1] ?? 'application/octet-stream';
  const bytes = Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
  return new Blob([bytes], { type });
}
