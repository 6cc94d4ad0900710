// The samplers users run today, as strategies behind the one SamplingStrategy interface, so every
// comparison in the evaluation is made at the same byte budget on the same stream:
// - HeadSampler: OpenTelemetry's TraceIdRatioBased decision (same keep/drop for the same trace id).
// - TailSampler: the Collector's tail_sampling policies (errors, latency, probabilistic rest), with
//   an optional byte-budget mode.
// - RandomSpanSampler: span-level random sampling at a byte budget.
// - LeafAggregateSampler: leaf spans of one parent with the same name merged into one summary span,
//   like the Collector's span pruning processor.
// Hot path (sample): per-span work is integer hashing and typed arrays.
import { kv, type KeyValue } from '../model/index.js';
import type { SpanPatch } from './reduce.js';
import { ByteBudget, type SamplingStrategy } from './strategy.js';
import { spanHasError, type SampledTrace } from './trace.js';

/**
 * OpenTelemetry JS's TraceIdRatioBasedSampler value of a hex trace id: the XOR of its four 32-bit
 * words, or -1 when the id is not a valid trace id (32 hex digits, not all zero), which the SDK
 * never samples. Written the same way so the decisions match bit for bit.
 */
export function traceIdRatioValue(traceIdHex: string): number {
  if (traceIdHex.length !== 32) return -1;
  let acc = 0;
  let nonZero = false;
  for (let i = 0; i < 32; i += 8) {
    let part = 0;
    for (let j = 0; j < 8; j++) {
      const c = traceIdHex.charCodeAt(i + j);
      const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (v < 0) return -1;
      part = (part << 4) | v;
    }
    if (part !== 0) nonZero = true;
    acc = (acc ^ part) >>> 0;
  }
  return nonZero ? acc : -1;
}

/** The SDK's upper bound for a ratio: a trace is kept when its value is below it. */
export function traceIdRatioUpperBound(ratio: number): number {
  const r = typeof ratio !== 'number' || Number.isNaN(ratio) ? 0 : ratio >= 1 ? 1 : ratio <= 0 ? 0 : ratio;
  return r === 1 ? 0x100000000 : Math.floor(r * 0xffffffff);
}

/** Does TraceIdRatioBased(ratio) keep this trace? */
export function traceIdRatioKeeps(traceIdHex: string, ratio: number): boolean {
  const v = traceIdRatioValue(traceIdHex);
  return v >= 0 && v < traceIdRatioUpperBound(ratio);
}

/** murmur3's 32-bit finalizer: spreads a hash's bits so its low and high bits are both uniform. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform number in [0, 1) from an id's bytes and a seed (same inputs, same number). */
export function idUniform(id: Uint8Array, seed: number): number {
  let h = (0x811c9dc5 ^ fmix32(seed >>> 0)) >>> 0;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id[i]!, 0x01000193);
  return fmix32(h) / 0x100000000;
}

// ---------------------------------------------------------------------------------------------

export interface HeadSamplerOptions {
  /** Share of traces kept; default 1 - targetReduction. */
  ratio?: number;
  /** Default 0.8 (used only when no ratio is given). */
  targetReduction?: number;
}

/**
 * Head-based sampling: keep a trace when TraceIdRatioBased(ratio) would have sampled it, so an
 * offline run agrees with SDKs configured with that ratio. It does not look at the trace, so its
 * byte reduction is the ratio's only in expectation (traces differ in size).
 */
export class HeadSampler implements SamplingStrategy {
  readonly name = 'head';
  readonly ratio: number;
  private readonly upperBound: number;

  constructor(options: HeadSamplerOptions = {}) {
    this.ratio = options.ratio ?? 1 - (options.targetReduction ?? 0.8);
    if (!(this.ratio >= 0 && this.ratio <= 1)) throw new RangeError(`head sampling ratio must be in [0, 1], got ${this.ratio}`);
    this.upperBound = traceIdRatioUpperBound(this.ratio);
  }

  /** The decision by trace id alone: what the SDK's Sampler wrapper asks before a span exists. */
  keepsTraceId(traceIdHex: string): boolean {
    const v = traceIdRatioValue(traceIdHex);
    return v >= 0 && v < this.upperBound;
  }

  decide(trace: SampledTrace): boolean {
    return this.keepsTraceId(trace.traceIdHex);
  }
}

// ---------------------------------------------------------------------------------------------

export interface TailSamplerOptions {
  /** Keep every trace with an error span (default true). */
  keepErrors?: boolean;
  /** Keep every trace whose root lasted longer than this, in ms (default Infinity: off). */
  latencyThresholdMs?: number;
  /** Share of the other traces kept, by trace id (default 0.1). Ignored in byte-budget mode. */
  rate?: number;
  /**
   * Byte-budget mode: the share of the other traces follows a ByteBudget so the output is
   * (1 - targetReduction) of the input bytes, after the error and latency traces are paid for.
   */
  targetReduction?: number;
}

export interface TailSamplerCounters {
  traces: number;
  keptError: number;
  keptLatency: number;
  keptProbabilistic: number;
}

/**
 * Tail-based sampling with the policies of the Collector's tail_sampling processor: a trace with an
 * error span is kept, a trace whose root is slower than the latency threshold is kept, the rest are
 * kept by a hash of the trace id at a rate. The decision wait and the cap on traces held in memory
 * are the StreamingSampler's (decisionWaitMs, maxTraces), where this strategy runs in a server: it
 * decides a complete trace, it does not hold one.
 */
export class TailSampler implements SamplingStrategy {
  readonly name = 'tail';
  readonly budget: ByteBudget | undefined;
  readonly counters: TailSamplerCounters = { traces: 0, keptError: 0, keptLatency: 0, keptProbabilistic: 0 };
  private readonly keepErrors: boolean;
  private readonly latencyNs: number;
  private readonly rate: number;

  constructor(options: TailSamplerOptions = {}) {
    this.keepErrors = options.keepErrors ?? true;
    this.latencyNs = (options.latencyThresholdMs ?? Infinity) * 1e6;
    this.rate = options.rate ?? 0.1;
    if (!(this.rate >= 0 && this.rate <= 1)) throw new RangeError(`tail sampling rate must be in [0, 1], got ${this.rate}`);
    this.budget = options.targetReduction === undefined ? undefined : new ByteBudget({ targetReduction: options.targetReduction });
  }

  recordOutcome(inputBytes: number, outputBytes: number): void {
    this.budget?.record(inputBytes, outputBytes);
  }

  recordEnvelope(inputBytes: number, outputBytes: number): void {
    this.budget?.recordOverhead(inputBytes, outputBytes);
  }

  decide(trace: SampledTrace): boolean {
    this.counters.traces++;
    if (this.keepErrors) {
      for (const s of trace.spans)
        if (spanHasError(s.span)) {
          this.counters.keptError++;
          return true;
        }
    }
    if (trace.roots.length > 0 && trace.duration[trace.roots[0]!]! > this.latencyNs) {
      this.counters.keptLatency++;
      return true;
    }
    // In budget mode the rate is this trace's allowance over its size: kept whole with that
    // probability, the expected output is the allowance, and the budget's carry corrects the luck.
    const rate = this.budget ? Math.min(1, this.budget.allowance(trace.bytes) / Math.max(1, trace.bytes)) : this.rate;
    const v = traceIdRatioValue(trace.traceIdHex);
    const u = v >= 0 ? v / 0x100000000 : idUniform(trace.spans[0]?.span.traceId ?? new Uint8Array(0), 0);
    if (u < rate) {
      this.counters.keptProbabilistic++;
      return true;
    }
    return false;
  }
}

// ---------------------------------------------------------------------------------------------

export interface RandomSpanSamplerOptions {
  /** Default 0.8. */
  targetReduction?: number;
  /** Seed of the per-span draws (default 0). */
  seed?: number;
}

/**
 * Span-level random sampling: every trace is kept, each non-root span with probability p, drawn
 * from a hash of the seed and the span id (so a rerun keeps the same spans). p is the trace's byte
 * allowance beyond its roots over the bytes of its other spans, so the output follows the budget.
 */
export class RandomSpanSampler implements SamplingStrategy {
  readonly name = 'random-span';
  readonly budget: ByteBudget;
  private readonly seed: number;

  constructor(options: RandomSpanSamplerOptions = {}) {
    this.budget = new ByteBudget({ targetReduction: options.targetReduction ?? 0.8 });
    this.seed = options.seed ?? 0;
  }

  recordOutcome(inputBytes: number, outputBytes: number): void {
    this.budget.record(inputBytes, outputBytes);
  }

  recordEnvelope(inputBytes: number, outputBytes: number): void {
    this.budget.recordOverhead(inputBytes, outputBytes);
  }

  decide(trace: SampledTrace): Uint8Array {
    const n = trace.spans.length;
    const keep = new Uint8Array(n);
    let rootBytes = 0;
    for (const r of trace.roots) {
      keep[r] = 1;
      rootBytes += trace.size[r]!;
    }
    const rest = trace.bytes - rootBytes;
    if (rest <= 0) return keep;
    const p = (this.budget.allowance(trace.bytes) - rootBytes) / rest;
    if (p <= 0) return keep;
    for (let i = 0; i < n; i++) if (!keep[i] && idUniform(trace.spans[i]!.span.spanId, this.seed) < p) keep[i] = 1;
    return keep;
  }
}

// ---------------------------------------------------------------------------------------------

/** Attributes of a leaf-aggregate summary span (documented in docs/sampling.md by its owner). */
export const AGGREGATE_ATTR = {
  /** int: spans the summary stands for (itself included). */
  COUNT: 'slimtrace.aggregate.count',
  /** int: shortest duration among them, ns. */
  MIN_NS: 'slimtrace.aggregate.duration_min_ns',
  /** int: longest duration, ns. */
  MAX_NS: 'slimtrace.aggregate.duration_max_ns',
  /** int: sum of their durations, ns. */
  SUM_NS: 'slimtrace.aggregate.duration_sum_ns',
  /** int: the summary span's own duration before its times were widened to the group's, ns. */
  FIRST_NS: 'slimtrace.aggregate.first_duration_ns',
} as const;

export interface LeafAggregateOptions {
  /** Smallest group merged (default 2). */
  minGroup?: number;
}

interface LeafGroup {
  members: number[];
}

/**
 * Leaf-span aggregation, like the Collector's span pruning processor: leaf spans (no children)
 * under the same parent with the same name and service, in groups of at least `minGroup`, become
 * one summary span. The summary is the group's earliest span (its id stays, so links to it hold),
 * with the AGGREGATE_ATTR attributes, its start moved to the group's earliest start and its end to
 * the group's latest end (so the span covers the time the group took; the per-span figures are in
 * the attributes). The other members are dropped and left out of the parent's dropped-span summary,
 * as the summary span already accounts for them. Leaves with an error are never merged: they stay
 * as they are. Every other span is untouched; there is no byte budget.
 */
export class LeafAggregateSampler implements SamplingStrategy {
  readonly name = 'leaf-aggregate';
  private readonly minGroup: number;
  /** The groups of the last decided trace, for its patches (sampleTrace asks right after decide). */
  private last: { trace: SampledTrace; groups: LeafGroup[] } | undefined;

  constructor(options: LeafAggregateOptions = {}) {
    this.minGroup = options.minGroup ?? 2;
    if (!(this.minGroup >= 2)) throw new RangeError(`minGroup must be at least 2, got ${this.minGroup}`);
  }

  private groupsOf(trace: SampledTrace): LeafGroup[] {
    if (this.last?.trace === trace) return this.last.groups;
    const groups: LeafGroup[] = [];
    for (let p = 0; p < trace.spans.length; p++) {
      const children = trace.children[p]!;
      if (children.length < this.minGroup) continue;
      // children are in start order, so each group's first member is its earliest span.
      const byKey = new Map<string, number[]>();
      for (const c of children) {
        if (trace.children[c]!.length > 0 || spanHasError(trace.spans[c]!.span)) continue;
        const key = trace.service[c] + '\u0000' + trace.spans[c]!.span.name;
        let list = byKey.get(key);
        if (!list) byKey.set(key, (list = []));
        list.push(c);
      }
      for (const members of byKey.values()) if (members.length >= this.minGroup) groups.push({ members });
    }
    this.last = { trace, groups };
    return groups;
  }

  decide(trace: SampledTrace): Uint8Array | boolean {
    const groups = this.groupsOf(trace);
    if (groups.length === 0) return true;
    const keep = new Uint8Array(trace.spans.length).fill(1);
    for (const g of groups) for (let k = 1; k < g.members.length; k++) keep[g.members[k]!] = 0;
    return keep;
  }

  patches(trace: SampledTrace): { patches: ReadonlyMap<number, SpanPatch>; accounted: Uint8Array } {
    const groups = this.groupsOf(trace);
    const patches = new Map<number, SpanPatch>();
    const accounted = new Uint8Array(trace.spans.length);
    for (const g of groups) {
      const first = g.members[0]!;
      let start = trace.spans[first]!.span.startTimeUnixNano;
      let end = trace.spans[first]!.span.endTimeUnixNano;
      let min = Infinity;
      let max = 0;
      let sum = 0;
      for (const m of g.members) {
        const s = trace.spans[m]!.span;
        if (s.startTimeUnixNano < start) start = s.startTimeUnixNano;
        if (s.endTimeUnixNano > end) end = s.endTimeUnixNano;
        const d = trace.duration[m]!;
        if (d < min) min = d;
        if (d > max) max = d;
        sum += d;
        if (m !== first) accounted[m] = 1;
      }
      const attributes: KeyValue[] = [
        kv(AGGREGATE_ATTR.COUNT, BigInt(g.members.length)),
        kv(AGGREGATE_ATTR.MIN_NS, BigInt(Math.round(min))),
        kv(AGGREGATE_ATTR.MAX_NS, BigInt(Math.round(max))),
        kv(AGGREGATE_ATTR.SUM_NS, BigInt(Math.round(sum))),
        kv(AGGREGATE_ATTR.FIRST_NS, BigInt(Math.round(trace.duration[first]!))),
      ];
      patches.set(first, { attributes, startTimeUnixNano: start, endTimeUnixNano: end });
    }
    return { patches, accounted };
  }
}
