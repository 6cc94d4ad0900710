// Public surface of the evaluation room. IMPORTANT: exports added here are public API of slimtrace.
export { TraceStatsAccumulator, StatsLimitError, DEFAULT_MAX_STATS_SPANS, type TraceStatsOptions, type TraceStatsSummary } from './stats.js';
export { evaluateSampling, checkReducedTrace, groundTruthOptions, OtlpByteCounter, type StrategyResult, type Coverage, type EvaluateSamplingOptions } from './sampling.js';
export {
  RcaCollector,
  RcaLimitError,
  rankFaults,
  scoreCases,
  hitsAt,
  traceRcaScores,
  microRankScores,
  rcaFaultsFromGenerator,
  rcaFaultsFromDataset,
  RCA_METHODS,
  DEFAULT_MAX_RCA_SPANS,
  type RcaFault,
  type RcaCase,
  type RcaResult,
  type RcaScore,
  type RcaMethod,
  type RcaOptions,
  type RcaSpan,
  type RcaSpectrum,
} from './rca.js';
