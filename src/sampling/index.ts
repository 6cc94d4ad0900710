// Public surface of the sampling room. IMPORTANT: exports added here are public API of slimtrace.
export { assembleTrace, assembleTraces, spanHasError, type SampledTrace } from './trace.js';
export { reduceTrace, keepWholeTrace, toTracesData, SAMPLING_ATTR, KEEP_FULL, KEEP_SKELETON, skeletonSpan, skeletonSize, skeletonScopeSpans, isSkeletonScope, SKELETON_MARKER, formatDroppedSummary, parseDroppedSummary, type DroppedOperation, type ReduceOptions, type ReducedTrace, type SummaryLevel, type TierBytes } from './reduce.js';
export { sampleTrace, ByteBudget, type SamplingStrategy, type ByteBudgetOptions, type BudgetReport } from './strategy.js';
export { SortedWindow, RobustScore, type RobustScoreOptions } from './robust-stats.js';
export { OperationTable } from './operations.js';
export { MinedStructure, type MinedStructureOptions } from './mined.js';
export { CodeKnowledge, codeKnowledgeFromAnalysis, readCodeKnowledge, type CodeSpanInfo } from './code-knowledge.js';
export { AutoscopeSampler, AUTOSCOPE_REASONS, type AutoscopeOptions, type AutoscopeCounters, type AutoscopeDecisionDetail } from './autoscope.js';
export { StreamingSampler, dataClockMs, type StreamingSamplerOptions, type StreamingSamplerCounters, type SamplingCounters } from './processor.js';
export type { SpanPatch } from './reduce.js';
export { HeadSampler, TailSampler, RandomSpanSampler, LeafAggregateSampler, AGGREGATE_ATTR, traceIdRatioKeeps, traceIdRatioValue, idUniform, type HeadSamplerOptions, type TailSamplerOptions, type TailSamplerCounters, type RandomSpanSamplerOptions, type LeafAggregateOptions } from './baselines.js';
export { ImportanceSampler, StructurePreservingSampler, IMPORTANCE_WEIGHTS, DEFAULT_BUSINESS_KEYWORDS, type ImportanceOptions } from './seed.js';
export { STRATEGY_NAMES, STRATEGY_DESCRIPTIONS, createStrategy, hasTieredBudget, isStrategyName, type StrategyName, type StrategyOptions } from './registry.js';
export { AdaptiveBudget, AdaptiveSampler, type AdaptiveBudgetOptions, type AdaptiveMetrics } from './adaptive.js';
