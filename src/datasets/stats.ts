// Counters of one read, shared by the readers so a benchmark can say exactly what it was given:
// rows, kept spans, exact repeats (distinct spans = spans - duplicateRows), and what happened to
// every log record.

export interface ReadStats {
  /** Span files (or JSON documents) read. */
  files: number;
  /** Span rows (CSV) or span objects (JSON) seen, valid or not. */
  rows: number;
  /** Spans delivered in batches (every valid row, repeats included). */
  spans: number;
  /** Delivered spans whose row exactly repeats an earlier row: distinct spans = spans - duplicateRows. */
  duplicateRows: number;
  /** Rows skipped as defective (each reported as a warning). */
  skippedRows: number;
  /** Span ids that repeat with different content (kept; reported). */
  spanIdConflicts: number;
  /** Batches delivered. */
  batches: number;
  /** Log files read (nezha). */
  logFiles: number;
  /** Log records seen, salvaged ones included. */
  logRecords: number;
  /** Log records attached to a span as an event. */
  logRecordsAttached: number;
  /** Log records whose span was not found within the window (reported). */
  logRecordsUnmatched: number;
  /** Log records skipped as defective (reported). */
  logRecordsSkipped: number;
  /** Log records whose time came from the Timestamp column because TimeUnixNano was corrupt. */
  logTimeFallbacks: number;
}

export function emptyStats(): ReadStats {
  return {
    files: 0,
    rows: 0,
    spans: 0,
    duplicateRows: 0,
    skippedRows: 0,
    spanIdConflicts: 0,
    batches: 0,
    logFiles: 0,
    logRecords: 0,
    logRecordsAttached: 0,
    logRecordsUnmatched: 0,
    logRecordsSkipped: 0,
    logTimeFallbacks: 0,
  };
}

/** Resets `stats` in place (a source's `stats` object stays the same across reads). */
export function resetStats(stats: ReadStats): void {
  Object.assign(stats, emptyStats());
}
