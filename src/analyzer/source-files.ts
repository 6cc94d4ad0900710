// Finds the source files the analyzer reads under the directories a user names: a lazy walk that
// classifies each file by language, skips dependency and build-output folders, and lists files in
// languages the analyzer does not support so the CLI can warn about them.
import { readdir, readFile, stat } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import path from 'node:path';
import { InputError } from '../model/index.js';
import { languageForPath, type AnalyzerLanguage } from './languages.js';

/**
 * Folders never walked: installed dependencies, VCS metadata and build output hold code that is not
 * the service's own (or is a copy of it) and can be orders of magnitude larger than the sources.
 */
export const DEFAULT_SKIP_DIRS: ReadonlySet<string> = new Set([
  'node_modules',
  '.git',
  '.hg',
  '.svn',
  'build',
  'target',
  'dist',
  'vendor',
  // Python's equivalents of node_modules and of build output.
  '.venv',
  'venv',
  '__pycache__',
  // .NET intermediate output (Grpc.Tools writes its generated C# there); `bin` is not skipped, as
  // Node packages keep scripts in one.
  'obj',
]);

/**
 * Extensions of programming languages the analyzer does not parse. Files with these are reported
 * (a service written in one would otherwise silently contribute no functions); other files (docs,
 * configs, data) are just not source and are only counted.
 */
const UNSUPPORTED_LANGUAGE_EXTENSIONS: ReadonlyMap<string, string> = new Map([
  ['.kt', 'kotlin'],
  ['.kts', 'kotlin'],
  ['.scala', 'scala'],
  ['.groovy', 'groovy'],
  ['.fs', 'fsharp'],
  ['.rb', 'ruby'],
  ['.php', 'php'],
  ['.rs', 'rust'],
  ['.c', 'c'],
  ['.h', 'c'],
  ['.cc', 'cpp'],
  ['.cpp', 'cpp'],
  ['.cxx', 'cpp'],
  ['.hpp', 'cpp'],
  ['.swift', 'swift'],
  ['.ex', 'elixir'],
  ['.exs', 'elixir'],
  ['.erl', 'erlang'],
  ['.clj', 'clojure'],
  ['.dart', 'dart'],
  ['.lua', 'lua'],
  ['.pl', 'perl'],
]);

export type SourceEntry =
  | { kind: 'source'; path: string; language: AnalyzerLanguage }
  | { kind: 'unsupported'; path: string; language: string };

export interface WalkOptions {
  /** Directory names not to descend into (replaces the default set). */
  skipDirs?: ReadonlySet<string>;
}

/**
 * Walks the directories depth first and yields source files and unsupported-language files, in a
 * stable order (names sorted per directory) so that analysis output does not depend on the file
 * system. Nothing is read but directory listings, one directory per level of depth at a time, so
 * memory stays bounded on very large trees. Symbolic links to directories are not followed (they
 * can form cycles and usually point into trees walked anyway); links to files are classified.
 *
 * @throws InputError naming the path when a directory cannot be listed (missing, not a directory,
 *   no permission).
 */
export async function* walkSourceFiles(roots: string | readonly string[], options: WalkOptions = {}): AsyncGenerator<SourceEntry> {
  const skip = options.skipDirs ?? DEFAULT_SKIP_DIRS;
  for (const root of typeof roots === 'string' ? [roots] : roots) {
    let info;
    try {
      info = await stat(root);
    } catch (err) {
      throw new InputError(`cannot read source directory: ${describe(err)}`, root);
    }
    if (!info.isDirectory()) throw new InputError('not a directory', root);
    yield* walkDir(root, skip);
  }
}

async function* walkDir(dir: string, skip: ReadonlySet<string>): AsyncGenerator<SourceEntry> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new InputError(`cannot list directory: ${describe(err)}`, dir);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      // Classify a link by its target, but never descend through one.
      const target = await stat(full).catch(() => undefined);
      isDir = false;
      isFile = target?.isFile() ?? false;
    }
    if (isDir) {
      if (!skip.has(entry.name)) yield* walkDir(full, skip);
    } else if (isFile) {
      const classified = classifyFile(full);
      if (classified) yield classified;
    }
  }
}

/** A file's entry, or undefined for files that are not code (docs, configs, data). */
export function classifyFile(filePath: string): SourceEntry | undefined {
  const language = languageForPath(filePath);
  if (language) return { kind: 'source', path: filePath, language };
  const other = UNSUPPORTED_LANGUAGE_EXTENSIONS.get(path.extname(filePath).toLowerCase());
  return other ? { kind: 'unsupported', path: filePath, language: other } : undefined;
}

/**
 * Reads one source file as UTF-8 text.
 * @throws InputError naming the path when it cannot be read.
 */
export async function readSourceFile(filePath: string): Promise<string> {
  try {
    return await readFile(filePath, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read source file: ${describe(err)}`, filePath);
  }
}

export interface SourceInventory {
  /** Source files per language (counts only: the paths are streamed by walkSourceFiles). */
  counts: Partial<Record<AnalyzerLanguage, number>>;
  /** Files in languages the analyzer does not parse, to warn about. */
  unsupported: { path: string; language: string }[];
}

/** Counts the source files under the roots by language and lists the unsupported ones. */
export async function inventorySourceFiles(roots: string | readonly string[], options: WalkOptions = {}): Promise<SourceInventory> {
  const inventory: SourceInventory = { counts: {}, unsupported: [] };
  for await (const entry of walkSourceFiles(roots, options)) {
    if (entry.kind === 'source') inventory.counts[entry.language] = (inventory.counts[entry.language] ?? 0) + 1;
    else inventory.unsupported.push({ path: entry.path, language: entry.language });
  }
  return inventory;
}

// Node's fs messages already carry the code and the path ("ENOENT: no such file or directory, ...").
function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

