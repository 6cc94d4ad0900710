// bench/tracezip: Tracezip's bytes and speed against OTLP and its general-purpose compressions, the
// seed's simple per-batch scheme and the data's entropy floor, on both real datasets, in one run
// (issue 4's benchmark).
//
//   node --max-old-space-size=8000 --import tsx bench/tracezip.ts [DATASETS] [--batches 16,64,512]
//        [--only trastrainer|nezha] [--json out.json] [--runs 3] [--speed-batches 16,64,512]
//        [--no-speed] [--log-body parsed|verbatim] [--cpu 0]
//
// DATASETS (or --datasets) is the folder holding trastrainer-trainticket/ and nezha-trainticket/
// (default $SLIMTRACE_DATASETS, else ../shared/datasets). Batches are cut as research/anchors.md
// cuts them (see bench/tracezip-data.ts; duplicate rows kept as the reader gives them) and cached
// under .bench-cache/ with both encodings of each batch: slimtrace's lossless OTLP (the model the
// codecs get) and the OpenTelemetry JS serializer's bytes (what every OTLP row measures).
//
// Sizes are measured in this process, and every batch of every lossless codec is decoded and
// compared with the original (diffTracesData); any difference stops the run. Tracezip is one
// encoder/decoder pair per dataset and batch size, fed the batches in order, and every byte of
// every frame is counted (state updates included). Speed runs in child processes pinned to one
// core with `taskset -c CPU` (--cpu, default 0; when available): one warm-up pass, then the median of --runs passes
// over all batches, a fresh encoder/decoder per pass.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, openSync, readSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, timePasses as timeRuns } from './timing.js';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Compressor, Decompressor, compress } from 'zstd-napi';
import { countSpans, diffTracesData, type TracesData } from '../src/model/index.js';
import { decodeTracesData } from '../src/otlp/index.js';
import { decodeSimpleBatch, encodeSimpleBatch } from '../src/tracezip/baseline.js';
import { TracezipDecoder, TracezipEncoder, readFrameHeader } from '../src/tracezip/index.js';
import type { LogBodyMode } from '../src/datasets/index.js';
import {
  cacheFile,
  cacheValid,
  floorFile,
  floorValid,
  prepareDataset,
  readCache,
  readFloor,
  type DatasetSpec,
  type FloorCache,
  type ReadSummary,
} from './tracezip-data.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const CACHE_DIR = join(root, '.bench-cache');
/** zstd level of OTLP+zstd, the simple scheme and Tracezip's per-frame zstd. */
const ZSTD_LEVEL = 3;
/** Tracezip's zstd stream runs at the encoder's defaults (level 1, raw literals); level 3 is shown beside it. */
const TZ_STREAM_COMPARE_LEVEL = 3;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    datasets: { type: 'string' },
    batches: { type: 'string', default: '16,64,512' },
    'speed-batches': { type: 'string' },
    only: { type: 'string' },
    json: { type: 'string' },
    runs: { type: 'string', default: '3' },
    'no-speed': { type: 'boolean', default: false },
    cpu: { type: 'string', default: '0' },
    'log-body': { type: 'string', default: 'parsed' },
    phase: { type: 'string' },
    cache: { type: 'string' },
    spans: { type: 'string' },
  },
});
const runs = Number(values.runs);

// ================================================================================================
// Child process: one speed or memory measurement
// ================================================================================================

interface PhaseResult {
  phase: string;
  spans: number;
  spansPerSec: number;
  runsSec: number[];
  /** RSS once the inputs are in memory (after a GC), before the codec runs. */
  rssLoadedMB: number;
  /** Peak RSS at the end (maxRssMB()). */
  maxRssMB: number;
  extra?: Record<string, number>;
}


const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const rssMB = () => process.memoryUsage().rss / 2 ** 20;
/**
 * Peak RSS of this process in MB. Linux carries ru_maxrss (process.resourceUsage().maxRSS) over
 * fork and exec, so a child spawned by a large parent reports at least the parent's RSS; the
 * current address space's own high-water mark (VmHWM) does not, so it is used where it exists.
 */
function maxRssMB(): number {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    /* not Linux */
  }
  return process.resourceUsage().maxRSS / 1024;
}

function loadModels(path: string): { models: TracesData[]; spans: number } {
  const { header, batches } = readCache(path);
  const models = batches.map((b) => decodeTracesData(b.model));
  return { models, spans: header.spans };
}

/** Frames written by the size pass (length-prefixed), for the decode phases. */
function writeFrames(path: string, frames: Uint8Array[]): void {
  let total = 0;
  for (const f of frames) total += 4 + f.length;
  const out = Buffer.allocUnsafe(total);
  let p = 0;
  for (const f of frames) {
    out.writeUInt32LE(f.length, p);
    out.set(f, p + 4);
    p += 4 + f.length;
  }
  writeFileSync(path, out);
}

function readFrames(path: string): Uint8Array[] {
  const blob = readFileSync(path);
  const frames: Uint8Array[] = [];
  for (let p = 0; p < blob.length; ) {
    const n = blob.readUInt32LE(p);
    frames.push(blob.subarray(p + 4, p + 4 + n));
    p += 4 + n;
  }
  return frames;
}

function framesFile(ds: DatasetSpec, n: number, codec: string): string {
  return join(CACHE_DIR, `frames-${ds.name}-${ds.logBody}-n${n}-${codec}.bin`);
}

/** Streams the cache file record by record (for the memory phase: never the whole dataset in memory). */
function* streamModels(path: string): Generator<TracesData> {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(4);
    let pos = 0;
    for (;;) {
      if (readSync(fd, head, 0, 4, pos) < 4) return;
      const m = head.readUInt32LE(0);
      const model = Buffer.allocUnsafe(m);
      readSync(fd, model, 0, m, pos + 4);
      readSync(fd, head, 0, 4, pos + 4 + m);
      const o = head.readUInt32LE(0);
      pos += 8 + m + o;
      yield decodeTracesData(model);
    }
  } finally {
    closeSync(fd);
  }
}

function runPhase(phase: string, path: string): PhaseResult {
  let sink = 0;
  if (phase === 'tz-memory') {
    // A streaming encoder -> decoder pair over the whole dataset, one batch in memory at a time:
    // the peak RSS is node plus the two stream states.
    gc();
    const rssLoaded = rssMB();
    const enc = new TracezipEncoder({ compression: 'zstd-stream' });
    const dec = new TracezipDecoder();
    let spans = 0;
    let maxEnc = 0;
    let maxDec = 0;
    const t = process.hrtime.bigint();
    let epochs = 0;
    for (const m of streamModels(path)) {
      const frame = enc.encode(m);
      if (readFrameHeader(frame).epochStart) epochs++;
      const r = dec.decode(frame);
      if (r.kind !== 'data') throw new Error(`memory phase: decoder answered ${r.kind}`);
      spans += countSpans(r.data);
      maxEnc = Math.max(maxEnc, enc.stateSize);
      maxDec = Math.max(maxDec, dec.stateBytes);
    }
    const sec = Number(process.hrtime.bigint() - t) / 1e9;
    return {
      phase,
      spans,
      spansPerSec: spans / sec,
      runsSec: [sec],
      rssLoadedMB: rssLoaded,
      maxRssMB: maxRssMB(),
      extra: { maxEncoderStateMB: maxEnc / 2 ** 20, maxDecoderStateMB: maxDec / 2 ** 20, epochs },
    };
  }
  let times: number[];
  let rssLoaded: number;
  let spans: number;
  const compression = phase.endsWith('-none') ? 'none' : 'zstd-stream';
  if (phase.includes('-decode')) {
    // Input: the frames the size pass wrote (so the RSS here is the decoder's, not the dataset's).
    const frames = readFrames(path);
    spans = Number(values.spans);
    gc();
    rssLoaded = rssMB();
    if (phase === 'simple-decode')
      times = timePasses(() => {
        for (const f of frames) sink += decodeSimpleBatch(f).resourceSpans.length;
      });
    else if (phase === 'tz-decode-zstd' || phase === 'tz-decode-none')
      times = timePasses(() => {
        const dec = new TracezipDecoder();
        for (const f of frames) {
          const r = dec.decode(f);
          if (r.kind !== 'data') throw new Error(`decode phase: decoder answered ${r.kind}`);
          sink += r.data.resourceSpans.length;
        }
      });
    else throw new Error(`unknown phase ${phase}`);
  } else {
    // Input: the batches as model objects.
    const loaded = loadModels(path);
    const models = loaded.models;
    spans = loaded.spans;
    gc();
    rssLoaded = rssMB();
    if (phase === 'simple-encode')
      times = timePasses(() => {
        for (const m of models) sink += encodeSimpleBatch(m).length;
      });
    else if (phase === 'tz-encode-zstd' || phase === 'tz-encode-none')
      times = timePasses(() => {
        const enc = new TracezipEncoder({ compression });
        for (const m of models) sink += enc.encode(m).length;
      });
    else throw new Error(`unknown phase ${phase}`);
  }
  if (sink < 0) console.log(sink); // keeps the work observable
  return { phase, spans, spansPerSec: spans / median(times), runsSec: times, rssLoadedMB: rssLoaded, maxRssMB: maxRssMB() };
}

// ================================================================================================
// Sizes (in this process), with losslessness checked on every batch
// ================================================================================================

const CODECS = ['otlp', 'otlp-gzip6', 'otlp-zstd3', 'simple', 'simple-zstd3', 'tracezip', 'tracezip-zstd3-frame', 'tracezip-stream-zstd3', 'tracezip-stream'] as const;
type Codec = (typeof CODECS)[number] | 'otlp-zstd3-dict';

const CODEC_LABEL: Record<Codec, string> = {
  otlp: 'OTLP protobuf (OTel JS serializer)',
  'otlp-gzip6': 'OTLP + gzip -6',
  'otlp-zstd3': 'OTLP + zstd -3',
  'otlp-zstd3-dict': 'OTLP + zstd -3 + dictionary (trained on the first half)',
  simple: 'simple scheme (seed, per batch)',
  'simple-zstd3': 'simple scheme + zstd -3',
  tracezip: 'Tracezip, no zstd',
  'tracezip-zstd3-frame': 'Tracezip + zstd -3 per frame',
  'tracezip-stream-zstd3': 'Tracezip + zstd -3 stream (raw literals)',
  'tracezip-stream': 'Tracezip + zstd -1 stream (default)',
};

interface DictInfo {
  trainedOn: number;
  trainBytes: number;
  dictBytes: number;
  trainSeconds: number;
  oversizeSamples: number;
}

interface SizeResult {
  batchSpans: number;
  batches: number;
  spans: number;
  /** First batch of the second half; the dictionary's evaluation set. */
  half: number;
  secondHalfSpans: number;
  /** Total bytes per codec over all batches / over the second half. */
  all: Partial<Record<Codec, number>>;
  second: Partial<Record<Codec, number>>;
  dict?: DictInfo;
  dictSkipped?: string;
  /** Frames that started an epoch (full state sent again), with zstd / without. */
  tracezipEpochs: number;
  tracezipEpochsNone: number;
  seconds: number;
}

function zstdCliAvailable(): boolean {
  const r = spawnSync('zstd', ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

function fail(msg: string): never {
  console.error(`\nLOSSLESSNESS FAILURE: ${msg}`);
  process.exit(1);
}

function measureSizes(ds: DatasetSpec, n: number, saveFrames: boolean, log: (s: string) => void): SizeResult {
  const t0 = Date.now();
  const path = cacheFile(CACHE_DIR, ds, n);
  const { header, batches } = readCache(path);
  const B = batches.length;
  const half = Math.floor(B / 2);
  const per: Record<(typeof CODECS)[number], Float64Array> = Object.fromEntries(CODECS.map((c) => [c, new Float64Array(B)])) as never;
  const spansOf = new Float64Array(B);
  const tzNone = { enc: new TracezipEncoder({ compression: 'none' }), dec: new TracezipDecoder() };
  const tzFrame = { enc: new TracezipEncoder({ compression: 'zstd', zstdLevel: ZSTD_LEVEL }), dec: new TracezipDecoder() };
  const tzZstd3 = { enc: new TracezipEncoder({ compression: 'zstd-stream', zstdLevel: TZ_STREAM_COMPARE_LEVEL }), dec: new TracezipDecoder() };
  const tzStream = { enc: new TracezipEncoder({ compression: 'zstd-stream' }), dec: new TracezipDecoder() };
  const epochs = { tracezip: 0, 'tracezip-zstd3-frame': 0, 'tracezip-stream-zstd3': 0, 'tracezip-stream': 0 };
  const saved = { simple: [] as Uint8Array[], tracezip: [] as Uint8Array[], 'tracezip-zstd3-frame': [] as Uint8Array[], 'tracezip-stream-zstd3': [] as Uint8Array[], 'tracezip-stream': [] as Uint8Array[] };
  const check = (what: string, i: number, got: TracesData, want: TracesData): void => {
    const d = diffTracesData(got, want);
    if (d !== undefined) fail(`${ds.name} N=${n} batch ${i}: ${what} decoded differently: ${d}`);
  };
  for (let i = 0; i < B; i++) {
    const { model: modelBytes, otel } = batches[i]!;
    const model = decodeTracesData(modelBytes); // what the codecs encode
    const ref = decodeTracesData(modelBytes); // what their output is compared with (untouched by them)
    spansOf[i] = countSpans(model);
    per.otlp[i] = otel.length;
    per['otlp-gzip6'][i] = gzipSync(otel, { level: 6 }).length;
    per['otlp-zstd3'][i] = compress(otel, { compressionLevel: ZSTD_LEVEL }).length;

    const simple = encodeSimpleBatch(model);
    per.simple[i] = simple.length;
    if (saveFrames) saved.simple.push(simple);
    per['simple-zstd3'][i] = compress(simple, { compressionLevel: ZSTD_LEVEL }).length;
    check('simple scheme', i, decodeSimpleBatch(simple), ref);

    for (const [codec, tz] of [['tracezip', tzNone], ['tracezip-zstd3-frame', tzFrame], ['tracezip-stream-zstd3', tzZstd3], ['tracezip-stream', tzStream]] as const) {
      const frame = tz.enc.encode(model);
      per[codec][i] = frame.length;
      if (readFrameHeader(frame).epochStart) epochs[codec]++;
      if (saveFrames) saved[codec].push(frame);
      const r = tz.dec.decode(frame);
      if (r.kind !== 'data') fail(`${ds.name} N=${n} batch ${i}: ${codec} decoder answered ${r.kind}${r.kind === 'resync-needed' ? ` (${r.reason})` : ''}`);
      check(codec, i, r.data, ref);
    }
  }
  const sum = (a: Float64Array, from = 0): number => {
    let s = 0;
    for (let i = from; i < a.length; i++) s += a[i]!;
    return s;
  };
  const res: SizeResult = {
    batchSpans: n,
    batches: B,
    spans: sum(spansOf),
    half,
    secondHalfSpans: sum(spansOf, half),
    all: {},
    second: {},
    tracezipEpochs: epochs['tracezip-stream'],
    tracezipEpochsNone: epochs.tracezip,
    seconds: 0,
  };
  if (res.spans !== header.spans) throw new Error(`span count ${res.spans} != cache header ${header.spans}`);
  if (saveFrames) {
    writeFrames(framesFile(ds, n, 'simple'), saved.simple);
    writeFrames(framesFile(ds, n, 'tz-none'), saved.tracezip);
    writeFrames(framesFile(ds, n, 'tz-zstd'), saved['tracezip-stream']);
  }
  for (const c of CODECS) {
    res.all[c] = sum(per[c]);
    res.second[c] = sum(per[c], half);
  }

  // OTLP + zstd -3 with a dictionary trained on the first half, evaluated on the second.
  if (!zstdCliAvailable()) res.dictSkipped = 'the zstd CLI is not installed (zstd-napi cannot train dictionaries)';
  else if (half === 0) res.dictSkipped = 'too few batches to train on a first half';
  else {
    const dir = mkdtempSync(join(tmpdir(), 'tracezip-dict-'));
    try {
      let trainBytes = 0;
      let oversize = 0;
      for (let i = 0; i < half; i++) {
        const b = batches[i]!.otel;
        writeFileSync(join(dir, `b${String(i).padStart(6, '0')}.bin`), b);
        trainBytes += b.length;
        if (b.length > 128 * 1024) oversize++;
      }
      const dictPath = join(dir, 'dict');
      const t = Date.now();
      const r = spawnSync('zstd', ['--train', '-r', dir, '-o', dictPath], { encoding: 'utf8', maxBuffer: 1 << 26 });
      const trainSeconds = (Date.now() - t) / 1000;
      if (r.status !== 0) res.dictSkipped = `zstd --train failed: ${(r.stderr || '').trim().split('\n').pop()}`;
      else {
        const dict = readFileSync(dictPath);
        const cmp = new Compressor();
        cmp.setParameters({ compressionLevel: ZSTD_LEVEL });
        cmp.loadDictionary(dict);
        const dcmp = new Decompressor();
        dcmp.loadDictionary(dict);
        let total = 0;
        for (let i = half; i < B; i++) {
          const otel = batches[i]!.otel;
          const z = cmp.compress(otel);
          if (!Buffer.from(dcmp.decompress(z)).equals(Buffer.from(otel.buffer, otel.byteOffset, otel.byteLength)))
            fail(`${ds.name} N=${n} batch ${i}: zstd with dictionary did not round-trip`);
          total += z.length;
        }
        res.second['otlp-zstd3-dict'] = total;
        res.dict = { trainedOn: half, trainBytes, dictBytes: dict.length, trainSeconds, oversizeSamples: oversize };
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  res.seconds = (Date.now() - t0) / 1000;
  log(`  N=${n}: sizes of ${B.toLocaleString('en-US')} batches, every batch verified lossless, in ${res.seconds.toFixed(1)} s`);
  return res;
}

// ================================================================================================
// Driver
// ================================================================================================

const SPEED_PHASES = ['tz-encode-zstd', 'tz-decode-zstd', 'tz-encode-none', 'tz-decode-none', 'simple-encode', 'simple-decode', 'tz-memory'] as const;

/** The frames file each decode phase reads. */
const FRAMES_OF: Partial<Record<string, string>> = { 'tz-decode-zstd': 'tz-zstd', 'tz-decode-none': 'tz-none', 'simple-decode': 'simple' };

interface DatasetResult {
  name: string;
  path: string;
  logBody: LogBodyMode;
  read: ReadSummary;
  floor: FloorCache['floor'];
  sizes: SizeResult[];
  speed: Array<{ batchSpans: number; results: PhaseResult[] }>;
}

const fmtInt = (x: number) => Math.round(x).toLocaleString('en-US');
const fmt = (x: number, d = 2) => x.toFixed(d);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function table(headers: string[], rows: string[][], rightFrom = 1): string {
  const lines = [`| ${headers.join(' | ')} |`, `|${headers.map((_, i) => (i >= rightFrom ? '---:' : '---')).join('|')}|`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

function sizeTable(sizes: SizeResult[], which: 'all' | 'second', floorBytes: number | undefined): string {
  const codecs: Codec[] =
    which === 'all'
      ? [...CODECS]
      : ['otlp', 'otlp-gzip6', 'otlp-zstd3', 'otlp-zstd3-dict', 'simple', 'simple-zstd3', 'tracezip', 'tracezip-zstd3-frame', 'tracezip-stream-zstd3', 'tracezip-stream'];
  const headers = ['codec', ...sizes.flatMap((s) => [`N=${s.batchSpans} B/span`, '×OTLP', '% of zstd-3'])];
  const rows: string[][] = [];
  for (const c of codecs) {
    const row = [CODEC_LABEL[c]];
    for (const s of sizes) {
      const part = s[which];
      const spans = which === 'all' ? s.spans : s.secondHalfSpans;
      const v = part[c];
      if (v === undefined) row.push('n/a', '', '');
      else row.push(fmt(v / spans), fmt(part.otlp! / v), pct(v / part['otlp-zstd3']!));
    }
    rows.push(row);
  }
  if (floorBytes !== undefined) {
    const row = ['entropy floor (random ids + span times, zstd -19)'];
    for (const s of sizes) row.push(fmt(floorBytes / s.spans), fmt(s.all.otlp! / floorBytes), pct(floorBytes / s.all['otlp-zstd3']!));
    rows.push(row);
  }
  return table(headers, rows);
}

function report(r: DatasetResult, print: (s: string) => void): void {
  const read = r.read;
  const distinct = read.spans - read.duplicateRows;
  print(`\n## ${r.name}\n`);
  print(`${read.describe}`);
  print(
    `${fmtInt(read.spans)} spans as the reader gives them (duplicate rows kept: ${fmtInt(read.duplicateRows)} exact repeats, ` +
      `${fmtInt(distinct)} distinct), ${fmtInt(read.traces)} traces, ${fmtInt(read.resources)} resources, ${fmtInt(read.events)} span events` +
      (r.name.startsWith('nezha') ? ` (log records, log body mode '${r.logBody}')` : '') +
      `. Every B/span figure divides by the spans as given.`,
  );
  if (read.warnings.length > 0) print(`Reader warnings: ${read.warnings.join('; ')}`);
  print(`\n### All batches\n`);
  print(sizeTable(r.sizes, 'all', r.floor.floorBytes));
  print(`\n×OTLP = OTLP bytes ÷ codec bytes; % of zstd-3 = codec bytes ÷ OTLP+zstd-3 bytes (lower is better).`);
  print(`\n### Second half only (the dictionary's evaluation set)\n`);
  print(sizeTable(r.sizes, 'second', undefined));
  print(
    `\nBatches ${r.sizes.map((s) => `N=${s.batchSpans}: ${s.half}..${s.batches - 1}`).join(', ')}. Tracezip here is the same stream's frames for these batches: ` +
      `its state was built on the first half, as the dictionary was trained on it.`,
  );
  const dicts = r.sizes.map((s) =>
    s.dict
      ? `N=${s.batchSpans}: ${fmtInt(s.dict.dictBytes)} B trained on ${fmtInt(s.dict.trainedOn)} batches (${fmt(s.dict.trainBytes / 1e6, 1)} MB) in ${fmt(s.dict.trainSeconds, 1)} s` +
        (s.dict.oversizeSamples > 0 ? `, ${s.dict.oversizeSamples} samples over 128 KiB (zstd --train reads their first 128 KiB)` : '')
      : `N=${s.batchSpans}: skipped (${s.dictSkipped})`,
  );
  print(`Dictionaries (\`zstd --train -r DIR -o DICT\`, default size): ${dicts.join('; ')}.`);
  print(
    `Tracezip epochs started (the first frame, then one per state rebuild, e.g. at the 32 MiB state cap), with / without zstd: ` +
      `${r.sizes.map((s) => `N=${s.batchSpans}: ${s.tracezipEpochs} / ${s.tracezipEpochsNone}`).join(', ')}.`,
  );

  print(`\n### What matters\n`);
  const rows = r.sizes.map((s) => {
    const z = s.all['otlp-zstd3']!;
    const tz = s.all['tracezip-stream']!;
    const dict = s.second['otlp-zstd3-dict'];
    return [
      `N=${s.batchSpans}`,
      pct(tz / z),
      dict === undefined ? 'n/a' : pct(s.second['tracezip-stream']! / dict),
      pct(s.all['simple-zstd3']! / z),
      pct(tz / s.all['simple-zstd3']!),
      fmt(tz / r.floor.floorBytes, 2),
    ];
  });
  print(
    table(
      ['batch', 'Tracezip+zstd ÷ OTLP+zstd-3', 'Tracezip+zstd ÷ OTLP+zstd-3+dict (2nd half)', 'simple+zstd ÷ OTLP+zstd-3', 'Tracezip+zstd ÷ simple+zstd', 'Tracezip+zstd ÷ floor'],
      rows,
    ),
  );
  print(`\nTargets (issue 4): Tracezip+zstd ≤ 60% of OTLP+zstd-3 at N=512 and ≤ 40% at N=16; below OTLP+zstd-3+dict at every N.`);

  print(`\n### Entropy floor (as research/anchors.md computes it)\n`);
  const f = r.floor;
  const per = (b: number) => fmt(b / read.spans, 3);
  const perD = (b: number) => fmt(b / f.distinctSpans, 3);
  print(
    table(
      ['part', 'bytes', 'B/span as given', 'B/distinct span'],
      [
        [`(a) ids: 8 × ${fmtInt(f.distinctSpans)} distinct spans + 16 × ${fmtInt(f.traces)} traces`, fmtInt(f.idBytes), per(f.idBytes), perD(f.idBytes)],
        ['(b) span times, zigzag-varint stream before zstd', fmtInt(f.timeVarintBytes), per(f.timeVarintBytes), perD(f.timeVarintBytes)],
        ['(b) span times, zstd -19', fmtInt(f.timeZstd19Bytes), per(f.timeZstd19Bytes), perD(f.timeZstd19Bytes)],
        ['**floor (a)+(b)**', fmtInt(f.floorBytes), `**${per(f.floorBytes)}**`, perD(f.floorBytes)],
        ['(info) (b) as two columns (Δstart, duration), each zstd -19', fmtInt(f.timeTwoColumnsZstd19Bytes), per(f.timeTwoColumnsZstd19Bytes), perD(f.timeTwoColumnsZstd19Bytes)],
      ],
    ),
  );
  print(`\nRepeated spans (same trace id, span id, start and end) are counted once in the floor. Not counted: parent links, names, attributes, events (cheap but not free), so the true floor is higher.`);
  if (read.events > 0)
    print(`Here the ${fmtInt(read.events)} span events (log records: most of this dataset's bytes) are outside the floor too, so the distance to it overstates what any codec could still gain.`);

  if (r.speed.length > 0) {
    print(`\n### Speed on one core and memory\n`);
    const srows: string[][] = [];
    const get = (res: PhaseResult[], p: string) => res.find((x) => x.phase === p);
    for (const { batchSpans, results } of r.speed) {
      for (const [label, e, d] of [
        ['Tracezip + zstd -1 stream (default)', 'tz-encode-zstd', 'tz-decode-zstd'],
        ['Tracezip, no zstd', 'tz-encode-none', 'tz-decode-none'],
        ['simple scheme', 'simple-encode', 'simple-decode'],
      ] as const) {
        const er = get(results, e);
        const dr = get(results, d);
        if (!er || !dr) continue;
        srows.push([
          label,
          `N=${batchSpans}`,
          fmtInt(er.spansPerSec),
          fmtInt(dr.spansPerSec),
          er.runsSec.map((x) => x.toFixed(2)).join(', '),
          dr.runsSec.map((x) => x.toFixed(2)).join(', '),
          `${fmtInt(er.maxRssMB)} / ${fmtInt(er.rssLoadedMB)}`,
          `${fmtInt(dr.maxRssMB)} / ${fmtInt(dr.rssLoadedMB)}`,
        ]);
      }
    }
    print(table(['codec', 'batch', 'encode spans/s', 'decode spans/s', 'encode runs (s)', 'decode runs (s)', 'encode peak / loaded RSS (MB)', 'decode peak / loaded RSS (MB)'], srows, 2));
    print(`\nEncode input: the batches as model objects in memory; decode input: the frames in memory. Loaded RSS = after loading the inputs and a GC, before the codec ran. Targets: encode ≥ 300,000 and decode ≥ 500,000 spans/s.`);
    const mrows: string[][] = [];
    for (const { batchSpans, results } of r.speed) {
      const m = get(results, 'tz-memory');
      if (!m) continue;
      mrows.push([
        `N=${batchSpans}`,
        fmtInt(m.maxRssMB),
        fmtInt(m.rssLoadedMB),
        fmt(m.extra!.maxEncoderStateMB!, 1),
        fmt(m.extra!.maxDecoderStateMB!, 1),
        String(m.extra!.epochs),
        fmtInt(m.spansPerSec),
      ]);
    }
    if (mrows.length > 0) {
      print(`\nStreaming encoder → decoder pair over the whole dataset, one batch in memory at a time (Tracezip + zstd -1 stream, the default):\n`);
      print(table(['batch', 'peak RSS (MB)', 'RSS before (MB)', 'max encoder state (MiB, its estimate)', 'max decoder state (MiB, its estimate)', 'epochs', 'spans/s (OTLP decode + encode + decode)'], mrows));
    }
  }
}

async function main(): Promise<void> {
  if (values.phase) {
    process.stdout.write(JSON.stringify(runPhase(values.phase, values.cache!)) + '\n');
    return;
  }
  const tStart = Date.now();
  const datasetsRoot = resolve(values.datasets ?? positionals[0] ?? process.env.SLIMTRACE_DATASETS ?? resolve(root, '../shared/datasets'));
  const batchSizes = values.batches!.split(',').map(Number);
  const speedSizes = values['no-speed'] ? [] : (values['speed-batches'] ?? values.batches!).split(',').map(Number);
  for (const n of [...batchSizes, ...speedSizes]) if (!Number.isInteger(n) || n < 1) throw new Error(`bad batch size ${n}`);
  for (const n of speedSizes) if (!batchSizes.includes(n)) throw new Error(`--speed-batches ${n} is not among --batches`);
  const logBody = values['log-body'] as LogBodyMode;
  if (logBody !== 'parsed' && logBody !== 'verbatim') throw new Error(`--log-body must be parsed or verbatim`);
  const only = values.only;
  if (only !== undefined && only !== 'trastrainer' && only !== 'nezha') throw new Error('--only must be trastrainer or nezha');
  const specs: DatasetSpec[] = (['trastrainer', 'nezha'] as const)
    .filter((k) => only === undefined || only === k)
    // trastrainer has no logs: its batches do not depend on --log-body (one cache for both).
    .map((k) => ({ name: `${k}-trainticket`, path: join(datasetsRoot, `${k}-trainticket`), logBody: k === 'nezha' ? logBody : 'parsed' }));

  const log = (s: string) => console.error(s);
  const lines: string[] = [];
  const print = (s: string) => {
    lines.push(s);
    console.log(s);
  };
  const pin = spawnSync('taskset', ['--version']).status === 0;
  const cpu = values.cpu!;
  if (!/^\d+$/.test(cpu)) throw new Error('--cpu must be a CPU number');
  const results: DatasetResult[] = [];
  const stageSeconds: Record<string, number> = {};
  const stage = (name: string, t: number) => (stageSeconds[name] = (stageSeconds[name] ?? 0) + (Date.now() - t) / 1000);

  for (const ds of specs) {
    log(`${ds.name}: ${ds.path}`);
    let t = Date.now();
    let read: ReadSummary;
    if (!batchSizes.every((n) => cacheValid(cacheFile(CACHE_DIR, ds, n), ds, n)) || !floorValid(floorFile(CACHE_DIR, ds), ds)) {
      read = await prepareDataset(ds, batchSizes, CACHE_DIR, log);
      stage(`prepare ${ds.name}`, t);
    } else {
      read = readFloor(CACHE_DIR, ds).read;
      log(`  using cached batches in ${CACHE_DIR}`);
    }
    const floor = readFloor(CACHE_DIR, ds).floor;
    const sizes: SizeResult[] = [];
    t = Date.now();
    for (const n of batchSizes) sizes.push(measureSizes(ds, n, speedSizes.includes(n), log));
    stage(`sizes ${ds.name}`, t);
    t = Date.now();
    const speed: DatasetResult['speed'] = [];
    for (const n of speedSizes) {
      const res: PhaseResult[] = [];
      for (const phase of SPEED_PHASES) {
        const frames = FRAMES_OF[phase];
        const input = frames ? framesFile(ds, n, frames) : cacheFile(CACHE_DIR, ds, n);
        const spans = sizes.find((s) => s.batchSpans === n)!.spans;
        const args = ['--max-old-space-size=8000', '--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--phase', phase, '--cache', input, '--spans', String(spans), '--runs', String(runs)];
        const child = spawnSync(pin ? 'taskset' : process.execPath, pin ? ['-c', cpu, process.execPath, ...args] : args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
        if (child.status !== 0)
          throw new Error(
            `phase ${phase} (N=${n}) failed${frames ? ' (it decodes the frames the size pass wrote: did the codec change during the run?)' : ''}:\n${child.stderr}`,
          );
        const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as PhaseResult;
        res.push(r);
        log(`  N=${n} ${phase.padEnd(15)} ${fmtInt(r.spansPerSec).padStart(10)} spans/s  runs ${r.runsSec.map((x) => x.toFixed(2)).join(', ')}  peak RSS ${fmtInt(r.maxRssMB)} MB`);
      }
      speed.push({ batchSpans: n, results: res });
      for (const c of ['simple', 'tz-none', 'tz-zstd']) rmSync(framesFile(ds, n, c), { force: true });
    }
    stage(`speed ${ds.name}`, t);
    results.push({ name: ds.name, path: ds.path, logBody, read, floor, sizes, speed });
  }

  print(`# bench/tracezip`);
  print(
    `\nNode ${process.version}; zstd-napi 0.0.13 (level ${ZSTD_LEVEL} for OTLP, the simple scheme and per-frame Tracezip; Tracezip's stream at its default, level 1, and at ${TZ_STREAM_COMPARE_LEVEL}); gzip = node:zlib level 6; ` +
      `OTLP bytes = @opentelemetry/otlp-transformer ProtobufTraceSerializer from toReadableSpans; ` +
      `batches cut as research/anchors.md's Method (duplicates kept). ` +
      (speedSizes.length > 0 ? (pin ? `Speed phases pinned to CPU ${cpu} with taskset; median of ${runs} runs after a warm-up.` : `taskset not found: speed phases were not pinned.`) : 'Speed not measured (--no-speed).'),
  );
  for (const r of results) report(r, print);
  print(`\n## Summary\n`);
  const sumRows: string[][] = [];
  for (const r of results)
    for (const s of r.sizes) {
      const sp = r.speed.find((x) => x.batchSpans === s.batchSpans)?.results;
      const rate = (p: string) => {
        const x = sp?.find((y) => y.phase === p);
        return x ? fmtInt(x.spansPerSec) : 'n/a';
      };
      const dict = s.second['otlp-zstd3-dict'];
      sumRows.push([
        r.name,
        `N=${s.batchSpans}`,
        fmt(s.all['tracezip-stream']! / s.spans),
        fmt(s.all['otlp-zstd3']! / s.spans),
        pct(s.all['tracezip-stream']! / s.all['otlp-zstd3']!),
        dict === undefined ? 'n/a' : pct(s.second['tracezip-stream']! / dict),
        pct(s.all['tracezip-stream']! / s.all['simple-zstd3']!),
        rate('tz-encode-zstd'),
        rate('tz-decode-zstd'),
      ]);
    }
  print(
    table(
      ['dataset', 'batch', 'Tracezip+zstd B/span', 'OTLP+zstd-3 B/span', 'Tracezip+zstd ÷ OTLP+zstd-3', '÷ OTLP+zstd-3+dict (2nd half)', '÷ simple+zstd', 'encode spans/s', 'decode spans/s'],
      sumRows,
      2,
    ),
  );
  const total = (Date.now() - tStart) / 1000;
  print(`\nWall time ${fmt(total, 1)} s (${Object.entries(stageSeconds).map(([k, v]) => `${k} ${fmt(v, 1)} s`).join(', ')}); peak RSS of this process ${fmtInt(maxRssMB())} MB.`);
  if (values.json) {
    writeFileSync(
      values.json,
      JSON.stringify({ node: process.version, zstdLevel: ZSTD_LEVEL, pinned: pin, runs, batchSizes, speedSizes, wallSeconds: total, stageSeconds, datasets: results, markdown: lines.join('\n') }, null, 2),
    );
    log(`wrote ${values.json}`);
  }
}

await main();

function timePasses(fn: () => void): number[] {
  return timeRuns(fn, runs);
}
