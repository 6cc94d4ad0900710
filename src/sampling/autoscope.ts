// Autoscope (arXiv 2509.13852): span-level sampling that keeps every trace but only the spans that
// matter. Each span maps to the code that produces it (analysis.json) or to structure mined from
// traffic; the trace's execution tree is cut into Dominant Span Sets (DSS) at the points where the
// code can branch; inside a DSS spans are ranked by a robust z-score of their duration against spans
// at the same position in traces of the same shape; at least one span per DSS is kept, more while
// the byte budget allows. On top of the paper (on by default, off in the `autoscope-paper` variant):
// spans with errors, latency outliers and spans on a rarely seen path are kept with their path to the
// root, the subtree under the deepest error of a chain as that error's cause, shape statistics back off to per-operation statistics for rare shapes, and a byte budget
// (not a span count) sets how much is kept. What is kept is priced by tier (anomalies whole; roots,
// paths and representatives as skeletons; dropped spans as summaries) and a budget controller
// degrades by tier before it gives up coverage (fitBudget). Hot path: typed arrays per trace, numeric keys.
import { ATTR, SpanKind } from '../model/index.js';
import type { CodeKnowledge } from './code-knowledge.js';
import { MinedStructure, type MinedStructureOptions } from './mined.js';
import { FNV_OFFSET, fnvMix, fnvString, OperationTable } from './operations.js';
import { PairTable } from './pair-table.js';
import { RobustScore, ScoreTable, type RobustScoreOptions } from './robust-stats.js';
import { KEEP_FULL, KEEP_SKELETON, skeletonSize, type SummaryLevel } from './reduce.js';
import { ByteBudget, type BudgetReport, type SamplingStrategy } from './strategy.js';
import { spanHasError, type SampledTrace } from './trace.js';

export interface AutoscopeOptions {
  /** Strategy name in reports (default `autoscope`, or `autoscope-paper` with paperOnly). */
  name?: string;
  /** Fraction of OTLP bytes to drop (default 0.8). */
  targetReduction?: number;
  /** Code knowledge from analysis.json; without it only mined structure splits DSSs. */
  code?: CodeKnowledge;
  /** Learn DSSs from traffic for what the code does not explain (default true). */
  mined?: boolean;
  minedOptions?: MinedStructureOptions;
  /** Only what the paper does: no error/outlier/novel-path keeping, no statistics back-off, MAD 0 scores 0. */
  paperOnly?: boolean;
  /** Keep spans with errors and their path to the root (default true unless paperOnly). */
  keepErrors?: boolean;
  /** Keep the path to the root of every error, outlier and novel-path span (default true); without it they hang under their nearest kept ancestor. */
  anomalyPaths?: boolean;
  /** Also the path to the root of novel-path spans (default true). */
  novelPaths?: boolean;
  /**
   * A latency outlier (kept with its path) is slower than the `outlierQuantile` of its operation's
   * recent normal durations and has a per-operation robust z-score above `outlierZ` (default 3;
   * Infinity turns the rule off).
   */
  outlierZ?: number;
  /** Default 0.99. */
  outlierQuantile?: number;
  /**
   * A span whose per-edge robust z-score is above this is an outlier whatever the quantile says
   * (default 10; Infinity turns it off): a fault that lasts minutes fills more than 1% of the edge's
   * window with its own slow spans, the quantile rises to them, while median and MAD, being robust,
   * still tell them apart (measured: z 30-1,800 under a p99 they just missed on the TrainTicket data).
   */
  outlierStrongZ?: number;
  /**
   * Once a call edge has had an outlier, for `outlierBurstMs` of data time its spans are outliers
   * on this z-score alone, whatever the quantile (default 5; Infinity turns it off; the sweep in
   * docs/sampling.md).
   * A fault on an edge that carries little traffic lifts its quantile after one or two of its
   * spans (the window of a rare edge is short, its 99th percentile its largest values), while
   * median and MAD still tell the faulty spans apart.
   */
  outlierBurstZ?: number;
  /** How long an edge stays in a burst after its last outlier (default 120 s of data time). */
  outlierBurstMs?: number;
  /**
   * The burst rule holds only while the edge's window has fewer durations than this (default 100):
   * there a 99th percentile is the window's few largest values, which one admitted faulty span
   * lifts; a busy edge's percentile holds, and z alone there flags too much normal traffic.
   */
  outlierBurstMaxCount?: number;
  /**
   * On a busy edge (at least outlierBurstMaxCount durations), once it has had an outlier, for
   * outlierBurstMs its quantile is held at most at what it was then (default true): the fault's own
   * slow spans, those not flagged and one in outlierAdmitEvery of those flagged, must not raise the
   * bar they are measured against. The z-score rule stands as it is.
   */
  outlierBurstHold?: boolean;
  /**
   * After an error, an outlier or a novel path of an operation, every span of that (service,
   * operation) is kept for this long, in the data's time (default 120 s; 0 turns it off): a fault
   * rarely marks every span it touches, but it marks some of them first.
   */
  hotWindowMs?: number;
  /**
   * A SERVER span is slow by itself (kept whole with its path, reason `self`) when its self time
   * (its duration less its children's) is above its call edge's `outlierQuantile` of self times
   * and its robust z-score there is above this (default 3; Infinity turns the rule off).
   */
  selfTimeZ?: number;
  /** What makes an operation hot: only errors (default), or errors, outliers and novel paths. */
  hotOn?: 'errors' | 'anomalies';
  /**
   * Flagged outliers join the normal window one time in this many (default 4; 6 before the sweep of
   * issue 14: trastrainer slow 98.8% -> 99.4% at 0.85, nezha unchanged, 3 cost nezha two exact
   * spans): a fault that slows an operation for minutes must not become its baseline, yet a lasting
   * change must.
   */
  outlierAdmitEvery?: number;
  /** Keep spans whose path signature has been seen in less than this share of their operation's spans (default 0.02; 0 turns it off). */
  novelPathShare?: number;
  /**
   * How much a path kept as novel counts toward its signature's share (default 0.03): like outliers,
   * a fault's repeats must not become the baseline within minutes. Above novelPathShare so a path
   * that becomes most of an operation's traffic (a deploy: more than 0.02/0.03 = 2/3 of it) does
   * stop being novel in time.
   */
  novelAdmitWeight?: number;
  /** Spans a (shape, position) key needs before its statistics are used instead of the operation's (default 20). */
  minShapeSamples?: number;
  /** Statistics keys kept before the oldest are forgotten (default 200,000): the memory bound. */
  maxStatisticsKeys?: number;
  window?: number;
  deviationWindow?: number;
  /** Durations per call edge (parent operation, operation) behind the outlier quantile and the back-off scores (default 2000). */
  operationWindow?: number;
  /** A DSS whose best score is below this keeps its smallest span instead (default 2; the paper keeps the best-scoring span always). */
  representativeMinScore?: number;
  /**
   * Price what is kept by tier and let the budget controller degrade by tier (default true unless
   * paperOnly): anomalies whole, roots, anomaly paths and representatives as skeletons, see fitBudget.
   */
  tiers?: boolean;
  /** An outlier with a slower-than-usual descendant is that descendant's path, not an outlier of its own (default true unless paperOnly). */
  deepestSlow?: boolean;
  /**
   * With deepestSlow, a span above an outlier whose own edge z-score is above this is a slow caller
   * too (kept as a skeleton when paths are summarized), though not above its edge's quantile
   * (default 6, chosen by scripts/anomaly-sweep.ts: 3 summarized too many other path spans on
   * trastrainer; Infinity: only outliers). A fault's callers are slow by the fault's time, and their
   * edges' quantiles rise with it just as the faulty span's does.
   */
  slowCallerZ?: number;
  /**
   * Spans below the deepest error of each error chain kept as skeletons, at most this many per error
   * (breadth first; default 64, 0 turns it off). An error whose descendants all succeeded was
   * caused by what they answered (a call that returned a wrong value, an early return taken on it):
   * tail sampling keeps the whole trace for that, this keeps the failing call's subtree.
   */
  errorCauseSpans?: number;
  /**
   * The controller summarizes DSS representatives before the spans of hot operations (default true:
   * hot spans are near an error, representatives near nothing; generated traffic's slow coverage
   * 84.8% -> 92.0% at 0.85, the datasets unchanged).
   */
  hotAfterRepresentatives?: boolean;
  /** Whether the reducer writes dropped-span summaries (default true): the controller prices them. */
  summaries?: boolean;
  /**
   * What a kept byte is (default 'otlp'): OTLP protobuf bytes, or, for sample-then-compress, the
   * bytes Tracezip will send. Tracezip sends a span's ids and times at full cost and most of its
   * attributes for a reference into the tree, so a skeleton costs about what a whole span does, and
   * the budget is better spent on fewer spans kept whole than on many skeletons. With 'tracezip' a
   * kept span is priced `tracezipSpanBytes` plus a small share of the OTLP bytes beyond its skeleton;
   * the streaming processor, given a Tracezip meter, reports what the output really took
   * (recordEncoded), which corrects the budget and the per-span price. Needs tiers.
   */
  price?: 'otlp' | 'tracezip';
  /** With price 'tracezip': the starting per-span price in bytes (default 24; learned from recordEncoded). */
  tracezipSpanBytes?: number;
  /** The byte budget aims this much above the target (default 0.015, 0 with paperOnly or price 'tracezip'): the OTLP requests' envelopes, which the budget does not see (ByteBudgetOptions.margin). */
  budgetMargin?: number;
  /**
   * While the output is over the target, the byte budget aims this much above it (default 0.002, 0
   * with paperOnly), so the anomalies' debt (borrowTraces) is paid back instead of held: held, it
   * was ~0.1 point at the end of trastrainer at 0.85 (ByteBudgetOptions.aim).
   */
  budgetAim?: number;
  /** Credit (in average trace shares) kept back from budget fill for the anomalies of later traces (default 10; they may also borrow, see borrowTraces). */
  reserveTraces?: number;
  /** Debt (in average trace shares) anomalies may run into, as skeletons, before any is dropped (default 1000). */
  borrowTraces?: number;
  /**
   * Debt (in average trace shares) the paths of anomalies may run into before they are summarized
   * (default 10, 30 with dropQuietTraces): a path is a few skeletons, and a slow span's callers are slow too (a fault's
   * `slow` spans are often an outlier's path). Past that debt the paths are summarized as before,
   * so an input whose anomalies alone overrun the budget does not lend to paths what its anomalies need.
   */
  pathBorrowTraces?: number;
  /**
   * Let the controller drop a quiet trace whole (nothing anomalous in it: no error, outlier, novel
   * path, slow caller, cause or self time; hot spans only) while the budget is in debt (default
   * false: Autoscope keeps every trace).
   * The last tier before coverage, for targets past what every root costs: in Tracezip's bytes a
   * root is its random ids and times, about 40 bytes, ~0.9% of generated traffic's and trastrainer's
   * OTLP, so at 98% the roots alone take half of what the target leaves. The traces it drops are
   * counted (step `quiet-traces-dropped`) and are query misses (docs/sampling.md).
   */
  dropQuietTraces?: boolean;
  /** Called after each decision with why each span was selected before and after the budget controller (diagnostics: scripts/coverage-misses.ts). */
  inspect?: (trace: SampledTrace, detail: AutoscopeDecisionDetail) => void;
}

/** One decision, span by span (indexes of the trace's spans), for diagnostics. */
export interface AutoscopeDecisionDetail {
  /** Keep reason before the budget controller (0: not selected; see AUTOSCOPE_REASONS). */
  selected: Uint8Array;
  /** Keep reason after it. */
  reason: Uint8Array;
  /** KEEP_FULL, KEEP_SKELETON or 0. */
  keep: Uint8Array;
  /** Robust z-score used for ranking, and the per-call-edge z-score with the edge's quantile at outlierQuantile. */
  score: Float64Array;
  edgeZ: Float64Array;
  edgeQuantile: Float64Array;
  /** Share of the operation's spans with this span's path signature (1 while too few were seen). */
  signatureShare: Float64Array;
}

/** Why each kept span was kept (counts over all traces seen): the accounting the docs report. */
export interface AutoscopeCounters {
  traces: number;
  spans: number;
  dss: number;
  keptRoot: number;
  keptError: number;
  keptOutlier: number;
  keptNovel: number;
  keptHot: number;
  keptCause: number;
  keptRepresentative: number;
  keptBudget: number;
  keptPath: number;
  keptSelf: number;
  /** OTLP bytes of the kept spans by reason, same order as the counts. */
  bytesByReason: { root: number; error: number; outlier: number; novel: number; hot: number; cause: number; representative: number; budget: number; path: number; self: number };
}

const REASON_ROOT = 1;
const REASON_ERROR = 2;
const REASON_OUTLIER = 3;
const REASON_NOVEL = 4;
const REASON_REPRESENTATIVE = 5;
const REASON_BUDGET = 6;
const REASON_PATH = 7;
const REASON_HOT = 8;
/** A caller made slow by a slower span below it: on that span's path, kept as a skeleton even when paths are summarized. */
const REASON_SLOW_CALLER = 9;
/** Below the deepest error of its chain: what the failing call did (errorCauseSpans). */
const REASON_CAUSE = 10;
/**
 * The server side of a slow CLIENT span that has no slow span below it: with the slow client span it
 * tells time spent in the callee from time spent on the way (network delay, a saturated callee's
 * queue), which is what root-cause ranking needs to blame the callee rather than the caller.
 */
const REASON_CALLEE = 11;
/**
 * A SERVER span whose own work (self time) is slow for its call edge, though its duration is not: a
 * fault that slows a service's work (CPU contention) hides in the spread of its spans' durations,
 * which their callees' latency makes wide. Ranked with novel paths, under outliers and slow callers.
 */
const REASON_SELF = 12;
/** Names of the keep reasons by number (AutoscopeDecisionDetail). */
export const AUTOSCOPE_REASONS = ['none', 'root', 'error', 'outlier', 'novel', 'representative', 'budget', 'path', 'hot', 'slow-caller', 'cause', 'callee', 'self'] as const;
/** How important a kept span is when bytes are short (0: not an anomaly): errors last to be degraded or dropped. */
const ANOMALY_RANK = [0, 0, 5, 4, 2, 0, 0, 0, 1, 3, 2, 3, 2];
/** The self-time z-score's floor, as a share of the edge's median self time (and at least 1 µs). */
const SELF_FLOOR_SHARE = 0.2;
/** The re-parenting attribute (`slimtrace.sampling.skipped_levels`, a small int), in OTLP bytes. */
const REPARENT_BYTES = 41;
/** The summary attribute's key and framing, and one entry's numbers and separators (a typical width). */
const SUMMARY_ATTR_BYTES = 34;
const SUMMARY_ENTRY_BYTES = 14;
/**
 * With price 'tracezip' (measured on the generated traffic's sampled output, scripts in
 * docs/sampling.md): attributes beyond a skeleton's fields cost about this share of their OTLP bytes
 * (most are a reference into the SRT), a summary about this share of its text, and the
 * re-parenting attribute (a small int under a key the tree holds) about this many bytes.
 */
const TRACEZIP_DETAIL_SHARE = 0.03;
const TRACEZIP_SUMMARY_SHARE = 0.3;
const TRACEZIP_REPARENT_BYTES = 2;
const STEP_NAMES = ['anomalies-to-skeleton', 'hot-to-summary', 'summaries-to-totals', 'representatives-to-summary', 'summaries-dropped', 'paths-to-summary', 'quiet-traces-dropped', 'anomalies-dropped'] as const;

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/**
 * A typed array reused as a trace's working array: at least as long as asked, its first `n` entries
 * reset. Read only below `n` (the rest is an earlier trace's).
 */
class Reused<T extends Float64Array | Int32Array | Uint32Array | Uint8Array> {
  private buf: T;
  constructor(private readonly make: (n: number) => T) {
    this.buf = make(64);
  }

  take(n: number, fill = 0): T {
    if (this.buf.length < n) this.buf = this.make(Math.max(n, 2 * this.buf.length));
    this.buf.fill(fill, 0, n);
    return this.buf;
  }
}

/**
 * The arrays a decision works in that do not outlive it (the keep flags do: they are the decision).
 * Allocated per trace they were some fifteen typed arrays per fifteen spans, most of the sampler's
 * own garbage. `below` serves the slow-below and error-below passes, which do not overlap.
 */
class DecisionWork {
  readonly ops = new Reused((n) => new Int32Array(n));
  readonly score = new Reused((n) => new Float64Array(n));
  readonly edgeZ = new Reused((n) => new Float64Array(n));
  readonly outlier = new Reused((n) => new Uint8Array(n));
  readonly selfSlow = new Reused((n) => new Uint8Array(n));
  readonly dss = new Reused((n) => new Int32Array(n));
  readonly signature = new Reused((n) => new Uint32Array(n));
  readonly childOps = new Reused((n) => new Int32Array(n));
  readonly childFrom = new Reused((n) => new Int32Array(n));
  readonly reason = new Reused((n) => new Uint8Array(n));
  readonly slowCaller = new Reused((n) => new Uint8Array(n));
  readonly below = new Reused((n) => new Uint8Array(n));
  readonly isError = new Reused((n) => new Uint8Array(n));
  readonly best = new Reused((n) => new Int32Array(n));
  readonly smallest = new Reused((n) => new Int32Array(n));
  readonly dssKept = new Reused((n) => new Uint8Array(n));
}

export class AutoscopeSampler implements SamplingStrategy {
  readonly name: string;
  readonly budget: ByteBudget;
  readonly operations = new OperationTable();
  readonly counters: AutoscopeCounters = { traces: 0, spans: 0, dss: 0, keptRoot: 0, keptError: 0, keptOutlier: 0, keptNovel: 0, keptHot: 0, keptCause: 0, keptRepresentative: 0, keptBudget: 0, keptPath: 0, keptSelf: 0, bytesByReason: { root: 0, error: 0, outlier: 0, novel: 0, hot: 0, cause: 0, representative: 0, budget: 0, path: 0, self: 0 } };
  private readonly code: CodeKnowledge | undefined;
  private readonly mined: MinedStructure | undefined;
  private readonly paperOnly: boolean;
  private readonly keepErrors: boolean;
  private readonly anomalyPaths: boolean;
  private readonly novelPaths: boolean;
  private readonly outlierZ: number;
  private readonly outlierQuantile: number;
  private readonly outlierStrongZ: number;
  private readonly outlierBurstZ: number;
  private readonly outlierBurstMs: number;
  private readonly outlierBurstMaxCount: number;
  /** Call edge -> data time (ms) until which its spans are judged by outlierBurstZ. */
  private readonly burstUntil = new Map<number, number>();
  private readonly outlierBurstHold: boolean;
  /** Busy edges in a burst: the data time it lasts till, and the quantile held since it began. */
  private readonly heldQuantile = new Map<number, { until: number; quantile: number }>();
  private readonly hotWindowMs: number;
  /** operation id -> time (ms, data time) until which its spans are all kept. */
  private readonly hotUntil = new Map<number, number>();
  /** Flagged outliers join the normal window only one time in this many, so a fault does not become the baseline. */
  private outlierAdmit = 0;
  private readonly outlierAdmitEvery: number;
  /** What a kept byte is (AutoscopeOptions.price). */
  readonly priceUnit: 'otlp' | 'tracezip';
  /** Price 'tracezip': bytes per kept span, learned from recordEncoded. */
  private tracezipSpanBytes: number;
  private readonly reparentPrice: number;
  private readonly summaryPrice: number;
  /** Price 'tracezip': the share of a whole span's OTLP bytes beyond its skeleton that Tracezip sends (learned with the per-span price). */
  private tracezipDetailShare = TRACEZIP_DETAIL_SHARE;
  /** Price 'tracezip': since the last recordEncoded, what the decisions charged, the OTLP bytes of kept spans beyond their skeletons, and the summaries' and re-parentings' part of the charge. */
  private chargedSinceEncoded = 0;
  private detailSinceEncoded = 0;
  private extraSinceEncoded = 0;
  /** Price 'tracezip': the fit of measured bytes = perSpan * spans + detailShare * detail over the reports (decaying sums). */
  private readonly fit = { ss: 0, sd: 0, dd: 0, sy: 0, dy: 0, n: 0 };
  /** The last decision's estimated cost in the price's unit, its kept spans' OTLP bytes beyond their skeletons, and its summaries' and re-parentings' part. */
  private lastCost = 0;
  private lastDetail = 0;
  private lastExtra = 0;
  private readonly novelAdmitWeight: number;
  private readonly hotOn: 'errors' | 'anomalies';
  private readonly novelPathShare: number;
  private readonly minShapeSamples: number;
  private readonly maxKeys: number;
  private readonly window: number;
  private readonly deviationWindow: number;
  private readonly operationWindow: number;
  private readonly representativeMinScore: number;
  private readonly tiers: boolean;
  private readonly deepestSlow: boolean;
  private readonly slowCallerZ: number;
  private readonly summaries: boolean;
  private readonly errorCauseSpans: number;
  private readonly hotAfterRepresentatives: boolean;
  private readonly reserveTraces: number;
  private readonly borrowTraces: number;
  private readonly pathBorrowTraces: number;
  private readonly dropQuietTraces: boolean;
  private readonly selfTimeZ: number;
  private readonly inspect: AutoscopeOptions['inspect'];
  private lastLevel: SummaryLevel | undefined;
  private readonly steps: Record<string, number> = Object.fromEntries(STEP_NAMES.map((s) => [s, 0]));
  private readonly stepSpans: Record<string, number> = Object.fromEntries(STEP_NAMES.map((s) => [s, 0]));
  /** Input bytes seen by the controller, and the cheapest form of what had to stay in them. */
  private inputBytes = 0;
  private minimumBytes = 0;
  private skelCache = new Float64Array(64);
  private skelTrace: SampledTrace | undefined;
  private ancScratch = new Int32Array(64);
  /** The fit under way in fitBudget: the estimated cost, the summary level, and the cost past which it degrades. */
  private fitCost = 0;
  private fitLevel: SummaryLevel = 'operations';
  private fitDegradeAt = 0;
  /** The summaries estimate() has priced: (kept span, -1) for its attribute, (kept span, operation or service) per entry. */
  private readonly summarized = new PairTable();
  /** (parent's DSS, operation) -> the DSS it opened, in the decision under way. */
  private readonly opened = new PairTable();
  /** The decision's working arrays, reused from trace to trace (see DecisionWork). */
  private readonly work = new DecisionWork();
  /** Statistics by (shape, position) and by call edge: number-keyed tables in a Map's insertion order (ScoreTable). */
  private readonly shapeStats = new ScoreTable();
  private readonly opStats = new ScoreTable();
  /** Self times of SERVER spans per call edge (selfTimeZ). */
  private readonly selfStats = new ScoreTable();
  /** What each table's statistics are made with. */
  private readonly shapeOptions: RobustScoreOptions;
  private readonly opOptions: RobustScoreOptions;
  private readonly selfOptions: RobustScoreOptions;

  constructor(options: AutoscopeOptions = {}) {
    this.paperOnly = options.paperOnly ?? false;
    this.name = options.name ?? (this.paperOnly ? 'autoscope-paper' : 'autoscope');
    this.priceUnit = options.price ?? 'otlp';
    if (this.priceUnit !== 'otlp' && this.priceUnit !== 'tracezip') throw new RangeError(`price must be 'otlp' or 'tracezip', got ${String(this.priceUnit)}`);
    if (this.priceUnit === 'tracezip' && (options.paperOnly || options.tiers === false)) throw new RangeError("price 'tracezip' needs the tiers (not with paperOnly or tiers: false)");
    this.tracezipSpanBytes = options.tracezipSpanBytes ?? 24;
    if (!(this.tracezipSpanBytes > 0)) throw new RangeError(`tracezipSpanBytes must be > 0, got ${this.tracezipSpanBytes}`);
    const tz = this.priceUnit === 'tracezip';
    this.reparentPrice = tz ? TRACEZIP_REPARENT_BYTES : REPARENT_BYTES;
    this.summaryPrice = tz ? TRACEZIP_SUMMARY_SHARE : 1;
    this.budget = new ByteBudget({ targetReduction: options.targetReduction ?? 0.8, margin: options.budgetMargin ?? (options.paperOnly || tz ? 0 : 0.015), aim: options.budgetAim ?? (options.paperOnly ? 0 : 0.002) });
    this.code = options.code;
    this.mined = (options.mined ?? !this.paperOnly) ? new MinedStructure(options.minedOptions) : undefined;
    this.keepErrors = !this.paperOnly && (options.keepErrors ?? true);
    this.anomalyPaths = options.anomalyPaths ?? true;
    this.novelPaths = options.novelPaths ?? true;
    this.outlierZ = this.paperOnly ? Infinity : (options.outlierZ ?? 3);
    this.outlierQuantile = options.outlierQuantile ?? 0.99;
    this.outlierStrongZ = this.paperOnly ? Infinity : (options.outlierStrongZ ?? 10);
    this.outlierBurstZ = this.paperOnly ? Infinity : (options.outlierBurstZ ?? 5);
    this.outlierBurstMs = options.outlierBurstMs ?? 120_000;
    this.outlierBurstMaxCount = options.outlierBurstMaxCount ?? 100;
    this.outlierBurstHold = !this.paperOnly && (options.outlierBurstHold ?? true);
    this.hotWindowMs = this.paperOnly ? 0 : (options.hotWindowMs ?? 120_000);
    this.hotOn = options.hotOn ?? 'errors';
    this.outlierAdmitEvery = options.outlierAdmitEvery ?? 4;
    this.novelAdmitWeight = options.novelAdmitWeight ?? 0.03;
    this.novelPathShare = this.paperOnly ? 0 : (options.novelPathShare ?? 0.02);
    this.minShapeSamples = options.minShapeSamples ?? 20;
    this.maxKeys = options.maxStatisticsKeys ?? 200_000;
    this.window = options.window ?? 100;
    this.deviationWindow = options.deviationWindow ?? 500;
    this.operationWindow = options.operationWindow ?? 2000;
    this.shapeOptions = { window: this.window, deviationWindow: this.deviationWindow, buffers: this.shapeStats.buffers };
    this.opOptions = { window: this.operationWindow, deviationWindow: 512, buffers: this.opStats.buffers };
    this.selfOptions = { window: this.operationWindow, deviationWindow: 512, buffers: this.selfStats.buffers };
    this.representativeMinScore = this.paperOnly ? -Infinity : (options.representativeMinScore ?? 2);
    this.tiers = options.tiers ?? !this.paperOnly;
    this.deepestSlow = options.deepestSlow ?? !this.paperOnly;
    this.slowCallerZ = options.slowCallerZ ?? 6;
    this.summaries = options.summaries ?? true;
    this.hotAfterRepresentatives = options.hotAfterRepresentatives ?? true;
    this.errorCauseSpans = this.keepErrors ? (options.errorCauseSpans ?? 64) : 0;
    this.reserveTraces = options.reserveTraces ?? 10;
    this.borrowTraces = options.borrowTraces ?? 1000;
    if (!(this.borrowTraces >= 0)) throw new RangeError(`the debt limit (borrowTraces) must be a non-negative number of average trace shares, got ${this.borrowTraces}`);
    this.dropQuietTraces = options.dropQuietTraces ?? false;
    // Quiet traces going whole pay a debt back faster, so the anomalies' paths may run into more of
    // one (generated traffic at 0.98 priced in Tracezip bytes, seeds 1-4: slow 98.8/95.8/97.4/99.6% at
    // 10 -> 98.8/98.6/99.0/99.6% at 30, the same at 100).
    this.pathBorrowTraces = this.paperOnly ? 0 : (options.pathBorrowTraces ?? (this.dropQuietTraces ? 30 : 10));
    if (this.dropQuietTraces && !this.tiers) throw new RangeError('dropQuietTraces needs the tiered budget controller (not with paperOnly or tiers off)');
    this.selfTimeZ = this.paperOnly ? Infinity : (options.selfTimeZ ?? 3);
    this.inspect = options.inspect;
  }

  recordOutcome(inputBytes: number, outputBytes: number): void {
    if (this.priceUnit === 'otlp') return this.budget.record(inputBytes, outputBytes);
    // Tracezip's bytes are known only once a whole drain is encoded (recordEncoded): the estimate till then.
    const cost = outputBytes === 0 ? 0 : this.lastCost;
    this.budget.record(inputBytes, cost);
    this.chargedSinceEncoded += cost;
    if (cost !== 0) {
      this.detailSinceEncoded += this.lastDetail;
      this.extraSinceEncoded += this.lastExtra;
    }
  }

  /**
   * Price 'tracezip': what Tracezip took for the spans output since the last call (the streaming
   * processor's meter). The budget is charged the difference from the decisions' estimates, and the
   * per-span price follows the measurement.
   */
  recordEncoded(spans: number, bytes: number): void {
    if (this.priceUnit !== 'tracezip') return;
    this.budget.recordOverhead(0, bytes - this.chargedSinceEncoded);
    // Least squares of y = perSpan * spans + detailShare * detail over the reports, older ones fading:
    // what a span's ids and times cost and what its attributes and events cost differ by input
    // (nezha's spans carry logs as events), and both follow the measurement.
    const y = bytes - this.extraSinceEncoded;
    const d = this.detailSinceEncoded;
    const f = this.fit;
    const decay = 0.98;
    f.ss = decay * f.ss + spans * spans;
    f.sd = decay * f.sd + spans * d;
    f.dd = decay * f.dd + d * d;
    f.sy = decay * f.sy + spans * y;
    f.dy = decay * f.dy + d * y;
    f.n += spans;
    this.chargedSinceEncoded = 0;
    this.detailSinceEncoded = 0;
    this.extraSinceEncoded = 0;
    if (f.n < 256 || f.ss === 0) return;
    const det = f.ss * f.dd - f.sd * f.sd;
    // Spans and detail that always come in one proportion cannot be told apart: the share stays.
    if (det > 1e-3 * f.ss * f.dd) this.tracezipDetailShare = Math.min(1, Math.max(0.005, (f.ss * f.dy - f.sd * f.sy) / det));
    this.tracezipSpanBytes = Math.min(400, Math.max(4, (f.sy - this.tracezipDetailShare * f.sd) / f.ss));
  }

  recordEnvelope(inputBytes: number, outputBytes: number): void {
    this.budget.recordOverhead(inputBytes, outputBytes);
  }

  decide(trace: SampledTrace): Uint8Array | false {
    const n = trace.spans.length;
    const order = trace.order;
    const w = this.work;
    const ops = this.operations.ofTrace(trace, w.ops.take(n));
    this.counters.traces++;
    this.counters.spans += n;

    // Trace shape: the operations in execution order (the artifact's trace hash).
    let shape = FNV_OFFSET;
    for (let k = 0; k < n; k++) shape = fnvMix(shape, ops[order[k]!]!);

    // Scores: robust z against the same position in same-shape traces, backing off to the operation.
    const score = w.score.take(n);
    const outlier = w.outlier.take(n);
    const inspect = this.inspect;
    // Per-edge z of every span: the deepest-slow rule reads it for the callers of an outlier.
    const edgeZ = w.edgeZ.take(n);
    const edgeQuantile = inspect ? new Float64Array(n) : undefined;
    const selfSlow = w.selfSlow.take(n);
    const selfRule = this.selfTimeZ < Infinity;
    const nowMs = Number(trace.spans[trace.roots[0]!]!.span.startTimeUnixNano / 1_000_000n);
    const bursts = this.outlierBurstZ < Infinity;
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      const d = trace.duration[i]!;
      const key = shape * 65536 + Math.min(k, 65535);
      const byShape = this.stats(this.shapeStats, key, this.shapeOptions);
      // Per call edge (parent operation, operation): an `HTTP GET` span's latency depends on which
      // service it calls, and the edge tells them apart where the operation alone cannot.
      const p = trace.parent[i]!;
      const edge = (p < 0 ? 0 : ops[p]! + 1) * 2_097_152 + ops[i]!;
      const byOp = this.stats(this.opStats, edge, this.opOptions);
      const floor = this.paperOnly ? 0 : Math.max(1000, 0.05 * byOp.median() || 0);
      const opZ = byOp.count >= 5 ? byOp.score(d, floor) : 0;
      if (this.paperOnly || byShape.count >= this.minShapeSamples) score[i] = byShape.score(d, this.paperOnly ? 0 : floor);
      else score[i] = opZ;
      byShape.observe(d);
      let isOutlier = byOp.count >= 20 && opZ > this.outlierZ && (opZ > this.outlierStrongZ || d > byOp.quantile(this.outlierQuantile));
      if (this.outlierBurstHold && byOp.count >= this.outlierBurstMaxCount) {
        const held = this.heldQuantile.get(edge);
        if (held !== undefined && nowMs > held.until) this.heldQuantile.delete(edge);
        else if (held !== undefined && !isOutlier) isOutlier = opZ > this.outlierZ && d > held.quantile;
        if (isOutlier) {
          if (held === undefined || nowMs > held.until) {
            if (this.heldQuantile.size >= this.maxKeys) this.heldQuantile.delete(this.heldQuantile.keys().next().value!);
            this.heldQuantile.set(edge, { until: nowMs + this.outlierBurstMs, quantile: byOp.quantile(this.outlierQuantile) });
          } else held.until = nowMs + this.outlierBurstMs;
        }
      }
      if (bursts && byOp.count < this.outlierBurstMaxCount) {
        const until = this.burstUntil.get(edge);
        if (!isOutlier && until !== undefined) {
          if (nowMs <= until) isOutlier = byOp.count >= 20 && opZ > this.outlierBurstZ;
          else this.burstUntil.delete(edge);
        }
        if (isOutlier) {
          if (this.burstUntil.size >= this.maxKeys && !this.burstUntil.has(edge)) this.burstUntil.delete(this.burstUntil.keys().next().value!);
          this.burstUntil.set(edge, nowMs + this.outlierBurstMs);
        }
      }
      edgeZ[i] = byOp.count >= 20 ? opZ : 0;
      if (edgeQuantile) edgeQuantile[i] = byOp.quantile(this.outlierQuantile);
      if (isOutlier) outlier[i] = 1;
      if (!isOutlier || ++this.outlierAdmit % this.outlierAdmitEvery === 0) byOp.observe(d);
      const children = trace.children[i]!;
      if (selfRule && children.length > 0 && trace.spans[i]!.span.kind === SpanKind.SERVER) {
        // Children in parallel can sum past the duration: self time 0 then, a low score, no harm.
        let self = d;
        for (let c = 0; c < children.length; c++) self -= trace.duration[children[c]!]!;
        if (self < 0) self = 0;
        // Per call edge and number of calls made: a handler's own work is spread around its calls
        // (each has code before and after it), so a handler that made five calls has more of it than
        // one that made one, and a fault that multiplies it hides in that spread (gRPC topology slow
        // coverage at 0.85, seeds 1-3: 97.3/97.8/99.8% -> 99.0/98.3/99.4%; nezha exact 99.1 -> 99.3%).
        const bySelf = this.stats(this.selfStats, edge * 16 + Math.min(children.length, 15), this.selfOptions);
        let slow = false;
        if (bySelf.count >= 20) {
          const z = bySelf.score(self, Math.max(1000, SELF_FLOOR_SHARE * bySelf.median()));
          slow = z > this.selfTimeZ && (z > this.outlierStrongZ || self > bySelf.quantile(this.outlierQuantile));
          if (slow && !isOutlier) selfSlow[i] = 1;
        }
        if (!slow || ++this.outlierAdmit % this.outlierAdmitEvery === 0) bySelf.observe(self);
      }
    }

    // Dominant Span Sets: a child stays in its parent's DSS when the parent's code implies it;
    // otherwise it opens the DSS of (its parent's DSS, its operation), so a loop's iterations share one.
    const dss = w.dss.take(n);
    let dssCount = 0;
    const opened = this.opened;
    opened.clear();
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      const p = trace.parent[i]!;
      if (p < 0) {
        dss[i] = dssCount++;
        continue;
      }
      if (this.implies(trace, ops, p, i)) {
        dss[i] = dss[p]!;
        continue;
      }
      let id = opened.get(dss[p]!, ops[i]!);
      if (id < 0) opened.set(dss[p]!, ops[i]!, (id = dssCount++));
      dss[i] = id;
    }
    this.counters.dss += dssCount;

    // Path signatures (children's operations and log code locations) for the novel-path rule and
    // the mined structure; observed after this trace's decision so a span never explains itself.
    const signature = w.signature.take(n);
    const childOps = w.childOps.take(n);
    const childFrom = w.childFrom.take(n + 1);
    let to = 0;
    for (let i = 0; i < n; i++) {
      childFrom[i] = to;
      // Sorted in place (insertion sort: a span has few children; a subarray view per span to sort was garbage).
      for (const c of trace.children[i]!) {
        const o = ops[c]!;
        let k = to++;
        for (; k > childFrom[i]! && childOps[k - 1]! > o; k--) childOps[k] = childOps[k - 1]!;
        childOps[k] = o;
      }
      let h = FNV_OFFSET;
      for (let k = childFrom[i]!; k < to; k++) if (k === childFrom[i] || childOps[k] !== childOps[k - 1]) h = fnvMix(h, childOps[k]!);
      for (const e of trace.spans[i]!.span.events) {
        h = fnvString(h, e.name);
        for (const a of e.attributes) {
          if (a.key === ATTR.CODE_NAMESPACE && typeof a.value === 'string') h = fnvString(h, a.value);
          else if (a.key === ATTR.CODE_LINENO) h = fnvString(h, String(a.value));
        }
      }
      signature[i] = h;
    }
    childFrom[n] = to;

    // Selection: what must stay, each at its tier. Anomalies (errors, outliers, novel paths, hot
    // operations) whole; roots, the paths that connect anomalies to them and one representative per
    // DSS as skeletons (with tiers off, everything whole, as before).
    const skel = this.tiers ? KEEP_SKELETON : KEEP_FULL;
    const keep = new Uint8Array(n);
    const reason = w.reason.take(n);
    for (const r of trace.roots) this.mark(trace, keep, reason, r, REASON_ROOT, skel, false);
    // Slowness belongs to the deepest slow span: a fault makes every caller above it slow too, and
    // those callers are on its path anyway (as skeletons), so they are not outliers of their own.
    const slowCaller = w.slowCaller.take(n);
    if (this.deepestSlow && this.anomalyPaths) {
      const slowBelow = w.below.take(n);
      for (let k = n - 1; k >= 0; k--) {
        const i = order[k]!;
        const p = trace.parent[i]!;
        if (p >= 0 && (outlier[i] || slowBelow[i])) slowBelow[p] = 1;
      }
      for (let i = 0; i < n; i++)
        if (slowBelow[i] && (outlier[i] || edgeZ[i]! > this.slowCallerZ)) {
          outlier[i] = 0;
          slowCaller[i] = 1;
        }
    }
    const isError = w.isError.take(n);
    for (let i = 0; i < n; i++) {
      let why = 0;
      if (this.keepErrors && spanHasError(trace.spans[i]!.span)) {
        why = REASON_ERROR;
        isError[i] = 1;
      }
      else if (outlier[i]) why = REASON_OUTLIER;
      else if (selfSlow[i] && !slowCaller[i]) why = REASON_SELF;
      else if (this.mined && this.novelPathShare > 0 && this.mined.signatureShare(ops[i]!, signature[i]!) < this.novelPathShare) why = REASON_NOVEL;
      if (why === 0 && slowCaller[i]) this.mark(trace, keep, reason, i, REASON_SLOW_CALLER, skel, true);
      else if (why !== 0) {
        this.mark(trace, keep, reason, i, why, KEEP_FULL, this.anomalyPaths && (why !== REASON_NOVEL || this.novelPaths));
        if (why === REASON_OUTLIER && this.deepestSlow && this.anomalyPaths && trace.spans[i]!.span.kind === SpanKind.CLIENT)
          for (const c of trace.children[i]!) this.mark(trace, keep, reason, c, REASON_CALLEE, skel, false);
        if (this.hotWindowMs > 0 && (why === REASON_ERROR || this.hotOn === 'anomalies')) this.hotUntil.set(ops[i]!, nowMs + this.hotWindowMs);
      } else if (this.hotWindowMs > 0) {
        const until = this.hotUntil.get(ops[i]!);
        if (until !== undefined) {
          if (nowMs <= until) this.mark(trace, keep, reason, i, REASON_HOT, KEEP_FULL, false);
          else this.hotUntil.delete(ops[i]!);
        }
      }
    }
    if (this.errorCauseSpans > 0) this.markErrorCauses(trace, isError, keep, reason, skel);
    // One representative per DSS: its highest-scoring span (the earliest on a tie); when nothing in
    // the DSS is anomalous, any span shows the path the request took, so the smallest one does.
    const best = w.best.take(dssCount, -1);
    const smallest = w.smallest.take(dssCount, -1);
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      const d = dss[i]!;
      const b = best[d]!;
      if (b < 0 || score[i]! > score[b]!) best[d] = i;
      const m = smallest[d]!;
      if (m < 0 || trace.size[i]! < trace.size[m]!) smallest[d] = i;
    }
    for (let d = 0; d < dssCount; d++) if (score[best[d]!]! < this.representativeMinScore) best[d] = smallest[d]!;
    const dssKept = w.dssKept.take(dssCount);
    for (let i = 0; i < n; i++) if (keep[i]) dssKept[dss[i]!] = 1;
    for (let d = 0; d < dssCount; d++) if (!dssKept[d]) this.mark(trace, keep, reason, best[d]!, REASON_REPRESENTATIVE, skel, false);

    const selected = inspect ? reason.slice(0, n) : undefined;
    // With tiers the controller may drop the trace whole (dropQuietTraces).
    let dropped = false;
    if (this.tiers) dropped = this.fitBudget(trace, ops, keep, reason, score);
    else {
      // Without tiers (the paper's variant): fill the byte allowance by score, highest first.
      this.lastLevel = undefined;
      const allowance = this.budget.allowance(trace.bytes);
      let used = 0;
      for (let i = 0; i < n; i++) if (keep[i]) used += trace.size[i]!;
      if (used < allowance) {
        const candidates: number[] = [];
        for (let i = 0; i < n; i++) if (!keep[i]) candidates.push(i);
        sortSmall(candidates, byScoreDescending, reason, score);
        for (const i of candidates) {
          const s = trace.size[i]!;
          if (used + s > allowance) continue;
          this.mark(trace, keep, reason, i, REASON_BUDGET, KEEP_FULL, false);
          used += s;
        }
      }
    }

    if (inspect) {
      const signatureShare = new Float64Array(n);
      for (let i = 0; i < n; i++) signatureShare[i] = this.mined ? this.mined.signatureShare(ops[i]!, signature[i]!) : 1;
      inspect(trace, { selected: selected!, reason: reason.slice(0, n), keep: keep.slice(), score: score.slice(0, n), edgeZ: edgeZ.slice(0, n), edgeQuantile: edgeQuantile!, signatureShare });
    }
    if (this.mined) for (let i = 0; i < n; i++) this.mined.observe(ops[i]!, childOps, childFrom[i]!, childFrom[i + 1]!, signature[i]!, reason[i] === REASON_NOVEL ? this.novelAdmitWeight : 1);
    const c = this.counters;
    const b = c.bytesByReason;
    for (let i = 0; i < n; i++) {
      if (!keep[i]) continue;
      const size = this.keptBytes(trace, keep, i);
      switch (reason[i]) {
        case REASON_ROOT: c.keptRoot++; b.root += size; break;
        case REASON_ERROR: c.keptError++; b.error += size; break;
        case REASON_OUTLIER: c.keptOutlier++; b.outlier += size; break;
        case REASON_NOVEL: c.keptNovel++; b.novel += size; break;
        case REASON_REPRESENTATIVE: c.keptRepresentative++; b.representative += size; break;
        case REASON_BUDGET: c.keptBudget++; b.budget += size; break;
        case REASON_PATH:
        case REASON_SLOW_CALLER:
        case REASON_CALLEE: c.keptPath++; b.path += size; break;
        case REASON_HOT: c.keptHot++; b.hot += size; break;
        case REASON_CAUSE: c.keptCause++; b.cause += size; break;
        case REASON_SELF: c.keptSelf++; b.self += size; break;
      }
    }
    return dropped ? false : keep;
  }

  /**
   * Keeps span i for `why` at `tier` (unless it is kept for something stronger already), and with
   * `withPath` its path to the root as skeletons (whole without tiers). A method, not a closure
   * made per trace in decide: closures were garbage, and each costs a name definition under tsx.
   */
  private mark(trace: SampledTrace, keep: Uint8Array, reason: Uint8Array, i: number, why: number, tier: number, withPath: boolean): void {
    if (!keep[i]) {
      keep[i] = tier;
      reason[i] = why;
    } else if (why === REASON_HOT || why === REASON_REPRESENTATIVE) {
      // Weaker than whatever it is already kept for (an anomaly's path included).
    } else if (tier === KEEP_FULL && keep[i] === KEEP_SKELETON) {
      // First reached as another anomaly's path, then found anomalous itself: it is whole.
      keep[i] = KEEP_FULL;
      reason[i] = why;
    } else if (reason[i] === REASON_PATH) reason[i] = why;
    if (!withPath) return;
    const skel = this.tiers ? KEEP_SKELETON : KEEP_FULL;
    for (let p = trace.parent[i]!; p >= 0; p = trace.parent[p]!) {
      if (!keep[p]) keep[p] = skel;
      // A span kept for weaker reasons (a hot operation, a representative) is on an anomaly's
      // path now, and must not be summarized as hot or representative.
      else if (reason[p] !== REASON_HOT && reason[p] !== REASON_REPRESENTATIVE) break;
      reason[p] = REASON_PATH;
    }
  }

  /** The summary level the last decision asked for (sampleTrace asks right after decide). */
  summaryLevel(): SummaryLevel | undefined {
    return this.lastLevel;
  }

  /** The controller's steps so far, and why the target is out of reach when it is. */
  budgetReport(): BudgetReport {
    const notes: string[] = [];
    const target = this.budget.targetReduction;
    const achieved = this.budget.achieved();
    const input = this.inputBytes;
    if (input > 0 && achieved < target - 0.02) {
      const floor = this.minimumBytes / input;
      const leaves = 1 - target;
      if (floor > leaves)
        notes.push(
          `target ${pct(target)} is out of reach: the cheapest form of what must stay (every root and every anomaly as a skeleton, without paths, representatives or summaries) ` +
            `is ${pct(floor)} of the input bytes, above the ${pct(leaves)} the target leaves` +
            (this.dropQuietTraces ? '' : '; dropQuietTraces (--drop-quiet-traces) lets the traces with nothing anomalous go whole'),
        );
      else if (this.steps['anomalies-dropped']! > 0) notes.push(`anomalies were dropped in ${this.steps['anomalies-dropped']} traces and the output is still over the target: the debt limit was reached`);
      else
        notes.push(
          `achieved ${pct(achieved)}: the controller lends anomalies up to ${this.borrowTraces} traces' share before it drops any, ` +
            `and this input ended before the traces after them paid it back (${Math.round(-this.budget.credit)} bytes over)`,
        );
    }
    return { steps: { ...this.steps }, spans: { ...this.stepSpans }, notes };
  }

  /** Price 'tracezip': what a kept span costs now (learned from recordEncoded), for reports. */
  tracezipPrice(): { spanBytes: number; detailShare: number } | undefined {
    return this.priceUnit === 'tracezip' ? { spanBytes: this.tracezipSpanBytes, detailShare: this.tracezipDetailShare } : undefined;
  }

  /** What span i costs as it is kept now: a skeleton or whole. */
  private keptBytes(trace: SampledTrace, keep: Uint8Array, i: number): number {
    return keep[i] === KEEP_SKELETON ? this.skeletonBytes(trace, i) : this.wholeBytes(trace, i);
  }

  /** What span i costs kept whole, in the price's unit. */
  private wholeBytes(trace: SampledTrace, i: number): number {
    if (this.priceUnit === 'otlp') return trace.size[i]!;
    return this.tracezipSpanBytes + this.tracezipDetailShare * (trace.size[i]! - this.skeletonOtlpBytes(trace, i));
  }

  /** What span i costs as a skeleton, in the price's unit (Tracezip: the per-span price alone). */
  private skeletonBytes(trace: SampledTrace, i: number): number {
    return this.priceUnit === 'otlp' ? this.skeletonOtlpBytes(trace, i) : this.tracezipSpanBytes;
  }

  /** OTLP bytes of span i's skeleton, or of the span when that is smaller (nothing to strip). */
  private skeletonOtlpBytes(trace: SampledTrace, i: number): number {
    if (this.skelTrace !== trace) {
      this.skelTrace = trace;
      if (this.skelCache.length < trace.spans.length) this.skelCache = new Float64Array(Math.max(trace.spans.length, 2 * this.skelCache.length));
      this.skelCache.fill(0, 0, trace.spans.length);
    }
    let b = this.skelCache[i]!;
    if (b === 0) this.skelCache[i] = b = Math.min(trace.size[i]!, skeletonSize(trace.spans[i]!.span));
    return b;
  }

  /**
   * Estimated OTLP bytes of the reduced trace: kept spans at their tier, the re-parenting attribute
   * of each kept span whose parent is dropped, and the dropped-span summaries at `level`. An
   * estimate (summary numbers are counted at a typical width); the budget's feedback on the bytes
   * actually written corrects what it misses.
   */
  private estimate(trace: SampledTrace, ops: Int32Array, keep: Uint8Array, level: SummaryLevel): number {
    const n = trace.spans.length;
    if (this.ancScratch.length < n) this.ancScratch = new Int32Array(Math.max(n, 2 * this.ancScratch.length));
    const anc = this.ancScratch;
    const summarized = this.summarized;
    summarized.clear();
    let cost = 0;
    for (let k = 0; k < n; k++) {
      const i = trace.order[k]!;
      const p = trace.parent[i]!;
      if (keep[i]) {
        anc[i] = i;
        cost += this.keptBytes(trace, keep, i);
        if (p >= 0 && !keep[p]) cost += this.reparentPrice;
        continue;
      }
      const a = p < 0 ? -1 : anc[p]!;
      anc[i] = a;
      if (a < 0 || level === 'none') continue;
      if (summarized.add(a, -1)) cost += this.summaryPrice * SUMMARY_ATTR_BYTES;
      if (level === 'totals') {
        // One entry per service of the dropped spans: a summary must not put one service's spans
        // under another's name (root-cause ranking reads which services a kept span called).
        const svc = this.operations.serviceIndex(ops[i]!);
        if (summarized.add(a, svc)) cost += this.summaryPrice * (SUMMARY_ENTRY_BYTES + 1 + (svc === this.operations.serviceIndex(ops[a]!) ? 0 : trace.service[i]!.length + 2));
        continue;
      }
      if (summarized.add(a, ops[i]!)) cost += this.summaryPrice * (SUMMARY_ENTRY_BYTES + trace.spans[i]!.span.name.length);
    }
    return cost;
  }

  /**
   * The budget controller. When what must stay costs more than the trace may spend, it degrades by
   * tier before it gives up coverage: anomalies whole -> skeleton (least important first), hot
   * operations' spans -> summary, summaries per operation -> totals (the summaries are coarsened
   * before spans move into them: they buy no coverage), the DSS representatives -> summary,
   * summaries -> none (with hotAfterRepresentatives, the hot operations' spans after these three),
   * the anomalies' paths -> summary (their spans re-parented, as with
   * --no-anomaly-paths); with dropQuietTraces, while in debt, a quiet trace goes whole (checked
   * first); only past the debt limit are anomalies dropped (never errors). When there
   * is room, it spends it by score: skeletons made whole,
   * dropped spans kept whole. Returns true when the trace goes whole (dropQuietTraces).
   */
  private fitBudget(trace: SampledTrace, ops: Int32Array, keep: Uint8Array, reason: Uint8Array, score: Float64Array): boolean {
    const n = trace.spans.length;
    const allowance = this.budget.tieredAllowance(trace.bytes, this.reserveTraces, this.borrowTraces, this.pathBorrowTraces);
    const { required } = allowance;
    // Degrade only past what the trace may spend with all the credit; fill only within the credit above the reserve.
    this.fitDegradeAt = allowance.degrade;
    const fill = allowance.optional;
    this.inputBytes += trace.bytes;
    const anomalies: number[] = [];
    for (let i = 0; i < n; i++) if (keep[i] && ANOMALY_RANK[reason[i]!]! > 0) anomalies.push(i);
    // Quiet: nothing anomalous in it (hot spans are kept for being near errors elsewhere, not for themselves).
    let quiet = true;
    for (const i of anomalies) if (reason[i] !== REASON_HOT) quiet = false;
    if (quiet && this.dropQuietTraces) {
      if (this.budget.credit < 0) {
        // In debt, a quiet trace goes whole: its root buys no coverage, and what it leaves unspent
        // pays back what the anomalies of a burst borrowed. (Dropping only when the root did not fit
        // the trace's share plus the credit, or that plus the credit above the reserve, was measured
        // too: the same coverage within a span on generated traffic at 0.98, seeds 1-4, and the
        // latter dropped the first traces of every stream, whose reserve starts empty.)
        keep.fill(0, 0, n);
        reason.fill(0, 0, n);
        this.lastLevel = undefined;
        this.step('quiet-traces-dropped', n);
        return true;
      }
    } else {
      // The floor no controller can go under without losing coverage: roots and anomalies as
      // skeletons (a quiet trace's root is not part of it when quiet traces may go).
      for (let i = 0; i < n; i++) if (keep[i] && reason[i] !== REASON_PATH && reason[i] !== REASON_REPRESENTATIVE && reason[i] !== REASON_BUDGET && reason[i] !== REASON_HOT) this.minimumBytes += this.skeletonBytes(trace, i);
    }
    this.fitLevel = this.summaries ? 'operations' : 'none';
    this.fitCost = this.estimate(trace, ops, keep, this.fitLevel);
    // Least important first: hot operations, novel paths, outliers, errors; lower scores first.
    sortSmall(anomalies, byAnomalyRank, reason, score);
    if (this.fitCost > this.fitDegradeAt) {
      let moved = 0;
      for (const i of anomalies) {
        if (this.fitCost <= this.fitDegradeAt) break;
        if (keep[i] !== KEEP_FULL) continue;
        const saved = this.wholeBytes(trace, i) - this.skeletonBytes(trace, i);
        if (saved <= 0) continue;
        keep[i] = KEEP_SKELETON;
        this.fitCost -= saved;
        moved++;
      }
      if (moved > 0) this.step('anomalies-to-skeleton', moved);
    }
    if (!this.hotAfterRepresentatives) this.dropHot(trace, ops, keep, reason, anomalies);
    this.lowerSummaries(trace, ops, keep, 'totals', 'summaries-to-totals');
    this.dropReason(trace, ops, keep, reason, score, REASON_REPRESENTATIVE, 'representatives-to-summary');
    // Summaries buy no coverage: they go before the hot operations' spans (gRPC topology slow
    // coverage at 0.85, seeds 1-3: 95.7/97.3/99.8% -> 97.3/97.8/99.8%, the other inputs unchanged).
    this.lowerSummaries(trace, ops, keep, 'none', 'summaries-dropped');
    if (this.hotAfterRepresentatives) this.dropHot(trace, ops, keep, reason, anomalies);
    this.fitDegradeAt = allowance.paths; // paths may borrow a little (pathBorrowTraces)
    this.dropReason(trace, ops, keep, reason, score, REASON_PATH, 'paths-to-summary');
    let cost = this.fitCost;
    if (cost > required) {
      let moved = 0;
      for (const i of anomalies) {
        if (cost <= required) break;
        // Errors are explicit and rare: never dropped, whatever the debt.
        if (!keep[i] || reason[i] === REASON_ERROR || trace.roots.includes(i)) continue;
        cost -= this.skeletonBytes(trace, i);
        keep[i] = 0;
        reason[i] = 0;
        moved++;
      }
      if (moved > 0) this.step('anomalies-dropped', moved);
    } else if (cost < fill) {
      // Room left: by score, highest first, a skeleton made whole or a dropped span kept whole.
      const candidates: number[] = [];
      for (let i = 0; i < n; i++) if (keep[i] !== KEEP_FULL) candidates.push(i);
      sortSmall(candidates, byScoreDescending, reason, score);
      for (const i of candidates) {
        const extra = keep[i] === KEEP_SKELETON ? this.wholeBytes(trace, i) - this.skeletonBytes(trace, i) : this.wholeBytes(trace, i);
        if (cost + extra > fill) continue;
        if (!keep[i]) reason[i] = REASON_BUDGET;
        keep[i] = KEEP_FULL;
        cost += extra;
      }
    }
    // A skeleton that would not be smaller (a span with nothing to strip: the marker costs bytes) is written whole.
    for (let i = 0; i < n; i++) if (keep[i] === KEEP_SKELETON && this.skeletonOtlpBytes(trace, i) >= trace.size[i]!) keep[i] = KEEP_FULL;
    this.lastLevel = this.fitLevel;
    if (this.priceUnit === 'tracezip') {
      let kept = 0;
      for (let i = 0; i < n; i++) if (keep[i]) kept++;
      let detail = 0;
      for (let i = 0; i < n; i++) if (keep[i] === KEEP_FULL) detail += trace.size[i]! - this.skeletonOtlpBytes(trace, i);
      this.lastCost = cost;
      this.lastDetail = detail;
      this.lastExtra = cost - kept * this.tracezipSpanBytes - this.tracezipDetailShare * detail;
    }
    return false;
  }

  // fitBudget's steps. Methods on the fit under way (fitCost, fitLevel, fitDegradeAt), not closures
  // made per trace: those were a good part of the controller's garbage.

  private step(name: string, spans: number): void {
    this.steps[name]!++;
    this.stepSpans[name]! += spans;
  }

  /**
   * What dropping span i saves, roughly: its bytes at its tier, less a summary entry for it and a
   * re-parenting attribute on each kept child (re-estimated exactly after each step).
   */
  private dropSaves(trace: SampledTrace, keep: Uint8Array, i: number): number {
    let saved = this.keptBytes(trace, keep, i);
    if (this.fitLevel === 'operations') saved -= this.summaryPrice * (SUMMARY_ENTRY_BYTES + trace.spans[i]!.span.name.length);
    for (const c of trace.children[i]!) if (keep[c]) saved -= this.reparentPrice;
    return saved;
  }

  /** Drops the spans kept for `why`, least anomalous (lowest score) first, until the trace fits. */
  private dropReason(trace: SampledTrace, ops: Int32Array, keep: Uint8Array, reason: Uint8Array, score: Float64Array, why: number, name: string): void {
    if (this.fitCost <= this.fitDegradeAt) return;
    const n = trace.spans.length;
    const list: number[] = [];
    for (let i = 0; i < n; i++) if (keep[i] && reason[i] === why) list.push(i);
    if (list.length === 0) return;
    sortSmall(list, byScoreAscending, reason, score);
    let moved = 0;
    for (const i of list) {
      if (this.fitCost <= this.fitDegradeAt) break;
      const saved = this.dropSaves(trace, keep, i);
      if (saved <= 0) continue;
      keep[i] = 0;
      reason[i] = 0;
      this.fitCost -= saved;
      moved++;
    }
    if (moved === 0) return;
    this.fitCost = this.estimate(trace, ops, keep, this.fitLevel);
    this.step(name, moved);
  }

  /** Coarsens the summaries to `to` while the trace does not fit. */
  private lowerSummaries(trace: SampledTrace, ops: Int32Array, keep: Uint8Array, to: SummaryLevel, name: string): void {
    if (this.fitCost <= this.fitDegradeAt || this.fitLevel === 'none' || this.fitLevel === to) return;
    this.fitLevel = to;
    this.fitCost = this.estimate(trace, ops, keep, to);
    this.step(name, 0);
  }

  /**
   * Hot operations' spans are kept for being near an error, not for being anomalous: they go first
   * (or, with hotAfterRepresentatives, after the representatives, which are not near anything, and
   * the summaries).
   * `anomalies` is in fitBudget's order, hot spans first.
   */
  private dropHot(trace: SampledTrace, ops: Int32Array, keep: Uint8Array, reason: Uint8Array, anomalies: readonly number[]): void {
    if (this.fitCost <= this.fitDegradeAt) return;
    let moved = 0;
    for (const i of anomalies) {
      if (this.fitCost <= this.fitDegradeAt || reason[i] !== REASON_HOT) break;
      this.fitCost -= this.keptBytes(trace, keep, i);
      keep[i] = 0;
      reason[i] = 0;
      moved++;
    }
    if (moved > 0) {
      this.fitCost = this.estimate(trace, ops, keep, this.fitLevel);
      this.step('hot-to-summary', moved);
    }
  }

  /**
   * The subtree below each deepest error (an error with no error among its descendants), breadth
   * first, up to errorCauseSpans spans per error, as skeletons: the calls whose answers made it
   * fail. A span already kept for a weaker reason (hot, representative, or on an anomaly's path) is
   * kept as a cause now, so the controller does not summarize it with those: on the gRPC topology
   * a CheckStock that answered a wrong value lay on the path of a slow cache call below it, and was
   * summarized as a path while the rest of the failing call's subtree was kept (exact 98.2% ->
   * 100% at 0.85, seed 1).
   */
  private markErrorCauses(trace: SampledTrace, isError: Uint8Array, keep: Uint8Array, reason: Uint8Array, skel: number): void {
    const n = trace.spans.length;
    let any = false;
    for (let i = 0; i < n; i++) if (isError[i]) any = true;
    if (!any) return;
    const errorBelow = this.work.below.take(n);
    for (let k = n - 1; k >= 0; k--) {
      const i = trace.order[k]!;
      const p = trace.parent[i]!;
      if (p >= 0 && (isError[i] || errorBelow[i])) errorBelow[p] = 1;
    }
    const queue: number[] = [];
    for (let e = 0; e < n; e++) {
      if (!isError[e] || errorBelow[e]) continue;
      queue.length = 0;
      for (const c of trace.children[e]!) queue.push(c);
      let taken = 0;
      for (let q = 0; q < queue.length && taken < this.errorCauseSpans; q++) {
        const i = queue[q]!;
        taken++;
        if (!keep[i]) {
          keep[i] = skel;
          reason[i] = REASON_CAUSE;
        } else if (reason[i] === REASON_HOT || reason[i] === REASON_REPRESENTATIVE || reason[i] === REASON_PATH) reason[i] = REASON_CAUSE;
        for (const c of trace.children[i]!) queue.push(c);
      }
    }
  }

  /** Does span p's code imply its child i (no branch point between them)? */
  private implies(trace: SampledTrace, ops: Int32Array, p: number, i: number): boolean {
    const parentSpan = trace.spans[p]!.span;
    const childSpan = trace.spans[i]!.span;
    // A client call implies the server span it reaches in another service.
    if (parentSpan.kind === SpanKind.CLIENT && childSpan.kind === SpanKind.SERVER) return true;
    if (this.code) {
      const pi = this.code.lookup(trace.service[p]!, parentSpan.name);
      if (pi && pi.functions.length > 0) {
        const ci = this.code.lookup(trace.service[i]!, childSpan.name);
        // Two spans of one function (a route's SERVER span and its controller's Class.method span).
        if (ci && trace.service[i] === trace.service[p] && ci.functions.some((f) => pi.functions.includes(f))) return true;
        if (!pi.branching) return true;
      }
    }
    // Code that can branch but has, in all the traffic seen, always taken the branch to this child
    // implies it in practice; a fault that breaks that shows up as a novel path of the parent.
    return this.mined !== undefined && this.mined.implied(ops[p]!, ops[i]!);
  }

  /** The statistics of `key` in `map`, made with `options` (that table's; one object for all its keys) when new. */
  private stats(map: ScoreTable, key: number, options: RobustScoreOptions): RobustScore {
    let s = map.get(key);
    if (s === undefined) {
      if (map.size >= this.maxKeys) map.deleteOldest();
      s = new RobustScore(options);
      map.set(key, s);
    }
    return s;
  }
}

/** An order of span indexes for sortSmall: a module-level function given the arrays it reads, so no closure is made per sort. */
type SpanOrder = (a: number, b: number, reason: Uint8Array, score: Float64Array) => number;
/** Anomalies, least important first: hot operations, novel paths, outliers, errors; lower scores first. */
const byAnomalyRank: SpanOrder = (a, b, reason, score) => ANOMALY_RANK[reason[a]!]! - ANOMALY_RANK[reason[b]!]! || score[a]! - score[b]! || a - b;
const byScoreAscending: SpanOrder = (a, b, _reason, score) => score[a]! - score[b]! || a - b;
const byScoreDescending: SpanOrder = (a, b, _reason, score) => score[b]! - score[a]! || a - b;

/**
 * Sorts a short list in place by insertion (the built-in sort copies every list into a work array
 * first: the controller sorts a few short lists per trace). The orders here are total orders
 * (finite scores, ties by index), which have one sorted result: the built-in sort's.
 */
function sortSmall(list: number[], order: SpanOrder, reason: Uint8Array, score: Float64Array): void {
  if (list.length > 32) {
    list.sort((a, b) => order(a, b, reason, score));
    return;
  }
  for (let k = 1; k < list.length; k++) {
    const v = list[k]!;
    let j = k;
    for (; j > 0 && order(list[j - 1]!, v, reason, score) > 0; j--) list[j] = list[j - 1]!;
    list[j] = v;
  }
}
