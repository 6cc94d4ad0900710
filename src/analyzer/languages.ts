// Tree-sitter parsers for the languages the Autoscope analyzer reads. web-tree-sitter (a wasm build
// of tree-sitter) and the grammars' `.wasm` files are loaded from the installed npm packages, never
// from the network, so the analyzer works offline and needs no native build.
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Language, Parser, type Node } from 'web-tree-sitter';

/** The languages the analyzer can parse. TypeScript and TSX are separate grammars upstream. */
export type AnalyzerLanguage = 'java' | 'typescript' | 'tsx' | 'javascript' | 'go' | 'python' | 'csharp';

export const ANALYZER_LANGUAGES: readonly AnalyzerLanguage[] = ['java', 'typescript', 'tsx', 'javascript', 'go', 'python', 'csharp'];

/** Where each grammar's wasm lives: the npm package and the file inside it. */
const GRAMMAR_WASM: Record<AnalyzerLanguage, { pkg: string; file: string }> = {
  java: { pkg: 'tree-sitter-java', file: 'tree-sitter-java.wasm' },
  typescript: { pkg: 'tree-sitter-typescript', file: 'tree-sitter-typescript.wasm' },
  tsx: { pkg: 'tree-sitter-typescript', file: 'tree-sitter-tsx.wasm' },
  javascript: { pkg: 'tree-sitter-javascript', file: 'tree-sitter-javascript.wasm' },
  go: { pkg: 'tree-sitter-go', file: 'tree-sitter-go.wasm' },
  python: { pkg: 'tree-sitter-python', file: 'tree-sitter-python.wasm' },
  // The package names its wasm after the grammar (c_sharp), not after the package.
  csharp: { pkg: 'tree-sitter-c-sharp', file: 'tree-sitter-c_sharp.wasm' },
};

/** The node type each grammar gives the root of a file, for callers that check what they got. */
export const ROOT_NODE_TYPE: Record<AnalyzerLanguage, string> = {
  java: 'program',
  typescript: 'program',
  tsx: 'program',
  javascript: 'program',
  go: 'source_file',
  python: 'module',
  csharp: 'compilation_unit',
};

/** File extension (lower case, with the dot) to language. */
const EXTENSION_LANGUAGE: ReadonlyMap<string, AnalyzerLanguage> = new Map([
  ['.java', 'java'],
  ['.ts', 'typescript'],
  ['.mts', 'typescript'],
  ['.cts', 'typescript'],
  ['.tsx', 'tsx'],
  ['.js', 'javascript'],
  ['.mjs', 'javascript'],
  ['.cjs', 'javascript'],
  // The JavaScript grammar parses JSX itself; only TypeScript needs a separate TSX grammar.
  ['.jsx', 'javascript'],
  ['.go', 'go'],
  ['.py', 'python'],
  ['.cs', 'csharp'],
]);

/** The language of a file by its extension, or undefined when the analyzer does not read it. */
export function languageForPath(filePath: string): AnalyzerLanguage | undefined {
  const base = path.basename(filePath).toLowerCase();
  // Declaration files describe types only; they hold no call sites to analyze.
  if (base.endsWith('.d.ts') || base.endsWith('.d.mts') || base.endsWith('.d.cts')) return undefined;
  return EXTENSION_LANGUAGE.get(path.extname(base));
}

/** A grammar that could not be loaded; the message names the language and the wasm path. */
export class GrammarLoadError extends Error {
  override name = 'GrammarLoadError';
  constructor(
    public readonly language: AnalyzerLanguage,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot load the tree-sitter grammar for ${language}: ${detail}`, options);
  }
}

const require = createRequire(import.meta.url);

/** The directory of an installed grammar package, found through its package.json (they have no `exports` map). */
function packageDir(pkg: string): string {
  return path.dirname(require.resolve(`${pkg}/package.json`));
}

let runtimeReady: Promise<void> | undefined;

/** Initialises the web-tree-sitter runtime once per process; later calls share the same promise. */
export function initTreeSitter(): Promise<void> {
  runtimeReady ??= Parser.init({
    // Point the Emscripten loader at the package's own wasm so it never depends on the caller's
    // working directory or on how the module was bundled. web-tree-sitter's `exports` lists the
    // wasm (and not package.json), so resolve the file itself.
    locateFile: (name: string) => path.join(path.dirname(require.resolve('web-tree-sitter/web-tree-sitter.wasm')), name),
  }).catch((err: unknown) => {
    runtimeReady = undefined; // let a later call retry instead of caching the failure
    throw err;
  });
  return runtimeReady;
}

const languages = new Map<AnalyzerLanguage, Promise<Language>>();

/** The grammar for a language, loaded once from its package's `.wasm` file. */
export function loadLanguage(language: AnalyzerLanguage): Promise<Language> {
  let loaded = languages.get(language);
  if (!loaded) {
    loaded = loadGrammar(language);
    languages.set(language, loaded);
    loaded.catch(() => languages.delete(language));
  }
  return loaded;
}

async function loadGrammar(language: AnalyzerLanguage): Promise<Language> {
  const spec = GRAMMAR_WASM[language];
  if (!spec) throw new GrammarLoadError(language, 'not a supported language');
  await initTreeSitter();
  let wasmPath: string;
  try {
    wasmPath = path.join(packageDir(spec.pkg), spec.file);
  } catch (err) {
    throw new GrammarLoadError(language, `package ${spec.pkg} is not installed (the grammars are optional dependencies of slimtrace: install it with \`npm install ${spec.pkg}\`, or reinstall slimtrace without --omit=optional)`, { cause: err });
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(wasmPath);
  } catch (err) {
    throw new GrammarLoadError(language, `cannot read ${wasmPath}: ${(err as Error).message}`, { cause: err });
  }
  try {
    // Passing the bytes (not a path or URL) keeps web-tree-sitter from choosing fetch() over fs.
    return await Language.load(bytes);
  } catch (err) {
    throw new GrammarLoadError(language, `${wasmPath} does not load: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * A new parser set to the language. Parsers are cheap but hold wasm memory: call `delete()` when
 * done. A parser is not safe to share between concurrent parses of different files.
 */
export async function createParser(language: AnalyzerLanguage): Promise<Parser> {
  const grammar = await loadLanguage(language);
  const parser = new Parser();
  try {
    parser.setLanguage(grammar);
  } catch (err) {
    parser.delete();
    throw new GrammarLoadError(language, `incompatible grammar (ABI ${grammar.abiVersion}): ${(err as Error).message}`, {
      cause: err,
    });
  }
  return parser;
}

const sharedParsers = new Map<AnalyzerLanguage, Promise<Parser>>();

/** One parser per language for the process; parse() is synchronous, so sharing it is safe. */
function sharedParser(language: AnalyzerLanguage): Promise<Parser> {
  let p = sharedParsers.get(language);
  if (!p) {
    p = createParser(language);
    sharedParsers.set(language, p);
    p.catch(() => sharedParsers.delete(language));
  }
  return p;
}

/**
 * Parses `source` with the process's parser for `language`, hands the tree's root to `use` and
 * frees the tree afterwards (tree-sitter trees live in wasm memory, not on the JS heap). Every
 * front end reads its files through here.
 */
export async function withSyntaxTree<T>(language: AnalyzerLanguage, file: string, source: string, use: (root: Node) => T): Promise<T> {
  const tree = (await sharedParser(language)).parse(source);
  if (!tree) throw new Error(`${file}: the parser returned no tree`);
  try {
    return use(tree.rootNode);
  } finally {
    tree.delete();
  }
}
