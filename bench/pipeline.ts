// bench/pipeline: slimtrace as a pipeline stage, measured on real `slimtrace serve` processes on
// loopback, beside the stock OpenTelemetry path. One run prints a Markdown report:
//
//   node --import tsx bench/pipeline.ts [--spans 200000] [--dataset-spans 200000] [--batch 512]
//   (npm run bench:pipeline)
//
// Inputs, fixed: generated traffic (src/generator, seed 7, cut into requests of --batch spans), and
// trastrainer-trainticket when $SLIMTRACE_DATASETS or ../shared/datasets holds it (read with
// src/datasets, its first --dataset-spans spans). For each input:
//
// 1. Through agent + gateway: an agent and a gateway are started as child processes (`serve`, their
//    defaults: disk queues fsync'd, Tracezip zstd frames of up to 2,048 spans); this process posts
//    the requests as OTLP protobuf to the agent (4 in flight) and is the backend, counting spans.
//    Sustained spans/s = spans / (first request sent .. last span at the backend). CPU seconds per
//    million spans of each child from /proc/<pid>/stat (utime + stime) over that window. Bytes on the
//    wire agent -> gateway from the agent's slimtrace_wire_bytes_total{stage="tracezip"}.
// 2. The stock path: the same spans as SDK ReadableSpans exported by the stock
//    @opentelemetry/exporter-trace-otlp-proto with gzip, --batch spans per export (the
//    BatchSpanProcessor's default 512), to a receiver here that counts the bytes it is sent.
// 3. Exporter CPU: the stock exporter above and slimtrace's TracezipExporter (to a frame endpoint
//    here that answers "applied" without decoding), each alone in a child process, exporting every
//    batch in turn; CPU per span is the child's process.cpuUsage over the exports only (conversion
//    to ReadableSpans done before).
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http, { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { collectTraffic } from '../src/generator/index.js';
import { countSpans, rebatch, type TracesData } from '../src/model/index.js';
import { decodeTracesData, encodeTracesData } from '../src/otlp/index.js';
import { openTraceSource } from '../src/datasets/index.js';
import { toReadableSpans, TracezipExporter } from '../src/sdk/index.js';
import { countRequestSpans } from '../src/pipeline/span-count.js';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const { values } = parseArgs({
  options: {
    spans: { type: 'string', default: '200000' },
    'dataset-spans': { type: 'string', default: '200000' },
    batch: { type: 'string', default: '512' },
    // child mode: one exporter over the batches in a file
    exporter: { type: 'string' },
    url: { type: 'string' },
    input: { type: 'string' },
  },
});
const batchSpans = Number(values.batch);

// ---- batches as a size-prefixed file (to hand the same input to a child) --------------------------

function writeBatches(path: string, batches: Uint8Array[]): void {
  const parts: Buffer[] = [];
  for (const b of batches) {
    const h = Buffer.alloc(4);
    h.writeUInt32LE(b.length);
    parts.push(h, Buffer.from(b));
  }
  writeFileSync(path, Buffer.concat(parts));
}

function readBatches(path: string): Uint8Array[] {
  const blob = readFileSync(path);
  const out: Uint8Array[] = [];
  for (let p = 0; p < blob.length; ) {
    const n = blob.readUInt32LE(p);
    out.push(blob.subarray(p + 4, p + 4 + n));
    p += 4 + n;
  }
  return out;
}

// ---- child: one exporter, CPU over the exports only ----------------------------------------------

function exportOnce(exporter: SpanExporter, spans: ReadableSpan[]): Promise<void> {
  return new Promise((ok, fail) => exporter.export(spans, (r) => (r.code === 0 ? ok() : fail(r.error ?? new Error('export failed')))));
}

if (values.exporter) {
  const batches = readBatches(values.input!).map((b) => toReadableSpans(decodeTracesData(b)));
  const exporter: SpanExporter =
    values.exporter === 'stock'
      ? new OTLPTraceExporter({ url: values.url!, compression: CompressionAlgorithm.GZIP })
      : new TracezipExporter({ url: values.url!, batchSize: batchSpans });
  // One warm-up batch (JIT, connection), then the measured pass.
  await exportOnce(exporter, batches[0]!);
  const base = process.cpuUsage();
  const t0 = performance.now();
  let spans = 0;
  for (const b of batches) {
    await exportOnce(exporter, b);
    spans += b.length;
  }
  const u = process.cpuUsage(base);
  const seconds = (performance.now() - t0) / 1000;
  await exporter.shutdown();
  process.send!({ cpuSeconds: (u.user + u.system) / 1e6, seconds, spans });
  process.exit(0);
}

// ---- parent ---------------------------------------------------------------------------------------

interface Input {
  name: string;
  batches: TracesData[];
  encoded: Uint8Array[];
  spans: number;
}

function inputOf(name: string, batches: TracesData[]): Input {
  return { name, batches, encoded: batches.map((b) => encodeTracesData(b)), spans: batches.reduce((n, b) => n + countSpans(b), 0) };
}

async function generated(): Promise<Input> {
  const { batches } = collectTraffic({ seed: 7, traces: Math.ceil(Number(values.spans) / 4), batchSpans });
  const out: TracesData[] = [];
  let spans = 0;
  for await (const b of rebatch(batches, batchSpans)) {
    if (spans >= Number(values.spans)) break;
    out.push(b);
    spans += countSpans(b);
  }
  return inputOf('generated (seed 7)', out);
}

async function trastrainer(): Promise<Input | undefined> {
  // $SLIMTRACE_DATASETS, else a shared/datasets folder beside the checkout (or beside its worktree folder).
  const bases = process.env.SLIMTRACE_DATASETS ? [process.env.SLIMTRACE_DATASETS] : [resolve(root, '../shared/datasets'), resolve(root, '../../shared/datasets')];
  const path = bases.map((b) => join(b, 'trastrainer-trainticket')).find((p) => existsSync(p));
  if (!path) return undefined;
  const source = await openTraceSource(path, { batchSpans });
  const out: TracesData[] = [];
  let spans = 0;
  for await (const b of source.batches()) {
    if (spans >= Number(values['dataset-spans'])) break;
    out.push(b);
    spans += countSpans(b);
  }
  return inputOf('trastrainer-trainticket', out);
}

/** user + system CPU seconds of a process so far, from /proc. */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15 (1-based).
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
}

interface Serve {
  proc: ChildProcess;
  port: number;
}

function serve(args: string[]): Promise<Serve> {
  // $BENCH_SERVE_NODE_ARGS: extra node flags for the agent and gateway (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
  const nodeArgs = (process.env.BENCH_SERVE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(root, 'src/cli/main.ts'), 'serve', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  return new Promise((ok, fail) => {
    const onData = (c: Buffer): void => {
      log += c.toString();
      const m = /listening for [^\n]*? on [^\s,;]*:(\d+)/.exec(log);
      if (m) {
        proc.stderr!.off('data', onData);
        proc.stderr!.resume();
        ok({ proc, port: Number(m[1]) });
      }
    };
    proc.stderr!.on('data', onData);
    proc.stdout!.resume();
    proc.on('exit', (code) => fail(new Error(`serve exited with ${code}:\n${log}`)));
  });
}

function stop(s: Serve): Promise<void> {
  return new Promise((ok) => {
    if (s.proc.exitCode !== null) return ok();
    s.proc.once('exit', () => ok());
    s.proc.kill('SIGTERM');
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok((server.address() as AddressInfo).port)));
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => ok(Buffer.concat(chunks)));
    req.on('error', fail);
  });
}

async function metricOf(port: number, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = pattern.exec(text);
  return m ? Number(m[1]) : 0;
}

interface PipelineResult {
  spansPerSecond: number;
  seconds: number;
  agentCpuPerMillion: number;
  gatewayCpuPerMillion: number;
  wireBytesPerSpan: number;
}

async function throughPipeline(input: Input, dir: string): Promise<PipelineResult> {
  let received = 0;
  let doneAt = 0;
  const backend = createServer(async (req, res) => {
    let body = await readBody(req);
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
    received += countRequestSpans(body);
    if (received >= input.spans && doneAt === 0) doneAt = performance.now();
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
  const backendPort = await listen(backend);
  const tag = Math.random().toString(36).slice(2, 8);
  const gateway = await serve(['--role', 'gateway', '--listen', '127.0.0.1:0', '--backend', `http://127.0.0.1:${backendPort}/v1/traces`, '--queue-dir', join(dir, `gq-${tag}`)]);
  const agent = await serve(['--role', 'agent', '--listen', '127.0.0.1:0', '--no-grpc', '--gateway', `http://127.0.0.1:${gateway.port}`, '--queue-dir', join(dir, `aq-${tag}`)]);
  const wire = /slimtrace_wire_bytes_total\{[^}]*direction="sent"[^}]*stage="tracezip"[^}]*\} (\d+)/;
  const wire0 = await metricOf(agent.port, wire);
  const cpu0 = { agent: cpuSecondsOf(agent.proc.pid!), gateway: cpuSecondsOf(gateway.proc.pid!) };
  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const t0 = performance.now();
  let next = 0;
  const post = (body: Uint8Array): Promise<number> =>
    new Promise((ok, fail) => {
      const req = http.request(`http://127.0.0.1:${agent.port}/v1/traces`, { method: 'POST', agent: keepAlive, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } }, (res) => {
        res.resume();
        res.on('end', () => ok(res.statusCode!));
      });
      req.on('error', fail);
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < input.encoded.length) {
        const body = input.encoded[next++]!;
        for (;;) {
          const status = await post(body);
          if (status === 200) break;
          await new Promise((ok) => setTimeout(ok, 100)); // 429/503: the agent's queue is full
        }
      }
    }),
  );
  while (received < input.spans) await new Promise((ok) => setTimeout(ok, 20));
  const cpu1 = { agent: cpuSecondsOf(agent.proc.pid!), gateway: cpuSecondsOf(gateway.proc.pid!) };
  const wire1 = await metricOf(agent.port, wire);
  const seconds = (doneAt - t0) / 1000;
  keepAlive.destroy();
  await stop(agent);
  await stop(gateway);
  await new Promise((ok) => backend.close(ok));
  return {
    spansPerSecond: input.spans / seconds,
    seconds,
    agentCpuPerMillion: ((cpu1.agent - cpu0.agent) / input.spans) * 1e6,
    gatewayCpuPerMillion: ((cpu1.gateway - cpu0.gateway) / input.spans) * 1e6,
    wireBytesPerSpan: (wire1 - wire0) / input.spans,
  };
}

interface ExporterResult {
  cpuMicrosPerSpan: number;
  wireBytesPerSpan: number;
  spansPerSecond: number;
}

/** Runs one exporter in a child against a receiver here that counts the bytes it is sent. */
async function exporterRun(kind: 'stock' | 'tracezip', input: Input, dir: string): Promise<ExporterResult> {
  let bytes = 0;
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    bytes += body.length;
    if (kind === 'stock') res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"result":"applied","spans":0}');
  });
  const port = await listen(server);
  const file = join(dir, `input-${kind}.bin`);
  writeBatches(file, input.encoded);
  const url = kind === 'stock' ? `http://127.0.0.1:${port}/v1/traces` : `http://127.0.0.1:${port}`;
  const child = fork(fileURLToPath(import.meta.url), ['--exporter', kind, '--url', url, '--input', file, '--batch', String(batchSpans)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const result = await new Promise<{ cpuSeconds: number; seconds: number; spans: number }>((ok, fail) => {
    child.on('message', (m) => ok(m as { cpuSeconds: number; seconds: number; spans: number }));
    child.on('exit', (code) => code !== 0 && fail(new Error(`exporter child exited with ${code}`)));
  });
  await new Promise((ok) => server.close(ok));
  // The bytes include the warm-up batch's: per span over every span exported.
  const perSpanAll = bytes / (result.spans + countSpans(decodeTracesData(input.encoded[0]!)));
  return { cpuMicrosPerSpan: (result.cpuSeconds / result.spans) * 1e6, wireBytesPerSpan: perSpanAll, spansPerSecond: result.spans / result.seconds };
}

function otlpGzipBytesPerSpan(input: Input, spansPerRequest: number): Promise<number> {
  return (async () => {
    let bytes = 0;
    for await (const b of rebatch(input.batches, spansPerRequest)) bytes += gzipSync(encodeTracesData(b)).length;
    return bytes / input.spans;
  })();
}

const fmt = (n: number, digits = 1): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const dir = mkdtempSync(join(tmpdir(), 'slimtrace-bench-pipeline-'));
try {
  const inputs = [await generated()];
  const ds = await trastrainer();
  if (ds) inputs.push(ds);
  else console.log('trastrainer-trainticket not found (set SLIMTRACE_DATASETS): generated traffic only');
  console.log(`node ${process.version}, ${(await import('node:os')).cpus().length} cores; requests of ${batchSpans} spans\n`);
  for (const input of inputs) {
    const p = await throughPipeline(input, dir);
    const stock = await exporterRun('stock', input, dir);
    const tz = await exporterRun('tracezip', input, dir);
    const gzip2048 = await otlpGzipBytesPerSpan(input, 2048);
    console.log(`### ${input.name}: ${input.spans.toLocaleString('en-US')} spans in ${input.encoded.length} requests\n`);
    console.log('| path | bytes on the wire per span | vs stock OTLP+gzip |\n|---|---:|---:|');
    console.log(`| stock SDK -> exporter-trace-otlp-proto, gzip, ${batchSpans} spans/request | ${fmt(stock.wireBytesPerSpan)} | 100% |`);
    console.log(`| (OTLP protobuf + gzip at 2,048 spans/request, computed) | ${fmt(gzip2048)} | ${fmt((100 * gzip2048) / stock.wireBytesPerSpan, 0)}% |`);
    console.log(`| agent -> gateway, Tracezip frames (agent batches up to 2,048 spans) | ${fmt(p.wireBytesPerSpan)} | ${fmt((100 * p.wireBytesPerSpan) / stock.wireBytesPerSpan, 0)}% |`);
    console.log(`| TracezipExporter -> gateway, ${batchSpans} spans/frame | ${fmt(tz.wireBytesPerSpan)} | ${fmt((100 * tz.wireBytesPerSpan) / stock.wireBytesPerSpan, 0)}% |\n`);
    console.log('| agent + gateway (real `serve` processes) | figure |\n|---|---:|');
    console.log(`| sustained spans/s end to end (client, agent, gateway, backend on ${(await import('node:os')).cpus().length} cores) | ${fmt(p.spansPerSecond, 0)} |`);
    console.log(`| agent CPU s per million spans | ${fmt(p.agentCpuPerMillion, 2)} |`);
    console.log(`| -> agent spans/s on one core (1e6 / CPU s per million) | ${fmt(1e6 / p.agentCpuPerMillion, 0)} |`);
    console.log(`| gateway CPU s per million spans | ${fmt(p.gatewayCpuPerMillion, 2)} |\n`);
    console.log('| exporter (alone in a process) | CPU µs per span | spans/s |\n|---|---:|---:|');
    console.log(`| stock exporter-trace-otlp-proto + gzip | ${fmt(stock.cpuMicrosPerSpan, 2)} | ${fmt(stock.spansPerSecond, 0)} |`);
    console.log(`| TracezipExporter | ${fmt(tz.cpuMicrosPerSpan, 2)} | ${fmt(tz.spansPerSecond, 0)} |\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
