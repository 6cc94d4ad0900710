// Flaws found in real data are reported, not thrown: a reader skips or repairs the one row and
// records what it did here, so a run over a million spans survives one bad line and the user still
// learns about it. Wrong formats (a missing column, a truncated gzip) are thrown as InputError.

/** What kind of flaw a warning reports; each says what the reader did about it. */
export type WarningCode =
  /** A span or log row was skipped: wrong field count, bad id, non-numeric time. */
  | 'bad-row'
  /** A row was not valid CSV; its complete record was salvaged, or it was skipped. */
  | 'malformed-csv'
  /** Kept: the Duration column disagrees with EndTimeUnixNano - StartTimeUnixNano. */
  | 'duration-mismatch'
  /** Kept: a span id repeats with content different from its earlier row. */
  | 'span-id-conflict'
  /** A log row's TimeUnixNano is corrupt; the event time was taken from its Timestamp column. */
  | 'log-time-fallback'
  /** A log record found no span within the look-back window; it was not attached. */
  | 'log-unmatched'
  /** Something in the input was ignored: an extra column, a stray file, an unknown label value. */
  | 'ignored-input'
  /** Ground-truth files disagree with each other or with themselves (kept as read). */
  | 'label-mismatch'
  /** A foreign format (Zipkin, Jaeger) bent its own rules; the value was converted leniently. */
  | 'lenient-conversion';

export interface DatasetWarning {
  code: WarningCode;
  message: string;
  /** The file the flaw is in, when there is one. */
  file?: string;
  /** 1-based line (CSV) of the flaw, when known. */
  line?: number;
}

export function formatWarning(w: DatasetWarning): string {
  const where = w.file === undefined ? '' : w.line === undefined ? `${w.file}: ` : `${w.file}:${w.line}: `;
  return `${where}${w.message} [${w.code}]`;
}

export interface WarningLogOptions {
  /** How many warnings of each code are kept in `list`; all are counted. Default 100. */
  limitPerCode?: number;
  /** Called with every warning as it happens (also those beyond the limit). */
  onWarning?: (warning: DatasetWarning) => void;
}

/**
 * Collects warnings of a read. Keeps a bounded sample per code (a corrupt file could otherwise
 * produce one warning per row) and exact counts.
 */
export class WarningLog {
  private readonly kept: DatasetWarning[] = [];
  private readonly byCode = new Map<WarningCode, number>();
  private readonly limit: number;
  private readonly onWarning: ((warning: DatasetWarning) => void) | undefined;

  constructor(options: WarningLogOptions = {}) {
    this.limit = options.limitPerCode ?? 100;
    this.onWarning = options.onWarning;
  }

  add(code: WarningCode, message: string, file?: string, line?: number): void {
    const w: DatasetWarning = { code, message, file, line };
    const n = (this.byCode.get(code) ?? 0) + 1;
    this.byCode.set(code, n);
    if (n <= this.limit) this.kept.push(w);
    this.onWarning?.(w);
  }

  /** The kept warnings, in the order they happened (at most `limitPerCode` per code). */
  get list(): readonly DatasetWarning[] {
    return this.kept;
  }

  /** Exact count per code. */
  get counts(): ReadonlyMap<WarningCode, number> {
    return this.byCode;
  }

  count(code: WarningCode): number {
    return this.byCode.get(code) ?? 0;
  }

  get total(): number {
    let n = 0;
    for (const c of this.byCode.values()) n += c;
    return n;
  }

  /** One line per code: its count and the first occurrence. */
  summary(): string[] {
    const out: string[] = [];
    for (const [code, n] of this.byCode) {
      const first = this.kept.find((w) => w.code === code);
      out.push(`${code}: ${n}${first ? ` (first: ${formatWarning(first)})` : ''}`);
    }
    return out;
  }

  clear(): void {
    this.kept.length = 0;
    this.byCode.clear();
  }
}
