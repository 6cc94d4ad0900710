// Turns what the user named on the command line into a stream of trace batches: a dataset
// directory or file of any supported format, or, when nothing is named, the embedded traffic
// generator. Every command reads its input through here, so they all accept the same things.
import { generatedInput, rcaFaultsFromDataset, type RcaFault } from '../eval/index.js';
import { FAULT_DEFINITIONS, FaultySpans, openTraceSource, readFaultySpans, WarningLog } from '../datasets/index.js';
import { openCsvTable } from '../datasets/csv.js';
import { open, stat } from 'node:fs/promises';
import { InputError, countSpans, type TracesData } from '../model/index.js';
import type { OtlpReadOptions } from '../otlp/index.js';
import { emptyFileError } from '../otlp/compressed.js';
import { createProgress } from './progress.js';
import { looksLikeTracezip, readTracezipFile } from '../tracezip/index.js';

export interface TraceInput {
  /** What was opened, for summaries ("trastrainer-trainticket dataset, 741 span files"). */
  description: string;
  batches(): AsyncIterable<TracesData>;
  /** Units of work done and total (files, bytes), for the progress bar; undefined when unknown. */
  progress(): { done: number; total: number } | undefined;
  /** Defects found in the input that were reported and skipped (real data has flaws), one line each. */
  warnings(): string[];
  /** Ground truth of injected faults, when the input has labels (call after batches() was consumed). */
  faults?(): Promise<FaultSummary | undefined>;
  /**
   * Per-span fault labels for evaluations. Generated traffic fills them as its batches stream, so
   * they are complete once batches() is consumed; a dataset reads its label file.
   */
  labels?(): Promise<FaultLabels | undefined>;
  /** The injected faults as root-cause cases (service + window), known before the batches are read. */
  rcaFaults?(): Promise<RcaFault[] | undefined>;
}

export interface FaultLabels {
  faultySpans: FaultySpans;
  /** fault id -> fault type (complete once batches() is consumed). */
  faultTypes: () => ReadonlyMap<string, string>;
}

export interface FaultSummary {
  faults: number;
  byType: Record<string, number>;
  /** Faulty spans per definition (exact, slow, proxy). */
  faultySpans: Record<string, number>;
}

function countBy<T>(items: Iterable<T>, key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of items) out[key(t)] = (out[key(t)] ?? 0) + 1;
  return out;
}

export interface InputOptions {
  seed?: number;
  traces?: number;
  /** The embedded topology of generated traffic (default `default`). */
  topology?: string;
  datasetPart?: 'rca' | 'construct' | 'all';
  /** What reading the input may spend (defaults when absent). */
  limits?: OtlpReadOptions;
}

export async function openInput(path: string | undefined, options: InputOptions = {}): Promise<TraceInput> {
  if (path === undefined) return openGenerated(options);
  await rejectEmptyFile(path);
  const input = (await isTracezipFile(path)) ? openTracezip(path) : await openDataset(path, options);
  const batches = input.batches.bind(input);
  return { ...input, batches: () => requireSpans(path, batches()) };
}

/** One rule for every input the CLI reads: a zero-byte file is an error naming it. */
async function rejectEmptyFile(path: string): Promise<void> {
  let s;
  try {
    s = await stat(path);
  } catch {
    return; // a missing path: the reader names the problem
  }
  if (s.isFile() && s.size === 0) throw emptyFileError(path);
}

/**
 * An input that holds no span at all is an error too: reporting "0 spans" and exit 0 would hide a
 * wrong file (issue 15). Checked as the batches stream, so it costs nothing.
 */
async function* requireSpans(path: string, batches: AsyncIterable<TracesData>): AsyncGenerator<TracesData> {
  let spans = 0;
  for await (const batch of batches) {
    spans += countSpans(batch);
    yield batch;
  }
  if (spans === 0) throw new InputError('holds no spans', path);
}

async function isTracezipFile(path: string): Promise<boolean> {
  try {
    const fh = await open(path, 'r');
    try {
      const head = Buffer.alloc(3);
      const { bytesRead } = await fh.read(head, 0, 3, 0);
      // A .tzip too short to show its magic (empty, or cut inside the first header) is still read as
      // Tracezip, so the error says "is empty" or "truncated" rather than "unknown format".
      if (bytesRead < 3 && path.endsWith('.tzip')) return true;
      return looksLikeTracezip(head.subarray(0, bytesRead));
    } finally {
      await fh.close();
    }
  } catch {
    return false; // a directory or a missing path: openTraceSource names the problem
  }
}

function openTracezip(path: string): TraceInput {
  return {
    description: `Tracezip file ${path}`,
    batches: () => readTracezipFile(path),
    progress: () => undefined,
    warnings: () => [],
  };
}

function openGenerated(options: InputOptions): TraceInput {
  const traces = options.traces ?? 2000;
  let done = 0;
  // The demo's generated input (eval/demo.ts): one place that streams the traffic with its labels.
  const input = generatedInput(options.seed ?? 1, traces, (tracesDone) => (done = tracesDone), options.topology);
  return {
    description: input.description,
    batches: input.batches,
    progress: () => ({ done, total: traces }),
    warnings: () => [],
    faults: async () => {
      const f = await input.faults();
      if (!f) return undefined;
      const faultySpans: Record<string, number> = {};
      for (const d of FAULT_DEFINITIONS) {
        const n = input.labels.faultySpans.pairs(d);
        if (n > 0) faultySpans[d] = n;
      }
      return { ...f, faultySpans };
    },
    labels: async () => input.labels,
    rcaFaults: async () => input.rcaFaults,
  };
}

async function openDataset(path: string, options: InputOptions): Promise<TraceInput> {
  const source = await openTraceSource(path, { nezhaPart: options.datasetPart === 'all' ? 'all' : options.datasetPart, limits: options.limits });
  return {
    description: source.describe(),
    batches: () => source.batches(),
    progress: () => source.progress(),
    warnings: () => source.warnings.summary(),
    faults: async () => {
      const truth = await source.groundTruth();
      if (!truth) return undefined;
      const faultySpans: Record<string, number> = {};
      if (truth.faultySpans) for (const d of FAULT_DEFINITIONS) faultySpans[d] = truth.faultySpans.pairs(d);
      return { faults: truth.faults.length, byType: countBy(truth.faults, (f) => f.type), faultySpans };
    },
    labels: async () => {
      const truth = await source.groundTruth();
      if (!truth?.faultySpans) return undefined;
      const types = new Map(truth.faults.map((f) => [f.id, f.type as string]));
      return { faultySpans: truth.faultySpans, faultTypes: () => types };
    },
    rcaFaults: async () => {
      const truth = await source.groundTruth();
      return truth && truth.faults.length > 0 ? rcaFaultsFromDataset(truth.faults) : undefined;
    },
  };
}

/**
 * Fault labels from a faulty-spans CSV named on the command line (what `generate --ground-truth`
 * writes, or a dataset's labels/faulty_spans.csv), read by the datasets' own reader; the fault
 * types come from its inject_type column. Returns the label file's warnings too.
 */
export async function readLabelFile(path: string): Promise<{ labels: FaultLabels; warnings: string[] }> {
  const log = new WarningLog();
  const faultySpans = await readFaultySpans(path, log);
  const types = new Map<string, string>();
  // A second pass for the types only: its row flaws were reported by the first.
  const table = await openCsvTable(path, 'faulty-spans CSV', ['fault_id', 'inject_type'], [], { warnings: new WarningLog() });
  const id = table.columns.fault_id!;
  const type = table.columns.inject_type!;
  for await (const [f] of table.rows) {
    const fault = f[id];
    if (fault !== undefined && f[type] !== undefined && !types.has(fault)) types.set(fault, f[type]);
  }
  return { labels: { faultySpans, faultTypes: () => types }, warnings: log.summary() };
}

/** Input defects go to stderr: the first few, or all with --verbose. */
export function printWarnings(warnings: string[], all: boolean): void {
  const shown = all ? warnings : warnings.slice(0, 3);
  for (const w of shown) process.stderr.write(`slimtrace: warning: ${w}\n`);
  if (shown.length < warnings.length) process.stderr.write(`slimtrace: ${warnings.length - shown.length} more kinds of warning (--verbose lists them)\n`);
}

/**
 * Passes the batches on while the progress bar follows the input's own progress, for consumers that
 * pull (an evaluation); `forEachBatch` is the push form of the same loop.
 */
export async function* withInputProgress(source: TraceInput, batches: AsyncIterable<TracesData>, label: string): AsyncGenerator<TracesData> {
  const progress = createProgress(label);
  let spans = 0;
  try {
    for await (const batch of batches) {
      yield batch;
      spans += countSpans(batch);
      const p = source.progress();
      if (p) {
        progress.setTotal(p.total);
        progress.update(p.done, spans);
      }
    }
  } finally {
    progress.stop();
  }
}

/**
 * Feeds every batch to `onBatch` while the progress bar follows the input's own progress; returns
 * the number of spans. Every command that reads an input runs its loop through here.
 */
export async function forEachBatch(
  source: TraceInput,
  batches: AsyncIterable<TracesData>,
  label: string,
  onBatch: (batch: TracesData) => void | Promise<void>,
): Promise<number> {
  let spans = 0;
  for await (const batch of withInputProgress(source, batches, label)) {
    await onBatch(batch);
    spans += countSpans(batch);
  }
  return spans;
}
