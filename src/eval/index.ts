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
export { CodecMeter, CODEC_NAMES, CODEC_LABELS, DEFAULT_BATCH_SIZES, LosslessError, isCodecName, type CodecName, type CodecMeasurement, type CodecMeterOptions } from './codecs.js';
export { spanFates, WaterfallCollector, type SpanFates, type WaterfallCollectorOptions } from './waterfalls.js';
export { quantile, TraceSample, timeSampling, timeTracezip } from './timing.js';
export { runEvaluation, strategyFigures, codecFigures, missRate, type RunEvaluationOptions, type StrategyEntry } from './run.js';
export * from './results.js';
export { runDemo, generatedInput, analyzeGeneratedServices, DEMO_DEFAULT_TRACES, DEMO_DEFAULT_SEED, DEMO_TARGET_REDUCTION, type DemoOptions } from './demo.js';
