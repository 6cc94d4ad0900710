// How the CLI ends: a user's mistake (InputError, bad flags) is one line on stderr and exit code 2;
// anything else is a bug in slimtrace and keeps its stack trace so it can be reported.
import { InputError } from '../model/index.js';

export const EXIT_USAGE = 2;
export const EXIT_BUG = 70; // EX_SOFTWARE

/** Bad command-line usage (a flag value that cannot be right). */
export class UsageError extends InputError {
  override name = 'UsageError';
}

export function reportAndExit(e: unknown): never {
  if (e instanceof InputError) {
    process.stderr.write(`slimtrace: error: ${e.message}\n`);
    process.exit(EXIT_USAGE);
  }
  process.stderr.write(`slimtrace: internal error (please report it): ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(EXIT_BUG);
}
