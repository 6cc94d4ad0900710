// Time per trace to sample, compress and decompress, and CPU seconds per million spans, measured on
// a sample of the evaluation's own traces after the main pass: each strategy (a fresh instance) on
// each trace, then each trace as one Tracezip frame of a stream and back. Per-trace figures are what
// an agent pays per decision and per frame; the p99 shows the outliers a mean would hide.
import { toTracesData, sampleTrace, type ReduceOptions, type SampledTrace, type SamplingStrategy } from '../sampling/index.js';
import { TracezipDecoder, TracezipEncoder } from '../tracezip/index.js';
import type { TimingFigures } from './results.js';

/** The value at quantile q (0..1) of ascending values, nearest rank; NaN when empty. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Keeps every k-th trace offered, up to `max`, so the sample spans the whole input. */
export class TraceSample {
  readonly traces: SampledTrace[] = [];
  private seen = 0;
  constructor(
    private readonly max = 2000,
    private readonly every = 1,
  ) {}

  offer(trace: SampledTrace): void {
    if (this.seen++ % this.every === 0 && this.traces.length < this.max) this.traces.push(trace);
  }
}

function cpuMicros(): number {
  const c = process.cpuUsage();
  return c.user + c.system;
}

function figures(stage: string, ms: number[], spans: number, cpu: number): TimingFigures {
  const sorted = Float64Array.from(ms).sort();
  return { stage, count: ms.length, p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99), cpuSecondsPerMillionSpans: spans === 0 ? NaN : cpu / spans };
}

/** Per-trace time of each strategy's decision and reduction (one warm-up pass first). */
export function timeSampling(traces: readonly SampledTrace[], strategies: readonly { name: string; make: () => SamplingStrategy }[], reduce?: ReduceOptions): TimingFigures[] {
  const spans = traces.reduce((n, t) => n + t.spans.length, 0);
  return strategies.map(({ name, make }) => {
    const warm = make();
    for (const t of traces) sampleTrace(warm, t, reduce);
    const strategy = make();
    const ms: number[] = [];
    const c0 = cpuMicros();
    for (const t of traces) {
      const t0 = performance.now();
      sampleTrace(strategy, t, reduce);
      ms.push(performance.now() - t0);
    }
    return figures(`sample ${name}`, ms, spans, cpuMicros() - c0);
  });
}

/** Per-trace time to encode each trace as one frame of a Tracezip stream, and to decode it back. */
export function timeTracezip(traces: readonly SampledTrace[]): TimingFigures[] {
  const spans = traces.reduce((n, t) => n + t.spans.length, 0);
  const data = traces.map((t) => toTracesData(t.spans));
  // Warm-up on its own stream, so the timed stream starts as cold as a new agent's.
  const warm = new TracezipEncoder();
  const warmDec = new TracezipDecoder();
  for (const d of data) warmDec.decode(warm.encode(d));
  const encoder = new TracezipEncoder();
  const frames: Uint8Array[] = [];
  const enc: number[] = [];
  let c0 = cpuMicros();
  for (const d of data) {
    const t0 = performance.now();
    frames.push(encoder.encode(d));
    enc.push(performance.now() - t0);
  }
  const encCpu = cpuMicros() - c0;
  const decoder = new TracezipDecoder();
  const dec: number[] = [];
  c0 = cpuMicros();
  for (const f of frames) {
    const t0 = performance.now();
    decoder.decode(f);
    dec.push(performance.now() - t0);
  }
  const decCpu = cpuMicros() - c0;
  return [figures('compress tracezip (1 trace a frame)', enc, spans, encCpu), figures('decompress tracezip', dec, spans, decCpu)];
}
