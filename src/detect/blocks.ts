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
  const lineStarts = [0];
  const open = [true];
  const nonCode: number[] = [];
  let depth = 0;
  /** The quote of the string we are in: '', "'", '"', "'''" or '"""'. */
  let quote = '';
  let quoteStart = 0;
  let continued = false;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      if (quote.length === 1) {
        // an unterminated one-line string ends with its line
        nonCode.push(quoteStart, i);
        quote = '';
      }
      i++;
      lineStarts.push(i);
      open.push(quote === '' && depth === 0 && !continued);
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
