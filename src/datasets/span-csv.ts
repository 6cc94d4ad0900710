// The span CSV reader (TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,
// EndTimeUnixNano,Duration) of the TrainTicket datasets, streamed file by file into OTLP batches.
// HOT PATH: runs once per span over a million spans, so a row costs its Span, its ids and at most
// two attributes; Resources and Scopes are created once per pod/scope and shared by every batch.
import {
  ATTR,
  EMPTY_BYTES,
  InputError,
  SpanFlags,
  SpanKind,
  bytesEqual,
  hexToBytes,
  kv,
  makeResource,
  makeResourceSpans,
  makeScope,
  makeScopeSpans,
  makeSpan,
  makeTracesData,
  type InstrumentationScope,
  type KeyValue,
  type Resource,
  type ResourceSpans,
  type ScopeSpans,
  type Span,
  type TracesData,
} from '../model/index.js';
import type { OtlpReadOptions } from '../otlp/files.js';
import { openCsvTable, type ColumnIndex } from './csv.js';
import { FAMILIES, FAMILY, classifyOperation, serviceOfPod } from './operations.js';
import type { ReadStats } from './stats.js';
import { parseUnsignedDecimal } from './time.js';
import type { WarningLog } from './warnings.js';

export const SPAN_CSV_COLUMNS = [
  'TraceID',
  'SpanID',
  'ParentID',
  'PodName',
  'OperationName',
  'StartTimeUnixNano',
  'EndTimeUnixNano',
] as const;
/** Redundant (microseconds, end - start truncated); checked against the times, then dropped. */
export const SPAN_CSV_OPTIONAL_COLUMNS = ['Duration'] as const;

// Canonical field positions; rows of files with another column order are permuted into these.
const TRACE = 0;
const SPAN = 1;
const PARENT = 2;
const POD = 3;
const NAME = 4;
const START = 5;
const END = 6;
const DURATION = 7;
const CANONICAL = [...SPAN_CSV_COLUMNS, ...SPAN_CSV_OPTIONAL_COLUMNS];

/**
 * Rows remembered by span id, in two generations of this many rows each (so the last 16k-32k
 * rows). It finds exact repeats (in the datasets at most ~8,000 rows apart: a row repeated in the
 * next minute file) and the pod of a span's parent (in the datasets within two minute files)
 * while keeping memory bounded.
 */
const RECENT_ROWS = 16_384;

export interface ReadContext {
  warnings: WarningLog;
  stats: ReadStats;
  /** Fail on the first defective row instead of skipping and reporting it. */
  strict: boolean;
  /** File and request limits (defaults when absent). */
  limits?: OtlpReadOptions;
}

/** A batch and its spans in row order (the log reader attaches events to them by key). */
export interface AssembledBatch {
  data: TracesData;
  spans: Span[];
  /** Lower-case TraceID+SpanID hex of each span, when the assembler was asked to keep keys. */
  keys: string[] | undefined;
}

/**
 * What is remembered of a recent row: its columns as they were parsed, sharing the span's id,
 * name and time objects (the span itself is not kept: with nezha's log events it is large).
 */
interface RecentRow {
  pod: PodState;
  /** ParentID as written ('root', '' or hex): two roots differ when one wrote 'root'. */
  parent: string;
  duration: string;
  name: string;
  start: bigint;
  end: bigint;
  traceId: Uint8Array;
}

interface PodState {
  name: string;
  resource: Resource;
  /** Batch number its `resourceSpans` and `scopeSpans` slots belong to. */
  epoch: number;
  resourceSpans: ResourceSpans | undefined;
  scopeSpans: (ScopeSpans | undefined)[];
}

function show(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

/** Turns span rows into spans grouped by pod and scope, one batch at a time. */
export class SpanAssembler {
  private readonly pods = new Map<string, PodState>();
  /** One scope object per distinct scope name, and each family's slot among them. */
  private readonly scopes: InstrumentationScope[] = [];
  private readonly familySlot: number[] = [];
  private epoch = 0;
  private resourceSpans: ResourceSpans[] = [];
  private spans: Span[] = [];
  /** The pending spans' rows, in order (parent text and pod, for the flags at flush). */
  private rows: RecentRow[] = [];
  private keys: string[] = [];
  private recent = new Map<string, RecentRow>();
  private older = new Map<string, RecentRow>();
  /** File column index of each canonical field (-1: absent), or undefined when already canonical. */
  private permutation: number[] | undefined;
  private width = CANONICAL.length;
  private hasDuration = true;

  constructor(
    private readonly ctx: ReadContext,
    private readonly keepKeys = false,
  ) {
    const byName = new Map<string, number>();
    for (const f of FAMILIES) {
      let slot = byName.get(f.scope);
      if (slot === undefined) {
        slot = this.scopes.length;
        this.scopes.push(makeScope({ name: f.scope }));
        byName.set(f.scope, slot);
      }
      this.familySlot.push(slot);
    }
  }

  /** Spans added since the last flush. */
  get pending(): number {
    return this.spans.length;
  }

  /** Declares the header of the file whose rows come next. */
  setColumns(columns: ColumnIndex, width: number): void {
    const perm = CANONICAL.map((name) => columns[name] ?? -1);
    this.width = width;
    this.hasDuration = perm[DURATION]! >= 0;
    this.permutation = width === CANONICAL.length && perm.every((p, i) => p === i) ? undefined : perm;
  }

  /**
   * Adds one row. Returns false when the row is defective and was skipped (and reported); in
   * strict mode throws the InputError instead.
   */
  add(fields: string[], line: number, file: string): boolean {
    const stats = this.ctx.stats;
    stats.rows++;
    if (fields.length !== this.width) return this.defect(`expected ${this.width} fields, got ${fields.length}`, file, line);
    const perm = this.permutation;
    const f = perm === undefined ? fields : perm.map((i) => (i < 0 ? '' : fields[i]!));

    const traceHex = f[TRACE]!;
    const traceId = traceHex.length === 32 ? hexToBytes(traceHex) : undefined;
    if (traceId === undefined) return this.defect(`TraceID ${show(traceHex)} is not 32 hex digits`, file, line);
    const spanHex = f[SPAN]!;
    const spanId = spanHex.length === 16 ? hexToBytes(spanHex) : undefined;
    if (spanId === undefined) return this.defect(`SpanID ${show(spanHex)} is not 16 hex digits`, file, line);
    const parentText = f[PARENT]!;
    const isRoot = parentText === 'root' || parentText === '';
    let parentSpanId = EMPTY_BYTES;
    if (!isRoot) {
      const p = parentText.length === 16 ? hexToBytes(parentText) : undefined;
      if (p === undefined) return this.defect(`ParentID ${show(parentText)} is neither "root" nor 16 hex digits`, file, line);
      parentSpanId = p;
    }
    const start = parseUnsignedDecimal(f[START]!);
    if (start === undefined) return this.defect(`StartTimeUnixNano ${show(f[START]!)} is not an unsigned decimal integer`, file, line);
    const end = parseUnsignedDecimal(f[END]!);
    if (end === undefined) return this.defect(`EndTimeUnixNano ${show(f[END]!)} is not an unsigned decimal integer`, file, line);
    if (this.hasDuration) {
      // end - start is far below 2^53, so the check runs on numbers (no bigint per row).
      const micros = Math.trunc(Number(end - start) / 1000);
      const d = f[DURATION]!;
      if (Number(d) !== micros || d === '') {
        this.ctx.warnings.add('duration-mismatch', `Duration ${show(d)} is not (end - start) in µs = ${micros}; kept the times`, file, line);
      }
    }

    const name = f[NAME]!;
    const family = classifyOperation(name, isRoot);
    let attributes: KeyValue[];
    if (family === FAMILY.HTTP_CLIENT) attributes = [kv(ATTR.HTTP_REQUEST_METHOD, name.slice(5))];
    else if (family === FAMILY.SQL) attributes = [kv(ATTR.DB_SYSTEM, 'mysql'), kv(ATTR.DB_STATEMENT, name)];
    else attributes = [];
    const span = makeSpan({
      traceId,
      spanId,
      parentSpanId,
      name,
      kind: FAMILIES[family]!.kind,
      startTimeUnixNano: start,
      endTimeUnixNano: end,
      attributes,
    });
    const pod = this.podState(f[POD]!);
    const row: RecentRow = { pod, parent: parentText, duration: this.hasDuration ? f[DURATION]! : '', name, start, end, traceId };

    // Exact repeats are kept (a lossless path keeps what it was given) but counted.
    const previous = this.recent.get(spanHex) ?? this.older.get(spanHex);
    if (previous !== undefined) {
      if (sameRow(previous, row)) stats.duplicateRows++;
      else {
        stats.spanIdConflicts++;
        this.ctx.warnings.add('span-id-conflict', `SpanID ${spanHex} repeats with different content; both kept`, file, line);
      }
    }
    this.recent.set(spanHex, row);
    if (this.recent.size >= RECENT_ROWS) {
      this.older = this.recent;
      this.recent = new Map();
    }

    const slot = this.familySlot[family]!;
    let ss = pod.scopeSpans[slot];
    if (ss === undefined) {
      ss = makeScopeSpans({ scope: this.scopes[slot] });
      pod.scopeSpans[slot] = ss;
      pod.resourceSpans!.scopeSpans.push(ss);
    }
    ss.spans.push(span);
    this.spans.push(span);
    this.rows.push(row);
    if (this.keepKeys) this.keys.push((traceHex + spanHex).toLowerCase());
    stats.spans++;
    return true;
  }

  /** The batch of spans added since the last flush, or undefined when there are none. */
  flush(): AssembledBatch | undefined {
    if (this.spans.length === 0) return undefined;
    this.resolveFlags();
    const batch: AssembledBatch = {
      data: makeTracesData(this.resourceSpans),
      spans: this.spans,
      keys: this.keepKeys ? this.keys : undefined,
    };
    this.epoch++;
    this.resourceSpans = [];
    this.spans = [];
    this.rows = [];
    this.keys = [];
    this.ctx.stats.batches++;
    return batch;
  }

  /**
   * Trace flags SAMPLED, and the parent context marked remote when the parent was recorded by
   * another pod (what the OTel SDK's exporter writes). Done at flush so a parent that comes later
   * in the same batch is found; a parent outside the remembered rows falls back to the kind (only
   * server spans have remote parents in these services).
   */
  private resolveFlags(): void {
    const local = SpanFlags.SAMPLED | SpanFlags.CONTEXT_HAS_IS_REMOTE_MASK;
    const remote = local | SpanFlags.CONTEXT_IS_REMOTE_MASK;
    for (let i = 0; i < this.spans.length; i++) {
      const span = this.spans[i]!;
      const row = this.rows[i]!;
      if (span.parentSpanId.length === 0) {
        span.flags = local;
        continue;
      }
      const parentRow = this.recent.get(row.parent) ?? this.older.get(row.parent);
      const isRemote = parentRow !== undefined ? parentRow.pod !== row.pod : span.kind === SpanKind.SERVER;
      span.flags = isRemote ? remote : local;
    }
  }

  private podState(name: string): PodState {
    let pod = this.pods.get(name);
    if (pod === undefined) {
      pod = {
        name,
        resource: makeResource({ attributes: [kv(ATTR.SERVICE_NAME, serviceOfPod(name)), kv(ATTR.K8S_POD_NAME, name)] }),
        epoch: -1,
        resourceSpans: undefined,
        scopeSpans: [],
      };
      this.pods.set(name, pod);
    }
    if (pod.epoch !== this.epoch) {
      pod.epoch = this.epoch;
      pod.resourceSpans = makeResourceSpans({ resource: pod.resource });
      pod.scopeSpans = [];
      this.resourceSpans.push(pod.resourceSpans);
    }
    return pod;
  }

  private defect(message: string, file: string, line: number): false {
    if (this.ctx.strict) throw new InputError(`line ${line}: ${message}`, file);
    this.ctx.stats.skippedRows++;
    this.ctx.warnings.add('bad-row', `${message}; row skipped`, file, line);
    return false;
  }
}

/** True when two rows are the same text in every column (compared through what they became). */
function sameRow(a: RecentRow, b: RecentRow): boolean {
  return (
    a.pod === b.pod &&
    a.parent === b.parent &&
    a.duration === b.duration &&
    a.name === b.name &&
    a.start === b.start &&
    a.end === b.end &&
    bytesEqual(a.traceId, b.traceId)
  );
}

/** Reads one span file's rows into the assembler (without flushing). */
export async function addSpanCsvFile(
  file: string,
  assembler: SpanAssembler,
  ctx: ReadContext,
): Promise<void> {
  const table = await openCsvTable(file, 'span CSV', SPAN_CSV_COLUMNS, SPAN_CSV_OPTIONAL_COLUMNS, {
    warnings: ctx.warnings,
    strict: ctx.strict,
    limits: ctx.limits,
  });
  assembler.setColumns(table.columns, table.width);
  ctx.stats.files++;
  for await (const [fields, line] of table.rows) {
    assembler.add(fields, line, file);
  }
}

/**
 * Streams span CSV(.gz) files into batches: one per file, or, with `batchSpans`, batches of exactly
 * that many spans across file boundaries (the last one shorter). Files are read in the given order.
 */
export async function* readSpanCsvFiles(
  files: readonly string[],
  ctx: ReadContext,
  batchSpans: number | undefined,
): AsyncGenerator<TracesData> {
  const assembler = new SpanAssembler(ctx);
  for (const file of files) {
    const table = await openCsvTable(file, 'span CSV', SPAN_CSV_COLUMNS, SPAN_CSV_OPTIONAL_COLUMNS, {
      warnings: ctx.warnings,
      strict: ctx.strict,
      limits: ctx.limits,
    });
    assembler.setColumns(table.columns, table.width);
    ctx.stats.files++;
    for await (const [fields, line] of table.rows) {
      if (assembler.add(fields, line, file) && batchSpans !== undefined && assembler.pending >= batchSpans) {
        yield assembler.flush()!.data;
      }
    }
    if (batchSpans === undefined) {
      const batch = assembler.flush();
      if (batch) yield batch.data;
    }
  }
  const rest = assembler.flush();
  if (rest) yield rest.data;
}
