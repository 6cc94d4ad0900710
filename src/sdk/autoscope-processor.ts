// Sampling inside the OpenTelemetry JS SDK, before anything is exported:
// - SamplingSpanProcessor: records every ended span of a trace, decides when the trace's local root
//   ends (a span without a parent or with a remote parent) with any slimtrace SamplingStrategy
//   (Autoscope, the baselines, the seed's), re-parents kept spans to their nearest kept ancestor
//   and passes them on to the wrapped processor (a BatchSpanProcessor with an OTLP exporter, say).
// - StrategySampler: an SDK Sampler for the head strategy (trace-ID ratio), for the SDK's `sampler`
//   option, so unsampled traces are not even recorded.
// Hot path (every span a process ends goes through onEnd): one map lookup and a push per span; the
// strategy runs once per local root.
import { TraceFlags, type Attributes, type Context, type SpanContext } from '@opentelemetry/api';
import type { ReadableSpan, Sampler, SamplingDecision, SamplingResult, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { bytesToHex, type LocatedSpan, type Span as ModelSpan } from '../model/index.js';
import { assembleTrace, isSkeletonScope, sampleTrace, SAMPLING_ATTR, SKELETON_MARKER, type ReduceOptions, type SamplingCounters, type SamplingStrategy } from '../sampling/index.js';
import { ReadableSpanConverter } from './from-readable.js';
import { toAttributes, toHrTime } from './readable.js';

// The SDK's SamplingDecision values (fixed by its Sampler contract). Only types come from the SDK
// package, so this module runs beside whichever SDK 2.x package the application installed
// (@opentelemetry/sdk-trace or the older @opentelemetry/sdk-trace-base) without loading a copy.
const NOT_RECORD = 0 as SamplingDecision.NOT_RECORD;
const RECORD_AND_SAMPLED = 2 as SamplingDecision.RECORD_AND_SAMPLED;

export interface SamplingSpanProcessorOptions {
  strategy: SamplingStrategy;
  /** Where kept spans go. */
  next: SpanProcessor;
  /** Ended spans held for one trace; past it the trace is decided without waiting for its root (default 10,000). */
  maxSpansPerTrace?: number;
  /** Traces held at once; past it the least recently active one is decided early (default 10,000). */
  maxTraces?: number;
  /** Decided traces remembered so their late spans follow the decision (default 10,000). */
  decisionCacheSize?: number;
  reduce?: ReduceOptions;
}

/**
 * tracesDecidedEarly: decided before the local root ended (a cap, forceFlush or shutdown); late
 * spans: ended after their trace was decided (children outliving their local root).
 */
export interface SamplingSpanProcessorCounters extends SamplingCounters {
  /** Spans the SDK recorded without the sampled flag: passed on untouched (the next processor drops them). */
  unsampledSpans: number;
}

interface OpenTrace {
  id: string;
  spans: ReadableSpan[];
}

interface Decision {
  kept: boolean;
  /** span id hex -> nearest kept ancestor's span id hex ('' when the span itself was kept). */
  ancestors: Map<string, string>;
}

function isLocalRoot(span: ReadableSpan): boolean {
  const p = span.parentSpanContext;
  return p === undefined || p.isRemote === true;
}

/** A copy of `orig` under another parent and/or with the model span's added attributes and times. */
function changedSpan(orig: ReadableSpan, model: ModelSpan, originalAttributeCount: number, parentHex: string | undefined, skeleton: boolean): ReadableSpan {
  const ctx = orig.spanContext();
  let parentSpanContext: SpanContext | undefined = orig.parentSpanContext;
  if (parentHex !== undefined) parentSpanContext = { traceId: ctx.traceId, spanId: parentHex, traceFlags: ctx.traceFlags, isRemote: false };
  // A skeleton's attributes are the reducer's only; the SDK's scopes carry no attributes, so its tier marker goes on the span.
  const added = skeleton ? [SKELETON_MARKER, ...model.attributes] : model.attributes.slice(originalAttributeCount);
  const attributes: Attributes = skeleton ? toAttributes(added) : added.length > 0 ? { ...orig.attributes, ...toAttributes(added) } : orig.attributes;
  const start = toHrTime(model.startTimeUnixNano);
  const end = toHrTime(model.endTimeUnixNano);
  return {
    name: orig.name,
    kind: orig.kind,
    spanContext: () => ctx,
    parentSpanContext,
    startTime: start,
    endTime: end,
    duration: toHrTime(model.endTimeUnixNano - model.startTimeUnixNano),
    status: orig.status,
    attributes,
    links: skeleton ? [] : orig.links,
    events: skeleton ? [] : orig.events,
    ended: true,
    resource: orig.resource,
    instrumentationScope: orig.instrumentationScope,
    droppedAttributesCount: skeleton ? model.droppedAttributesCount : orig.droppedAttributesCount,
    droppedEventsCount: skeleton ? model.droppedEventsCount : orig.droppedEventsCount,
    droppedLinksCount: skeleton ? model.droppedLinksCount : orig.droppedLinksCount,
  };
}

/**
 * A SpanProcessor that samples at span level inside the SDK. Every sampled span that ends is held
 * with its trace; when the trace's local root ends, the strategy decides the held spans and the
 * kept ones go to `next` (spans unchanged when their parent was kept, otherwise copies under the
 * nearest kept ancestor with `slimtrace.sampling.skipped_levels`, plus any attributes the reducer
 * adds). Spans that end after their trace was decided follow its decision: dropped with a dropped
 * trace, otherwise passed on under their nearest kept ancestor (skipped_levels -1: not counted).
 * A trace with several local roots in this process (two incoming requests of one trace) is decided
 * once per local root. onStart is not passed on: `next` sees only the spans it will export.
 */
export class SamplingSpanProcessor implements SpanProcessor {
  readonly counters: SamplingSpanProcessorCounters = { spansIn: 0, spansOut: 0, tracesDecided: 0, tracesKept: 0, tracesDecidedEarly: 0, lateSpansForwarded: 0, lateSpansDropped: 0, unsampledSpans: 0 };
  private readonly strategy: SamplingStrategy;
  private readonly next: SpanProcessor;
  private readonly maxSpansPerTrace: number;
  private readonly maxTraces: number;
  private readonly cacheSize: number;
  private readonly reduceOptions: ReduceOptions | undefined;
  private readonly converter = new ReadableSpanConverter();
  /** Open traces, least recently active first (touching re-inserts). */
  private readonly open = new Map<string, OpenTrace>();
  private readonly decided = new Map<string, Decision>();
  private isShutdown = false;

  constructor(options: SamplingSpanProcessorOptions) {
    this.strategy = options.strategy;
    this.next = options.next;
    this.maxSpansPerTrace = options.maxSpansPerTrace ?? 10_000;
    this.maxTraces = options.maxTraces ?? 10_000;
    this.cacheSize = options.decisionCacheSize ?? 10_000;
    this.reduceOptions = options.reduce;
    if (!(this.maxSpansPerTrace >= 1) || !(this.maxTraces >= 1)) throw new RangeError('span and trace caps must be at least 1');
  }

  /** Traces and spans waiting for their local root. */
  get pending(): { traces: number; spans: number } {
    let spans = 0;
    for (const t of this.open.values()) spans += t.spans.length;
    return { traces: this.open.size, spans };
  }

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    if (this.isShutdown) return;
    const ctx = span.spanContext();
    if ((ctx.traceFlags & TraceFlags.SAMPLED) === 0) {
      this.counters.unsampledSpans++;
      this.next.onEnd(span);
      return;
    }
    this.counters.spansIn++;
    const id = ctx.traceId;
    const decision = this.decided.get(id);
    const parent = span.parentSpanContext;
    if (decision && parent && !parent.isRemote && decision.ancestors.has(parent.spanId)) {
      this.late(decision, span, parent.spanId);
      return;
    }
    let t = this.open.get(id);
    if (t) this.open.delete(id);
    else t = { id, spans: [] };
    t.spans.push(span);
    this.open.set(id, t);
    if (isLocalRoot(span)) this.decide(t);
    else if (t.spans.length >= this.maxSpansPerTrace) {
      this.counters.tracesDecidedEarly++;
      this.decide(t);
    }
    while (this.open.size > this.maxTraces) {
      this.counters.tracesDecidedEarly++;
      this.decide(this.open.values().next().value!);
    }
  }

  /** Decides every held trace now (their roots have not ended), then flushes `next`. */
  async forceFlush(): Promise<void> {
    this.decideAll();
    await this.next.forceFlush();
  }

  async shutdown(): Promise<void> {
    if (this.isShutdown) return;
    this.decideAll();
    this.isShutdown = true;
    await this.next.shutdown();
  }

  private decideAll(): void {
    for (const t of [...this.open.values()]) {
      this.counters.tracesDecidedEarly++;
      this.decide(t);
    }
  }

  private decide(t: OpenTrace): void {
    this.open.delete(t.id);
    const located: LocatedSpan[] = new Array(t.spans.length);
    const original = new Map<ModelSpan, ReadableSpan>();
    for (let i = 0; i < t.spans.length; i++) {
      located[i] = this.converter.convert(t.spans[i]!);
      original.set(located[i]!.span, t.spans[i]!);
    }
    const trace = assembleTrace(t.id, located);
    const reduced = sampleTrace(this.strategy, trace, this.reduceOptions);
    this.counters.tracesDecided++;
    let decision = this.decided.get(t.id);
    if (decision) this.decided.delete(t.id);
    else decision = { kept: reduced !== undefined, ancestors: new Map() };
    this.decided.set(t.id, decision);
    if (this.decided.size > this.cacheSize) this.decided.delete(this.decided.keys().next().value!);
    const hex = trace.spans.map((s) => bytesToHex(s.span.spanId));
    if (!reduced) {
      // Its late spans are dropped too (a trace dropped once stays dropped).
      decision.kept = false;
      for (const h of hex) decision.ancestors.set(h, '');
      return;
    }
    this.counters.tracesKept++;
    const byId = new Map<string, number>();
    for (let i = 0; i < hex.length; i++) if (!byId.has(hex[i]!)) byId.set(hex[i]!, i);
    for (const s of reduced.spans) {
      const spanHex = bytesToHex(s.span.spanId);
      const same = original.get(s.span);
      if (same) {
        this.emit(same);
        continue;
      }
      // A copy: re-parented, summarized or patched. Find the ReadableSpan it came from.
      const i = byId.get(spanHex)!;
      const orig = t.spans[i]!;
      const before = trace.spans[i]!.span;
      const parentHex = s.span.parentSpanId === before.parentSpanId ? undefined : bytesToHex(s.span.parentSpanId);
      this.emit(changedSpan(orig, s.span, before.attributes.length, parentHex, isSkeletonScope(s.scope)));
    }
    // Where each span's late children will hang: itself when kept, else its nearest kept ancestor.
    for (let i = 0; i < hex.length; i++) {
      const a = reduced.kept[i] ? -1 : reduced.keptAncestor[i]!;
      decision.ancestors.set(hex[i]!, a < 0 ? '' : hex[a]!);
    }
  }

  private late(decision: Decision, span: ReadableSpan, parentHex: string): void {
    const spanHex = span.spanContext().spanId;
    if (!decision.kept) {
      this.counters.lateSpansDropped++;
      decision.ancestors.set(spanHex, '');
      return;
    }
    this.counters.lateSpansForwarded++;
    const ancestor = decision.ancestors.get(parentHex)!;
    decision.ancestors.set(spanHex, '');
    if (ancestor === '') {
      this.emit(span);
      return;
    }
    const converted = this.converter.convert(span).span;
    const attrs = [...converted.attributes, { key: SAMPLING_ATTR.SKIPPED_LEVELS, value: -1n }];
    this.emit(changedSpan(span, { ...converted, attributes: attrs }, converted.attributes.length, ancestor, false));
  }

  private emit(span: ReadableSpan): void {
    this.counters.spansOut++;
    this.next.onEnd(span);
  }
}

/** What a head strategy offers the SDK: a decision from the trace id alone. */
export interface TraceIdStrategy {
  readonly name: string;
  keepsTraceId(traceIdHex: string): boolean;
}

/**
 * An SDK Sampler from a head strategy (HeadSampler: the trace-ID ratio), for the SDK's `sampler`
 * option. It decides on the trace id only, like TraceIdRatioBasedSampler; wrap it in
 * ParentBasedSampler({ root }) to follow the caller's decision for spans with a parent.
 */
export class StrategySampler implements Sampler {
  constructor(readonly strategy: TraceIdStrategy) {}

  shouldSample(_context: Context, traceId: string): SamplingResult {
    return { decision: this.strategy.keepsTraceId(traceId) ? RECORD_AND_SAMPLED : NOT_RECORD };
  }

  toString(): string {
    const ratio = (this.strategy as { ratio?: number }).ratio;
    return `StrategySampler{${this.strategy.name}${ratio === undefined ? '' : `, ratio=${ratio}`}}`;
  }
}
