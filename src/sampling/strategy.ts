// The one interface every sampling strategy implements, the byte budget that span-level strategies
// share, and `sampleTrace`, which runs a strategy on one assembled trace and writes the reduced trace.
import { keepWholeTrace, reduceTrace, type ReduceOptions, type ReducedTrace, type SpanPatch, type SummaryLevel } from './reduce.js';
import type { SampledTrace } from './trace.js';

export interface SamplingStrategy {
  readonly name: string;
  /**
   * The decision for one complete trace: keep flags per span (span-level; 1 = keep), `true` to keep
   * the whole trace unchanged, `false` to drop it (trace-level strategies).
   */
  decide(trace: SampledTrace): Uint8Array | boolean;
  /** Told what the decision cost once the trace is written, so byte budgets follow real output. */
  recordOutcome?(inputBytes: number, outputBytes: number): void;
  /**
   * Told what OTLP requests add around the spans (resource and scope envelopes, measured by the
   * streaming processor): of the input since the last call, and of the kept spans of the last
   * decision. A byte budget counts them as input and output too.
   */
  recordEnvelope?(inputBytes: number, outputBytes: number): void;
  /**
   * What a kept byte is to the strategy's budget: OTLP protobuf bytes (the default), or the bytes
   * Tracezip sends for them (sample-then-compress). With 'tracezip' the streaming processor reports
   * what its output took once encoded, when it is given a meter (recordEncoded).
   */
  readonly priceUnit?: 'otlp' | 'tracezip';
  /** Told what Tracezip took for the spans output since the last call (priceUnit 'tracezip'). */
  recordEncoded?(spans: number, bytes: number): void;
  /**
   * Optional, for strategies that merge spans: called after a span-level decision of the same
   * trace, returns the changes to kept spans and the dropped spans those changes account for
   * (see ReduceOptions.patches / accounted).
   */
  patches?(trace: SampledTrace, keep: Uint8Array): { patches: ReadonlyMap<number, SpanPatch>; accounted?: Uint8Array } | undefined;
  /**
   * Optional: how the last span-level decision wants its dropped spans summarized (a budget that had
   * to economize lowers the level for that trace). Called right after decide, like patches.
   */
  summaryLevel?(trace: SampledTrace): SummaryLevel | undefined;
  /** Optional: what a budget controller had to give up to meet the target, for reports. */
  budgetReport?(): BudgetReport | undefined;
}

/** What a tiered budget controller did: the steps it had to take, and why a target was out of reach. */
export interface BudgetReport {
  /** Step name -> traces whose decision took it (see AutoscopeSampler's controller). */
  steps: Record<string, number>;
  /** Spans moved by each step. */
  spans: Record<string, number>;
  /** Plain-language reasons the target could not be met, when it could not. */
  notes: string[];
}

/** Runs `strategy` on `trace`: the reduced trace, or undefined when the trace is dropped. */
export function sampleTrace(strategy: SamplingStrategy, trace: SampledTrace, options?: ReduceOptions): ReducedTrace | undefined {
  const decision = strategy.decide(trace);
  let out: ReducedTrace | undefined;
  if (decision === true) out = keepWholeTrace(trace);
  else if (decision !== false) {
    const extra = strategy.patches?.(trace, decision);
    const level = strategy.summaryLevel?.(trace);
    let opts = extra ? { ...options, patches: extra.patches, accounted: extra.accounted } : options;
    // A strategy may only lower the level the caller asked for (summaries off stays off).
    if (level !== undefined && level !== 'operations' && (opts?.summaryLevel ?? 'operations') !== 'none') opts = { ...opts, summaryLevel: level };
    out = reduceTrace(trace, decision, opts);
  }
  strategy.recordOutcome?.(trace.bytes, out?.bytes ?? 0);
  return out;
}

export interface ByteBudgetOptions {
  /** Fraction of OTLP bytes to drop, in [0, 1). */
  targetReduction: number;
  /** How much of an accumulated surplus one trace may spend, as a multiple of its own share (default 2). */
  maxCarry?: number;
  /**
   * Aim this much above the target (default 0): the budget sees span bytes, while OTLP requests add
   * resource and scope envelopes that weigh more per kept byte when few spans of each are kept.
   */
  margin?: number;
  /**
   * While the output is over the target (in debt), aim this much above it (default 0): a budget that
   * lets anomalies borrow (tieredAllowance) would otherwise hold its debt at a level, and end a
   * finite input owing it; with the aim the traces after pay it back.
   */
  aim?: number;
}

/**
 * Keeps the running output at (1 - targetReduction) of the running input: each trace may use its
 * share of its own bytes plus (a bounded part of) what earlier traces left unused, or less when
 * earlier traces overspent (their must-keep spans did not fit). Feedback on written bytes, so the
 * summaries and re-parenting attributes are paid for too.
 */
export class ByteBudget {
  private inputBytes = 0;
  private outputBytes = 0;
  /**
   * Bytes allowed so far minus bytes written, summed trace by trace at the target in force then, so
   * a retarget (adaptive budget) changes what comes next without re-pricing the past; while in debt,
   * at the target plus the aim (spendShare), so a debt shrinks instead of being held.
   */
  private creditBytes = 0;
  /** Moving average of a trace's share (its bytes times the keep share): the unit of the reserve and the debt. */
  private averageShare = 0;
  private keepShare: number;
  private target: number;
  /** Stands in for the envelopes until they are reported (recordEnvelope), then 0. */
  private margin: number;
  private readonly maxCarry: number;
  private readonly aim: number;

  constructor(options: ByteBudgetOptions) {
    this.margin = options.margin ?? 0;
    this.aim = options.aim ?? 0;
    if (!(this.aim >= 0)) throw new RangeError(`budget aim must be >= 0, got ${this.aim}`);
    this.target = options.targetReduction;
    this.keepShare = this.share(options.targetReduction);
    this.maxCarry = options.maxCarry ?? 2;
  }

  private share(r: number): number {
    if (!(r >= 0 && r < 1)) throw new RangeError(`target reduction must be in [0, 1), got ${r}`);
    // The margin never takes more than half of what the target leaves.
    return (1 - r) * Math.max(0.5, 1 - this.margin / Math.max(1e-9, 1 - r));
  }

  /** The share a trace may spend: the target's, less the aim while in debt. */
  private spendShare(): number {
    return this.creditBytes < 0 && this.aim > 0 ? Math.max(0.5 * this.keepShare, this.keepShare - this.aim) : this.keepShare;
  }

  get targetReduction(): number {
    return this.target;
  }

  /** Changes the target from the next trace on (what an adaptive budget does as the load changes). */
  setTargetReduction(r: number): void {
    this.keepShare = this.share(r);
    this.target = r;
  }

  /** Bytes allowed so far minus bytes written (negative: the output is over the target). */
  get credit(): number {
    return this.creditBytes;
  }

  /**
   * Two allowances for a trace whose must-keep set can be priced by tier (see AutoscopeSampler):
   * `optional` is what it may spend on anything beyond the cheapest form of what must stay (whole
   * spans instead of skeletons, representatives, detailed summaries, budget fill): its share plus
   * the credit above a reserve, so quiet traffic leaves room for the anomalies of a fault burst;
   * `degrade` is what it may spend before it degrades what must stay: its share plus all the credit;
   * `paths` is what it may spend before it summarizes the paths of its anomalies: `degrade` plus a
   * small debt (`pathBorrowTraces` average shares), none once the debt is deeper than that;
   * `required` is how far it may go to keep its anomalies at all: its share plus all the credit plus
   * a bounded debt (`borrowTraces` average shares), paid back by the traces after it.
   */
  tieredAllowance(traceBytes: number, reserveTraces = 30, borrowTraces = 200, pathBorrowTraces = 0): { optional: number; degrade: number; paths: number; required: number } {
    const share = this.spendShare() * traceBytes;
    const avg = this.averageShare > 0 ? this.averageShare : share;
    const spare = Math.min(this.creditBytes - reserveTraces * avg, this.maxCarry * share);
    return {
      optional: Math.max(0, share + spare),
      degrade: Math.max(0, share + this.creditBytes),
      paths: Math.max(0, share + this.creditBytes + Math.min(pathBorrowTraces, borrowTraces) * avg),
      required: Math.max(share, share + this.creditBytes + borrowTraces * avg),
    };
  }

  /** Bytes the next trace (of `traceBytes`) may keep. */
  allowance(traceBytes: number): number {
    const share = this.spendShare() * traceBytes;
    const bounded = Math.min(this.creditBytes, this.maxCarry * share);
    return Math.max(0, share + bounded);
  }

  record(inputBytes: number, outputBytes: number): void {
    this.inputBytes += inputBytes;
    this.outputBytes += outputBytes;
    this.creditBytes += this.spendShare() * inputBytes - outputBytes;
    const share = this.keepShare * inputBytes;
    this.averageShare = this.averageShare === 0 ? share : 0.99 * this.averageShare + 0.01 * share;
  }

  /**
   * Bytes beyond the spans' own (the requests' envelopes), of the input and of the output: counted as such. Once they
   * are reported the margin, which only estimated them, is dropped.
   */
  recordOverhead(inputBytes: number, outputBytes: number): void {
    if (this.margin !== 0) {
      this.margin = 0;
      this.keepShare = this.share(this.target);
    }
    this.inputBytes += inputBytes;
    this.outputBytes += outputBytes;
    this.creditBytes += this.keepShare * inputBytes - outputBytes;
  }

  /** Reduction achieved so far (0 before any input). */
  achieved(): number {
    return this.inputBytes === 0 ? 0 : 1 - this.outputBytes / this.inputBytes;
  }
}
