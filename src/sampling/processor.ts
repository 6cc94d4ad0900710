// The streaming sampling processor a server (the agent/gateway) or an offline run hosts: spans go in
// as they arrive, are assembled into traces, and a trace is decided once no span of it has arrived
// for the decision wait (or when the memory cap forces the oldest out early); the strategy's reduced
// trace comes out. Late spans of a decided trace follow its decision: dropped with a dropped trace,
// otherwise forwarded under their nearest kept ancestor. The clock is injected, so a server passes
// wall time and an offline run passes the data's own time.
import { bytesEqual, bytesToHex, kv, type LocatedSpan, type TracesData } from '../model/index.js';
import { SAMPLING_ATTR, toTracesData, type ReduceOptions, type ReducedTrace } from './reduce.js';
import { sampleTrace, type SamplingStrategy } from './strategy.js';
import { assembleTrace, spanKey, type SampledTrace } from './trace.js';

const NO_ID = new Uint8Array(0);

/**
 * The data's own clock for offline runs: the latest span end (ms) in `data`, or `previous` when it
 * is later. Offline, a trace is decided once this much data time has passed, not wall time.
 */
export function dataClockMs(data: TracesData, previous: number): number {
  let latest = previous;
  for (const rs of data.resourceSpans)
    for (const ss of rs.scopeSpans)
      for (const span of ss.spans) {
        const end = Number(span.endTimeUnixNano / 1_000_000n);
        if (end > latest) latest = end;
      }
  return latest;
}

export interface StreamingSamplerOptions {
  strategy: SamplingStrategy;
  /** Time since a trace's last span before it is decided (default 10 s, in the clock's milliseconds). */
  decisionWaitMs?: number;
  /** Traces held at once; past it the least recently active trace is decided early (default 50,000). */
  maxTraces?: number;
  /** Spans held at once; past it traces are decided early, least recently active first (default 1,000,000). */
  maxSpans?: number;
  /** Decided traces remembered so their late spans follow the decision (default 100,000). */
  decisionCacheSize?: number;
  reduce?: ReduceOptions;
  /** Called with every decided trace (the sampler's view and what was written), e.g. for evaluation. */
  onDecision?: (trace: SampledTrace, reduced: ReducedTrace | undefined) => void;
}

/** What a span-level sampling processor counts, offline (StreamingSampler) or in the SDK. */
export interface SamplingCounters {
  spansIn: number;
  spansOut: number;
  tracesDecided: number;
  tracesKept: number;
  /** Traces decided before they were complete: a memory cap was reached (or, in the SDK, forceFlush/shutdown). */
  tracesDecidedEarly: number;
  /** Spans that arrived after their trace was decided, passed on or dropped with it. */
  lateSpansForwarded: number;
  lateSpansDropped: number;
}

export interface StreamingSamplerCounters extends SamplingCounters {
  /** Late spans of traces no longer in the decision cache: forwarded unchanged. */
  lateSpansUnknown: number;
}

interface OpenTrace {
  id: string;
  spans: LocatedSpan[];
  lastSeenMs: number;
}

interface Decision {
  kept: boolean;
  /** spanKey -> the id of its nearest kept ancestor (null when the span itself was kept). */
  ancestors: Map<string, Uint8Array | null>;
}

export class StreamingSampler {
  readonly counters: StreamingSamplerCounters = { spansIn: 0, spansOut: 0, tracesDecided: 0, tracesKept: 0, tracesDecidedEarly: 0, lateSpansForwarded: 0, lateSpansDropped: 0, lateSpansUnknown: 0 };
  private readonly strategy: SamplingStrategy;
  private readonly waitMs: number;
  private readonly maxTraces: number;
  private readonly maxSpans: number;
  private readonly cacheSize: number;
  private readonly reduceOptions: ReduceOptions | undefined;
  private readonly onDecision: StreamingSamplerOptions['onDecision'];
  /** Open traces in least-recently-active order (a Map keeps insertion order; touching re-inserts). */
  private readonly open = new Map<string, OpenTrace>();
  private readonly decided = new Map<string, Decision>();
  private heldSpans = 0;
  private output: LocatedSpan[] = [];

  constructor(options: StreamingSamplerOptions) {
    this.strategy = options.strategy;
    this.waitMs = options.decisionWaitMs ?? 10_000;
    this.maxTraces = options.maxTraces ?? 50_000;
    this.maxSpans = options.maxSpans ?? 1_000_000;
    this.cacheSize = options.decisionCacheSize ?? 100_000;
    this.reduceOptions = options.reduce;
    this.onDecision = options.onDecision;
    if (!(this.waitMs >= 0)) throw new RangeError(`decision wait must be >= 0 ms, got ${this.waitMs}`);
    if (!(this.maxTraces >= 1) || !(this.maxSpans >= 1)) throw new RangeError('trace and span caps must be at least 1');
  }

  /** Traces and spans waiting for a decision. */
  get pending(): { traces: number; spans: number } {
    return { traces: this.open.size, spans: this.heldSpans };
  }

  /**
   * Where a trace stands: 'open' (held, waiting for its decision), 'decided' (its late spans follow
   * the decision at once), or undefined (unknown: its next span opens it). A server that must know
   * when a request's spans have all been decided (to acknowledge it in its queue) asks before pushing.
   */
  traceState(traceIdHex: string): 'open' | 'decided' | undefined {
    if (this.open.has(traceIdHex)) return 'open';
    return this.decided.has(traceIdHex) ? 'decided' : undefined;
  }

  /** Takes in a message's spans at time `nowMs`. */
  push(data: TracesData, nowMs: number): void {
    let lastTraceId: Uint8Array = NO_ID;
    let lastTraceHex = '';
    for (const rs of data.resourceSpans)
      for (const ss of rs.scopeSpans)
        for (const span of ss.spans) {
          this.counters.spansIn++;
          // Spans of one trace often arrive together: reuse the previous span's trace id text.
          if (!bytesEqual(span.traceId, lastTraceId)) {
            lastTraceId = span.traceId;
            lastTraceHex = bytesToHex(span.traceId);
          }
          const id = lastTraceHex;
          const located: LocatedSpan = { span, resource: rs.resource, scope: ss.scope, resourceSpans: rs, scopeSpans: ss };
          const decision = this.decided.get(id);
          if (decision) {
            this.late(decision, located);
            continue;
          }
          let t = this.open.get(id);
          if (t) this.open.delete(id);
          else t = { id, spans: [], lastSeenMs: nowMs };
          t.spans.push(located);
          t.lastSeenMs = nowMs;
          this.open.set(id, t);
          this.heldSpans++;
        }
    while (this.open.size > this.maxTraces || this.heldSpans > this.maxSpans) {
      const oldest = this.open.values().next().value!;
      this.counters.tracesDecidedEarly++;
      this.decide(oldest);
    }
  }

  /** Decides every trace idle for the decision wait at `nowMs`; returns what is ready to send. */
  poll(nowMs: number): TracesData | undefined {
    for (const t of this.open.values()) {
      if (nowMs - t.lastSeenMs < this.waitMs) break; // the rest were active more recently
      this.decide(t);
    }
    return this.drain();
  }

  /** Decides every open trace now (end of input, shutdown); returns what is ready to send. */
  flush(): TracesData | undefined {
    for (const t of [...this.open.values()]) this.decide(t);
    return this.drain();
  }

  private drain(): TracesData | undefined {
    if (this.output.length === 0) return undefined;
    const out = toTracesData(this.output);
    this.counters.spansOut += this.output.length;
    this.output = [];
    return out;
  }

  private decide(t: OpenTrace): void {
    this.open.delete(t.id);
    this.heldSpans -= t.spans.length;
    const trace = assembleTrace(t.id, t.spans);
    const reduced = sampleTrace(this.strategy, trace, this.reduceOptions);
    this.counters.tracesDecided++;
    const ancestors = new Map<string, Uint8Array | null>();
    if (reduced) {
      this.counters.tracesKept++;
      for (const s of reduced.spans) this.output.push(s);
      // Remember where each span's late descendants will hang: null under a kept span, else its
      // nearest kept ancestor's id (copied: the input's ids may be views into a whole request).
      const copies = new Map<number, Uint8Array>();
      for (let i = 0; i < trace.spans.length; i++) {
        const a = reduced.kept[i] ? -1 : reduced.keptAncestor[i]!;
        let id: Uint8Array | null = null;
        if (a >= 0) {
          id = copies.get(a) ?? null;
          if (!id) copies.set(a, (id = trace.spans[a]!.span.spanId.slice()));
        }
        ancestors.set(trace.keys[i]!, id);
      }
    }
    this.onDecision?.(trace, reduced);
    this.decided.set(t.id, { kept: reduced !== undefined, ancestors });
    if (this.decided.size > this.cacheSize) this.decided.delete(this.decided.keys().next().value!);
  }

  private late(decision: Decision, located: LocatedSpan): void {
    if (!decision.kept) {
      this.counters.lateSpansDropped++;
      return;
    }
    this.counters.lateSpansForwarded++;
    const ancestor = decision.ancestors.get(spanKey(located.span.parentSpanId));
    decision.ancestors.set(spanKey(located.span.spanId), null);
    if (!ancestor) {
      this.output.push(located);
      return;
    }
    // Its parent was dropped: hang it under the parent's nearest kept ancestor, as the trace's own spans are.
    const span = { ...located.span, parentSpanId: ancestor, attributes: [...located.span.attributes, kv(SAMPLING_ATTR.SKIPPED_LEVELS, -1n)] };
    this.output.push({ ...located, span });
  }
}
