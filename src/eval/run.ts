// One evaluation run from any trace input to an EvaluationReport: every strategy at one byte budget
// (evaluateSampling), the input under every codec at several batch sizes with the lossless check,
// each strategy's output through Tracezip (sample-then-compress), per-trace timings, peak memory,
// and a few faulty traces span by span. `slimtrace evaluate --report` and `slimtrace demo` both run
// this, so their reports have one shape.
import type { TracesData } from '../model/index.js';
import type { FaultySpans } from '../datasets/index.js';
import type { ReduceOptions, SamplingStrategy } from '../sampling/index.js';
import { CODEC_LABELS, CodecMeter, DEFAULT_BATCH_SIZES, LosslessError, type CodecMeasurement, type CodecName } from './codecs.js';
import { EVALUATION_REPORT_FORMAT, EVALUATION_REPORT_VERSION, type CodecFigures, type CodecRow, type CoverageDefinition, type EvaluationReport, type RcaFigures, type RcaScores, type StrategyFigures, type TradeoffCurve } from './results.js';
import { evaluateSampling, type StrategyResult } from './sampling.js';
import { RCA_METHODS, type RcaFault, type RcaMethod, type RcaScore } from './rca.js';
import { TraceSample, timeSampling, timeTracezip } from './timing.js';
import { WaterfallCollector } from './waterfalls.js';

export interface StrategyEntry {
  name: string;
  description?: string;
  /** A fresh instance (the timing pass needs its own, unwarmed by the main pass). */
  make: () => SamplingStrategy;
}

export interface RunEvaluationOptions {
  title?: string;
  command?: string;
  description: string;
  batches: AsyncIterable<TracesData>;
  strategies: readonly StrategyEntry[];
  /** Per-span fault labels; generated traffic fills them as its batches stream. */
  labels?: { faultySpans: FaultySpans; faultTypes: () => ReadonlyMap<string, string> };
  /** Fault counts by type, read after the batches are consumed. */
  faults?: () => Promise<{ faults: number; byType: Record<string, number> } | undefined>;
  targetReduction: number;
  /** Faulty-span coverage aimed at (default 0.99). */
  coverageGoal?: number;
  decisionWaitMs?: number;
  reduce?: ReduceOptions;
  codeKnowledge?: boolean;
  /** Codecs measured on the input (default all; empty: no codec section). */
  codecs?: readonly CodecName[];
  batchSizes?: readonly number[];
  /** Strategy compressed at every batch size as the combined pipeline (default autoscope, else another autoscope variant, else the first). */
  combinedStrategy?: string;
  /** Faulty traces drawn as waterfalls (default 4; 0 for none). */
  waterfalls?: number;
  /** Traces the timing pass uses (default 1000; 0 skips it). */
  timingTraces?: number;
  /**
   * Strategies also run at other targets in the same pass, for the trade-off curve (reduction
   * against coverage); they appear only in `tradeoff`.
   */
  sweep?: readonly { strategy: string; targets: readonly number[]; make: (targetReduction: number) => SamplingStrategy }[];
  onProgress?: (spans: number) => void;
  /** Fault cases (service + window): root-cause localisation on the full and every reduced stream (rca.ts). */
  rcaFaults?: readonly RcaFault[];
}

/** The RCA section of the report from the strategies' results (each carries full and reduced scores). */
export function rcaFigures(results: readonly StrategyResult[]): RcaFigures | undefined {
  const withRca = results.filter((r) => r.rca);
  const full = withRca[0]?.rca?.full;
  if (!full) return undefined;
  const scores = (s: RcaScore, cases: number): RcaScores => ({ ac1: s.ac[0]!, ac3: s.ac[2]!, avg5: s.avg5, cases });
  const label: Record<RcaMethod, string> = { traceRca: 'TraceRCA', microRank: 'MicroRank' };
  return {
    methods: RCA_METHODS.map((m) => ({
      method: label[m],
      full: scores(full.methods[m], full.faults),
      reduced: Object.fromEntries(withRca.map((r) => [r.strategy, scores(r.rca!.reduced.methods[m], r.rca!.reduced.faults)])),
      chance: scores(full.chance, full.faults),
    })),
    ...(full.faults === 0 ? { note: 'no fault cases to score' } : {}),
  };
}

/** A strategy under another name (sweep points run beside the main strategies in one pass). */
function renamed(s: SamplingStrategy, name: string): SamplingStrategy {
  return {
    name,
    decide: (t) => s.decide(t),
    ...(s.recordOutcome ? { recordOutcome: (i: number, o: number) => s.recordOutcome!(i, o) } : {}),
    ...(s.recordEnvelope ? { recordEnvelope: (i: number, o: number) => s.recordEnvelope!(i, o) } : {}),
    ...(s.patches ? { patches: (t: Parameters<NonNullable<SamplingStrategy['patches']>>[0], k: Uint8Array) => s.patches!(t, k) } : {}),
  };
}

/** Bytes the sample-then-compress figures use: Tracezip stream at the SDK's 512 spans a request. */
const SAMPLE_BATCH = 512;

export async function runEvaluation(options: RunEvaluationOptions): Promise<EvaluationReport> {
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const names = options.strategies.map((s) => s.name);
  const codecs = options.codecs ?? (['otlp-protobuf', 'otlp-gzip', 'otlp-zstd', 'tracezip'] as CodecName[]);
  const measureCodecs = codecs.length > 0;
  // Raw OTLP is the yardstick of every codec row, so it is always measured beside the asked codecs.
  const inputCodecs: CodecName[] = measureCodecs ? [...new Set<CodecName>(['otlp-protobuf', ...codecs])] : [];
  const batchSizes = options.batchSizes ?? DEFAULT_BATCH_SIZES;
  // Span-level Autoscope is the combined pipeline's sampler; another strategy only when none is run.
  const combined = options.combinedStrategy ?? (names.includes('autoscope') ? 'autoscope' : (names.find((n) => n.startsWith('autoscope')) ?? names[0]));
  const input = measureCodecs ? new CodecMeter({ batchSizes, codecs: inputCodecs }) : undefined;
  const compressOutput = measureCodecs && codecs.includes('tracezip');
  const outputs = new Map<string, CodecMeter>();
  // The combined pipeline at every batch size, beside the input's rows, checked lossless like the input.
  const combinedMeter = compressOutput && combined ? new CodecMeter({ batchSizes, codecs: ['tracezip'] }) : undefined;
  // The other strategies' outputs at 512 spans a frame: sizes only (the same codec is checked on the
  // input and the combined output; decoding nine more streams would double the demo's Tracezip time).
  if (compressOutput) for (const n of names) if (!(n === combined && batchSizes.includes(SAMPLE_BATCH))) outputs.set(n, new CodecMeter({ batchSizes: [SAMPLE_BATCH], codecs: ['tracezip'], checkLossless: false }));
  const faultTypes = options.labels?.faultTypes;
  let typeMap: ReadonlyMap<string, string> | undefined;
  const collector =
    options.labels && (options.waterfalls ?? 4) > 0
      ? new WaterfallCollector({ faultySpans: options.labels.faultySpans, faultType: (id) => (typeMap ?? faultTypes?.())?.get(id), strategies: names, maxTraces: options.waterfalls ?? 4 })
      : undefined;
  const sample = new TraceSample(options.timingTraces ?? 1000, 1);

  async function* tee(): AsyncGenerator<TracesData> {
    for await (const b of options.batches) {
      input?.addData(b);
      yield b;
    }
  }

  const sweepRuns = (options.sweep ?? []).flatMap((sw) => sw.targets.map((target) => ({ strategy: sw.strategy, target, name: `${sw.strategy}@${target}`, make: () => renamed(sw.make(target), `${sw.strategy}@${target}`) })));
  const sweepNames = new Set(sweepRuns.map((r) => r.name));
  const all = await evaluateSampling({
    batches: tee(),
    strategies: [...options.strategies.map((s) => s.make()), ...sweepRuns.map((r) => r.make())],
    faultySpans: options.labels?.faultySpans,
    faultTypes: options.labels?.faultTypes,
    decisionWaitMs: options.decisionWaitMs,
    reduce: options.reduce,
    onProgress: options.onProgress,
    ...(options.rcaFaults ? { rcaFaults: options.rcaFaults } : {}),
    onDecision: (strategy, trace, reduced) => {
      if (sweepNames.has(strategy)) return;
      if (strategy === names[0]) sample.offer(trace);
      collector?.observe(strategy, trace, reduced);
    },
    onOutput: (strategy, data) => {
      outputs.get(strategy)?.addData(data);
      if (strategy === combined) combinedMeter?.addData(data);
    },
  });
  const results = all.filter((r) => !sweepNames.has(r.strategy));
  const tradeoff = tradeoffCurves(options, results, all, sweepRuns);
  typeMap = faultTypes?.();
  const inputMeasure = input?.finish();
  const outputMeasures = new Map([...outputs].map(([n, m]) => [n, m.finish()]));
  const combinedMeasure = combinedMeter?.finish();
  if (combined && combinedMeasure && !outputMeasures.has(combined)) outputMeasures.set(combined, combinedMeasure);
  if (combinedMeasure && !combinedMeasure.lossless.ok) throw new LosslessError(`Tracezip is not lossless on ${combined}'s output: ${combinedMeasure.lossless.problem}`);
  for (const [n, m] of outputMeasures) if (!m.lossless.ok) throw new LosslessError(`Tracezip is not lossless on ${n}'s output: ${m.lossless.problem}`);
  if (inputMeasure && !inputMeasure.lossless.ok) throw new LosslessError(`Tracezip is not lossless on the input: ${inputMeasure.lossless.problem}`);

  const timings =
    sample.traces.length > 0
      ? [...timeSampling(sample.traces, options.strategies, options.reduce), ...(compressOutput ? timeTracezip(sample.traces) : [])]
      : undefined;
  const faults = await options.faults?.();
  const descriptions = new Map(options.strategies.map((s) => [s.name, s.description]));
  const strategies = results.map((r) => strategyFigures(r, descriptions.get(r.strategy), outputMeasures.get(r.strategy)));
  const first = results[0];
  const rca = rcaFigures(results);
  const cpu = process.cpuUsage(cpu0);
  const faultySpans: Partial<Record<CoverageDefinition, number>> = {};
  if (options.labels) for (const d of ['exact', 'slow', 'proxy'] as const) faultySpans[d] = options.labels.faultySpans.pairs(d);
  return {
    format: EVALUATION_REPORT_FORMAT,
    version: EVALUATION_REPORT_VERSION,
    createdAt: new Date().toISOString(),
    title: options.title ?? 'slimtrace evaluation',
    ...(options.command ? { command: options.command } : {}),
    input: {
      description: options.description,
      spans: first?.inputSpans ?? inputMeasure?.spans ?? 0,
      traces: first?.traces ?? 0,
      otlpBytes: first?.inputBytes ?? 0,
      ...(faults ? { faults: { count: faults.faults, byType: faults.byType } } : {}),
      ...(options.labels ? { faultySpans } : {}),
    },
    settings: {
      targetReduction: options.targetReduction,
      coverageGoal: options.coverageGoal ?? 0.99,
      decisionWaitMs: options.decisionWaitMs ?? 30_000,
      summaries: options.reduce?.summaries ?? true,
      codeKnowledge: options.codeKnowledge ?? false,
      ...(combined ? { combinedStrategy: combined } : {}),
    },
    strategies,
    ...(inputMeasure ? { codecs: codecFigures(inputMeasure, combined, combinedMeasure) } : {}),
    ...(timings ? { timings } : {}),
    resources: { peakRssBytes: process.resourceUsage().maxRSS * 1024, wallSeconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 },
    ...(collector ? { waterfalls: collector.traces() } : {}),
    ...(tradeoff.length > 0 ? { tradeoff } : {}),
    ...(rca ? { rca } : {}),
  };
}

/** Each swept strategy's points, its main run included, in order of target; coverage on the first definition measured. */
function tradeoffCurves(options: RunEvaluationOptions, main: StrategyResult[], all: StrategyResult[], runs: { strategy: string; target: number; name: string }[]): TradeoffCurve[] {
  const def = (['exact', 'slow', 'proxy'] as const).find((d) => main.some((r) => r.coverage[d]));
  const y = (r: StrategyResult) => (def ? (r.coverage[def]?.share ?? 0) : r.traces === 0 ? 0 : r.tracesKept / r.traces);
  return (options.sweep ?? []).map((sw) => {
    const points = runs
      .filter((r) => r.strategy === sw.strategy)
      .map((r) => ({ r: all.find((x) => x.strategy === r.name)!, target: r.target }));
    const base = main.find((r) => r.strategy === sw.strategy);
    if (base) points.push({ r: base, target: options.targetReduction });
    points.sort((a, b) => a.target - b.target);
    return { strategy: sw.strategy, points: points.map((p) => ({ targetReduction: p.target, reduction: p.r.reduction, coverage: y(p.r) })) };
  });
}

/** A strategy's figures for the report, with the query miss rates and its output's Tracezip bytes. */
export function strategyFigures(r: StrategyResult, description: string | undefined, compressed: CodecMeasurement | undefined): StrategyFigures {
  const g = compressed ? compressed.batchSizes.indexOf(SAMPLE_BATCH) : -1;
  return {
    strategy: r.strategy,
    ...(description ? { description } : {}),
    inputBytes: r.inputBytes,
    outputBytes: r.outputBytes,
    reduction: r.reduction,
    inputSpans: r.inputSpans,
    outputSpans: r.outputSpans,
    traces: r.traces,
    tracesKept: r.tracesKept,
    tracesIntact: r.tracesIntact,
    traceQueryMissRate: missRate(r.tracesKept, r.traces),
    spanQueryMissRate: missRate(r.outputSpans, r.inputSpans),
    coverage: r.coverage,
    coverageByType: r.coverageByType,
    ...(compressed && g >= 0 ? { sampleThenTracezipBytes: compressed.bytes.tracezip![g]! } : {}),
    ...(r.tracezipBytes !== undefined ? { tracezipBytes: r.tracezipBytes } : {}),
    tierBytes: r.tierBytes,
    ...(r.budget ? { budget: r.budget } : {}),
    seconds: r.seconds,
  };
}

/** Share of lookups that find nothing: 1 - found / asked (0 when nothing was asked). */
export function missRate(found: number, asked: number): number {
  return asked === 0 ? 0 : Math.max(0, 1 - found / asked);
}

/** The codec table: the input under each codec, then the combined strategy's output through Tracezip. */
export function codecFigures(input: CodecMeasurement, combined: string | undefined, combinedOut: CodecMeasurement | undefined): CodecFigures {
  const perSpan = (bytes: number[]): number[] => bytes.map((b) => (input.spans === 0 ? NaN : b / input.spans));
  const rows: CodecRow[] = [];
  for (const [codec, bytes] of Object.entries(input.bytes) as [CodecName, number[]][]) rows.push({ codec, label: CODEC_LABELS[codec], spans: input.spans, bytes, bytesPerInputSpan: perSpan(bytes) });
  if (combined && combinedOut?.bytes.tracezip) {
    const bytes = combinedOut.bytes.tracezip;
    rows.push({ codec: `${combined}+tracezip`, label: `${combined} then Tracezip`, spans: combinedOut.spans, bytes, bytesPerInputSpan: perSpan(bytes) });
  }
  const lossless = {
    checked: input.lossless.checked,
    frames: input.lossless.frames + (combinedOut?.lossless.frames ?? 0),
    spans: input.lossless.spans,
    ok: input.lossless.ok && (combinedOut?.lossless.ok ?? true),
    ...(input.lossless.problem ? { problem: input.lossless.problem } : {}),
  };
  return { batchSizes: input.batchSizes, rows, lossless };
}
