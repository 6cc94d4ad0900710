// Shared helpers for the Tracezip tests: frame surgery (CRC-32C patching, re-framing a payload with
// a rewritten header), decoding with typed-outcome classification, message-level assertions, and
// small builders for hand-made traces. The frame layout follows docs/tracezip-format.md and
// src/tracezip/format.ts: magic "TZ", version, flags, u64le stream id, varints epoch, seq,
// payload length and body length, the body, then CRC-32C (little-endian) over everything before it.
import assert from 'node:assert/strict';
import { crc32c } from '../../src/tracezip/crc32c.js';
import { compressPayload, decompressPayload } from '../../src/tracezip/compression.js';
import {
  FORMAT_VERSION,
  TracezipDecoder,
  TracezipEncoder,
  TracezipFrameError,
  readFrameHeader,
  type Compression,
  type DecodeResult,
  type FrameHeader,
  type TracezipEncoderOptions,
} from '../../src/tracezip/index.js';
import { decodeTracesData, encodeTracesData } from '../../src/otlp/index.js';
import type { Arbitrary } from './arbitrary.js';
import { AnyValueWithUnknownFields, ArrayValue, KeyValueList, SpanBatcher, diffTracesData, makeSpan, type Span, type SpanEvent, type KeyValue, type AnyValue, type TracesData } from '../../src/model/index.js';

// ------------------------------------------------------------------------------------------------
// Frame surgery
// ------------------------------------------------------------------------------------------------

/** A copy of `frame` whose last four bytes are the CRC-32C (LE) of everything before them. */
export function patchCrc(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(frame);
  if (out.length < 4) return out;
  const crc = crc32c(out, 0, out.length - 4);
  new DataView(out.buffer, out.byteOffset, out.length).setUint32(out.length - 4, crc, true);
  return out;
}

/** `content` followed by its CRC-32C: makes any byte string pass the checksum. */
export function appendCrc(content: Uint8Array): Uint8Array {
  const out = new Uint8Array(content.length + 4);
  out.set(content);
  new DataView(out.buffer).setUint32(content.length, crc32c(content), true);
  return out;
}

function uvarBytes(v: number | bigint): number[] {
  let x = BigInt(v);
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}

const COMPRESSION_CODE: Record<string, number> = { none: 0, zstd: 1, gzip: 2, 'zstd-stream': 3 };

export interface FrameFields {
  compression: Compression;
  epochStart: boolean;
  stateless: boolean;
  streamId: bigint;
  epoch: number;
  seq: number;
  /** Raw flags byte; overrides compression/epochStart/stateless when given. */
  flags?: number;
  version?: number;
  /** Declared lengths; default: the true ones. */
  payloadLength?: number;
  bodyLength?: number;
}

/** Writes a frame around an already compressed body (lengths true unless overridden), with a valid CRC. */
export function writeRawFrame(f: FrameFields, body: Uint8Array, payloadLength: number): Uint8Array {
  const flags = f.flags ?? (COMPRESSION_CODE[f.compression]! | (f.epochStart ? 0x04 : 0) | (f.stateless ? 0x08 : 0));
  const head: number[] = [0x54, 0x5a, f.version ?? FORMAT_VERSION, flags];
  const id = new Uint8Array(8);
  new DataView(id.buffer).setBigUint64(0, BigInt.asUintN(64, f.streamId), true);
  head.push(...id, ...uvarBytes(f.epoch), ...uvarBytes(f.seq), ...uvarBytes(f.payloadLength ?? payloadLength), ...uvarBytes(f.bodyLength ?? body.length));
  const content = new Uint8Array(head.length + body.length);
  content.set(head);
  content.set(body, head.length);
  return appendCrc(content);
}

/** Header fields and the uncompressed payload of a valid frame. */
export function openFrame(frame: Uint8Array): { header: FrameHeader; fields: FrameFields; payload: Uint8Array } {
  const header = readFrameHeader(frame);
  const body = frame.subarray(header.bodyStart, header.bodyStart + header.bodyLength);
  const payload = new Uint8Array(decompressPayload(body, header.compression, header.payloadLength));
  const fields: FrameFields = {
    compression: header.compression,
    epochStart: header.epochStart,
    stateless: header.stateless,
    streamId: header.streamId,
    epoch: header.epoch,
    seq: header.seq,
  };
  return { header, fields, payload };
}

/** A valid frame (true lengths, compressed as `fields.compression` says, valid CRC) around `payload`. */
export function reframe(fields: FrameFields, payload: Uint8Array): Uint8Array {
  const body = compressPayload(payload, fields.compression, 3);
  return writeRawFrame(fields, new Uint8Array(body), payload.length);
}

/** `payload` compressed as a frame body of that method. */
export function compressBody(payload: Uint8Array, compression: Compression): Uint8Array {
  return new Uint8Array(compressPayload(payload, compression, 3));
}

/** A valid frame with some header fields changed, its body kept byte for byte (any compression). */
export function rewriteHeaderKeepBody(frame: Uint8Array, changes: Partial<FrameFields>): Uint8Array {
  const h = readFrameHeader(frame);
  const fields: FrameFields = { compression: h.compression, epochStart: h.epochStart, stateless: h.stateless, streamId: h.streamId, epoch: h.epoch, seq: h.seq };
  return writeRawFrame({ ...fields, ...changes }, frame.subarray(h.bodyStart, h.bodyStart + h.bodyLength), h.payloadLength);
}

/** Re-frames a valid frame with some header fields changed (payload unchanged). */
export function rewriteHeader(frame: Uint8Array, changes: Partial<FrameFields>): Uint8Array {
  const { fields, payload } = openFrame(frame);
  return reframe({ ...fields, ...changes }, payload);
}

// ------------------------------------------------------------------------------------------------
// Outcomes
// ------------------------------------------------------------------------------------------------

export const ERROR_KINDS = new Set(['magic', 'version', 'checksum', 'truncated', 'malformed', 'limit', 'compression']);
export const RESYNC_REASONS = new Set(['unknown-stream', 'gap', 'stale-epoch', 'epoch-mismatch', 'unknown-reference', 'state-limit']);

export type Outcome =
  | { kind: 'error'; error: TracezipFrameError }
  | { kind: 'data'; data: TracesData; result: DecodeResult }
  | { kind: 'duplicate'; result: DecodeResult }
  | { kind: 'resync-needed'; reason: string; result: DecodeResult }
  | { kind: 'exception'; error: unknown };

/**
 * Decodes one frame and classifies the outcome. Anything thrown that is not a TracezipFrameError of
 * a known kind, and any result that is not one of the documented shapes, is an 'exception'.
 */
export function decodeOutcome(decoder: TracezipDecoder, frame: Uint8Array): Outcome {
  let result: DecodeResult;
  try {
    result = decoder.decode(frame);
  } catch (e) {
    if (e instanceof TracezipFrameError && ERROR_KINDS.has(e.kind)) return { kind: 'error', error: e };
    return { kind: 'exception', error: e };
  }
  if (result === null || typeof result !== 'object') return { kind: 'exception', error: new Error(`decode returned ${String(result)}`) };
  if (typeof result.streamId !== 'bigint' || !Number.isSafeInteger(result.epoch) || !Number.isSafeInteger(result.seq)) {
    return { kind: 'exception', error: new Error(`result without stream id / epoch / seq: ${JSON.stringify(result, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}`) };
  }
  switch (result.kind) {
    case 'data':
      return { kind: 'data', data: result.data, result };
    case 'duplicate':
      return { kind: 'duplicate', result };
    case 'resync-needed':
      if (!RESYNC_REASONS.has(result.reason)) return { kind: 'exception', error: new Error(`unknown resync reason ${String(result.reason)}`) };
      return { kind: 'resync-needed', reason: result.reason, result };
    default:
      return { kind: 'exception', error: new Error(`unknown result kind ${String((result as { kind: unknown }).kind)}`) };
  }
}

export function describeOutcome(o: Outcome): string {
  switch (o.kind) {
    case 'error':
      return `TracezipFrameError(${o.error.kind}): ${o.error.message}`;
    case 'exception':
      return `exception ${o.error instanceof Error ? `${o.error.constructor.name}: ${o.error.message}\n${o.error.stack ?? ''}` : String(o.error)}`;
    case 'resync-needed':
      return `resync-needed(${o.reason})`;
    default:
      return o.kind;
  }
}

/** A short label for counting outcomes: "error:checksum", "resync:gap", "data", "duplicate". */
export function outcomeKey(o: Outcome): string {
  if (o.kind === 'error') return `error:${o.error.kind}`;
  if (o.kind === 'resync-needed') return `resync:${o.reason}`;
  return o.kind;
}

// ------------------------------------------------------------------------------------------------
// Assertions
// ------------------------------------------------------------------------------------------------

/** Asserts two messages are the same protobuf message, naming the first difference. */
export function assertSameData(actual: TracesData, expected: TracesData, label: string): void {
  const d = diffTracesData(actual, expected);
  if (d !== undefined) assert.fail(`${label}: decoded message differs from the original; first difference (decoded != original): ${d}`);
}

/** Decodes `frame` and asserts it gives exactly `expected`. */
export function expectData(decoder: TracezipDecoder, frame: Uint8Array, expected: TracesData, label: string): DecodeResult & { kind: 'data' } {
  const o = decodeOutcome(decoder, frame);
  if (o.kind !== 'data') assert.fail(`${label}: expected data, got ${describeOutcome(o)}`);
  assertSameData(o.data, expected, label);
  return o.result as DecodeResult & { kind: 'data' };
}

/** Decodes `frame` and asserts a resync-needed result (with `reason` when given). */
export function expectResync(decoder: TracezipDecoder, frame: Uint8Array, reason: string | readonly string[] | undefined, label: string): string {
  const o = decodeOutcome(decoder, frame);
  if (o.kind !== 'resync-needed') assert.fail(`${label}: expected resync-needed${reason ? ` (${String(reason)})` : ''}, got ${describeOutcome(o)}`);
  if (typeof reason === 'string') assert.equal(o.reason, reason, `${label}: resync reason`);
  else if (reason) assert.ok(reason.includes(o.reason), `${label}: resync reason ${o.reason} not among ${reason.join(', ')}`);
  return o.reason;
}

/**
 * A message that an accepted-but-altered frame decoded to must still be well-formed: the OTLP
 * encoder takes it, and it survives OTLP and Tracezip round trips unchanged. Returns a problem, or
 * undefined.
 */
export function wellFormedProblem(data: TracesData): string | undefined {
  const range = rangeProblem(data);
  if (range) return range;
  let otlp: Uint8Array;
  try {
    otlp = encodeTracesData(data);
  } catch (e) {
    return `the OTLP encoder rejects it: ${(e as Error).message}`;
  }
  let back: TracesData;
  try {
    back = decodeTracesData(otlp);
  } catch (e) {
    return `its OTLP encoding does not decode: ${(e as Error).message}`;
  }
  const d1 = diffTracesData(back, data);
  if (d1) return `not representable in OTLP (changes through an OTLP round trip): ${d1}`;
  try {
    const enc = new TracezipEncoder({ compression: 'none', streamId: 1n });
    const r = new TracezipDecoder().decode(enc.encode(data));
    if (r.kind !== 'data') return `re-encoded with Tracezip, it decodes as ${r.kind}`;
    const d2 = diffTracesData(r.data, data);
    if (d2) return `a Tracezip round trip of it changes it: ${d2}`;
  } catch (e) {
    return `a Tracezip round trip of it throws: ${(e as Error).message}`;
  }
  return undefined;
}

const INT32 = (v: number): boolean => Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff;
const UINT32 = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
const UINT64 = (v: bigint): boolean => typeof v === 'bigint' && v >= 0n && v < 1n << 64n;
/** No lone surrogates (String.prototype.isWellFormed is not in the ES2022 lib this repo compiles against). */
const STR = (v: string): boolean => typeof v === 'string' && !/\p{Surrogate}/u.test(v);

function valueProblem(v: AnyValue, path: string): string | undefined {
  if (v === null) return undefined;
  switch (typeof v) {
    case 'string':
      return STR(v) ? undefined : `${path}: string is not well-formed Unicode`;
    case 'bigint':
      return v >= -(1n << 63n) && v < 1n << 63n ? undefined : `${path}: int ${v} beyond int64`;
    case 'boolean':
    case 'number':
      return undefined;
    default:
      break;
  }
  if (v instanceof Uint8Array) return undefined;
  if (v instanceof ArrayValue) {
    for (const [i, x] of v.values.entries()) {
      const p = valueProblem(x, `${path}[${i}]`);
      if (p) return p;
    }
    return undefined;
  }
  if (v instanceof KeyValueList) return kvsProblem(v.values, path);
  if (v instanceof AnyValueWithUnknownFields) return valueProblem(v.value, path);
  return `${path}: not an AnyValue (${Object.prototype.toString.call(v)})`;
}

function kvsProblem(kvs: readonly KeyValue[], path: string): string | undefined {
  for (const [i, x] of kvs.entries()) {
    if (!STR(x.key)) return `${path}[${i}].key is not well-formed Unicode`;
    const p = valueProblem(x.value, `${path}[${i}](${x.key})`);
    if (p) return p;
  }
  return undefined;
}

/** Field values outside what the proto types can hold (the OTLP encoder may not notice them all). */
export function rangeProblem(data: TracesData): string | undefined {
  for (const [r, rs] of data.resourceSpans.entries()) {
    if (!STR(rs.schemaUrl)) return `resourceSpans[${r}].schemaUrl`;
    if (rs.resource) {
      if (!UINT32(rs.resource.droppedAttributesCount)) return `resourceSpans[${r}].resource.droppedAttributesCount ${rs.resource.droppedAttributesCount}`;
      const p = kvsProblem(rs.resource.attributes, `resourceSpans[${r}].resource.attributes`);
      if (p) return p;
    }
    for (const [k, ss] of rs.scopeSpans.entries()) {
      const at = `resourceSpans[${r}].scopeSpans[${k}]`;
      if (ss.scope) {
        if (!STR(ss.scope.name) || !STR(ss.scope.version) || !UINT32(ss.scope.droppedAttributesCount)) return `${at}.scope`;
        const p = kvsProblem(ss.scope.attributes, `${at}.scope.attributes`);
        if (p) return p;
      }
      for (const [i, s] of ss.spans.entries()) {
        const sp = `${at}.spans[${i}]`;
        if (!(s.traceId instanceof Uint8Array) || !(s.spanId instanceof Uint8Array) || !(s.parentSpanId instanceof Uint8Array)) return `${sp}: an id is not bytes`;
        if (!UINT64(s.startTimeUnixNano) || !UINT64(s.endTimeUnixNano)) return `${sp}: time out of uint64 range`;
        if (!INT32(s.kind)) return `${sp}.kind ${s.kind} is not an int32`;
        if (!UINT32(s.flags)) return `${sp}.flags ${s.flags} is not a uint32`;
        if (!UINT32(s.droppedAttributesCount) || !UINT32(s.droppedEventsCount) || !UINT32(s.droppedLinksCount)) return `${sp}: a dropped count is not a uint32`;
        if (!STR(s.name) || !STR(s.traceState)) return `${sp}: name or trace state not well-formed Unicode`;
        if (s.status && (!INT32(s.status.code) || !STR(s.status.message))) return `${sp}.status.code ${s.status.code} is not an int32 (or the message is not well-formed)`;
        const p = kvsProblem(s.attributes, `${sp}.attributes`);
        if (p) return p;
        for (const [j, e] of s.events.entries()) {
          if (!UINT64(e.timeUnixNano) || !UINT32(e.droppedAttributesCount) || !STR(e.name)) return `${sp}.events[${j}]: out of range`;
          const q = kvsProblem(e.attributes, `${sp}.events[${j}].attributes`);
          if (q) return q;
        }
      }
    }
  }
  return undefined;
}

/**
 * Encodes `batches` with one encoder and decodes each frame with one decoder, asserting every frame
 * decodes to exactly its batch. Returns the frames.
 */
export function streamRoundTrip(
  batches: readonly TracesData[],
  label: string,
  options: TracezipEncoderOptions = {},
  hooks: { decoder?: TracezipDecoder; beforeEncode?: (enc: TracezipEncoder, i: number) => void; encoder?: TracezipEncoder } = {},
): Uint8Array[] {
  const enc = hooks.encoder ?? new TracezipEncoder({ streamId: 0x1234n, ...options });
  const dec = hooks.decoder ?? new TracezipDecoder();
  const frames: Uint8Array[] = [];
  for (let i = 0; i < batches.length; i++) {
    hooks.beforeEncode?.(enc, i);
    const frame = enc.encode(batches[i]!);
    frames.push(frame);
    expectData(dec, frame, batches[i]!, `${label}, frame ${i}`);
  }
  return frames;
}

// ------------------------------------------------------------------------------------------------
// Builders
// ------------------------------------------------------------------------------------------------

/** A deterministic 16-byte trace id from a number. */
export function tid(n: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0x7a000000 | (n >>> 24), false);
  v.setUint32(8, n >>> 0, false);
  v.setUint32(12, Math.imul(n, 0x9e3779b1) >>> 0, false);
  return b;
}

/** A deterministic 8-byte span id from a number. */
export function sid(n: number): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0x5a000000 | (n >>> 24), false);
  v.setUint32(4, Math.imul(n + 1, 0x85ebca6b) >>> 0, false);
  b[7] = n & 0xff;
  return b;
}

export const T0 = 1_750_000_000_000_000_000n;

export function kv(key: string, value: AnyValue): KeyValue {
  return { key, value, unknownFields: undefined };
}

export function ev(name: string, time: bigint, attributes: KeyValue[] = []): SpanEvent {
  return { timeUnixNano: time, name, attributes, droppedAttributesCount: 0, unknownFields: undefined };
}

/** A span with a 16-byte trace id and 8-byte ids (the structured, non-raw form). */
export function sp(fields: Partial<Span> & { trace: number; id: number; parent?: number }): Span {
  const { trace, id, parent, ...rest } = fields;
  return makeSpan({
    traceId: tid(trace),
    spanId: sid(id),
    parentSpanId: parent === undefined ? new Uint8Array(0) : sid(parent),
    name: 'op',
    kind: 1,
    flags: 0x101,
    startTimeUnixNano: T0,
    endTimeUnixNano: T0 + 1000n,
    ...rest,
  });
}

/** One resource, one scope, these spans. */
export function batchOf(spans: Span[], service = 'svc'): TracesData {
  return {
    resourceSpans: [
      {
        resource: { attributes: [kv('service.name', service)], droppedAttributesCount: 0, entityRefs: [], unknownFields: undefined },
        scopeSpans: [{ scope: { name: 'scope', version: '1', attributes: [], droppedAttributesCount: 0, unknownFields: undefined }, spans, schemaUrl: '', unknownFields: undefined }],
        schemaUrl: '',
        unknownFields: undefined,
      },
    ],
    unknownFields: undefined,
  };
}

/** All spans of a message, in message order. */
export function spansOf(data: TracesData): Span[] {
  const out: Span[] = [];
  for (const rs of data.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) out.push(s);
  return out;
}

/** Deep copy through OTLP (a message equal to the input sharing no objects with it). */
export function cloneData(data: TracesData): TracesData {
  return decodeTracesData(encodeTracesData(data), { copyBytes: true });
}

/** Fisher-Yates shuffle with a supplied random source. */
export function shuffled<T>(items: readonly T[], rand: (n: number) => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = rand(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Re-cuts a stream into batches of random sizes in [min, max] spans (seeded by `rand`), spans in
 * order, envelopes regrouped per batch the way SpanBatcher does: traces straddle batch boundaries.
 */
export function recut(batches: Iterable<TracesData>, rand: (n: number) => number, min: number, max: number): TracesData[] {
  const out: TracesData[] = [];
  const size = (): number => min + rand(max - min + 1);
  let batcher = new SpanBatcher(size());
  for (const data of batches)
    for (const rs of data.resourceSpans)
      for (const ss of rs.scopeSpans)
        for (const span of ss.spans) {
          const full = batcher.push(span, rs, ss);
          if (full) {
            out.push(full);
            batcher = new SpanBatcher(size());
          }
        }
  const rest = batcher.flush();
  if (rest) out.push(rest);
  return out;
}

/**
 * Clears the parent of every span that closes a cycle of parent references within the message, as
 * the encoder resolves them (per trace, a span id names the last span with that id). Used to keep
 * broad property tests about other things independent of the cycle bug, which has its own tests.
 * Returns how many parents were cleared.
 */
export function breakParentCycles(data: TracesData): number {
  const spans = spansOf(data);
  const key = (t: Uint8Array, s: Uint8Array): string => `${Buffer.from(t).toString('hex')}/${Buffer.from(s).toString('hex')}`;
  const last = new Map<string, number>();
  spans.forEach((s, i) => last.set(key(s.traceId, s.spanId), i));
  let cleared = 0;
  const state = new Uint8Array(spans.length); // 0 new, 1 on the current path, 2 done
  for (let i0 = 0; i0 < spans.length; i0++) {
    const path: number[] = [];
    let i: number | undefined = i0;
    while (i !== undefined && state[i] === 0) {
      state[i] = 1;
      path.push(i);
      const s: Span = spans[i]!;
      if (s.parentSpanId.length === 0) break;
      const p = last.get(key(s.traceId, s.parentSpanId));
      if (p !== undefined && state[p] === 1) {
        s.parentSpanId = new Uint8Array(0);
        cleared++;
        break;
      }
      i = p;
    }
    for (const k of path) state[k] = 2;
  }
  return cleared;
}

/**
 * An arbitrary message as the Tracezip property tests use it: times masked to 63 bits (a bigint the
 * codec's zigzag time deltas cover) and parent cycles broken (they have their own tests).
 */
export function tracezipArbitrary(gen: Arbitrary): TracesData {
  const d = gen.tracesData();
  const m = (1n << 63n) - 1n;
  for (const s of spansOf(d)) {
    s.startTimeUnixNano &= m;
    s.endTimeUnixNano &= m;
    for (const e of s.events) e.timeUnixNano &= m;
  }
  breakParentCycles(d);
  return d;
}
