// OTLP protobuf codec for ExportTraceServiceRequest (= TracesData) and ExportTraceServiceResponse.
//
// HOT PATH: this is what the gateway runs for every request, and what every benchmark reads and
// writes, so it is written by hand for the engine (see bench/otlp.ts for its figures):
// - decode walks the bytes once with a bounds-checked reader; objects are created with their full
//   shape; short strings go through the reader's intern cache; 64-bit times are read with
//   DataView.getBigUint64 (exact, no Number on the way).
// - encode runs two passes over the message: a sizing pass that records the length of every nested
//   message in pre-order in one array, and a writing pass that consumes those lengths in the same
//   order into a buffer allocated once at the exact size. No buffer growth, no shifting.
// - lossless at the message level: fields this codec does not know (and known field numbers that
//   arrive with an unexpected wire type, which protobuf treats as unknown) are kept as raw bytes in
//   `unknownFields` and written back after the known fields of their message. A non-repeated
//   message field that occurs twice is merged, as protobuf parsers do; a scalar's last value wins.
import {
  AnyValueWithUnknownFields,
  ArrayValue,
  KeyValueList,
  type AnyValue,
  type EntityRef,
  type ExportTracePartialSuccess,
  type ExportTraceServiceResponse,
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
} from '../model/types.js';
import { EMPTY_BYTES } from '../model/build.js';
import {
  MAX_DEPTH,
  ProtobufDecodeError,
  ProtobufReader,
  ProtobufWriter,
  appendUnknown,
  int64Words,
  utf8Length,
  varint32Size,
  varint64Size,
} from './wire.js';
import { DECODE_COST, DecodeLimitError, resolveDecodeLimits, type DecodeLimits } from './limits.js';

// Tags = (field number << 3) | wire type, precomputed for the known fields.
// Tags below are written as numbers, (field << 3) | wire type, so that switch cases are constants:
// wire types VARINT 0, FIXED64 1, LEN 2, FIXED32 5; e.g. 10 = field 1 LEN, 57 = field 7 FIXED64.

// ================================================================================================
// Decoding
// ================================================================================================

export interface DecodeOptions extends DecodeLimits {
  /**
   * Copy ids, bytes values and unknown fields out of the input. By default they are views into
   * `bytes` (copying them doubles the decoder's cost), so the input must not be reused while the
   * decoded message is alive.
   */
  copyBytes?: boolean;
}

/** Decodes an ExportTraceServiceRequest (or TracesData). Throws ProtobufDecodeError on bad input. */
export function decodeTracesData(bytes: Uint8Array, options?: DecodeOptions): TracesData {
  const r = new ProtobufReader(bytes, options?.copyBytes === true);
  const limits = resolveDecodeLimits(options);
  r.spansLeft = limits.maxSpans;
  r.memoryLeft = limits.maxDecodedMemory - bytes.length * DECODE_COST.inputByte;
  if (r.memoryLeft < 0) overMemory(r, limits.maxDecodedMemory);
  maxMemory = limits.maxDecodedMemory;
  maxSpans = limits.maxSpans;
  // A span costs far more decoded than on the wire (2 bytes `12 00` -> DECODE_COST.span). When the
  // input is large enough to reach a limit that way, count its spans first: a bomb is refused in
  // one cheap pass instead of after the decoder has built up to maxDecodedMemory of objects.
  if (bytes.length * (DECODE_COST.span / 2) > r.memoryLeft || bytes.length / 2 > limits.maxSpans) prescanSpans(bytes, r.memoryLeft, limits);
  const end = bytes.length;
  const resourceSpans: ResourceSpans[] = [];
  let unknown: Uint8Array | undefined;
  // ExportTraceServiceRequest: 1 resource_spans repeated ResourceSpans (len)
  while (r.pos < end) {
    const start = r.pos;
    const t = readTag(r, end);
    if (t === 10) resourceSpans.push(decodeResourceSpans(r, r.readLengthEnd(end)));
    else unknown = skipUnknown(r, t, start, end, unknown);
  }
  return { resourceSpans, unknownFields: unknown };
}

/**
 * Counts the spans of a request without decoding them (ResourceSpans -> ScopeSpans -> span tags,
 * every body skipped by its length) and refuses it when the count alone breaks a limit. Malformed
 * bytes end the count quietly: the decoder then reports them with its own, precise error.
 */
function prescanSpans(bytes: Uint8Array, memoryLeft: number, limits: Required<DecodeLimits>): void {
  const r = new ProtobufReader(bytes, false);
  let spans = 0;
  const over = (): boolean => spans > limits.maxSpans || spans * DECODE_COST.span > memoryLeft;
  try {
    const end = bytes.length;
    while (r.pos < end) {
      const t = r.readVarint32(end);
      if (t !== 10) {
        r.skipField(t & 7, t >>> 3, end);
        continue;
      }
      const rsEnd = r.readLengthEnd(end);
      while (r.pos < rsEnd) {
        const t2 = r.readVarint32(rsEnd);
        if (t2 !== 18) {
          r.skipField(t2 & 7, t2 >>> 3, rsEnd);
          continue;
        }
        const ssEnd = r.readLengthEnd(rsEnd);
        while (r.pos < ssEnd) {
          const t3 = r.readVarint32(ssEnd);
          if (t3 === 18) spans++;
          r.skipField(t3 & 7, t3 >>> 3, ssEnd);
        }
        if (over()) break;
      }
      if (over()) break;
    }
  } catch (e) {
    if (!(e instanceof ProtobufDecodeError)) throw e;
  }
  if (spans > limits.maxSpans) throw new DecodeLimitError('maxSpans', limits.maxSpans, 0, 'too many spans in one request');
  if (spans * DECODE_COST.span > memoryLeft) throw new DecodeLimitError('maxDecodedMemory', limits.maxDecodedMemory, 0, 'the request would take more memory to decode than allowed');
}

// The limit being enforced, for the error message (decoding is synchronous, one request at a time).
let maxMemory = 0;
let maxSpans = 0;

function overMemory(r: ProtobufReader, limit = maxMemory): never {
  throw new DecodeLimitError('maxDecodedMemory', limit, r.pos, 'the request would take more memory to decode than allowed');
}

/** Charges the estimated cost of one decoded object to the request's memory budget. */
function charge(r: ProtobufReader, cost: number): void {
  if ((r.memoryLeft -= cost) < 0) overMemory(r);
}

function readTag(r: ProtobufReader, end: number): number {
  const t = r.readVarint32(end);
  if (t >>> 3 === 0) r.fail('field-zero', 'field number 0', r.pos - 1);
  return t;
}

function skipUnknown(r: ProtobufReader, t: number, start: number, end: number, acc: Uint8Array | undefined): Uint8Array {
  r.skipField(t & 7, t >>> 3, end);
  return appendUnknown(acc, r.buf, start, r.pos);
}

function decodeResourceSpans(r: ProtobufReader, end: number): ResourceSpans {
  // ResourceSpans: 1 resource Resource (len), 2 scope_spans repeated ScopeSpans (len), 3 schema_url string
  charge(r, DECODE_COST.message);
  let resource: Resource | undefined;
  const scopeSpans: ScopeSpans[] = [];
  let schemaUrl = '';
  let unknown: Uint8Array | undefined;
  while (r.pos < end) {
    const start = r.pos;
    const t = readTag(r, end);
    switch (t) {
      case 10:
        resource = decodeResource(r, r.readLengthEnd(end), resource);
        break;
      case 18:
        scopeSpans.push(decodeScopeSpans(r, r.readLengthEnd(end)));
        break;
      case 26:
        schemaUrl = r.readString(end);
        break;
      default:
        unknown = skipUnknown(r, t, start, end, unknown);
    }
  }
  return { resource, scopeSpans, schemaUrl, unknownFields: unknown };
}

function decodeResource(r: ProtobufReader, end: number, into: Resource | undefined): Resource {
  // Resource: 1 attributes repeated KeyValue, 2 dropped_attributes_count uint32, 3 entity_refs repeated EntityRef
  const res: Resource = into ?? { attributes: [], droppedAttributesCount: 0, entityRefs: [], unknownFields: undefined };
  while (r.pos < end) {
    const start = r.pos;
    const t = readTag(r, end);
    switch (t) {
      case 10:
        res.attributes.push(decodeKeyValue(r, r.readLengthEnd(end), 0));
        break;
      case 16:
        res.droppedAttributesCount = r.readVarint32(end);
        break;
      case 26:
        res.entityRefs.push(decodeEntityRef(r, r.readLengthEnd(end)));
        break;
      default:
        res.unknownFields = skipUnknown(r, t, start, end, res.unknownFields);
    }
  }
  return res;
}

function decodeEntityRef(r: ProtobufReader, end: number): EntityRef {
  charge(r, DECODE_COST.message);
  // EntityRef: 1 schema_url string, 2 type string, 3 id_keys repeated string, 4 description_keys repeated string
  const ref: EntityRef = { schemaUrl: '', type: '', idKeys: [], descriptionKeys: [], unknownFields: undefined };
  while (r.pos < end) {
    const start = r.pos;
    const t = readTag(r, end);
    switch (t) {
      case 10:
        ref.schemaUrl = r.readString(end);
        break;
      case 18:
        ref.type = r.readString(end);
        break;
      case 26:
        ref.idKeys.push(r.readString(end));
        break;
      case 34:
        ref.descriptionKeys.push(r.readString(end));
        break;
      default:
        ref.unknownFields = skipUnknown(r, t, start, end, ref.unknownFields);
    }
  }
  return ref;
}

function decodeScopeSpans(r: ProtobufReader, end: number): ScopeSpans {
  charge(r, DECODE_COST.message);
  // ScopeSpans: 1 scope InstrumentationScope (len), 2 spans repeated Span (len), 3 schema_url string
  let scope: InstrumentationScope | undefined;
  const spans: Span[] = [];
  let schemaUrl = '';
  let unknown: Uint8Array | undefined;
  while (r.pos < end) {
    const start = r.pos;
    const t = readTag(r, end);
    switch (t) {
      case 10:
        scope = decodeScope(r, r.readLengthEnd(end), scope);
        break;
      case 18:
        spans.push(decodeSpan(r, r.readLengthEnd(end)));
        break;
      case 26:
        schemaUrl = r.readString(end);
        break;
      default:
        unknown = skipUnknown(r, t, start, end, unknown);
    }
  }
  return { scope, spans, schemaUrl, unknownFields: unknown };
}

function decodeScope(r: ProtobufReader, end: number, into: InstrumentationScope | undefined): InstrumentationScope {
  // InstrumentationScope: 1 name, 2 version, 3 attributes repeated KeyValue, 4 dropped_attributes_count uint32
  const s: InstrumentationScope = into ?? { name: '', version: '', attributes: [], droppedAttributesCount: 0, unknownFields: undefined };
  while (r.pos < end) {
    const start = r.pos;
    const t = readTag(r, end);
    switch (t) {
      case 10:
        s.name = r.readString(end);
        break;
      case 18:
        s.version = r.readString(end);
        break;
      case 26:
        s.attributes.push(decodeKeyValue(r, r.readLengthEnd(end), 0));
        break;
      case 32:
        s.droppedAttributesCount = r.readVarint32(end);
        break;
      default:
        s.unknownFields = skipUnknown(r, t, start, end, s.unknownFields);
    }
  }
  return s;
}

function decodeSpan(r: ProtobufReader, end: number): Span {
  // Span:
  //  1 trace_id bytes            2 span_id bytes             3 trace_state string
  //  4 parent_span_id bytes      5 name string               6 kind enum (varint)
  //  7 start_time_unix_nano f64  8 end_time_unix_nano f64    9 attributes repeated KeyValue
  // 10 dropped_attributes_count 11 events repeated Event    12 dropped_events_count
  // 13 links repeated Link      14 dropped_links_count      15 status Status
  // 16 flags fixed32
  if (--r.spansLeft < 0) throw new DecodeLimitError('maxSpans', maxSpans, r.pos, 'too many spans in one request');
  charge(r, DECODE_COST.span);
  const span: Span = {
    traceId: EMPTY_BYTES,
    spanId: EMPTY_BYTES,
    traceState: '',
    parentSpanId: EMPTY_BYTES,
    flags: 0,
    name: '',
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: undefined,
    unknownFields: undefined,
  };
  while (r.pos < end) {
    const start = r.pos;
    const t = readTag(r, end);
    switch (t) {
      case 10:
        span.traceId = r.readBytes(end);
        break;
      case 18:
        span.spanId = r.readBytes(end);
        break;
      case 26:
        span.traceState = r.readString(end);
        break;
      case 34:
        span.parentSpanId = r.readBytes(end);
        break;
      case 42:
        span.name = r.readString(end);
        break;
      case 48:
        span.kind = r.readInt32(end);
        break;
      case 57:
        span.startTimeUnixNano = r.readFixed64(end);
        break;
      case 65:
        span.endTimeUnixNano = r.readFixed64(end);
        break;
      case 74:
        span.attributes.push(decodeKeyValue(r, r.readLengthEnd(end), 0));
        break;
      case 80:
        span.droppedAttributesCount = r.readVarint32(end);
        break;
      case 90:
        span.events.push(decodeEvent(r, r.readLengthEnd(end)));
        break;
      case 96:
        span.droppedEventsCount = r.readVarint32(end);
        break;
      case 106:
        span.links.push(decodeLink(r, r.readLengthEnd(end)));
        break;
      case 112:
        span.droppedLinksCount = r.readVarint32(end);
        break;
      case 122:
        span.status = decodeStatus(r, r.readLengthEnd(end), span.status);
        break;
      case 133:
        span.flags = r.readFixed32(end);
        break;
      default:
        span.unknownFields = skipUnknown(r, t, start, end, span.unknownFields);
    }
  }
  return span;
}

function decodeStatus(r: ProtobufReader, end: number, into: Status | undefined): Status {
  // Status: 2 message string, 3 code enum (field 1 is reserved: it stays an unknown field if present)
  const s: Status = into ?? { message: '', code: 0, unknownFields: undefined };
  while (r.pos < end) {
    const start = r.pos;
    const t = readTag(r, end);
    if (t === 18) s.message = r.readString(end);
    else if (t === 24) s.code = r.readInt32(end);
    else s.unknownFields = skipUnknown(r, t, start, end, s.unknownFields);
  }
  return s;
}

function decodeEvent(r: ProtobufReader, end: number): SpanEvent {
  // Span.Event: 1 time_unix_nano f64, 2 name string, 3 attributes repeated KeyValue, 4 dropped_attributes_count
  charge(r, DECODE_COST.event);
  const e: SpanEvent = { timeUnixNano: 0n, name: '', attributes: [], droppedAttributesCount: 0, unknownFields: undefined };
  while (r.pos < end) {
    const start = r.pos;
    const t = readTag(r, end);
    switch (t) {
      case 9:
        e.timeUnixNano = r.readFixed64(end);
        break;
      case 18:
        e.name = r.readString(end);
        break;
      case 26:
        e.attributes.push(decodeKeyValue(r, r.readLengthEnd(end), 0));
        break;
      case 32:
        e.droppedAttributesCount = r.readVarint32(end);
        break;
      default:
        e.unknownFields = skipUnknown(r, t, start, end, e.unknownFields);
    }
  }
  return e;
}

function decodeLink(r: ProtobufReader, end: number): SpanLink {
  // Span.Link: 1 trace_id, 2 span_id, 3 trace_state, 4 attributes, 5 dropped_attributes_count, 6 flags fixed32
  charge(r, DECODE_COST.link);
  const l: SpanLink = {
    traceId: EMPTY_BYTES,
    spanId: EMPTY_BYTES,
    traceState: '',
    attributes: [],
    droppedAttributesCount: 0,
    flags: 0,
    unknownFields: undefined,
  };
  while (r.pos < end) {
    const start = r.pos;
    const t = readTag(r, end);
    switch (t) {
      case 10:
        l.traceId = r.readBytes(end);
        break;
      case 18:
        l.spanId = r.readBytes(end);
        break;
      case 26:
        l.traceState = r.readString(end);
        break;
      case 34:
        l.attributes.push(decodeKeyValue(r, r.readLengthEnd(end), 0));
        break;
      case 40:
        l.droppedAttributesCount = r.readVarint32(end);
        break;
      case 53:
        l.flags = r.readFixed32(end);
        break;
      default:
        l.unknownFields = skipUnknown(r, t, start, end, l.unknownFields);
    }
  }
  return l;
}

function decodeKeyValue(r: ProtobufReader, end: number, depth: number): KeyValue {
  // KeyValue: 1 key string, 2 value AnyValue (3 key_strindex, profiles only: kept as unknown)
  charge(r, DECODE_COST.keyValue);
  let key = '';
  let value: AnyValue = null;
  let seenValue = false;
  let unknown: Uint8Array | undefined;
  while (r.pos < end) {
    const start = r.pos;
    const t = readTag(r, end);
    if (t === 10) key = r.readString(end);
    else if (t === 18) {
      value = decodeAnyValue(r, r.readLengthEnd(end), depth, seenValue ? value : undefined);
      seenValue = true;
    } else unknown = skipUnknown(r, t, start, end, unknown);
  }
  return { key, value, unknownFields: unknown };
}

/**
 * AnyValue (oneof): 1 string_value, 2 bool_value, 3 int_value int64, 4 double_value f64,
 * 5 array_value ArrayValue{1 values}, 6 kvlist_value KeyValueList{1 values}, 7 bytes_value
 * (8 string_value_strindex, profiles only: kept as unknown).
 * `prev` is the value of an earlier occurrence of the same AnyValue field, to merge into.
 */
function decodeAnyValue(r: ProtobufReader, end: number, depth: number, prev: AnyValue | undefined): AnyValue {
  if (depth >= MAX_DEPTH) r.fail('depth', `AnyValue nested deeper than ${MAX_DEPTH}`);
  let value: AnyValue = null;
  let unknown: Uint8Array | undefined;
  if (prev !== undefined && prev !== null) {
    if (prev instanceof AnyValueWithUnknownFields) {
      value = prev.value;
      unknown = prev.unknownFields;
    } else value = prev;
  }
  while (r.pos < end) {
    const start = r.pos;
    const t = readTag(r, end);
    switch (t) {
      case 10:
        value = r.readString(end);
        break;
      case 16:
        value = r.readBool(end);
        break;
      case 24:
        value = r.readInt64(end);
        break;
      case 33:
        value = r.readDouble(end);
        break;
      case 42:
        value = decodeArrayValue(r, r.readLengthEnd(end), depth + 1, value instanceof ArrayValue ? value : undefined);
        break;
      case 50:
        value = decodeKeyValueList(r, r.readLengthEnd(end), depth + 1, value instanceof KeyValueList ? value : undefined);
        break;
      case 58:
        value = r.readBytes(end);
        break;
      default:
        unknown = skipUnknown(r, t, start, end, unknown);
    }
  }
  return unknown === undefined ? value : new AnyValueWithUnknownFields(value as Exclude<AnyValue, AnyValueWithUnknownFields>, unknown);
}

function decodeArrayValue(r: ProtobufReader, end: number, depth: number, into: ArrayValue | undefined): ArrayValue {
  // ArrayValue: 1 values repeated AnyValue
  if (into === undefined) charge(r, DECODE_COST.message);
  const arr = into ?? new ArrayValue([]);
  while (r.pos < end) {
    const start = r.pos;
    const t = readTag(r, end);
    if (t === 10) {
      charge(r, DECODE_COST.arrayElement);
      arr.values.push(decodeAnyValue(r, r.readLengthEnd(end), depth, undefined));
    }
    else arr.unknownFields = skipUnknown(r, t, start, end, arr.unknownFields);
  }
  return arr;
}

function decodeKeyValueList(r: ProtobufReader, end: number, depth: number, into: KeyValueList | undefined): KeyValueList {
  // KeyValueList: 1 values repeated KeyValue
  if (into === undefined) charge(r, DECODE_COST.message);
  const list = into ?? new KeyValueList([]);
  while (r.pos < end) {
    const start = r.pos;
    const t = readTag(r, end);
    if (t === 10) list.values.push(decodeKeyValue(r, r.readLengthEnd(end), depth));
    else list.unknownFields = skipUnknown(r, t, start, end, list.unknownFields);
  }
  return list;
}

// ================================================================================================
// Validation without decoding
// ================================================================================================

/**
 * Checks an ExportTraceServiceRequest exactly as decodeTracesData would, without building it, and
 * returns its span count (countSpans of the decoded request). Throws what decodeTracesData throws
 * on the same bytes and options: the same error class, kind, offset and message, limits included.
 *
 * Why: the OTLP receivers hand a protobuf request on as its bytes (the disk queue stores them), so
 * decoding it only to validate and count built objects that were garbage at once: a third of the
 * agent's decoding and much of its garbage collection (docs/benchmarks.md, fourth round).
 *
 * HOT PATH, and a mirror: each v* function below follows its decode* function above field by field,
 * in the same order, with the same reads (so the same truncation and UTF-8 errors at the same
 * offsets) and the same charges to the memory budget (so the same limit errors at the same point).
 * A change to a decoder must be made to its mirror; test/otlp/validate.test.ts compares the two on
 * valid, mutated, truncated and hostile inputs.
 */
export function validateTracesData(bytes: Uint8Array, options?: DecodeLimits): number {
  const r = new ProtobufReader(bytes, false);
  const limits = resolveDecodeLimits(options);
  r.spansLeft = limits.maxSpans;
  r.memoryLeft = limits.maxDecodedMemory - bytes.length * DECODE_COST.inputByte;
  if (r.memoryLeft < 0) overMemory(r, limits.maxDecodedMemory);
  maxMemory = limits.maxDecodedMemory;
  maxSpans = limits.maxSpans;
  if (bytes.length * (DECODE_COST.span / 2) > r.memoryLeft || bytes.length / 2 > limits.maxSpans) prescanSpans(bytes, r.memoryLeft, limits);
  const end = bytes.length;
  let spans = 0;
  while (r.pos < end) {
    const t = readTag(r, end);
    if (t === 10) spans += vResourceSpans(r, r.readLengthEnd(end));
    else r.skipField(t & 7, t >>> 3, end);
  }
  return spans;
}

/** A bytes field as readBytes reads it: its length, and the view's cost charged (checked at the next object). */
function vBytes(r: ProtobufReader, end: number): void {
  r.pos = r.readLengthEnd(end);
  r.memoryLeft -= DECODE_COST.bytesView;
}

function vResourceSpans(r: ProtobufReader, end: number): number {
  charge(r, DECODE_COST.message);
  let spans = 0;
  while (r.pos < end) {
    const t = readTag(r, end);
    if (t === 10) vResource(r, r.readLengthEnd(end));
    else if (t === 18) spans += vScopeSpans(r, r.readLengthEnd(end));
    else if (t === 26) r.checkString(end);
    else r.skipField(t & 7, t >>> 3, end);
  }
  return spans;
}

function vResource(r: ProtobufReader, end: number): void {
  while (r.pos < end) {
    const t = readTag(r, end);
    if (t === 10) vKeyValue(r, r.readLengthEnd(end), 0);
    else if (t === 16) r.readVarint32(end);
    else if (t === 26) vEntityRef(r, r.readLengthEnd(end));
    else r.skipField(t & 7, t >>> 3, end);
  }
}

function vEntityRef(r: ProtobufReader, end: number): void {
  charge(r, DECODE_COST.message);
  while (r.pos < end) {
    const t = readTag(r, end);
    if (t === 10 || t === 18 || t === 26 || t === 34) r.checkString(end);
    else r.skipField(t & 7, t >>> 3, end);
  }
}

function vScopeSpans(r: ProtobufReader, end: number): number {
  charge(r, DECODE_COST.message);
  let spans = 0;
  while (r.pos < end) {
    const t = readTag(r, end);
    if (t === 18) {
      vSpan(r, r.readLengthEnd(end));
      spans++;
    } else if (t === 10) vScope(r, r.readLengthEnd(end));
    else if (t === 26) r.checkString(end);
    else r.skipField(t & 7, t >>> 3, end);
  }
  return spans;
}

function vScope(r: ProtobufReader, end: number): void {
  while (r.pos < end) {
    const t = readTag(r, end);
    if (t === 10 || t === 18) r.checkString(end);
    else if (t === 26) vKeyValue(r, r.readLengthEnd(end), 0);
    else if (t === 32) r.readVarint32(end);
    else r.skipField(t & 7, t >>> 3, end);
  }
}

function vSpan(r: ProtobufReader, end: number): void {
  if (--r.spansLeft < 0) throw new DecodeLimitError('maxSpans', maxSpans, r.pos, 'too many spans in one request');
  charge(r, DECODE_COST.span);
  while (r.pos < end) {
    const t = readTag(r, end);
    switch (t) {
      case 10: // trace_id
      case 18: // span_id
      case 34: // parent_span_id
        vBytes(r, end);
        break;
      case 26: // trace_state
      case 42: // name
        r.checkString(end);
        break;
      case 48: // kind
      case 80: // dropped_attributes_count
      case 96: // dropped_events_count
      case 112: // dropped_links_count
        r.readVarint32(end);
        break;
      case 57: // start_time_unix_nano
      case 65: // end_time_unix_nano
        if (r.pos + 8 > end) r.fail('truncated', 'fixed64 runs past the end');
        r.pos += 8;
        break;
      case 74:
        vKeyValue(r, r.readLengthEnd(end), 0);
        break;
      case 90:
        vEvent(r, r.readLengthEnd(end));
        break;
      case 106:
        vLink(r, r.readLengthEnd(end));
        break;
      case 122:
        vStatus(r, r.readLengthEnd(end));
        break;
      case 133: // flags
        r.readFixed32(end);
        break;
      default:
        r.skipField(t & 7, t >>> 3, end);
    }
  }
}

function vStatus(r: ProtobufReader, end: number): void {
  while (r.pos < end) {
    const t = readTag(r, end);
    if (t === 18) r.checkString(end);
    else if (t === 24) r.readVarint32(end);
    else r.skipField(t & 7, t >>> 3, end);
  }
}

function vEvent(r: ProtobufReader, end: number): void {
  charge(r, DECODE_COST.event);
  while (r.pos < end) {
    const t = readTag(r, end);
    if (t === 9) {
      if (r.pos + 8 > end) r.fail('truncated', 'fixed64 runs past the end');
      r.pos += 8;
    } else if (t === 18) r.checkString(end);
    else if (t === 26) vKeyValue(r, r.readLengthEnd(end), 0);
    else if (t === 32) r.readVarint32(end);
    else r.skipField(t & 7, t >>> 3, end);
  }
}

function vLink(r: ProtobufReader, end: number): void {
  charge(r, DECODE_COST.link);
  while (r.pos < end) {
    const t = readTag(r, end);
    if (t === 10 || t === 18) vBytes(r, end);
    else if (t === 26) r.checkString(end);
    else if (t === 34) vKeyValue(r, r.readLengthEnd(end), 0);
    else if (t === 40) r.readVarint32(end);
    else if (t === 53) r.readFixed32(end);
    else r.skipField(t & 7, t >>> 3, end);
  }
}

// What an AnyValue holds, as far as its mirror needs: a later occurrence of the same field merges
// into an earlier ArrayValue or KeyValueList without charging for a new one (decodeAnyValue).
const V_OTHER = 0;
const V_ARRAY = 1;
const V_KVLIST = 2;

function vKeyValue(r: ProtobufReader, end: number, depth: number): void {
  charge(r, DECODE_COST.keyValue);
  let kind = V_OTHER;
  while (r.pos < end) {
    const t = readTag(r, end);
    if (t === 10) r.checkString(end);
    else if (t === 18) kind = vAnyValue(r, r.readLengthEnd(end), depth, kind);
    else r.skipField(t & 7, t >>> 3, end);
  }
}

/** Returns the kind of the value it leaves (`kind`: that of the earlier occurrence it merges into). */
function vAnyValue(r: ProtobufReader, end: number, depth: number, kind: number): number {
  if (depth >= MAX_DEPTH) r.fail('depth', `AnyValue nested deeper than ${MAX_DEPTH}`);
  while (r.pos < end) {
    const t = readTag(r, end);
    switch (t) {
      case 10:
        r.checkString(end);
        kind = V_OTHER;
        break;
      case 16:
      case 24:
        r.readVarint64(end);
        kind = V_OTHER;
        break;
      case 33:
        if (r.pos + 8 > end) r.fail('truncated', 'double runs past the end');
        r.pos += 8;
        kind = V_OTHER;
        break;
      case 42:
        vArrayValue(r, r.readLengthEnd(end), depth + 1, kind === V_ARRAY);
        kind = V_ARRAY;
        break;
      case 50:
        vKeyValueList(r, r.readLengthEnd(end), depth + 1, kind === V_KVLIST);
        kind = V_KVLIST;
        break;
      case 58:
        vBytes(r, end);
        kind = V_OTHER;
        break;
      default:
        r.skipField(t & 7, t >>> 3, end);
    }
  }
  return kind;
}

function vArrayValue(r: ProtobufReader, end: number, depth: number, merged: boolean): void {
  if (!merged) charge(r, DECODE_COST.message);
  while (r.pos < end) {
    const t = readTag(r, end);
    if (t === 10) {
      charge(r, DECODE_COST.arrayElement);
      vAnyValue(r, r.readLengthEnd(end), depth, V_OTHER);
    } else r.skipField(t & 7, t >>> 3, end);
  }
}

function vKeyValueList(r: ProtobufReader, end: number, depth: number, merged: boolean): void {
  if (!merged) charge(r, DECODE_COST.message);
  while (r.pos < end) {
    const t = readTag(r, end);
    if (t === 10) vKeyValue(r, r.readLengthEnd(end), depth);
    else r.skipField(t & 7, t >>> 3, end);
  }
}

/** Decodes an ExportTraceServiceResponse. */
export function decodeTraceResponse(bytes: Uint8Array): ExportTraceServiceResponse {
  const r = new ProtobufReader(bytes);
  const end = bytes.length;
  let partialSuccess: ExportTracePartialSuccess | undefined;
  let unknown: Uint8Array | undefined;
  // ExportTraceServiceResponse: 1 partial_success {1 rejected_spans int64, 2 error_message string}
  while (r.pos < end) {
    const start = r.pos;
    const t = readTag(r, end);
    if (t === 10) {
      const stop = r.readLengthEnd(end);
      const ps: ExportTracePartialSuccess = partialSuccess ?? { rejectedSpans: 0n, errorMessage: '', unknownFields: undefined };
      while (r.pos < stop) {
        const s2 = r.pos;
        const t2 = readTag(r, stop);
        if (t2 === 8) ps.rejectedSpans = r.readInt64(stop);
        else if (t2 === 18) ps.errorMessage = r.readString(stop);
        else ps.unknownFields = skipUnknown(r, t2, s2, stop, ps.unknownFields);
      }
      partialSuccess = ps;
    } else unknown = skipUnknown(r, t, start, end, unknown);
  }
  return { partialSuccess, unknownFields: unknown };
}

// ================================================================================================
// Encoding: pass 1 sizes every nested message (pre-order, into `sizes`), pass 2 writes.
// ================================================================================================

/**
 * Lengths of nested messages in pre-order, `sizes[0..sizesLength)`; reused across calls (encode is
 * not re-entrant). A typed array with its own length, not a JS array: emptying an array drops its
 * backing store, and samplers size spans one by one (encodedSpanSize), so every span reallocated it.
 */
let sizes = new Float64Array(1024);
let sizesLength = 0;
let cursor = 0;
/** Past this many entries the scratch is released after an encode (a huge request must not pin it). */
const KEPT_SIZES = 65_536;

/** The index of a new entry in `sizes` (0 until its message is sized). */
function reserveSize(): number {
  if (sizesLength === sizes.length) {
    const grown = new Float64Array(sizes.length * 2);
    grown.set(sizes);
    sizes = grown;
  }
  sizes[sizesLength] = 0;
  return sizesLength++;
}

function releaseSizes(): void {
  sizesLength = 0;
  if (sizes.length > KEPT_SIZES) sizes = new Float64Array(1024);
}

function lenFieldSize(fieldTagSize: number, len: number): number {
  return fieldTagSize + varint32Size(len) + len;
}

function stringFieldSize(s: string): number {
  const n = utf8Length(s);
  return 1 + varint32Size(n) + n;
}

/** Encodes an ExportTraceServiceRequest (or TracesData). */
export function encodeTracesData(data: TracesData): Uint8Array {
  releaseSizes();
  cursor = 0;
  let total = 0;
  for (const rs of data.resourceSpans) total += lenFieldSize(1, sizeResourceSpans(rs));
  if (data.unknownFields) total += data.unknownFields.length;
  const w = new ProtobufWriter(total);
  for (const rs of data.resourceSpans) {
    w.buf[w.pos++] = 10;
    w.varint32(sizes[cursor++]!);
    writeResourceSpans(w, rs);
  }
  if (data.unknownFields) w.raw(data.unknownFields);
  if (w.pos !== total) throw new Error(`internal: OTLP encoder wrote ${w.pos} bytes, sized ${total}`);
  releaseSizes();
  return w.buf;
}

/**
 * Bytes encodeTracesData(data) would return, computed by its sizing pass alone (nothing written):
 * what a batch costs as one OTLP protobuf request.
 */
export function encodedTracesDataSize(data: TracesData): number {
  releaseSizes();
  let total = 0;
  for (const rs of data.resourceSpans) total += lenFieldSize(1, sizeResourceSpans(rs));
  if (data.unknownFields) total += data.unknownFields.length;
  releaseSizes();
  return total;
}

/**
 * Bytes a span takes inside its ScopeSpans message (field tag, length prefix and body): what keeping
 * or dropping that span changes in an OTLP request. Samplers call it per span, so it reuses the
 * encoder's size scratch instead of encoding.
 */
export function encodedSpanSize(span: Span): number {
  sizesLength = 0;
  const n = sizeSpan(span);
  sizesLength = 0;
  return 1 + varint32Size(n) + n;
}

/**
 * encodedSpanSize of a span whose fields took `size` bytes in all (its encodedSpanSize) and now take
 * `delta` bytes more: a changed id, appended attributes, priced on their own (encodedAttributeSize)
 * instead of walking the whole span again. Samplers re-parent and annotate most spans they keep.
 */
export function resizedSpanSize(size: number, delta: number): number {
  // size = 1 + varint32Size(body) + body grows with the body, so one body has this size.
  let body = size - 2;
  while (body > 0 && 1 + varint32Size(body) + body > size) body--;
  const changed = body + delta;
  return 1 + varint32Size(changed) + changed;
}

/** Bytes an attribute takes in a message's attributes (field tag, length prefix and KeyValue). */
export function encodedAttributeSize(kv: KeyValue): number {
  sizesLength = 0;
  const n = sizeKeyValue(kv);
  sizesLength = 0;
  return 1 + varint32Size(n) + n;
}

/** Bytes a span id field takes (tag, length and id; nothing when the id is empty). */
export function encodedIdFieldSize(id: Uint8Array): number {
  return bytesFieldSize(1, id);
}

function sizeResourceSpans(rs: ResourceSpans): number {
  const idx = reserveSize();
  let n = 0;
  if (rs.resource) n += lenFieldSize(1, sizeResource(rs.resource));
  for (const ss of rs.scopeSpans) n += lenFieldSize(1, sizeScopeSpans(ss));
  if (rs.schemaUrl) n += stringFieldSize(rs.schemaUrl);
  if (rs.unknownFields) n += rs.unknownFields.length;
  sizes[idx] = n;
  return n;
}

function writeResourceSpans(w: ProtobufWriter, rs: ResourceSpans): void {
  if (rs.resource) {
    w.buf[w.pos++] = 10;
    w.varint32(sizes[cursor++]!);
    writeResource(w, rs.resource);
  }
  for (const ss of rs.scopeSpans) {
    w.buf[w.pos++] = 18;
    w.varint32(sizes[cursor++]!);
    writeScopeSpans(w, ss);
  }
  if (rs.schemaUrl) writeStringField(w, 26, rs.schemaUrl);
  if (rs.unknownFields) w.raw(rs.unknownFields);
}

function writeStringField(w: ProtobufWriter, t: number, s: string): void {
  w.buf[w.pos++] = t;
  w.string(s, utf8Length(s));
}

function sizeAttributes(attrs: readonly KeyValue[]): number {
  let n = 0;
  for (let i = 0; i < attrs.length; i++) n += lenFieldSize(1, sizeKeyValue(attrs[i]!));
  return n;
}

function writeAttributes(w: ProtobufWriter, t: number, attrs: readonly KeyValue[]): void {
  for (let i = 0; i < attrs.length; i++) {
    w.buf[w.pos++] = t;
    w.varint32(sizes[cursor++]!);
    writeKeyValue(w, attrs[i]!);
  }
}

function sizeResource(res: Resource): number {
  const idx = reserveSize();
  let n = sizeAttributes(res.attributes);
  if (res.droppedAttributesCount) n += 1 + varint32Size(res.droppedAttributesCount);
  for (const ref of res.entityRefs) n += lenFieldSize(1, sizeEntityRef(ref));
  if (res.unknownFields) n += res.unknownFields.length;
  sizes[idx] = n;
  return n;
}

function writeResource(w: ProtobufWriter, res: Resource): void {
  writeAttributes(w, 10, res.attributes);
  if (res.droppedAttributesCount) {
    w.buf[w.pos++] = 16;
    w.varint32(res.droppedAttributesCount);
  }
  for (const ref of res.entityRefs) {
    w.buf[w.pos++] = 26;
    w.varint32(sizes[cursor++]!);
    writeEntityRef(w, ref);
  }
  if (res.unknownFields) w.raw(res.unknownFields);
}

function sizeEntityRef(ref: EntityRef): number {
  const idx = reserveSize();
  let n = 0;
  if (ref.schemaUrl) n += stringFieldSize(ref.schemaUrl);
  if (ref.type) n += stringFieldSize(ref.type);
  for (const k of ref.idKeys) n += stringFieldSize(k);
  for (const k of ref.descriptionKeys) n += stringFieldSize(k);
  if (ref.unknownFields) n += ref.unknownFields.length;
  sizes[idx] = n;
  return n;
}

function writeEntityRef(w: ProtobufWriter, ref: EntityRef): void {
  if (ref.schemaUrl) writeStringField(w, 10, ref.schemaUrl);
  if (ref.type) writeStringField(w, 18, ref.type);
  for (const k of ref.idKeys) writeStringField(w, 26, k);
  for (const k of ref.descriptionKeys) writeStringField(w, 34, k);
  if (ref.unknownFields) w.raw(ref.unknownFields);
}

function sizeScopeSpans(ss: ScopeSpans): number {
  const idx = reserveSize();
  let n = 0;
  if (ss.scope) n += lenFieldSize(1, sizeScope(ss.scope));
  const spans = ss.spans;
  for (let i = 0; i < spans.length; i++) n += lenFieldSize(1, sizeSpan(spans[i]!));
  if (ss.schemaUrl) n += stringFieldSize(ss.schemaUrl);
  if (ss.unknownFields) n += ss.unknownFields.length;
  sizes[idx] = n;
  return n;
}

function writeScopeSpans(w: ProtobufWriter, ss: ScopeSpans): void {
  if (ss.scope) {
    w.buf[w.pos++] = 10;
    w.varint32(sizes[cursor++]!);
    writeScope(w, ss.scope);
  }
  const spans = ss.spans;
  for (let i = 0; i < spans.length; i++) {
    w.buf[w.pos++] = 18;
    w.varint32(sizes[cursor++]!);
    writeSpan(w, spans[i]!);
  }
  if (ss.schemaUrl) writeStringField(w, 26, ss.schemaUrl);
  if (ss.unknownFields) w.raw(ss.unknownFields);
}

function sizeScope(s: InstrumentationScope): number {
  const idx = reserveSize();
  let n = 0;
  if (s.name) n += stringFieldSize(s.name);
  if (s.version) n += stringFieldSize(s.version);
  n += sizeAttributes(s.attributes);
  if (s.droppedAttributesCount) n += 1 + varint32Size(s.droppedAttributesCount);
  if (s.unknownFields) n += s.unknownFields.length;
  sizes[idx] = n;
  return n;
}

function writeScope(w: ProtobufWriter, s: InstrumentationScope): void {
  if (s.name) writeStringField(w, 10, s.name);
  if (s.version) writeStringField(w, 18, s.version);
  writeAttributes(w, 26, s.attributes);
  if (s.droppedAttributesCount) {
    w.buf[w.pos++] = 32;
    w.varint32(s.droppedAttributesCount);
  }
  if (s.unknownFields) w.raw(s.unknownFields);
}

function bytesFieldSize(tagSize: number, b: Uint8Array): number {
  return b.length === 0 ? 0 : tagSize + varint32Size(b.length) + b.length;
}

function sizeSpan(s: Span): number {
  const idx = reserveSize();
  let n = bytesFieldSize(1, s.traceId) + bytesFieldSize(1, s.spanId) + bytesFieldSize(1, s.parentSpanId);
  if (s.traceState) n += stringFieldSize(s.traceState);
  if (s.name) n += stringFieldSize(s.name);
  if (s.kind) n += 1 + varint32Size(s.kind);
  if (s.startTimeUnixNano) n += 9;
  if (s.endTimeUnixNano) n += 9;
  n += sizeAttributes(s.attributes);
  if (s.droppedAttributesCount) n += 1 + varint32Size(s.droppedAttributesCount);
  for (let i = 0; i < s.events.length; i++) n += lenFieldSize(1, sizeEvent(s.events[i]!));
  if (s.droppedEventsCount) n += 1 + varint32Size(s.droppedEventsCount);
  for (let i = 0; i < s.links.length; i++) n += lenFieldSize(1, sizeLink(s.links[i]!));
  if (s.droppedLinksCount) n += 1 + varint32Size(s.droppedLinksCount);
  if (s.status) n += lenFieldSize(1, sizeStatus(s.status));
  if (s.flags) n += 2 + 4; // field 16 needs a two-byte tag
  if (s.unknownFields) n += s.unknownFields.length;
  sizes[idx] = n;
  return n;
}

function writeBytesField(w: ProtobufWriter, t: number, b: Uint8Array): void {
  if (b.length === 0) return;
  w.buf[w.pos++] = t;
  w.bytes(b);
}

function writeSpan(w: ProtobufWriter, s: Span): void {
  writeBytesField(w, 10, s.traceId);
  writeBytesField(w, 18, s.spanId);
  if (s.traceState) writeStringField(w, 26, s.traceState);
  writeBytesField(w, 34, s.parentSpanId);
  if (s.name) writeStringField(w, 42, s.name);
  if (s.kind) {
    w.buf[w.pos++] = 48;
    w.varint32(s.kind);
  }
  if (s.startTimeUnixNano) {
    w.buf[w.pos++] = 57;
    w.fixed64(s.startTimeUnixNano);
  }
  if (s.endTimeUnixNano) {
    w.buf[w.pos++] = 65;
    w.fixed64(s.endTimeUnixNano);
  }
  writeAttributes(w, 74, s.attributes);
  if (s.droppedAttributesCount) {
    w.buf[w.pos++] = 80;
    w.varint32(s.droppedAttributesCount);
  }
  for (let i = 0; i < s.events.length; i++) {
    w.buf[w.pos++] = 90;
    w.varint32(sizes[cursor++]!);
    writeEvent(w, s.events[i]!);
  }
  if (s.droppedEventsCount) {
    w.buf[w.pos++] = 96;
    w.varint32(s.droppedEventsCount);
  }
  for (let i = 0; i < s.links.length; i++) {
    w.buf[w.pos++] = 106;
    w.varint32(sizes[cursor++]!);
    writeLink(w, s.links[i]!);
  }
  if (s.droppedLinksCount) {
    w.buf[w.pos++] = 112;
    w.varint32(s.droppedLinksCount);
  }
  if (s.status) {
    w.buf[w.pos++] = 122;
    w.varint32(sizes[cursor++]!);
    writeStatus(w, s.status);
  }
  if (s.flags) {
    w.varint32(133); // 0x85 0x01
    w.fixed32(s.flags);
  }
  if (s.unknownFields) w.raw(s.unknownFields);
}

function sizeStatus(s: Status): number {
  const idx = reserveSize();
  let n = 0;
  if (s.message) n += stringFieldSize(s.message);
  if (s.code) n += 1 + varint32Size(s.code);
  if (s.unknownFields) n += s.unknownFields.length;
  sizes[idx] = n;
  return n;
}

function writeStatus(w: ProtobufWriter, s: Status): void {
  if (s.message) writeStringField(w, 18, s.message);
  if (s.code) {
    w.buf[w.pos++] = 24;
    w.varint32(s.code);
  }
  if (s.unknownFields) w.raw(s.unknownFields);
}

function sizeEvent(e: SpanEvent): number {
  const idx = reserveSize();
  let n = 0;
  if (e.timeUnixNano) n += 9;
  if (e.name) n += stringFieldSize(e.name);
  n += sizeAttributes(e.attributes);
  if (e.droppedAttributesCount) n += 1 + varint32Size(e.droppedAttributesCount);
  if (e.unknownFields) n += e.unknownFields.length;
  sizes[idx] = n;
  return n;
}

function writeEvent(w: ProtobufWriter, e: SpanEvent): void {
  if (e.timeUnixNano) {
    w.buf[w.pos++] = 9;
    w.fixed64(e.timeUnixNano);
  }
  if (e.name) writeStringField(w, 18, e.name);
  writeAttributes(w, 26, e.attributes);
  if (e.droppedAttributesCount) {
    w.buf[w.pos++] = 32;
    w.varint32(e.droppedAttributesCount);
  }
  if (e.unknownFields) w.raw(e.unknownFields);
}

function sizeLink(l: SpanLink): number {
  const idx = reserveSize();
  let n = bytesFieldSize(1, l.traceId) + bytesFieldSize(1, l.spanId);
  if (l.traceState) n += stringFieldSize(l.traceState);
  n += sizeAttributes(l.attributes);
  if (l.droppedAttributesCount) n += 1 + varint32Size(l.droppedAttributesCount);
  if (l.flags) n += 1 + 4;
  if (l.unknownFields) n += l.unknownFields.length;
  sizes[idx] = n;
  return n;
}

function writeLink(w: ProtobufWriter, l: SpanLink): void {
  writeBytesField(w, 10, l.traceId);
  writeBytesField(w, 18, l.spanId);
  if (l.traceState) writeStringField(w, 26, l.traceState);
  writeAttributes(w, 34, l.attributes);
  if (l.droppedAttributesCount) {
    w.buf[w.pos++] = 40;
    w.varint32(l.droppedAttributesCount);
  }
  if (l.flags) {
    w.buf[w.pos++] = 53;
    w.fixed32(l.flags);
  }
  if (l.unknownFields) w.raw(l.unknownFields);
}

function sizeKeyValue(kv: KeyValue): number {
  const idx = reserveSize();
  let n = kv.key ? stringFieldSize(kv.key) : 0;
  // A KeyValue always carries its value field, even an empty AnyValue, so presence survives.
  n += lenFieldSize(1, sizeAnyValue(kv.value));
  if (kv.unknownFields) n += kv.unknownFields.length;
  sizes[idx] = n;
  return n;
}

function writeKeyValue(w: ProtobufWriter, kv: KeyValue): void {
  if (kv.key) writeStringField(w, 10, kv.key);
  w.buf[w.pos++] = 18;
  w.varint32(sizes[cursor++]!);
  writeAnyValue(w, kv.value);
  if (kv.unknownFields) w.raw(kv.unknownFields);
}

function sizeAnyValue(v: AnyValue): number {
  const idx = reserveSize();
  const n = anyValueBodySize(v);
  sizes[idx] = n;
  return n;
}

function anyValueBodySize(v: AnyValue): number {
  switch (typeof v) {
    case 'string':
      return stringFieldSize(v);
    case 'boolean':
      return 2;
    case 'bigint':
      if (v >= 0n && v < 0x80000000n) return 1 + varint32Size(Number(v));
      {
        const { lo, hi } = int64Words(v);
        return 1 + varint64Size(lo, hi);
      }
    case 'number':
      return 9;
    default:
      break;
  }
  if (v === null) return 0;
  if (v instanceof Uint8Array) return 1 + varint32Size(v.length) + v.length;
  if (v instanceof ArrayValue) {
    const idx = reserveSize();
    let n = 0;
    for (const item of v.values) n += lenFieldSize(1, sizeAnyValue(item));
    if (v.unknownFields) n += v.unknownFields.length;
    sizes[idx] = n;
    return lenFieldSize(1, n);
  }
  if (v instanceof KeyValueList) {
    const idx = reserveSize();
    let n = 0;
    for (const item of v.values) n += lenFieldSize(1, sizeKeyValue(item));
    if (v.unknownFields) n += v.unknownFields.length;
    sizes[idx] = n;
    return lenFieldSize(1, n);
  }
  if (v instanceof AnyValueWithUnknownFields) return anyValueBodySize(v.value) + v.unknownFields.length;
  throw new TypeError(`not an AnyValue: ${Object.prototype.toString.call(v)}`);
}

function writeAnyValue(w: ProtobufWriter, v: AnyValue): void {
  switch (typeof v) {
    case 'string':
      writeStringField(w, 10, v);
      return;
    case 'boolean':
      w.buf[w.pos++] = 16;
      w.buf[w.pos++] = v ? 1 : 0;
      return;
    case 'bigint':
      w.buf[w.pos++] = 24;
      if (v >= 0n && v < 0x80000000n) w.varint32(Number(v));
      else {
        const { lo, hi } = int64Words(v);
        w.varint64(lo, hi);
      }
      return;
    case 'number':
      w.buf[w.pos++] = 33;
      w.double(v);
      return;
    default:
      break;
  }
  if (v === null) return;
  if (v instanceof Uint8Array) {
    w.buf[w.pos++] = 58;
    w.bytes(v);
  } else if (v instanceof ArrayValue) {
    w.buf[w.pos++] = 42;
    w.varint32(sizes[cursor++]!);
    for (const item of v.values) {
      w.buf[w.pos++] = 10;
      w.varint32(sizes[cursor++]!);
      writeAnyValue(w, item);
    }
    if (v.unknownFields) w.raw(v.unknownFields);
  } else if (v instanceof KeyValueList) {
    w.buf[w.pos++] = 50;
    w.varint32(sizes[cursor++]!);
    for (const item of v.values) {
      w.buf[w.pos++] = 10;
      w.varint32(sizes[cursor++]!);
      writeKeyValue(w, item);
    }
    if (v.unknownFields) w.raw(v.unknownFields);
  } else if (v instanceof AnyValueWithUnknownFields) {
    writeAnyValue(w, v.value);
    w.raw(v.unknownFields);
  }
}

/** Encodes an ExportTraceServiceResponse. */
export function encodeTraceResponse(resp: ExportTraceServiceResponse): Uint8Array {
  const ps = resp.partialSuccess;
  let inner = 0;
  let rej = { lo: 0, hi: 0 };
  if (ps) {
    if (ps.rejectedSpans) {
      rej = int64Words(ps.rejectedSpans);
      inner += 1 + varint64Size(rej.lo, rej.hi);
    }
    if (ps.errorMessage) inner += stringFieldSize(ps.errorMessage);
    if (ps.unknownFields) inner += ps.unknownFields.length;
  }
  const total = (ps ? lenFieldSize(1, inner) : 0) + (resp.unknownFields?.length ?? 0);
  const w = new ProtobufWriter(total);
  if (ps) {
    w.buf[w.pos++] = 10;
    w.varint32(inner);
    if (ps.rejectedSpans) {
      w.buf[w.pos++] = 8;
      w.varint64(rej.lo, rej.hi);
    }
    if (ps.errorMessage) writeStringField(w, 18, ps.errorMessage);
    if (ps.unknownFields) w.raw(ps.unknownFields);
  }
  if (resp.unknownFields) w.raw(resp.unknownFields);
  return w.buf;
}
