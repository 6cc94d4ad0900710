// The evaluation's results as one JSON document (results.json beside the HTML report, and what the
// report writer draws): what was read, each strategy's size and what it kept, each codec's bytes per
// batch size, timings, memory, and a few faulty traces span by span. Plain data only (numbers,
// strings, arrays, records) so `JSON.stringify` writes it and scripts read it without slimtrace.
// Sections a run did not measure are absent, never zero: a reader can tell "not measured" from "0".
import type { BudgetReport, TierBytes } from '../sampling/index.js';

export const EVALUATION_REPORT_FORMAT = 'slimtrace-evaluation';
/** Bumped when a field changes meaning or is removed; new optional fields do not bump it. */
export const EVALUATION_REPORT_VERSION = 1;

export type CoverageDefinition = 'exact' | 'slow' | 'proxy';

export interface CoverageFigure {
  faulty: number;
  kept: number;
  /** kept / faulty (1 when there are none). */
  share: number;
}

export interface StrategyFigures {
  strategy: string;
  description?: string;
  /** OTLP protobuf bytes of the input and of what the strategy wrote (512 spans a request). */
  inputBytes: number;
  outputBytes: number;
  /** 1 - outputBytes / inputBytes. */
  reduction: number;
  inputSpans: number;
  outputSpans: number;
  traces: number;
  tracesKept: number;
  /** Kept traces whose kept spans form the original tree minus the dropped ones. */
  tracesIntact: number;
  /** Share of trace-id lookups that find nothing in the reduced data: 1 - tracesKept / traces. */
  traceQueryMissRate: number;
  /** Share of (trace id, span id) lookups that find nothing: 1 - outputSpans / inputSpans. */
  spanQueryMissRate: number;
  coverage: Partial<Record<CoverageDefinition, CoverageFigure>>;
  /** definition -> fault type -> coverage. */
  coverageByType: Partial<Record<CoverageDefinition, Record<string, CoverageFigure>>>;
  /** The strategy's output compressed with Tracezip (stream mode, 512 spans a frame), when measured. */
  sampleThenTracezipBytes?: number;
  /** A strategy priced as Tracezip bytes: its output through its own meter's Tracezip stream, as its budget was told (its target is of these). */
  tracezipBytes?: number;
  /** Span bytes written by tier (spans whole, skeletons, dropped-span summaries), before batching. */
  tierBytes: TierBytes;
  /** What a tiered budget controller gave up, and why a target was out of reach (Autoscope). */
  budget?: BudgetReport;
  /** Seconds the strategy spent deciding and reducing, over the whole input. */
  seconds: number;
}

/** One codec's size at each batch size of `CodecFigures.batchSizes` (same order). */
export interface CodecRow {
  /** otlp-protobuf, otlp-gzip, otlp-zstd, tracezip, or `<strategy>+tracezip`. */
  codec: string;
  label: string;
  /** Spans the codec carried (the input's, or what the strategy kept for sample-then-compress). */
  spans: number;
  bytes: number[];
  /** bytes / spans of the *input*, so rows compare as the cost of shipping the same traffic. */
  bytesPerInputSpan: number[];
}

export interface CodecFigures {
  batchSizes: number[];
  rows: CodecRow[];
  /** Every Tracezip frame decoded back equal to the batch it was made from. */
  lossless: { checked: boolean; frames: number; spans: number; ok: boolean; problem?: string };
}

export interface TimingFigures {
  /** e.g. `sample autoscope`, `compress tracezip`, `decompress tracezip`. */
  stage: string;
  /** Units timed (traces). */
  count: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU seconds (user + system) per million input spans. */
  cpuSecondsPerMillionSpans: number;
}

/** What became of one original span in a strategy's reduced trace. */
export type SpanFate = 'kept' | 'reparented' | 'summarized' | 'dropped';

export interface WaterfallSpan {
  name: string;
  service: string;
  /** Index of the parent in the trace's span list, -1 for a root. */
  parent: number;
  depth: number;
  /** Start relative to the trace's earliest span, and duration, in milliseconds. */
  startMs: number;
  durationMs: number;
  error: boolean;
  /** Labelled faulty under any definition. */
  faulty: boolean;
  /** strategy -> fate. */
  fates: Record<string, SpanFate>;
  /** strategy -> dropped levels above this span when it was re-parented. */
  skipped?: Record<string, number>;
  /** strategy -> true when the span was kept as a skeleton (no attributes, events or links). */
  skeleton?: Record<string, boolean>;
}

export interface WaterfallTrace {
  traceId: string;
  faultTypes: string[];
  /** Spans in execution order (a parent before its children). */
  spans: WaterfallSpan[];
  /** Strategies whose fate every span records, in report order. */
  strategies: string[];
}

/** One strategy run at several targets: the trade-off curve. */
export interface TradeoffCurve {
  strategy: string;
  points: { targetReduction: number; reduction: number; coverage: number }[];
}

/** Bytes measured on the wire when the traffic went through an agent and a gateway. */
export interface PipelineFigures {
  description: string;
  spansIn: number;
  spansAtBackend: number;
  /** OTLP protobuf bytes the backend received (uncompressed), in the gateway's export requests. */
  otlpBytesAtBackend: number;
  /** OTLP protobuf bytes the agent received. */
  otlpBytesIn: number;
  /** Bytes from agent to gateway (Tracezip frames). */
  wireBytes: number;
  seconds: number;
}

/** Root-cause localisation scores (service level). */
export interface RcaScores {
  ac1: number;
  ac3: number;
  avg5: number;
  cases?: number;
}

export interface RcaMethodFigures {
  /** e.g. TraceRCA, MicroRank. */
  method: string;
  full: RcaScores;
  /** strategy -> scores on its reduced data. */
  reduced: Record<string, RcaScores>;
  /** Random chance at the same candidate count. */
  chance?: RcaScores;
}

export interface RcaFigures {
  methods: RcaMethodFigures[];
  note?: string;
}

export interface EvaluationReport {
  format: typeof EVALUATION_REPORT_FORMAT;
  version: typeof EVALUATION_REPORT_VERSION;
  /** ISO time the run ended. */
  createdAt: string;
  title: string;
  /** The command line that produced it, for the report's footer and docs. */
  command?: string;
  input: {
    description: string;
    spans: number;
    traces: number;
    otlpBytes: number;
    faults?: { count: number; byType: Record<string, number> };
    /** Faulty-span labels per definition, when the input has labels. */
    faultySpans?: Partial<Record<CoverageDefinition, number>>;
  };
  settings: {
    targetReduction: number;
    /** The faulty-span coverage aimed at (marked on the trade-off chart). */
    coverageGoal: number;
    decisionWaitMs: number;
    summaries: boolean;
    /** An analysis.json fed the code-aware strategies. */
    codeKnowledge: boolean;
    /** The strategy whose output is compressed in the combined pipeline and featured in waterfalls. */
    combinedStrategy?: string;
  };
  strategies: StrategyFigures[];
  codecs?: CodecFigures;
  timings?: TimingFigures[];
  resources?: { peakRssBytes: number; wallSeconds: number; cpuSeconds: number };
  waterfalls?: WaterfallTrace[];
  tradeoff?: TradeoffCurve[];
  pipeline?: PipelineFigures;
  /** Root-cause localisation on full versus reduced data (src/eval/rca.ts), when run. */
  rca?: RcaFigures;
  /** Steps the run took, with their wall seconds (the demo's progress). */
  steps?: { step: string; seconds: number; note?: string }[];
}
