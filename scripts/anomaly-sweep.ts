// The anomaly-detection parameters of Autoscope swept one at a time around the defaults (issue 14,
// item 3; docs/sampling.md): every variant runs beside the others in one evaluation pass per input
// (the evaluation's runner, evaluateSampling), at one target, and the table gives reduction and
// faulty-span coverage per definition for each value.
//
//   node --max-old-space-size=8000 --import tsx scripts/anomaly-sweep.ts [INPUT|generated ...] [--target 0.85] [--traces N] [--only NAME,NAME]
//     [--seed N] [--topology default|grpc] [--analysis analysis.json]
import { openInput } from '../src/cli/input.js';
import { evaluateSampling } from '../src/eval/index.js';
import { AutoscopeSampler, readCodeKnowledge, type AutoscopeOptions, type CodeKnowledge } from '../src/sampling/index.js';

/** Parameter name -> values tried (the default is always run as its own row). */
const GRID: [string, keyof AutoscopeOptions, unknown[]][] = [
  ['outlierZ', 'outlierZ', [2, 4, Infinity]],
  ['outlierQuantile', 'outlierQuantile', [0.95, 0.995]],
  ['outlierStrongZ', 'outlierStrongZ', [5, 20, Infinity]],
  ['outlierBurstZ', 'outlierBurstZ', [3, 4, 5, 6, Infinity]],
  ['operationWindow', 'operationWindow', [500]],
  ['outlierAdmitEvery', 'outlierAdmitEvery', [3, 6, 12]],
  ['deepestSlow', 'deepestSlow', [false]],
  ['novelPathShare', 'novelPathShare', [0, 0.05]],
  ['hotWindowMs', 'hotWindowMs', [0]],
  ['errorCauseSpans', 'errorCauseSpans', [0, 16]],
  ['hotAfterRepresentatives', 'hotAfterRepresentatives', [false]],
  ['slowCallerZ', 'slowCallerZ', [3, Infinity]],
];

const argv = process.argv.slice(2);
const inputs: string[] = [];
let target = 0.85;
let traces: number | undefined;
let only: string[] | undefined;
let seed: number | undefined;
let topology: string | undefined;
let code: CodeKnowledge | undefined;
let extra: [string, Partial<AutoscopeOptions>][] = [];
for (let k = 0; k < argv.length; k++) {
  const a = argv[k]!;
  if (a === '--target') target = Number(argv[++k]);
  else if (a === '--traces') traces = Number(argv[++k]);
  else if (a === '--only') only = argv[++k]!.split(',');
  else if (a === '--seed') seed = Number(argv[++k]);
  else if (a === '--topology') topology = argv[++k];
  else if (a === '--analysis') code = await readCodeKnowledge(argv[++k]!);
  else if (a === '--variant') {
    // --variant 'label={"outlierZ":3}' adds one variant of several options at once.
    const [label, json] = argv[++k]!.split(/=(.*)/s) as [string, string];
    extra.push([label, JSON.parse(json) as Partial<AutoscopeOptions>]);
  } else inputs.push(a);
}
const variants: [string, Partial<AutoscopeOptions>][] = [['default', {}]];
for (const [label, key, values] of GRID) if (!only || only.includes(label)) for (const v of values) variants.push([`${label} ${String(v)}`, { [key]: v }]);
variants.push(...extra);
extra = [];

for (const input of inputs.length > 0 ? inputs : ['generated']) {
  const source = await openInput(input === 'generated' ? undefined : input, { traces, seed, topology });
  const labels = await source.labels?.();
  const strategies = variants.map(([label, o]) => new AutoscopeSampler({ targetReduction: target, code, ...o, name: label }));
  const started = performance.now();
  const results = await evaluateSampling({ batches: source.batches(), strategies, faultySpans: labels?.faultySpans, faultTypes: labels?.faultTypes });
  process.stderr.write(`${input}: ${variants.length} variants in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  const defs = (['exact', 'slow', 'proxy'] as const).filter((d) => results.some((r) => r.coverage[d]));
  console.log(`\n${source.description}, target ${target}\n`);
  console.log(`| variant | reduction | ${defs.join(' | ')} | outliers kept | novel kept |`);
  console.log(`|---|---|${defs.map(() => '---').join('|')}|---|---|`);
  results.forEach((r, k) => {
    const c = strategies[k]!.counters;
    const cells = defs.map((d) => (r.coverage[d] ? `${(r.coverage[d]!.share * 100).toFixed(2)}% (${r.coverage[d]!.kept}/${r.coverage[d]!.faulty})` : '-'));
    console.log(`| ${r.strategy} | ${(r.reduction * 100).toFixed(1)}% | ${cells.join(' | ')} | ${c.keptOutlier} | ${c.keptNovel} |`);
  });
}
