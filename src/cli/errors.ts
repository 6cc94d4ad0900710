// How the CLI ends: a user's mistake (InputError, bad flags) is one line on stderr and exit code 2;
// anything else is a bug in slimtrace and keeps its stack trace so it can be reported.
import { GrammarLoadError } from '../analyzer/index.js';
import { InputError } from '../model/index.js';

export const EXIT_USAGE = 2;
export const EXIT_BUG = 70; // EX_SOFTWARE

/** Bad command-line usage (a flag value that cannot be right). */
export class UsageError extends InputError {
  override name = 'UsageError';
}

/**
 * File-system failures that are the user's environment, not a bug: a reader or writer that did not
 * turn one into an InputError still ends in one line naming the path.
 */
const FILE_SYSTEM_PROBLEMS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'name too long',
};

function fileSystemProblem(e: unknown): string | undefined {
  const err = e as NodeJS.ErrnoException | undefined;
  if (!(err instanceof Error) || typeof err.path !== 'string' || err.code === undefined) return undefined;
  const problem = FILE_SYSTEM_PROBLEMS[err.code];
  return problem && `${err.path}: ${problem}`;
}

export function reportAndExit(e: unknown): never {
  // A missing optional grammar is the installation's state, not a bug: one line that says what to install.
  const line = e instanceof InputError || e instanceof GrammarLoadError ? e.message : fileSystemProblem(e);
  if (line !== undefined) {
    process.stderr.write(`slimtrace: error: ${line}\n`);
    process.exit(EXIT_USAGE);
  }
  process.stderr.write(`slimtrace: internal error (please report it): ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(EXIT_BUG);
}
