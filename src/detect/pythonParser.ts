// The Python parser: web-tree-sitter plus the tree-sitter-python grammar, both WebAssembly, so the
// bundle needs no native add-on and nothing is downloaded at run time. Loading compiles two WASM
// modules (~100 ms), so it happens once, lazily, on the first detection — never during activation.
//
// Where the .wasm files are: next to the bundle (scripts/build.mjs copies them into dist/, beside
// dist/extension.js and dist/cli.js), else in node_modules (tests and scripts run from source).
import { access } from 'node:fs/promises';
import * as path from 'node:path';
// `import = require` on purpose: esbuild then bundles the package's CommonJS build. Its ESM build
// finds its own .wasm through import.meta.url, which does not exist in our CommonJS bundles.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import TreeSitter = require('web-tree-sitter');

const { Language, Parser } = TreeSitter;
type Parser = TreeSitter.Parser;

export const RUNTIME_WASM = 'web-tree-sitter.wasm';
export const PYTHON_WASM = 'tree-sitter-python.wasm';

export interface WasmPaths {
  runtime: string;
  python: string;
}

async function isFile(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

/** The two .wasm files: in `dir` when given, else beside this bundle, else from node_modules. */
export async function findWasm(dir?: string): Promise<WasmPaths> {
  const folders = dir !== undefined ? [dir] : [__dirname];
  for (const folder of folders) {
    const runtime = path.join(folder, RUNTIME_WASM);
    const python = path.join(folder, PYTHON_WASM);
    if ((await isFile(runtime)) && (await isFile(python))) return { runtime, python };
  }
  if (dir === undefined) {
    try {
      // Running from source (tsx): the packages themselves. Unbundled require.resolve keeps working.
      return {
        runtime: require.resolve(`web-tree-sitter/${RUNTIME_WASM}`),
        python: require.resolve(`tree-sitter-python/${PYTHON_WASM}`),
      };
    } catch {
      // fall through to the error naming the folder
    }
  }
  throw new Error(
    `cannot find ${RUNTIME_WASM} and ${PYTHON_WASM} in ${dir ?? __dirname}; rebuild with "npm run build" (it copies them into dist/)`,
  );
}

/** A ready parser for Python source. One instance is reused for every parse (parsing is synchronous). */
export class PythonParser {
  private constructor(private readonly parser: Parser) {}

  static async load(wasmDir?: string): Promise<PythonParser> {
    const wasm = await findWasm(wasmDir);
    await Parser.init({ locateFile: (name: string) => (name.endsWith('.wasm') ? wasm.runtime : name) });
    const language = await Language.load(wasm.python);
    const parser = new Parser();
    parser.setLanguage(language);
    return new PythonParser(parser);
  }

  /** Parses `text`; the caller must `delete()` the tree. Null only if tree-sitter gives up (it recovers from syntax errors). */
  parse(text: string): ReturnType<Parser['parse']> {
    return this.parser.parse(text);
  }
}

let shared: Promise<PythonParser> | undefined;

/**
 * The process-wide parser, created on first use. The WASM runtime is a process-wide module anyway
 * (Parser.init), so one lazily created parser is the honest shape; a failed load is not cached, so a
 * later call (after a rebuild) tries again.
 */
export function sharedPythonParser(): Promise<PythonParser> {
  if (!shared) {
    shared = PythonParser.load();
    shared.catch(() => {
      shared = undefined;
    });
  }
  return shared;
}
