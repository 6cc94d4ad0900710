// Why Autoscope misses the faulty spans it misses (docs/sampling.md, issue 14): runs Autoscope at one
// target through the evaluation's runner with its inspection hook and, for every labelled faulty span
// it drops, records what the sampler saw: the span's operation, its duration against its call edge's
// statistics (z-score and quantile), its path signature's share, why it was selected before the
// budget controller (and so whether the controller or the detection lost it). Prints counts by
// (definition, fault type, operation, selected-before) and the first misses in detail.
//
//   node --max-old-space-size=8000 --import tsx scripts/coverage-misses.ts [INPUT|generated] [--target 0.85] [--traces N] [--detail N]
//     [--seed N] [--topology default|grpc] [--analysis analysis.json]
import { openInput } from '../src/cli/input.js';
import { evaluateSampling } from '../src/eval/index.js';
import { bytesToHex } from '../src/model/index.js';
import { AUTOSCOPE_REASONS, AutoscopeSampler, readCodeKnowledge, type CodeKnowledge, spanHasError, type AutoscopeDecisionDetail, type SampledTrace } from '../src/sampling/index.js';

const argv = process.argv.slice(2);
let input: string | undefined;
let target = 0.85;
let traces: number | undefined;
let detailLimit = 20;
let seed: number | undefined;
let topology: string | undefined;
let code: CodeKnowledge | undefined;
for (let k = 0; k < argv.length; k++) {
  const a = argv[k]!;
  if (a === '--target') target = Number(argv[++k]);
  else if (a === '--traces') traces = Number(argv[++k]);
  else if (a === '--detail') detailLimit = Number(argv[++k]);
  else if (a === '--seed') seed = Number(argv[++k]);
  else if (a === '--topology') topology = argv[++k];
  else if (a === '--analysis') code = await readCodeKnowledge(argv[++k]!);
  else input = a === 'generated' ? undefined : a;
}
const source = await openInput(input, { traces, seed, topology });
const labels = await source.labels?.();
if (!labels) throw new Error('the input has no fault labels');
const faulty = labels.faultySpans;
const DEFS = (['exact', 'slow'] as const).filter((d) => faulty.count(d) > 0 || input === undefined);

const counts = new Map<string, number>();
const details: string[] = [];
let missed = 0;
const inspect = (trace: SampledTrace, d: AutoscopeDecisionDetail): void => {
  for (let i = 0; i < trace.spans.length; i++) {
    if (d.keep[i]) continue;
    const span = trace.spans[i]!.span;
    for (const def of DEFS) {
      const faults = faulty.faultsOf(span.traceId, span.spanId, def);
      if (faults.length === 0) continue;
      missed++;
      const types = labels.faultTypes();
      const type = faults.map((f) => types.get(f) ?? f).join('+');
      const p = trace.parent[i]!;
      const parentOp = p < 0 ? '-' : `${trace.service[p]}/${trace.spans[p]!.span.name}`;
      const key = `| ${def} | ${type} | ${trace.service[i]}/${span.name} | ${AUTOSCOPE_REASONS[d.selected[i]!]} | ${parentOp} (${p < 0 ? '-' : AUTOSCOPE_REASONS[d.reason[p]!]}) |`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (details.length < detailLimit) {
        const attrs = span.attributes.map((a) => `${a.key}=${String(a.value)}`).join(' ');
        details.push(
          `${def} ${type} ${bytesToHex(span.traceId)}/${bytesToHex(span.spanId)} ${trace.service[i]}/${span.name} kind ${span.kind} ` +
            `dur ${(trace.duration[i]! / 1000).toFixed(1)} ms, edge z ${d.edgeZ[i]!.toFixed(1)}, edge q ${(d.edgeQuantile[i]! / 1000).toFixed(1)} ms, score ${d.score[i]!.toFixed(1)}, ` +
            `sig share ${d.signatureShare[i]!.toFixed(3)}, error ${spanHasError(span)}, selected ${AUTOSCOPE_REASONS[d.selected[i]!]}, children ${trace.children[i]!.length}, events ${span.events.length}; ${attrs}`,
        );
      }
    }
  }
};
const sampler = new AutoscopeSampler({ targetReduction: target, inspect, code, ...(process.env.AUTOSCOPE_OPTIONS ? (JSON.parse(process.env.AUTOSCOPE_OPTIONS) as object) : {}) });
const [r] = await evaluateSampling({ batches: source.batches(), strategies: [sampler], faultySpans: faulty, faultTypes: labels.faultTypes });
const cov = DEFS.map((d) => (r!.coverage[d] ? `${d} ${(r!.coverage[d]!.share * 100).toFixed(2)}% (${r!.coverage[d]!.kept}/${r!.coverage[d]!.faulty})` : '')).join(', ');
console.log(`${source.description}: target ${target}, reduction ${(r!.reduction * 100).toFixed(2)}%, ${cov}; ${missed} faulty (span, definition) misses\n`);
console.log('| definition | fault type | operation | selected before the controller | parent (its final reason) | misses |');
console.log('|---|---|---|---|---|---|');
for (const [k, v] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`${k} ${v} |`);
console.log('\n' + details.join('\n'));
// Where the output's bytes went (by keep reason) and what the controller had to do.
const c = sampler.counters;
const outBytes = Object.values(c.bytesByReason).reduce((a, b) => a + b, 0);
console.log(`\nkept-span bytes by reason (share of the kept spans' bytes): ${Object.entries(c.bytesByReason).map(([k, v]) => `${k} ${((v / outBytes) * 100).toFixed(1)}%`).join(', ')}`);
const rep = sampler.budgetReport();
console.log(`controller steps (traces / spans): ${Object.entries(rep.steps).map(([k, v]) => `${k} ${v}/${rep.spans[k]}`).join(', ')}${rep.notes.length ? `; ${rep.notes.join('; ')}` : ''}`);
