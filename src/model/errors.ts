// The error every room throws for bad input, so the CLI can tell a user's mistake (one clear line,
// non-zero exit) from a bug (a stack trace worth reporting).

/** Bad input: a missing file, a wrong format, truncated or corrupt data. Never a bug in slimtrace. */
export class InputError extends Error {
  override name = 'InputError';
  constructor(
    message: string,
    /** The file (or stream) the problem is in, when known. */
    public readonly source?: string,
  ) {
    super(source ? `${source}: ${message}` : message);
  }
}
