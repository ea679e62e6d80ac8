// Top-level statements of a Python file, found by a light lexer (strings, comments, brackets,
// backslash continuations) without parsing.
//
// Why: tree-sitter's Python grammar runs at ~1–3 MB/s as WebAssembly, so a 5,000-line file costs
// ~100 ms to parse whole — too slow for CodeLens. Cutting the file at top-level statements lets the
// detector (1) parse only the statements that mention something it looks for and (2) keep each
// statement's findings keyed by its text, so an edit re-parses only the statement it touched.
// A cut in the wrong place is harmless: each piece is parsed by tree-sitter with error recovery.

export interface Block {
  /** Character offsets into the file text. */
  start: number;
  end: number;
  /** 0-based line of `start`. */
  line: number;
}

const CONTINUATIONS = /^(?:elif|else|except|finally)\b/;

/** Cuts `text` at each line that starts a new top-level statement (decorators stay with their def/class). */
export function splitTopLevel(text: string, lexed: Lexed = lex(text)): Block[] {
  const { lineStarts, open } = lexed;
  const blocks: Block[] = [];
  let blockStart = 0;
  let blockLine = 0;
  let decorated = false;
  for (let line = 0; line < lineStarts.length; line++) {
    const i = lineStarts[line];
    if (!open[line] || i >= text.length) continue;
    const c = text.charCodeAt(i);
    // Space, tab, newline, CR, '#', form feed: not a statement at column 0.
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 35 || c === 12) continue;
    const isContinuation = decorated || CONTINUATIONS.test(text.slice(i, i + 8));
    if (!isContinuation && i > blockStart) {
      blocks.push({ start: blockStart, end: i, line: blockLine });
      blockStart = i;
      blockLine = line;
    } else if (!isContinuation) {
      blockLine = line;
    }
    decorated = c === 64; // '@'
  }
  if (text.length > blockStart) blocks.push({ start: blockStart, end: text.length, line: blockLine });
  return blocks;
}

export interface Lexed {
  /** Offset of each line's first character. */
  lineStarts: number[];
  /** Per line: a new statement may start there (not inside a string, brackets or a continuation). */
  open: boolean[];
  /** Sorted [start, end) offset pairs of strings and comments. */
  nonCode: number[];
}

/** Lines, statement boundaries, and where the strings and comments are: the light lexer splitTopLevel cuts by. */
export function lex(text: string): Lexed {
  return lexFrom(text, 0, null).lexed;
}

/**
 * The lexer from `from` (a line start where a statement may start, so the lexer's state there is its
 * initial state) to the end, or up to the first such line start `stop` accepts (left out of the
 * result; `stopped` is its offset, -1 when the end was reached).
 */
function lexFrom(
  text: string,
  from: number,
  stop: ((lineStart: number) => boolean) | null,
): { lexed: Lexed; stopped: number } {
  const lineStarts = [from];
  const open = [true];
  const nonCode: number[] = [];
  let depth = 0;
  /** The quote of the string we are in: '', "'", '"', "'''" or '"""'. */
  let quote = '';
  let quoteStart = 0;
  let continued = false;
  const n = text.length;
  let i = from;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      if (quote.length === 1) {
        // an unterminated one-line string ends with its line
        nonCode.push(quoteStart, i);
        quote = '';
      }
      i++;
      const isOpen = quote === '' && depth === 0 && !continued;
      if (isOpen && stop !== null && stop(i)) return { lexed: { lineStarts, open, nonCode }, stopped: i };
      lineStarts.push(i);
      open.push(isOpen);
      continued = false;
      continue;
    }
    if (quote !== '') {
      if (c === 92) {
        // backslash: skip the escaped character (a newline included, which continues the string)
        if (text.charCodeAt(i + 1) === 10) {
          lineStarts.push(i + 2);
          open.push(false);
        }
        i += 2;
        continue;
      }
      if (text.startsWith(quote, i)) {
        i += quote.length;
        nonCode.push(quoteStart, i);
        quote = '';
        continue;
      }
      i++;
      continue;
    }
    switch (c) {
      case 35: {
        // '#': comment to end of line
        const nl = text.indexOf('\n', i);
        const end = nl === -1 ? n : nl;
        nonCode.push(i, end);
        i = end;
        continue;
      }
      case 34:
      case 39: {
        const ch = text[i];
        const triple = ch + ch + ch;
        quoteStart = i;
        if (text.startsWith(triple, i)) {
          quote = triple;
          i += 3;
        } else {
          quote = ch;
          i++;
        }
        continue;
      }
      case 40:
      case 91:
      case 123:
        depth++;
        break;
      case 41:
      case 93:
      case 125:
        if (depth > 0) depth--;
        break;
      case 92:
        // backslash continuation: the next line belongs to this statement
        if (text.charCodeAt(i + 1) === 10 || (text.charCodeAt(i + 1) === 13 && text.charCodeAt(i + 2) === 10))
          continued = true;
        break;
      default:
        break;
    }
    i++;
  }
  if (quote !== '') nonCode.push(quoteStart, n);
  return { lexed: { lineStarts, open, nonCode }, stopped: -1 };
}

/** Index of the last of the sorted values `xs[0], xs[step], xs[2·step]…` that is <= `x` (-1 when none). */
function lastAtMost(xs: readonly number[], x: number, step = 1): number {
  let lo = 0;
  let hi = Math.floor(xs.length / step) - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid * step] <= x) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/**
 * `lex(text)` for an edited version of `oldText` (whose lexing is `old`), lexing again only from the
 * last statement start before the first changed character until the lexer is back in step with the
 * old lexing: the first line start in the unchanged tail where a statement could start in both. The
 * state there is the initial one in both and the rest of the text is the same, so the rest of the
 * old lexing holds, shifted. A one-line edit of a 5,000-line file lexes a few lines, not the file.
 */
export function relex(oldText: string, old: Lexed, text: string): Lexed {
  const shorter = Math.min(oldText.length, text.length);
  let prefix = 0;
  while (prefix < shorter && oldText.charCodeAt(prefix) === text.charCodeAt(prefix)) prefix++;
  if (prefix === text.length && prefix === oldText.length) return old;
  let suffix = 0;
  const maxSuffix = shorter - prefix;
  const oldEnd = oldText.length - 1;
  const newEnd = text.length - 1;
  while (suffix < maxSuffix && oldText.charCodeAt(oldEnd - suffix) === text.charCodeAt(newEnd - suffix)) suffix++;
  const delta = text.length - oldText.length;
  // Restart at the last line start at or before the first change where the old lexer was idle.
  let line = lastAtMost(old.lineStarts, prefix);
  while (line > 0 && !old.open[line]) line--;
  const from = old.lineStarts[line];
  const tailStart = text.length - suffix;
  let resumeLine = -1;
  const { lexed: middle, stopped } = lexFrom(text, from, (at) => {
    if (at < tailStart) return false;
    const l = lastAtMost(old.lineStarts, at - delta);
    if (l < 0 || old.lineStarts[l] !== at - delta || !old.open[l]) return false;
    resumeLine = l;
    return true;
  });
  const lineStarts = old.lineStarts.slice(0, line).concat(middle.lineStarts);
  const open = old.open.slice(0, line).concat(middle.open);
  // Strings and comments that start before the restart point end before it (the lexer was idle there).
  const nonCode = old.nonCode.slice(0, (lastAtMost(old.nonCode, from - 1, 2) + 1) * 2).concat(middle.nonCode);
  if (stopped >= 0) {
    for (let l = resumeLine; l < old.lineStarts.length; l++) {
      lineStarts.push(old.lineStarts[l] + delta);
      open.push(old.open[l]);
    }
    const resumeAt = stopped - delta;
    for (let k = (lastAtMost(old.nonCode, resumeAt - 1, 2) + 1) * 2; k < old.nonCode.length; k += 2)
      nonCode.push(old.nonCode[k] + delta, old.nonCode[k + 1] + delta);
  }
  return { lineStarts, open, nonCode };
}

/**
 * `lex(text.slice(block.start, block.end))` for a block of `splitTopLevel(text, lexed)`, cut out of
 * the whole file's `lexed` instead of lexing the piece again. The same because a block starts and
 * ends at a line where a statement may start: the lexer's state there is its initial state.
 */
export function lexBlock(lexed: Lexed, block: Block): Lexed {
  const { start, end } = block;
  const lineStarts: number[] = [];
  const open: boolean[] = [];
  const starts = lexed.lineStarts;
  for (let l = block.line; l < starts.length && starts[l] <= end; l++) {
    lineStarts.push(starts[l] - start);
    open.push(lexed.open[l]);
  }
  const nonCode: number[] = [];
  const r = lexed.nonCode;
  // the first pair starting at or after `start`
  let lo = 0;
  let hi = r.length / 2;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (r[mid * 2] < start) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo * 2; i < r.length && r[i] < end; i += 2) nonCode.push(r[i] - start, r[i + 1] - start);
  return { lineStarts, open, nonCode };
}

/** Is `offset` outside every string and comment? */
export function isCode(lexed: Lexed, offset: number): boolean {
  const r = lexed.nonCode;
  // binary search over the pairs for the last start <= offset
  let lo = 0;
  let hi = r.length / 2 - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (r[mid * 2] <= offset) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found < 0 || offset >= r[found * 2 + 1];
}

/** Does a string start exactly at `offset`? */
export function isStringAt(lexed: Lexed, offset: number): boolean {
  const r = lexed.nonCode;
  let lo = 0;
  let hi = r.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = r[mid * 2];
    if (s === offset) return true;
    if (s < offset) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
