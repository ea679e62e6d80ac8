// Turning an expression's source text into a number, the way config-driven model code is written:
// `config.num_key_value_heads`, `args.n_heads if args.n_kv_heads is None else args.n_kv_heads`,
// `getattr(config, "head_dim", hidden // heads)`, `cfg["n_kv_heads"]`. A name is looked up by its last
// segment in layers of scope — the class's `__init__` assignments, its parameter defaults, its
// class-level fields, then the constants of the whole file (dataclass defaults, dict configs,
// `ModelArgs(n_heads=…)` keyword arguments). Whatever cannot be pinned down stays undefined and the
// caller reports the field it came from instead.

export type Layer = ReadonlyMap<string, string>;

/** A resolved value: a number, None (null) or a string; undefined when the text does not pin it down. */
export type Resolved = number | string | boolean | null | undefined;

const MAX_DEPTH = 8;

const INT = /^-?\d[\d_]*$/;
const FLOAT = /^-?\d[\d_]*\.\d*(?:e-?\d+)?$|^-?\d+e-?\d+$/;
const STRING = /^[rbuf]?(?:"([^"\\]*)"|'([^'\\]*)')$/i;
const REF = /^(?:[A-Za-z_]\w*\s*\.\s*)*([A-Za-z_]\w*)$/;
const SUBSCRIPT = /^[\w.]+\s*\[\s*["'](\w+)["']\s*\]$/;
const GETTER = /^(?:getattr\(\s*[\w.]+\s*,\s*|[\w.]+\s*\.\s*get\(\s*)["'](\w+)["']\s*(?:,\s*([\s\S]+?))?\s*\)$/;
const CONDITIONAL = /^([\s\S]+?)\s+if\s+([\s\S]+?)\s+else\s+([\s\S]+)$/;
const IS_NONE = /^([\w.]+)\s+is\s+(not\s+)?None$/;
const BINARY = /^([\w.]+|\d+)\s*(\/\/|\*|\/|\+|-)\s*([\w.]+|\d+)$/;
/** `args.bits == 4` (QLoRA's `load_in_4bit=args.bits == 4`). */
const COMPARE = /^([\w.]+|-?\d+|"[^"]*"|'[^']*')\s*(==|!=)\s*([\w.]+|-?\d+|"[^"]*"|'[^']*')$/;
/** A dataclass field with a default: `field(default=64, metadata={...})`. */
const FIELD = /^(?:dataclasses\s*\.\s*)?field\(([\s\S]*)\)$/;
/**
 * The divisor of a per-rank split (`args.n_heads // model_parallel_size`, DeepSeek's `// world_size`):
 * when it is not pinned down in the file, the model's own count is the numerator (one rank).
 */
const PARALLEL_SIZE =
  /(?:^|[._])(?:world_size|model_parallel_size|tensor_parallel_size|tp_size|mp_size|tp_world_size|parallel_size)$/i;

function unparen(text: string): string {
  let t = text.trim();
  while (t.startsWith('(') && t.endsWith(')') && balanced(t.slice(1, -1))) t = t.slice(1, -1).trim();
  return t;
}

function balanced(text: string): boolean {
  let depth = 0;
  for (const ch of text) {
    if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

/** The field a value names when it is a plain reference (`config.n_kv_heads` → "n_kv_heads"), else null. */
export function refName(text: string): string | null {
  const t = unparen(text);
  const m = REF.exec(t) ?? SUBSCRIPT.exec(t) ?? GETTER.exec(t);
  return m ? m[1] : null;
}

export class Scope {
  constructor(private readonly layers: readonly Layer[]) {}

  /** A scope with `layer` searched first. */
  withFirst(layer: Layer): Scope {
    return new Scope([layer, ...this.layers]);
  }

  /** The value text bound to `name`, searching from layer `from`; with the layer it was found in. */
  lookup(name: string, from = 0): { text: string; layer: number } | undefined {
    for (let i = from; i < this.layers.length; i++) {
      const text = this.layers[i].get(name);
      if (text !== undefined) return { text, layer: i };
    }
    return undefined;
  }

  /** Resolves the value bound to `name`. */
  resolveName(name: string, from = 0, depth = 0): Resolved {
    if (depth > MAX_DEPTH) return undefined;
    const hit = this.lookup(name, from);
    if (!hit) return undefined;
    // `self.n_heads = n_heads` or `self.n_heads = config.n_heads`: the same name again means the
    // next layer out, not this binding (which would loop).
    return this.resolve(hit.text, depth + 1, { name, layer: hit.layer });
  }

  resolve(text: string, depth = 0, self?: { name: string; layer: number }): Resolved {
    if (depth > MAX_DEPTH) return undefined;
    const t = unparen(text);
    if (INT.test(t)) return Number(t.replace(/_/g, ''));
    if (FLOAT.test(t)) return Number(t.replace(/_/g, ''));
    if (t === 'None') return null;
    if (t === 'True') return true;
    if (t === 'False') return false;
    const s = STRING.exec(t);
    if (s) return s[1] ?? s[2] ?? '';
    const name = (n: string): Resolved => this.resolveName(n, self && self.name === n ? self.layer + 1 : 0, depth);
    const ref = REF.exec(t) ?? SUBSCRIPT.exec(t);
    if (ref) return name(ref[1]);
    const getter = GETTER.exec(t);
    if (getter) {
      const v = name(getter[1]);
      if (v !== undefined && v !== null) return v;
      return getter[2] !== undefined ? this.resolve(getter[2], depth + 1, self) : v;
    }
    const field = FIELD.exec(t);
    if (field) {
      const def = splitArgs(field[1])
        .map((a) => /^default\s*=\s*([\s\S]+)$/.exec(a))
        .find((m) => m !== null);
      return def ? this.resolve(def[1], depth + 1, self) : undefined;
    }
    const cond = CONDITIONAL.exec(t);
    if (cond) {
      const test = IS_NONE.exec(cond[2].trim());
      if (!test) {
        // `torch.float16 if args.fp16 else …`: a test that resolves to a boolean picks its branch.
        const b = this.resolve(cond[2], depth + 1, self);
        return typeof b === 'boolean' ? this.resolve(b ? cond[1] : cond[3], depth + 1, self) : undefined;
      }
      const v = this.resolve(test[1], depth + 1, self);
      if (v === undefined) return undefined;
      const isNone = v === null;
      const takeFirst = test[2] ? !isNone : isNone;
      return this.resolve(takeFirst ? cond[1] : cond[3], depth + 1, self);
    }
    const or = /^([\w.]+)\s+or\s+([\w.]+)$/.exec(t);
    if (or) {
      const a = this.resolve(or[1], depth + 1, self);
      if (a === undefined) return undefined;
      return a === null || a === 0 || a === false || a === '' ? this.resolve(or[2], depth + 1, self) : a;
    }
    const cmp = COMPARE.exec(t);
    if (cmp) {
      const a = this.resolve(cmp[1], depth + 1, self);
      const b = this.resolve(cmp[3], depth + 1, self);
      if (a === undefined || b === undefined) return undefined;
      return cmp[2] === '==' ? a === b : a !== b;
    }
    const bin = BINARY.exec(t);
    if (bin) {
      const a = this.resolve(bin[1], depth + 1, self);
      const b = this.resolve(bin[3], depth + 1, self);
      if (bin[2] === '//' && b === undefined && typeof a === 'number' && PARALLEL_SIZE.test(bin[3])) return a;
      if (typeof a !== 'number' || typeof b !== 'number') return undefined;
      switch (bin[2]) {
        case '//':
          return b === 0 ? undefined : Math.floor(a / b);
        case '/':
          return b === 0 ? undefined : a / b;
        case '*':
          return a * b;
        case '+':
          return a + b;
        default:
          return a - b;
      }
    }
    return undefined;
  }
}

/** Splits call arguments at commas outside brackets and strings. */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = text.slice(start).trim();
  if (last !== '') out.push(last);
  return out;
}

/** A resolved value as a positive integer, else undefined. */
export function asCount(v: Resolved): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

/** String literals inside a list/tuple/set literal's text (`["q_proj", "v_proj"]`). */
export function stringList(text: string): string[] | undefined {
  const t = text.trim();
  if (!/^[[({]/.test(t)) return undefined;
  const out: string[] = [];
  const re = /"([^"\\]*)"|'([^'\\]*)'/g;
  for (let m = re.exec(t); m !== null; m = re.exec(t)) out.push(m[1] ?? m[2] ?? '');
  return out;
}
