// The fuzz harness shared by `npm run fuzz` (bench/fuzz.ts, 100k+ inputs per decoder) and the short
// run in `npm test` (test/reliability/fuzz.test.ts): for each decoder a corpus built from the
// project's generator, a deterministic mutator (every input is a pure function of seed, decoder and
// index, so any failure can be regenerated), the rule each input must pass, and a runner that feeds
// the inputs to child processes under a watchdog (a stalled child is killed, its input reported
// as a hang, and the run goes on from the next input) and reports each child's peak RSS.
//
// Rules: an input either decodes or throws one of the project's typed errors (TYPED_ERRORS); any
// other exception is a failure. Tracezip never outputs what differs from its input without an
// error: an unmodified frame decodes to exactly its batch, and a damaged frame that decodes must
// carry a valid CRC-32C (the integrity check format.ts guarantees); in a stream, refused frames
// leave the state as it was (the real frames still decode exactly afterwards).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectTraffic } from '../../src/generator/index.js';
import { bytesEqual, diffTracesData, InputError, type TracesData } from '../../src/model/index.js';
import { decodeTracesData, decodeTracesJson, encodeTracesData, encodeTracesJson, ProtobufDecodeError } from '../../src/otlp/index.js';
import { readOtlpJsonFile } from '../../src/otlp/files.js';
import { openInput } from '../../src/cli/input.js';
import { gzipSync } from 'node:zlib';
import { TracezipDecoder, TracezipEncoder, TracezipFrameError, readTracezipFile } from '../../src/tracezip/index.js';
import { crc32c } from '../../src/tracezip/crc32c.js';
import { emptyStats, WarningLog } from '../../src/datasets/index.js';
import { readSpanCsvFiles } from '../../src/datasets/span-csv.js';
import { Rng, mixSeed } from '../helpers/arbitrary.js';
import { buildCorpus as buildProtobufCorpus, caseCounts as protobufCaseCounts, makeCase as makeProtobufCase } from '../helpers/mutate.js';
import { buildTzCorpus, checkTzCase, makeTzCase, primeDecoder, tzTotalCases, verifyState } from '../helpers/tracezip-fuzz.js';
import { appendCrc, openFrame, reframe } from '../helpers/tracezip.js';
import { tracezipBombs } from './bombs.js';

/** The project's typed errors: what a decoder may throw at bad input (all are InputErrors). */
export const TYPED_ERRORS = [ProtobufDecodeError, TracezipFrameError, InputError] as const;

export const DECODERS = ['otlp-protobuf', 'otlp-json', 'tracezip-frame', 'tracezip-stream', 'span-csv'] as const;
export type DecoderName = (typeof DECODERS)[number];

export type Verdict = 'ok' | 'typed' | { problem: string };

function typed(e: unknown): Verdict {
  if (TYPED_ERRORS.some((c) => e instanceof c)) return 'typed';
  return { problem: `threw ${e instanceof Error ? `${e.constructor.name}: ${e.message.slice(0, 200)}` : String(e)}` };
}

// ---- the mutator ---------------------------------------------------------------------------

const SPECIAL = [0, 1, 0x7f, 0x80, 0xff, 0x00, 0x22, 0x2c, 0x0a, 0x5c, 0x7b, 0x5b];

/** A varint of an interesting size: huge, over-long or never ending. */
function varint(rng: Rng): number[] {
  const v = rng.pick([0, 1, 127, 128, 16384, 2 ** 21, 2 ** 28, 2 ** 31, 2 ** 32, 2 ** 35, 2 ** 53 - 1]);
  const out: number[] = [];
  let x = v;
  while (x >= 0x80) {
    out.push((x % 0x80) | 0x80);
    x = Math.floor(x / 0x80);
  }
  out.push(x);
  if (rng.bool(0.1)) return new Array(rng.range(1, 11)).fill(0x80);
  return out;
}

/** One to four random edits of `input`: bit flips, byte overwrites, inserts, deletes, duplicated or swapped spans, splices from `donor`, varints, truncation. */
export function mutate(input: Uint8Array, rng: Rng, donor: Uint8Array): Uint8Array {
  let b: Uint8Array = new Uint8Array(input);
  for (let ops = rng.range(1, 4); ops > 0; ops--) {
    const at = rng.int(b.length + 1);
    const cat = (...parts: ArrayLike<number>[]): Uint8Array => {
      const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of parts) {
        out.set(p, o);
        o += p.length;
      }
      return out;
    };
    switch (rng.int(9)) {
      case 0:
        if (b.length > 0) b[rng.int(b.length)]! ^= 1 << rng.int(8);
        break;
      case 1:
        if (at < b.length) b[at] = rng.bool(0.5) ? rng.pick(SPECIAL) : rng.int(256);
        break;
      case 2:
        b = cat(b.subarray(0, at), rng.bytes(rng.range(1, 8)), b.subarray(at));
        break;
      case 3:
        b = cat(b.subarray(0, at), b.subarray(Math.min(b.length, at + rng.range(1, 16))));
        break;
      case 4: {
        const from = rng.int(b.length + 1);
        b = cat(b.subarray(0, at), b.subarray(from, Math.min(b.length, from + rng.range(1, 64))), b.subarray(at));
        break;
      }
      case 5: {
        const d = rng.int(donor.length + 1);
        b = cat(b.subarray(0, at), donor.subarray(d, d + rng.range(1, 200)), b.subarray(at));
        break;
      }
      case 6:
        b = cat(b.subarray(0, at), varint(rng), b.subarray(Math.min(b.length, at + rng.range(0, 3))));
        break;
      case 7:
        b = b.slice(0, at);
        break;
      default: {
        const lo = Math.min(at, b.length);
        const hi = Math.min(b.length, lo + rng.range(2, 40));
        const mid = lo + ((hi - lo) >> 1);
        b = cat(b.subarray(0, lo), b.subarray(mid, hi), b.subarray(lo, mid), b.subarray(hi));
      }
    }
  }
  return b;
}

// ---- corpora (from the generator) and the rule of each decoder ---------------------------------

/** Batches of generated traffic, cut small so inputs stay a few KB. */
function generatedBatches(seed: number, n: number, maxSpans: number): TracesData[] {
  const { batches } = collectTraffic({ seed: `fuzz-${seed}`, traces: 30, batchSpans: maxSpans });
  return batches.slice(0, n);
}

export interface DecoderTarget {
  /** Inputs this target holds before the mutator (for the table). */
  corpus: number;
  /** Checks input i; returns the verdict. May be async (file readers). */
  run(i: number): Verdict | Promise<Verdict>;
  close?(): void;
}

const decoder = (e: Uint8Array): string => new TextDecoder('utf-8', { fatal: false }).decode(e);

export function makeTarget(name: DecoderName, seed: number): DecoderTarget {
  const rngOf = (i: number): Rng => new Rng(mixSeed(seed, DECODERS.indexOf(name) + 1, i));
  switch (name) {
    case 'otlp-protobuf': {
      const corpus = [...buildProtobufCorpus(encodeTracesData), ...generatedBatches(seed, 12, 24).map((b) => encodeTracesData(b))];
      const counts = protobufCaseCounts(corpus);
      const total = counts.reduce((a, b) => a + b, 0);
      return {
        corpus: corpus.length,
        run(i) {
          const rng = rngOf(i);
          let bytes: Uint8Array;
          if (rng.bool(0.5)) {
            // The OTLP-aware strategies of test/helpers/mutate.ts (huge lengths, groups, deep nesting).
            let c = rng.int(total);
            let s = 0;
            while (c >= counts[s]!) c -= counts[s++]!;
            bytes = makeProtobufCase(corpus, s, c);
          } else bytes = mutate(rng.pick(corpus), rng, rng.pick(corpus));
          try {
            decodeTracesData(bytes);
            return 'ok';
          } catch (e) {
            return typed(e);
          }
        },
      };
    }
    case 'otlp-json': {
      const corpus = generatedBatches(seed, 16, 12).map((b) => new TextEncoder().encode(encodeTracesJson(b)));
      return {
        corpus: corpus.length,
        run(i) {
          const rng = rngOf(i);
          const base = rng.pick(corpus);
          let text = decoder(mutate(base, rng, rng.pick(corpus)));
          if (rng.bool(0.05)) text = '['.repeat(rng.range(100, 100_000)) + text; // deep nesting
          try {
            decodeTracesJson(text);
            return 'ok';
          } catch (e) {
            return typed(e);
          }
        },
      };
    }
    case 'tracezip-frame': {
      const batches = generatedBatches(seed, 12, 32);
      const frames = batches.map((b, k) => new TracezipEncoder({ stateless: true, compression: (['zstd', 'gzip', 'none'] as const)[k % 3] }).encode(b));
      return {
        corpus: frames.length,
        run(i) {
          const rng = rngOf(i);
          const k = rng.int(frames.length);
          const original = frames[k]!;
          let bytes: Uint8Array;
          const how = rng.int(8);
          if (how === 0) bytes = original; // unmodified: must decode exactly
          else if (how <= 3) bytes = mutate(original, rng, rng.pick(frames)); // CRC kept: must be refused
          else if (how <= 5) {
            const m = mutate(original.subarray(0, original.length - 4), rng, rng.pick(frames));
            bytes = appendCrc(m); // CRC recomputed: reaches the structure checks
          } else {
            const o = openFrame(original);
            bytes = reframe(o.fields, mutate(o.payload, rng, openFrame(rng.pick(frames)).payload));
          }
          let r;
          try {
            r = new TracezipDecoder().decode(bytes);
          } catch (e) {
            return typed(e);
          }
          if (r.kind !== 'data') return 'ok';
          if (bytesEqual(bytes, original)) {
            const d = diffTracesData(r.data, batches[k]!);
            return d ? { problem: `an unmodified frame decodes to another message: ${d}` } : 'ok';
          }
          const stored = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 4, 4).getUint32(0, true);
          if (crc32c(bytes, 0, bytes.length - 4) !== stored) return { problem: 'a frame whose CRC-32C does not match was decoded' };
          return 'ok';
        },
      };
    }
    case 'tracezip-stream': {
      const corpus = buildTzCorpus();
      const total = tzTotalCases();
      return {
        corpus: corpus.reduce((n, s) => n + s.frames.length, 0),
        run(i) {
          // The stream cases of test/helpers/tracezip-fuzz.ts (one damaged frame of a stream, after
          // its earlier frames), picked by seed; then the real frames must still decode exactly.
          const c = mixSeed(seed, i) % total;
          const { strategy, s, k, bytes } = makeTzCase(corpus, c);
          const sc = corpus[s]!;
          const dec = primeDecoder(sc, k);
          const mustFail = strategy === 0 || strategy === 6; // CRC kept, frame truncated
          const v = checkTzCase(sc, k, bytes, mustFail, dec);
          if (v.problem) return v.key === 'exception' ? { problem: v.problem } : { problem: v.problem };
          if (!v.advanced) {
            const p = verifyState(sc, k, dec);
            if (p) return { problem: `after a refused frame (${v.key}): ${p}` };
          }
          return v.key.startsWith('error:') ? 'typed' : 'ok';
        },
      };
    }
    case 'span-csv': {
      const corpus = generatedBatches(seed, 10, 20).map((b) => new TextEncoder().encode(spanCsv(b)));
      const dir = mkdtempSync(join(tmpdir(), 'slimtrace-fuzz-csv-'));
      const file = join(dir, 'spans.csv');
      return {
        corpus: corpus.length,
        async run(i) {
          const rng = rngOf(i);
          writeFileSync(file, mutate(rng.pick(corpus), rng, rng.pick(corpus)));
          const ctx = { warnings: new WarningLog(), stats: emptyStats(), strict: rng.bool(0.3) };
          try {
            for await (const _ of readSpanCsvFiles([file], ctx, rng.bool(0.5) ? undefined : 7)) void _;
            return 'ok';
          } catch (e) {
            return typed(e);
          }
        },
        close: () => rmSync(dir, { recursive: true, force: true }),
      };
    }
  }
}

/** Generated spans as a span CSV (the datasets' columns). */
function spanCsv(b: TracesData): string {
  const hex = (x: Uint8Array): string => Buffer.from(x).toString('hex');
  const lines = ['TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration'];
  for (const rs of b.resourceSpans) {
    const pod = String(rs.resource?.attributes.find((a) => a.key === 'k8s.pod.name' || a.key === 'service.name')?.value ?? 'pod');
    for (const ss of rs.scopeSpans)
      for (const s of ss.spans) {
        const name = s.name.includes(',') || s.name.includes('"') ? `"${s.name.replace(/"/g, '""')}"` : s.name;
        lines.push([hex(s.traceId), hex(s.spanId), s.parentSpanId.length ? hex(s.parentSpanId) : 'root', pod, name, s.startTimeUnixNano, s.endTimeUnixNano, (s.endTimeUnixNano - s.startTimeUnixNano) / 1000n].join(','));
      }
  }
  return lines.join('\n') + '\n';
}

// ---- bombs -----------------------------------------------------------------------------------

export interface Bomb {
  name: string;
  decoder: DecoderName;
  /** The hostile bytes (built by the runner, which hands them to the child as a file). */
  make(): Uint8Array;
  /** The file's name when the reader goes by its suffix (`bomb.json.gz`); else by decoder. */
  fileName?: string;
  /** Decodes them (`path`: the file holding them, for the file readers). */
  run(bytes: Uint8Array, path: string): Verdict | Promise<Verdict>;
}

const repeat = (unit: number[], bytes: number): Uint8Array => {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = unit[i % unit.length]!;
  return out;
};

/** `12 00` (an empty span) repeated inside one ScopeSpans inside one ResourceSpans. */
function emptySpans(mib: number): Uint8Array {
  const spans = repeat([0x12, 0x00], mib * 1024 * 1024);
  const len = (n: number): number[] => {
    const out: number[] = [];
    while (n >= 0x80) {
      out.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    out.push(n);
    return out;
  };
  const ss = [0x12, ...len(spans.length)];
  const rs = [0x0a, ...len(ss.length + spans.length)];
  const out = new Uint8Array(rs.length + ss.length + spans.length);
  out.set(rs);
  out.set(ss, rs.length);
  out.set(spans, rs.length + ss.length);
  return out;
}

/**
 * A gzip file that inflates to `members` x `memberBytes` of `fill`: concatenated gzip members (valid
 * gzip, read as one stream), so a 1 GiB bomb is built in a fraction of a second.
 */
function gzipBomb(head: string, fill: number, memberBytes: number, members: number): Uint8Array {
  const one = gzipSync(Buffer.alloc(memberBytes, fill), { level: 9 });
  const first = gzipSync(Buffer.from(head));
  const out = Buffer.alloc(first.length + one.length * members);
  first.copy(out);
  for (let i = 0; i < members; i++) one.copy(out, first.length + i * one.length);
  return out;
}

/** Reads a whole file with one of the streaming readers: a typed error is the only right end for a bomb. */
async function readAllOf(read: () => AsyncIterable<unknown>): Promise<Verdict> {
  try {
    for await (const _ of read()) void _;
    return { problem: 'read without an error' };
  } catch (e) {
    return typed(e);
  }
}

/** The bombs of issue 15 (Tracezip items 1, 2, 7 and residual repeats; OTLP items 3-6 at the issue's sizes). */
export function bombs(): Bomb[] {
  const tz: Bomb[] = tracezipBombs().map((b) => ({
    name: `tracezip: ${b.name}`,
    decoder: 'tracezip-frame' as const,
    make: b.make,
    async run(bytes, path): Promise<Verdict> {
      try {
        if (b.file) for await (const _ of readTracezipFile(path)) void _;
        else new TracezipDecoder().decode(bytes);
        return { problem: 'decoded' };
      } catch (e) {
        return typed(e);
      }
    },
  }));
  const otlp = (name: string, make: () => Uint8Array): Bomb => ({
    name,
    decoder: 'otlp-protobuf',
    make,
    run(bytes) {
      try {
        decodeTracesData(bytes);
        return 'ok';
      } catch (e) {
        return typed(e);
      }
    },
  });
  return [
    ...tz,
    otlp('otlp item 3: unknown field `78 00` x 100k (200 KB)', () => repeat([0x78, 0x00], 200 * 1024)),
    otlp('otlp item 4: `12 00` x 15M in one ScopeSpans (30 MiB)', () => emptySpans(30)),
    {
      // Through the CLI's input layer, where "0 spans, exit 0" was the defect: read fast, then refused.
      name: 'otlp item 6: a file of 3 MB of zero bytes, read as size-delimited OTLP',
      decoder: 'otlp-protobuf',
      make: () => new Uint8Array(3 * 1024 * 1024),
      run: (_bytes, path) => readAllOf(async function* () {
        yield* (await openInput(path)).batches();
      }),
    },
    {
      name: 'otlp item 5: a .json.gz inflating to 1 GiB (whole-file OTLP/JSON)',
      decoder: 'otlp-json',
      fileName: 'bomb.json.gz',
      make: () => gzipBomb('{"resourceSpans":[], "x":"', 0x20, 64 * 1024 * 1024, 16),
      run: (_bytes, path) => readAllOf(() => readOtlpJsonFile(path)),
    },
    {
      name: 'otlp item 5: a .csv.gz holding one 640 MB line (span CSV record)',
      decoder: 'span-csv',
      fileName: 'bomb.csv.gz',
      make: () => gzipBomb('TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration\n', 0x61, 64 * 1024 * 1024, 10),
      run: (_bytes, path) => readAllOf(() => readSpanCsvFiles([path], { warnings: new WarningLog(), stats: emptyStats(), strict: false }, undefined)),
    },
  ];
}

// ---- the runner ----------------------------------------------------------------------------

export interface RowStats {
  decoder: string;
  inputs: number;
  ok: number;
  typed: number;
  other: number;
  hangs: number;
  /** Inputs that took longer than SLOW_MS (and finished). */
  slow: number;
  maxMs: number;
  /** Peak RSS of a child (its whole process: Node, tsx, corpus and decoder) and peak V8 heap seen, MB. */
  peakRssMb: number;
  peakHeapMb: number;
  /** Examples of failures: index and problem. */
  failures: string[];
}

export const SLOW_MS = 1000;

export interface RunOptions {
  seed: number;
  inputs: number;
  /** Child processes per decoder. */
  shards: number;
  /** A child that does not start its next input for this long is hung: killed, reported, replaced. */
  hangMs: number;
  /** Heap cap of each child (a bomb that escapes its limits dies here instead of taking the machine). */
  maxHeapMb: number;
  onProgress?: (line: string) => void;
}

export interface WorkerInput {
  mode: 'inputs' | 'bombs';
  decoder: DecoderName;
  seed: number;
  from: number;
  to: number;
  /** Bombs mode: the file holding the bomb's bytes. */
  bombPath?: string;
}

export interface WorkerReport {
  ok: number;
  typed: number;
  other: number;
  slow: number;
  maxMs: number;
  peakHeapMb: number;
  /** The child's peak resident memory (the kernel's maximum RSS), MB. */
  peakRssMb: number;
  failures: string[];
  /** Per bomb (bombs mode): its verdict and time. */
  bombs?: { name: string; verdict: string; ms: number }[];
}

/** Starts a child process running fuzz-worker.ts (a process of its own, so its peak RSS is its own). */
function startChild(data: WorkerInput, maxHeapMb: number): ChildProcess {
  const entry = fileURLToPath(new URL('./fuzz-worker.ts', import.meta.url));
  return fork(entry, [JSON.stringify(data)], { execArgv: ['--import', 'tsx', `--max-old-space-size=${maxHeapMb}`], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
}

interface Slice {
  report: WorkerReport;
  hangs: number;
}

const emptyReport = (): WorkerReport => ({ ok: 0, typed: 0, other: 0, slow: 0, maxMs: 0, peakHeapMb: 0, peakRssMb: 0, failures: [], bombs: [] });

/** Runs inputs [from, to) of a decoder (or the bombs, by index) in children that are replaced when one hangs or dies. */
async function runSlice(mode: WorkerInput['mode'], decoder: DecoderName, seed: number, from: number, to: number, o: RunOptions, bombPath?: string): Promise<Slice> {
  const total: Slice = { report: emptyReport(), hangs: 0 };
  let start = from;
  while (start < to) {
    const child = startChild({ mode, decoder, seed, from: start, to, bombPath }, o.maxHeapMb);
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      if (stderr.length < 2000) stderr += c.toString();
    });
    const outcome = await new Promise<{ report?: WorkerReport; hungAt?: number; crash?: string; at: number }>((resolve) => {
      let at = start;
      let changed = performance.now();
      let settled = false;
      const finish = (x: { report?: WorkerReport; hungAt?: number; crash?: string; at: number }): void => {
        if (settled) return;
        settled = true;
        clearInterval(timer);
        resolve(x);
      };
      // The child says which input it starts before each one; silence for hangMs is a hang.
      const timer = setInterval(() => {
        if (performance.now() - changed > o.hangMs) {
          child.kill('SIGKILL');
          finish({ hungAt: at, at });
        }
      }, 100);
      child.on('message', (m: { at?: number; report?: WorkerReport }) => {
        changed = performance.now();
        if (m.at !== undefined) at = m.at;
        if (m.report) finish({ report: m.report, at });
      });
      child.on('exit', (code, signal) => finish({ crash: `exited with ${signal ?? `code ${code}`}: ${stderr.trim().split('\n').slice(-3).join(' / ').slice(0, 300)}`, at }));
    });
    if (outcome.report) {
      merge(total.report, outcome.report);
      break;
    }
    const at = outcome.at;
    if (outcome.hungAt !== undefined) {
      total.hangs++;
      total.report.failures.push(`#${at}: hang (no progress for ${o.hangMs} ms)`);
    } else {
      total.report.other++;
      total.report.failures.push(`#${at}: the child died: ${outcome.crash}`);
    }
    if (mode === 'bombs') total.report.bombs!.push({ name: bombs()[at]?.name ?? String(at), verdict: outcome.hungAt !== undefined ? `hang (> ${o.hangMs} ms)` : `died: ${outcome.crash}`, ms: NaN });
    // A killed child's counts are lost with it: its inputs before the culprit run again (they are
    // deterministic) in a new child, and the run goes on after the culprit.
    if (at > start) {
      const redo = await runSlice(mode, decoder, seed, start, at, o, bombPath);
      merge(total.report, redo.report);
      total.hangs += redo.hangs;
    }
    start = at + 1;
  }
  return total;
}

function merge(into: WorkerReport, r: WorkerReport): void {
  into.ok += r.ok;
  into.typed += r.typed;
  into.other += r.other;
  into.slow += r.slow;
  into.maxMs = Math.max(into.maxMs, r.maxMs);
  into.peakHeapMb = Math.max(into.peakHeapMb, r.peakHeapMb);
  into.peakRssMb = Math.max(into.peakRssMb, r.peakRssMb);
  into.failures.push(...r.failures.slice(0, Math.max(0, 20 - into.failures.length)));
  if (r.bombs) into.bombs = [...(into.bombs ?? []), ...r.bombs];
}

/** Runs `inputs` inputs of one decoder over `shards` workers. */
export async function fuzzDecoder(decoder: DecoderName, o: RunOptions): Promise<RowStats> {
  const per = Math.ceil(o.inputs / o.shards);
  const slices = await Promise.all(Array.from({ length: o.shards }, (_, s) => runSlice('inputs', decoder, o.seed, s * per, Math.min(o.inputs, (s + 1) * per), o)));
  const row: RowStats = { decoder, inputs: o.inputs, ok: 0, typed: 0, other: 0, hangs: 0, slow: 0, maxMs: 0, peakRssMb: 0, peakHeapMb: 0, failures: [] };
  for (const s of slices) {
    row.ok += s.report.ok;
    row.typed += s.report.typed;
    row.other += s.report.other;
    row.slow += s.report.slow;
    row.hangs += s.hangs;
    row.maxMs = Math.max(row.maxMs, s.report.maxMs);
    row.peakHeapMb = Math.max(row.peakHeapMb, s.report.peakHeapMb);
    row.peakRssMb = Math.max(row.peakRssMb, s.report.peakRssMb);
    row.failures.push(...s.report.failures);
  }
  return row;
}

/** Runs every bomb, each in a child of its own (one that hangs or exhausts its heap is reported, not waited on). */
export async function fuzzBombs(o: RunOptions, only?: DecoderName): Promise<{ rows: RowStats[]; bombs: { name: string; verdict: string; ms: number }[] }> {
  const list = bombs();
  const results: { name: string; verdict: string; ms: number }[] = [];
  const rows = new Map<string, RowStats>();
  for (let i = 0; i < list.length; i++) {
    const b = list[i]!;
    if (only && b.decoder !== only) continue;
    const dir = mkdtempSync(join(tmpdir(), 'slimtrace-bomb-'));
    const path = join(dir, b.fileName ?? (b.decoder.startsWith('tracezip') ? 'bomb.tzip' : 'bomb.otlp'));
    writeFileSync(path, b.make());
    const s = await runSlice('bombs', b.decoder, o.seed, i, i + 1, o, path);
    rmSync(dir, { recursive: true, force: true });
    const peak = s.report.peakRssMb;
    results.push(...(s.report.bombs ?? []));
    const key = `bombs (${b.decoder.startsWith('tracezip') ? 'tracezip' : 'otlp'})`;
    const row = rows.get(key) ?? { decoder: key, inputs: 0, ok: 0, typed: 0, other: 0, hangs: 0, slow: 0, maxMs: 0, peakRssMb: 0, peakHeapMb: 0, failures: [] };
    row.inputs++;
    row.ok += s.report.ok;
    row.typed += s.report.typed;
    row.other += s.report.other;
    row.slow += s.report.slow;
    row.hangs += s.hangs;
    row.maxMs = Math.max(row.maxMs, s.report.maxMs);
    row.peakRssMb = Math.max(row.peakRssMb, peak);
    row.peakHeapMb = Math.max(row.peakHeapMb, s.report.peakHeapMb);
    row.failures.push(...s.report.failures.map((f) => `${b.name}: ${f}`));
    rows.set(key, row);
  }
  return { rows: [...rows.values()], bombs: results };
}

/** The result table (Markdown). */
export function table(rows: RowStats[]): string {
  const head = '| decoder | inputs | ok | typed errors | other errors | hangs | over 1 s | max ms | peak RSS MB | peak heap MB |';
  const lines = rows.map(
    (r) => `| ${r.decoder} | ${r.inputs.toLocaleString('en-US')} | ${r.ok.toLocaleString('en-US')} | ${r.typed.toLocaleString('en-US')} | ${r.other} | ${r.hangs} | ${r.slow} | ${r.maxMs.toFixed(1)} | ${r.peakRssMb.toFixed(0)} | ${r.peakHeapMb.toFixed(0)} |`,
  );
  return [head, '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|', ...lines].join('\n');
}
