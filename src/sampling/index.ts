// Public surface of the sampling room. IMPORTANT: exports added here are public API of slimtrace.
export { assembleTrace, assembleTraces, spanHasError, type SampledTrace } from './trace.js';
export { reduceTrace, keepWholeTrace, toTracesData, SAMPLING_ATTR, type ReduceOptions, type ReducedTrace } from './reduce.js';
export { sampleTrace, ByteBudget, type SamplingStrategy, type ByteBudgetOptions } from './strategy.js';
export { SortedWindow, RobustScore, type RobustScoreOptions } from './robust-stats.js';
export { OperationTable } from './operations.js';
export { MinedStructure, type MinedStructureOptions } from './mined.js';
export { CodeKnowledge, codeKnowledgeFromAnalysis, readCodeKnowledge, type CodeSpanInfo } from './code-knowledge.js';
export { AutoscopeSampler, type AutoscopeOptions, type AutoscopeCounters } from './autoscope.js';
export { StreamingSampler, type StreamingSamplerOptions, type StreamingSamplerCounters } from './processor.js';
