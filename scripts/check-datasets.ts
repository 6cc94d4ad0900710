// Reads the real datasets through src/datasets and checks the counts their READMEs state, with the
// wall time and peak memory of each read. Not a test: the data lives outside the repository.
//
//   node --import tsx scripts/check-datasets.ts [DATASETS_ROOT] [trastrainer|nezha-rca|nezha-construct]
//
// DATASETS_ROOT defaults to $SLIMTRACE_DATASETS; naming one dataset reads only that one (its own
// peak RSS).
// Exits 1 when a count differs from the expected one.
import { join } from 'node:path';
import { bytesToHex, countSpans, type TracesData } from '../src/model/index.js';
import { formatWarning, openTraceSource, type TraceSource, type TraceSourceOptions } from '../src/datasets/index.js';

const root = process.argv[2] ?? process.env.SLIMTRACE_DATASETS;
const only = process.argv[3];
if (!root) {
  process.stderr.write('usage: check-datasets.ts DATASETS_ROOT (or set SLIMTRACE_DATASETS)\n');
  process.exit(2);
}

interface Expected {
  spans: number;
  traces: number;
  logRecords?: number;
}

let failures = 0;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

function check(label: string, got: number, want: number | undefined): string {
  if (want === undefined) return `${label} ${got.toLocaleString('en-US')}`;
  const ok = got === want;
  if (!ok) failures++;
  return `${label} ${got.toLocaleString('en-US')}${ok ? ' ✓' : ` ✗ (expected ${want.toLocaleString('en-US')})`}`;
}

async function run(name: string, path: string, options: TraceSourceOptions, expected: Expected): Promise<void> {
  const source: TraceSource = await openTraceSource(path, options);
  process.stdout.write(`\n== ${name}\n${source.describe()}\n`);
  const traces = new Set<string>(); // 27k trace ids: small enough to count exactly
  let spans = 0;
  let events = 0;
  let batches = 0;
  let peakHeap = 0;
  const t0 = performance.now();
  for await (const batch of source.batches() as AsyncIterable<TracesData>) {
    batches++;
    spans += countSpans(batch);
    for (const rs of batch.resourceSpans)
      for (const ss of rs.scopeSpans)
        for (const span of ss.spans) {
          traces.add(bytesToHex(span.traceId));
          events += span.events.length;
        }
    if ((batches & 15) === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }
  const seconds = (performance.now() - t0) / 1000;
  const s = source.stats;
  process.stdout.write(
    [
      check('spans', spans, expected.spans),
      check('traces', traces.size, expected.traces),
      `distinct spans ${(s.spans - s.duplicateRows).toLocaleString('en-US')} (exact repeats ${s.duplicateRows.toLocaleString('en-US')}, span-id conflicts ${s.spanIdConflicts})`,
      `skipped rows ${s.skippedRows}`,
      ...(expected.logRecords !== undefined
        ? [
            check('log records', s.logRecords, expected.logRecords),
            check('attached as events', s.logRecordsAttached, expected.logRecords),
            check('events in batches', events, expected.logRecords),
            `unmatched ${s.logRecordsUnmatched}, skipped ${s.logRecordsSkipped}, time from Timestamp ${s.logTimeFallbacks}`,
          ]
        : []),
      `${s.files} span files, ${batches} batches, ${seconds.toFixed(1)} s (${Math.round(spans / seconds).toLocaleString('en-US')} spans/s), peak heap used ${mb(peakHeap)}`,
    ].join('\n') + '\n',
  );
  const truth = await source.groundTruth();
  if (truth) {
    const fs = truth.faultySpans;
    process.stdout.write(
      `ground truth: ${truth.faults.length} faults (${truth.faults[0]?.id} ${truth.faults[0]?.injectTimeText} … ${truth.faults.at(-1)?.id} ${truth.faults.at(-1)?.injectTimeText})` +
        (fs ? `, faulty spans exact ${fs.count('exact')} / slow ${fs.count('slow')} / proxy ${fs.count('proxy')}` : '') +
        (truth.codeRegions ? `, code regions for ${Object.keys(truth.codeRegions).length} services` : '') +
        '\n',
    );
  }
  if (source.warnings.total > 0) {
    process.stdout.write(`warnings (${source.warnings.total}):\n`);
    for (const line of source.warnings.summary()) process.stdout.write(`  ${line}\n`);
    const shown = new Set<string>();
    for (const w of source.warnings.list) {
      if (w.code === 'malformed-csv' && !shown.has(formatWarning(w))) {
        shown.add(formatWarning(w));
        process.stdout.write(`  ${formatWarning(w)}\n`);
      }
    }
  }
}

const started = performance.now();
if (!only || only === 'trastrainer') {
  await run('trastrainer-trainticket', join(root, 'trastrainer-trainticket'), {}, { spans: 1_044_580, traces: 27_364 });
}
if (!only || only === 'nezha-rca') {
  await run('nezha-trainticket rca_data', join(root, 'nezha-trainticket'), { nezhaPart: 'rca' }, { spans: 508_018, traces: 6_958, logRecords: 267_425 });
}
if (!only || only === 'nezha-construct') {
  await run('nezha-trainticket construct_data', join(root, 'nezha-trainticket'), { nezhaPart: 'construct' }, { spans: 9_485, traces: 133 });
}
const usage = process.resourceUsage();
process.stdout.write(
  `\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s, peak RSS ${(usage.maxRSS / 1024).toFixed(0)} MB (process.resourceUsage().maxRSS)\n`,
);
if (failures > 0) {
  process.stdout.write(`${failures} check(s) failed\n`);
  process.exit(1);
}
