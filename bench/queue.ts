// bench/queue: throughput of the disk queue (src/pipeline/queue.ts) on this machine's disk: appends/s
// and MB/s with 1 and with 64 concurrent appenders (each append resolves only once fdatasync'd, so
// one appender pays a sync per record and many share one sync per batch: the group commit), the
// append latency, the rate at which a consumer reads and acknowledges records back, and how long
// opening a full queue takes (recovery verifies every record).
//
//   node --import tsx bench/queue.ts [--dir DIR] [--seconds 3] [--runs 3] [--json out.json]
//
// DIR (default: the system temp directory) must be on the disk the queue will live on: a tmpfs
// makes fdatasync free and the figures meaningless. Each run uses a fresh queue directory, removed
// afterwards. Payloads are 1 KiB (a small OTLP request) and 64 KiB (about a 512-span request: the
// OpenTelemetry serializer's requests of trastrainer average 67 KB).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { DiskQueue } from '../src/pipeline/index.js';
import { median } from './timing.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: tmpdir() },
    seconds: { type: 'string', default: '3' },
    runs: { type: 'string', default: '3' },
    json: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const runs = Number(values.runs);

interface AppendRun {
  appendsPerSecond: number;
  mbPerSecond: number;
  recordsPerSync: number;
  p50ms: number;
  p99ms: number;
}

function payload(bytes: number): Uint8Array {
  const p = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) p[i] = (i * 131 + 7) & 0xff; // not all zeros: nothing below compresses, but nothing cheats either
  return p;
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function appendRun(bytes: number, concurrency: number): Promise<AppendRun> {
  const dir = mkdtempSync(join(values.dir!, 'slimtrace-bench-queue-'));
  try {
    const q = await DiskQueue.open({ dir, maxBytes: 64 * 1024 * 1024 * 1024 });
    const p = payload(bytes);
    await q.append(p); // the first segment is created outside the timed part
    const syncs0 = q.stats().syncs;
    const latencies: number[] = [];
    let count = 0;
    const start = performance.now();
    const deadline = start + seconds * 1000;
    const appender = async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        await q.append(p);
        latencies.push(performance.now() - t);
        count++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, appender));
    const elapsed = (performance.now() - start) / 1000;
    const syncs = q.stats().syncs - syncs0;
    await q.close();
    latencies.sort((a, b) => a - b);
    return {
      appendsPerSecond: count / elapsed,
      mbPerSecond: (count * bytes) / elapsed / 1e6,
      recordsPerSync: count / syncs,
      p50ms: percentile(latencies, 0.5),
      p99ms: percentile(latencies, 0.99),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Appends `records` records with 64 appenders, then times one consumer taking and acknowledging all of them. */
async function drainRun(bytes: number, records: number): Promise<{ recordsPerSecond: number; mbPerSecond: number }> {
  const dir = mkdtempSync(join(values.dir!, 'slimtrace-bench-queue-'));
  try {
    const q = await DiskQueue.open({ dir, maxBytes: 64 * 1024 * 1024 * 1024 });
    const p = payload(bytes);
    let left = records;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (left-- > 0) await q.append(p);
      }),
    );
    const start = performance.now();
    for (let i = 0; i < records; i++) {
      const r = (await q.next())!;
      q.ack(r.seq);
    }
    const elapsed = (performance.now() - start) / 1000;
    await q.close();
    return { recordsPerSecond: records / elapsed, mbPerSecond: (records * bytes) / elapsed / 1e6 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Fills a queue with `records` records, closes it, and times opening it again (every record verified). */
async function recoveryRun(bytes: number, records: number): Promise<{ seconds: number; mbPerSecond: number }> {
  const dir = mkdtempSync(join(values.dir!, 'slimtrace-bench-queue-'));
  try {
    const q = await DiskQueue.open({ dir, maxBytes: 64 * 1024 * 1024 * 1024 });
    const p = payload(bytes);
    let left = records;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (left-- > 0) await q.append(p);
      }),
    );
    await q.close();
    const start = performance.now();
    const again = await DiskQueue.open({ dir, maxBytes: 64 * 1024 * 1024 * 1024 });
    const elapsed = (performance.now() - start) / 1000;
    if (again.stats().recoveredRecords !== records) throw new Error(`recovered ${again.stats().recoveredRecords} of ${records}`);
    await again.close();
    return { seconds: elapsed, mbPerSecond: (records * (bytes + 24)) / elapsed / 1e6 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fsType = (() => {
  try {
    return execFileSync('df', ['-T', values.dir!], { encoding: 'utf8' }).trim().split('\n')[1]?.split(/\s+/)[1] ?? '?';
  } catch {
    return '?';
  }
})();
console.log(`disk queue in ${values.dir} (${fsType}); ${seconds} s per run, median of ${runs} runs; Node ${process.version}`);
if (fsType === 'tmpfs') console.log('warning: tmpfs: fdatasync costs nothing here, the figures say nothing about a disk');

const results: Record<string, unknown>[] = [];
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
console.log('\n| payload | appenders | appends/s | MB/s | records per fdatasync | latency p50 (ms) | p99 (ms) |');
console.log('|---:|---:|---:|---:|---:|---:|---:|');
for (const bytes of [1024, 64 * 1024]) {
  for (const concurrency of [1, 64]) {
    const all: AppendRun[] = [];
    for (let i = 0; i < runs; i++) all.push(await appendRun(bytes, concurrency));
    const m = (f: (r: AppendRun) => number) => median(all.map(f));
    const row = {
      payload: bytes,
      appenders: concurrency,
      appendsPerSecond: m((r) => r.appendsPerSecond),
      mbPerSecond: m((r) => r.mbPerSecond),
      recordsPerSync: m((r) => r.recordsPerSync),
      p50ms: m((r) => r.p50ms),
      p99ms: m((r) => r.p99ms),
      runs: all.map((r) => Math.round(r.appendsPerSecond)),
    };
    results.push(row);
    console.log(
      `| ${bytes / 1024} KiB | ${concurrency} | ${fmt(row.appendsPerSecond)} | ${fmt(row.mbPerSecond, 1)} | ${fmt(row.recordsPerSync, 1)} | ${fmt(row.p50ms, 2)} | ${fmt(row.p99ms, 2)} |`,
    );
  }
}

console.log('\n| payload | records | consumer: records/s (next + ack) | MB/s |');
console.log('|---:|---:|---:|---:|');
for (const [bytes, records] of [
  [1024, 50_000],
  [64 * 1024, 3_000],
] as const) {
  const all = [];
  for (let i = 0; i < runs; i++) all.push(await drainRun(bytes, records));
  const row = { payload: bytes, records, recordsPerSecond: median(all.map((r) => r.recordsPerSecond)), mbPerSecond: median(all.map((r) => r.mbPerSecond)) };
  results.push(row);
  console.log(`| ${bytes / 1024} KiB | ${fmt(records)} | ${fmt(row.recordsPerSecond)} | ${fmt(row.mbPerSecond, 1)} |`);
}
console.log('\n| payload | records | recovery: open (s) | MB/s verified |');
console.log('|---:|---:|---:|---:|');
{
  const [bytes, records] = [64 * 1024, 4096];
  const all = [];
  for (let i = 0; i < runs; i++) all.push(await recoveryRun(bytes, records));
  const row = { recovery: true, payload: bytes, records, seconds: median(all.map((r) => r.seconds)), mbPerSecond: median(all.map((r) => r.mbPerSecond)) };
  results.push(row);
  console.log(`| ${bytes / 1024} KiB | ${fmt(records)} | ${fmt(row.seconds, 2)} | ${fmt(row.mbPerSecond)} |`);
}
if (values.json) writeFileSync(values.json, JSON.stringify({ dir: values.dir, fsType, seconds, runs, node: process.version, results }, null, 2));
