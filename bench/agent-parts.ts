// bench/agent-parts: the agent's per-span work on the bench's inputs, one part at a time in one
// process (no HTTP, no disk), to see where bench/pipeline.ts's agent CPU goes and to compare changes
// side by side without the noise of four processes on two shared cores. Median of --runs passes.
//
//   taskset -c 0 node --import tsx bench/agent-parts.ts [--spans 200000] [--dataset] [--runs 5]
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectTraffic } from '../src/generator/index.js';
import { countSpans, rebatch, type ResourceSpans, type TracesData } from '../src/model/index.js';
import { decodeTracesData, encodeTracesData } from '../src/otlp/index.js';
import * as protobuf from '../src/otlp/protobuf.js';
import { openTraceSource } from '../src/datasets/index.js';
import { TracezipEncoder } from '../src/tracezip/index.js';
import { countRequestSpans } from '../src/pipeline/span-count.js';

const { values } = parseArgs({ options: { spans: { type: 'string', default: '200000' }, dataset: { type: 'boolean', default: false }, runs: { type: 'string', default: '5' }, batch: { type: 'string', default: '512' } } });
const batchSpans = Number(values.batch);
const root = resolve(fileURLToPath(import.meta.url), '../..');

async function inputs(): Promise<TracesData[]> {
  const out: TracesData[] = [];
  let spans = 0;
  if (values.dataset) {
    const path = [resolve(root, '../shared/datasets'), resolve(root, '../../shared/datasets')].map((b) => join(b, 'trastrainer-trainticket')).find((p) => existsSync(p))!;
    for await (const b of (await openTraceSource(path, { batchSpans })).batches()) {
      if (spans >= Number(values.spans)) break;
      out.push(b);
      spans += countSpans(b);
    }
    return out;
  }
  const { batches } = collectTraffic({ seed: 7, traces: Math.ceil(Number(values.spans) / 4), batchSpans });
  for await (const b of rebatch(batches, batchSpans)) {
    if (spans >= Number(values.spans)) break;
    out.push(b);
    spans += countSpans(b);
  }
  return out;
}

const requests = (await inputs()).map((b) => encodeTracesData(b));
const spans = requests.reduce((n, r) => n + countRequestSpans(r), 0);
console.log(`${spans} spans in ${requests.length} requests (${(requests.reduce((n, r) => n + r.length, 0) / spans).toFixed(1)} B/span)`);

function time(name: string, pass: () => void): void {
  const runs: number[] = [];
  pass(); // warm-up
  for (let i = 0; i < Number(values.runs); i++) {
    const t0 = process.cpuUsage();
    pass();
    const u = process.cpuUsage(t0);
    runs.push(((u.user + u.system) / spans) * 1000);
  }
  runs.sort((a, b) => a - b);
  console.log(`${name.padEnd(44)} ${runs[runs.length >> 1]!.toFixed(0).padStart(6)} ns/span  (${runs.map((r) => r.toFixed(0)).join(', ')})`);
}

const validate = (protobuf as unknown as { validateTracesData?: (b: Uint8Array) => number }).validateTracesData;
time('decodeTracesData (receiver, forwarder)', () => {
  for (const r of requests) decodeTracesData(r);
});
if (validate) {
  time('validateTracesData (receiver)', () => {
    for (const r of requests) validate(r);
  });
}
time('countRequestSpans', () => {
  for (const r of requests) countRequestSpans(r);
});
// The agent's link: 4 requests a frame (2,048 spans), zstd stream at level 6.
time('decode 4 requests + Tracezip encode (agent link)', () => {
  const enc = new TracezipEncoder({ compression: 'zstd-stream', zstdLevel: 6 });
  for (let i = 0; i < requests.length; i += 4) {
    const parts: ResourceSpans[] = [];
    for (const r of requests.slice(i, i + 4)) for (const rs of decodeTracesData(r).resourceSpans) parts.push(rs);
    enc.encode({ resourceSpans: parts });
  }
});
const decoded: TracesData[] = [];
for (let i = 0; i < requests.length; i += 4) {
  const parts: ResourceSpans[] = [];
  for (const r of requests.slice(i, i + 4)) for (const rs of decodeTracesData(r).resourceSpans) parts.push(rs);
  decoded.push({ resourceSpans: parts });
}
for (const [label, opts] of [['zstd-stream 6', { compression: 'zstd-stream', zstdLevel: 6 }], ['none', { compression: 'none' }]] as const) {
  time(`Tracezip encode, fresh encoder, ${label}`, () => {
    const enc = new TracezipEncoder(opts);
    for (const b of decoded) enc.encode(b);
  });
  const kept = new TracezipEncoder(opts);
  time(`Tracezip encode, kept encoder, ${label}`, () => {
    for (const b of decoded) kept.encode(b);
  });
}
