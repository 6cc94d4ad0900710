// bench/exporter-cpu: the exporter part of bench/pipeline.ts alone, in this process, for profiling
// (node --cpu-prof) and side-by-side runs: the same batches as SDK ReadableSpans, exported by the
// stock exporter-trace-otlp-proto + gzip or the TracezipExporter to a server in a child process that
// answers without decoding. CPU per span is this process's over the exports only (conversion to
// ReadableSpans done before), median of --runs passes after a first pass (which bench/pipeline.ts
// measures: JIT and a new stream's state included), printed apart.
//
//   taskset -c 0 node --import tsx bench/exporter-cpu.ts [--exporter tracezip|stock] [--dataset] [--spans 200000] [--runs 3]
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { collectTraffic } from '../src/generator/index.js';
import { countSpans, rebatch, type TracesData } from '../src/model/index.js';
import { openTraceSource } from '../src/datasets/index.js';
import { toReadableSpans, TracezipExporter } from '../src/sdk/index.js';

const { values } = parseArgs({
  options: {
    exporter: { type: 'string', default: 'tracezip' },
    dataset: { type: 'boolean', default: false },
    spans: { type: 'string', default: '200000' },
    runs: { type: 'string', default: '3' },
    batch: { type: 'string', default: '512' },
    server: { type: 'boolean', default: false },
  },
});

if (values.server) {
  // Child: answers every request at once, without decoding it.
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/v1/traces') res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"result":"applied","spans":0}');
    });
  });
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as AddressInfo).port));
} else {
  const batchSpans = Number(values.batch);
  const root = resolve(fileURLToPath(import.meta.url), '../..');
  const batches: TracesData[] = [];
  let spans = 0;
  if (values.dataset) {
    const path = [resolve(root, '../shared/datasets'), resolve(root, '../../shared/datasets')].map((b) => join(b, 'trastrainer-trainticket')).find((p) => existsSync(p))!;
    for await (const b of (await openTraceSource(path, { batchSpans })).batches()) {
      if (spans >= Number(values.spans)) break;
      batches.push(b);
      spans += countSpans(b);
    }
  } else {
    const { batches: gen } = collectTraffic({ seed: 7, traces: Math.ceil(Number(values.spans) / 4), batchSpans });
    for await (const b of rebatch(gen, batchSpans)) {
      if (spans >= Number(values.spans)) break;
      batches.push(b);
      spans += countSpans(b);
    }
  }
  const readable = batches.map((b) => toReadableSpans(b));
  const child = fork(fileURLToPath(import.meta.url), ['--server'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((ok) => child.once('message', (m) => ok(m as number)));
  const exporter: SpanExporter =
    values.exporter === 'stock'
      ? new OTLPTraceExporter({ url: `http://127.0.0.1:${port}/v1/traces`, compression: CompressionAlgorithm.GZIP })
      : new TracezipExporter({ url: `http://127.0.0.1:${port}`, batchSize: batchSpans });
  const exportOnce = (s: ReadableSpan[]): Promise<void> =>
    new Promise((ok, fail) => exporter.export(s, (r) => (r.code === 0 ? ok() : fail(r.error ?? new Error('export failed')))));
  const runs: number[] = [];
  let first = 0;
  for (let run = -1; run < Number(values.runs); run++) {
    const base = process.cpuUsage();
    for (const b of readable) await exportOnce(b);
    const u = process.cpuUsage(base);
    if (run >= 0) runs.push((u.user + u.system) / spans);
    else first = (u.user + u.system) / spans;
  }
  runs.sort((a, b) => a - b);
  const median = runs.length > 0 ? runs[runs.length >> 1]!.toFixed(2) : "-";
  console.log(`${values.exporter} exporter, ${values.dataset ? "trastrainer" : "generated"}, ${spans} spans: ${median} CPU µs/span (${runs.map((r) => r.toFixed(2)).join(', ')}); first pass, as bench/pipeline.ts measures it: ${first.toFixed(2)}`);
  await exporter.shutdown();
  child.kill();
}
