// Inputs of bench/tracezip.ts: a dataset read once, its spans batched the way research/anchors.md
// batches them (so its figures can be set beside the anchors'), both encodings of every batch kept
// under .bench-cache/ (reading a dataset and serializing it with the OpenTelemetry serializer is
// most of a cold run), and the data's entropy floor.
//
// Batching (anchors.md, Method): spans grouped by trace id, traces ordered by their earliest start
// (ties by trace id), the spans of a trace ordered by end time (the order an SDK span processor
// receives them) and kept together, the whole list cut into consecutive batches of exactly N spans
// (the last one shorter). Each batch groups its spans under their Resource and scope (SpanBatcher).
// Unlike anchors.md, duplicate rows are kept as the reader gives them: a lossless path carries
// what it was given.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { compress } from 'zstd-napi';
import { SpanBatcher, bytesToHex, type ResourceSpans, type ScopeSpans, type Span } from '../src/model/index.js';
import { encodeTracesData } from '../src/otlp/index.js';
import { openTraceSource, type LogBodyMode } from '../src/datasets/index.js';
import { toReadableSpans } from '../src/sdk/index.js';

/** Bump when what a cache file holds changes. */
export const PREP_VERSION = 1;

export interface DatasetSpec {
  /** Short name used in tables and cache files. */
  name: string;
  path: string;
  /** nezha: how log records become span events (the reader's default is 'parsed'). */
  logBody: LogBodyMode;
}

export interface ReadSummary {
  describe: string;
  /** Spans as the reader gave them (duplicates included); every figure is per such span. */
  spans: number;
  /** Spans whose row repeats an earlier row exactly (reader's count). */
  duplicateRows: number;
  traces: number;
  events: number;
  resources: number;
  warnings: string[];
  readSeconds: number;
}

export interface CacheHeader {
  version: number;
  dataset: string;
  logBody: LogBodyMode;
  batchSpans: number;
  batches: number;
  spans: number;
  read: ReadSummary;
}

/** One batch: the model as slimtrace's lossless OTLP encoding, and the OTel serializer's bytes. */
export interface CachedBatch {
  model: Uint8Array;
  otel: Uint8Array;
}

export interface FloorResult {
  /** Spans the floor is computed on: distinct (trace id, span id, start, end), as anchors.md drops repeats. */
  distinctSpans: number;
  traces: number;
  idBytes: number;
  timeVarintBytes: number;
  timeZstd19Bytes: number;
  /** (info) Δstart and duration as two streams, each zstd -19. */
  timeTwoColumnsZstd19Bytes: number;
  floorBytes: number;
}

export interface FloorCache {
  version: number;
  dataset: string;
  logBody: LogBodyMode;
  floor: FloorResult;
  read: ReadSummary;
}

export function cacheFile(cacheDir: string, ds: DatasetSpec, batchSpans: number): string {
  return `${cacheDir}/tracezip-${ds.name}-${ds.logBody}-n${batchSpans}-v${PREP_VERSION}.bin`;
}

export function floorFile(cacheDir: string, ds: DatasetSpec): string {
  return `${cacheDir}/tracezip-${ds.name}-${ds.logBody}-floor-v${PREP_VERSION}.json`;
}

function headerOf(path: string): CacheHeader | undefined {
  if (!existsSync(path) || !existsSync(`${path}.json`)) return undefined;
  try {
    return JSON.parse(readFileSync(`${path}.json`, 'utf8')) as CacheHeader;
  } catch {
    return undefined;
  }
}

/** True when the cache file exists and was made from this dataset with these settings. */
export function cacheValid(path: string, ds: DatasetSpec, batchSpans: number): boolean {
  const h = headerOf(path);
  return h !== undefined && h.version === PREP_VERSION && h.dataset === ds.path && h.logBody === ds.logBody && h.batchSpans === batchSpans;
}

export function floorValid(path: string, ds: DatasetSpec): boolean {
  if (!existsSync(path)) return false;
  try {
    const f = JSON.parse(readFileSync(path, 'utf8')) as FloorCache;
    return f.version === PREP_VERSION && f.dataset === ds.path && f.logBody === ds.logBody;
  } catch {
    return false;
  }
}

export function readCache(path: string): { header: CacheHeader; batches: CachedBatch[] } {
  const header = headerOf(path);
  if (!header) throw new Error(`${path}: no cache header`);
  const blob = readFileSync(path);
  const batches: CachedBatch[] = [];
  let p = 0;
  while (p < blob.length) {
    const m = blob.readUInt32LE(p);
    const model = blob.subarray(p + 4, p + 4 + m);
    p += 4 + m;
    const o = blob.readUInt32LE(p);
    const otel = blob.subarray(p + 4, p + 4 + o);
    p += 4 + o;
    batches.push({ model, otel });
  }
  if (batches.length !== header.batches) throw new Error(`${path}: ${batches.length} batches, header says ${header.batches}`);
  return { header, batches };
}

/** Appends records to a file through an 8 MiB buffer. */
class CacheWriter {
  private readonly fd: number;
  private buf = Buffer.allocUnsafe(8 << 20);
  private pos = 0;
  batches = 0;
  spans = 0;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    rmSync(`${path}.json`, { force: true }); // no header = no valid cache until finish()
    this.fd = openSync(`${path}.tmp`, 'w');
  }

  private write(b: Uint8Array): void {
    if (this.pos + b.length > this.buf.length) {
      writeSync(this.fd, this.buf, 0, this.pos);
      this.pos = 0;
      if (b.length > this.buf.length) {
        writeSync(this.fd, b);
        return;
      }
    }
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  record(model: Uint8Array, otel: Uint8Array, spans: number): void {
    const h = Buffer.allocUnsafe(4);
    h.writeUInt32LE(model.length);
    this.write(h);
    this.write(model);
    const g = Buffer.allocUnsafe(4);
    g.writeUInt32LE(otel.length);
    this.write(g);
    this.write(otel);
    this.batches++;
    this.spans += spans;
  }

  /** Closes the records file and writes the header beside it (the header last: it marks the cache complete). */
  finish(header: CacheHeader): void {
    writeSync(this.fd, this.buf, 0, this.pos);
    closeSync(this.fd);
    renameSync(`${this.path}.tmp`, this.path);
    writeFileAtomic(`${this.path}.json`, JSON.stringify(header, null, 2));
  }
}

interface Located {
  span: Span;
  rs: ResourceSpans;
  ss: ScopeSpans;
}

interface TraceGroup {
  id: string;
  start: bigint;
  spans: Located[];
}

// ---- entropy floor -----------------------------------------------------------------------------

class VarintStream {
  buf = Buffer.allocUnsafe(1 << 20);
  pos = 0;
  zigzag(v: bigint): void {
    let z = v >= 0n ? v << 1n : (-v << 1n) - 1n;
    if (this.pos + 12 > this.buf.length) {
      const next = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(next, 0, 0, this.pos);
      this.buf = next;
    }
    while (z >= 0x80n) {
      this.buf[this.pos++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    this.buf[this.pos++] = Number(z);
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/**
 * anchors.md's floor: (a) random ids, 8 B per span + 16 B per trace; (b) timestamps: traces in start
 * order, spans of a trace by start, per span zigzag-varint(start - previous start) then
 * zigzag-varint(end - start), the first span of a trace against the previous trace's start, one
 * stream compressed whole with zstd -19. Repeated spans are counted once (a repeat costs a codec
 * almost nothing, so counting it would raise the floor). Not counted, as in anchors.md: parent
 * links, names, events.
 */
function entropyFloor(traces: TraceGroup[]): FloorResult {
  const seen = new Set<string>();
  let distinct = 0;
  const one = new VarintStream();
  const dStart = new VarintStream();
  const dur = new VarintStream();
  let prevTraceStart = 0n;
  for (const t of traces) {
    const spans = t.spans
      .map((l) => l.span)
      .filter((s) => {
        const key = `${t.id}/${bytesToHex(s.spanId)}/${s.startTimeUnixNano}/${s.endTimeUnixNano}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      })
      .sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : a.startTimeUnixNano > b.startTimeUnixNano ? 1 : 0));
    distinct += spans.length;
    let prev = prevTraceStart;
    for (const s of spans) {
      one.zigzag(s.startTimeUnixNano - prev);
      one.zigzag(s.endTimeUnixNano - s.startTimeUnixNano);
      dStart.zigzag(s.startTimeUnixNano - prev);
      dur.zigzag(s.endTimeUnixNano - s.startTimeUnixNano);
      prev = s.startTimeUnixNano;
    }
    if (spans.length > 0) prevTraceStart = spans[0]!.startTimeUnixNano;
  }
  const idBytes = 8 * distinct + 16 * traces.length;
  const timeZstd19Bytes = compress(one.bytes(), { compressionLevel: 19 }).length;
  const two = compress(dStart.bytes(), { compressionLevel: 19 }).length + compress(dur.bytes(), { compressionLevel: 19 }).length;
  return {
    distinctSpans: distinct,
    traces: traces.length,
    idBytes,
    timeVarintBytes: one.pos,
    timeZstd19Bytes,
    timeTwoColumnsZstd19Bytes: two,
    floorBytes: idBytes + timeZstd19Bytes,
  };
}

// ---- preparation -------------------------------------------------------------------------------

/**
 * Reads the dataset and writes the cache files of the given batch sizes and the floor. Returns the
 * read summary. `log` reports progress.
 */
export async function prepareDataset(ds: DatasetSpec, batchSizes: number[], cacheDir: string, log: (s: string) => void): Promise<ReadSummary> {
  const t0 = Date.now();
  const source = await openTraceSource(ds.path, { logBody: ds.logBody });
  const all: Located[] = [];
  let events = 0;
  const resources = new Set<unknown>();
  for await (const batch of source.batches()) {
    for (const rs of batch.resourceSpans) {
      resources.add(rs.resource ?? rs);
      for (const ss of rs.scopeSpans)
        for (const span of ss.spans) {
          all.push({ span, rs, ss });
          events += span.events.length;
        }
    }
  }
  const readSeconds = (Date.now() - t0) / 1000;
  log(`  read ${all.length.toLocaleString('en-US')} spans in ${readSeconds.toFixed(1)} s (${source.describe()})`);

  const byTrace = new Map<string, TraceGroup>();
  for (const l of all) {
    const id = bytesToHex(l.span.traceId);
    let t = byTrace.get(id);
    if (!t) byTrace.set(id, (t = { id, start: l.span.startTimeUnixNano, spans: [] }));
    if (l.span.startTimeUnixNano < t.start) t.start = l.span.startTimeUnixNano;
    t.spans.push(l);
  }
  const traces = [...byTrace.values()].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const t of traces)
    t.spans.sort((a, b) => (a.span.endTimeUnixNano < b.span.endTimeUnixNano ? -1 : a.span.endTimeUnixNano > b.span.endTimeUnixNano ? 1 : 0));

  const read: ReadSummary = {
    describe: source.describe(),
    spans: all.length,
    duplicateRows: source.stats.duplicateRows,
    traces: traces.length,
    events,
    resources: resources.size,
    warnings: source.warnings.summary(),
    readSeconds,
  };

  const floorPath = floorFile(cacheDir, ds);
  if (!floorValid(floorPath, ds)) {
    const t1 = Date.now();
    const floor = entropyFloor(traces);
    mkdirSync(cacheDir, { recursive: true });
    const fc: FloorCache = { version: PREP_VERSION, dataset: ds.path, logBody: ds.logBody, floor, read };
    writeFileAtomic(floorPath, JSON.stringify(fc, null, 2));
    log(`  entropy floor in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  }

  for (const n of batchSizes) {
    const path = cacheFile(cacheDir, ds, n);
    if (cacheValid(path, ds, n)) continue;
    const t1 = Date.now();
    const w = new CacheWriter(path);
    const batcher = new SpanBatcher(n);
    let spansInBatch = 0;
    const emit = (batch: ReturnType<SpanBatcher['flush']>): void => {
      if (!batch) return;
      const otel = ProtobufTraceSerializer.serializeRequest(toReadableSpans(batch));
      if (!otel) throw new Error('the OpenTelemetry serializer returned nothing');
      w.record(encodeTracesData(batch), otel, spansInBatch);
      spansInBatch = 0;
    };
    for (const t of traces)
      for (const l of t.spans) {
        spansInBatch++;
        emit(batcher.push(l.span, l.rs, l.ss));
      }
    emit(batcher.flush());
    if (w.spans !== all.length) throw new Error(`batching lost spans: ${w.spans} != ${all.length}`);
    w.finish({ version: PREP_VERSION, dataset: ds.path, logBody: ds.logBody, batchSpans: n, batches: w.batches, spans: w.spans, read });
    log(`  N=${n}: ${w.batches.toLocaleString('en-US')} batches cached in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  }
  return read;
}

function writeFileAtomic(path: string, text: string): void {
  const fd = openSync(`${path}.tmp`, 'w');
  writeSync(fd, text);
  closeSync(fd);
  renameSync(`${path}.tmp`, path);
}

export function readFloor(cacheDir: string, ds: DatasetSpec): FloorCache {
  return JSON.parse(readFileSync(floorFile(cacheDir, ds), 'utf8')) as FloorCache;
}
