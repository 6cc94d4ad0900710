// The code blocks of README.md and docs/*.md, so tests can hold the documentation to what the code
// does: TypeScript/JavaScript blocks are compiled and run (package.test.ts), shell blocks' slimtrace
// commands are checked against the CLI's real commands and flags (docs.test.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CodeBlock {
  /** A file-name-safe id: the document and the line the block starts on ("docs-sampling-md-333"). */
  id: string;
  /** Where it is, for messages ("docs/sampling.md:333"). */
  source: string;
  language: string;
  code: string;
}

const CODE_LANGUAGES = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs']);
const SHELL_LANGUAGES = new Set(['sh', 'bash', 'shell', 'console']);

/** README.md and every Markdown file under docs/, relative to the repository root. */
export function documents(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

/** Every fenced block of the documents, with its info-string language ('' when it has none). */
export function codeBlocks(root: string): CodeBlock[] {
  const out: CodeBlock[] = [];
  for (const doc of documents(root)) {
    const lines = readFileSync(join(root, doc), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const open = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/.exec(lines[i]!);
      if (!open) continue;
      const fence = open[2]!;
      const start = i;
      const body: string[] = [];
      for (i++; i < lines.length && !lines[i]!.trimStart().startsWith(fence); i++) body.push(lines[i]!);
      out.push({
        id: `${doc.replace(/[^A-Za-z0-9]+/g, '-')}-${start + 1}`,
        source: `${doc}:${start + 1}`,
        language: open[3]!.toLowerCase(),
        code: body.join('\n') + '\n',
      });
    }
  }
  return out;
}

/** The TypeScript/JavaScript blocks: programs a reader may paste and run. */
export function docSnippets(root: string): CodeBlock[] {
  return codeBlocks(root).filter((b) => CODE_LANGUAGES.has(b.language));
}

/** The shell blocks. */
export function shellBlocks(root: string): CodeBlock[] {
  return codeBlocks(root).filter((b) => SHELL_LANGUAGES.has(b.language));
}
