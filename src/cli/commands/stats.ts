// `slimtrace stats [INPUT]`: what a trace input holds (spans, traces, services, operations, depth,
// OTLP bytes per span, error spans, events, faults), read in one streaming pass.
import type { Command } from 'commander';
import { DEFAULT_MAX_STATS_SPANS, StatsLimitError, TraceStatsAccumulator, type TraceStatsSummary } from '../../eval/index.js';
import { InputError } from '../../model/index.js';
import { intFlag } from '../flags.js';
import { forEachBatch, openInput, printWarnings, type FaultSummary, type TraceInput } from '../input.js';
import { commonInputOptions, parseInputOptions, type CommonInputFlags } from './common.js';

interface StatsFlags extends CommonInputFlags {
  json?: boolean;
  verbose?: boolean;
  maxSpans?: string;
}

export function registerStats(program: Command): void {
  const cmd = program
    .command('stats')
    .description('summarize a trace input: spans, traces, services, operations, depth, OTLP bytes/span, errors, faults')
    .argument('[input]', 'dataset directory or trace file (default: generated traffic)')
    .option('--json', 'print the summary as JSON')
    .option('-v, --verbose', 'also print timing, peak memory and input warnings')
    .option('--max-spans <n>', `most spans read (a positive integer): traces are measured whole at the end, from about 30 bytes kept per span (default ${DEFAULT_MAX_STATS_SPANS})`);
  commonInputOptions(cmd).action(async (input: string | undefined, flags: StatsFlags) => {
    const maxSpans = intFlag('--max-spans', flags.maxSpans, DEFAULT_MAX_STATS_SPANS, { min: 1 });
    const source = await openInput(input, parseInputOptions(flags));
    const started = process.hrtime.bigint();
    const summary = await collect(source, maxSpans);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    const faults = await source.faults?.();
    const warnings = source.warnings();
    if (flags.json) {
      process.stdout.write(JSON.stringify({ input: source.description, ...summary, faults, seconds, peakRssMb, warnings }, jsonReplacer, 2) + '\n');
    } else {
      process.stdout.write(format(source.description, summary, faults, warnings.length));
      if (flags.verbose) {
        process.stdout.write(`time            ${seconds.toFixed(1)} s (${Math.round(summary.spans / seconds)} spans/s)\n`);
        process.stdout.write(`peak RSS        ${peakRssMb.toFixed(0)} MB\n`);
      }
    }
    printWarnings(warnings, flags.verbose === true);
  });
}

async function collect(source: TraceInput, maxSpans: number): Promise<TraceStatsSummary> {
  const acc = new TraceStatsAccumulator({ maxSpans });
  try {
    await forEachBatch(source, source.batches(), 'stats', (batch) => acc.add(batch));
  } catch (e) {
    if (e instanceof StatsLimitError) throw new InputError(e.limit === 'spans' ? `${e.message}; --max-spans raises the limit` : e.message, source.description);
    throw e;
  }
  return acc.summary();
}

function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

const int = (n: number) => n.toLocaleString('en-US');
const q = (x: { median: number; p99: number; max: number }, digits = 0) =>
  `median ${x.median.toFixed(digits)}, p99 ${x.p99.toFixed(digits)}, max ${x.max.toFixed(digits)}`;

function isoOf(ns: bigint | undefined): string {
  if (ns === undefined) return '-';
  return new Date(Number(ns / 1_000_000n)).toISOString();
}

function format(description: string, s: TraceStatsSummary, faults: FaultSummary | undefined, warnings: number): string {
  const lines = [
    `input           ${description}`,
    `spans           ${int(s.spans)}${s.duplicateSpans ? ` (${int(s.spans - s.duplicateSpans)} distinct, ${int(s.duplicateSpans)} repeated span ids)` : ''}`,
    `traces          ${int(s.traces)}`,
    `services        ${s.services.length} (${s.resources} resources)`,
    `operations      ${int(s.operations)} distinct (service, span name)`,
    `spans/trace     ${q(s.spansPerTrace)}`,
    `trace depth     ${q(s.depth)}`,
    `duration (ms)   ${q(s.durationMs, 1)}`,
    `root spans      ${int(s.rootSpans)}; spans whose parent is missing: ${int(s.orphanSpans)}`,
    `error spans     ${int(s.errorSpans)}`,
    `span events     ${int(s.spanEvents)}; links ${int(s.spanLinks)}; attributes ${int(s.attributes)}`,
    `OTLP protobuf   ${int(s.otlpBytes)} bytes in ${int(s.batches)} batches = ${s.otlpBytesPerSpan.toFixed(1)} bytes/span`,
    `time range      ${isoOf(s.firstStartUnixNano)} .. ${isoOf(s.lastEndUnixNano)}`,
  ];
  if (faults) {
    const types = Object.entries(faults.byType).map(([t, n]) => `${n} ${t}`).join(', ');
    const spans = Object.entries(faults.faultySpans).map(([d, n]) => `${int(n)} ${d}`).join(', ');
    lines.push(`faults          ${faults.faults} injected (${types}); faulty spans: ${spans || 'none labelled'}`);
  }
  if (warnings) lines.push(`warnings        ${int(warnings)} kinds of input defect reported (see stderr)`);
  return lines.join('\n') + '\n';
}
