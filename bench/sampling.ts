// bench/sampling: spans per second of every sampling strategy on one core, on fixed generated
// traffic (the embedded generator, seed 1, ~100k spans, the default fault scenario), the issue 6
// benchmark (Autoscope's goal: at least 100,000 spans/s).
//
//   taskset -c 0 node --import tsx bench/sampling.ts [--spans 100000] [--runs 3] [--target-reduction 0.8] [--strategies a,b] [--json out.json]
//
// Two figures per strategy, each the median of --runs passes after one warm-up pass, every pass
// with a fresh strategy (their budgets and statistics are state):
// - decide+reduce: sampleTrace over the traces, assembled beforehand (the strategy and the reducer);
// - streaming: the same spans through a StreamingSampler (assembly, decision, reduction, envelopes),
//   pushed batch by batch and flushed, what a server hosting the processor pays.
// The strategies are the registry's, so the figures are for the configurations the CLI and the
// evaluation run (Autoscope here without analysis.json: the generated traffic's source is not read).
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { collectTraffic, defaultFaultScenario } from '../src/generator/index.js';
import { locatedSpans, type LocatedSpan, type TracesData } from '../src/model/index.js';
import { assembleTraces, sampleTrace, StreamingSampler, dataClockMs, type SamplingStrategy } from '../src/sampling/index.js';
import { AdaptiveBudget, AdaptiveSampler } from '../src/sampling/adaptive.js';
import { RandomSpanSampler } from '../src/sampling/baselines.js';
import { createStrategy, STRATEGY_NAMES } from '../src/sampling/registry.js';
import { median, timePasses } from './timing.js';

const { values } = parseArgs({
  options: {
    spans: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '3' },
    'target-reduction': { type: 'string', default: '0.8' },
    json: { type: 'string' },
    strategies: { type: 'string' },
  },
});
const wantSpans = Number(values.spans);
const runs = Number(values.runs);
const targetReduction = Number(values['target-reduction']);

// ~14.5 spans per generated trace at the default topology; 50 traces/s of data time.
const traces = Math.ceil(wantSpans / 14.5);
const durationSeconds = Math.ceil(traces / 50);
const run = collectTraffic({ seed: 1, traces, rate: 50, faults: defaultFaultScenario(durationSeconds), batchSpans: 4096 });
const batches: TracesData[] = run.batches;
const located: LocatedSpan[] = [];
for (const b of batches) for (const s of locatedSpans(b)) located.push(s);
const assembled = assembleTraces(located);
const spanCount = located.length;
let inputBytes = 0;
for (const t of assembled) inputBytes += t.bytes;

type Factory = () => SamplingStrategy;
const only = values.strategies?.split(',');
const factories: [string, Factory][] = STRATEGY_NAMES.filter((n) => !only || only.includes(n)).map((name) => [name, () => createStrategy(name, { targetReduction, seed: 1 })]);
if (!only || only.includes('adaptive(random-span)')) factories.push([
  'adaptive(random-span)',
  () => {
    // A budget of 20% of the input rate; the data's clock (root start times) drives it.
    let now = 0;
    const adaptive = new AdaptiveBudget({ bytesPerSecondBudget: (inputBytes / durationSeconds) * 0.2, clock: () => now, halfLifeMs: 5000 });
    const inner = new RandomSpanSampler({ seed: 1 });
    const s = new AdaptiveSampler(inner, adaptive);
    return {
      name: s.name,
      decide: (t) => {
        now = Number(t.spans[t.roots[0]!]!.span.startTimeUnixNano / 1_000_000n);
        return s.decide(t);
      },
      recordOutcome: (i, o) => s.recordOutcome(i, o),
    };
  },
]);

interface Row {
  strategy: string;
  decideSpansPerSecond: number;
  streamingSpansPerSecond: number;
  reduction: number;
  spansKept: number;
}

const rows: Row[] = [];
for (const [name, make] of factories) {
  let outBytes = 0;
  let kept = 0;
  const decide = timePasses(() => {
    const s = make();
    outBytes = 0;
    kept = 0;
    for (const t of assembled) {
      const r = sampleTrace(s, t);
      if (r) {
        outBytes += r.bytes;
        kept += r.keptSpans;
      }
    }
  }, runs);
  const streaming = timePasses(() => {
    const sampler = new StreamingSampler({ strategy: make(), decisionWaitMs: 30_000 });
    let clock = 0;
    for (const b of batches) {
      clock = dataClockMs(b, clock);
      sampler.push(b, clock);
      sampler.poll(clock);
    }
    sampler.flush();
  }, runs);
  rows.push({ strategy: name, decideSpansPerSecond: spanCount / median(decide), streamingSpansPerSecond: spanCount / median(streaming), reduction: 1 - outBytes / inputBytes, spansKept: kept });
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
console.log(`bench/sampling: ${spanCount.toLocaleString('en-US')} spans in ${assembled.length.toLocaleString('en-US')} traces (seed 1), target reduction ${targetReduction}, median of ${runs} runs, node ${process.version}`);
console.log('');
const header = ['strategy', 'decide+reduce spans/s', 'streaming spans/s', 'byte reduction', 'spans kept'];
const table = rows.map((r) => [r.strategy, fmt(r.decideSpansPerSecond), fmt(r.streamingSpansPerSecond), `${(r.reduction * 100).toFixed(1)}%`, `${((r.spansKept / spanCount) * 100).toFixed(1)}%`]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
const line = (cells: string[]): string => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') + ' |';
console.log(line(header));
console.log('|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|');
for (const row of table) console.log(line(row));
if (values.json) writeFileSync(values.json, JSON.stringify({ spans: spanCount, traces: assembled.length, targetReduction, runs, rows }, null, 2));
