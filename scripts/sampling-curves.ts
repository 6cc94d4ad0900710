// The reduction-versus-coverage curves of docs/sampling.md (issue 14, item 5): every strategy of the
// registry swept over byte budgets on one or more inputs, in one streaming pass per input (the
// evaluation's own runner, evaluateSampling, so the figures are what `slimtrace evaluate` measures).
// Prints Markdown: per input and coverage definition, each strategy's reduction and coverage per
// target; where Autoscope's coverage is below another strategy's at the same bytes (Autoscope's curve
// interpolated at that strategy's reduction); Autoscope's bytes by tier and by keep reason. Optionally
// writes the raw points as JSON and one SVG chart per input and definition.
//
//   node --max-old-space-size=8000 --import tsx scripts/sampling-curves.ts [INPUT ...] [--targets 0.5,0.7,...]
//        [--strategies a,b] [--traces N] [--topology default|grpc] [--analysis analysis.json] [--json FILE] [--svg-dir DIR] [--merge FILE]
// --merge FILE: points of an earlier run (its --json) for what was not run now (strategy and target),
// so a change to Autoscope re-runs only Autoscope's curve (the baselines do not change).
// INPUT: a dataset directory or trace file, or `generated` (the default traffic, 2,000 traces).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openInput } from '../src/cli/input.js';
import { evaluateSampling, type EvaluationReport, type StrategyFigures, type StrategyResult } from '../src/eval/index.js';
import { tradeoffChart } from '../src/report/charts.js';
import { AutoscopeSampler, createStrategy, readCodeKnowledge, STRATEGY_NAMES, type CodeKnowledge, type SamplingStrategy, type StrategyName } from '../src/sampling/index.js';

type Definition = 'exact' | 'slow' | 'proxy';
const DEFS: readonly Definition[] = ['exact', 'slow', 'proxy'];

interface Point {
  strategy: string;
  target: number;
  reduction: number;
  outputBytes: number;
  tracesKept: number;
  traces: number;
  tracesIntact: number;
  coverage: Partial<Record<Definition, { kept: number; faulty: number; share: number }>>;
  tierBytes: { full: number; skeleton: number; summary: number };
  bytesByReason?: Record<string, number>;
  steps?: Record<string, number>;
}

interface Curves {
  input: string;
  description: string;
  inputBytes: number;
  spans: number;
  points: Point[];
}

interface Args {
  inputs: string[];
  targets: number[];
  strategies: StrategyName[];
  traces?: number;
  json?: string;
  svgDir?: string;
  merge?: string;
  /** Generated traffic's topology (`default` or `grpc`), and the analysis.json Autoscope reads. */
  topology?: string;
  analysis?: string;
}

function parseArgs(argv: string[]): Args {
  const inputs: string[] = [];
  let targets = [0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97];
  let strategies = STRATEGY_NAMES.filter((n) => n !== 'autoscope-mined') as StrategyName[];
  let traces: number | undefined;
  let json: string | undefined;
  let svgDir: string | undefined;
  let merge: string | undefined;
  let topology: string | undefined;
  let analysis: string | undefined;
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    const value = (): string => {
      const v = argv[++k];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--targets') targets = value().split(',').map(Number);
    else if (a === '--strategies') strategies = value().split(',') as StrategyName[];
    else if (a === '--traces') traces = Number(value());
    else if (a === '--json') json = value();
    else if (a === '--svg-dir') svgDir = value();
    else if (a === '--merge') merge = value();
    else if (a === '--topology') topology = value();
    else if (a === '--analysis') analysis = value();
    else inputs.push(a);
  }
  for (const t of targets) if (!(t > 0 && t < 1)) throw new Error(`target reduction ${t} is not in (0, 1)`);
  for (const s of strategies) if (!(STRATEGY_NAMES as readonly string[]).includes(s)) throw new Error(`unknown strategy ${s}`);
  return { inputs: inputs.length > 0 ? inputs : ['generated'], targets, strategies, traces, json, svgDir, merge, topology, analysis };
}

async function sweep(input: string, targets: readonly number[], names: readonly StrategyName[], traces: number | undefined, topology: string | undefined, code: CodeKnowledge | undefined): Promise<Curves> {
  const source = await openInput(input === 'generated' ? undefined : input, { traces, topology });
  const runs: { name: StrategyName; target: number; strategy: SamplingStrategy }[] = [];
  for (const name of names) {
    // leaf-aggregate has no budget: one point.
    for (const target of name === 'leaf-aggregate' ? [0.85] : targets) runs.push({ name, target, strategy: createStrategy(name, { targetReduction: target, ...(code ? { code } : {}) }) });
  }
  // Datasets read their labels before the pass; generated traffic fills them while it streams.
  const labels = await source.labels?.();
  const started = performance.now();
  const results: StrategyResult[] = await evaluateSampling({
    batches: source.batches(),
    strategies: runs.map((r) => r.strategy),
    faultySpans: labels?.faultySpans,
    faultTypes: labels?.faultTypes,
  });
  process.stderr.write(`${input}: ${runs.length} runs in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  const points = results.map((r, k): Point => {
    const s = runs[k]!.strategy;
    const coverage: Point['coverage'] = {};
    for (const d of DEFS) if (r.coverage[d]) coverage[d] = { kept: r.coverage[d]!.kept, faulty: r.coverage[d]!.faulty, share: r.coverage[d]!.share };
    return {
      strategy: runs[k]!.name,
      target: runs[k]!.target,
      reduction: r.reduction,
      outputBytes: r.outputBytes,
      tracesKept: r.tracesKept,
      traces: r.traces,
      tracesIntact: r.tracesIntact,
      coverage,
      tierBytes: r.tierBytes,
      ...(s instanceof AutoscopeSampler ? { bytesByReason: { ...s.counters.bytesByReason } } : {}),
      ...(r.budget ? { steps: Object.fromEntries(Object.entries(r.budget.steps).filter(([, v]) => v > 0)) } : {}),
    };
  });
  return { input, description: source.description, inputBytes: results[0]?.inputBytes ?? 0, spans: results[0]?.inputSpans ?? 0, points };
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const mb = (b: number): string => (b / 1e6).toFixed(2);

/** Coverage of a curve at reduction r, linear between its measured points; undefined outside them. */
export function coverageAt(curve: readonly Point[], def: Definition, r: number): number | undefined {
  const pts = curve.filter((p) => p.coverage[def]).sort((a, b) => a.reduction - b.reduction);
  if (pts.length === 0) return undefined;
  for (let k = 0; k < pts.length; k++) {
    const p = pts[k]!;
    if (Math.abs(p.reduction - r) < 1e-9) return p.coverage[def]!.share;
    if (p.reduction > r) {
      if (k === 0) return undefined;
      const q = pts[k - 1]!;
      const f = (r - q.reduction) / (p.reduction - q.reduction);
      return q.coverage[def]!.share + f * (p.coverage[def]!.share - q.coverage[def]!.share);
    }
  }
  return undefined;
}

function markdown(c: Curves, names: readonly StrategyName[]): string {
  const out: string[] = [];
  out.push(`### ${c.input}: ${c.description}, ${c.spans} spans, ${mb(c.inputBytes)} MB of OTLP`, '');
  const defs = DEFS.filter((d) => c.points.some((p) => p.coverage[d]));
  const byName = new Map<string, Point[]>();
  for (const p of c.points) (byName.get(p.strategy) ?? byName.set(p.strategy, []).get(p.strategy)!).push(p);
  for (const d of defs) {
    if (d === 'proxy' && defs.length > 1) continue;
    out.push(`Reduction / ${d} coverage per target (${c.points.find((p) => p.coverage[d])!.coverage[d]!.faulty} faulty spans):`, '');
    out.push(`| target | ${names.join(' | ')} |`, `|---|${names.map(() => '---').join('|')}|`);
    for (const t of [...new Set(c.points.map((p) => p.target))].sort((a, b) => a - b)) {
      const cells = names.map((n) => {
        const p = byName.get(n)?.find((x) => x.target === t);
        return p ? `${pct(p.reduction)} / ${pct(p.coverage[d]!.share)}` : '';
      });
      out.push(`| ${pct(t)} | ${cells.join(' | ')} |`);
    }
    out.push('');
    // Where Autoscope is below another strategy at the same bytes.
    const auto = byName.get('autoscope') ?? [];
    const below: string[] = [];
    let compared = 0;
    for (const [n, pts] of byName) {
      if (n === 'autoscope') continue;
      // A strategy without a budget gives the same point at every target: compare it once.
      const seen = new Set<string>();
      for (const p of pts) {
        const key = `${p.reduction}/${p.coverage[d]?.share}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const a = coverageAt(auto, d, p.reduction);
        if (a === undefined) {
          // Outside Autoscope's measured range: dominated only when Autoscope does better with fewer bytes.
          const more = auto.filter((x) => x.reduction >= p.reduction && x.coverage[d]);
          if (more.some((x) => x.coverage[d]!.share >= p.coverage[d]!.share)) compared++;
          else below.push(`${n} at ${pct(p.reduction)}: ${pct(p.coverage[d]!.share)}, Autoscope not measured at that reduction (its points: ${auto.map((x) => pct(x.reduction)).join(', ')})`);
          continue;
        }
        compared++;
        if (a + 1e-9 < p.coverage[d]!.share) below.push(`${n} at ${pct(p.reduction)}: ${pct(p.coverage[d]!.share)} against Autoscope's ${pct(a)}`);
      }
    }
    out.push(below.length === 0 ? `Autoscope at or above every other strategy at the same bytes (${d}; ${compared} points compared).` : `Autoscope BELOW another strategy at the same bytes (${d}):`, '');
    for (const b of below) out.push(`- ${b}`);
    if (below.length > 0) out.push('');
  }
  const auto = byName.get('autoscope') ?? [];
  if (auto.length > 0) {
    out.push('Autoscope, bytes by tier (written span bytes, before batching) and by keep reason (MB), controller steps (traces):', '');
    out.push('| target | reduction | whole | skeleton | summaries | root | representative | error | cause | outlier | novel | hot | path | fill | steps |', '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const p of auto) {
      const r = p.bytesByReason ?? {};
      const steps = Object.entries(p.steps ?? {}).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
      out.push(`| ${pct(p.target)} | ${pct(p.reduction)} | ${mb(p.tierBytes.full)} | ${mb(p.tierBytes.skeleton)} | ${mb(p.tierBytes.summary)} | ${['root', 'representative', 'error', 'cause', 'outlier', 'novel', 'hot', 'path', 'budget'].map((k) => mb(r[k] ?? 0)).join(' | ')} | ${steps} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

/** One reduction-vs-coverage chart per definition, through the HTML report's own chart. */
function charts(c: Curves, def: Definition, target: number): string {
  const names = [...new Set(c.points.map((p) => p.strategy))];
  const main = names.map((n) => c.points.find((p) => p.strategy === n && p.target === target) ?? c.points.find((p) => p.strategy === n)!);
  const figures = main.map((p) => ({ strategy: p.strategy, reduction: p.reduction, traces: p.traces, tracesKept: p.tracesKept, coverage: p.coverage[def] ? { [def]: p.coverage[def] } : {} }) as unknown as StrategyFigures);
  const report = {
    settings: { targetReduction: target, coverageGoal: 0.99 },
    strategies: figures,
    tradeoff: names.map((n) => ({ strategy: n, points: c.points.filter((p) => p.strategy === n).sort((a, b) => a.target - b.target).map((p) => ({ targetReduction: p.target, reduction: p.reduction, coverage: p.coverage[def]?.share ?? 0 })) })),
  } as unknown as EvaluationReport;
  const style =
    '<style>text{font-family:sans-serif}.grid{stroke:#eceef2}.axis{stroke:#8a93a3}.tick{font-size:11px;fill:#555}.axis-label{font-size:12px;fill:#555}' +
    '.target{stroke:#c92a2a;stroke-dasharray:5 4;stroke-width:1.3}.target-label{font-size:11px;fill:#c92a2a}.goal-zone{fill:#2b8a3e;opacity:.07}' +
    '.leader{fill:none;stroke:#b8bfcc;stroke-width:.8}.series-label{font-size:12px;font-weight:600}.curve{fill:none;stroke-width:1.5;opacity:.8}</style>';
  return tradeoffChart(report).replace('</title>', `</title>${style}`);
}

const args = parseArgs(process.argv.slice(2));
const code = args.analysis ? await readCodeKnowledge(args.analysis) : undefined;
const earlier: Curves[] = args.merge ? (JSON.parse(await readFile(args.merge, 'utf8')) as Curves[]) : [];
const all: Curves[] = [];
for (const input of args.inputs) {
  const c = await sweep(input, args.targets, args.strategies, args.traces, args.topology, code);
  const before = earlier.find((e) => e.input === input);
  // Earlier points stay unless this run measured the same strategy at the same target.
  if (before) c.points.push(...before.points.filter((p) => !c.points.some((q) => q.strategy === p.strategy && q.target === p.target)));
  c.points.sort((a, b) => a.target - b.target);
  const names = [...new Set([...args.strategies, ...c.points.map((p) => p.strategy as StrategyName)])].sort((a, b) => STRATEGY_NAMES.indexOf(a) - STRATEGY_NAMES.indexOf(b));
  all.push(c);
  process.stdout.write(markdown(c, names) + '\n');
  if (args.svgDir) {
    await mkdir(args.svgDir, { recursive: true });
    const base = input === 'generated' ? (args.topology && args.topology !== 'default' ? `generated-${args.topology}` : 'generated') : input.replace(/\/+$/, '').split('/').pop()!;
    for (const d of DEFS.filter((x) => x !== 'proxy' && c.points.some((p) => p.coverage[x]))) await writeFile(join(args.svgDir, `curve-${base}-${d}.svg`), charts(c, d, 0.85) + '\n');
  }
}
if (args.json) await writeFile(args.json, JSON.stringify(all, null, 1) + '\n');
