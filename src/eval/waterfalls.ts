// What became of each span of a trace under a strategy (kept, re-parented, summarized into a kept
// span, dropped), and the collector that picks a few faulty traces during an evaluation and records
// every strategy's fates for them: the report's waterfalls. A fate is read from the reduced trace
// the strategy actually wrote, not from its decision flags, so what is shown is what was shipped.
import { bytesToHex } from '../model/index.js';
import type { FaultySpans } from '../datasets/index.js';
import { AGGREGATE_ATTR, isSkeletonScope, parseDroppedSummary, SAMPLING_ATTR, spanHasError, type ReducedTrace, type SampledTrace } from '../sampling/index.js';
import type { SpanFate, WaterfallSpan, WaterfallTrace } from './results.js';

export interface SpanFates {
  fates: SpanFate[];
  /** Dropped levels above each re-parented span (0 for the others). */
  skipped: number[];
  /** Kept as a skeleton (ids, parent, name, kind, times, status; no attributes or events): Autoscope's cheaper tier. */
  skeleton: boolean[];
}

const DEFINITIONS = ['exact', 'slow', 'proxy'] as const;

/**
 * The fate of every span of `trace` (by index) in `reduced` (undefined: the trace was dropped).
 * A dropped span is "summarized" when a kept span accounts for it: its nearest kept ancestor's
 * dropped-span summary names its service and operation, or a kept span of the same service and
 * name under the same kept ancestor is a leaf-aggregate summary. Otherwise it is "dropped".
 */
export function spanFates(trace: SampledTrace, reduced: ReducedTrace | undefined): SpanFates {
  const n = trace.spans.length;
  if (!reduced) return { fates: new Array<SpanFate>(n).fill('dropped'), skipped: new Array<number>(n).fill(0), skeleton: new Array<boolean>(n).fill(false) };
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const id = bytesToHex(trace.spans[i]!.span.spanId);
    if (!index.has(id)) index.set(id, i);
  }
  const kept = new Uint8Array(n);
  const skeleton = new Array<boolean>(n).fill(false);
  const summaries = new Set<string>();
  for (const s of reduced.spans) {
    const i = index.get(bytesToHex(s.span.spanId));
    if (i === undefined) continue;
    kept[i] = 1;
    if (isSkeletonScope(s.scope)) skeleton[i] = true;
    for (const a of s.span.attributes) {
      if (a.key === SAMPLING_ATTR.TIER && a.value === 'skeleton') skeleton[i] = true;
      else if (a.key === SAMPLING_ATTR.DROPPED && typeof a.value === 'string') {
        for (const op of parseDroppedSummary(a.value, trace.service[i]!)) summaries.add(`${i}\u0000${op.service}\u0000${op.name}`);
      } else if (a.key === AGGREGATE_ATTR.COUNT) {
        summaries.add(`${nearestKept(trace, kept, i)}\u0000${trace.service[i]}\u0000${s.span.name}`);
      }
    }
  }
  const fates: SpanFate[] = [];
  const skipped: number[] = [];
  for (let i = 0; i < n; i++) {
    if (kept[i]) {
      let levels = 0;
      let p = trace.parent[i]!;
      while (p >= 0 && !kept[p]) {
        levels++;
        p = trace.parent[p]!;
      }
      fates.push(levels > 0 ? 'reparented' : 'kept');
      skipped.push(levels);
    } else {
      const a = nearestKept(trace, kept, i);
      fates.push(summaries.has(`${a}\u0000${trace.service[i]}\u0000${trace.spans[i]!.span.name}`) ? 'summarized' : 'dropped');
      skipped.push(0);
    }
  }
  return { fates, skipped, skeleton };
}

/** Nearest kept proper ancestor of span i, -1 when none. */
function nearestKept(trace: SampledTrace, kept: Uint8Array, i: number): number {
  let p = trace.parent[i]!;
  while (p >= 0 && !kept[p]) p = trace.parent[p]!;
  return p;
}

export interface WaterfallCollectorOptions {
  faultySpans: FaultySpans;
  /** fault id -> fault type (read when a trace is picked; generated traffic fills it as it streams). */
  faultType: (faultId: string) => string | undefined;
  /** Strategies in report order; the first one's decisions pick the traces. */
  strategies: readonly string[];
  /** Traces to keep (default 4). */
  maxTraces?: number;
  /** Traces larger than this are not picked: a waterfall should fit a screen (default 60 spans). */
  maxSpans?: number;
}

/**
 * Picks faulty traces as the first strategy decides them, one per fault type first (a trace that
 * shows a type not yet shown), and records every strategy's fates for the picked traces.
 */
export class WaterfallCollector {
  private readonly picked = new Map<string, { trace: SampledTrace; out: WaterfallTrace; faultIds: string[] }>();
  private readonly typesShown = new Set<string>();
  private readonly max: number;
  private readonly maxSpans: number;

  constructor(private readonly options: WaterfallCollectorOptions) {
    this.max = options.maxTraces ?? 4;
    this.maxSpans = options.maxSpans ?? 60;
  }

  observe(strategy: string, trace: SampledTrace, reduced: ReducedTrace | undefined): void {
    let entry = this.picked.get(trace.traceIdHex);
    if (!entry) {
      if (strategy !== this.options.strategies[0] || this.picked.size >= this.max || trace.spans.length > this.maxSpans) return;
      const described = this.describe(trace);
      if (!described) return;
      // Generated traffic knows its fault types only at the end: a fault's id stands in until then.
      const kinds = described.faultIds.map((id) => this.options.faultType(id) ?? id);
      const fresh = kinds.some((t) => !this.typesShown.has(t));
      // One trace per fault type, so the picks are not all the first fault's traces.
      if (!fresh) return;
      for (const t of kinds) this.typesShown.add(t);
      entry = { trace, ...described };
      this.picked.set(trace.traceIdHex, entry);
    }
    const { fates, skipped, skeleton } = spanFates(trace, reduced);
    entry.trace.order.forEach((i, row) => {
      const s = entry.out.spans[row]!;
      s.fates[strategy] = fates[i]!;
      if (skipped[i]! > 0) (s.skipped ??= {})[strategy] = skipped[i]!;
      if (skeleton[i]) (s.skeleton ??= {})[strategy] = true;
    });
  }

  /** The trace's rows in execution order, or undefined when no span of it is labelled faulty. */
  private describe(trace: SampledTrace): { out: WaterfallTrace; faultIds: string[] } | undefined {
    const f = this.options.faultySpans;
    const faultIds = new Set<string>();
    const faulty = trace.spans.map((l) => {
      let any = false;
      for (const d of DEFINITIONS) {
        const ids = f.faultsOf(l.span.traceId, l.span.spanId, d);
        if (ids.length > 0) any = true;
        for (const id of ids) faultIds.add(id);
      }
      return any;
    });
    if (faultIds.size === 0) return undefined;
    let t0 = Infinity;
    for (const l of trace.spans) t0 = Math.min(t0, Number(l.span.startTimeUnixNano / 1000n));
    const row = new Int32Array(trace.spans.length);
    trace.order.forEach((i, k) => (row[i] = k));
    const depth = new Int32Array(trace.spans.length);
    const spans: WaterfallSpan[] = [];
    for (const i of trace.order) {
      const l = trace.spans[i]!;
      const p = trace.parent[i]!;
      depth[i] = p >= 0 ? depth[p]! + 1 : 0;
      const dur = l.span.endTimeUnixNano - l.span.startTimeUnixNano;
      spans.push({
        name: l.span.name,
        service: trace.service[i]!,
        parent: p >= 0 ? row[p]! : -1,
        depth: depth[i]!,
        startMs: (Number(l.span.startTimeUnixNano / 1000n) - t0) / 1000,
        durationMs: dur > 0n ? Number(dur / 1000n) / 1000 : 0,
        error: spanHasError(l.span),
        faulty: faulty[i]!,
        fates: {},
      });
    }
    return { out: { traceId: trace.traceIdHex, faultTypes: [], spans, strategies: [...this.options.strategies] }, faultIds: [...faultIds] };
  }

  /** The picked traces, fault types resolved now (generated traffic knows them only at the end). */
  traces(): WaterfallTrace[] {
    return [...this.picked.values()].map(({ out, faultIds }) => ({ ...out, faultTypes: [...new Set(faultIds.map((id) => this.options.faultType(id) ?? 'unknown'))].sort() }));
  }
}
