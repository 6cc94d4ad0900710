// The streaming sampling processor a server (the agent/gateway) or an offline run hosts: spans go in
// as they arrive, are assembled into traces, and a trace is decided once no span of it has arrived
// for the decision wait (or when the memory cap forces the oldest out early); the strategy's reduced
// trace comes out. Late spans of a decided trace follow its decision: dropped with a dropped trace,
// otherwise forwarded under their nearest kept ancestor. The clock is injected, so a server passes
// wall time and an offline run passes the data's own time.
import { bytesEqual, bytesToHex, hexToBytes, kv, type LocatedSpan, type TracesData } from '../model/index.js';
import { SAMPLING_ATTR, toTracesData, type ReduceOptions, type ReducedTrace } from './reduce.js';
import { sampleTrace, type SamplingStrategy } from './strategy.js';
import { assembleTrace, spanKey, type SampledTrace } from './trace.js';
import { EnvelopeMeter } from './envelopes.js';
import { encodedSpanSize } from '../otlp/index.js';

const NO_ID = new Uint8Array(0);

/**
 * The data's own clock for offline runs: the latest span end (ms) in `data`, or `previous` when it
 * is later. Offline, a trace is decided once this much data time has passed, not wall time.
 */
export function dataClockMs(data: TracesData, previous: number): number {
  // The latest end in nanoseconds, divided once: a division per span allocated a bigint per span
  // (whole milliseconds rise with the nanoseconds, so the maximum is the same).
  let latestNs: bigint | undefined;
  for (const rs of data.resourceSpans)
    for (const ss of rs.scopeSpans)
      for (const span of ss.spans) if (latestNs === undefined || span.endTimeUnixNano > latestNs) latestNs = span.endTimeUnixNano;
  if (latestNs === undefined) return previous;
  const end = Number(latestNs / 1_000_000n);
  return end > previous ? end : previous;
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
  /**
   * Spans per request of whatever sends the output on (default 512, the SDK's batch): the
   * envelopes the kept spans of each decision add to such requests are reported to the strategy
   * (SamplingStrategy.recordEnvelope), so its byte budget counts them.
   */
  envelopeBatchSpans?: number;
  /**
   * For a strategy that prices kept bytes as Tracezip sends them (SamplingStrategy.priceUnit
   * 'tracezip'): the bytes each drain's output takes once encoded (the caller's Tracezip stream;
   * sampling knows no codec). Each drain is measured and reported (recordEncoded); without a meter
   * the strategy's own estimate stands.
   */
  wireMeter?: (data: TracesData) => number;
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
  /** spanKey of the trace id: the maps' key (one short string per trace, not a hex string per span). */
  key: string;
  /** The trace id in hex, for the assembled trace. */
  id: string;
  spans: LocatedSpan[];
  lastSeenMs: number;
}

interface Decision {
  kept: boolean;
  /**
   * Of a kept trace, what its late spans need (every decided trace is remembered, few ever get a
   * late span): its span ids end to end at ids[idAt..], and for each of its `spans` spans, where its
   * id ends (relative to idAt) at ints[intAt..] and the index of its nearest kept ancestor (-1 when
   * the span itself was kept) at ints[intAt + spans..]. The arrays are slabs shared by consecutive
   * decisions (DecisionSlabs); the input's ids may be views into a whole request, so they are copied.
   */
  ids?: Uint8Array;
  idAt?: number;
  ints?: Int32Array;
  intAt?: number;
  spans?: number;
  /** Built at the trace's first late span: spanKey -> the id of its nearest kept ancestor (null when kept). */
  ancestors?: Map<string, Uint8Array | null>;
}

/** Values per slab of DecisionSlabs (64 KB of ids, 64 KB of ints). */
const SLAB_BYTES = 65_536;
const SLAB_INTS = 16_384;

/**
 * The memory kept traces' decisions are written into: slabs cut in order, one decision after the
 * other, a new slab when the current one is full (a slab is freed with the last decision cut from
 * it; decisions are forgotten oldest first, so slabs are too). A buffer per kept trace, with its
 * three views, was an off-heap allocation (and four objects) per trace on the streaming path.
 */
class DecisionSlabs {
  private bytes = new Uint8Array(0);
  private bytesUsed = 0;
  private ints = new Int32Array(0);
  private intsUsed = 0;

  /** Gives `decision` room for `length` bytes of ids and `count` ints (ids, idAt, ints, intAt). */
  place(decision: Decision, length: number, count: number): void {
    if (this.bytesUsed + length > this.bytes.length) {
      this.bytes = new Uint8Array(Math.max(SLAB_BYTES, length));
      this.bytesUsed = 0;
    }
    if (this.intsUsed + count > this.ints.length) {
      this.ints = new Int32Array(Math.max(SLAB_INTS, count));
      this.intsUsed = 0;
    }
    decision.ids = this.bytes;
    decision.idAt = this.bytesUsed;
    decision.ints = this.ints;
    decision.intAt = this.intsUsed;
    this.bytesUsed += length;
    this.intsUsed += count;
  }
}

export class StreamingSampler {
  readonly counters: StreamingSamplerCounters = { spansIn: 0, spansOut: 0, tracesDecided: 0, tracesKept: 0, tracesDecidedEarly: 0, lateSpansForwarded: 0, lateSpansDropped: 0, lateSpansUnknown: 0 };
  private readonly strategy: SamplingStrategy;
  private readonly envelopes: EnvelopeMeter | undefined;
  private readonly inputEnvelopes: EnvelopeMeter | undefined;
  /**
   * The output's envelopes as drained and sent: what the decisions' estimates (addRegrouped) missed
   * is reported at each drain, late spans' bytes with it.
   */
  private readonly sentEnvelopes: EnvelopeMeter | undefined;
  private readonly wireMeter: ((data: TracesData) => number) | undefined;
  /** Spans drained so far: where the next drain's first request cut falls. */
  private drainedSpans = 0;
  /** Envelope bytes estimated per decision since the last drain (the drain measures them, and reports the difference). */
  private estimatedEnvelopeBytes = 0;
  /** Late spans forwarded since the last drain (their trace's decision was counted without them; their input goes with inputEnvelopeBytes). */
  private lateBytes = 0;
  /** Input bytes not yet reported to the strategy: envelopes, and late spans (decided without them). */
  private inputEnvelopeBytes = 0;
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
  /** The open trace last appended to: it is already the most recently active, no need to move it. */
  private newest: OpenTrace | undefined;
  private output: LocatedSpan[] = [];
  private readonly slabs = new DecisionSlabs();

  constructor(options: StreamingSamplerOptions) {
    this.strategy = options.strategy;
    const envelopes = options.strategy.recordEnvelope !== undefined;
    // Priced as Tracezip bytes, the output's envelopes are a shell reference each: only the input's are counted.
    const otlpPriced = envelopes && options.strategy.priceUnit !== 'tracezip';
    this.envelopes = envelopes ? new EnvelopeMeter(options.envelopeBatchSpans ?? 512) : undefined;
    this.inputEnvelopes = envelopes ? new EnvelopeMeter(options.envelopeBatchSpans ?? 512) : undefined;
    this.sentEnvelopes = otlpPriced ? new EnvelopeMeter(options.envelopeBatchSpans ?? 512) : undefined;
    this.wireMeter = options.strategy.priceUnit === 'tracezip' ? options.wireMeter : undefined;
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
    const id = hexToBytes(traceIdHex);
    if (!id) return undefined;
    const key = spanKey(id);
    if (this.open.has(key)) return 'open';
    return this.decided.has(key) ? 'decided' : undefined;
  }

  /** Takes in a message's spans at time `nowMs`. */
  push(data: TracesData, nowMs: number): void {
    if (this.inputEnvelopes) this.inputEnvelopeBytes += this.inputEnvelopes.addData(data);
    let lastTraceId: Uint8Array = NO_ID;
    // Where the previous span went: its decision, or the open trace it joined. Nothing is decided
    // inside this loop, so the next span of the same trace goes to the same place.
    let lastDecision: Decision | undefined;
    let lastOpen: OpenTrace | undefined;
    for (const rs of data.resourceSpans)
      for (const ss of rs.scopeSpans)
        for (const span of ss.spans) {
          this.counters.spansIn++;
          const located: LocatedSpan = { span, resource: rs.resource, scope: ss.scope, resourceSpans: rs, scopeSpans: ss };
          // Spans of one trace often arrive together: the previous span's trace id text and place.
          if (!bytesEqual(span.traceId, lastTraceId)) {
            lastTraceId = span.traceId;
            const key = spanKey(span.traceId);
            lastDecision = this.decided.get(key);
            lastOpen = undefined;
            if (!lastDecision) {
              lastOpen = this.open.get(key);
              if (!lastOpen) {
                lastOpen = { key, id: bytesToHex(span.traceId), spans: [], lastSeenMs: nowMs };
                this.open.set(key, lastOpen);
              } else if (lastOpen !== this.newest) {
                // Touched: to the end of the least-recently-active order.
                this.open.delete(key);
                this.open.set(key, lastOpen);
              }
              this.newest = lastOpen;
            }
          }
          if (lastDecision) {
            this.late(lastDecision, located);
            continue;
          }
          const t = lastOpen!;
          t.spans.push(located);
          t.lastSeenMs = nowMs;
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
    const out = this.envelopes ? this.envelopes.regroup(this.output, this.drainedSpans) : toTracesData(this.output);
    const spans = this.output.length;
    this.drainedSpans += this.output.length;
    this.counters.spansOut += this.output.length;
    this.output = [];
    if (this.sentEnvelopes) {
      // What the drain adds to the requests it is sent in, less the decisions' estimates, plus the late
      // spans no decision priced: the strategy hears what was sent.
      const correction = this.sentEnvelopes.addData(out) - this.estimatedEnvelopeBytes + this.lateBytes;
      this.lateBytes = 0;
      this.estimatedEnvelopeBytes = 0;
      this.envelopes!.endDrain();
      if (correction !== 0 || this.inputEnvelopeBytes !== 0) this.strategy.recordEnvelope!(this.inputEnvelopeBytes, correction);
      this.inputEnvelopeBytes = 0;
    } else if (this.envelopes) {
      // Priced as Tracezip: late spans ride in the measured drain; the input's envelopes are reported here.
      this.envelopes.endDrain();
      this.lateBytes = 0;
      if (this.inputEnvelopeBytes !== 0) this.strategy.recordEnvelope!(this.inputEnvelopeBytes, 0);
      this.inputEnvelopeBytes = 0;
    }
    if (this.wireMeter) this.strategy.recordEncoded?.(spans, this.wireMeter(out));
    return out;
  }

  private decide(t: OpenTrace): void {
    this.open.delete(t.key);
    this.heldSpans -= t.spans.length;
    const trace = assembleTrace(t.id, t.spans);
    const reduced = sampleTrace(this.strategy, trace, this.reduceOptions);
    // The envelopes of the input since the last decision, and of what this one sends on.
    if (this.envelopes) {
      const estimate = reduced && this.sentEnvelopes ? this.envelopes.addRegrouped(reduced.spans, this.sentEnvelopes) : 0;
      this.estimatedEnvelopeBytes += estimate;
      this.strategy.recordEnvelope!(this.inputEnvelopeBytes, estimate);
      this.inputEnvelopeBytes = 0;
    }
    this.counters.tracesDecided++;
    // Every field in the literal: fields added later would go to a property store of their own.
    const decision: Decision = { kept: reduced !== undefined, ids: undefined, idAt: 0, ints: undefined, intAt: 0, spans: 0, ancestors: undefined };
    if (reduced) {
      this.counters.tracesKept++;
      for (const s of reduced.spans) this.output.push(s);
      // Remember where each span's late descendants will hang: under the span itself when it was
      // kept, else under its nearest kept ancestor (see late()).
      const n = trace.spans.length;
      let length = 0;
      for (let i = 0; i < n; i++) length += trace.spans[i]!.span.spanId.length;
      decision.spans = n;
      this.slabs.place(decision, length, 2 * n);
      const ints = decision.ints!;
      const intAt = decision.intAt!;
      const ids = decision.ids!;
      const idAt = decision.idAt!;
      // Byte by byte: ids are 8 bytes, and a set() call per span cost more than the copy.
      for (let i = 0, at = 0; i < n; i++) {
        const id = trace.spans[i]!.span.spanId;
        for (let b = 0; b < id.length; b++) ids[idAt + at++] = id[b]!;
        ints[intAt + i] = at;
        ints[intAt + n + i] = reduced.kept[i] ? -1 : reduced.keptAncestor[i]!;
      }
    }
    this.onDecision?.(trace, reduced);
    if (this.newest === t) this.newest = undefined;
    this.decided.set(t.key, decision);
    if (this.decided.size > this.cacheSize) this.decided.delete(this.decided.keys().next().value!);
  }

  private late(decision: Decision, located: LocatedSpan): void {
    // Input the budget has not heard of (the trace was decided without it): told with the next drain.
    if (this.envelopes) this.inputEnvelopeBytes += encodedSpanSize(located.span);
    if (!decision.kept) {
      this.counters.lateSpansDropped++;
      return;
    }
    this.counters.lateSpansForwarded++;
    const ancestors = (decision.ancestors ??= lateAncestors(decision));
    const ancestor = ancestors.get(spanKey(located.span.parentSpanId));
    ancestors.set(spanKey(located.span.spanId), null);
    if (!ancestor) {
      this.pushLate(located);
      return;
    }
    // Its parent was dropped: hang it under the parent's nearest kept ancestor, as the trace's own spans are.
    const span = { ...located.span, parentSpanId: ancestor, attributes: [...located.span.attributes, kv(SAMPLING_ATTR.SKIPPED_LEVELS, -1n)] };
    this.pushLate({ ...located, span });
  }

  private pushLate(located: LocatedSpan): void {
    this.output.push(located);
    // Bytes the budget has not heard of (their trace was decided without them): told with the next drain.
    if (this.envelopes) this.lateBytes += encodedSpanSize(located.span);
  }
}

/**
 * The map a decided trace's late spans look up: spanKey of each of its spans -> the id of its
 * nearest kept ancestor, null when the span itself was kept (a later copy of a duplicated id wins).
 */
function lateAncestors(decision: Decision): Map<string, Uint8Array | null> {
  const ancestors = new Map<string, Uint8Array | null>();
  const ids = decision.ids!;
  const ints = decision.ints!;
  const idAt = decision.idAt!;
  const intAt = decision.intAt!;
  const n = decision.spans!;
  const idOf = (i: number): Uint8Array => ids.subarray(idAt + (i === 0 ? 0 : ints[intAt + i - 1]!), idAt + ints[intAt + i]!);
  for (let i = 0; i < n; i++) {
    const a = ints[intAt + n + i]!;
    // A copy of the ancestor's id: the output must not pin a slab of other decisions.
    ancestors.set(spanKey(idOf(i)), a < 0 ? null : idOf(a).slice());
  }
  return ancestors;
}
