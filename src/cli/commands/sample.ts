// `slimtrace sample --strategy NAME IN -o OUT`: span- or trace-level sampling of any trace input,
// through the same streaming processor a server hosts (decision wait in the data's own time), and
// `slimtrace evaluate IN`: every chosen strategy on the same input at the same byte budget, with
// reduction, traces kept and intact, and faulty-span coverage against the input's labels.
import type { Command } from 'commander';
import { OtlpFileWriter } from '../../otlp/index.js';
import { tracezipByteMeter } from '../../tracezip/index.js';
import type { TracesData } from '../../model/index.js';
import { resolve } from 'node:path';
import { CODEC_NAMES, evaluateSampling, isCodecName, OtlpByteCounter, runEvaluation, type CodecFigures, type CodecName, type RcaFault, type RcaScore, type StrategyResult } from '../../eval/index.js';
import { writeReport } from '../../report/index.js';
import { AdaptiveSampler, createStrategy, dataClockMs, hasTieredBudget, isStrategyName, readCodeKnowledge, STRATEGY_DESCRIPTIONS, STRATEGY_NAMES, StreamingSampler, type CodeKnowledge, type SamplingStrategy, type StrategyName, type StrategyOptions } from '../../sampling/index.js';
import { UsageError } from '../errors.js';
import { numberFlag, reductionFlag } from '../flags.js';
import { forEachBatch, openInput, printWarnings, readLabelFile, withInputProgress } from '../input.js';
import { AtomicFile, otlpFormatOf, withOutputs } from '../output.js';
import { commonInputOptions, parseInputOptions, type CommonInputFlags } from './common.js';

interface SamplingFlags extends CommonInputFlags {
  analysis?: string;
  targetReduction?: string;
  decisionWait?: string;
  latencyThreshold?: string;
  seed?: string;
  bytesPerSecond?: string;
  summaries?: boolean;
  anomalyPaths?: boolean;
  price?: string;
  dropQuietTraces?: boolean;
  debtLimit?: string;
}

function decisionWaitMs(flags: SamplingFlags): number {
  return numberFlag('--decision-wait', flags.decisionWait, 30, { min: 0 }) * 1000;
}

/** A strategy the options cannot configure (a byte budget asked of one without) is a usage error. */
function buildStrategy(name: StrategyName, options: StrategyOptions): SamplingStrategy {
  try {
    return createStrategy(name, options);
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(err.message);
    throw err;
  }
}

function priceFlag(text: string | undefined): 'otlp' | 'tracezip' {
  if (text === undefined || text === 'otlp' || text === 'tracezip') return text ?? 'otlp';
  throw new UsageError(`--price must be otlp or tracezip, got '${text}'`);
}

/** Only Autoscope's tiered controller takes --price, --drop-quiet-traces and --debt-limit; in a comparison the other strategies run without them. */
function optionsFor(name: StrategyName, options: StrategyOptions): StrategyOptions {
  return hasTieredBudget(name) ? options : { ...options, price: 'otlp', dropQuietTraces: false, debtLimit: undefined };
}

function strategyName(text: string): StrategyName {
  if (!isStrategyName(text)) throw new UsageError(`unknown strategy '${text}' (one of: ${STRATEGY_NAMES.join(', ')})`);
  return text;
}

async function strategyOptions(flags: SamplingFlags, clock?: () => number): Promise<StrategyOptions> {
  let code: CodeKnowledge | undefined;
  if (flags.analysis) code = await readCodeKnowledge(flags.analysis);
  return {
    targetReduction: reductionFlag(flags.targetReduction),
    code,
    latencyThresholdMs: numberFlag('--latency-threshold', flags.latencyThreshold, undefined, { min: 0 }),
    bytesPerSecond: numberFlag('--bytes-per-second', flags.bytesPerSecond, undefined, { min: 0, minExclusive: true }),
    anomalyPaths: flags.anomalyPaths !== false,
    summaries: flags.summaries !== false,
    price: priceFlag(flags.price),
    dropQuietTraces: flags.dropQuietTraces === true,
    debtLimit: numberFlag('--debt-limit', flags.debtLimit, undefined, { min: 0 }),
    clock,
  };
}

function samplingOptions(cmd: Command): Command {
  return cmd
    .option('--analysis <file>', 'analysis.json of the services (slimtrace analyze); without it Autoscope mines structure from traffic')
    .option(
      '--target-reduction <r>',
      'share of OTLP bytes to drop, in [0, 1). A target for the strategies with a byte budget (autoscope, autoscope-paper, autoscope-mined, tail, random-span, importance, ' +
        'structure-preserving): they aim at it and keep more only when what they must keep costs more; head keeps 1 - r of the traces; leaf-aggregate ignores it. ' +
        'With --bytes-per-second it is a floor: the reduction rises above it with the load',
      '0.8',
    )
    .option('--decision-wait <seconds>', "seconds (of the data's own time) a trace may stay silent before it is decided: a non-negative number", '30')
    .option('--latency-threshold <ms>', 'tail strategy: keep traces whose root is slower than this (a non-negative number)')
    .option('--no-anomaly-paths', 'autoscope: keep errors, outliers and novel paths without their path to the root (re-parented instead; see docs/sampling.md)')
    .option(
      '--price <unit>',
      "autoscope: what a kept byte is, 'otlp' (default) or 'tracezip': for sample-then-compress, the target is then the reduction of the output's Tracezip bytes against the input's OTLP, and fewer spans are kept whole instead of many as skeletons (docs/sampling.md)",
    )
    .option(
      '--drop-quiet-traces',
      'autoscope: while the budget is in debt, drop a trace with nothing anomalous in it whole instead of keeping every trace (the last tier before coverage, for targets past what every root costs; such traces are query misses: docs/sampling.md)',
    )
    .option(
      '--debt-limit <traces>',
      'autoscope: how far, in average trace shares, the anomalies of a fault burst may run the byte budget into debt before any is dropped (default 1000). ' +
        'Higher keeps more of a long fault and ends that much over the target (docs/sampling.md, "How far 98% at 99% is")',
    )
    .option('--no-summaries', 'do not write dropped-span summaries on kept spans (they cost bytes: see docs/sampling.md)')
    .option('--bytes-per-second <n>', "adaptive budget: OTLP bytes per second (of the data's time) the output may use, a positive number; the reduction follows the load, from --target-reduction up (strategies with a byte budget only)");
}

export function registerSample(program: Command): void {
  const cmd = program
    .command('sample')
    .description('sample a trace input with a strategy and write the kept spans as OTLP')
    .argument('[input]', 'dataset directory or trace file (default: generated traffic)')
    .requiredOption('-o, --output <file>', 'output: OTLP protobuf (size-delimited), or OTLP/JSON Lines for .json/.jsonl')
    .requiredOption('--strategy <name>', `one of: ${STRATEGY_NAMES.join(', ')}`);
  samplingOptions(commonInputOptions(cmd)).action(async (input: string | undefined, flags: SamplingFlags & { output: string; strategy: string }) => {
    const name = strategyName(flags.strategy);
    // The data's own time drives the decision wait and the adaptive budget's clock.
    let clockMs = -Infinity;
    const options = await strategyOptions(flags, () => clockMs);
    const waitMs = decisionWaitMs(flags);
    const source = await openInput(input, parseInputOptions(flags));
    const strategy = buildStrategy(name, options);
    const output = await AtomicFile.create(flags.output);
    const writer = new OtlpFileWriter(output, otlpFormatOf(undefined, flags.output));
    // Priced as Tracezip bytes, the output is measured through a Tracezip stream in frames of 512 spans.
    let wireBytes = 0;
    const meter = strategy.priceUnit === 'tracezip' ? tracezipByteMeter(512) : undefined;
    const sampler = new StreamingSampler({
      strategy,
      decisionWaitMs: waitMs,
      reduce: { summaries: flags.summaries !== false },
      ...(meter ? { wireMeter: (d: TracesData) => { const b = meter(d); wireBytes += b; return b; } } : {}),
    });
    const inBytes = new OtlpByteCounter();
    const outBytes = new OtlpByteCounter();
    const started = process.hrtime.bigint();
    await withOutputs([output], async () => {
      await forEachBatch(source, source.batches(), 'sample', async (batch) => {
        inBytes.addData(batch);
        clockMs = dataClockMs(batch, clockMs);
        sampler.push(batch, clockMs);
        const out = sampler.poll(clockMs);
        if (out) {
          outBytes.addData(out);
          await writer.write(out);
        }
      });
      const last = sampler.flush();
      if (last) {
        outBytes.addData(last);
        await writer.write(last);
      }
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const c = sampler.counters;
    const bi = inBytes.finish();
    const bo = outBytes.finish();
    process.stdout.write(
      `${name}: ${c.spansIn} spans in, ${c.spansOut} out; ${c.tracesKept} of ${c.tracesDecided} traces kept; ` +
        `OTLP bytes ${bi} -> ${bo} (${((1 - bo / Math.max(1, bi)) * 100).toFixed(1)}% reduction, target ${(options.targetReduction * 100).toFixed(0)}%); ${seconds.toFixed(1)} s -> ${flags.output}\n`,
    );
    if (meter) process.stdout.write(`Tracezip bytes of the output: ${wireBytes} (${((1 - wireBytes / Math.max(1, bi)) * 100).toFixed(1)}% reduction against the input's OTLP, target ${(options.targetReduction * 100).toFixed(0)}%)\n`);
    const achieved = 1 - (meter ? wireBytes : bo) / Math.max(1, bi);
    if ((strategy as { budget?: unknown }).budget !== undefined && achieved < options.targetReduction - 0.05) {
      process.stdout.write(
        `note: ${name} kept more than the budget: what it must keep (every trace's root${name.startsWith('autoscope') ? ', errors, outliers and novel paths with their paths to the root, one span per DSS' : ''}` +
          `${flags.summaries !== false ? ', the dropped-span summaries' : ''}) costs more than ${pct(1 - options.targetReduction)} of the bytes here (docs/sampling.md)\n`,
      );
    }
    const report = strategy.budgetReport?.();
    if (report) {
      const steps = Object.entries(report.steps).filter(([, v]) => v > 0);
      if (steps.length > 0) process.stdout.write(`budget controller: ${steps.map(([k, v]) => `${k} in ${v} traces (${report.spans[k] ?? 0} spans)`).join(', ')}\n`);
      for (const note of report.notes) process.stdout.write(`note: ${note}\n`);
    }
    if (strategy instanceof AdaptiveSampler) {
      const m = strategy.adaptive.metrics();
      process.stdout.write(`adaptive budget: ${Math.round(m.observed_bytes_per_second)} B/s observed, ${Math.round(m.budget_bytes_per_second)} B/s budget, target reduction now ${pct(m.target_reduction)}\n`);
    }
    printWarnings(source.warnings(), false);
  });
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/** The reduction against the target: of the Tracezip bytes for a strategy priced in them. */
function vsTarget(r: StrategyResult, targetReduction: number): string {
  const achieved = r.tracezipBytes === undefined ? r.reduction : 1 - r.tracezipBytes / Math.max(1, r.inputBytes);
  const pt = `${achieved - targetReduction >= 0 ? '+' : ''}${((achieved - targetReduction) * 100).toFixed(1)} pt`;
  return r.tracezipBytes === undefined ? pt : `${pt} (Tracezip: ${pct(achieved)})`;
}

/** The evaluation as a Markdown table (what docs/sampling.md shows). */
export function formatEvaluation(results: readonly StrategyResult[], targetReduction: number): string {
  const defs = ['exact', 'slow', 'proxy'] as const;
  const present = defs.filter((d) => results.some((r) => r.coverage[d]));
  const head = ['strategy', 'OTLP bytes', 'reduction', `vs target ${pct(targetReduction)}`, 'spans kept', 'traces kept', 'intact', ...present.map((d) => `${d} coverage`), 'spans/s'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of results) {
    const row = [
      r.strategy,
      String(r.outputBytes),
      pct(r.reduction),
      vsTarget(r, targetReduction),
      `${r.outputSpans} / ${r.inputSpans}`,
      `${r.tracesKept} / ${r.traces}`,
      `${r.tracesIntact} / ${r.tracesKept}`,
      ...present.map((d) => {
        const c = r.coverage[d];
        return c ? `${pct(c.share)} (${c.kept}/${c.faulty})` : '-';
      }),
      String(Math.round(r.inputSpans / Math.max(1e-9, r.seconds))),
    ];
    lines.push(`| ${row.join(' | ')} |`);
  }
  // Span-level strategies: where the written bytes went by tier, and what the budget controller gave up.
  const tiered = results.filter((r) => r.budget !== undefined || r.tierBytes.skeleton > 0 || r.tierBytes.summary > 0);
  if (tiered.length > 0) {
    lines.push('', '| strategy | whole spans | skeletons | summaries | controller steps (traces / spans) |', '|---|---|---|---|---|');
    for (const r of tiered) {
      const t = r.tierBytes;
      const steps = r.budget ? Object.entries(r.budget.steps).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v} / ${r.budget!.spans[k] ?? 0}`).join(', ') || 'none' : '-';
      lines.push(`| ${r.strategy} | ${t.full} B | ${t.skeleton} B | ${t.summary} B | ${steps} |`);
    }
    for (const r of tiered) for (const note of r.budget?.notes ?? []) lines.push('', `${r.strategy}: ${note}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * Root-cause localisation as a Markdown table: the full data, each strategy's output, and random
 * chance, for both rankings (docs/evaluation.md defines them).
 */
export function formatRca(results: readonly StrategyResult[]): string {
  const first = results.find((r) => r.rca)?.rca;
  if (!first) return '';
  const full = first.full;
  if (full.faults === 0) return 'Root-cause localisation: no fault cases to score.\n';
  const f2 = (x: number): string => x.toFixed(2);
  const cells = (s: { traceRca: RcaScore; microRank: RcaScore }, base?: { traceRca: RcaScore; microRank: RcaScore }): string[] => {
    const out: string[] = [];
    for (const m of ['traceRca', 'microRank'] as const) {
      for (const [x, b] of [
        [s[m].ac[0]!, base?.[m].ac[0]],
        [s[m].ac[2]!, base?.[m].ac[2]],
        [s[m].avg5, base?.[m].avg5],
      ] as const) {
        out.push(b === undefined ? f2(x) : `${f2(x)} (${x - b >= 0 ? '+' : ''}${f2(x - b)})`);
      }
    }
    return out;
  };
  const head = ['data', 'TraceRCA AC@1', 'AC@3', 'Avg@5', 'MicroRank AC@1', 'AC@3', 'Avg@5'];
  const lines = [
    `Root-cause localisation, service level, ${full.faults} fault windows (reduced rows: change against the full data in brackets)`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    `| full data | ${cells(full.methods).join(' | ')} |`,
  ];
  for (const r of results) if (r.rca) lines.push(`| ${r.strategy} | ${cells(r.rca.reduced.methods, full.methods).join(' | ')} |`);
  const c = full.chance;
  lines.push(`| random chance | ${[c.ac[0]!, c.ac[2]!, c.avg5, c.ac[0]!, c.ac[2]!, c.avg5].map(f2).join(' | ')} |`);
  return lines.join('\n') + '\n';
}

/** `--codecs a,b`: codec names, 'none' for none; undefined when the flag is absent. */
export function codecsFlag(text: string | undefined): CodecName[] | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length === 1 && parts[0] === 'none') return [];
  if (parts.length === 0) throw new UsageError(`--codecs names no codec (one or more of: ${CODEC_NAMES.join(', ')}, or none)`);
  for (const p of parts) if (!isCodecName(p)) throw new UsageError(`unknown codec '${p}' (one of: ${CODEC_NAMES.join(', ')}, or none)`);
  return parts as CodecName[];
}

/** The codec figures as a Markdown table: bytes per input span at each batch size. */
export function formatCodecs(codecs: CodecFigures): string {
  const head = ['codec', ...codecs.batchSizes.map((b) => `B/span @${b}`)];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of codecs.rows) lines.push(`| ${[r.label, ...r.bytesPerInputSpan.map((v) => v.toFixed(1))].join(' | ')} |`);
  const l = codecs.lossless;
  lines.push('', l.checked ? (l.ok ? `Tracezip lossless: ${l.spans} spans in ${l.frames} frames decoded back equal` : `Tracezip NOT lossless: ${l.problem}`) : 'Tracezip lossless check: not run');
  return lines.join('\n') + '\n';
}

export function registerEvaluate(program: Command): void {
  const cmd = program
    .command('evaluate')
    .description('compare sampling strategies on one input at the same byte budget: reduction, structure, faulty-span coverage')
    .argument('[input]', 'dataset directory or trace file (default: generated traffic)')
    .option('--strategies <names>', `comma-separated (default: all): ${STRATEGY_NAMES.join(', ')}`)
    .option('--ground-truth <file>', "faulty-span labels as CSV (what `generate --ground-truth` writes, a dataset's labels/faulty_spans.csv) for the coverage columns; replaces the input's own labels")
    .option('--codecs <names>', `codecs measured on the input and after sampling, comma-separated (default with --report: all): ${CODEC_NAMES.join(', ')}; 'none' for no codec figures`)
    .option('--report <dir>', 'write the HTML report (report.html) and results.json into this directory')
    .option('--json', 'print the results as JSON (with --report or --codecs: the whole results.json document)')
    .option('--rca', "also localise each fault's root-cause service on the full and on every reduced stream (TraceRCA- and MicroRank-style; AC@1, AC@3, Avg@5 beside chance)");
  samplingOptions(commonInputOptions(cmd)).action(async (input: string | undefined, flags: SamplingFlags & { strategies?: string; json?: boolean; groundTruth?: string; codecs?: string; report?: string; rca?: boolean }) => {
    const names = (flags.strategies ? flags.strategies.split(',').map((s) => s.trim()).filter(Boolean) : [...STRATEGY_NAMES]).map(strategyName);
    if (names.length === 0) throw new UsageError(`--strategies names no strategy (one or more of: ${STRATEGY_NAMES.join(', ')})`);
    const codecs = codecsFlag(flags.codecs);
    const options = await strategyOptions(flags);
    const waitMs = decisionWaitMs(flags);
    const source = await openInput(input, parseInputOptions(flags));
    const labelFile = flags.groundTruth === undefined ? undefined : await readLabelFile(flags.groundTruth);
    const strategies = names.map((n) => buildStrategy(n, optionsFor(n, options)));
    if (!options.code && names.some((n) => n === 'autoscope' || n === 'autoscope-paper')) process.stderr.write('slimtrace: note: no --analysis given; autoscope and autoscope-paper run without code knowledge\n');
    const labels = labelFile?.labels ?? (await source.labels?.());
    let rcaFaults: RcaFault[] | undefined;
    if (flags.rca) {
      rcaFaults = await source.rcaFaults?.();
      if (!rcaFaults) process.stderr.write('slimtrace: note: the input has no fault list (service and time of each fault); --rca skipped\n');
    }
    if (flags.report !== undefined || codecs !== undefined) {
      const report = await runEvaluation({
        title: 'slimtrace evaluation',
        command: `slimtrace ${process.argv.slice(2).join(' ')}`,
        description: source.description,
        batches: withInputProgress(source, source.batches(), 'evaluate'),
        strategies: names.map((n) => ({ name: n, description: STRATEGY_DESCRIPTIONS[n], make: () => buildStrategy(n, optionsFor(n, options)) })),
        labels,
        faults: async () => {
          const f = await source.faults?.();
          return f && { faults: f.faults, byType: f.byType };
        },
        targetReduction: options.targetReduction,
        decisionWaitMs: waitMs,
        reduce: { summaries: flags.summaries !== false },
        codeKnowledge: options.code !== undefined,
        codecs: codecs ?? [...CODEC_NAMES],
        ...(rcaFaults ? { rcaFaults } : {}),
      });
      const written = flags.report !== undefined ? await writeReport(flags.report, report) : undefined;
      if (flags.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else {
        process.stdout.write(`${source.description}; target reduction ${pct(options.targetReduction)}\n\n`);
        process.stdout.write(formatEvaluation(report.strategies, options.targetReduction));
        if (report.codecs) process.stdout.write('\n' + formatCodecs(report.codecs));
        if (written) process.stdout.write(`\nreport: ${resolve(written.html)} (results: ${resolve(written.json)})\n`);
      }
      printWarnings([...source.warnings(), ...(labelFile?.warnings ?? [])], false);
      return;
    }
    const results = await evaluateSampling({
      batches: withInputProgress(source, source.batches(), 'evaluate'),
      strategies,
      faultySpans: labels?.faultySpans,
      faultTypes: labels?.faultTypes,
      decisionWaitMs: waitMs,
      reduce: { summaries: flags.summaries !== false },
      rcaFaults,
    });
    if (flags.json) process.stdout.write(JSON.stringify({ targetReduction: options.targetReduction, results }, null, 2) + '\n');
    else {
      process.stdout.write(`${source.description}; target reduction ${pct(options.targetReduction)}\n\n`);
      process.stdout.write(formatEvaluation(results, options.targetReduction));
      const rca = formatRca(results);
      if (rca) process.stdout.write('\n' + rca);
    }
    printWarnings([...source.warnings(), ...(labelFile?.warnings ?? [])], false);
  });
}
