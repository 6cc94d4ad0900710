// The one interface every sampling strategy implements, the byte budget that span-level strategies
// share, and `sampleTrace`, which runs a strategy on one assembled trace and writes the reduced trace.
import { keepWholeTrace, reduceTrace, type ReduceOptions, type ReducedTrace } from './reduce.js';
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
}

/** Runs `strategy` on `trace`: the reduced trace, or undefined when the trace is dropped. */
export function sampleTrace(strategy: SamplingStrategy, trace: SampledTrace, options?: ReduceOptions): ReducedTrace | undefined {
  const decision = strategy.decide(trace);
  let out: ReducedTrace | undefined;
  if (decision === true) out = keepWholeTrace(trace);
  else if (decision !== false) out = reduceTrace(trace, decision, options);
  strategy.recordOutcome?.(trace.bytes, out?.bytes ?? 0);
  return out;
}

export interface ByteBudgetOptions {
  /** Fraction of OTLP bytes to drop, in [0, 1). */
  targetReduction: number;
  /** How much of an accumulated surplus one trace may spend, as a multiple of its own share (default 2). */
  maxCarry?: number;
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
  private readonly keepShare: number;
  private readonly maxCarry: number;

  constructor(options: ByteBudgetOptions) {
    const r = options.targetReduction;
    if (!(r >= 0 && r < 1)) throw new RangeError(`target reduction must be in [0, 1), got ${r}`);
    this.keepShare = 1 - r;
    this.maxCarry = options.maxCarry ?? 2;
  }

  get targetReduction(): number {
    return 1 - this.keepShare;
  }

  /** Bytes the next trace (of `traceBytes`) may keep. */
  allowance(traceBytes: number): number {
    const share = this.keepShare * traceBytes;
    const carry = this.keepShare * this.inputBytes - this.outputBytes;
    const bounded = Math.min(carry, this.maxCarry * share);
    return Math.max(0, share + bounded);
  }

  record(inputBytes: number, outputBytes: number): void {
    this.inputBytes += inputBytes;
    this.outputBytes += outputBytes;
  }

  /** Reduction achieved so far (0 before any input). */
  achieved(): number {
    return this.inputBytes === 0 ? 0 : 1 - this.outputBytes / this.inputBytes;
  }
}
