// Summary statistics of a stream of trace batches (what `slimtrace stats` prints): counts of spans,
// traces, services and operations, trace depth and size, OTLP bytes per span, error spans and
// events. Traces are measured whole at the end, from a compact record of every span (its trace, id
// and parent id, about 30 bytes), so the figures do not depend on how the input is batched or
// ordered: a trace whose spans are far apart in the input (a span CSV's minute files, an OTLP file
// of small requests) counts once, with all its spans.
import { bytesToHex, InputError, serviceName, type TracesData } from '../model/index.js';
import { encodeTracesData } from '../otlp/index.js';

/**
 * Spans kept until the end by default: about 30 bytes each (under 0.5 GB at the bound), 16 times the
 * largest dataset here (trastrainer-trainticket, 1.04 M spans).
 */
export const DEFAULT_MAX_STATS_SPANS = 16_000_000;

/** Distinct trace ids: V8's Map holds at most 2^24 entries. */
const MAX_STATS_TRACES = 2 ** 24 - 1;

/** Stored per span besides its two ids: the span id and parent id are not 8 bytes / the span is a root. */
const SPAN_ID_ODD = 1;
const PARENT_ID_ODD = 2;
const ROOT = 4;

export interface TraceStatsOptions {
  /** Spans the accumulator may hold (default DEFAULT_MAX_STATS_SPANS); one more is a StatsLimitError. */
  maxSpans?: number;
}

/** The input holds more spans (or traces) than the accumulator may keep to measure traces whole. */
export class StatsLimitError extends InputError {
  override name = 'StatsLimitError';
  constructor(
    message: string,
    /** Which bound was met: the maxSpans option, or the fixed count of distinct trace ids. */
    readonly limit: 'spans' | 'traces',
  ) {
    super(message);
  }
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

function quantiles(values: Float64Array): { median: number; p99: number; max: number } {
  if (values.length === 0) return { median: 0, p99: 0, max: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { median: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]! };
}

function grown<T extends Uint8Array | Uint32Array | Float64Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}

/** Accumulates statistics batch by batch; call `add` for each batch and `summary` at the end. */
export class TraceStatsAccumulator {
  private spans = 0;
  private batches = 0;
  private errors = 0;
  private events = 0;
  private links = 0;
  private attrs = 0;
  private otlpBytes = 0;
  private readonly resources = new Set<string>();
  private readonly services = new Set<string>();
  private readonly operations = new Set<string>();
  private first: bigint | undefined;
  private last: bigint | undefined;
  private readonly maxSpans: number;
  // One entry per span (ids as two 32-bit words each), in input order.
  private traceOf = new Uint32Array(1 << 16);
  private ids = new Uint32Array(2 << 16);
  private parents = new Uint32Array(2 << 16);
  private flags = new Uint8Array(1 << 16);
  private durations = new Float64Array(1 << 16);
  private readonly traceIndex = new Map<string, number>();
  /** Ids that are not 8 bytes long (malformed input), numbered so they compare exactly. */
  private readonly oddIds = new Map<string, number>();

  constructor(options: TraceStatsOptions = {}) {
    this.maxSpans = options.maxSpans ?? DEFAULT_MAX_STATS_SPANS;
  }

  add(data: TracesData): void {
    this.batches++;
    this.otlpBytes += encodeTracesData(data).length;
    for (const rs of data.resourceSpans) {
      const service = serviceName(rs.resource);
      this.services.add(service);
      this.resources.add(rs.resource ? JSON.stringify(rs.resource.attributes, jsonBigint) : '');
      for (const ss of rs.scopeSpans) {
        for (const span of ss.spans) {
          const i = this.spans;
          if (i >= this.maxSpans) throw new StatsLimitError(`more than ${this.maxSpans} spans: statistics keep about 30 bytes per span until the end to measure every trace whole`, 'spans');
          this.reserve(i + 1);
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
          this.durations[i] = end > start ? Number(end - start) / 1e6 : 0;
          const traceKey = bytesToHex(span.traceId);
          let t = this.traceIndex.get(traceKey);
          if (t === undefined) {
            t = this.traceIndex.size;
            if (t >= MAX_STATS_TRACES) throw new StatsLimitError(`more than ${MAX_STATS_TRACES} distinct trace ids, the most statistics can tell apart`, 'traces');
            this.traceIndex.set(traceKey, t);
          }
          this.traceOf[i] = t;
          let f = this.packId(span.spanId, this.ids, i) ? 0 : SPAN_ID_ODD;
          if (span.parentSpanId.length === 0) f |= ROOT;
          else if (!this.packId(span.parentSpanId, this.parents, i)) f |= PARENT_ID_ODD;
          this.flags[i] = f;
        }
      }
    }
  }

  private reserve(n: number): void {
    if (n <= this.traceOf.length) return;
    this.traceOf = grown(this.traceOf, n);
    this.ids = grown(this.ids, 2 * this.traceOf.length);
    this.parents = grown(this.parents, 2 * this.traceOf.length);
    this.flags = grown(this.flags, this.traceOf.length);
    this.durations = grown(this.durations, this.traceOf.length);
  }

  /** Stores an 8-byte id as two words (true), or another length as its number among such ids (false). */
  private packId(id: Uint8Array, into: Uint32Array, i: number): boolean {
    if (id.length === 8) {
      into[2 * i] = ((id[0]! << 24) | (id[1]! << 16) | (id[2]! << 8) | id[3]!) >>> 0;
      into[2 * i + 1] = ((id[4]! << 24) | (id[5]! << 16) | (id[6]! << 8) | id[7]!) >>> 0;
      return true;
    }
    const key = bytesToHex(id);
    let n = this.oddIds.get(key);
    if (n === undefined) {
      n = this.oddIds.size;
      this.oddIds.set(key, n);
    }
    into[2 * i] = n;
    into[2 * i + 1] = 0;
    return false;
  }

  /**
   * Measures every trace: its spans are grouped (counting sort by trace), sorted by span id (then
   * parent id, so which of two spans with one id counts does not depend on input order), and each
   * parent is found by binary search among its trace's spans.
   */
  private measureTraces(): { sizes: Float64Array; depths: Float64Array; roots: number; orphans: number; duplicates: number } {
    const n = this.spans;
    const traces = this.traceIndex.size;
    const { traceOf, ids, parents, flags } = this;
    const starts = new Uint32Array(traces + 1);
    for (let i = 0; i < n; i++) starts[traceOf[i]! + 1]!++;
    for (let t = 0; t < traces; t++) starts[t + 1]! += starts[t]!;
    const order = new Uint32Array(n);
    const fill = starts.slice(0, traces);
    for (let i = 0; i < n; i++) order[fill[traceOf[i]!]!++] = i;

    const spanCmp = (a: number, b: number): number =>
      (flags[a]! & SPAN_ID_ODD) - (flags[b]! & SPAN_ID_ODD) || ids[2 * a]! - ids[2 * b]! || ids[2 * a + 1]! - ids[2 * b + 1]!;
    const parentRank = (f: number): number => (f & ROOT ? 0 : f & PARENT_ID_ODD ? 2 : 1);
    const cmp = (a: number, b: number): number =>
      spanCmp(a, b) || parentRank(flags[a]!) - parentRank(flags[b]!) || parents[2 * a]! - parents[2 * b]! || parents[2 * a + 1]! - parents[2 * b + 1]!;

    /** Where span `i`'s parent is among a trace's `k` distinct spans (sorted by id), or -1. */
    const findParent = (i: number, distinct: Uint32Array, k: number): number => {
      const odd = flags[i]! & PARENT_ID_ODD ? SPAN_ID_ODD : 0;
      const hi = parents[2 * i]!;
      const lo = parents[2 * i + 1]!;
      let a = 0;
      let b = k - 1;
      while (a <= b) {
        const m = (a + b) >>> 1;
        const s = distinct[m]!;
        const c = (flags[s]! & SPAN_ID_ODD) - odd || ids[2 * s]! - hi || ids[2 * s + 1]! - lo;
        if (c === 0) return m;
        if (c < 0) a = m + 1;
        else b = m - 1;
      }
      return -1;
    };

    const sizes = new Float64Array(traces);
    const depths = new Float64Array(traces);
    let roots = 0;
    let orphans = 0;
    let duplicates = 0;
    // Scratch for one trace at a time: its distinct spans by span id, each one's parent among them
    // (-1: none), its depth (0: not yet known, -1: on the walk in progress), a walk's chain.
    let distinct = new Uint32Array(0);
    let parentAt = new Int32Array(0);
    let depth = new Int32Array(0);
    let chain = new Int32Array(0);
    for (let t = 0; t < traces; t++) {
      const group = order.subarray(starts[t]!, starts[t + 1]!);
      group.sort(cmp);
      if (distinct.length < group.length) {
        distinct = new Uint32Array(group.length);
        parentAt = new Int32Array(group.length);
        depth = new Int32Array(group.length);
        chain = new Int32Array(group.length);
      }
      let k = 0;
      for (let j = 0; j < group.length; j++) {
        if (k > 0 && spanCmp(distinct[k - 1]!, group[j]!) === 0) duplicates++;
        else distinct[k++] = group[j]!;
      }
      sizes[t] = k;
      for (let j = 0; j < k; j++) {
        const i = distinct[j]!;
        parentAt[j] = flags[i]! & ROOT ? -1 : findParent(i, distinct, k);
        if (flags[i]! & ROOT) roots++;
        else if (parentAt[j]! < 0) orphans++;
      }
      depth.fill(0, 0, k);
      let maxDepth = 0;
      for (let j = 0; j < k; j++) {
        // Walk up to a span of known depth (or a root, an orphan, or back onto this walk: a cycle).
        let base = 0;
        let len = 0;
        for (let p = j; ; ) {
          if (depth[p]! > 0) {
            base = depth[p]!;
            break;
          }
          if (depth[p] === -1) break;
          depth[p] = -1;
          chain[len++] = p;
          p = parentAt[p]!;
          if (p < 0) break;
        }
        while (len > 0) depth[chain[--len]!] = ++base;
        if (depth[j]! > maxDepth) maxDepth = depth[j]!;
      }
      depths[t] = maxDepth;
    }
    return { sizes, depths, roots, orphans, duplicates };
  }

  summary(): TraceStatsSummary {
    const { sizes, depths, roots, orphans, duplicates } = this.measureTraces();
    return {
      spans: this.spans,
      duplicateSpans: duplicates,
      traces: this.traceIndex.size,
      resources: this.resources.size,
      services: [...this.services].sort(),
      operations: this.operations.size,
      batches: this.batches,
      rootSpans: roots,
      orphanSpans: orphans,
      errorSpans: this.errors,
      spanEvents: this.events,
      spanLinks: this.links,
      attributes: this.attrs,
      otlpBytes: this.otlpBytes,
      otlpBytesPerSpan: this.spans ? this.otlpBytes / this.spans : 0,
      spansPerTrace: quantiles(sizes),
      depth: quantiles(depths),
      durationMs: quantiles(this.durations.subarray(0, this.spans)),
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
