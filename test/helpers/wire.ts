// A tiny protobuf wire toolkit for tests, independent of the codec under test: field builders (to
// hand-write inputs), a raw field parser, the OTLP trace schema as a table, and semantics-preserving
// rewrites of encoded messages (field reordering, splitting a non-repeated message field into
// several occurrences, earlier "decoy" values of scalars that a later value overrides, explicit
// default values, non-minimal varints). Every rewrite leaves the decoded message unchanged under
// the protobuf rules, which is what lets tests feed "other encoders' bytes" to the decoder.
import type { MessageName, Rng } from './arbitrary.js';

// ------------------------------------------------------------------------------------------------
// Writing
// ------------------------------------------------------------------------------------------------

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Minimal varint of an unsigned value below 2^64 (negative numbers: pass BigInt.asUintN(64, v)). */
export function varintBytes(value: bigint | number): Uint8Array {
  let v = BigInt(value);
  if (v < 0n) v = BigInt.asUintN(64, v);
  const out: number[] = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

/** A varint of exactly `len` bytes (non-minimal when longer than needed). Bits beyond 7*len are lost. */
export function paddedVarintBytes(value: bigint | number, len: number): Uint8Array {
  let v = BigInt.asUintN(64, BigInt(value));
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    out[i] = Number(v & 0x7fn) | (i < len - 1 ? 0x80 : 0);
    v >>= 7n;
  }
  return out;
}

export function tagBytes(fieldNumber: number, wireType: number): Uint8Array {
  return varintBytes(BigInt(fieldNumber) * 8n + BigInt(wireType));
}

export function fieldVarint(no: number, v: bigint | number): Uint8Array {
  return concatBytes(tagBytes(no, 0), varintBytes(v));
}

export function fieldFixed64(no: number, v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  return concatBytes(tagBytes(no, 1), b);
}

export function fieldDouble(no: number, v: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, v, true);
  return concatBytes(tagBytes(no, 1), b);
}

export function fieldFixed32(no: number, v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return concatBytes(tagBytes(no, 5), b);
}

export function fieldLen(no: number, payload: Uint8Array, lengthBytes?: number): Uint8Array {
  const len = lengthBytes === undefined ? varintBytes(payload.length) : paddedVarintBytes(payload.length, lengthBytes);
  return concatBytes(tagBytes(no, 2), len, payload);
}

export function fieldString(no: number, s: string): Uint8Array {
  return fieldLen(no, new TextEncoder().encode(s));
}

/** A group (wire types 3/4) around `content`. */
export function fieldGroup(no: number, content: Uint8Array, endNo = no): Uint8Array {
  return concatBytes(tagBytes(no, 3), content, tagBytes(endNo, 4));
}

// ------------------------------------------------------------------------------------------------
// Reading (raw, schema-free)
// ------------------------------------------------------------------------------------------------

export interface RawField {
  no: number;
  wt: number;
  /** Offset of the tag. */
  start: number;
  /** Offset just past the field (for groups: past the end-group tag). */
  end: number;
  /** For LEN: payload bounds; for groups: content bounds; otherwise the value bytes. */
  valueStart: number;
  valueEnd: number;
  /** Offset of the length varint (LEN only). */
  lengthStart: number;
  /** Varint value (wire type 0). */
  varint: bigint;
}

export function readVarint(buf: Uint8Array, pos: number, end: number): { value: bigint; next: number } | undefined {
  let v = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos + i >= end) return undefined;
    const b = buf[pos + i]!;
    v |= BigInt(b & 0x7f) << BigInt(7 * i);
    if ((b & 0x80) === 0) return { value: BigInt.asUintN(64, v), next: pos + i + 1 };
  }
  return undefined;
}

/** The fields of one message in wire order, or undefined when the bytes are not well-formed. */
export function parseRawFields(buf: Uint8Array, start = 0, end = buf.length, depth = 0): RawField[] | undefined {
  const out: RawField[] = [];
  let pos = start;
  while (pos < end) {
    const f = parseOneField(buf, pos, end, depth);
    if (!f || f.wt === 4) return undefined;
    out.push(f);
    pos = f.end;
  }
  return out;
}

function parseOneField(buf: Uint8Array, pos: number, end: number, depth: number): RawField | undefined {
  const t = readVarint(buf, pos, end);
  if (!t || t.value > 0xffffffffn) return undefined;
  const no = Number(t.value >> 3n);
  const wt = Number(t.value & 7n);
  if (no === 0) return undefined;
  const f: RawField = { no, wt, start: pos, end: 0, valueStart: t.next, valueEnd: 0, lengthStart: -1, varint: 0n };
  switch (wt) {
    case 0: {
      const v = readVarint(buf, t.next, end);
      if (!v) return undefined;
      f.varint = v.value;
      f.valueEnd = f.end = v.next;
      return f;
    }
    case 1:
      if (t.next + 8 > end) return undefined;
      f.valueEnd = f.end = t.next + 8;
      return f;
    case 5:
      if (t.next + 4 > end) return undefined;
      f.valueEnd = f.end = t.next + 4;
      return f;
    case 2: {
      const l = readVarint(buf, t.next, end);
      if (!l || l.value > BigInt(end - l.next)) return undefined;
      f.lengthStart = t.next;
      f.valueStart = l.next;
      f.valueEnd = f.end = l.next + Number(l.value);
      return f;
    }
    case 3: {
      if (depth > 200) return undefined;
      let p = t.next;
      for (;;) {
        const inner = parseOneField(buf, p, end, depth + 1);
        if (!inner) return undefined;
        if (inner.wt === 4) {
          if (inner.no !== no) return undefined;
          f.valueEnd = p;
          f.end = inner.end;
          return f;
        }
        p = inner.end;
      }
    }
    case 4:
      f.valueEnd = f.end = t.next;
      return f;
    default:
      return undefined;
  }
}

// ------------------------------------------------------------------------------------------------
// The OTLP trace schema (ecosystem.md §B.4), as the rewrites need it
// ------------------------------------------------------------------------------------------------

export type ScalarType = 'string' | 'bytes' | 'bool' | 'int64' | 'uint32' | 'enum' | 'fixed64' | 'fixed32' | 'double';
export interface FieldSpec {
  name: string;
  type: ScalarType | 'message';
  msg?: MessageName;
  repeated?: boolean;
  oneof?: boolean;
}

const m = (name: string, msg: MessageName, repeated = false, oneof = false): FieldSpec => ({ name, type: 'message', msg, repeated, oneof });
const s = (name: string, type: ScalarType, repeated = false, oneof = false): FieldSpec => ({ name, type, repeated, oneof });

export const SCHEMA: Record<MessageName, Record<number, FieldSpec>> = {
  TracesData: { 1: m('resource_spans', 'ResourceSpans', true) },
  ResourceSpans: { 1: m('resource', 'Resource'), 2: m('scope_spans', 'ScopeSpans', true), 3: s('schema_url', 'string') },
  Resource: { 1: m('attributes', 'KeyValue', true), 2: s('dropped_attributes_count', 'uint32'), 3: m('entity_refs', 'EntityRef', true) },
  EntityRef: { 1: s('schema_url', 'string'), 2: s('type', 'string'), 3: s('id_keys', 'string', true), 4: s('description_keys', 'string', true) },
  ScopeSpans: { 1: m('scope', 'InstrumentationScope'), 2: m('spans', 'Span', true), 3: s('schema_url', 'string') },
  InstrumentationScope: { 1: s('name', 'string'), 2: s('version', 'string'), 3: m('attributes', 'KeyValue', true), 4: s('dropped_attributes_count', 'uint32') },
  Span: {
    1: s('trace_id', 'bytes'),
    2: s('span_id', 'bytes'),
    3: s('trace_state', 'string'),
    4: s('parent_span_id', 'bytes'),
    5: s('name', 'string'),
    6: s('kind', 'enum'),
    7: s('start_time_unix_nano', 'fixed64'),
    8: s('end_time_unix_nano', 'fixed64'),
    9: m('attributes', 'KeyValue', true),
    10: s('dropped_attributes_count', 'uint32'),
    11: m('events', 'Event', true),
    12: s('dropped_events_count', 'uint32'),
    13: m('links', 'Link', true),
    14: s('dropped_links_count', 'uint32'),
    15: m('status', 'Status'),
    16: s('flags', 'fixed32'),
  },
  Event: { 1: s('time_unix_nano', 'fixed64'), 2: s('name', 'string'), 3: m('attributes', 'KeyValue', true), 4: s('dropped_attributes_count', 'uint32') },
  Link: {
    1: s('trace_id', 'bytes'),
    2: s('span_id', 'bytes'),
    3: s('trace_state', 'string'),
    4: m('attributes', 'KeyValue', true),
    5: s('dropped_attributes_count', 'uint32'),
    6: s('flags', 'fixed32'),
  },
  Status: { 2: s('message', 'string'), 3: s('code', 'enum') },
  KeyValue: { 1: s('key', 'string'), 2: m('value', 'AnyValue') },
  AnyValue: {
    1: s('string_value', 'string', false, true),
    2: s('bool_value', 'bool', false, true),
    3: s('int_value', 'int64', false, true),
    4: s('double_value', 'double', false, true),
    5: m('array_value', 'ArrayValue', false, true),
    6: m('kvlist_value', 'KeyValueList', false, true),
    7: s('bytes_value', 'bytes', false, true),
  },
  ArrayValue: { 1: m('values', 'AnyValue', true) },
  KeyValueList: { 1: m('values', 'KeyValue', true) },
  ExportTraceServiceResponse: { 1: m('partial_success', 'ExportTracePartialSuccess') },
  ExportTracePartialSuccess: { 1: s('rejected_spans', 'int64'), 2: s('error_message', 'string') },
};

export function wireTypeOf(spec: FieldSpec): number {
  switch (spec.type) {
    case 'message':
    case 'string':
    case 'bytes':
      return 2;
    case 'fixed64':
    case 'double':
      return 1;
    case 'fixed32':
      return 5;
    default:
      return 0;
  }
}

/** The spec of a field when it is known AND arrives with its own wire type (else it is unknown). */
export function knownSpec(msg: MessageName, f: RawField): FieldSpec | undefined {
  const spec = SCHEMA[msg][f.no];
  return spec && wireTypeOf(spec) === f.wt ? spec : undefined;
}

// ------------------------------------------------------------------------------------------------
// Semantics-preserving rewrites
// ------------------------------------------------------------------------------------------------

export interface RewriteOptions {
  /** Interleave fields of different numbers in random order (same-number order kept). */
  reorder?: boolean;
  /** Probability to split a present non-repeated message field into two occurrences (merged). */
  split?: number;
  /** Probability to put an earlier, different value before a scalar (the later value wins). */
  decoy?: number;
  /** Probability to add "decoy then explicit default" for an absent scalar. */
  explicitDefault?: number;
  /** Probability to write a varint value or a length with extra (non-minimal) bytes. */
  pad?: number;
}

function randomScalarField(rng: Rng, no: number, type: ScalarType): Uint8Array {
  switch (type) {
    case 'string':
      return fieldString(no, `decoy${rng.int(1000)}`);
    case 'bytes':
      return fieldLen(no, rng.bytes(rng.range(1, 9)));
    case 'bool':
      return fieldVarint(no, rng.range(1, 3)); // any non-zero varint is true
    case 'int64':
    case 'uint32':
    case 'enum':
      return fieldVarint(no, rng.range(1, 1 << 20));
    case 'fixed64':
      return fieldFixed64(no, rng.u64() | 1n);
    case 'double':
      return fieldDouble(no, rng.float() + 0.5);
    case 'fixed32':
      return fieldFixed32(no, rng.u32() | 1);
  }
}

function defaultField(no: number, type: ScalarType): Uint8Array {
  switch (type) {
    case 'string':
    case 'bytes':
      return fieldLen(no, new Uint8Array(0));
    case 'fixed64':
    case 'double':
      return fieldFixed64(no, 0n);
    case 'fixed32':
      return fieldFixed32(no, 0);
    default:
      return fieldVarint(no, 0);
  }
}

function padVarint(rng: Rng, v: bigint): Uint8Array {
  const min = varintBytes(v).length;
  if (min >= 10) return varintBytes(v);
  return paddedVarintBytes(v, rng.range(min + 1, 10));
}

/** A decoy for a present AnyValue oneof member: a different member, which the real one replaces. */
function oneofDecoy(rng: Rng, realNo: number): Uint8Array {
  const others = [1, 2, 3, 4, 5, 6, 7].filter((n) => n !== realNo);
  const no = rng.pick(others);
  const spec = SCHEMA.AnyValue[no]!;
  if (spec.type === 'message') {
    const content = no === 5 ? fieldLen(1, fieldString(1, 'decoy')) : fieldLen(1, fieldString(1, 'decoy-key'));
    return fieldLen(no, rng.bool() ? new Uint8Array(0) : content);
  }
  return randomScalarField(rng, no, spec.type);
}

interface Piece {
  key: string;
  bytes: Uint8Array;
}

/**
 * Rewrites the encoding of a message of type `msg` (recursively) without changing the message it
 * decodes to under protobuf rules. Input must be well-formed; throws otherwise.
 */
export function rewriteMessage(bytes: Uint8Array, msg: MessageName, rng: Rng, opt: RewriteOptions): Uint8Array {
  const fields = parseRawFields(bytes);
  if (!fields) throw new Error(`rewriteMessage: malformed ${msg}`);
  const pieces: Piece[] = [];
  const present = new Set<number>();
  const p = (x: number | undefined): boolean => x !== undefined && x > 0 && rng.bool(x);
  const lenBytes = (payloadLen: number): number | undefined => (p(opt.pad) ? Math.min(5, varintBytes(payloadLen).length + rng.range(1, 3)) : undefined);
  for (const f of fields) {
    const spec = knownSpec(msg, f);
    const raw = bytes.subarray(f.start, f.end);
    if (!spec) {
      pieces.push({ key: 'unknown', bytes: raw });
      continue;
    }
    present.add(f.no);
    const key = spec.oneof ? 'oneof' : `f${f.no}`;
    if (spec.oneof && p(opt.decoy)) pieces.push({ key, bytes: oneofDecoy(rng, f.no) });
    if (spec.type === 'message') {
      const inner = rewriteMessage(bytes.subarray(f.valueStart, f.valueEnd), spec.msg!, rng, opt);
      if (!spec.repeated && p(opt.split)) {
        const innerFields = parseRawFields(inner)!;
        const cut = rng.int(innerFields.length + 1);
        const at = cut === innerFields.length ? inner.length : innerFields[cut]!.start;
        const a = inner.subarray(0, at);
        const b = inner.subarray(at);
        pieces.push({ key, bytes: fieldLen(f.no, a, lenBytes(a.length)) });
        pieces.push({ key, bytes: fieldLen(f.no, b, lenBytes(b.length)) });
      } else {
        pieces.push({ key, bytes: fieldLen(f.no, inner, lenBytes(inner.length)) });
      }
      continue;
    }
    if (!spec.repeated && !spec.oneof && p(opt.decoy)) pieces.push({ key, bytes: randomScalarField(rng, f.no, spec.type as ScalarType) });
    if (f.wt === 0 && p(opt.pad)) {
      pieces.push({ key, bytes: concatBytes(tagBytes(f.no, 0), padVarint(rng, f.varint)) });
    } else if (f.wt === 2 && p(opt.pad)) {
      const payload = bytes.subarray(f.valueStart, f.valueEnd);
      pieces.push({ key, bytes: fieldLen(f.no, payload, lenBytes(payload.length)) });
    } else {
      pieces.push({ key, bytes: raw });
    }
  }
  // Absent scalars: an explicit non-default value followed by an explicit default (last one wins).
  for (const [noText, spec] of Object.entries(SCHEMA[msg])) {
    const no = Number(noText);
    if (present.has(no) || spec.type === 'message' || spec.repeated || spec.oneof || !p(opt.explicitDefault)) continue;
    const at = rng.int(pieces.length + 1);
    const key = `f${no}`;
    const both: Piece[] = rng.bool(0.3)
      ? [{ key, bytes: defaultField(no, spec.type as ScalarType) }]
      : [
          { key, bytes: randomScalarField(rng, no, spec.type as ScalarType) },
          { key, bytes: defaultField(no, spec.type as ScalarType) },
        ];
    pieces.splice(at, 0, ...both);
  }
  const ordered = opt.reorder ? interleave(rng, pieces) : pieces;
  return concatBytes(...ordered.map((x) => x.bytes));
}

/** Random interleaving of the pieces that keeps the relative order of pieces with the same key. */
function interleave(rng: Rng, pieces: Piece[]): Piece[] {
  const queues = new Map<string, Piece[]>();
  for (const x of pieces) {
    let q = queues.get(x.key);
    if (!q) queues.set(x.key, (q = []));
    q.push(x);
  }
  const lists = [...queues.values()];
  const idx = lists.map(() => 0);
  const out: Piece[] = [];
  while (out.length < pieces.length) {
    const open = lists.map((l, i) => (idx[i]! < l.length ? i : -1)).filter((i) => i >= 0);
    const i = rng.pick(open);
    out.push(lists[i]![idx[i]!++]!);
  }
  return out;
}

/** Every LEN field at any depth of a message of type `msg` (known message fields recursed into). */
export function allLenFields(bytes: Uint8Array, msg: MessageName, base = 0, out: RawField[] = []): RawField[] {
  const fields = parseRawFields(bytes);
  if (!fields) return out;
  for (const f of fields) {
    if (f.wt !== 2) continue;
    out.push({ ...f, start: f.start + base, end: f.end + base, valueStart: f.valueStart + base, valueEnd: f.valueEnd + base, lengthStart: f.lengthStart + base });
    const spec = knownSpec(msg, f);
    if (spec?.type === 'message') allLenFields(bytes.subarray(f.valueStart, f.valueEnd), spec.msg!, base + f.valueStart, out);
  }
  return out;
}

/** Field boundaries (offsets where a new field starts) at every depth, plus the end of the input. */
export function fieldBoundaries(bytes: Uint8Array, msg: MessageName, base = 0, out: number[] = []): number[] {
  const fields = parseRawFields(bytes);
  if (!fields) return out;
  for (const f of fields) {
    out.push(f.start + base);
    const spec = knownSpec(msg, f);
    if (spec?.type === 'message') fieldBoundaries(bytes.subarray(f.valueStart, f.valueEnd), spec.msg!, base + f.valueStart, out);
  }
  if (base === 0) out.push(bytes.length);
  return out;
}

// ------------------------------------------------------------------------------------------------
// Reference well-formedness (what C++ protobuf accepts), for differential fuzzing
// ------------------------------------------------------------------------------------------------

/**
 * Why `bytes` is not a well-formed message of type `msg` at the wire level, or undefined when it
 * is. Follows Google's C++ parser: varints of at most 10 bytes; tags read as 32 bits (higher bits
 * of an over-wide tag varint are dropped, as protoc does); field number 0 and wire types 6/7
 * invalid; an end-group only closes the matching start-group; a length must fit in what is left
 * (read as 64 bits, never wrapped); known message fields are checked recursively, unknown
 * length-delimited payloads are opaque. String UTF-8 validity and nesting limits are not checked
 * here (a decoder may be stricter than this; it must not be more lenient).
 */
export function wireProblem(bytes: Uint8Array, msg: MessageName | undefined, start = 0, end = bytes.length, depth = 0): string | undefined {
  let pos = start;
  while (pos < end) {
    const r = fieldProblem(bytes, msg, pos, end, depth, undefined);
    if (typeof r === 'string') return r;
    if (r.endGroup) return `end-group tag without a start at ${pos}`;
    pos = r.next;
  }
  return undefined;
}

function fieldProblem(
  bytes: Uint8Array,
  msg: MessageName | undefined,
  pos: number,
  end: number,
  depth: number,
  groupNo: number | undefined,
): string | { next: number; endGroup: boolean } {
  if (depth > 100_000) return 'absurd depth';
  const t = readVarint(bytes, pos, end);
  if (!t) return `bad tag varint at ${pos}`;
  const tag = Number(t.value & 0xffffffffn);
  const no = tag >>> 3;
  const wt = tag & 7;
  if (no === 0) return `field number 0 at ${pos}`;
  switch (wt) {
    case 0: {
      const v = readVarint(bytes, t.next, end);
      return v ? { next: v.next, endGroup: false } : `bad varint at ${t.next}`;
    }
    case 1:
      return t.next + 8 <= end ? { next: t.next + 8, endGroup: false } : `fixed64 past the end at ${t.next}`;
    case 5:
      return t.next + 4 <= end ? { next: t.next + 4, endGroup: false } : `fixed32 past the end at ${t.next}`;
    case 2: {
      const l = readVarint(bytes, t.next, end);
      if (!l) return `bad length varint at ${t.next}`;
      if (l.value > BigInt(end - l.next)) return `length ${l.value} at ${t.next} exceeds the ${end - l.next} bytes left`;
      const stop = l.next + Number(l.value);
      const spec = msg ? SCHEMA[msg][no] : undefined;
      if (spec && spec.type === 'message') {
        const inner = wireProblem(bytes, spec.msg, l.next, stop, depth + 1);
        if (inner) return inner;
      }
      return { next: stop, endGroup: false };
    }
    case 3: {
      let p = t.next;
      for (;;) {
        if (p >= end) return `unterminated group ${no} at ${pos}`;
        const r = fieldProblem(bytes, undefined, p, end, depth + 1, no);
        if (typeof r === 'string') return r;
        if (r.endGroup) return { next: r.next, endGroup: false };
        p = r.next;
      }
    }
    case 4:
      if (groupNo === undefined || groupNo !== no) return `end-group ${no} does not close ${groupNo ?? 'any group'} at ${pos}`;
      return { next: t.next, endGroup: true };
    default:
      return `wire type ${wt} at ${pos}`;
  }
}
