// bench/receivers: spans/s through the OTLP receivers and their CPU per million spans, with a sink
// that takes everything at once (so the figures are the receiver's: HTTP or gRPC, inflate, decode).
//
//   node --import tsx bench/receivers.ts [--seconds 6] [--concurrency 4] [--batch 512]
//
// Generated traffic (src/generator, seed 7) cut into requests of --batch spans, encoded once. The
// receiver runs in a child process, so its CPU time (process.cpuUsage after it started listening)
// is not the client's; the client sends the requests round-robin over --concurrency keep-alive
// connections (HTTP) or calls (gRPC) for --seconds, in four rounds: HTTP protobuf, HTTP protobuf +
// gzip, gRPC, gRPC + gzip.
import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { collectTraffic } from '../src/generator/index.js';
import { countSpans, rebatch } from '../src/model/index.js';
import { encodeTracesData } from '../src/otlp/index.js';
import { OtlpGrpcReceiver, OtlpHttpReceiver, traceServiceDefinition } from '../src/pipeline/index.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '6' },
    concurrency: { type: 'string', default: '4' },
    batch: { type: 'string', default: '512' },
    serve: { type: 'string' },
  },
});

if (values.serve) {
  // Child: one receiver, reporting its CPU time since it started listening when asked.
  const sink = { accept: async () => {} };
  const receiver = values.serve === 'grpc' ? new OtlpGrpcReceiver({ sink, host: '127.0.0.1', port: 0 }) : new OtlpHttpReceiver({ sink, host: '127.0.0.1', port: 0 });
  const { port } = await receiver.start();
  const base = process.cpuUsage();
  process.send!({ port });
  process.on('message', () => {
    const u = process.cpuUsage(base);
    process.send!({ cpuSeconds: (u.user + u.system) / 1e6 }, () => void receiver.close(100).then(() => process.exit(0)));
  });
} else {
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const { batches } = collectTraffic({ seed: 7, traces: 3000, batchSpans: Number(values.batch) });
  const requests: { raw: Buffer; gzip: Buffer; spans: number }[] = [];
  for await (const b of rebatch(batches, Number(values.batch))) {
    const raw = Buffer.from(encodeTracesData(b));
    requests.push({ raw, gzip: zlib.gzipSync(raw), spans: countSpans(b) });
  }
  const kib = (n: number) => (n / requests.length / 1024).toFixed(1);
  console.log(`${requests.length} requests of ~${values.batch} spans: ${kib(requests.reduce((n, r) => n + r.raw.length, 0))} KiB each, ${kib(requests.reduce((n, r) => n + r.gzip.length, 0))} KiB gzipped`);
  console.log('| receiver | spans/s | receiver CPU s per million spans |\n|---|---:|---:|');
  for (const [kind, gzip] of [
    ['http', false],
    ['http', true],
    ['grpc', false],
    ['grpc', true],
  ] as const) {
    const child = fork(fileURLToPath(import.meta.url), ['--serve', kind], { execArgv: ['--import', 'tsx'] });
    const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const Client = grpc.makeGenericClientConstructor(traceServiceDefinition, 'TraceService');
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), gzip ? { 'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip } : {});
    const exportCall = (client as unknown as { Export: (b: Buffer, cb: (e: Error | null) => void) => void }).Export.bind(client);
    const send = (r: (typeof requests)[number]): Promise<void> =>
      kind === 'grpc'
        ? new Promise((resolve, reject) => exportCall(r.raw, (e) => (e ? reject(e) : resolve())))
        : new Promise((resolve, reject) => {
            const headers: Record<string, string> = { 'Content-Type': 'application/x-protobuf' };
            if (gzip) headers['Content-Encoding'] = 'gzip';
            const req = http.request({ host: '127.0.0.1', port, path: '/v1/traces', method: 'POST', agent, headers }, (res) => {
              res.resume();
              res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
            });
            req.on('error', reject);
            req.end(gzip ? r.gzip : r.raw);
          });
    let spans = 0;
    let next = 0;
    const started = performance.now();
    const end = Date.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (Date.now() < end) {
          const r = requests[next++ % requests.length]!;
          await send(r);
          spans += r.spans;
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    child.send('report');
    const cpu = await new Promise<number>((resolve) => child.once('message', (m: { cpuSeconds: number }) => resolve(m.cpuSeconds)));
    await new Promise((resolve) => child.once('exit', resolve));
    agent.destroy();
    client.close();
    console.log(`| ${kind === 'http' ? 'OTLP/HTTP protobuf' : 'OTLP/gRPC'}${gzip ? ' + gzip' : ''} | ${Math.round(spans / elapsed).toLocaleString('en-US')} | ${(cpu / (spans / 1e6)).toFixed(2)} |`);
  }
}
