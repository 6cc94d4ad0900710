// The "simple scheme" Tracezip is measured against: the seed description's per-batch compression
// (a string dictionary for strings seen at least twice, timestamps as deltas to a batch base, an
// attribute dictionary), made a real lossless codec so that the Span Retrieval Tree's gain over it
// is measured (bench/tracezip.ts), not assumed. Every batch is self-contained: no state crosses
// batches, which is exactly what the SRT's stream state adds.
//
// Format (version 1; varint = unsigned LEB128, zigzag = signed via zigzag then varint):
//   u8 version
//   strings:  varint n, n x (varint byte length, UTF-8)      strings seen >= 2 times in the batch
//   pairs:    varint n, n x (strRef key, Value)              key/primitive-value pairs seen >= 2 times
//   varint    base time (u64: the smallest span start of the batch, 0 without spans)
//   TracesData, depth first (below); trailing bytes are an error.
// strRef: varint r; r odd = strings[r >> 1]; r even = inline string of r >> 1 UTF-8 bytes.
// Each message starts with a varint of presence bits, so defaults cost nothing and every field the
// model has (unknown fields as their raw bytes, dropped counts, trace state, links, entity refs,
// nested AnyValues) is carried exactly. Span: bits, trace/span/parent id (varint length + raw
// bytes), flags, strRef name, zigzag kind, zigzag (start - base), zigzag (end - start), attributes,
// then what the bits announce. Event times are zigzag deltas to their span's start. Attributes:
// varint n, then per attribute varint c: 0 = inline (strRef key, Value), 1 = inline with unknown
// fields, c >= 2 = pairs[c - 2]. Value: u8 tag (null, string, false, true, int64 zigzag, double
// 8 B LE, bytes, array, kvlist, each composite kind also "with unknown fields") then its payload.
//
// Decoding is bounds-checked: corrupt or truncated input throws InputError naming the byte offset;
// every count is checked against the bytes left (no allocation or loop larger than the input) and
// nesting is capped at MAX_VALUE_DEPTH. Ids, bytes values and unknown fields of the result are
// views into the input (like decodeTracesData), so keep the input unchanged while the result lives.
import { isUtf8 } from 'node:buffer';
import {
  AnyValueWithUnknownFields,
  ArrayValue,
  InputError,
  KeyValueList,
  type AnyValue,
  type AnyValuePrimitive,
  type EntityRef,
  type InstrumentationScope,
  type KeyValue,
  type Resource,
  type ResourceSpans,
  type ScopeSpans,
  type Span,
  type SpanEvent,
  type SpanLink,
  type Status,
  type TracesData,
} from '../model/index.js';
import { utf8Length } from '../otlp/wire.js';

export const SIMPLE_BATCH_VERSION = 1;
/** Nesting limit of AnyValue arrays/kvlists (the OTLP decoder's MAX_DEPTH). */
export const MAX_VALUE_DEPTH = 100;

const TAG_NULL = 0;
const TAG_STRING = 1;
const TAG_FALSE = 2;
const TAG_TRUE = 3;
const TAG_INT = 4;
const TAG_DOUBLE = 5;
const TAG_BYTES = 6;
const TAG_ARRAY = 7;
const TAG_ARRAY_U = 8;
const TAG_KVLIST = 9;
const TAG_KVLIST_U = 10;
const TAG_WITH_UNKNOWN = 11;

const U64_LIMIT = 1n << 64n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const FAST = 2 ** 52;

interface FastBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
  utf8Write(s: string, offset: number, length: number): number;
}

const hasUnknown = (u: Uint8Array | undefined): u is Uint8Array => u !== undefined && u.length > 0;

// ------------------------------------------------------------------------------------------------
// Encoder
// ------------------------------------------------------------------------------------------------

/** A key/value pair eligible for the pair dictionary (no unknown fields, primitive value). */
interface Pair {
  key: string;
  value: AnyValuePrimitive | null;
  count: number;
  /** Index in the pair dictionary, -1 when written inline. */
  index: number;
}

interface PairsOfKey {
  str: Map<string, Pair> | undefined;
  other: Map<string, Pair> | undefined;
}

function primitiveRepr(v: AnyValuePrimitive | null): string {
  if (v === null) return 'n';
  switch (typeof v) {
    case 'boolean':
      return v ? 't' : 'f';
    case 'bigint':
      return `i${v}`;
    case 'number':
      // String(number) is exact and unique for doubles except -0; every NaN is one value in the model.
      return Object.is(v, -0) ? 'd-0' : `d${v}`;
    default:
      return `b${Buffer.from((v as Uint8Array).buffer, (v as Uint8Array).byteOffset, (v as Uint8Array).byteLength).toString('hex')}`;
  }
}

function isPrimitive(v: AnyValue): v is AnyValuePrimitive | null {
  return !(v instanceof ArrayValue || v instanceof KeyValueList || v instanceof AnyValueWithUnknownFields);
}

/** First pass: counts strings and key/value pairs as they will be written. */
class Counter {
  readonly strings = new Map<string, number>();
  readonly pairsByKey = new Map<string, PairsOfKey>();
  /** The Pair (or undefined for an ineligible one) of every top-level attribute, in write order. */
  readonly attrPairs: (Pair | undefined)[] = [];
  distinctPairs: Pair[] = [];
  minStart: bigint | undefined = undefined;

  str(s: string): void {
    if (s.length === 0) return;
    const m = this.strings;
    m.set(s, (m.get(s) ?? 0) + 1);
  }

  attrs(list: readonly KeyValue[]): void {
    for (let i = 0; i < list.length; i++) {
      const kv = list[i]!;
      const v = kv.value;
      if (hasUnknown(kv.unknownFields) || !isPrimitive(v)) {
        this.attrPairs.push(undefined);
        this.str(kv.key);
        this.value(v, 0);
        continue;
      }
      let byKey = this.pairsByKey.get(kv.key);
      if (byKey === undefined) this.pairsByKey.set(kv.key, (byKey = { str: undefined, other: undefined }));
      let pair: Pair | undefined;
      if (typeof v === 'string') {
        const m = (byKey.str ??= new Map());
        pair = m.get(v);
        if (pair === undefined) m.set(v, (pair = this.newPair(kv.key, v)));
      } else {
        const m = (byKey.other ??= new Map());
        const repr = primitiveRepr(v);
        pair = m.get(repr);
        if (pair === undefined) m.set(repr, (pair = this.newPair(kv.key, v)));
      }
      pair.count++;
      this.attrPairs.push(pair);
    }
  }

  private newPair(key: string, value: AnyValuePrimitive | null): Pair {
    const p: Pair = { key, value, count: 0, index: -1 };
    this.distinctPairs.push(p);
    return p;
  }

  /** Counts the strings of a value; refuses nesting the decoder would refuse. */
  value(v: AnyValue, depth: number): void {
    if (typeof v === 'string') this.str(v);
    else if (v instanceof AnyValueWithUnknownFields) this.value(v.value, depth);
    else if (v instanceof ArrayValue || v instanceof KeyValueList) {
      if (depth >= MAX_VALUE_DEPTH) throw new InputError(`simple batch: AnyValue arrays/kvlists nested deeper than ${MAX_VALUE_DEPTH} levels`);
      if (v instanceof ArrayValue) for (const x of v.values) this.value(x, depth + 1);
      else
        for (const kv of v.values) {
          this.str(kv.key);
          this.value(kv.value, depth + 1);
        }
    }
  }

  tracesData(data: TracesData): void {
    for (const rs of data.resourceSpans) {
      if (rs.resource) {
        this.attrs(rs.resource.attributes);
        for (const e of rs.resource.entityRefs) {
          this.str(e.schemaUrl);
          this.str(e.type);
          for (const k of e.idKeys) this.str(k);
          for (const k of e.descriptionKeys) this.str(k);
        }
      }
      for (const ss of rs.scopeSpans) {
        if (ss.scope) {
          this.str(ss.scope.name);
          this.str(ss.scope.version);
          this.attrs(ss.scope.attributes);
        }
        for (const span of ss.spans) this.span(span);
        this.str(ss.schemaUrl);
      }
      this.str(rs.schemaUrl);
    }
  }

  span(span: Span): void {
    if (this.minStart === undefined || span.startTimeUnixNano < this.minStart) this.minStart = span.startTimeUnixNano;
    this.str(span.name);
    this.attrs(span.attributes);
    this.str(span.traceState);
    if (span.status) this.str(span.status.message);
    for (const e of span.events) {
      this.str(e.name);
      this.attrs(e.attributes);
    }
    for (const l of span.links) {
      this.attrs(l.attributes);
      this.str(l.traceState);
    }
  }

  /** The string dictionary: strings written at least twice (each distinct pair is written once). */
  finish(): { strings: string[]; pairs: Pair[] } {
    const pairs: Pair[] = [];
    for (const p of this.distinctPairs) {
      if (p.count >= 2) {
        p.index = pairs.length;
        pairs.push(p);
      }
      this.str(p.key);
      if (typeof p.value === 'string') this.str(p.value);
    }
    const strings: string[] = [];
    for (const [s, n] of this.strings) if (n >= 2) strings.push(s);
    return { strings, pairs };
  }
}

class Writer {
  buf: FastBuffer;
  view: DataView;
  pos = 0;
  stringIndex = new Map<string, number>();
  attrPairs: (Pair | undefined)[] = [];
  attrCursor = 0;
  base = 0n;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(capacity) as FastBuffer;
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n + 1024)) as FastBuffer;
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  /** Unsigned varint of a non-negative integer up to 2^53. */
  varint(v: number): void {
    this.ensure(8);
    const buf = this.buf;
    while (v > 0x7fffffff) {
      buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    while (v >= 0x80) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.pos++] = v;
  }

  varintBig(v: bigint): void {
    this.ensure(11);
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  /** Zigzag of a signed bigint of any size (times and int64 values). */
  zigzagBig(v: bigint): void {
    const n = Number(v);
    if (n > -FAST && n < FAST) this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
    else this.varintBig(v >= 0n ? v << 1n : (-v << 1n) - 1n);
  }

  /** Zigzag of an int32. */
  zigzag32(v: number): void {
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  double(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  /** A string written whole (the dictionary). */
  rawString(s: string): void {
    const len = utf8Length(s);
    this.varint(len);
    this.utf8(s, len);
  }

  private utf8(s: string, len: number): void {
    this.ensure(len);
    if (len === s.length && len < 32) {
      const buf = this.buf;
      let p = this.pos;
      for (let i = 0; i < len; i++) buf[p++] = s.charCodeAt(i);
      this.pos = p;
    } else this.pos += this.buf.utf8Write(s, this.pos, len);
  }

  str(s: string): void {
    if (s.length === 0) {
      this.u8(0);
      return;
    }
    const i = this.stringIndex.get(s);
    if (i !== undefined) {
      this.varint(i * 2 + 1);
      return;
    }
    const len = utf8Length(s);
    this.varint(len * 2);
    this.utf8(s, len);
  }

  primitive(v: AnyValuePrimitive | null): void {
    if (v === null) this.u8(TAG_NULL);
    else if (typeof v === 'string') {
      this.u8(TAG_STRING);
      this.str(v);
    } else if (typeof v === 'boolean') this.u8(v ? TAG_TRUE : TAG_FALSE);
    else if (typeof v === 'bigint') {
      this.u8(TAG_INT);
      this.zigzagBig(v);
    } else if (typeof v === 'number') {
      this.u8(TAG_DOUBLE);
      this.double(v);
    } else {
      this.u8(TAG_BYTES);
      this.bytes(v);
    }
  }

  value(v: AnyValue): void {
    if (v instanceof ArrayValue) {
      const u = hasUnknown(v.unknownFields);
      this.u8(u ? TAG_ARRAY_U : TAG_ARRAY);
      this.varint(v.values.length);
      for (const x of v.values) this.value(x);
      if (u) this.bytes(v.unknownFields!);
    } else if (v instanceof KeyValueList) {
      const u = hasUnknown(v.unknownFields);
      this.u8(u ? TAG_KVLIST_U : TAG_KVLIST);
      this.varint(v.values.length);
      for (const kv of v.values) this.inlineKv(kv);
      if (u) this.bytes(v.unknownFields!);
    } else if (v instanceof AnyValueWithUnknownFields) {
      this.u8(TAG_WITH_UNKNOWN);
      this.value(v.value);
      this.bytes(v.unknownFields);
    } else this.primitive(v);
  }

  /** varint 0|1 (unknown fields), key, value, [unknown fields]. */
  inlineKv(kv: KeyValue): void {
    const u = hasUnknown(kv.unknownFields);
    this.u8(u ? 1 : 0);
    this.str(kv.key);
    this.value(kv.value);
    if (u) this.bytes(kv.unknownFields!);
  }

  attrs(list: readonly KeyValue[]): void {
    this.varint(list.length);
    for (let i = 0; i < list.length; i++) {
      const pair = this.attrPairs[this.attrCursor++];
      if (pair !== undefined && pair.index >= 0) this.varint(pair.index + 2);
      else this.inlineKv(list[i]!);
    }
  }

  unknown(u: Uint8Array | undefined): void {
    this.bytes(u!);
  }

  tracesData(data: TracesData): void {
    const u = hasUnknown(data.unknownFields);
    this.u8(u ? 1 : 0);
    this.varint(data.resourceSpans.length);
    for (const rs of data.resourceSpans) this.resourceSpans(rs);
    if (u) this.unknown(data.unknownFields);
  }

  resourceSpans(rs: ResourceSpans): void {
    const bits = (rs.resource ? 1 : 0) | (rs.schemaUrl.length > 0 ? 2 : 0) | (hasUnknown(rs.unknownFields) ? 4 : 0);
    this.u8(bits);
    if (rs.resource) this.resource(rs.resource);
    this.varint(rs.scopeSpans.length);
    for (const ss of rs.scopeSpans) this.scopeSpans(ss);
    if (bits & 2) this.str(rs.schemaUrl);
    if (bits & 4) this.unknown(rs.unknownFields);
  }

  resource(r: Resource): void {
    const bits = (r.droppedAttributesCount !== 0 ? 1 : 0) | (r.entityRefs.length > 0 ? 2 : 0) | (hasUnknown(r.unknownFields) ? 4 : 0);
    this.u8(bits);
    this.attrs(r.attributes);
    if (bits & 1) this.varint(r.droppedAttributesCount);
    if (bits & 2) {
      this.varint(r.entityRefs.length);
      for (const e of r.entityRefs) this.entityRef(e);
    }
    if (bits & 4) this.unknown(r.unknownFields);
  }

  entityRef(e: EntityRef): void {
    const u = hasUnknown(e.unknownFields);
    this.u8(u ? 1 : 0);
    this.str(e.schemaUrl);
    this.str(e.type);
    this.varint(e.idKeys.length);
    for (const k of e.idKeys) this.str(k);
    this.varint(e.descriptionKeys.length);
    for (const k of e.descriptionKeys) this.str(k);
    if (u) this.unknown(e.unknownFields);
  }

  scopeSpans(ss: ScopeSpans): void {
    const bits = (ss.scope ? 1 : 0) | (ss.schemaUrl.length > 0 ? 2 : 0) | (hasUnknown(ss.unknownFields) ? 4 : 0);
    this.u8(bits);
    if (ss.scope) this.scope(ss.scope);
    this.varint(ss.spans.length);
    for (const span of ss.spans) this.span(span);
    if (bits & 2) this.str(ss.schemaUrl);
    if (bits & 4) this.unknown(ss.unknownFields);
  }

  scope(s: InstrumentationScope): void {
    const bits = (s.droppedAttributesCount !== 0 ? 1 : 0) | (hasUnknown(s.unknownFields) ? 2 : 0);
    this.u8(bits);
    this.str(s.name);
    this.str(s.version);
    this.attrs(s.attributes);
    if (bits & 1) this.varint(s.droppedAttributesCount);
    if (bits & 2) this.unknown(s.unknownFields);
  }

  span(span: Span): void {
    const bits =
      (span.status ? 1 : 0) |
      (span.traceState.length > 0 ? 2 : 0) |
      (span.events.length > 0 ? 4 : 0) |
      (span.links.length > 0 ? 8 : 0) |
      (span.droppedAttributesCount !== 0 ? 16 : 0) |
      (span.droppedEventsCount !== 0 ? 32 : 0) |
      (span.droppedLinksCount !== 0 ? 64 : 0) |
      (hasUnknown(span.unknownFields) ? 128 : 0);
    this.varint(bits);
    this.bytes(span.traceId);
    this.bytes(span.spanId);
    this.bytes(span.parentSpanId);
    this.varint(span.flags);
    this.str(span.name);
    this.zigzag32(span.kind);
    const start = span.startTimeUnixNano;
    this.zigzagBig(start - this.base);
    this.zigzagBig(span.endTimeUnixNano - start);
    this.attrs(span.attributes);
    if (bits & 2) this.str(span.traceState);
    if (bits & 1) this.status(span.status!);
    if (bits & 4) {
      this.varint(span.events.length);
      for (const e of span.events) this.event(e, start);
    }
    if (bits & 8) {
      this.varint(span.links.length);
      for (const l of span.links) this.link(l);
    }
    if (bits & 16) this.varint(span.droppedAttributesCount);
    if (bits & 32) this.varint(span.droppedEventsCount);
    if (bits & 64) this.varint(span.droppedLinksCount);
    if (bits & 128) this.unknown(span.unknownFields);
  }

  status(s: Status): void {
    const bits = (s.message.length > 0 ? 1 : 0) | (hasUnknown(s.unknownFields) ? 2 : 0);
    this.u8(bits);
    this.zigzag32(s.code);
    if (bits & 1) this.str(s.message);
    if (bits & 2) this.unknown(s.unknownFields);
  }

  event(e: SpanEvent, spanStart: bigint): void {
    const bits = (e.droppedAttributesCount !== 0 ? 1 : 0) | (hasUnknown(e.unknownFields) ? 2 : 0);
    this.u8(bits);
    this.zigzagBig(e.timeUnixNano - spanStart);
    this.str(e.name);
    this.attrs(e.attributes);
    if (bits & 1) this.varint(e.droppedAttributesCount);
    if (bits & 2) this.unknown(e.unknownFields);
  }

  link(l: SpanLink): void {
    const bits = (l.traceState.length > 0 ? 1 : 0) | (l.droppedAttributesCount !== 0 ? 2 : 0) | (hasUnknown(l.unknownFields) ? 4 : 0);
    this.u8(bits);
    this.bytes(l.traceId);
    this.bytes(l.spanId);
    this.varint(l.flags);
    this.attrs(l.attributes);
    if (bits & 1) this.str(l.traceState);
    if (bits & 2) this.varint(l.droppedAttributesCount);
    if (bits & 4) this.unknown(l.unknownFields);
  }

  finish(): Uint8Array {
    // Give back a large spare tail (the buffer doubled past the content).
    return this.pos < this.buf.length / 2 ? new Uint8Array(this.buf.subarray(0, this.pos)) : this.buf.subarray(0, this.pos);
  }
}

/** Encodes one batch with the simple per-batch scheme (self-contained bytes). */
export function encodeSimpleBatch(data: TracesData): Uint8Array {
  const counter = new Counter();
  counter.tracesData(data);
  const { strings, pairs } = counter.finish();
  const w = new Writer(4096);
  w.attrPairs = counter.attrPairs;
  w.base = counter.minStart ?? 0n;
  w.u8(SIMPLE_BATCH_VERSION);
  w.varint(strings.length);
  for (let i = 0; i < strings.length; i++) {
    w.rawString(strings[i]!);
    w.stringIndex.set(strings[i]!, i);
  }
  w.varint(pairs.length);
  for (const p of pairs) {
    w.str(p.key);
    w.primitive(p.value);
  }
  w.varintBig(w.base);
  w.tracesData(data);
  return w.finish();
}

// ------------------------------------------------------------------------------------------------
// Decoder
// ------------------------------------------------------------------------------------------------

interface DictPair {
  key: string;
  value: AnyValuePrimitive | null;
}

class Reader {
  readonly buf: FastBuffer;
  readonly view: DataView;
  readonly end: number;
  pos = 0;
  strings: string[] = [];
  pairs: DictPair[] = [];
  base = 0n;

  constructor(bytes: Uint8Array) {
    this.buf = (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) as FastBuffer;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.end = bytes.length;
  }

  fail(detail: string, at = this.pos): never {
    throw new InputError(`simple batch: ${detail} at byte ${at}`);
  }

  u8(): number {
    if (this.pos >= this.end) this.fail('truncated');
    return this.buf[this.pos++]!;
  }

  /** A varint as a number; up to 7 bytes (< 2^49). Longer ones are refused here. */
  varint(): number {
    const buf = this.buf;
    const at = this.pos;
    let pos = at;
    if (pos < this.end) {
      const b = buf[pos]!;
      if (b < 0x80) {
        this.pos = pos + 1;
        return b;
      }
    }
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 7; i++) {
      if (pos >= this.end) this.fail('truncated varint', pos);
      const b = buf[pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        this.pos = pos;
        return result;
      }
      mul *= 128;
    }
    return this.fail('varint too long', at);
  }

  /** A varint of up to 10 bytes as a bigint. */
  varintBig(): bigint {
    const at = this.pos;
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      shift += 7n;
    }
    return this.fail('varint longer than 10 bytes', at);
  }

  /** A zigzag varint as a signed bigint (numbers for the common short ones). */
  zigzagBig(): bigint {
    const at = this.pos;
    let n: number;
    // Fast path: up to 7 bytes fits a double exactly.
    const buf = this.buf;
    let pos = at;
    let result = 0;
    let mul = 1;
    let done = false;
    for (let i = 0; i < 7 && pos < this.end; i++) {
      const b = buf[pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        done = true;
        break;
      }
      mul *= 128;
    }
    if (done) {
      this.pos = pos;
      n = result % 2 === 0 ? result / 2 : -(result + 1) / 2;
      return BigInt(n);
    }
    this.pos = at;
    const z = this.varintBig();
    return (z & 1n) === 0n ? z >> 1n : -((z + 1n) >> 1n);
  }

  u32(what: string): number {
    const at = this.pos;
    const v = this.varint();
    if (v > 0xffffffff) this.fail(`${what} out of uint32 range`, at);
    return v;
  }

  int32(what: string): number {
    const at = this.pos;
    const z = this.varint();
    const v = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    if (v < -2147483648 || v > 2147483647) this.fail(`${what} out of int32 range`, at);
    return v;
  }

  /** A count of items that take at least one byte each: never more than the bytes left. */
  count(what: string): number {
    const at = this.pos;
    const n = this.varint();
    if (n > this.end - this.pos) this.fail(`${what} count ${n} exceeds the bytes left`, at);
    return n;
  }

  time(v: bigint, what: string, at: number): bigint {
    if (v < 0n || v >= U64_LIMIT) this.fail(`${what} out of range`, at);
    return v;
  }

  bytes(): Uint8Array {
    const at = this.pos;
    const n = this.varint();
    if (n > this.end - this.pos) this.fail('length beyond the input', at);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }

  /** Unknown fields: a fresh copy (as the OTLP decoder keeps them). */
  unknown(): Uint8Array {
    const b = this.bytes();
    return new Uint8Array(b);
  }

  utf8(n: number, at: number): string {
    if (n > this.end - this.pos) this.fail('string beyond the input', at);
    const start = this.pos;
    const stop = start + n;
    const buf = this.buf;
    let ascii = true;
    for (let i = start; i < stop; i++)
      if (buf[i]! >= 0x80) {
        ascii = false;
        break;
      }
    if (!ascii && !isUtf8(buf.subarray(start, stop))) this.fail('string is not valid UTF-8', start);
    this.pos = stop;
    return ascii ? buf.latin1Slice(start, stop) : buf.utf8Slice(start, stop);
  }

  str(): string {
    const at = this.pos;
    const r = this.varint();
    if (r % 2 === 1) {
      const i = (r - 1) / 2;
      if (i >= this.strings.length) this.fail(`string reference ${i} beyond the dictionary of ${this.strings.length}`, at);
      return this.strings[i]!;
    }
    return this.utf8(r / 2, at);
  }

  primitiveTag(tag: number, at: number): AnyValuePrimitive | null {
    switch (tag) {
      case TAG_NULL:
        return null;
      case TAG_STRING:
        return this.str();
      case TAG_FALSE:
        return false;
      case TAG_TRUE:
        return true;
      case TAG_INT: {
        const p = this.pos;
        const v = this.zigzagBig();
        if (v < I64_MIN || v > I64_MAX) this.fail('int64 value out of range', p);
        return v;
      }
      case TAG_DOUBLE: {
        if (this.end - this.pos < 8) this.fail('truncated double');
        const v = this.view.getFloat64(this.pos, true);
        this.pos += 8;
        return v;
      }
      case TAG_BYTES:
        return this.bytes();
      default:
        return this.fail(`unknown value tag ${tag}`, at);
    }
  }

  value(depth: number): AnyValue {
    const at = this.pos;
    const tag = this.u8();
    switch (tag) {
      case TAG_ARRAY:
      case TAG_ARRAY_U: {
        if (depth >= MAX_VALUE_DEPTH) this.fail('values nested too deep', at);
        const n = this.count('array');
        const values: AnyValue[] = new Array(n);
        for (let i = 0; i < n; i++) values[i] = this.value(depth + 1);
        return new ArrayValue(values, tag === TAG_ARRAY_U ? this.unknown() : undefined);
      }
      case TAG_KVLIST:
      case TAG_KVLIST_U: {
        if (depth >= MAX_VALUE_DEPTH) this.fail('values nested too deep', at);
        const n = this.count('kvlist');
        const values: KeyValue[] = new Array(n);
        for (let i = 0; i < n; i++) values[i] = this.inlineKv(this.u8(), depth + 1);
        return new KeyValueList(values, tag === TAG_KVLIST_U ? this.unknown() : undefined);
      }
      case TAG_WITH_UNKNOWN: {
        const innerAt = this.pos;
        const inner = this.value(depth);
        if (inner instanceof AnyValueWithUnknownFields) this.fail('nested value-with-unknown-fields', innerAt);
        return new AnyValueWithUnknownFields(inner, this.unknown());
      }
      default:
        return this.primitiveTag(tag, at);
    }
  }

  inlineKv(code: number, depth: number): KeyValue {
    if (code > 1) this.fail(`bad key/value code ${code}`, this.pos - 1);
    const key = this.str();
    const value = this.value(depth);
    return { key, value, unknownFields: code === 1 ? this.unknown() : undefined };
  }

  attrs(): KeyValue[] {
    const n = this.count('attribute');
    const out: KeyValue[] = new Array(n);
    const pairs = this.pairs;
    for (let i = 0; i < n; i++) {
      const at = this.pos;
      const c = this.varint();
      if (c >= 2) {
        const p = pairs[c - 2];
        if (p === undefined) this.fail(`pair reference ${c - 2} beyond the dictionary of ${pairs.length}`, at);
        out[i] = { key: p.key, value: p.value, unknownFields: undefined };
      } else out[i] = this.inlineKv(c, 0);
    }
    return out;
  }

  bits(max: number, what: string): number {
    const at = this.pos;
    const b = this.varint();
    if (b > max) this.fail(`bad ${what} presence bits ${b}`, at);
    return b;
  }

  tracesData(): TracesData {
    const bits = this.bits(1, 'request');
    const n = this.count('resource spans');
    const resourceSpans: ResourceSpans[] = new Array(n);
    for (let i = 0; i < n; i++) resourceSpans[i] = this.resourceSpans();
    return { resourceSpans, unknownFields: bits & 1 ? this.unknown() : undefined };
  }

  resourceSpans(): ResourceSpans {
    const bits = this.bits(7, 'resource spans');
    const resource = bits & 1 ? this.resource() : undefined;
    const n = this.count('scope spans');
    const scopeSpans: ScopeSpans[] = new Array(n);
    for (let i = 0; i < n; i++) scopeSpans[i] = this.scopeSpans();
    const schemaUrl = bits & 2 ? this.str() : '';
    return { resource, scopeSpans, schemaUrl, unknownFields: bits & 4 ? this.unknown() : undefined };
  }

  resource(): Resource {
    const bits = this.bits(7, 'resource');
    const attributes = this.attrs();
    const droppedAttributesCount = bits & 1 ? this.u32('dropped attributes count') : 0;
    let entityRefs: EntityRef[] = [];
    if (bits & 2) {
      const n = this.count('entity ref');
      entityRefs = new Array(n);
      for (let i = 0; i < n; i++) entityRefs[i] = this.entityRef();
    }
    return { attributes, droppedAttributesCount, entityRefs, unknownFields: bits & 4 ? this.unknown() : undefined };
  }

  entityRef(): EntityRef {
    const bits = this.bits(1, 'entity ref');
    const schemaUrl = this.str();
    const type = this.str();
    const idKeys: string[] = new Array(this.count('id key'));
    for (let i = 0; i < idKeys.length; i++) idKeys[i] = this.str();
    const descriptionKeys: string[] = new Array(this.count('description key'));
    for (let i = 0; i < descriptionKeys.length; i++) descriptionKeys[i] = this.str();
    return { schemaUrl, type, idKeys, descriptionKeys, unknownFields: bits & 1 ? this.unknown() : undefined };
  }

  scopeSpans(): ScopeSpans {
    const bits = this.bits(7, 'scope spans');
    const scope = bits & 1 ? this.scope() : undefined;
    const n = this.count('span');
    const spans: Span[] = new Array(n);
    for (let i = 0; i < n; i++) spans[i] = this.span();
    const schemaUrl = bits & 2 ? this.str() : '';
    return { scope, spans, schemaUrl, unknownFields: bits & 4 ? this.unknown() : undefined };
  }

  scope(): InstrumentationScope {
    const bits = this.bits(3, 'scope');
    const name = this.str();
    const version = this.str();
    const attributes = this.attrs();
    const droppedAttributesCount = bits & 1 ? this.u32('dropped attributes count') : 0;
    return { name, version, attributes, droppedAttributesCount, unknownFields: bits & 2 ? this.unknown() : undefined };
  }

  span(): Span {
    const bits = this.bits(255, 'span');
    const traceId = this.bytes();
    const spanId = this.bytes();
    const parentSpanId = this.bytes();
    const flags = this.u32('span flags');
    const name = this.str();
    const kind = this.int32('span kind');
    let at = this.pos;
    const start = this.time(this.base + this.zigzagBig(), 'span start', at);
    at = this.pos;
    const end = this.time(start + this.zigzagBig(), 'span end', at);
    const attributes = this.attrs();
    const traceState = bits & 2 ? this.str() : '';
    const status = bits & 1 ? this.status() : undefined;
    let events: SpanEvent[] = [];
    if (bits & 4) {
      const n = this.count('event');
      events = new Array(n);
      for (let i = 0; i < n; i++) events[i] = this.event(start);
    }
    let links: SpanLink[] = [];
    if (bits & 8) {
      const n = this.count('link');
      links = new Array(n);
      for (let i = 0; i < n; i++) links[i] = this.link();
    }
    const droppedAttributesCount = bits & 16 ? this.u32('dropped attributes count') : 0;
    const droppedEventsCount = bits & 32 ? this.u32('dropped events count') : 0;
    const droppedLinksCount = bits & 64 ? this.u32('dropped links count') : 0;
    return {
      traceId,
      spanId,
      traceState,
      parentSpanId,
      flags,
      name,
      kind,
      startTimeUnixNano: start,
      endTimeUnixNano: end,
      attributes,
      droppedAttributesCount,
      events,
      droppedEventsCount,
      links,
      droppedLinksCount,
      status,
      unknownFields: bits & 128 ? this.unknown() : undefined,
    };
  }

  status(): Status {
    const bits = this.bits(3, 'status');
    const code = this.int32('status code');
    const message = bits & 1 ? this.str() : '';
    return { message, code, unknownFields: bits & 2 ? this.unknown() : undefined };
  }

  event(spanStart: bigint): SpanEvent {
    const bits = this.bits(3, 'event');
    const at = this.pos;
    const timeUnixNano = this.time(spanStart + this.zigzagBig(), 'event time', at);
    const name = this.str();
    const attributes = this.attrs();
    const droppedAttributesCount = bits & 1 ? this.u32('dropped attributes count') : 0;
    return { timeUnixNano, name, attributes, droppedAttributesCount, unknownFields: bits & 2 ? this.unknown() : undefined };
  }

  link(): SpanLink {
    const bits = this.bits(7, 'link');
    const traceId = this.bytes();
    const spanId = this.bytes();
    const flags = this.u32('link flags');
    const attributes = this.attrs();
    const traceState = bits & 1 ? this.str() : '';
    const droppedAttributesCount = bits & 2 ? this.u32('dropped attributes count') : 0;
    return { traceId, spanId, traceState, attributes, droppedAttributesCount, flags, unknownFields: bits & 4 ? this.unknown() : undefined };
  }
}

/** Decodes one batch written by encodeSimpleBatch; throws InputError for corrupt or truncated bytes. */
export function decodeSimpleBatch(bytes: Uint8Array): TracesData {
  const r = new Reader(bytes);
  const version = r.u8();
  if (version !== SIMPLE_BATCH_VERSION) r.fail(`unsupported version ${version} (expected ${SIMPLE_BATCH_VERSION})`, 0);
  const nStrings = r.count('dictionary string');
  const strings: string[] = new Array(nStrings);
  for (let i = 0; i < nStrings; i++) {
    const at = r.pos;
    strings[i] = r.utf8(r.varint(), at);
  }
  r.strings = strings;
  const nPairs = r.count('dictionary pair');
  const pairs: DictPair[] = new Array(nPairs);
  for (let i = 0; i < nPairs; i++) {
    const key = r.str();
    const at = r.pos;
    pairs[i] = { key, value: r.primitiveTag(r.u8(), at) };
  }
  r.pairs = pairs;
  const at = r.pos;
  r.base = r.time(r.varintBig(), 'base time', at);
  const data = r.tracesData();
  if (r.pos !== r.end) r.fail(`${r.end - r.pos} trailing bytes`);
  return data;
}
