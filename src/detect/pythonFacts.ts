// Facts about one piece of Python source (a top-level statement, see blocks.ts), read from the
// tree-sitter tree: classes with what their `__init__` builds, calls we care about, and constants.
// Facts hold source text and rows relative to the piece, never file positions, so they can be
// cached by the piece's text and reused when the lines above it move.
//
// Finding things by a text search and then asking the tree what sits at that offset is much cheaper
// than walking every node through the WASM boundary, and the tree check keeps comments, docstrings
// and string contents from counting as code.
import type { Node } from 'web-tree-sitter';
import { isCode, isStringAt, lex, type Lexed } from './blocks';
import { CONFIG_NAMES } from './names';
import { splitArgs } from './resolve';
import type { PythonParser } from './pythonParser';

export interface AssignFact {
  /** `self.X = …` gives "X"; a local `X = …` gives "X". */
  target: string;
  value: string;
  /** The callee's source text when the value is a call (`nn.Linear`), else null. */
  callee: string | null;
}

export interface ClassFact {
  name: string;
  /** 0-based row of the `class` keyword, relative to the piece. */
  row: number;
  bases: string[];
  /** `__init__` parameters with a default: name → default's source text. */
  initParams: Map<string, string>;
  /** Names of every `__init__` parameter (with or without default). */
  initParamNames: string[];
  initAssigns: AssignFact[];
  /** Class-level fields (`n_heads: int = 32` in a dataclass): name → value text. */
  fields: Map<string, string>;
  /** Evidence words used as code anywhere in the class (see EVIDENCE). */
  words: string[];
  /** True when the class defines `__init__` itself. */
  hasInit: boolean;
}

export interface CallFact {
  /** The callee as written, whitespace removed: `LoraConfig`, `AutoModelForCausalLM.from_pretrained`. */
  callee: string;
  row: number;
  args: string[];
  kwargs: Map<string, string>;
  /** `x = Call(…)` gives "x". */
  assignedTo: string | null;
  /** `assert name in {"a", "b"}` statements of the enclosing function: the values a variable argument may take. */
  asserts: [string, string[]][];
}

export interface BlockFacts {
  classes: ClassFact[];
  calls: CallFact[];
  /** `name = literal`, `name: T = literal`, `name=literal` keyword arguments and `"name": literal` pairs, in order. */
  constants: [string, string][];
  /** True when tree-sitter had to recover from a syntax error in this piece. */
  hasError: boolean;
  /** False when the piece needed no parse (a function that calls nothing we report). */
  parsed: boolean;
}

/** Words that change the classification when they appear as code inside a class. */
const EVIDENCE =
  /\b(?:repeat_kv|repeat_interleave|scaled_dot_product_attention|flash_attn\w*|memory_efficient_attention|flex_attention|sliding_window|window_size|attention_window|local_window|kv_lora_rank|q_lora_rank|qk_rope_head_dim|compress\w*|cmp_\w*|select\w*|slc_\w*|sliding\w*|swa_\w*|native_sparse\w*|nsa\w*|num_key_value_heads|n_kv_heads|num_kv_heads|n_kv_head|n_local_kv_heads|num_key_value_groups|n_rep|experts?|num_experts\w*|num_local_experts|n_routed_experts|n_shared_experts|top_?k|softmax)\b/g;

/** Calls that are sites of their own. */
export const CALL_NAMES = [
  'LoraConfig',
  'BitsAndBytesConfig',
  'GPTQConfig',
  'AwqConfig',
  'HqqConfig',
  'QuantoConfig',
  'TorchAoConfig',
  'FbgemmFp8Config',
  'FineGrainedFP8Config',
  'from_pretrained',
  'fp8_gemm',
  'w8a8_block_fp8_matmul',
] as const;
const CALLS = new RegExp(`\\b(?:${CALL_NAMES.join('|')})\\s*\\(`, 'g');

const LITERAL = String.raw`(-?\d[\d_]*(?:\.\d+)?(?:e-?\d+)?|True|False|None|"[^"\n\\]*"|'[^'\n\\]*')`;
/** `name = literal` / `name: T = literal` as a whole statement (module constants, dataclass fields). */
const STATEMENT_CONSTANT = new RegExp(
  String.raw`^[ \t]*([A-Za-z_]\w*)[ \t]*(?::[^=\n]+?)?[ \t]*=[ \t]*${LITERAL}[ \t]*(?:#[^\n]*)?$`,
  'gm',
);
/**
 * A dataclass field with a literal default, `lora_r: int = field(default=64, metadata=…)` (QLoRA's
 * and transformers' argument classes), possibly over several lines. Exported: the detector's
 * prefilter reads a class for its constants when this matches.
 */
export const FIELD_CONSTANT = new RegExp(
  String.raw`^[ \t]*([A-Za-z_]\w*)[ \t]*:[^=\n]+?=[ \t]*(?:dataclasses\.)?field\(\s*default\s*=\s*${LITERAL}(?=\s*[,)])`,
  'gm',
);
/** `name=literal` keyword arguments and `"name": literal` dict pairs; kept for the config names only. */
const NAMED_CONSTANT = new RegExp(
  String.raw`\b([A-Za-z_]\w*)(["']?)[ \t]*[=:][ \t]*${LITERAL}(?=[ \t]*[,)}\]#\n])`,
  'g',
);
const CONFIG_NAME_SET: ReadonlySet<string> = new Set(CONFIG_NAMES);

function field(node: Node, name: string): Node | null {
  return node.childForFieldName(name);
}

const squash = (text: string): string => text.replace(/\s+/g, '');

/** Is the word at `offset` code (an identifier), rather than a comment, docstring or other string? */
function identifierAt(root: Node, offset: number): Node | null {
  const node = root.descendantForIndex(offset);
  return node && node.type === 'identifier' ? node : null;
}

function assignTarget(left: Node): string | null {
  if (left.type === 'identifier') return left.text;
  if (left.type === 'attribute') {
    const obj = field(left, 'object');
    const attr = field(left, 'attribute');
    if (obj && attr && obj.text === 'self') return attr.text;
  }
  return null;
}

/** Statements nested in if/for/with/try blocks, up to a few levels. */
/** `self.x = value` / `x = value` / `x: T = value`, read from a statement's text (one WASM call instead of ten). */
const ASSIGNMENT = /^(?:self\s*\.\s*)?([A-Za-z_]\w*)\s*(?::[^=\n]+)?=(?!=)\s*([\s\S]+?)\s*$/;
const CALLEE = /^([A-Za-z_][\w.\s]*?)\s*\(/;
/** `self.a, self.b = x, y` (Meta's and nanoGPT's habit): matched pairwise when the counts agree. */
const TUPLE_ASSIGNMENT =
  /^((?:self\s*\.\s*)?[A-Za-z_]\w*(?:\s*,\s*(?:self\s*\.\s*)?[A-Za-z_]\w*)+)\s*,?\s*=(?!=)\s*([\s\S]+?)\s*$/;

function pushAssign(out: AssignFact[], target: string, value: string): void {
  const callee = CALLEE.exec(value);
  out.push({ target, value, callee: callee ? squash(callee[1]) : null });
}

/** Statements nested in if/for/with/try blocks, up to a few levels. */
function collectAssigns(block: Node, out: AssignFact[], depth: number): void {
  for (const stmt of block.namedChildren) {
    if (!stmt) continue;
    const type = stmt.type;
    if (type === 'expression_statement') {
      const text = stmt.text;
      // `self.a.b = …` and `obj.x = …` are not bindings of ours; the regexes only admit `self.` or a bare name.
      const m = ASSIGNMENT.exec(text);
      if (m) {
        pushAssign(out, m[1], m[2]);
        continue;
      }
      const t = TUPLE_ASSIGNMENT.exec(text);
      if (!t) continue;
      const targets = t[1].split(',').map((x) => x.replace(/^\s*self\s*\.\s*/, '').trim());
      const values = splitArgs(t[2]);
      if (targets.length === values.length) targets.forEach((target, i) => pushAssign(out, target, values[i]));
    } else if (depth < 4 && type !== 'function_definition' && type !== 'class_definition' && type !== 'comment') {
      for (const child of stmt.namedChildren) {
        if (child && (child.type === 'block' || child.type.endsWith('_clause'))) collectAssigns(child, out, depth + 1);
      }
    }
  }
}

function readParams(fn: Node, defaults: Map<string, string>, names: string[]): void {
  const params = field(fn, 'parameters');
  if (!params) return;
  for (const p of params.namedChildren) {
    if (!p) continue;
    if (p.type === 'identifier') names.push(p.text);
    else if (p.type === 'typed_parameter') {
      const id = p.namedChildren.find((c) => c?.type === 'identifier');
      if (id) names.push(id.text);
    } else if (p.type === 'default_parameter' || p.type === 'typed_default_parameter') {
      const name = field(p, 'name');
      const value = field(p, 'value');
      if (name) {
        names.push(name.text);
        if (value) defaults.set(name.text, value.text);
      }
    }
  }
}

function unwrapDecorated(node: Node): Node | null {
  return node.type === 'decorated_definition' ? field(node, 'definition') : node;
}

interface Source {
  /** The piece as written: evidence is read here. */
  text: string;
  lexed: Lexed;
}

function classFact(cls: Node, root: Node, src: Source, out: ClassFact[]): void {
  const name = field(cls, 'name')?.text ?? '';
  const superclasses = field(cls, 'superclasses');
  const bases = superclasses
    ? superclasses.namedChildren.filter((b): b is Node => b !== null).map((b) => squash(b.text))
    : [];
  const fact: ClassFact = {
    name,
    row: cls.startPosition.row,
    bases,
    initParams: new Map(),
    initParamNames: [],
    initAssigns: [],
    fields: new Map(),
    words: [],
    hasInit: false,
  };
  out.push(fact);
  const body = field(cls, 'body');
  if (body) {
    for (const raw of body.namedChildren) {
      if (!raw) continue;
      const stmt = unwrapDecorated(raw);
      if (!stmt) continue;
      if (stmt.type === 'function_definition' && field(stmt, 'name')?.text === '__init__') {
        fact.hasInit = true;
        readParams(stmt, fact.initParams, fact.initParamNames);
        const fnBody = field(stmt, 'body');
        if (fnBody) collectAssigns(fnBody, fact.initAssigns, 0);
      } else if (stmt.type === 'expression_statement') {
        for (const e of stmt.namedChildren) {
          if (!e || e.type !== 'assignment') continue;
          const left = field(e, 'left');
          const right = field(e, 'right');
          if (left?.type === 'identifier' && right) fact.fields.set(left.text, right.text);
        }
      } else if (stmt.type === 'class_definition') {
        classFact(stmt, root, src, out);
      }
    }
  }
  // Evidence anywhere in the class, methods that were blanked out of the parse included, kept only
  // where the lexer says it is code. A class at the top of the piece runs to the piece's end (its
  // blanked trailing methods are whitespace to tree-sitter, outside the node).
  // (Node objects are fresh wrappers on each access: compare types, not identity.)
  const parent = cls.parent;
  const top =
    parent?.type === 'module' || (parent?.type === 'decorated_definition' && parent.parent?.type === 'module');
  // The parsed text dropped blanked methods' characters but kept their lines: rows and columns
  // map back to the source, offsets do not.
  const at = (p: { row: number; column: number }): number =>
    (src.lexed.lineStarts[p.row] ?? src.text.length) + p.column;
  const start = at(cls.startPosition);
  const end = top ? src.text.length : at(cls.endPosition);
  const seen = new Set<string>();
  const text = src.text.slice(start, end);
  EVIDENCE.lastIndex = 0;
  for (let m = EVIDENCE.exec(text); m !== null; m = EVIDENCE.exec(text)) {
    const word = m[0];
    if (!seen.has(word) && isCode(src.lexed, start + m.index)) seen.add(word);
  }
  fact.words = [...seen];
}

/** Classes anywhere in the statement structure (module, if/try/with blocks, function bodies). */
function findClasses(node: Node, root: Node, src: Source, out: ClassFact[], depth: number): void {
  for (const raw of node.namedChildren) {
    if (!raw) continue;
    const stmt = unwrapDecorated(raw);
    if (!stmt) continue;
    if (stmt.type === 'class_definition') classFact(stmt, root, src, out);
    else if (
      depth < 4 &&
      (stmt.type.endsWith('_statement') ||
        stmt.type.endsWith('_clause') ||
        stmt.type === 'block' ||
        stmt.type === 'function_definition')
    ) {
      if (
        stmt.type === 'expression_statement' ||
        stmt.type === 'return_statement' ||
        stmt.type === 'import_statement' ||
        stmt.type === 'import_from_statement'
      )
        continue;
      findClasses(stmt, root, src, out, depth + 1);
    }
  }
}

function callFact(call: Node, fn: Node): CallFact {
  const args: string[] = [];
  const kwargs = new Map<string, string>();
  const list = field(call, 'arguments');
  if (list) {
    for (const a of list.namedChildren) {
      if (!a || a.type === 'comment') continue;
      if (a.type === 'keyword_argument') {
        const k = field(a, 'name');
        const v = field(a, 'value');
        if (k && v) kwargs.set(k.text, v.text);
      } else if (a.type !== 'list_splat' && a.type !== 'dictionary_splat') {
        args.push(a.text);
      }
    }
  }
  const parent = call.parent;
  let assignedTo: string | null = null;
  if (parent && parent.type === 'assignment' && field(parent, 'right')?.startIndex === call.startIndex) {
    const left = field(parent, 'left');
    if (left) assignedTo = assignTarget(left);
  }
  return {
    callee: squash(fn.text),
    row: call.startPosition.row,
    args,
    kwargs,
    assignedTo,
    asserts: assertsAround(call),
  };
}

const ASSERT_IN = /\bassert\s+([A-Za-z_]\w*)\s+in\s+([[({][^\])}]*[\])}])/g;

/** The `assert name in {…literals…}` statements of the function holding `node`. */
function assertsAround(node: Node): [string, string[]][] {
  let fn: Node | null = node.parent;
  while (fn && fn.type !== 'function_definition') fn = fn.parent;
  if (!fn) return [];
  const out: [string, string[]][] = [];
  const text = fn.text;
  ASSERT_IN.lastIndex = 0;
  for (let m = ASSERT_IN.exec(text); m !== null; m = ASSERT_IN.exec(text)) {
    const values = [...m[2].matchAll(/"([^"\\]*)"|'([^'\\]*)'/g)].map((v) => v[1] ?? v[2] ?? '');
    if (values.length > 0) out.push([m[1], values]);
  }
  return out;
}

function findCalls(root: Node, text: string, out: CallFact[]): void {
  CALLS.lastIndex = 0;
  for (let m = CALLS.exec(text); m !== null; m = CALLS.exec(text)) {
    const id = identifierAt(root, m.index);
    if (!id) continue;
    let fn: Node = id;
    const parent = id.parent;
    if (parent && parent.type === 'attribute' && field(parent, 'attribute')?.startIndex === id.startIndex) fn = parent;
    const call = fn.parent;
    if (!call || call.type !== 'call' || field(call, 'function')?.startIndex !== fn.startIndex) continue;
    out.push(callFact(call, fn));
  }
}

function findConstants(text: string, lexed: Lexed, skip: readonly number[], out: [string, string][]): void {
  const skipped = (at: number): boolean => {
    for (let i = 0; i < skip.length; i += 2) if (at >= skip[i] && at < skip[i + 1]) return true;
    return false;
  };
  STATEMENT_CONSTANT.lastIndex = 0;
  for (let m = STATEMENT_CONSTANT.exec(text); m !== null; m = STATEMENT_CONSTANT.exec(text)) {
    const at = m.index + m[0].indexOf(m[1]);
    // At the start of a statement, not inside a docstring or brackets, nor in a method we skipped.
    if (isCode(lexed, at) && lexed.open[lineOf(lexed, at)] && !skipped(at)) out.push([m[1], m[2]]);
  }
  FIELD_CONSTANT.lastIndex = 0;
  for (let m = FIELD_CONSTANT.exec(text); m !== null; m = FIELD_CONSTANT.exec(text)) {
    const at = m.index + m[0].indexOf(m[1]);
    if (isCode(lexed, at) && lexed.open[lineOf(lexed, at)] && !skipped(at)) out.push([m[1], m[2]]);
  }
  NAMED_CONSTANT.lastIndex = 0;
  for (let m = NAMED_CONSTANT.exec(text); m !== null; m = NAMED_CONSTANT.exec(text)) {
    if (!CONFIG_NAME_SET.has(m[1])) continue;
    const quoted = m[2] !== '';
    const ok = quoted ? isStringAt(lexed, m.index - 1) : isCode(lexed, m.index);
    if (ok && !skipped(m.index)) out.push([m[1], m[3]]);
  }
}

function lineOf(lexed: Lexed, offset: number): number {
  const starts = lexed.lineStarts;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const lineText = (text: string, lexed: Lexed, line: number): string =>
  text.slice(lexed.lineStarts[line], line + 1 < lexed.lineStarts.length ? lexed.lineStarts[line + 1] : text.length);

/** Offsets of the calls we report, in code. */
function callOffsets(text: string, lexed: Lexed): number[] {
  const out: number[] = [];
  CALLS.lastIndex = 0;
  for (let m = CALLS.exec(text); m !== null; m = CALLS.exec(text)) if (isCode(lexed, m.index)) out.push(m.index);
  return out;
}

/** Per line: its indentation, or -1 for a blank or comment-only line. */
function indents(text: string, lexed: Lexed): Int32Array {
  const n = lexed.lineStarts.length;
  const out = new Int32Array(n);
  for (let l = 0; l < n; l++) {
    let i = lexed.lineStarts[l];
    const end = l + 1 < n ? lexed.lineStarts[l + 1] : text.length;
    while (i < end && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
    const c = text.charCodeAt(i);
    out[l] = i >= end || c === 10 || c === 13 || c === 35 ? -1 : i - lexed.lineStarts[l];
  }
  return out;
}

/**
 * The end of the triple-quoted string that starts at `at` and is a statement of its own (a
 * docstring: only spaces, a comment or the line's end after it), else -1.
 */
function docstringEnd(text: string, lexed: Lexed, at: number): number {
  let q = at;
  const c = text.charCodeAt(q);
  // r"""…""" / u"""…""": the prefixes that leave no code inside the string.
  if (c === 114 || c === 82 || c === 117 || c === 85) q++;
  const quote = text.charCodeAt(q);
  if ((quote !== 34 && quote !== 39) || text.charCodeAt(q + 1) !== quote || text.charCodeAt(q + 2) !== quote) return -1;
  const r = lexed.nonCode;
  let lo = 0;
  let hi = r.length / 2 - 1;
  let end = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = r[mid * 2];
    if (s === q) {
      end = r[mid * 2 + 1];
      break;
    }
    if (s < q) lo = mid + 1;
    else hi = mid - 1;
  }
  // Terminated (an unterminated one runs to the end of the text), and nothing but a comment after it.
  if (
    end < q + 6 ||
    text.charCodeAt(end - 1) !== quote ||
    text.charCodeAt(end - 2) !== quote ||
    text.charCodeAt(end - 3) !== quote
  )
    return -1;
  let i = end;
  while (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9) i++;
  const next = text.charCodeAt(i);
  return i >= text.length || next === 10 || next === 13 || next === 35 ? end : -1;
}

/**
 * The class with every method but `__init__` cut down to a `0` statement followed by the newlines
 * of its lines, so tree-sitter reads the header, fields and `__init__` — what the rules need — and
 * not the forward passes, which are most of a model file (the parser's cost is per character, even
 * for whitespace). Docstrings in what is left become `0` statements the same way: no rule reads a
 * statement that is a lone string. Rows and columns stay those of the source. Methods that call
 * something we report (from_pretrained inside a classmethod) are kept whole.
 */
export function reduceClass(text: string, lexed: Lexed, calls: readonly number[], skipped: number[] = []): string {
  const { lineStarts, open } = lexed;
  const lines = lineStarts.length;
  const indent = indents(text, lexed);
  let header = -1;
  for (let l = 0; l < lines && header < 0; l++)
    if (open[l] && indent[l] >= 0 && text.startsWith('class', lineStarts[l] + indent[l])) header = l;
  if (header < 0) return text;
  let bodyIndent = -1;
  for (let l = header + 1; l < lines && bodyIndent < 0; l++) if (open[l] && indent[l] >= 0) bodyIndent = indent[l];
  if (bodyIndent <= indent[header]) return text;
  const starts: number[] = [];
  for (let l = header + 1; l < lines; l++) if (open[l] && indent[l] === bodyIndent) starts.push(l);
  const parts: string[] = [];
  let copied = 0;
  /** Copies the text kept since the last cut, and blanks the statements of lines [fromLine, toLine). */
  const keepTo = (from: number, fromLine: number, toLine: number): void => {
    // Docstrings in the kept lines (statements at the start of an open line).
    for (let l = fromLine; l < toLine; l++) {
      if (!open[l] || indent[l] < 0) continue;
      const at = lineStarts[l] + indent[l];
      if (at < copied || at >= from) continue;
      const end = docstringEnd(text, lexed, at);
      if (end < 0 || end > from) continue;
      let newlines = 0;
      for (let i = text.indexOf('\n', at); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) newlines++;
      parts.push(text.slice(copied, at), '0', '\n'.repeat(newlines));
      copied = end;
    }
  };
  let scannedLine = header + 1;
  for (let i = 0; i < starts.length; i++) {
    const from = lineStarts[starts[i]] + bodyIndent;
    const toLine = i + 1 < starts.length ? starts[i + 1] : lines;
    const to = toLine < lines ? lineStarts[toLine] : text.length;
    const first = text.slice(from, from + 20);
    if (!/^(?:async\s+)?def\s|^@/.test(first) || /^(?:async\s+)?def\s+__init__\b/.test(first)) continue;
    if (calls.some((c) => c >= from && c < to)) continue;
    keepTo(from, scannedLine, starts[i]);
    parts.push(text.slice(copied, from), '0', '\n'.repeat(toLine - starts[i] - (toLine < lines ? 0 : 1)));
    skipped.push(from, to);
    copied = to;
    scannedLine = toLine;
  }
  keepTo(text.length, scannedLine, lines);
  if (copied === 0) return text;
  parts.push(text.slice(copied));
  return parts.join('');
}

type PieceKind = 'class' | 'function' | 'statement';

function pieceKind(text: string, lexed: Lexed): PieceKind {
  for (let l = 0; l < lexed.lineStarts.length; l++) {
    if (!lexed.open[l]) continue;
    const t = lineText(text, lexed, l).trimStart();
    if (t === '' || t.startsWith('#') || t.startsWith('@')) continue;
    if (/^class\s/.test(t)) return 'class';
    if (/^(?:async\s+)?def\s/.test(t)) return 'function';
    return 'statement';
  }
  return 'statement';
}

/**
 * A copy of `s` that does not keep its source alive. Substrings in V8 point into the whole string
 * they came from; facts are cached for the life of the extension host, so without this each cached
 * fact would pin an old version of the file it was read from.
 */
function own(s: string): string {
  return s.length < 13 ? s : (s + ' ').slice(0, -1);
}

function detach(f: BlockFacts): BlockFacts {
  return {
    classes: f.classes.map((c) => ({
      name: own(c.name),
      row: c.row,
      bases: c.bases.map(own),
      initParams: new Map([...c.initParams].map(([k, v]) => [own(k), own(v)])),
      initParamNames: c.initParamNames.map(own),
      initAssigns: c.initAssigns.map((a) => ({
        target: own(a.target),
        value: own(a.value),
        callee: a.callee === null ? null : own(a.callee),
      })),
      fields: new Map([...c.fields].map(([k, v]) => [own(k), own(v)])),
      words: c.words.map(own),
      hasInit: c.hasInit,
    })),
    calls: f.calls.map((c) => ({
      callee: own(c.callee),
      row: c.row,
      args: c.args.map(own),
      kwargs: new Map([...c.kwargs].map(([k, v]) => [own(k), own(v)])),
      assignedTo: c.assignedTo === null ? null : own(c.assignedTo),
      asserts: c.asserts.map(([name, values]): [string, string[]] => [own(name), values.map(own)]),
    })),
    constants: f.constants.map(([k, v]) => [own(k), own(v)]),
    hasError: f.hasError,
    parsed: f.parsed,
  };
}

/**
 * Reads one piece of source (a top-level statement); `lexed` is `lex(text)` when the caller has it
 * already (blocks.ts lexBlock). Classes are parsed without their methods
 * other than `__init__`; functions only when they call something we report or define a class.
 * Never throws on bad Python: tree-sitter recovers.
 */
export function readFacts(parser: PythonParser, text: string, lexed: Lexed = lex(text)): BlockFacts {
  const facts: BlockFacts = { classes: [], calls: [], constants: [], hasError: false, parsed: false };
  const kind = pieceKind(text, lexed);
  const calls = callOffsets(text, lexed);
  if (kind === 'function' && calls.length === 0 && !/^[ \t]+class\s/m.test(text)) return facts;
  const skipped: number[] = [];
  const parseText = kind === 'class' ? reduceClass(text, lexed, calls, skipped) : text;
  const tree = parser.parse(parseText);
  facts.parsed = true;
  if (!tree) return facts;
  try {
    const root = tree.rootNode;
    facts.hasError = root.hasError;
    findClasses(root, root, { text, lexed }, facts.classes, 0);
    if (calls.length > 0) findCalls(root, parseText, facts.calls);
    findConstants(text, lexed, skipped, facts.constants);
  } finally {
    tree.delete();
  }
  return detach(facts);
}
