// Regenerates docs/RESULTS.md: the measured comparison tables for generated traffic (`slimtrace
// demo`) and the two TrainTicket datasets (`slimtrace evaluate --report`), shaped like the seed's
// comparisons (head-based, tail-based, Tracezip, Autoscope, combined), each with its exact command.
// Each input's run writes report.html and results.json into WORK/<input>; with --reuse an existing
// results.json there is read instead of running again (the dataset runs take minutes).
//
//   node --import tsx scripts/results.ts [DATASETS_ROOT] [--work /tmp/slimtrace-results] [--reuse]
//
// DATASETS_ROOT defaults to $SLIMTRACE_DATASETS, else ../shared/datasets; a dataset that is not there
// is left out of the tables with a line saying so.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { EvaluationReport, StrategyFigures } from '../src/eval/index.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { work: { type: 'string', default: '/tmp/slimtrace-results' }, reuse: { type: 'boolean', default: false } } });
const root = resolve(import.meta.dirname, '..');
const datasets = resolve(positionals[0] ?? process.env.SLIMTRACE_DATASETS ?? join(root, '../shared/datasets'));
const DATASET_STRATEGIES = 'autoscope-mined,head,tail,leaf-aggregate';
/**
 * The combined pipeline with Autoscope's budget in Tracezip's bytes (--price tracezip): the same
 * strategy (no source code) everywhere, at one target for every input, and at 98% with quiet traces
 * allowed to go whole (--drop-quiet-traces: the roots alone take half of what 98% leaves).
 */
interface Variant {
  /** Folder suffix under WORK. */
  key: string;
  /** How the row names it. */
  label: string;
  flags: string[];
}
const VARIANTS: Variant[] = [
  { key: 'priced', label: 'priced in Tracezip bytes (target 97.0%)', flags: ['--target-reduction', '0.97'] },
  { key: 'priced-quiet', label: 'priced in Tracezip bytes (target 98.0%, quiet traces dropped)', flags: ['--target-reduction', '0.98', '--drop-quiet-traces'] },
];
const variantArgs = (input: string | undefined, v: Variant): string[] => ['evaluate', ...(input ? [input] : []), '--strategies', 'autoscope-mined', '--price', 'tracezip', ...v.flags, '--codecs', 'tracezip'];
const variantsOf = (input: string | undefined, local: string | undefined = input): Input['variants'] =>
  VARIANTS.map((v) => ({ variant: v, shown: `npx slimtrace ${variantArgs(input, v).join(' ')} --report DIR`, args: variantArgs(local, v) }));

interface Input {
  name: string;
  title: string;
  /** The command as the docs show it (run from the repository root). */
  shown: string;
  args: string[];
  available: boolean;
  /** The runs priced in Tracezip's bytes. */
  variants: { variant: Variant; shown: string; args: string[] }[];
}

const inputs: Input[] = [
  { name: 'generated', title: 'Generated traffic (the embedded default)', shown: 'npx slimtrace demo --no-pipeline', args: ['demo', '--no-pipeline'], available: true, variants: variantsOf(undefined) },
  ...['nezha-trainticket', 'trastrainer-trainticket'].map((d) => ({
    name: d,
    title: `${d} dataset`,
    shown: `npx slimtrace evaluate ../shared/datasets/${d} --strategies ${DATASET_STRATEGIES} --rca --report DIR`,
    args: ['evaluate', join(datasets, d), '--strategies', DATASET_STRATEGIES, '--rca'],
    available: existsSync(join(datasets, d)),
    variants: variantsOf(`../shared/datasets/${d}`, join(datasets, d)),
  })),
];

function run(input: Input, variant?: Input['variants'][number]): EvaluationReport | undefined {
  const dir = join(values.work!, variant ? `${input.name}-${variant.variant.key}` : input.name);
  const file = join(dir, 'results.json');
  const shown = variant ? variant.shown : input.shown;
  if (!(values.reuse && existsSync(file))) {
    if (!input.available) return undefined;
    process.stderr.write(`results: ${shown}\n`);
    const r = spawnSync(process.execPath, ['--max-old-space-size=12000', '--import', 'tsx', join(root, 'src/cli/main.ts'), ...(variant ? variant.args : input.args), '--report', dir], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`${shown} failed (exit ${r.status}): ${r.stderr}`);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as EvaluationReport;
}

const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(1)}%`);
const dur = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(1)} ms`);
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

function cov(s: StrategyFigures, d: 'exact' | 'slow'): string {
  const c = s.coverage[d];
  return c ? `${pct(c.share)} (${c.kept}/${c.faulty})` : '–';
}

function section(input: Input, r: EvaluationReport, priced: { label: string; shown: string; report: EvaluationReport }[]): string {
  const out: string[] = [`## ${input.title}`, '', '```sh', input.shown, ...priced.map((p) => p.shown), '```', '', `${r.input.description}: ${r.input.spans.toLocaleString('en-US')} spans, ${r.input.traces.toLocaleString('en-US')} traces, ${mib(r.input.otlpBytes)} of OTLP protobuf (512 spans a request). Target reduction ${pct(r.settings.targetReduction)}${r.settings.codeKnowledge ? ', with the services\' code analyzed' : ', no source code (Autoscope mines structure from traffic)'}.`, ''];
  const codecs = r.codecs;
  const g = codecs ? codecs.batchSizes.indexOf(512) : -1;
  const raw = codecs?.rows.find((x) => x.codec === 'otlp-protobuf')?.bytes[g];
  // The seed's comparison: sampling alone, compression alone, and both.
  out.push('| approach | bytes | reduction vs raw OTLP | exact faulty-span coverage | slow coverage | traces kept | intact |', '|---|---|---|---|---|---|---|');
  out.push(`| raw OTLP protobuf | ${mib(r.input.otlpBytes)} | 0.0% | 100% | 100% | ${r.input.traces} | ${r.input.traces} |`);
  for (const s of r.strategies) out.push(`| ${s.strategy} (sampling) | ${mib(s.outputBytes)} | ${pct(s.reduction)} | ${cov(s, 'exact')} | ${cov(s, 'slow')} | ${s.tracesKept} | ${s.tracesIntact} |`);
  if (codecs && raw) {
    for (const row of codecs.rows.filter((x) => x.codec !== 'otlp-protobuf' && !x.codec.includes('+'))) out.push(`| ${row.label} (lossless) | ${mib(row.bytes[g]!)} | ${pct(1 - row.bytes[g]! / raw)} | 100% | 100% | ${r.input.traces} | ${r.input.traces} |`);
    for (const s of r.strategies) {
      if (s.sampleThenTracezipBytes === undefined) continue;
      const reduction = pct(1 - s.sampleThenTracezipBytes / raw);
      out.push(
        s.strategy === r.settings.combinedStrategy
          ? `| **${s.strategy} then Tracezip** (the combined pipeline) | ${mib(s.sampleThenTracezipBytes)} | **${reduction}** | ${cov(s, 'exact')} | ${cov(s, 'slow')} | ${s.tracesKept} | ${s.tracesIntact} |`
          : `| ${s.strategy} then Tracezip | ${mib(s.sampleThenTracezipBytes)} | ${reduction} | ${cov(s, 'exact')} | ${cov(s, 'slow')} | ${s.tracesKept} | ${s.tracesIntact} |`,
      );
    }
    // The same pipeline with the sampler's budget in Tracezip's bytes (the commands after the first).
    for (const p of priced)
      for (const s of p.report.strategies) {
        if (s.sampleThenTracezipBytes === undefined) continue;
        out.push(`| **${s.strategy} ${p.label}, then Tracezip** | ${mib(s.sampleThenTracezipBytes)} | **${pct(1 - s.sampleThenTracezipBytes / raw)}** | ${cov(s, 'exact')} | ${cov(s, 'slow')} | ${s.tracesKept} | ${s.tracesIntact} |`);
      }
  }
  out.push('');
  if (codecs) {
    out.push(`Bytes per span by batch size (Tracezip decoded back and compared: ${codecs.lossless.ok ? `lossless over ${codecs.lossless.spans.toLocaleString('en-US')} spans` : `NOT lossless: ${codecs.lossless.problem}`}):`, '');
    out.push(`| codec | ${codecs.batchSizes.map((b) => `${b} spans`).join(' | ')} |`, `|---|${codecs.batchSizes.map(() => '---').join('|')}|`);
    for (const row of codecs.rows) out.push(`| ${row.label} | ${row.bytesPerInputSpan.map((v) => v.toFixed(1)).join(' | ')} |`);
    out.push('');
  }
  if (r.rca) {
    out.push('Root-cause localisation (service level), full versus reduced data:', '', '| method | data | AC@1 | AC@3 | Avg@5 |', '|---|---|---|---|---|');
    for (const m of r.rca.methods) {
      out.push(`| ${m.method} | full | ${pct(m.full.ac1)} | ${pct(m.full.ac3)} | ${pct(m.full.avg5)} |`);
      for (const [s, v] of Object.entries(m.reduced)) out.push(`| ${m.method} | ${s} | ${pct(v.ac1)} | ${pct(v.ac3)} | ${pct(v.avg5)} |`);
      if (m.chance) out.push(`| ${m.method} | random chance | ${pct(m.chance.ac1)} | ${pct(m.chance.ac3)} | ${pct(m.chance.avg5)} |`);
    }
    out.push('');
  } else out.push('Root-cause localisation: not measured in this run (src/eval/rca.ts adds it to results.json as `rca`).', '');
  if (r.timings) {
    const t = (stage: string) => r.timings!.find((x) => x.stage.startsWith(stage));
    const parts = ['sample autoscope', 'compress tracezip', 'decompress tracezip'].map((st) => t(st)).filter((x) => x !== undefined).map((x) => `${x.stage}: p50 ${dur(x.p50Ms)}, p99 ${dur(x.p99Ms)} per trace, ${x.cpuSecondsPerMillionSpans.toFixed(1)} CPU s per M spans`);
    out.push(`Costs: ${parts.join('; ')}; peak memory ${mib(r.resources?.peakRssBytes ?? NaN)}.`, '');
  }
  return out.join('\n');
}

const parts = [
  '# Measured results',
  '',
  'Regenerated by `node --import tsx scripts/results.ts` (see its header); every figure comes from the run\'s results.json (`docs/report.md`). Reduction is of OTLP protobuf bytes at 512 spans a request; coverage is the share of spans labelled faulty that were kept (exact and slow label definitions, `docs/sampling.md`). The seed estimates 93% for the combined pipeline; the goal is at least 98% with at least 99% faulty-span coverage. The rows *priced in Tracezip bytes* are the second and third commands of each input: Autoscope with its byte budget in what Tracezip sends (`--price tracezip`, docs/sampling.md \"Priced in Tracezip\'s bytes\"), at one target for every input, and at 98% with the traces that hold nothing anomalous allowed to go whole while the budget is in debt (`--drop-quiet-traces`, docs/sampling.md \"Quiet traces dropped\"; the traces-kept column counts them). On trastrainer, 99% of the `slow` spans at 98% is out of reach for a sampler that sees only the past: the labels\' p99 comes from the fault-free hours after the faults, and holding 99% of them by a running per-operation quantile takes everything above the running p90, 10.8% of the spans, as many bytes as the whole 2% (docs/sampling.md \"How far 98% at 99% is on trastrainer\", `scripts/coverage-frontier.ts`).',
  '',
];
for (const input of inputs) {
  const r = run(input);
  const priced = input.variants.flatMap((v) => {
    const report = run(input, v);
    return report ? [{ label: v.variant.label, shown: v.shown, report }] : [];
  });
  parts.push(r ? section(input, r, priced) : `## ${input.title}\n\nNot measured: ${input.name} is not under ${datasets}.\n`);
}
writeFileSync(join(root, 'docs/RESULTS.md'), parts.join('\n'));
process.stderr.write('results: docs/RESULTS.md written\n');
