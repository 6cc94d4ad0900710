// Seeded generator of arbitrary valid OTLP trace messages (`TracesData`) for property tests of the
// codecs (OTLP protobuf now, Tracezip later). Deterministic by seed: a small PRNG (sfc32 seeded
// through splitmix32), never Math.random, so a failing seed reproduces exactly.
//
// "Valid" means: every value is representable in the proto (ids of 0, 8 or 16 bytes, strings that
// are well-formed Unicode, int64/fixed64/uint32/fixed32/int32 in range) and every message's
// `unknownFields` is a sequence of complete, well-formed protobuf fields whose numbers the model
// does not know for that message, so a decoder puts them back in `unknownFields` byte for byte.
import {
  AnyValueWithUnknownFields,
  ArrayValue,
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
  type ExportTraceServiceResponse,
} from '../../src/model/index.js';
import { concatBytes, fieldFixed32, fieldFixed64, fieldLen, fieldVarint, tagBytes, paddedVarintBytes } from './wire.js';

// ------------------------------------------------------------------------------------------------
// PRNG
// ------------------------------------------------------------------------------------------------

/** sfc32 seeded by splitmix32: fast, 128-bit state, good enough statistics for fuzzing. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const split = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = split();
    this.b = split();
    this.c = split();
    this.d = split();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  bool(p = 0.5): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  /** Uniform 64-bit unsigned integer. */
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }

  /** An independent generator derived from this one (for sub-streams that must not shift others). */
  fork(): Rng {
    return new Rng(this.u32());
  }
}

/** A seed from several integers (e.g. a strategy and a case index), for reproducible sub-cases. */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  }
  return h >>> 0;
}

// ------------------------------------------------------------------------------------------------
// Edge values
// ------------------------------------------------------------------------------------------------

const P53 = 2n ** 53n;
const P63 = 2n ** 63n;
const P64 = 2n ** 64n;

/** int64 values that break naive codecs (sign extension, 2^53 precision, 10-byte varints). */
export const INT64_EDGES: readonly bigint[] = [
  0n, 1n, -1n, 127n, 128n, -128n, -129n, 300n, 2n ** 31n - 1n, -(2n ** 31n), 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n,
  -(2n ** 32n), P53 - 1n, P53, P53 + 1n, -(P53 + 1n), 2n ** 56n, -P63, -P63 + 1n, P63 - 1n,
];

/** fixed64 (unsigned) values, used for times. */
export const UINT64_EDGES: readonly bigint[] = [
  0n, 1n, 2n ** 32n - 1n, 2n ** 32n, P53 - 1n, P53 + 1n, 1_700_000_000_123_456_789n, P63 - 1n, P63, P64 - 2n, P64 - 1n,
];

/** Doubles whose bits must survive exactly: NaN, infinities, -0, subnormals, extremes. */
export const DOUBLE_EDGES: readonly number[] = [
  0, -0, NaN, Infinity, -Infinity, 5e-324, -5e-324, 2.225073858507201e-308 /* largest subnormal */, 2.2250738585072014e-308,
  Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, Number.EPSILON, 0.1, -1.5, 1, 2 ** 53 + 2, 1e300, 1.5e-7,
];

/** uint32 / fixed32 values (flags, dropped counts). */
export const UINT32_EDGES: readonly number[] = [0, 1, 0x7f, 0x80, 0xff, 0x101, 0x301, 0x3ff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/** Span flags seen in practice and at the edges. */
export const FLAGS_EDGES: readonly number[] = [0, 1, 0x100, 0x101, 0x201, 0x301, 0xff, 0xffffffff];

/** Open-enum (int32) values: the known ones, unknown positives, negatives (10-byte varints). */
export const ENUM_EDGES: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7, 100, 0x7fffffff, -1, -2, -2147483648];

/** Strings: empty, multi-byte, astral-plane (surrogate pairs), NUL, controls, quotes, long. */
export const STRING_EDGES: readonly string[] = [
  '',
  'a',
  'GET /api/v1/users/{id}',
  'ünïcödé ☃',
  '日本語のスパン名',
  '😀',
  '𝄞 clef and 🎉 party',
  '\u{10ffff}\u{10000}',
  'nul\u0000inside',
  '\u0001\u001f\u007f\u0080\u00ff',
  'quote " backslash \\ newline \n tab \t',
  '\uffff\ufffd\ufeff',
  'x'.repeat(300),
  '🦀'.repeat(70),
];

/** Random well-formed Unicode text (no lone surrogates: those are not representable in UTF-8). */
function randomString(rng: Rng, maxLen: number): string {
  const n = rng.int(maxLen + 1);
  let s = '';
  for (let i = 0; i < n; i++) {
    const r = rng.int(10);
    if (r < 6) s += String.fromCharCode(0x20 + rng.int(95));
    else if (r < 8) s += String.fromCharCode(0xa0 + rng.int(0xd7ff - 0xa0));
    else if (r < 9) s += String.fromCodePoint(0x10000 + rng.int(0x10ffff - 0x10000));
    else s += String.fromCharCode(rng.int(0x20));
  }
  return s;
}

// ------------------------------------------------------------------------------------------------
// Unknown fields
// ------------------------------------------------------------------------------------------------

/** Message types of the trace model, by their proto name. */
export type MessageName =
  | 'TracesData'
  | 'ResourceSpans'
  | 'Resource'
  | 'EntityRef'
  | 'ScopeSpans'
  | 'InstrumentationScope'
  | 'Span'
  | 'Event'
  | 'Link'
  | 'Status'
  | 'KeyValue'
  | 'AnyValue'
  | 'ArrayValue'
  | 'KeyValueList'
  | 'ExportTraceServiceResponse'
  | 'ExportTracePartialSuccess';

/** Highest known field number per message (the model knows 1..max, except Status: 2..3). */
const MAX_KNOWN: Record<MessageName, number> = {
  TracesData: 1,
  ResourceSpans: 3,
  Resource: 3,
  EntityRef: 4,
  ScopeSpans: 3,
  InstrumentationScope: 4,
  Span: 16,
  Event: 4,
  Link: 6,
  Status: 3,
  KeyValue: 2,
  AnyValue: 7,
  ArrayValue: 1,
  KeyValueList: 1,
  ExportTraceServiceResponse: 1,
  ExportTracePartialSuccess: 2,
};

/** Field numbers used for unknown fields: just past the known ones, and far away up to the max. */
const FAR_FIELD_NUMBERS = [17, 20, 31, 99, 100, 1000, 2047, 2048, 16383, 16384, 19000, 262143, 536870911];

/**
 * Field numbers this message does not know, including realistic ones: Status field 1 is reserved
 * (old `code`), KeyValue 3 is `key_strindex` and AnyValue 8 `string_value_strindex` (proto 1.11,
 * profiles only; the model keeps them as unknown fields).
 */
export function unknownFieldNumbers(msg: MessageName): number[] {
  const max = MAX_KNOWN[msg];
  const out = [max + 1, max + 2, ...FAR_FIELD_NUMBERS.filter((n) => n > max + 2)];
  if (msg === 'Status') out.push(1);
  return out;
}

/** Wire type of each known field (to make deliberate wire-type mismatches, which are unknown fields). */
export const KNOWN_WIRE_TYPES: Record<MessageName, Record<number, number>> = {
  TracesData: { 1: 2 },
  ResourceSpans: { 1: 2, 2: 2, 3: 2 },
  Resource: { 1: 2, 2: 0, 3: 2 },
  EntityRef: { 1: 2, 2: 2, 3: 2, 4: 2 },
  ScopeSpans: { 1: 2, 2: 2, 3: 2 },
  InstrumentationScope: { 1: 2, 2: 2, 3: 2, 4: 0 },
  Span: { 1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 6: 0, 7: 1, 8: 1, 9: 2, 10: 0, 11: 2, 12: 0, 13: 2, 14: 0, 15: 2, 16: 5 },
  Event: { 1: 1, 2: 2, 3: 2, 4: 0 },
  Link: { 1: 2, 2: 2, 3: 2, 4: 2, 5: 0, 6: 5 },
  Status: { 2: 2, 3: 0 },
  KeyValue: { 1: 2, 2: 2 },
  AnyValue: { 1: 2, 2: 0, 3: 0, 4: 1, 5: 2, 6: 2, 7: 2 },
  ArrayValue: { 1: 2 },
  KeyValueList: { 1: 2 },
  ExportTraceServiceResponse: { 1: 2 },
  ExportTracePartialSuccess: { 1: 0, 2: 2 },
};

/** One well-formed field of the given number and wire type with a random value. */
export function arbitraryField(rng: Rng, fieldNumber: number, wireType: 0 | 1 | 2 | 5): Uint8Array {
  switch (wireType) {
    case 0: {
      const v = rng.bool(0.3) ? rng.pick(INT64_EDGES.map((x) => BigInt.asUintN(64, x))) : BigInt(rng.int(1000));
      // Occasionally a non-minimal (padded) varint: legal, and kept byte for byte as an unknown field.
      if (rng.bool(0.1) && v < 2n ** 56n) return concatBytes(tagBytes(fieldNumber, 0), paddedVarintBytes(v, 9));
      return fieldVarint(fieldNumber, v);
    }
    case 1:
      return fieldFixed64(fieldNumber, rng.u64());
    case 5:
      return fieldFixed32(fieldNumber, rng.u32());
    case 2: {
      const r = rng.int(4);
      if (r === 0) return fieldLen(fieldNumber, new Uint8Array(0));
      if (r === 1) return fieldLen(fieldNumber, new TextEncoder().encode(randomString(rng, 12)));
      if (r === 2) return fieldLen(fieldNumber, rng.bytes(rng.range(1, 24)));
      // A nested well-formed message (looks like a sub-message to protoc --decode).
      return fieldLen(fieldNumber, concatBytes(fieldVarint(1, BigInt(rng.int(300))), fieldLen(2, rng.bytes(rng.int(6)))));
    }
  }
}

/**
 * 1-3 complete unknown fields for a message of type `msg`, of every wire type (varint, fixed64,
 * len, fixed32), sometimes a known field number with the wrong wire type (protobuf parsers keep
 * such a field as unknown).
 */
export function arbitraryUnknownFields(rng: Rng, msg: MessageName, allowWireTypeMismatch = true): Uint8Array {
  const parts: Uint8Array[] = [];
  const n = rng.range(1, 3);
  const numbers = unknownFieldNumbers(msg);
  for (let i = 0; i < n; i++) {
    const wt = rng.pick([0, 1, 2, 5] as const);
    if (allowWireTypeMismatch && rng.bool(0.08)) {
      const known = KNOWN_WIRE_TYPES[msg];
      const nums = Object.keys(known).map(Number);
      const no = rng.pick(nums);
      const other = ([0, 1, 2, 5] as const).filter((w) => w !== known[no]);
      parts.push(arbitraryField(rng, no, rng.pick(other)));
    } else {
      parts.push(arbitraryField(rng, rng.pick(numbers), wt));
    }
  }
  return concatBytes(...parts);
}

// ------------------------------------------------------------------------------------------------
// Messages
// ------------------------------------------------------------------------------------------------

export interface ArbitraryOptions {
  /** Upper bounds of the repeated fields (each list gets 0..max elements). */
  maxResourceSpans?: number;
  maxScopeSpans?: number;
  maxSpans?: number;
  maxAttributes?: number;
  maxEvents?: number;
  maxLinks?: number;
  /** Nesting depth of AnyValue arrays/kvlists. */
  maxDepth?: number;
  /** Probability that a message carries unknown fields (0 = never). */
  unknownFieldRate?: number;
  /** Allow known field numbers with the wrong wire type among the unknown fields. */
  wireTypeMismatch?: boolean;
  /** Probability of picking an edge value rather than a typical one. */
  edgeRate?: number;
}

const DEFAULTS: Required<ArbitraryOptions> = {
  maxResourceSpans: 3,
  maxScopeSpans: 3,
  maxSpans: 4,
  maxAttributes: 5,
  maxEvents: 3,
  maxLinks: 2,
  maxDepth: 4,
  unknownFieldRate: 0.15,
  wireTypeMismatch: true,
  edgeRate: 0.3,
};

/** A generator of arbitrary messages with fixed options; every method draws from one Rng. */
export class Arbitrary {
  readonly o: Required<ArbitraryOptions>;
  constructor(
    readonly rng: Rng,
    options: ArbitraryOptions = {},
  ) {
    this.o = { ...DEFAULTS, ...options };
  }

  private edge(): boolean {
    return this.rng.bool(this.o.edgeRate);
  }

  unknown(msg: MessageName): Uint8Array | undefined {
    return this.rng.bool(this.o.unknownFieldRate) ? arbitraryUnknownFields(this.rng, msg, this.o.wireTypeMismatch) : undefined;
  }

  string(maxLen = 24): string {
    return this.edge() ? this.rng.pick(STRING_EDGES) : randomString(this.rng, maxLen);
  }

  /** Trace id: usually 16 bytes, sometimes empty or 8 bytes (a legacy 64-bit id). */
  traceId(): Uint8Array {
    const r = this.rng.int(10);
    if (r === 0) return new Uint8Array(0);
    if (r === 1) return this.rng.bytes(8);
    if (r === 2) return new Uint8Array(16); // all-zero: invalid in OTLP but representable
    return this.rng.bytes(16);
  }

  spanId(): Uint8Array {
    const r = this.rng.int(10);
    if (r === 0) return new Uint8Array(0);
    if (r === 1) return new Uint8Array(8);
    if (r === 2) return this.rng.bytes(16);
    return this.rng.bytes(8);
  }

  time(): bigint {
    if (this.edge()) return this.rng.pick(UINT64_EDGES);
    return 1_700_000_000_000_000_000n + BigInt(this.rng.u32()) * 1000n + BigInt(this.rng.int(1000));
  }

  uint32(): number {
    if (this.edge()) return this.rng.pick(UINT32_EDGES);
    return this.rng.bool(0.7) ? 0 : this.rng.int(50);
  }

  enumValue(known: number): number {
    if (this.edge()) return this.rng.pick(ENUM_EDGES);
    return this.rng.int(known);
  }

  flags(): number {
    if (this.edge()) return this.rng.pick(FLAGS_EDGES);
    return this.rng.pick([0, 0x101, 0x301, 1]);
  }

  int64(): bigint {
    if (this.edge()) return this.rng.pick(INT64_EDGES);
    return BigInt(this.rng.int(100000) - 50000);
  }

  double(): number {
    if (this.edge()) return this.rng.pick(DOUBLE_EDGES);
    // Any bit pattern is a double; this also yields NaNs with payloads and subnormals.
    if (this.rng.bool(0.2)) {
      const v = new DataView(this.rng.bytes(8).buffer).getFloat64(0, true);
      return v;
    }
    return (this.rng.float() - 0.5) * 10 ** this.rng.range(-5, 8);
  }

  primitive(): AnyValuePrimitive {
    switch (this.rng.int(5)) {
      case 0:
        return this.string();
      case 1:
        return this.rng.bool();
      case 2:
        return this.int64();
      case 3:
        return this.double();
      default:
        return this.rng.bool(0.2) ? new Uint8Array(0) : this.rng.bytes(this.rng.int(20));
    }
  }

  anyValue(depth = 0): AnyValue {
    const r = this.rng.int(20);
    let v: AnyValuePrimitive | ArrayValue | KeyValueList | null;
    if (r === 0) v = null;
    else if (r <= 2 && depth < this.o.maxDepth) {
      const n = this.rng.int(4);
      const values: AnyValue[] = [];
      for (let i = 0; i < n; i++) values.push(this.anyValue(depth + 1));
      v = new ArrayValue(values, this.unknown('ArrayValue'));
    } else if (r <= 4 && depth < this.o.maxDepth) {
      const n = this.rng.int(4);
      const values: KeyValue[] = [];
      for (let i = 0; i < n; i++) values.push(this.keyValue(depth + 1));
      v = new KeyValueList(values, this.unknown('KeyValueList'));
    } else v = this.primitive();
    const u = this.unknown('AnyValue');
    return u ? new AnyValueWithUnknownFields(v, u) : v;
  }

  keyValue(depth = 0): KeyValue {
    return { key: this.string(16), value: this.anyValue(depth), unknownFields: this.unknown('KeyValue') };
  }

  attributes(): KeyValue[] {
    const n = this.rng.int(this.o.maxAttributes + 1);
    const out: KeyValue[] = [];
    for (let i = 0; i < n; i++) out.push(this.keyValue());
    return out;
  }

  entityRef(): EntityRef {
    const keys = (): string[] => Array.from({ length: this.rng.int(3) }, () => this.string(12));
    return { schemaUrl: this.string(), type: this.string(), idKeys: keys(), descriptionKeys: keys(), unknownFields: this.unknown('EntityRef') };
  }

  resource(): Resource {
    return {
      attributes: this.attributes(),
      droppedAttributesCount: this.uint32(),
      entityRefs: Array.from({ length: this.rng.bool(0.3) ? this.rng.range(1, 2) : 0 }, () => this.entityRef()),
      unknownFields: this.unknown('Resource'),
    };
  }

  scope(): InstrumentationScope {
    return {
      name: this.string(),
      version: this.string(8),
      attributes: this.rng.bool(0.3) ? this.attributes() : [],
      droppedAttributesCount: this.uint32(),
      unknownFields: this.unknown('InstrumentationScope'),
    };
  }

  status(): Status {
    return { message: this.rng.bool(0.5) ? '' : this.string(), code: this.enumValue(3), unknownFields: this.unknown('Status') };
  }

  event(): SpanEvent {
    return {
      timeUnixNano: this.time(),
      name: this.string(),
      attributes: this.attributes(),
      droppedAttributesCount: this.uint32(),
      unknownFields: this.unknown('Event'),
    };
  }

  link(): SpanLink {
    return {
      traceId: this.traceId(),
      spanId: this.spanId(),
      traceState: this.rng.bool(0.7) ? '' : this.string(),
      attributes: this.attributes(),
      droppedAttributesCount: this.uint32(),
      flags: this.flags(),
      unknownFields: this.unknown('Link'),
    };
  }

  span(): Span {
    return {
      traceId: this.traceId(),
      spanId: this.spanId(),
      traceState: this.rng.bool(0.7) ? '' : this.string(),
      parentSpanId: this.rng.bool(0.3) ? new Uint8Array(0) : this.spanId(),
      flags: this.flags(),
      name: this.string(),
      kind: this.enumValue(6),
      startTimeUnixNano: this.time(),
      endTimeUnixNano: this.time(),
      attributes: this.attributes(),
      droppedAttributesCount: this.uint32(),
      events: Array.from({ length: this.rng.int(this.o.maxEvents + 1) }, () => this.event()),
      droppedEventsCount: this.uint32(),
      links: Array.from({ length: this.rng.int(this.o.maxLinks + 1) }, () => this.link()),
      droppedLinksCount: this.uint32(),
      status: this.rng.bool(0.6) ? this.status() : undefined,
      unknownFields: this.unknown('Span'),
    };
  }

  scopeSpans(): ScopeSpans {
    return {
      scope: this.rng.bool(0.8) ? this.scope() : undefined,
      spans: Array.from({ length: this.rng.int(this.o.maxSpans + 1) }, () => this.span()),
      schemaUrl: this.rng.bool(0.7) ? '' : this.string(),
      unknownFields: this.unknown('ScopeSpans'),
    };
  }

  resourceSpans(): ResourceSpans {
    return {
      resource: this.rng.bool(0.85) ? this.resource() : undefined,
      scopeSpans: Array.from({ length: this.rng.int(this.o.maxScopeSpans + 1) }, () => this.scopeSpans()),
      schemaUrl: this.rng.bool(0.7) ? '' : this.string(),
      unknownFields: this.unknown('ResourceSpans'),
    };
  }

  tracesData(): TracesData {
    return {
      resourceSpans: Array.from({ length: this.rng.int(this.o.maxResourceSpans + 1) }, () => this.resourceSpans()),
      unknownFields: this.unknown('TracesData'),
    };
  }

  response(): ExportTraceServiceResponse {
    return {
      partialSuccess: this.rng.bool(0.7)
        ? { rejectedSpans: this.int64(), errorMessage: this.string(), unknownFields: this.unknown('ExportTracePartialSuccess') }
        : undefined,
      unknownFields: this.unknown('ExportTraceServiceResponse'),
    };
  }
}

/** One arbitrary message for `seed` (the same seed always gives the same message). */
export function arbitraryTracesData(seed: number, options: ArbitraryOptions = {}): TracesData {
  return new Arbitrary(new Rng(seed), options).tracesData();
}

export function arbitraryResponse(seed: number, options: ArbitraryOptions = {}): ExportTraceServiceResponse {
  return new Arbitrary(new Rng(seed), options).response();
}

// ------------------------------------------------------------------------------------------------
// Hand-made shapes
// ------------------------------------------------------------------------------------------------

/** An AnyValue of `depth` nested arrays around a string (depth 0 = the string). */
export function nestedArrays(depth: number, leaf: AnyValue = 'leaf'): AnyValue {
  let v: AnyValue = leaf;
  for (let i = 0; i < depth; i++) v = new ArrayValue([v]);
  return v;
}

/** An AnyValue of `depth` nested kvlists around a string. */
export function nestedKvlists(depth: number, leaf: AnyValue = 'leaf'): AnyValue {
  let v: AnyValue = leaf;
  for (let i = 0; i < depth; i++) v = new KeyValueList([{ key: `k${i}`, value: v, unknownFields: undefined }]);
  return v;
}

/** A TracesData holding one span whose attributes are `attrs`. */
export function singleSpan(attrs: KeyValue[], span: Partial<Span> = {}): TracesData {
  const s: Span = {
    traceId: new Uint8Array(16).fill(0xab),
    spanId: new Uint8Array(8).fill(0xcd),
    traceState: '',
    parentSpanId: new Uint8Array(0),
    flags: 0,
    name: 'span',
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: attrs,
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: undefined,
    unknownFields: undefined,
    ...span,
  };
  return {
    resourceSpans: [{ resource: undefined, scopeSpans: [{ scope: undefined, spans: [s], schemaUrl: '', unknownFields: undefined }], schemaUrl: '', unknownFields: undefined }],
    unknownFields: undefined,
  };
}

/**
 * A large, realistic message: `spanCount` spans in a few resources and scopes, with typical
 * attributes (strings, ints, doubles, bools, an array), events and links. Deterministic by seed.
 */
export function largeTracesData(spanCount: number, seed = 1): TracesData {
  const rng = new Rng(seed);
  const services = ['frontend', 'checkout', 'cart', 'payment', 'shipping'];
  const routes = ['/api/cart', '/api/checkout', '/api/products/{id}', '/health', '/api/users/{id}/orders'];
  const resourceSpans: ResourceSpans[] = [];
  let left = spanCount;
  let r = 0;
  while (left > 0) {
    const service = services[r % services.length]!;
    const scopeSpans: ScopeSpans[] = [];
    for (let sIdx = 0; sIdx < 2 && left > 0; sIdx++) {
      const n = Math.min(left, Math.ceil(spanCount / 6) + 1);
      left -= n;
      const spans: Span[] = new Array(n);
      let traceId = rng.bytes(16);
      let parent: Uint8Array = new Uint8Array(0);
      for (let i = 0; i < n; i++) {
        if (i % 8 === 0) {
          traceId = rng.bytes(16);
          parent = new Uint8Array(0);
        }
        const spanId = rng.bytes(8);
        const start = 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n + BigInt(rng.int(1000));
        spans[i] = {
          traceId,
          spanId,
          traceState: '',
          parentSpanId: parent,
          flags: 0x101,
          name: `${rng.pick(['GET', 'POST'])} ${rng.pick(routes)}`,
          kind: rng.int(6),
          startTimeUnixNano: start,
          endTimeUnixNano: start + BigInt(rng.int(5_000_000)),
          attributes: [
            { key: 'http.request.method', value: rng.pick(['GET', 'POST']), unknownFields: undefined },
            { key: 'http.response.status_code', value: BigInt(rng.pick([200, 200, 201, 404, 500])), unknownFields: undefined },
            { key: 'http.route', value: rng.pick(routes), unknownFields: undefined },
            { key: 'sampling.ratio', value: rng.float(), unknownFields: undefined },
            { key: 'cache.hit', value: rng.bool(), unknownFields: undefined },
          ],
          droppedAttributesCount: 0,
          events:
            i % 50 === 0
              ? [{ timeUnixNano: start + 10n, name: 'exception', attributes: [{ key: 'exception.type', value: 'Error', unknownFields: undefined }], droppedAttributesCount: 0, unknownFields: undefined }]
              : [],
          droppedEventsCount: 0,
          links: i % 97 === 0 ? [{ traceId: rng.bytes(16), spanId: rng.bytes(8), traceState: '', attributes: [], droppedAttributesCount: 0, flags: 0x301, unknownFields: undefined }] : [],
          droppedLinksCount: 0,
          status: i % 10 === 0 ? { message: '', code: 2, unknownFields: undefined } : undefined,
          unknownFields: undefined,
        };
        parent = spanId;
      }
      scopeSpans.push({
        scope: { name: `@example/${service}-instrumentation`, version: '1.2.3', attributes: [], droppedAttributesCount: 0, unknownFields: undefined },
        spans,
        schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
        unknownFields: undefined,
      });
    }
    resourceSpans.push({
      resource: {
        attributes: [
          { key: 'service.name', value: service, unknownFields: undefined },
          { key: 'service.instance.id', value: `${service}-${r}`, unknownFields: undefined },
          { key: 'process.pid', value: BigInt(1000 + r), unknownFields: undefined },
        ],
        droppedAttributesCount: 0,
        entityRefs: [],
        unknownFields: undefined,
      },
      scopeSpans,
      schemaUrl: '',
      unknownFields: undefined,
    });
    r++;
  }
  return { resourceSpans, unknownFields: undefined };
}

