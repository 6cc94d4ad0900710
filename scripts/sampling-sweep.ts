// Where Autoscope's bytes go and what each beyond-the-paper rule buys (docs/sampling.md): runs
// Autoscope variants side by side on one dataset and prints reduction, faulty-span coverage and the
// kept bytes by reason (root, DSS representative, error, outlier, novel path, hot operation, path to
// the root, budget fill), with and without dropped-span summaries.
//
//   node --max-old-space-size=8000 --import tsx scripts/sampling-sweep.ts DATASET ANALYSIS_JSON [TARGET]
import { openTraceSource } from '../src/datasets/index.js';
import { evaluateSampling, groundTruthOptions } from '../src/eval/index.js';
import { AutoscopeSampler, readCodeKnowledge, type AutoscopeOptions } from '../src/sampling/index.js';

const [dataset, analysis, target] = process.argv.slice(2);
if (!dataset || !analysis) {
  console.error('usage: scripts/sampling-sweep.ts DATASET ANALYSIS_JSON [TARGET_REDUCTION]');
  process.exit(2);
}
const targetReduction = Number(target ?? 0.85);
const code = await readCodeKnowledge(analysis);
const variants: [string, AutoscopeOptions][] = [
  ['default', {}],
  ['paper only', { paperOnly: true }],
  ['no code (mined only)', { code: undefined }],
  ['outliers admitted to the baseline', { outlierAdmitEvery: 1 }],
  ['outliers admitted 1 in 4', { outlierAdmitEvery: 4 }],
  ['outliers admitted 1 in 8', { outlierAdmitEvery: 8 }],
  ['no paths to the root', { anomalyPaths: false }],
  ['no novel-path rule', { novelPathShare: 0 }],
  ['no hot operations', { hotWindowMs: 0 }],
];
const rows: string[] = [];
for (const summaries of [true, false]) {
  const source = await openTraceSource(dataset);
  const truth = await source.groundTruth();
  const strategies = variants.map(([name, o]) => new AutoscopeSampler({ targetReduction, code, ...o, name }));
  const results = await evaluateSampling({ batches: source.batches(), strategies, ...groundTruthOptions(truth), reduce: { summaries } });
  results.forEach((r, k) => {
    const c = strategies[k]!.counters;
    const mb = (b: number): string => (b / 1e6).toFixed(1);
    const b = c.bytesByReason;
    const cov = (d: 'exact' | 'slow' | 'proxy'): string => (r.coverage[d] ? `${(r.coverage[d]!.share * 100).toFixed(1)}%` : '-');
    rows.push(
      `| ${r.strategy} | ${summaries ? 'yes' : 'no'} | ${(r.reduction * 100).toFixed(1)}% | ${cov('exact')} | ${cov('slow')} | ${cov('proxy')} | ${r.tracesIntact}/${r.traces} | ` +
        `${mb(b.root)} / ${mb(b.representative)} / ${mb(b.error)} / ${mb(b.outlier)} / ${mb(b.novel)} / ${mb(b.hot)} / ${mb(b.path)} / ${mb(b.budget)} | ${mb(r.outputBytes)} of ${mb(r.inputBytes)} |`,
    );
  });
}
console.log(`${dataset}, target reduction ${targetReduction}\n`);
console.log('| variant | summaries | reduction | exact | slow | proxy | intact | kept MB: root / representative / error / outlier / novel / hot / path / budget | OTLP MB out of in |');
console.log('|---|---|---|---|---|---|---|---|---|');
console.log(rows.join('\n'));
