// Building DOM without HTML strings: every piece of text goes in through textContent (or an
// attribute set with setAttribute), so a run label such as `<img src=x onerror=…>` stays text.
// There is deliberately no helper that takes markup.

type Child = Node | string | null | undefined | false;

export interface ElementOptions {
  className?: string;
  id?: string;
  text?: string;
  /** Attributes set with setAttribute (values are text, never parsed as HTML). */
  attrs?: Record<string, string>;
}

/** `document.createElement(tag)` with class, id, text and attributes, and children appended. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  options: ElementOptions = {},
  children: readonly Child[] = [],
): HTMLElementTagNameMap[K] {
  return build(document.createElement(tag), options, children);
}

/** A custom element (vscode-elements) by tag name, with the same options. */
export function custom(tag: string, options: ElementOptions = {}, children: readonly Child[] = []): HTMLElement {
  return build(document.createElement(tag), options, children);
}

function build<E extends HTMLElement>(e: E, options: ElementOptions, children: readonly Child[]): E {
  if (options.className) e.className = options.className;
  if (options.id) e.id = options.id;
  if (options.text !== undefined) e.textContent = options.text;
  if (options.attrs) for (const [k, v] of Object.entries(options.attrs)) e.setAttribute(k, v);
  append(e, children);
  return e;
}

export function append(parent: Node, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

/** Removes every child of `node`. */
export function clear(node: Node): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}

let counter = 0;
/** A page-unique id for aria-labelledby / aria-describedby links. */
export function uid(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** Replaces the page with one message (no data, or data the page cannot read). */
export function showProblem(root: HTMLElement, message: string): void {
  clear(root);
  root.setAttribute('aria-busy', 'false');
  root.appendChild(el('p', { className: 'problem', text: message, attrs: { role: 'alert' } }));
}
