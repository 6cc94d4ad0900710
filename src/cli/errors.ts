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

export function reportAndExit(e: unknown): never {
  // A missing optional grammar is the installation's state, not a bug: one line that says what to install.
  if (e instanceof InputError || e instanceof GrammarLoadError) {
    process.stderr.write(`slimtrace: error: ${e.message}\n`);
    process.exit(EXIT_USAGE);
  }
  process.stderr.write(`slimtrace: internal error (please report it): ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(EXIT_BUG);
}
