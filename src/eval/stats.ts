// Summary statistics of a stream of trace batches (what `slimtrace stats` prints): counts of spans,
// traces, services and operations, trace depth and size, OTLP bytes per span, error spans and
// events. Traces are assembled over a sliding window of batches so a trace that straddles batches
// (a span CSV's minute files) is measured whole, while memory stays bounded by the window, not by
// the dataset.
import { bytesToHex, serviceName, type TracesData } from '../model/index.js';
import { encodeTracesData } from '../otlp/index.js';

/** Batches a trace may stay silent before it is taken as complete. */
const DEFAULT_TRACE_IDLE_BATCHES = 3;

interface OpenTrace {
  /** span id hex -> parent span id hex ('' for a root) */
  parents: Map<string, string>;
  lastBatch: number;
}

export interface TraceStatsSummary {
  spans: number;
  /** Spans whose (trace id, span id) was seen before in the input. */
  duplicateSpans: number;
  traces: number;
  resources: number;
  services: string[];
  operations: number;
  batches: number;
  rootSpans: number;
  /** Spans whose parent never appeared in their trace. */
  orphanSpans: number;
  errorSpans: number;
  spanEvents: number;
  spanLinks: number;
  attributes: number;
  otlpBytes: number;
  otlpBytesPerSpan: number;
  spansPerTrace: { median: number; p99: number; max: number };
  depth: { median: number; p99: number; max: number };
  durationMs: { median: number; p99: number; max: number };
  firstStartUnixNano: bigint | undefined;
  lastEndUnixNano: bigint | undefined;
}

function quantiles(values: number[]): { median: number; p99: number; max: number } {
  if (values.length === 0) return { median: 0, p99: 0, max: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { median: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]! };
}

/** Accumulates statistics batch by batch; call `add` for each batch and `summary` at the end. */
export class TraceStatsAccumulator {
  private spans = 0;
  private duplicates = 0;
  private batches = 0;
  private roots = 0;
  private orphans = 0;
  private errors = 0;
  private events = 0;
  private links = 0;
  private attrs = 0;
  private otlpBytes = 0;
  private readonly resources = new Set<string>();
  private readonly services = new Set<string>();
  private readonly operations = new Set<string>();
  private readonly open = new Map<string, OpenTrace>();
  private readonly closedTraceIds = new Set<string>();
  private readonly traceSizes: number[] = [];
  private readonly traceDepths: number[] = [];
  private readonly durations: number[] = [];
  private first: bigint | undefined;
  private last: bigint | undefined;

  constructor(private readonly idleBatches = DEFAULT_TRACE_IDLE_BATCHES) {}

  add(data: TracesData): void {
    this.batches++;
    this.otlpBytes += encodeTracesData(data).length;
    for (const rs of data.resourceSpans) {
      const service = serviceName(rs.resource);
      this.services.add(service);
      this.resources.add(rs.resource ? JSON.stringify(rs.resource.attributes, jsonBigint) : '');
      for (const ss of rs.scopeSpans) {
        for (const span of ss.spans) {
          this.spans++;
          this.operations.add(`${service}\u0000${span.name}`);
          if (span.status?.code === 2) this.errors++;
          this.events += span.events.length;
          this.links += span.links.length;
          this.attrs += span.attributes.length;
          const start = span.startTimeUnixNano;
          const end = span.endTimeUnixNano;
          if (this.first === undefined || start < this.first) this.first = start;
          if (this.last === undefined || end > this.last) this.last = end;
          this.durations.push(end > start ? Number(end - start) / 1e6 : 0);
          const traceId = bytesToHex(span.traceId);
          let trace = this.open.get(traceId);
          if (!trace) {
            trace = { parents: new Map(), lastBatch: this.batches };
            this.open.set(traceId, trace);
          }
          trace.lastBatch = this.batches;
          const spanId = bytesToHex(span.spanId);
          if (trace.parents.has(spanId)) this.duplicates++;
          else trace.parents.set(spanId, bytesToHex(span.parentSpanId));
        }
      }
    }
    for (const [id, trace] of this.open) {
      if (this.batches - trace.lastBatch >= this.idleBatches) this.close(id, trace);
    }
  }

  private close(id: string, trace: OpenTrace): void {
    this.open.delete(id);
    // A trace id seen again after it was closed (spans far apart in the input) still counts once.
    this.closedTraceIds.add(id);
    this.traceSizes.push(trace.parents.size);
    const depthOf = new Map<string, number>();
    let maxDepth = 0;
    for (const [spanId, parentId] of trace.parents) {
      if (parentId === '') this.roots++;
      else if (!trace.parents.has(parentId)) this.orphans++;
      // Walk up to a span of known depth; bounded by the trace size so a cycle cannot hang.
      const chain: string[] = [];
      let cur: string | undefined = spanId;
      let base = 0;
      while (cur !== undefined && chain.length <= trace.parents.size) {
        const known = depthOf.get(cur);
        if (known !== undefined) {
          base = known;
          break;
        }
        chain.push(cur);
        const p = trace.parents.get(cur);
        cur = p === undefined || p === '' ? undefined : trace.parents.has(p) ? p : undefined;
      }
      for (let i = chain.length - 1, d = base + 1; i >= 0; i--, d++) depthOf.set(chain[i]!, d);
      maxDepth = Math.max(maxDepth, depthOf.get(spanId) ?? 0);
    }
    this.traceDepths.push(maxDepth);
  }

  summary(): TraceStatsSummary {
    for (const [id, trace] of [...this.open]) this.close(id, trace);
    return {
      spans: this.spans,
      duplicateSpans: this.duplicates,
      traces: this.closedTraceIds.size,
      resources: this.resources.size,
      services: [...this.services].sort(),
      operations: this.operations.size,
      batches: this.batches,
      rootSpans: this.roots,
      orphanSpans: this.orphans,
      errorSpans: this.errors,
      spanEvents: this.events,
      spanLinks: this.links,
      attributes: this.attrs,
      otlpBytes: this.otlpBytes,
      otlpBytesPerSpan: this.spans ? this.otlpBytes / this.spans : 0,
      spansPerTrace: quantiles(this.traceSizes),
      depth: quantiles(this.traceDepths),
      durationMs: quantiles(this.durations),
      firstStartUnixNano: this.first,
      lastEndUnixNano: this.last,
    };
  }
}

function jsonBigint(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array) return bytesToHex(value);
  return value;
}
