// The named strategies `slimtrace sample --strategy NAME` and the evaluation run, built from one set
// of options, so the CLI, the evaluation and the benchmark compare the same configurations.
import { AutoscopeSampler } from './autoscope.js';
import { HeadSampler, LeafAggregateSampler, RandomSpanSampler, TailSampler } from './baselines.js';
import type { CodeKnowledge } from './code-knowledge.js';
import { ImportanceSampler, StructurePreservingSampler } from './seed.js';
import { ByteBudget, type SamplingStrategy } from './strategy.js';
import { AdaptiveBudget, AdaptiveSampler } from './adaptive.js';

export const STRATEGY_NAMES = ['autoscope', 'autoscope-paper', 'autoscope-mined', 'head', 'tail', 'random-span', 'leaf-aggregate', 'importance', 'structure-preserving'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

export const STRATEGY_DESCRIPTIONS: Record<StrategyName, string> = {
  autoscope: 'Autoscope with code knowledge (analysis.json) and mined structure, plus error/outlier/novel-path keeping',
  'autoscope-paper': "Autoscope as the paper's artifact does it: code DSSs, top score per DSS, nothing else",
  'autoscope-mined': 'Autoscope without source: DSSs mined from traffic only',
  head: "head-based, trace-ID ratio (OpenTelemetry's TraceIdRatioBased)",
  tail: 'tail-based: error traces, slow traces, the rest by trace id within the byte budget',
  'random-span': 'random span-level sampling within the byte budget',
  'leaf-aggregate': "leaf spans of one name under one parent merged into a summary span (the Collector's span pruning)",
  importance: "the seed's importance score: top-k kept, the rest at score/10 with a 1% floor",
  'structure-preserving': 'the importance sampler plus the ancestors of every kept span',
};

export interface StrategyOptions {
  targetReduction: number;
  code?: CodeKnowledge;
  /** Tail sampling: traces whose root is slower than this are kept (ms). */
  latencyThresholdMs?: number;
  businessKeywords?: readonly string[];
  seed?: number;
  /**
   * Adaptive budget: the output may use this many OTLP bytes per second; the target reduction then
   * follows the load (from targetReduction up) for the strategies with a byte budget.
   */
  bytesPerSecond?: number;
  /** Clock of the adaptive budget in ms (default Date.now; offline runs pass the data's time). */
  clock?: () => number;
  /** Autoscope: keep the path to the root of every anomaly (default true). */
  anomalyPaths?: boolean;
  /** Autoscope: whether dropped-span summaries are written (default true), so its controller prices them. */
  summaries?: boolean;
  /**
   * Autoscope: what a kept byte is, OTLP protobuf (default) or Tracezip's bytes for sample-then-compress
   * (AutoscopeOptions.price); the target reduction is then of the Tracezip output against the input's OTLP.
   */
  price?: 'otlp' | 'tracezip';
  /** Autoscope: let the controller drop quiet traces whole while its budget is in debt (AutoscopeOptions.dropQuietTraces; default false). */
  dropQuietTraces?: boolean;
  /**
   * Autoscope: how far, in average trace shares, the anomalies of a burst may run the byte budget into
   * debt before any is dropped (AutoscopeOptions.borrowTraces; default 1000). Higher keeps more of a
   * long fault's spans and ends an input that much over the target (docs/sampling.md).
   */
  debtLimit?: number;
}

/** The strategies with Autoscope's tiered budget controller, which alone take price, dropQuietTraces and debtLimit (autoscope-paper has none). */
export function hasTieredBudget(name: StrategyName): boolean {
  return name === 'autoscope' || name === 'autoscope-mined';
}

export function isStrategyName(name: string): name is StrategyName {
  return (STRATEGY_NAMES as readonly string[]).includes(name);
}

export function createStrategy(name: StrategyName, options: StrategyOptions): SamplingStrategy {
  const strategy = createFixed(name, options);
  if (options.bytesPerSecond === undefined) return strategy;
  const budget = (strategy as { budget?: unknown }).budget;
  if (!(budget instanceof ByteBudget)) throw new RangeError(`strategy ${name} has no byte budget to adapt`);
  const adaptive = new AdaptiveBudget({ bytesPerSecondBudget: options.bytesPerSecond, clock: options.clock, minReduction: options.targetReduction, initialReduction: options.targetReduction });
  return new AdaptiveSampler(strategy as SamplingStrategy & { budget: ByteBudget }, adaptive);
}

function createFixed(name: StrategyName, options: StrategyOptions): SamplingStrategy {
  const r = options.targetReduction;
  const price = options.price ?? 'otlp';
  const dropQuietTraces = options.dropQuietTraces ?? false;
  const tiered = hasTieredBudget(name);
  if (price !== 'otlp' && !tiered) throw new RangeError(`only autoscope and autoscope-mined price kept bytes as Tracezip, not ${name}`);
  if (dropQuietTraces && !tiered) throw new RangeError(`only autoscope and autoscope-mined drop quiet traces, not ${name}`);
  const borrowTraces = options.debtLimit;
  if (borrowTraces !== undefined && !tiered) throw new RangeError(`only autoscope and autoscope-mined have a debt limit, not ${name}`);
  switch (name) {
    case 'autoscope':
      return new AutoscopeSampler({ targetReduction: r, code: options.code, anomalyPaths: options.anomalyPaths, summaries: options.summaries, price, dropQuietTraces, borrowTraces });
    case 'autoscope-paper':
      return new AutoscopeSampler({ targetReduction: r, code: options.code, paperOnly: true });
    case 'autoscope-mined':
      return new AutoscopeSampler({ targetReduction: r, name: 'autoscope-mined', anomalyPaths: options.anomalyPaths, summaries: options.summaries, price, dropQuietTraces, borrowTraces });
    case 'head':
      return new HeadSampler({ targetReduction: r });
    case 'tail':
      return new TailSampler({ targetReduction: r, latencyThresholdMs: options.latencyThresholdMs });
    case 'random-span':
      return new RandomSpanSampler({ targetReduction: r, seed: options.seed });
    case 'leaf-aggregate':
      return new LeafAggregateSampler();
    case 'importance':
      return new ImportanceSampler({ targetReduction: r, businessKeywords: options.businessKeywords, seed: options.seed });
    case 'structure-preserving':
      return new StructurePreservingSampler(new ImportanceSampler({ targetReduction: r, businessKeywords: options.businessKeywords, seed: options.seed }));
  }
}
