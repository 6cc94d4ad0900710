// The adaptive budget (the seed's future work): instead of a fixed reduction, a budget of bytes per
// second that the sampled output should stay under. The reduction follows the observed load
// (needed = 1 - budget / observed rate: more load, more reduction), bounded to [min, max] and
// smoothed by an EWMA of the rate, so one burst does not swing it. Budgeted strategies are
// retargeted through ByteBudget.setTargetReduction. Its state is exported as gauges, also in the
// Prometheus text format for a server's /metrics. The clock is injected: wall time in a server, the
// data's own time offline, a fake one in tests.
import { ByteBudget, type BudgetReport, type SamplingStrategy } from './strategy.js';
import type { SpanPatch, SummaryLevel } from './reduce.js';
import type { SampledTrace } from './trace.js';

export interface AdaptiveBudgetOptions {
  /** OTLP bytes per second the output may use. */
  bytesPerSecondBudget: number;
  /** Milliseconds (default Date.now). */
  clock?: () => number;
  /** Half-life of the rate's EWMA in ms (default 10 s): after it, half of a step in load shows. */
  halfLifeMs?: number;
  /** Lower bound of the target reduction (default 0). */
  minReduction?: number;
  /** Upper bound (default 0.99; must be < 1, as a ByteBudget's target). */
  maxReduction?: number;
  /** The target before any load is measured (default minReduction). */
  initialReduction?: number;
}

/** The state as named gauges (the names are the Prometheus names without the prefix). */
export interface AdaptiveMetrics {
  /** Smoothed input rate, bytes/s (0 before the first interval). */
  observed_bytes_per_second: number;
  budget_bytes_per_second: number;
  target_reduction: number;
  /** 1 - output / input over everything recorded (0 before any input). */
  achieved_reduction: number;
  input_bytes_total: number;
  output_bytes_total: number;
}

const HELP: Record<keyof AdaptiveMetrics, [type: 'gauge' | 'counter', help: string]> = {
  observed_bytes_per_second: ['gauge', 'Smoothed (EWMA) input rate of the sampler, OTLP bytes per second.'],
  budget_bytes_per_second: ['gauge', 'Output budget of the sampler, OTLP bytes per second.'],
  target_reduction: ['gauge', 'Fraction of input bytes the sampler is asked to drop now.'],
  achieved_reduction: ['gauge', 'Fraction of input bytes dropped since start.'],
  input_bytes_total: ['counter', 'OTLP bytes into the sampler.'],
  output_bytes_total: ['counter', 'OTLP bytes out of the sampler.'],
};

export class AdaptiveBudget {
  readonly bytesPerSecondBudget: number;
  private readonly clock: () => number;
  private readonly halfLifeMs: number;
  private readonly minReduction: number;
  private readonly maxReduction: number;
  private readonly budgets: ByteBudget[] = [];
  private lastMs: number;
  private pendingBytes = 0;
  /** EWMA of the input rate in bytes/s; NaN until the first interval closes. */
  private rate = NaN;
  private target: number;
  private inputTotal = 0;
  private outputTotal = 0;

  constructor(options: AdaptiveBudgetOptions) {
    this.bytesPerSecondBudget = options.bytesPerSecondBudget;
    this.clock = options.clock ?? Date.now;
    this.halfLifeMs = options.halfLifeMs ?? 10_000;
    this.minReduction = options.minReduction ?? 0;
    this.maxReduction = options.maxReduction ?? 0.99;
    if (!(this.bytesPerSecondBudget > 0)) throw new RangeError(`byte budget must be > 0 bytes/s, got ${this.bytesPerSecondBudget}`);
    if (!(this.halfLifeMs > 0)) throw new RangeError(`half-life must be > 0 ms, got ${this.halfLifeMs}`);
    if (!(this.minReduction >= 0 && this.minReduction <= this.maxReduction && this.maxReduction < 1))
      throw new RangeError(`need 0 <= minReduction <= maxReduction < 1, got ${this.minReduction} and ${this.maxReduction}`);
    this.target = this.bound(options.initialReduction ?? this.minReduction);
    this.lastMs = this.clock();
  }

  /** Retargets this ByteBudget whenever the target changes (a budgeted strategy's `budget`). */
  attach(budget: ByteBudget): void {
    this.budgets.push(budget);
    budget.setTargetReduction(this.target);
  }

  /** Input bytes arriving now. */
  observe(inputBytes: number): void {
    this.inputTotal += inputBytes;
    this.pendingBytes += inputBytes;
    this.update();
  }

  /** Output bytes written (for the achieved reduction). */
  recordOutput(outputBytes: number): void {
    this.outputTotal += outputBytes;
  }

  /** The target reduction now (idle time lowers the rate, so it is brought up to date first). */
  get targetReduction(): number {
    this.update();
    return this.target;
  }

  get observedBytesPerSecond(): number {
    this.update();
    return Number.isNaN(this.rate) ? 0 : this.rate;
  }

  /**
   * Closes the interval since the last update: its rate enters the EWMA with weight
   * 1 - 2^(-dt / halfLife), so the smoothing is the same however often the clock is read.
   */
  private update(): void {
    const now = this.clock();
    const dt = now - this.lastMs;
    if (!(dt > 0)) return; // same instant (or a clock step back): bytes wait for the next interval
    const instant = (this.pendingBytes * 1000) / dt;
    if (Number.isNaN(this.rate)) this.rate = instant;
    else this.rate += (1 - Math.pow(2, -dt / this.halfLifeMs)) * (instant - this.rate);
    this.pendingBytes = 0;
    this.lastMs = now;
    const needed = this.rate <= 0 ? 0 : 1 - this.bytesPerSecondBudget / this.rate;
    const target = this.bound(needed);
    if (target !== this.target) {
      this.target = target;
      for (const b of this.budgets) b.setTargetReduction(target);
    }
  }

  private bound(r: number): number {
    return Math.min(this.maxReduction, Math.max(this.minReduction, r));
  }

  metrics(): AdaptiveMetrics {
    this.update();
    return {
      observed_bytes_per_second: Number.isNaN(this.rate) ? 0 : this.rate,
      budget_bytes_per_second: this.bytesPerSecondBudget,
      target_reduction: this.target,
      achieved_reduction: this.inputTotal === 0 ? 0 : 1 - this.outputTotal / this.inputTotal,
      input_bytes_total: this.inputTotal,
      output_bytes_total: this.outputTotal,
    };
  }

  /**
   * The metrics in the Prometheus text exposition format (version 0.0.4): HELP, TYPE and one
   * sample per metric, names `${prefix}_${metric}`, with optional constant labels.
   */
  prometheusText(prefix = 'slimtrace_sampling', labels: Record<string, string> = {}): string {
    const m = this.metrics();
    const labelText = Object.entries(labels)
      .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`)
      .join(',');
    const suffix = labelText ? `{${labelText}}` : '';
    let out = '';
    for (const key of Object.keys(HELP) as (keyof AdaptiveMetrics)[]) {
      const [type, help] = HELP[key];
      const name = `${prefix}_${key}`;
      out += `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name}${suffix} ${formatNumber(m[key])}\n`;
    }
    return out;
  }
}

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/**
 * A budgeted strategy driven by an AdaptiveBudget: every trace's bytes are observed as input when it
 * is decided (after the decision wait, so the rate lags arrival by that wait but has the same
 * throughput), the inner strategy's ByteBudget is retargeted, and the written bytes are recorded.
 */
export class AdaptiveSampler implements SamplingStrategy {
  readonly name: string;
  readonly priceUnit: 'otlp' | 'tracezip' | undefined;

  constructor(
    readonly inner: SamplingStrategy & { readonly budget: ByteBudget },
    readonly adaptive: AdaptiveBudget,
  ) {
    this.name = `adaptive(${inner.name})`;
    this.priceUnit = inner.priceUnit;
    adaptive.attach(inner.budget);
  }

  decide(trace: SampledTrace): Uint8Array | boolean {
    this.adaptive.observe(trace.bytes);
    return this.inner.decide(trace);
  }

  recordOutcome(inputBytes: number, outputBytes: number): void {
    // Priced as Tracezip, the output rate is what the encoder measured (recordEncoded).
    if (this.priceUnit !== 'tracezip') this.adaptive.recordOutput(outputBytes);
    this.inner.recordOutcome?.(inputBytes, outputBytes);
  }

  recordEncoded(spans: number, bytes: number): void {
    if (this.priceUnit === 'tracezip') this.adaptive.recordOutput(bytes);
    this.inner.recordEncoded?.(spans, bytes);
  }

  recordEnvelope(inputBytes: number, outputBytes: number): void {
    this.adaptive.recordOutput(outputBytes);
    this.inner.recordEnvelope?.(inputBytes, outputBytes);
  }

  summaryLevel(trace: SampledTrace): SummaryLevel | undefined {
    return this.inner.summaryLevel?.(trace);
  }

  budgetReport(): BudgetReport | undefined {
    return this.inner.budgetReport?.();
  }

  patches(trace: SampledTrace, keep: Uint8Array): { patches: ReadonlyMap<number, SpanPatch>; accounted?: Uint8Array } | undefined {
    return this.inner.patches?.(trace, keep);
  }
}
