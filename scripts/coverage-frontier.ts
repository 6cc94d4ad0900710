// How far "at least 98% at 99% faulty-span coverage" is on one input (issue 13, docs/sampling.md
// "How far 98% at 99% is"), measured two ways:
//
// 1. What any causal latency rule must keep. The `slow` labels are spans longer than the p99 of their
//    (service, operation) outside every fault window, a p99 taken over the whole recording, later
//    hours included. A sampler sees only the past: per (service, operation) this keeps a running
//    log-bucket histogram of every duration seen so far (faults included, as a sampler would) and
//    counts the spans above its q-quantile, and the share of labelled spans among them, for several
//    q. The smallest set that holds 99% of the labels bounds what any per-operation latency rule
//    keeps to get there (Autoscope's rules are per call edge and per trace shape, finer, but they see
//    no more of the future).
// 2. What Autoscope reaches: priced in Tracezip's bytes with quiet traces dropped, at several
//    targets and debt limits (`borrowTraces`, in average trace shares: how far the anomalies of a
//    fault burst may run the budget into debt before any is dropped; the traces after pay it back,
//    or the input ends owing it). Every variant runs in one pass; the reduction is the sampled
//    output through Tracezip (512 spans a frame) against raw OTLP protobuf, as docs/RESULTS.md
//    reports the combined pipeline.
//
//   node --max-old-space-size=8000 --import tsx scripts/coverage-frontier.ts [INPUT|generated] [--definition slow|exact]
//     [--targets 0.98,0.985] [--borrow 1000,3000,10000] [--seed N] [--traces N]
import { parseArgs } from 'node:util';
import { openInput } from '../src/cli/input.js';
import { runEvaluation } from '../src/eval/index.js';
import { bytesToHex, serviceName } from '../src/model/index.js';
import { AutoscopeSampler } from '../src/sampling/index.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    definition: { type: 'string', default: 'slow' },
    targets: { type: 'string', default: '0.98,0.985,0.99' },
    borrow: { type: 'string', default: '1000,3000,10000' },
    seed: { type: 'string' },
    traces: { type: 'string' },
  },
});
const path = positionals[0] === undefined || positionals[0] === 'generated' ? undefined : positionals[0];
const definition = values.definition as 'slow' | 'exact';
const numbers = (text: string): number[] => text.split(',').map(Number);
const open = () => openInput(path, { ...(values.seed ? { seed: Number(values.seed) } : {}), ...(values.traces ? { traces: Number(values.traces) } : {}) });

// --- 1. The causal quantile bound ---------------------------------------------------------------
const QUANTILES = [0.99, 0.98, 0.95, 0.9, 0.8];
const BUCKET = Math.log(1.02); // 2% wide buckets: a quantile to within 2% of a duration
const BUCKETS = 2048;
const MIN_SEEN = 50; // an operation seen fewer times has no quantile yet: its spans count as above it
const source = await open();
const labels = await source.labels?.();
if (!labels) throw new Error(`${source.description} has no fault labels`);
const histograms = new Map<string, { counts: Int32Array; n: number }>();
const above = new Float64Array(QUANTILES.length);
// A labelled span is counted once: a recording can hold the same span twice (trastrainer: 1,128
// labelled records, 1,098 distinct spans), and the evaluation counts distinct spans.
const labelled = new Set<string>();
const aboveLabelled = QUANTILES.map(() => new Set<string>());
let spans = 0;
for await (const batch of source.batches()) {
  for (const rs of batch.resourceSpans) {
    const service = serviceName(rs.resource);
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        spans++;
        const id = labels.faultySpans.faultsOf(span.traceId, span.spanId, definition).length > 0 ? bytesToHex(span.traceId) + bytesToHex(span.spanId) : undefined;
        if (id) labelled.add(id);
        const key = service + '\u0000' + span.name;
        let h = histograms.get(key);
        if (!h) histograms.set(key, (h = { counts: new Int32Array(BUCKETS), n: 0 }));
        const micros = Math.max(1, Number(span.endTimeUnixNano - span.startTimeUnixNano) / 1000);
        const b = Math.min(BUCKETS - 1, Math.floor(Math.log(micros) / BUCKET));
        for (let q = 0; q < QUANTILES.length; q++) {
          let isAbove = true;
          if (h.n >= MIN_SEEN) {
            // The bucket holding the q-quantile, from the top (the tail is short).
            const need = Math.max(1, Math.ceil((1 - QUANTILES[q]!) * h.n));
            let k = BUCKETS - 1;
            for (let cum = 0; k > 0; k--) if ((cum += h.counts[k]!) >= need) break;
            isAbove = b > k;
          }
          if (isAbove) {
            above[q]!++;
            if (id) aboveLabelled[q]!.add(id);
          }
        }
        h.counts[b]!++;
        h.n++;
      }
    }
  }
}
console.log(`${source.description}: ${spans.toLocaleString('en-US')} spans, ${labelled.size.toLocaleString('en-US')} labelled ${definition}\n`);
console.log(`Spans above the running quantile of their (service, operation), and the ${definition}-labelled share among them:\n`);
console.log('| running quantile | spans above it | share of all spans | labelled spans among them |');
console.log('|---|---|---|---|');
QUANTILES.forEach((q, i) => {
  const pct = (x: number, of: number) => `${((100 * x) / Math.max(1, of)).toFixed(1)}%`;
  console.log(`| p${Math.round(q * 100)} | ${above[i]!.toLocaleString('en-US')} | ${pct(above[i]!, spans)} | ${pct(aboveLabelled[i]!.size, labelled.size)} (${aboveLabelled[i]!.size}/${labelled.size}) |`);
});

// --- 2. Autoscope's frontier --------------------------------------------------------------------
const variants = numbers(values.targets).flatMap((target) => numbers(values.borrow).map((borrow) => ({ target, borrow, name: `autoscope-mined@${target}/borrow ${borrow}` })));
const second = await open();
const secondLabels = (await second.labels?.())!;
const report = await runEvaluation({
  description: second.description,
  batches: second.batches(),
  strategies: variants.map((v) => ({
    name: v.name,
    make: () => new AutoscopeSampler({ targetReduction: v.target, name: v.name, price: 'tracezip', dropQuietTraces: true, borrowTraces: v.borrow }),
  })),
  labels: { faultySpans: secondLabels.faultySpans, faultTypes: secondLabels.faultTypes },
  targetReduction: variants[0]!.target,
  codecs: ['tracezip'],
  batchSizes: [512],
  waterfalls: 0,
  timingTraces: 0,
});
console.log(`\nAutoscope (no source code) priced in Tracezip's bytes, quiet traces dropped; reduction of the sampled output through Tracezip against raw OTLP protobuf:\n`);
console.log(`| target | debt limit (average trace shares) | reduction | ${definition} coverage | traces kept |`);
console.log('|---|---|---|---|---|');
for (const v of variants) {
  const s = report.strategies.find((x) => x.strategy === v.name)!;
  const cov = s.coverage[definition]!;
  const reduction = 1 - s.sampleThenTracezipBytes! / report.input.otlpBytes;
  console.log(`| ${(v.target * 100).toFixed(1)}% | ${v.borrow} | ${(reduction * 100).toFixed(2)}% | ${(cov.share * 100).toFixed(2)}% (${cov.kept}/${cov.faulty}) | ${s.tracesKept.toLocaleString('en-US')} |`);
}
