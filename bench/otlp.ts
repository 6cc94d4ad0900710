// bench/otlp: decode and encode throughput of slimtrace's OTLP protobuf codec against protobufjs and
// the OpenTelemetry JS serializer, on a real dataset converted to OTLP.
//
//   node --import tsx bench/otlp.ts [DATASET] [--batch 512] [--runs 5] [--json out.json]
//
// DATASET defaults to $SLIMTRACE_DATASETS/trastrainer-trainticket (or ../shared/datasets/...).
// The dataset is read once, re-cut into batches of --batch spans, serialized by the OpenTelemetry
// serializer (the bytes a real SDK sends) and cached under .bench-cache/. Each measurement then
// runs in a fresh child process (pinned to one core with taskset when available), so one codec's
// garbage never slows another's: one warm-up pass, then the median of --runs passes over all
// batches.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, timePasses as timeRuns } from './timing.js';
import { parseArgs } from 'node:util';
import protobuf from 'protobufjs';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { decodeTracesData, encodeTracesData } from '../src/otlp/index.js';
import { openTraceSource } from '../src/datasets/index.js';
import { toReadableSpans } from '../src/sdk/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const PROTO = join(root, 'test/otlp/otlp-trace.proto');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    batch: { type: 'string', default: '512' },
    runs: { type: 'string', default: '5' },
    json: { type: 'string' },
    phase: { type: 'string' },
    cache: { type: 'string' },
  },
});
const batchSpans = Number(values.batch);
const runs = Number(values.runs);

function defaultDataset(): string {
  const base = process.env.SLIMTRACE_DATASETS ?? resolve(root, '../shared/datasets');
  return join(base, 'trastrainer-trainticket');
}

// ---- cache: OTel-serialized batches as a size-prefixed file ------------------------------------

function writeCache(path: string, batches: Uint8Array[], spans: number): void {
  const parts: Buffer[] = [Buffer.from(JSON.stringify({ spans }) + '\n')];
  for (const b of batches) {
    const h = Buffer.alloc(4);
    h.writeUInt32LE(b.length);
    parts.push(h, Buffer.from(b));
  }
  writeFileSync(path, Buffer.concat(parts));
}

function readCache(path: string): { batches: Uint8Array[]; spans: number } {
  const blob = readFileSync(path);
  const nl = blob.indexOf(10);
  const { spans } = JSON.parse(blob.subarray(0, nl).toString()) as { spans: number };
  const batches: Uint8Array[] = [];
  for (let p = nl + 1; p < blob.length; ) {
    const n = blob.readUInt32LE(p);
    batches.push(blob.subarray(p + 4, p + 4 + n));
    p += 4 + n;
  }
  return { batches, spans };
}

// ---- one phase, in its own process -------------------------------------------------------------

interface PhaseResult {
  phase: string;
  spansPerSec: number;
  mbPerSec: number;
  runsSec: number[];
}


function runPhase(phase: string, cachePath: string): PhaseResult {
  const { batches, spans } = readCache(cachePath);
  const otlpBytes = batches.reduce((a, b) => a + b.length, 0);
  let times: number[];
  let sink = 0;
  switch (phase) {
    case 'decode-slimtrace':
      times = timePasses(() => {
        for (const b of batches) sink += decodeTracesData(b).resourceSpans.length;
      });
      break;
    case 'decode-protobufjs': {
      const Req = protobuf.loadSync(PROTO).lookupType('slimtrace.otlp.v1.ExportTraceServiceRequest');
      times = timePasses(() => {
        for (const b of batches) sink += (Req.decode(b) as unknown as { resourceSpans: unknown[] }).resourceSpans.length;
      });
      break;
    }
    case 'encode-slimtrace': {
      const models = batches.map((b) => decodeTracesData(b));
      times = timePasses(() => {
        for (const m of models) sink += encodeTracesData(m).length;
      });
      break;
    }
    case 'encode-protobufjs': {
      const Req = protobuf.loadSync(PROTO).lookupType('slimtrace.otlp.v1.ExportTraceServiceRequest');
      const msgs = batches.map((b) => Req.decode(b));
      times = timePasses(() => {
        for (const m of msgs) sink += Req.encode(m).finish().length;
      });
      break;
    }
    case 'encode-otel-serializer': {
      const readable = batches.map((b) => toReadableSpans(decodeTracesData(b)));
      times = timePasses(() => {
        for (const r of readable) sink += ProtobufTraceSerializer.serializeRequest(r)!.length;
      });
      break;
    }
    default:
      throw new Error(`unknown phase ${phase}`);
  }
  if (sink < 0) console.log(sink); // keeps the work observable
  const m = median(times);
  return { phase, spansPerSec: spans / m, mbPerSec: otlpBytes / m / 1e6, runsSec: times };
}

// ---- driver ------------------------------------------------------------------------------------

async function prepare(dataset: string, cachePath: string): Promise<{ spans: number; batches: number; bytes: number }> {
  if (existsSync(cachePath)) {
    const c = readCache(cachePath);
    return { spans: c.spans, batches: c.batches.length, bytes: c.batches.reduce((a, b) => a + b.length, 0) };
  }
  // The reader cuts batches in row order (spans of a trace together), as an SDK's batch processor sees them.
  const source = await openTraceSource(dataset, { batchSpans });
  const out: Uint8Array[] = [];
  let spans = 0;
  for await (const batch of source.batches()) {
    const readable = toReadableSpans(batch);
    spans += readable.length;
    out.push(ProtobufTraceSerializer.serializeRequest(readable)!);
  }
  mkdirSync(dirname(cachePath), { recursive: true });
  writeCache(cachePath, out, spans);
  return { spans, batches: out.length, bytes: out.reduce((a, b) => a + b.length, 0) };
}

async function main(): Promise<void> {
  if (values.phase) {
    process.stdout.write(JSON.stringify(runPhase(values.phase, values.cache!)) + '\n');
    return;
  }
  const dataset = positionals[0] ?? defaultDataset();
  const cachePath = join(root, '.bench-cache', `otlp-${dataset.replace(/[^a-zA-Z0-9]+/g, '_')}-${batchSpans}.bin`);
  const t0 = Date.now();
  const info = await prepare(dataset, cachePath);
  console.log(`dataset ${dataset}: ${info.spans} spans in ${info.batches} batches of ${batchSpans}, ${(info.bytes / 1e6).toFixed(1)} MB of OTLP (prepared in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const pin = spawnSync('taskset', ['--version']).status === 0;
  const phases = ['decode-slimtrace', 'decode-protobufjs', 'encode-slimtrace', 'encode-protobufjs', 'encode-otel-serializer'];
  const results: PhaseResult[] = [];
  for (const phase of phases) {
    const args = ['--max-old-space-size=8000', '--import', 'tsx', fileURLToPath(import.meta.url), '--phase', phase, '--cache', cachePath, '--runs', String(runs)];
    const cmd = pin ? 'taskset' : process.execPath;
    const child = spawnSync(cmd, pin ? ['-c', '0', process.execPath, ...args] : args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
    if (child.status !== 0) throw new Error(`phase ${phase} failed:\n${child.stderr}`);
    const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as PhaseResult;
    results.push(r);
    console.log(`${phase.padEnd(24)} ${(r.spansPerSec / 1e3).toFixed(0).padStart(6)} k spans/s ${r.mbPerSec.toFixed(1).padStart(7)} MB/s   runs ${r.runsSec.map((s) => s.toFixed(3)).join(', ')}`);
  }
  const by = (p: string) => results.find((r) => r.phase === p)!;
  console.log(`decode: slimtrace / protobufjs = ${(by('decode-slimtrace').spansPerSec / by('decode-protobufjs').spansPerSec).toFixed(2)}x (target >= 2)`);
  console.log(`encode: slimtrace / OTel serializer = ${(by('encode-slimtrace').spansPerSec / by('encode-otel-serializer').spansPerSec).toFixed(2)}x (target >= 1)`);
  console.log(pin ? 'each phase pinned to CPU 0 with taskset' : 'taskset not found: phases were not pinned to one core');
  if (values.json) writeFileSync(values.json, JSON.stringify({ dataset, batchSpans, ...info, results }, null, 2));
}

await main();

function timePasses(fn: () => void): number[] {
  return timeRuns(fn, runs);
}
