// One entry point for trace inputs: `openTraceSource(path)` recognises what the path is (a dataset
// directory of either layout, a span CSV, a Zipkin or Jaeger JSON file) by looking at it, not at
// its name, and returns a source that can be read (streamed, as often as wanted) and describes
// itself, its warnings and, when it has labels, its ground truth.
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { InputError, countSpans, rebatch, type TracesData } from '../model/index.js';
import { readOtlpFile, type OtlpReadOptions } from '../otlp/index.js';
import { nonEmptyFileSize } from '../otlp/compressed.js';
import { readDataset, type DatasetReadOptions } from './dataset.js';
import {
  readCodeRegions,
  readFaultLists,
  readFaultySpans,
  type Fault,
  type GroundTruth,
} from './ground-truth.js';
import { fileError, readContentHead } from './input.js';
import { readJaegerFile } from './jaeger.js';
import { detectDatasetLayout, type DatasetKind, type DatasetLayout, type NezhaPart } from './layout.js';
import { LOG_CSV_COLUMNS } from './nezha-logs.js';
import { SPAN_CSV_COLUMNS, readSpanCsvFiles, type ReadContext } from './span-csv.js';
import { emptyStats, resetStats, type ReadStats } from './stats.js';
import { WarningLog, type DatasetWarning } from './warnings.js';
import { readZipkinFile } from './zipkin.js';

export type TraceSourceKind =
  | DatasetKind
  | 'span-csv'
  | 'zipkin-json'
  | 'jaeger-json'
  | 'otlp-json'
  | 'otlp-protobuf';

export interface TraceSourceOptions extends DatasetReadOptions {
  /** Fail on the first defective row or span instead of skipping and reporting it. */
  strict?: boolean;
  /** nezha-trainticket: rca (fault windows, default), construct (fault-free) or all/both. */
  nezhaPart?: NezhaPart;
  /** Called with every warning as it happens. */
  onWarning?: (warning: DatasetWarning) => void;
  /** Warnings kept per code in `warnings.list` (all are counted). Default 100. */
  warningLimit?: number;
  /** Limits per request (DecodeLimits) and per file (ReadLimits); defaults real data never meets. */
  limits?: OtlpReadOptions;
}

export interface TraceSource {
  readonly kind: TraceSourceKind;
  readonly path: string;
  /** One line: what was recognised and what it holds (files, days, labels). */
  describe(): string;
  /**
   * Streams the input as OTLP batches (one per file, or `batchSpans` spans each). Each call reads
   * the input again from the start and resets `stats`.
   */
  batches(): AsyncIterable<TracesData>;
  /** Flaws reported while reading (they accumulate over reads and ground-truth loads). */
  readonly warnings: WarningLog;
  /** Counters of the current or last read. */
  readonly stats: ReadStats;
  /** Span files read so far of the current read, and how many there are. */
  progress(): { done: number; total: number };
  /** True when the input comes with fault labels. */
  readonly hasGroundTruth: boolean;
  /** Faults, faulty spans and code regions (loaded once, on first call); undefined without labels. */
  groundTruth(): Promise<GroundTruth | undefined>;
}

/** What a file holds, judged from its first bytes (decompressed when gzip). */
export type FileFormat = 'span-csv' | 'log-csv' | 'zipkin-json' | 'jaeger-json' | 'otlp-json' | 'otlp-protobuf';

const SNIFF_BYTES = 64 * 1024;

export async function sniffFileFormat(path: string): Promise<FileFormat | undefined> {
  const head = await readContentHead(path, SNIFF_BYTES);
  let text = head.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const start = text.trimStart();
  if (start.startsWith('[')) {
    if (/"resourceSpans"|"resource_spans"/.test(text)) return 'otlp-json';
    if (/^\[\s*(\]|\{)/.test(start) && (/^\[\s*\]/.test(start) || /"traceId"\s*:/.test(text))) return 'zipkin-json';
    if (/"traceID"\s*:/.test(text) && /"spans"\s*:/.test(text)) return 'jaeger-json';
    return undefined;
  }
  if (start.startsWith('{')) {
    if (/"resourceSpans"|"resource_spans"/.test(text)) return 'otlp-json';
    if (/"spans"\s*:/.test(text) && (/"traceID"\s*:/.test(text) || /^\{\s*"data"\s*:/.test(start))) return 'jaeger-json';
    return undefined;
  }
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  const header = firstLine.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
  if (SPAN_CSV_COLUMNS.every((c) => header.includes(c))) return 'span-csv';
  if (LOG_CSV_COLUMNS.every((c) => header.includes(c))) return 'log-csv';
  const lower = path.toLowerCase();
  if (/\.(pb|binpb|otlp|protobuf)(\.(gz|zst|zstd))?$/.test(lower)) return 'otlp-protobuf';
  // A serialized TracesData starts with field 1 (resource_spans, length-delimited): tag byte 0x0a.
  if (head.length > 0 && head[0] === 0x0a && head.includes(0)) return 'otlp-protobuf';
  // Other binary content is most likely size-delimited OTLP protobuf under another name; reading it
  // as such either works or ends in a decode error that names the file.
  if (head.includes(0)) return 'otlp-protobuf';
  return undefined;
}

function contextFor(options: TraceSourceOptions, warnings: WarningLog, stats: ReadStats): ReadContext {
  return { warnings, stats, strict: options.strict ?? false, limits: options.limits };
}

function checkBatchSpans(n: number | undefined): void {
  if (n !== undefined && (!Number.isInteger(n) || n < 1)) throw new RangeError(`batchSpans must be a positive integer, got ${n}`);
}

/**
 * Opens a trace input: a dataset directory (trastrainer-trainticket or nezha-trainticket layout), a
 * span CSV(.gz), or a Zipkin v2 / Jaeger JSON file (plain or gzip). Throws InputError for a missing
 * path and for anything it does not recognise.
 */
export async function openTraceSource(path: string, options: TraceSourceOptions = {}): Promise<TraceSource> {
  checkBatchSpans(options.batchSpans);
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    throw fileError(err, path);
  }
  const warnings = new WarningLog({ limitPerCode: options.warningLimit, onWarning: options.onWarning });
  if (isDir) {
    const layout = await detectDatasetLayout(path, { nezhaPart: options.nezhaPart, warnings });
    if (!layout) {
      throw new InputError(
        'unrecognised dataset directory: expected trace/ (trastrainer-trainticket) or rca_data/ and construct_data/ (nezha-trainticket)',
        path,
      );
    }
    return datasetSource(layout, options, warnings);
  }
  await nonEmptyFileSize(path);
  const format = await sniffFileFormat(path);
  switch (format) {
    case 'span-csv':
      return spanCsvSource([path], options, warnings);
    case 'zipkin-json':
      return wholeFileSource('zipkin-json', path, options, warnings, readZipkinFile, 'Zipkin v2 JSON');
    case 'jaeger-json':
      return wholeFileSource('jaeger-json', path, options, warnings, readJaegerFile, 'Jaeger JSON');
    case 'log-csv':
      throw new InputError(
        'a nezha log CSV holds log records, not spans: open the dataset directory to read spans with their logs attached',
        path,
      );
    case 'otlp-json':
    case 'otlp-protobuf':
      return otlpFileSource(path, format, options, warnings);
    case undefined:
      throw new InputError(
        'unrecognised input format: expected a dataset directory, a span CSV (TraceID,SpanID,ParentID,…), Zipkin v2 JSON or Jaeger JSON',
        path,
      );
  }
}

/** Reads several span CSV(.gz) files in the given order as one source. */
export function openSpanCsvFiles(paths: readonly string[], options: TraceSourceOptions = {}): TraceSource {
  checkBatchSpans(options.batchSpans);
  return spanCsvSource(paths, options, new WarningLog({ limitPerCode: options.warningLimit, onWarning: options.onWarning }));
}

function spanCsvSource(paths: readonly string[], options: TraceSourceOptions, warnings: WarningLog): TraceSource {
  const stats = emptyStats();
  return {
    kind: 'span-csv',
    path: paths.length === 1 ? paths[0]! : paths.join(', '),
    describe: () => (paths.length === 1 ? `span CSV ${paths[0]}` : `${paths.length} span CSV files`),
    batches() {
      resetStats(stats);
      return readSpanCsvFiles(paths, contextFor(options, warnings, stats), options.batchSpans);
    },
    warnings,
    stats,
    progress: () => ({ done: stats.files, total: paths.length }),
    hasGroundTruth: false,
    groundTruth: async () => undefined,
  };
}

function wholeFileSource(
  kind: TraceSourceKind,
  path: string,
  options: TraceSourceOptions,
  warnings: WarningLog,
  read: (path: string, ctx: ReadContext) => Promise<TracesData>,
  what: string,
): TraceSource {
  const stats = emptyStats();
  return {
    kind,
    path,
    describe: () => `${what} file ${path}`,
    batches() {
      resetStats(stats);
      const ctx = contextFor(options, warnings, stats);
      async function* one(): AsyncGenerator<TracesData> {
        const data = await read(path, ctx);
        if (data.resourceSpans.length > 0) yield data;
      }
      return options.batchSpans === undefined ? one() : rebatch(one(), options.batchSpans);
    },
    warnings,
    stats,
    progress: () => ({ done: stats.files, total: 1 }),
    hasGroundTruth: false,
    groundTruth: async () => undefined,
  };
}

/** An OTLP protobuf (single or size-delimited) or OTLP/JSON (single or JSON Lines) file, read by src/otlp. */
function otlpFileSource(path: string, format: 'otlp-json' | 'otlp-protobuf', options: TraceSourceOptions, warnings: WarningLog): TraceSource {
  const stats = emptyStats();
  const otlpFormat = format === 'otlp-json' ? 'otlp-json' : 'otlp-proto';
  return {
    kind: format,
    path,
    describe: () => `${format === 'otlp-json' ? 'OTLP/JSON' : 'OTLP protobuf'} file ${path}`,
    batches() {
      resetStats(stats);
      async function* read(): AsyncGenerator<TracesData> {
        for await (const data of readOtlpFile(path, otlpFormat, options.limits)) {
          stats.spans += countSpans(data);
          yield data;
        }
        stats.files = 1;
      }
      return options.batchSpans === undefined ? read() : rebatch(read(), options.batchSpans);
    },
    warnings,
    stats,
    progress: () => ({ done: stats.files, total: 1 }),
    hasGroundTruth: false,
    groundTruth: async () => undefined,
  };
}

function describeLayout(layout: DatasetLayout, withLogs: boolean): string {
  const spanFiles = layout.minutes.filter((m) => m.traceFile).length;
  const logFiles = layout.minutes.filter((m) => m.logFile).length;
  const days = [...new Set(layout.minutes.map((m) => m.day))].filter((d) => d !== '');
  const first = layout.minutes[0];
  const last = layout.minutes[layout.minutes.length - 1];
  const when = (m: typeof first) => (m ? `${m.day ? `${m.day} ` : ''}${m.minute.replace('_', ':')}` : '');
  const parts = layout.parts.filter((p) => p !== '');
  const labels = [
    layout.faultLists.length > 0 ? `${layout.faultLists.length === 1 ? basename(layout.faultLists[0]!) : `${layout.faultLists.length} fault lists`}` : undefined,
    layout.faultySpans ? 'labels/faulty_spans.csv' : undefined,
    layout.rootCauses ? basename(layout.rootCauses) : undefined,
  ].filter((x) => x !== undefined);
  return (
    `${layout.kind} dataset at ${layout.root}${parts.length > 0 ? ` (${parts.join(' + ')})` : ''}: ` +
    `${spanFiles} span files${days.length > 1 ? ` over ${days.length} days` : ''}` +
    (first ? `, ${when(first)} … ${when(last)}` : '') +
    (logFiles > 0 ? `, ${logFiles} log files${withLogs ? ' (attached as span events)' : ' (not read)'}` : '') +
    `; labels: ${labels.length > 0 ? labels.join(', ') : 'none'}`
  );
}

function datasetSource(layout: DatasetLayout, options: TraceSourceOptions, warnings: WarningLog): TraceSource {
  const stats = emptyStats();
  const total = layout.minutes.filter((m) => m.traceFile).length;
  const withLogs = (options.logs ?? true) && layout.minutes.some((m) => m.logFile);
  const hasGroundTruth = layout.faultLists.length > 0 || layout.faultySpans !== undefined;
  let truth: Promise<GroundTruth | undefined> | undefined;
  const loadTruth = async (): Promise<GroundTruth | undefined> => {
    if (!hasGroundTruth) return undefined;
    const faults: Fault[] = await readFaultLists(layout.faultLists, warnings);
    const faultySpans = layout.faultySpans ? await readFaultySpans(layout.faultySpans, warnings, faults.length > 0 ? faults : undefined) : undefined;
    const codeRegions = layout.rootCauses ? await readCodeRegions(layout.rootCauses) : undefined;
    return { faults, faultySpans, codeRegions };
  };
  return {
    kind: layout.kind,
    path: layout.root,
    describe: () => describeLayout(layout, withLogs),
    batches() {
      resetStats(stats);
      return readDataset(layout, contextFor(options, warnings, stats), options);
    },
    warnings,
    stats,
    progress: () => ({ done: stats.files, total }),
    hasGroundTruth,
    groundTruth() {
      truth ??= loadTruth();
      return truth;
    },
  };
}
