// Measures sampling strategies against ground truth, the way docs/sampling.md reports them: OTLP
// protobuf bytes before and after (spans re-batched 512 per request, as an SDK's batch processor
// would send them), spans kept, traces kept and structurally intact, and faulty-span coverage per
// definition (exact, slow, proxy), overall and per fault type. Every strategy sees the same stream
// through its own StreamingSampler, so what is measured is what the streaming processor writes.
import { bytesToHex, SpanBatcher, type LocatedSpan, type TracesData } from '../model/index.js';
import { encodeTracesData } from '../otlp/index.js';
import type { FaultDefinition, FaultySpans, GroundTruth } from '../datasets/index.js';
import { RcaCollector, type RcaFault, type RcaOptions, type RcaResult } from './rca.js';
import { dataClockMs, StreamingSampler, type BudgetReport, type ReduceOptions, type ReducedTrace, type SampledTrace, type SamplingStrategy, type TierBytes } from '../sampling/index.js';
import { tracezipByteMeter } from '../tracezip/index.js';

const DEFINITIONS: readonly FaultDefinition[] = ['exact', 'slow', 'proxy'];

/** Sums the OTLP protobuf size of a span stream cut into requests of `batchSpans` spans. */
export class OtlpByteCounter {
  bytes = 0;
  spans = 0;
  private readonly batcher: SpanBatcher;

  constructor(batchSpans = 512) {
    this.batcher = new SpanBatcher(batchSpans);
  }

  add(located: LocatedSpan): void {
    this.spans++;
    const full = this.batcher.push(located.span, located.resourceSpans, located.scopeSpans);
    if (full) this.bytes += encodeTracesData(full).length;
  }

  addData(data: TracesData): void {
    for (const rs of data.resourceSpans) for (const ss of rs.scopeSpans) for (const span of ss.spans) this.add({ span, resource: rs.resource, scope: ss.scope, resourceSpans: rs, scopeSpans: ss });
  }

  finish(): number {
    const last = this.batcher.flush();
    if (last) this.bytes += encodeTracesData(last).length;
    return this.bytes;
  }
}

export interface Coverage {
  faulty: number;
  kept: number;
  /** kept / faulty (1 when there are none). */
  share: number;
}

export interface StrategyResult {
  strategy: string;
  inputBytes: number;
  outputBytes: number;
  /** 1 - output / input. */
  reduction: number;
  inputSpans: number;
  outputSpans: number;
  traces: number;
  tracesKept: number;
  /** Kept traces whose kept spans form the original tree minus the dropped spans (see checkReducedTrace). */
  tracesIntact: number;
  coverage: Partial<Record<FaultDefinition, Coverage>>;
  /** definition -> fault type -> coverage. */
  coverageByType: Partial<Record<FaultDefinition, Record<string, Coverage>>>;
  /** Span bytes written by tier (spans whole, skeletons, dropped-span summaries), before batching. */
  tierBytes: TierBytes;
  /** What a tiered budget controller had to give up, and why a target was out of reach (Autoscope). */
  budget?: BudgetReport;
  /**
   * A strategy priced as Tracezip bytes (priceUnit 'tracezip'): what its output took through a
   * Tracezip stream in frames of 512 spans, as its budget was told; its target is of these bytes.
   */
  tracezipBytes?: number;
  seconds: number;
  /** Root-cause localisation on the full input and on this strategy's output (when faults were given). */
  rca?: { full: RcaResult; reduced: RcaResult };
}

/**
 * Checks a reduced trace against the original: the original's local roots are all kept as roots,
 * and every other kept span's parent is its nearest kept ancestor in the original tree (its
 * original parent when that was kept). Returns the first problem, or undefined when intact.
 */
export function checkReducedTrace(trace: SampledTrace, reduced: ReducedTrace): string | undefined {
  const n = trace.spans.length;
  const hex = trace.spans.map((s) => bytesToHex(s.span.spanId));
  const keptIds = new Set<string>();
  for (const s of reduced.spans) keptIds.add(bytesToHex(s.span.spanId));
  const byId = new Map<string, number>();
  for (let i = 0; i < n; i++) if (!byId.has(hex[i]!)) byId.set(hex[i]!, i);
  for (const r of trace.roots) if (!keptIds.has(hex[r]!)) return `root ${hex[r]} was dropped`;
  for (const s of reduced.spans) {
    const id = bytesToHex(s.span.spanId);
    const i = byId.get(id);
    if (i === undefined) return `span ${id} is not in the original trace`;
    let a = trace.parent[i]!;
    while (a >= 0 && !keptIds.has(hex[a]!)) a = trace.parent[a]!;
    const parent = bytesToHex(s.span.parentSpanId);
    if (a < 0) {
      if (parent !== bytesToHex(trace.spans[i]!.span.parentSpanId)) return `root ${id} got parent ${parent}`;
    } else if (parent !== hex[a]) return `span ${id} hangs under ${parent}, its nearest kept ancestor is ${hex[a]}`;
  }
  return undefined;
}

export interface EvaluateSamplingOptions {
  batches: AsyncIterable<TracesData>;
  strategies: SamplingStrategy[];
  /** Faulty-span labels; may still be filled while the batches stream (generated traffic labels as it goes). */
  faultySpans?: FaultySpans;
  /** fault id -> fault type, read at the end. */
  faultTypes?: () => ReadonlyMap<string, string>;
  /** Decision wait in the data's own time (default 30 s). */
  decisionWaitMs?: number;
  reduce?: ReduceOptions;
  onProgress?: (spans: number) => void;
  /** Fault cases (service + window) to localise on the full and every reduced stream (see rca.ts). */
  rcaFaults?: readonly RcaFault[];
  rcaOptions?: RcaOptions;
  /** Every strategy's decision on every trace (the report's waterfalls and timing sample watch these). */
  onDecision?: (strategy: string, trace: SampledTrace, reduced: ReducedTrace | undefined) => void;
  /** Everything a strategy wrote, as it writes it (sample-then-compress measures this). */
  onOutput?: (strategy: string, data: TracesData) => void;
}

interface Accumulator {
  strategy: SamplingStrategy;
  sampler: StreamingSampler;
  out: OtlpByteCounter;
  /** Kept traces that passed checkReducedTrace. */
  intact: { count: number };
  /** definition -> kept faulty span keys. */
  kept: Map<FaultDefinition, Set<string>>;
  tierBytes: TierBytes;
  seconds: number;
  rca?: RcaCollector;
  /** Tracezip bytes measured for a strategy priced as Tracezip (undefined otherwise). */
  wire?: { bytes: number };
}

/** Runs every strategy over the batches and measures them. */
export async function evaluateSampling(options: EvaluateSamplingOptions): Promise<StrategyResult[]> {
  const faulty = options.faultySpans;
  const input = new OtlpByteCounter();
  const accs: Accumulator[] = options.strategies.map((strategy) => {
    const intact = { count: 0 };
    const kept = new Map(DEFINITIONS.map((d) => [d, new Set<string>()]));
    const tierBytes: TierBytes = { full: 0, skeleton: 0, summary: 0 };
    const wire = strategy.priceUnit === 'tracezip' ? { bytes: 0 } : undefined;
    const meter = wire ? tracezipByteMeter(512) : undefined;
    const sampler = new StreamingSampler({
      strategy,
      decisionWaitMs: options.decisionWaitMs ?? 30_000,
      reduce: options.reduce,
      // A strategy priced as Tracezip bytes hears what its output takes, in frames of a request's spans.
      ...(meter && wire
        ? {
            wireMeter: (d: TracesData): number => {
              const b = meter(d);
              wire.bytes += b;
              return b;
            },
          }
        : {}),
      onDecision: (trace, reduced) => {
        options.onDecision?.(strategy.name, trace, reduced);
        if (!reduced) return;
        tierBytes.full += reduced.tierBytes.full;
        tierBytes.skeleton += reduced.tierBytes.skeleton;
        tierBytes.summary += reduced.tierBytes.summary;
        if (checkReducedTrace(trace, reduced) === undefined) intact.count++;
        if (faulty) {
          for (const s of reduced.spans) {
            for (const d of DEFINITIONS) if (faulty.isFaulty(s.span.traceId, s.span.spanId, d)) kept.get(d)!.add(bytesToHex(s.span.traceId) + bytesToHex(s.span.spanId));
          }
        }
      },
    });
    const rca = options.rcaFaults ? new RcaCollector(options.rcaFaults, options.rcaOptions) : undefined;
    return { strategy, sampler, out: new OtlpByteCounter(), intact, kept, tierBytes, seconds: 0, rca, wire };
  });
  const fullRca = options.rcaFaults ? new RcaCollector(options.rcaFaults, options.rcaOptions) : undefined;
  let clockMs = -Infinity;

  for await (const batch of options.batches) {
    input.addData(batch);
    fullRca?.add(batch);
    clockMs = dataClockMs(batch, clockMs);
    for (const acc of accs) {
      const t0 = performance.now();
      acc.sampler.push(batch, clockMs);
      const out = acc.sampler.poll(clockMs);
      acc.seconds += (performance.now() - t0) / 1000;
      if (out) {
        acc.out.addData(out);
        acc.rca?.add(out);
        options.onOutput?.(acc.strategy.name, out);
      }
    }
    options.onProgress?.(input.spans);
  }
  for (const acc of accs) {
    const t0 = performance.now();
    const out = acc.sampler.flush();
    acc.seconds += (performance.now() - t0) / 1000;
    if (out) {
      acc.out.addData(out);
      acc.rca?.add(out);
      options.onOutput?.(acc.strategy.name, out);
    }
  }
  const full = fullRca?.result();
  const inputBytes = input.finish();
  const faultType = options.faultTypes?.() ?? new Map<string, string>();
  return accs.map((acc) => {
    const outputBytes = acc.out.finish();
    const coverage: StrategyResult['coverage'] = {};
    const coverageByType: StrategyResult['coverageByType'] = {};
    if (faulty) {
      for (const d of DEFINITIONS) {
        const total = faulty.count(d);
        if (total === 0) continue;
        const keptSet = acc.kept.get(d)!;
        coverage[d] = { faulty: total, kept: keptSet.size, share: keptSet.size / total };
        const byType: Record<string, Coverage> = {};
        for (const [key, faults] of faulty.entries(d)) {
          const types = new Set(faults.map((f) => faultType.get(f) ?? 'unknown'));
          for (const t of types) {
            const c = (byType[t] ??= { faulty: 0, kept: 0, share: 1 });
            c.faulty++;
            if (keptSet.has(key)) c.kept++;
          }
        }
        for (const c of Object.values(byType)) c.share = c.faulty === 0 ? 1 : c.kept / c.faulty;
        coverageByType[d] = byType;
      }
    }
    return {
      strategy: acc.strategy.name,
      inputBytes,
      outputBytes,
      reduction: inputBytes === 0 ? 0 : 1 - outputBytes / inputBytes,
      inputSpans: input.spans,
      outputSpans: acc.out.spans,
      traces: acc.sampler.counters.tracesDecided,
      tracesKept: acc.sampler.counters.tracesKept,
      tracesIntact: acc.intact.count,
      coverage,
      coverageByType,
      tierBytes: acc.tierBytes,
      budget: acc.strategy.budgetReport?.(),
      ...(acc.wire ? { tracezipBytes: acc.wire.bytes } : {}),
      seconds: acc.seconds,
      ...(full && acc.rca ? { rca: { full, reduced: acc.rca.result() } } : {}),
    };
  });
}

/** The evaluation's ground-truth options from a dataset's labels. */
export function groundTruthOptions(truth: GroundTruth | undefined): Pick<EvaluateSamplingOptions, 'faultySpans' | 'faultTypes'> {
  if (!truth?.faultySpans) return {};
  const types = new Map(truth.faults.map((f) => [f.id, f.type as string]));
  return { faultySpans: truth.faultySpans, faultTypes: () => types };
}
