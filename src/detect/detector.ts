// The detector with its caches: a file is re-detected only when its content changed, and within a
// changed Python file only the top-level statements whose text changed are parsed again. This is
// what the CodeLens provider calls on each edit and what the workspace scan calls per file.
import { createHash } from 'node:crypto';
import { close, fstat, open, read, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { lex, lexBlock, relex, splitTopLevel, type Block, type Lexed } from './blocks';
import { callSites, classSites, type ClassMemo, type Placed } from './classify';
import { fileShape, withFileShape } from './fileShape';
import { configSites } from './hfConfigSite';
import { CONFIG_NAMES } from './names';
import { CALL_NAMES, readFacts, type BlockFacts, type CallFact, type ClassFact } from './pythonFacts';
import { sharedPythonParser, type PythonParser } from './pythonParser';
import { Scope } from './resolve';
import { compareSites, type DetectProblem, type ModelSite } from './site';

/** Files larger than this are not model code we can annotate usefully (and would stall a scan). */
export const MAX_FILE_BYTES = 2 * 1024 * 1024;

/**
 * A statement is parsed only if it mentions something a rule looks at. Over-matching costs time,
 * never correctness; missing a word here would hide a site, so every name the rules read is covered.
 */
const TRIGGER =
  /q_proj|q_a_proj|c_attn|qkv|wq\b|wkv|query|to_q|w_q\b|q_lin|linear_q|in_proj|kv_|_kv|self\.[qkv]\b|scaled_dot_product|flash_attn|memory_efficient_attention|flex_attention|expert|router|gate|heads?\b|n_head|n_embd|hidden_size|d_model|head_dim|lora|from_pretrained|Config|window|nsa|native_sparse|compress|Args|dtype|fp8_gemm|w8a8_block_fp8_matmul/;
/**
 * A class is read only if it could be a site (projections, attention kernels, experts), holds a call
 * we report, or binds a config name to a literal (a dataclass config). Norms, MLPs, decoder layers
 * and datasets are most of a modeling file's classes and are skipped unparsed.
 */
const CLASS_TRIGGER = new RegExp(
  String.raw`q_proj|q_a_proj|c_attn|qkv|\bwq\b|wkv|\bquery|to_q\b|\bw_q\b|W_q|\bWq\b|kv_lora_rank|q_lin|linear_q|in_proj|kv_proj|kv_a_|kv_down|self\.[qkv]\b|scaled_dot_product|flash_attn|memory_efficient_attention|flex_attention|expert|router|from_pretrained|LoraConfig|BitsAndBytesConfig|Config\s*\(|nsa|native_sparse|compress|` +
    // Image transformers (vision.ts): DiT's adaLN-Zero blocks, ViT's class token.
    String.raw`adaLN_modulation|cls_token|` +
    // The FFN's up projection: the model's FFN width is read from it (classify.ts fileShape).
    String.raw`\bc_fc\b|\bw1\b|\bup_proj\b|\bgate_proj\b|\bfc1\b|\bdense_h_to_4h\b|` +
    String.raw`\b(?:${CONFIG_NAMES.join('|')})["']?[ \t]*(?::[^=\n]*)?[=:][ \t]*[-\d"'TFN]`,
);
const IS_CLASS = /^(?:[ \t]*(?:@[^\n]*)?\n)*class\s/;
/** A class with `name: T = field(default=literal…)` fields: read for its constants (pythonFacts FIELD_CONSTANT). */
const FIELD_DEFAULTS = /^[ \t]*[A-Za-z_]\w*[ \t]*:[^=\n]+?=[ \t]*(?:dataclasses\.)?field\(\s*default\s*=/m;
/** A call that is a site of its own (pythonFacts' CALLS), anywhere in a file. */
const SITE_CALL = new RegExp(String.raw`\b(?:${CALL_NAMES.join('|')})\s*\(`);
/** A class statement, top-level or nested (in a function, under `if`). */
const ANY_CLASS = /^[ \t]*class\s/m;

/**
 * The file-level prefilter, on the raw text before any lexing: a site is a class that could be one
 * (CLASS_TRIGGER, whether it sits at the top level or inside a statement) or a call we report, so a
 * file with neither holds none, whatever its constants. Most files of a repository (data, utils,
 * training scripts, tests) stop here: never cut into statements, never parsed.
 */
export function mayHoldSites(text: string): boolean {
  return SITE_CALL.test(text) || (ANY_CLASS.test(text) && CLASS_TRIGGER.test(text));
}
/**
 * A one-line `NAME = literal` binding: parsed so a model id or a rank can be looked up by name. The
 * comment lines after it belong to its block (nanoGPT's `init_from = "scratch"` then `# data`).
 */
const SIMPLE_BINDING =
  /^[A-Za-z_]\w*[ \t]*(?::[^=\n]*)?=[ \t]*(?:["'\d-]|True|False|None)[^\n]*(?:\n[ \t]*(?:#[^\n]*)?)*$/;

export interface DetectStats {
  /** Files whose content was (re)detected. */
  files: number;
  /** tree-sitter parses (one per changed top-level statement). */
  parses: number;
  /** Files answered from the cache without reading or parsing. */
  hits: number;
  /** Python files the file-level prefilter (mayHoldSites) answered without lexing or parsing. */
  skipped: number;
}

export interface DetectionOptions {
  /**
   * false: no prefilter at all — every file is cut into statements and every statement read (the
   * reference the prefiltered path is tested against; the same sites, slower). Default true.
   */
  prefilter?: boolean;
}

export interface DetectResult {
  sites: ModelSite[];
  /** Files that could not be read or understood. */
  problems: DetectProblem[];
  /** Files left out on purpose (larger than MAX_FILE_BYTES). */
  skipped: DetectProblem[];
}

/** Statements whose facts are kept (a few KB each): a large workspace's model code, and then some. */
const MAX_PIECES = 50_000;

/** How many files are being read while one is parsed. */
const READ_AHEAD = 8;

type Fetched =
  | { kind: 'read'; key: string; shownAs: string; mtimeMs: number; size: number; text: string }
  | { kind: 'unchanged'; sites: ModelSite[] }
  | { kind: 'error'; message: string; skip: boolean };

export interface DetectFilesOptions {
  signal?: AbortSignal;
  /** Called after each file with the number done and the total. */
  onProgress?: (done: number, total: number, file: string) => void;
  /** The `file` reported in sites and problems for a path (e.g. relative to the workspace). */
  label?: (file: string) => string;
}

interface FileEntry {
  hash: string;
  mtimeMs: number;
  size: number;
  sites: ModelSite[];
  /** An editor buffer's text and its lexing, so the next version is lexed from the edit only. */
  lexedText?: { text: string; lexed: Lexed };
}

/** Sites of one content, keyed by its hash: a copy of a file, or a file the scan and an editor both saw. */
interface ContentEntry {
  file: string;
  sites: ModelSite[];
}

/** Contents remembered by hash (sites only, small): more than a large workspace's model files. */
const MAX_CONTENTS = 20_000;

/** The facts of a statement no rule looks at (not parsed): cached like the others, so an edit skips its test. */
const UNREAD: BlockFacts = Object.freeze({
  classes: [],
  calls: [],
  constants: [],
  hasError: false,
  parsed: false,
}) as BlockFacts;

const isJson = (file: string): boolean => file.toLowerCase().endsWith('.json');

/**
 * cyrb53 (a fast 53-bit string hash) with the length: the key of a statement in the facts cache.
 * Keying by the text itself would keep every old version of an edited file alive (substrings point
 * into the whole file's string); two different statements of equal length sharing a 53-bit hash is
 * not a practical risk for one workspace.
 */
function pieceKey(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return `${text.length}:${(4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36)}`;
}

function hashOf(text: string): string {
  return createHash('sha1').update(text).digest('base64');
}

export class DetectionCache {
  readonly stats: DetectStats = { files: 0, parses: 0, hits: 0, skipped: 0 };
  private readonly files = new Map<string, FileEntry>();
  /** Content hash → sites, across scans and paths (least recently used first). */
  private readonly contents = new Map<string, ContentEntry>();
  private readonly prefilter: boolean;
  /**
   * Statement key (pieceKey) → its facts, in two generations: used since the last turnover, and
   * before it. A hit in the old one moves up; at MAX_PIECES / 2 the old one is dropped. Nearly LRU,
   * without reordering a map on every hit (an edit looks up every statement of the file).
   */
  private young = new Map<string, BlockFacts>();
  private old = new Map<string, BlockFacts>();
  private parser: PythonParser | undefined;
  /** Class verdicts, reused for unchanged classes while the file's constants stay the same. */
  private readonly verdicts: ClassMemo = new WeakMap();

  constructor(
    private readonly loadParser: () => Promise<PythonParser> = sharedPythonParser,
    options: DetectionOptions = {},
  ) {
    this.prefilter = options.prefilter ?? true;
  }

  /** Loads the parser now (e.g. in the background after activation) instead of on first use. */
  async ready(): Promise<void> {
    this.parser ??= await this.loadParser();
  }

  /** Sites of one file's current text (an editor buffer, or what was read from disk). */
  async detectText(file: string, text: string): Promise<ModelSite[]> {
    const hash = hashOf(text);
    const cached = this.files.get(file);
    if (cached && cached.hash === hash) {
      this.stats.hits++;
      return cached.sites;
    }
    // The previous version's lexing, brought up to date from the edit (see blocks.ts relex).
    const previous = cached?.lexedText;
    const lexed = previous && !isJson(file) ? relex(previous.text, previous.lexed, text) : undefined;
    const entry: FileEntry = { hash, mtimeMs: -1, size: -1, sites: [] };
    entry.sites = await this.detectUncached(file, text, hash, (l) => (entry.lexedText = { text, lexed: l }), lexed);
    this.files.set(file, entry);
    return entry.sites;
  }

  /**
   * Sites of files on disk; unchanged files (same mtime and size, or same content) are not parsed
   * again. Reads run a few files ahead of the parsing (libuv's threads), so the parse — the only
   * CPU work, on this thread — does not wait on the disk.
   */
  async detectFiles(paths: readonly string[], options: DetectFilesOptions = {}): Promise<DetectResult> {
    const sites: ModelSite[] = [];
    const problems: DetectProblem[] = [];
    const skipped: DetectProblem[] = [];
    const label = options.label ?? ((f: string) => f);
    const ahead: Promise<Fetched>[] = [];
    const startFetch = (i: number): void => {
      if (i < paths.length && ahead[i] === undefined) ahead[i] = this.fetch(paths[i], label(paths[i]));
    };
    for (let i = 0; i < paths.length; i++) {
      options.signal?.throwIfAborted();
      for (let j = i; j < i + READ_AHEAD; j++) startFetch(j);
      const fetched = await ahead[i];
      delete ahead[i];
      const shownAs = label(paths[i]);
      if (fetched.kind === 'error') {
        (fetched.skip ? skipped : problems).push({ file: shownAs, message: fetched.message });
      } else if (fetched.kind === 'unchanged') {
        sites.push(...fetched.sites);
      } else {
        try {
          sites.push(...(await this.detectFetched(fetched)));
        } catch (e) {
          problems.push({ file: shownAs, message: describeError(e) });
        }
      }
      options.onProgress?.(i + 1, paths.length, paths[i]);
    }
    sites.sort(compareSites);
    return { sites, problems, skipped };
  }

  /** stat, and read unless mtime and size say the cached sites still hold; never rejects. */
  private async fetch(file: string, shownAs: string): Promise<Fetched> {
    const key = `${file}\u0000${shownAs}`;
    if (!this.files.has(key)) {
      // Not seen before (a cold scan): open, fstat and read on one descriptor through the callback
      // API — about half the main-thread work of fs/promises' stat + readFile. Anything unusual
      // (an error, not a regular file, too large) goes the careful way below for its message.
      const got = await readNew(file);
      if (got) return { kind: 'read', key, shownAs, mtimeMs: got.info.mtimeMs, size: got.info.size, text: got.text };
    }
    try {
      const info = await stat(file);
      if (!info.isFile()) return { kind: 'error', message: 'is not a file', skip: false };
      if (info.size > MAX_FILE_BYTES)
        return { kind: 'error', message: `is larger than ${MAX_FILE_BYTES / 1024 / 1024} MB; skipped`, skip: true };
      const cached = this.files.get(key);
      if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) {
        this.stats.hits++;
        return { kind: 'unchanged', sites: cached.sites };
      }
      return { kind: 'read', key, shownAs, mtimeMs: info.mtimeMs, size: info.size, text: await readFile(file, 'utf8') };
    } catch (e) {
      return { kind: 'error', message: describeError(e), skip: false };
    }
  }

  private async detectFetched(f: Extract<Fetched, { kind: 'read' }>): Promise<ModelSite[]> {
    const hash = hashOf(f.text);
    const cached = this.files.get(f.key);
    if (cached && cached.hash === hash) {
      this.stats.hits++;
      this.files.set(f.key, { ...cached, mtimeMs: f.mtimeMs, size: f.size });
      return cached.sites;
    }
    const sites = await this.detectUncached(f.shownAs, f.text, hash);
    this.files.set(f.key, { hash, mtimeMs: f.mtimeMs, size: f.size, sites });
    return sites;
  }

  /** Forget a file (deleted or closed), so its entry does not pin memory. */
  forget(file: string): void {
    this.files.delete(file);
  }

  /**
   * Sites of a content not seen under this key: from the content cache when the same text was seen
   * under another name (relabelled), else detected. `keepLexed` receives a Python file's lexing
   * when it was lexed (editor buffers keep it); `lexed`, when given, is `lex(text)` already.
   */
  private async detectUncached(
    file: string,
    text: string,
    hash: string,
    keepLexed?: (lexed: Lexed) => void,
    lexed?: Lexed,
  ): Promise<ModelSite[]> {
    const json = isJson(file);
    const contentKey = `${json ? 'j' : 'p'}${hash}`;
    const known = this.contents.get(contentKey);
    if (known) {
      this.stats.hits++;
      this.contents.delete(contentKey);
      this.contents.set(contentKey, known);
      return known.file === file ? known.sites : known.sites.map((s) => ({ ...s, file }));
    }
    const sites = await this.detectContent(file, text, json, keepLexed, lexed);
    this.contents.set(contentKey, { file, sites });
    for (const old of this.contents.keys()) {
      if (this.contents.size <= MAX_CONTENTS) break;
      this.contents.delete(old);
    }
    return sites;
  }

  private async detectContent(
    file: string,
    text: string,
    json: boolean,
    keepLexed: ((lexed: Lexed) => void) | undefined,
    lexed: Lexed | undefined,
  ): Promise<ModelSite[]> {
    this.stats.files++;
    if (json) {
      const r = configSites(file, text);
      if (!r.ok) throw new Error(r.message);
      return r.sites;
    }
    // The parser loads on the first Python file, candidate or not (about 30 ms once), so a broken
    // install is reported on the first scan rather than on the first model file.
    if (!this.parser) {
      try {
        this.parser = await this.loadParser();
      } catch (e) {
        throw new Error(`the Python parser did not load: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    }
    if (this.prefilter && !mayHoldSites(text)) {
      this.stats.skipped++;
      return [];
    }
    const lexing = lexed ?? lex(text);
    keepLexed?.(lexing);
    return this.detectPython(this.parser, file, text, lexing);
  }

  /** A block's cached facts, or undefined. */
  private cachedFacts(key: string): BlockFacts | undefined {
    const hit = this.young.get(key);
    if (hit) return hit;
    const older = this.old.get(key);
    if (older) this.remember(key, older);
    return older;
  }

  private remember(key: string, facts: BlockFacts): void {
    this.young.set(key, facts);
    if (this.young.size >= MAX_PIECES / 2) {
      this.old = this.young;
      this.young = new Map();
    }
  }

  /**
   * The block-level prefilter: 'skip' a statement no rule looks at, read one for its 'constants'
   * only, or for 'sites' (a class that could be one, a call we report, a class nested in it).
   */
  private verdict(source: string): 'skip' | 'constants' | 'sites' {
    if (!this.prefilter) return 'sites';
    if (IS_CLASS.test(source))
      return CLASS_TRIGGER.test(source) ? 'sites' : FIELD_DEFAULTS.test(source) ? 'constants' : 'skip';
    if (!TRIGGER.test(source) && !SIMPLE_BINDING.test(source)) return 'skip';
    return SITE_CALL.test(source) || ANY_CLASS.test(source) ? 'sites' : 'constants';
  }

  private detectPython(parser: PythonParser, file: string, text: string, lexed: Lexed): ModelSite[] {
    // First the verdicts, then the parses: a file whose statements can give constants but no site
    // (a training script's settings, a test's GPTConfig(n_head=4)) is not parsed at all.
    const pieces: { block: Block; source: string; key: string; facts: BlockFacts | undefined }[] = [];
    let productive = false;
    for (const block of splitTopLevel(text, lexed)) {
      const source = text.slice(block.start, block.end);
      const key = pieceKey(source);
      const facts = this.cachedFacts(key);
      if (facts) {
        if (facts === UNREAD) continue;
        productive ||= facts.classes.length > 0 || facts.calls.length > 0;
      } else {
        const verdict = this.verdict(source);
        if (verdict === 'skip') {
          this.remember(key, UNREAD);
          continue;
        }
        productive ||= verdict === 'sites';
      }
      pieces.push({ block, source, key, facts });
    }
    if (!productive) return [];
    const classes: Placed<ClassFact>[] = [];
    const calls: Placed<CallFact>[] = [];
    const constants = new Map<string, string>();
    for (const piece of pieces) {
      let facts = piece.facts;
      if (!facts) {
        facts = readFacts(parser, piece.source, lexBlock(lexed, piece.block));
        if (facts.parsed) this.stats.parses++;
        this.remember(piece.key, facts);
      }
      const line = piece.block.line;
      for (const c of facts.classes) classes.push({ fact: c, row: line + c.row });
      for (const c of facts.calls) calls.push({ fact: c, row: line + c.row });
      for (const [k, v] of facts.constants) if (!constants.has(k)) constants.set(k, v);
    }
    const scope = new Scope([constants]);
    const constantsKey = [...constants].map(([k, v]) => `${k}=${v}`).join('\n');
    const classFacts = classes.map((c) => c.fact);
    const found = classSites(classes, scope, file, this.verdicts, constantsKey);
    // With an MoE in the file one dense FFN width does not describe the model: it is left out.
    const shape = fileShape(classFacts, scope, { ffn: !found.some((s) => s.kind === 'moe') });
    const sites = [...found.map((s) => withFileShape(s, shape, classFacts, scope)), ...callSites(calls, scope, file)];
    return sites.sort(compareSites);
  }
}

/**
 * A regular file of at most MAX_FILE_BYTES, read whole: its fstat and its text. Undefined for
 * anything else (errors included), which the caller handles with fs/promises for the same messages
 * as before. Never rejects.
 */
function readNew(file: string): Promise<{ info: Stats; text: string } | undefined> {
  return new Promise((resolve) => {
    open(file, 'r', (openError, fd) => {
      if (openError) {
        resolve(undefined);
        return;
      }
      const done = (result: { info: Stats; text: string } | undefined): void => close(fd, () => resolve(result));
      fstat(fd, (statError, info) => {
        if (statError || !info.isFile() || info.size > MAX_FILE_BYTES) {
          done(undefined);
          return;
        }
        // Up to the size fstat gave, as fs.readFile does for a regular file.
        const buffer = Buffer.allocUnsafe(info.size);
        let filled = 0;
        const next = (): void => {
          if (filled === info.size) {
            done({ info, text: buffer.toString('utf8', 0, filled) });
            return;
          }
          read(fd, buffer, filled, info.size - filled, filled, (readError, n) => {
            if (readError) done(undefined);
            else if (n === 0) done({ info, text: buffer.toString('utf8', 0, filled) });
            else {
              filled += n;
              next();
            }
          });
        };
        next();
      });
    });
  });
}

function describeError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string') {
    const what: Record<string, string> = {
      ENOENT: 'does not exist',
      EACCES: 'permission denied',
      EISDIR: 'is a folder',
      ELOOP: 'is a symbolic link loop',
    };
    return what[err.code] ?? `cannot be read (${err.code})`;
  }
  return e instanceof Error ? e.message : String(e);
}

/** Sites of one text with a throwaway cache (tests, one-off use). */
export async function detectText(file: string, text: string): Promise<ModelSite[]> {
  return new DetectionCache().detectText(file, text);
}

/** Sites of files on disk with a throwaway cache. */
export async function detectFiles(paths: readonly string[], options?: DetectFilesOptions): Promise<DetectResult> {
  return new DetectionCache().detectFiles(paths, options);
}

export const isModelFileName = (name: string): boolean => name.endsWith('.py') || name === 'config.json';
