// Streaming CSV for the dataset readers: file -> (gunzip) -> csv-parse, one record at a time, each
// with the line it ends on, so memory stays bounded and every report names file and line. Rows that
// are not valid CSV are a data flaw (skip and report, or salvage the record they contain); a
// missing column or a damaged gzip stream is a wrong input (InputError).
import { pipeline } from 'node:stream';
import { CsvError, Parser, type Options } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { InputError } from '../model/index.js';
import { fileError, gzipError, openByteStages } from './input.js';
import { ReadLimitError, nonEmptyFileSize, resolveReadLimits, type ReadLimits } from '../otlp/compressed.js';
import type { WarningLog } from './warnings.js';

/** One CSV record: its fields and the (1-based) line it ends on. */
export type CsvRow = readonly [fields: string[], line: number];

export interface CsvReadOptions {
  warnings: WarningLog;
  /** Fail on the first row that is not valid CSV instead of skipping and reporting it. */
  strict?: boolean;
  /**
   * Recover the complete record at the start of a row that is not valid CSV (a record with text
   * glued after its closing quote). Costs a raw copy of every row, so only the log reader asks.
   */
  salvage?: boolean;
  /** Largest record, and the decompression limits (ReadLimits, src/otlp/compressed.ts). */
  limits?: ReadLimits;
}

/**
 * csv-parse pushes each record synchronously while its `info.lines` still describes that record;
 * tagging the record with it there costs one small array, where `info: true` costs a copy of the
 * whole info object per record (~25% slower on the span files).
 *
 * Broken quoting: csv-parse's own recovery (skip_records_with_error) stays inside the broken
 * quote and can swallow the rest of the file, so the reader parses with relax_quotes, which keeps
 * records on their lines and leaves a broken field starting with the quote character. No field of
 * the datasets' formats starts with a quote (ids, numbers, names, JSON), so such a row is known to
 * be broken: it is skipped, or, when salvaging, re-parsed strictly to recover the complete record
 * at its start.
 */
class LineTaggingParser extends Parser {
  /** Field count of the first record (the header), which a salvaged record must match. */
  width = -1;

  constructor(
    options: Options,
    private readonly path: string,
    private readonly warnings: WarningLog,
    private readonly salvage: boolean,
  ) {
    super(options);
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null) return super.push(null, encoding);
    let fields: string[];
    let raw: string | undefined;
    if (Array.isArray(chunk)) fields = chunk as string[];
    else ({ record: fields, raw } = chunk as { record: string[]; raw?: string });
    const line = this.info.lines;
    if (this.width < 0) this.width = fields.length;
    else if (hasBrokenQuote(fields)) {
      const repaired = this.repair(raw, line);
      if (repaired === undefined) return true;
      fields = repaired;
    }
    return super.push([fields, line] satisfies CsvRow, encoding);
  }

  private repair(raw: string | undefined, line: number): string[] | undefined {
    const prefix = this.salvage && raw !== undefined ? leadingValidRecord(raw) : undefined;
    const record = prefix === undefined ? undefined : parseOne(prefix, this.width);
    if (record === undefined) {
      this.warnings.add('malformed-csv', 'not valid CSV (text after a closing quote); row skipped', this.path, line);
      return undefined;
    }
    const dropped = raw!.replace(/\r?\n$/, '').length - prefix!.length;
    this.warnings.add(
      'malformed-csv',
      `not valid CSV (text after a closing quote): kept the complete record the line starts with, dropped the ${dropped} characters after it`,
      this.path,
      line,
    );
    return record;
  }
}

function hasBrokenQuote(fields: readonly string[]): boolean {
  for (let i = 0; i < fields.length; i++) if (fields[i]!.charCodeAt(0) === 34 /* " */) return true;
  return false;
}

/** The raw text of the strictly valid record a broken line starts with (up to its closing quote). */
function leadingValidRecord(raw: string): string | undefined {
  let prefix: string | undefined;
  try {
    parseSync(raw, {
      relax_column_count: true,
      skip_records_with_error: true,
      raw: true,
      on_skip: (_err, text) => {
        prefix ??= text;
        return undefined;
      },
    });
  } catch {
    return undefined;
  }
  return prefix;
}

/** The single record of `text` when it has `width` fields. */
function parseOne(text: string, width: number): string[] | undefined {
  try {
    const records = parseSync(text, { relax_column_count: true }) as string[][];
    return records.length === 1 && records[0]!.length === width ? records[0] : undefined;
  } catch {
    return undefined;
  }
}

function shortCsvMessage(err: CsvError): string {
  const m = err.message.replace(/ instead of delimiter.*$/, '');
  return m.length > 160 ? `${m.slice(0, 160)}…` : m;
}

/** Every record of a CSV(.gz) file, the header included. */
export async function* csvRows(path: string, options: CsvReadOptions): AsyncGenerator<CsvRow> {
  const { warnings, strict = false, salvage = false } = options;
  const limits = resolveReadLimits(options.limits);
  await nonEmptyFileSize(path); // "<path> is empty", the rule for every input
  const stages = await openByteStages(path, options.limits);
  const csvOptions: Options = {
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true, // field counts are checked by the readers, which report per row
    relax_quotes: !strict,
    skip_records_with_error: !strict,
    raw: salvage && !strict,
    // A record with no end (one 600 MB line) stops here instead of at V8's string limit.
    max_record_size: limits.maxRecordBytes,
  };
  const parser = new LineTaggingParser(csvOptions, path, warnings, salvage);
  // What relax_quotes cannot absorb (a quote left open at the end of the file) is skipped here.
  parser.on('skip', (err: CsvError | undefined) => {
    if (err?.code === 'CSV_MAX_RECORD_SIZE') {
      // Not a flaw to skip: a record with no end would be read to the end of the file.
      parser.destroy(new ReadLimitError('maxRecordBytes', limits.maxRecordBytes, `line ${parser.info.lines}: a CSV record longer than ${limits.maxRecordBytes} characters`, path));
      return;
    }
    const line = typeof err?.lines === 'number' ? err.lines : parser.info.lines;
    warnings.add('malformed-csv', `not valid CSV (${err ? shortCsvMessage(err) : 'invalid CSV'}); row skipped`, path, line);
  });
  // Errors of every stage end up on the parser (pipeline destroys it with them), so the loop below
  // sees them; the callback only keeps them from being reported as unhandled.
  pipeline([...stages, parser], () => {});
  let line = 0;
  try {
    for await (const row of parser as AsyncIterable<CsvRow>) {
      line = row[1];
      yield row;
    }
  } catch (err) {
    throw toInputError(err, path, line, limits);
  }
}

function toInputError(err: unknown, path: string, line: number, limits: Required<ReadLimits>): Error {
  if (err instanceof InputError && err.source === path) {
    // Damage in the compressed stream: say how much of the file is sound.
    const detail = err.message.slice(path.length + 2);
    if (/^(truncated|corrupt) (gzip|zstd) data/.test(detail)) {
      const located = detail.startsWith('truncated') ? `${detail} after line ${line}` : detail.replace(/^(corrupt \w+ data)/, `$1 after line ${line}`);
      return new InputError(located, path);
    }
  }
  if (err instanceof InputError) return err;
  const gz = gzipError(err, path, line);
  if (gz) return gz;
  if (err instanceof CsvError && err.code === 'CSV_MAX_RECORD_SIZE') {
    return new ReadLimitError('maxRecordBytes', limits.maxRecordBytes, `line ${line + 1}: a CSV record longer than ${limits.maxRecordBytes} characters`, path);
  }
  if (err instanceof CsvError) {
    const at = typeof err.lines === 'number' ? err.lines : line + 1;
    return new InputError(`line ${at}: invalid CSV: ${shortCsvMessage(err)}`, path);
  }
  return fileError(err, path);
}

/** Column name -> index, from a header row. */
export type ColumnIndex = Readonly<Record<string, number>>;

export interface CsvTable {
  columns: ColumnIndex;
  /** The header's field count: rows of another width are a data flaw. */
  width: number;
  rows: AsyncGenerator<CsvRow>;
}

/**
 * Opens a CSV file whose header must name `required` columns (in any order). Columns it does not
 * know (neither required nor `optional`) are reported once, since the reader will not carry them.
 */
export async function openCsvTable(
  path: string,
  what: string,
  required: readonly string[],
  optional: readonly string[],
  options: CsvReadOptions,
): Promise<CsvTable> {
  const rows = csvRows(path, options);
  const first = await rows.next();
  if (first.done) throw new InputError(`empty file: expected a ${what} header (${required.join(',')})`, path);
  const header = first.value[0];
  const columns: Record<string, number> = {};
  header.forEach((name, i) => {
    if (!(name in columns)) columns[name] = i;
  });
  const missing = required.filter((c) => !(c in columns));
  if (missing.length > 0) {
    await rows.return(undefined);
    const shown = header.join(',');
    throw new InputError(
      `line ${first.value[1]}: not a ${what}: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (header: ${shown.length > 200 ? `${shown.slice(0, 200)}…` : shown})`,
      path,
    );
  }
  const extra = header.filter((c) => !required.includes(c) && !optional.includes(c));
  if (extra.length > 0) options.warnings.add('ignored-input', `column${extra.length > 1 ? 's' : ''} ${extra.join(', ')} not read`, path, first.value[1]);
  return { columns, width: header.length, rows };
}
