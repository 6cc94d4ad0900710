// Reading a whole dataset directory into batches, minute file by minute file, with nezha's log
// records attached to their spans. A log record may sit in a later minute's log file than its
// span's first row (in rca_data 4,645 records one minute later, 38 two minutes later, none
// earlier; the span's row is then repeated verbatim in that later minute's span file). So a
// minute's spans wait until `logWindow` more log files have been read: a span gathers all its
// records on its first copy, and memory holds logWindow + 1 minutes of spans, never the dataset.
import { SpanBatcher, makeResourceSpans, makeScopeSpans, type ResourceSpans, type ScopeSpans, type Span, type TracesData } from '../model/index.js';
import type { DatasetLayout, MinuteFiles } from './layout.js';
import { forEachLogEvent, sortEventsByTime, type LogBodyMode } from './nezha-logs.js';
import { SpanAssembler, addSpanCsvFile, readSpanCsvFiles, type AssembledBatch, type ReadContext } from './span-csv.js';

/** Log files read after a minute's own before its spans are delivered (the data needs 2). */
export const DEFAULT_LOG_WINDOW = 2;

export interface DatasetReadOptions {
  /** Spans per batch; default one batch per minute file. */
  batchSpans?: number;
  /** Attach nezha log records as span events (default true when the dataset has log files). */
  logs?: boolean;
  /** How log records become events (default 'parsed'). */
  logBody?: LogBodyMode;
  /** See DEFAULT_LOG_WINDOW. */
  logWindow?: number;
}

/** Streams the dataset's spans in time order, as OTLP batches. */
export function readDataset(layout: DatasetLayout, ctx: ReadContext, options: DatasetReadOptions = {}): AsyncGenerator<TracesData> {
  const withLogs = (options.logs ?? true) && layout.minutes.some((m) => m.logFile !== undefined);
  if (!withLogs) {
    const files = layout.minutes.flatMap((m) => (m.traceFile ? [m.traceFile] : []));
    return readSpanCsvFiles(files, ctx, options.batchSpans);
  }
  const perMinute = readWithLogs(layout.minutes, ctx, options.logBody ?? 'parsed', options.logWindow ?? DEFAULT_LOG_WINDOW);
  return options.batchSpans === undefined ? perMinute : recut(perMinute, options.batchSpans);
}

interface Segment {
  /** Lower-case TraceID+SpanID -> the waiting span that log records of this segment attach to. */
  index: Map<string, Span>;
  /** Minutes read but not yet closed, oldest first. */
  open: Pending[];
  /** Minutes of this segment not read yet. */
  remaining: number;
}

interface Pending {
  batch: AssembledBatch;
  closed: boolean;
}

async function* readWithLogs(minutes: readonly MinuteFiles[], ctx: ReadContext, mode: LogBodyMode, window: number): AsyncGenerator<TracesData> {
  const assembler = new SpanAssembler(ctx, true);
  // Log records only attach to spans of their own part and day (construct_data repeats a few rca
  // spans; their logs belong to their own copy).
  const segments = new Map<string, Segment>();
  for (const m of minutes) {
    let s = segments.get(m.segment);
    if (!s) segments.set(m.segment, (s = { index: new Map(), open: [], remaining: 0 }));
    s.remaining++;
  }
  // Minutes are delivered in reading order, each once closed.
  const queue: Pending[] = [];

  const close = (segment: Segment, p: Pending) => {
    const { spans, keys } = p.batch;
    for (let i = 0; i < spans.length; i++) {
      if (segment.index.get(keys![i]!) === spans[i]) segment.index.delete(keys![i]!);
      sortEventsByTime(spans[i]!.events);
    }
    p.closed = true;
  };

  for (const m of minutes) {
    const segment = segments.get(m.segment)!;
    segment.remaining--;
    if (m.traceFile !== undefined) {
      await addSpanCsvFile(m.traceFile, assembler, ctx);
      const batch = assembler.flush();
      if (batch) {
        const { spans, keys } = batch;
        // A repeated span keeps the log records on its first copy still waiting.
        for (let i = 0; i < spans.length; i++) if (!segment.index.has(keys![i]!)) segment.index.set(keys![i]!, spans[i]!);
        const p: Pending = { batch, closed: false };
        queue.push(p);
        segment.open.push(p);
      }
    }
    if (m.logFile !== undefined) {
      const logFile = m.logFile;
      await forEachLogEvent(logFile, ctx, mode, (key, event, line) => {
        const span = segment.index.get(key);
        if (span !== undefined) {
          span.events.push(event);
          ctx.stats.logRecordsAttached++;
        } else {
          ctx.stats.logRecordsUnmatched++;
          ctx.warnings.add(
            'log-unmatched',
            `no span ${key.slice(0, 32)}/${key.slice(32)} in this or the ${window} previous minute files; log record not attached`,
            logFile,
            line,
          );
        }
      });
    }
    const keepOpen = segment.remaining === 0 ? 0 : window;
    while (segment.open.length > keepOpen) close(segment, segment.open.shift()!);
    while (queue.length > 0 && queue[0]!.closed) yield queue.shift()!.batch.data;
  }
  for (const p of queue) yield p.batch.data; // unreachable in practice: every segment closes at its end
}

/**
 * Re-cuts per-minute batches into batches of `n` spans. Batches of one reader share Resource and
 * scope objects, so grouping on those (not on the per-minute ResourceSpans) keeps one
 * ResourceSpans per pod in a batch that spans two minutes.
 */
async function* recut(source: AsyncIterable<TracesData>, n: number): AsyncGenerator<TracesData> {
  const batcher = new SpanBatcher(n);
  // Empty stand-ins, one per resource and per (resource, scope): SpanBatcher groups by these
  // objects and copies only their resource, scope, schemaUrl and unknownFields.
  const groups = new Map<object, { rs: ResourceSpans; scopes: Map<object, ScopeSpans> }>();
  for await (const data of source) {
    for (const rs of data.resourceSpans) {
      const rKey = rs.resource ?? rs;
      let group = groups.get(rKey);
      if (!group) {
        group = { rs: makeResourceSpans({ resource: rs.resource, schemaUrl: rs.schemaUrl, unknownFields: rs.unknownFields }), scopes: new Map() };
        groups.set(rKey, group);
      }
      for (const ss of rs.scopeSpans) {
        const sKey = ss.scope ?? ss;
        let standIn = group.scopes.get(sKey);
        if (!standIn) group.scopes.set(sKey, (standIn = makeScopeSpans({ scope: ss.scope, schemaUrl: ss.schemaUrl, unknownFields: ss.unknownFields })));
        for (const span of ss.spans) {
          const full = batcher.push(span, group.rs, standIn);
          if (full) yield full;
        }
      }
    }
  }
  const rest = batcher.flush();
  if (rest) yield rest;
}
