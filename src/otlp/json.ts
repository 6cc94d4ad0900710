// OTLP/JSON codec for traces: ExportTraceServiceRequest / ExportTraceServiceResponse as the OTLP
// specification's JSON encoding (the body of OTLP/HTTP with `application/json`, and the lines the
// Collector's file exporter writes) <-> the in-memory model.
//
// OTLP/JSON is proto3 JSON with deviations, so a generic proto-JSON library cannot do this: ids are
// hex (not base64), enums are integers, 64-bit integers are decimal strings (numbers accepted on
// decode), keys are lowerCamelCase (snake_case accepted on decode, as proto3 JSON parsers do),
// unknown keys are ignored, and `null` for a field means the field is absent.
//
// What JSON cannot carry, and is therefore dropped on encode: the model's `unknownFields` bytes
// (JSON has no place for protobuf fields of unknown meaning; an AnyValueWithUnknownFields is
// written as its inner value). So JSON is lossless for everything the model names, and a round
// trip through JSON equals the original only when it had no unknown fields.
//
// Lenient where the wire format is: ids of any even hex length are accepted (the model, like the
// protobuf codec, carries ids as plain bytes; rejecting a non-16-byte trace id is a validator's
// job), and empty strings decode to empty ids.
//
// 64-bit exactness: JSON.parse rounds numbers beyond 2^53, and real writers do put nanosecond
// times as bare numbers. Decoding runs on JSON.parse (native, fast) and, only when a 64-bit field
// meets such a number, parses the text again with a small parser that keeps those numbers as
// bigint. Canonical input (strings) never pays for the second parse. The digits are read as
// written: a JS writer's double 2^60 prints as 1152921504606847000, and that is the value decoded.
//
// Not the hottest path (protobuf is), but it runs per span: no per-field path strings (error paths
// are assembled while an error unwinds) and no closures per span. The encoder writes the text
// itself rather than an object tree for JSON.stringify, because JSON.stringify prints -0 as 0 and
// the tree would be a second copy of the data. Measured on a 2-core machine, 11.6 MB of typical
// spans: encode about 75 MB/s, decode about 120 MB/s (JSON.parse alone is about 200 MB/s).
import {
  AnyValueWithUnknownFields,
  ArrayValue,
  EMPTY_BYTES,
  InputError,
  KeyValueList,
  bytesToHex,
  hexToBytes,
  kv,
  makeEntityRef,
  makeEvent,
  makeLink,
  makeResource,
  makeResourceSpans,
  makeScope,
  makeScopeSpans,
  makeSpan,
  makeStatus,
  makeTracesData,
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
} from '../model/index.js';
// The protobuf codec's AnyValue nesting limit, so a message one codec accepts the other accepts too.
import { MAX_DEPTH } from './wire.js';
import { DECODE_COST, DecodeLimitError, resolveDecodeLimits, type DecodeLimits } from './limits.js';

/**
 * Nesting limit of the exact re-parse (JSON containers, not AnyValues): above the 3 JSON levels per
 * AnyValue level times MAX_DEPTH plus the envelope, below what the call stack can take.
 */
const MAX_JSON_DEPTH = 1024;

// ---------------------------------------------------------------------------------------------
// Encode
// ---------------------------------------------------------------------------------------------

/** An ExportTraceServiceRequest as OTLP/JSON. Drops unknownFields (see the top of this file). */
export function encodeTracesJson(data: TracesData): string {
  const list = data.resourceSpans;
  if (list.length === 0) return '{}';
  let s = '{"resourceSpans":[';
  for (let i = 0; i < list.length; i++) {
    if (i > 0) s += ',';
    s = writeResourceSpans(s, list[i]!);
  }
  return s + ']}';
}

/** An ExportTraceServiceResponse as OTLP/JSON; `{}` is full success. */
export function encodeTraceResponseJson(r: ExportTraceServiceResponse): string {
  const p = r.partialSuccess;
  if (!p) return '{}';
  let s = '{"partialSuccess":';
  let c = '{';
  if (p.rejectedSpans !== 0n) {
    s += c + '"rejectedSpans":"' + p.rejectedSpans + '"';
    c = ',';
  }
  if (p.errorMessage !== '') {
    s += c + '"errorMessage":' + JSON.stringify(p.errorMessage);
    c = ',';
  }
  return s + (c === '{' ? '{}}' : '}}');
}

// The writers below append one message to `s` and return it. Each opens with `c = '{'` and sets
// c = ',' after the first field, so a message whose fields are all default closes as `{}`
// (presence of message fields is kept; proto3 defaults are omitted).

/** ResourceSpans: 1 resource, 2 scope_spans, 3 schema_url. */
function writeResourceSpans(s: string, r: ResourceSpans): string {
  let c = '{';
  if (r.resource) {
    s = writeResource(s + c + '"resource":', r.resource);
    c = ',';
  }
  const list = r.scopeSpans;
  if (list.length > 0) {
    s += c + '"scopeSpans":[';
    for (let i = 0; i < list.length; i++) {
      if (i > 0) s += ',';
      s = writeScopeSpans(s, list[i]!);
    }
    s += ']';
    c = ',';
  }
  if (r.schemaUrl !== '') {
    s += c + '"schemaUrl":' + JSON.stringify(r.schemaUrl);
    c = ',';
  }
  return s + (c === '{' ? '{}' : '}');
}

/** Resource: 1 attributes, 2 dropped_attributes_count, 3 entity_refs. */
function writeResource(s: string, r: Resource): string {
  let c = '{';
  if (r.attributes.length > 0) {
    s = writeKeyValues(s + c + '"attributes":', r.attributes);
    c = ',';
  }
  if (r.droppedAttributesCount !== 0) {
    s += c + '"droppedAttributesCount":' + r.droppedAttributesCount;
    c = ',';
  }
  const refs = r.entityRefs;
  if (refs.length > 0) {
    s += c + '"entityRefs":[';
    for (let i = 0; i < refs.length; i++) {
      if (i > 0) s += ',';
      s = writeEntityRef(s, refs[i]!);
    }
    s += ']';
    c = ',';
  }
  return s + (c === '{' ? '{}' : '}');
}

/** EntityRef: 1 schema_url, 2 type, 3 id_keys, 4 description_keys. */
function writeEntityRef(s: string, e: EntityRef): string {
  let c = '{';
  if (e.schemaUrl !== '') {
    s += c + '"schemaUrl":' + JSON.stringify(e.schemaUrl);
    c = ',';
  }
  if (e.type !== '') {
    s += c + '"type":' + JSON.stringify(e.type);
    c = ',';
  }
  if (e.idKeys.length > 0) {
    s += c + '"idKeys":' + JSON.stringify(e.idKeys);
    c = ',';
  }
  if (e.descriptionKeys.length > 0) {
    s += c + '"descriptionKeys":' + JSON.stringify(e.descriptionKeys);
    c = ',';
  }
  return s + (c === '{' ? '{}' : '}');
}

/** ScopeSpans: 1 scope, 2 spans, 3 schema_url. */
function writeScopeSpans(s: string, ss: ScopeSpans): string {
  let c = '{';
  if (ss.scope) {
    s = writeScope(s + c + '"scope":', ss.scope);
    c = ',';
  }
  const spans = ss.spans;
  if (spans.length > 0) {
    s += c + '"spans":[';
    for (let i = 0; i < spans.length; i++) {
      if (i > 0) s += ',';
      s = writeSpan(s, spans[i]!);
    }
    s += ']';
    c = ',';
  }
  if (ss.schemaUrl !== '') {
    s += c + '"schemaUrl":' + JSON.stringify(ss.schemaUrl);
    c = ',';
  }
  return s + (c === '{' ? '{}' : '}');
}

/** InstrumentationScope: 1 name, 2 version, 3 attributes, 4 dropped_attributes_count. */
function writeScope(s: string, sc: InstrumentationScope): string {
  let c = '{';
  if (sc.name !== '') {
    s += c + '"name":' + JSON.stringify(sc.name);
    c = ',';
  }
  if (sc.version !== '') {
    s += c + '"version":' + JSON.stringify(sc.version);
    c = ',';
  }
  if (sc.attributes.length > 0) {
    s = writeKeyValues(s + c + '"attributes":', sc.attributes);
    c = ',';
  }
  if (sc.droppedAttributesCount !== 0) {
    s += c + '"droppedAttributesCount":' + sc.droppedAttributesCount;
    c = ',';
  }
  return s + (c === '{' ? '{}' : '}');
}

/**
 * Span, in the declaration order of trace.proto (which protobuf JSON writers follow): 1 trace_id,
 * 2 span_id, 3 trace_state, 4 parent_span_id, 16 flags, 5 name, 6 kind, 7 start_time_unix_nano,
 * 8 end_time_unix_nano, 9 attributes, 10 dropped_attributes_count, 11 events,
 * 12 dropped_events_count, 13 links, 14 dropped_links_count, 15 status.
 */
function writeSpan(s: string, sp: Span): string {
  let c = '{';
  if (sp.traceId.length > 0) {
    s += c + '"traceId":"' + bytesToHex(sp.traceId) + '"';
    c = ',';
  }
  if (sp.spanId.length > 0) {
    s += c + '"spanId":"' + bytesToHex(sp.spanId) + '"';
    c = ',';
  }
  if (sp.traceState !== '') {
    s += c + '"traceState":' + JSON.stringify(sp.traceState);
    c = ',';
  }
  if (sp.parentSpanId.length > 0) {
    s += c + '"parentSpanId":"' + bytesToHex(sp.parentSpanId) + '"';
    c = ',';
  }
  if (sp.flags !== 0) {
    s += c + '"flags":' + sp.flags;
    c = ',';
  }
  if (sp.name !== '') {
    s += c + '"name":' + JSON.stringify(sp.name);
    c = ',';
  }
  if (sp.kind !== 0) {
    s += c + '"kind":' + sp.kind;
    c = ',';
  }
  if (sp.startTimeUnixNano !== 0n) {
    s += c + '"startTimeUnixNano":"' + sp.startTimeUnixNano + '"';
    c = ',';
  }
  if (sp.endTimeUnixNano !== 0n) {
    s += c + '"endTimeUnixNano":"' + sp.endTimeUnixNano + '"';
    c = ',';
  }
  if (sp.attributes.length > 0) {
    s = writeKeyValues(s + c + '"attributes":', sp.attributes);
    c = ',';
  }
  if (sp.droppedAttributesCount !== 0) {
    s += c + '"droppedAttributesCount":' + sp.droppedAttributesCount;
    c = ',';
  }
  const events = sp.events;
  if (events.length > 0) {
    s += c + '"events":[';
    for (let i = 0; i < events.length; i++) {
      if (i > 0) s += ',';
      s = writeEvent(s, events[i]!);
    }
    s += ']';
    c = ',';
  }
  if (sp.droppedEventsCount !== 0) {
    s += c + '"droppedEventsCount":' + sp.droppedEventsCount;
    c = ',';
  }
  const links = sp.links;
  if (links.length > 0) {
    s += c + '"links":[';
    for (let i = 0; i < links.length; i++) {
      if (i > 0) s += ',';
      s = writeLink(s, links[i]!);
    }
    s += ']';
    c = ',';
  }
  if (sp.droppedLinksCount !== 0) {
    s += c + '"droppedLinksCount":' + sp.droppedLinksCount;
    c = ',';
  }
  if (sp.status) {
    s = writeStatus(s + c + '"status":', sp.status);
    c = ',';
  }
  return s + (c === '{' ? '{}' : '}');
}

/** Span.Event: 1 time_unix_nano, 2 name, 3 attributes, 4 dropped_attributes_count. */
function writeEvent(s: string, e: SpanEvent): string {
  let c = '{';
  if (e.timeUnixNano !== 0n) {
    s += c + '"timeUnixNano":"' + e.timeUnixNano + '"';
    c = ',';
  }
  if (e.name !== '') {
    s += c + '"name":' + JSON.stringify(e.name);
    c = ',';
  }
  if (e.attributes.length > 0) {
    s = writeKeyValues(s + c + '"attributes":', e.attributes);
    c = ',';
  }
  if (e.droppedAttributesCount !== 0) {
    s += c + '"droppedAttributesCount":' + e.droppedAttributesCount;
    c = ',';
  }
  return s + (c === '{' ? '{}' : '}');
}

/** Span.Link: 1 trace_id, 2 span_id, 3 trace_state, 4 attributes, 5 dropped_attributes_count, 6 flags. */
function writeLink(s: string, l: SpanLink): string {
  let c = '{';
  if (l.traceId.length > 0) {
    s += c + '"traceId":"' + bytesToHex(l.traceId) + '"';
    c = ',';
  }
  if (l.spanId.length > 0) {
    s += c + '"spanId":"' + bytesToHex(l.spanId) + '"';
    c = ',';
  }
  if (l.traceState !== '') {
    s += c + '"traceState":' + JSON.stringify(l.traceState);
    c = ',';
  }
  if (l.attributes.length > 0) {
    s = writeKeyValues(s + c + '"attributes":', l.attributes);
    c = ',';
  }
  if (l.droppedAttributesCount !== 0) {
    s += c + '"droppedAttributesCount":' + l.droppedAttributesCount;
    c = ',';
  }
  if (l.flags !== 0) {
    s += c + '"flags":' + l.flags;
    c = ',';
  }
  return s + (c === '{' ? '{}' : '}');
}

/** Status: 2 message, 3 code (field 1 is reserved). */
function writeStatus(s: string, st: Status): string {
  let c = '{';
  if (st.message !== '') {
    s += c + '"message":' + JSON.stringify(st.message);
    c = ',';
  }
  if (st.code !== 0) {
    s += c + '"code":' + st.code;
    c = ',';
  }
  return s + (c === '{' ? '{}' : '}');
}

/** A repeated KeyValue as a JSON array (callers skip empty lists). */
function writeKeyValues(s: string, list: readonly KeyValue[]): string {
  s += '[';
  for (let i = 0; i < list.length; i++) {
    if (i > 0) s += ',';
    const item = list[i]!;
    // KeyValue: 1 key, 2 value. An AnyValue with nothing set is still a present message: `{}`.
    s = writeAnyValue(item.key === '' ? s + '{"value":' : s + '{"key":' + JSON.stringify(item.key) + ',"value":', item.value);
    s += '}';
  }
  return s + ']';
}

/** AnyValue (oneof): 1 string, 2 bool, 3 int (string), 4 double, 5 array, 6 kvlist, 7 bytes (base64). */
function writeAnyValue(s: string, v: AnyValue): string {
  switch (typeof v) {
    case 'string':
      return s + '{"stringValue":' + JSON.stringify(v) + '}';
    case 'boolean':
      return s + (v ? '{"boolValue":true}' : '{"boolValue":false}');
    case 'bigint':
      return s + '{"intValue":"' + v + '"}';
    case 'number':
      return s + '{"doubleValue":' + doubleJson(v) + '}';
  }
  if (v === null) return s + '{}';
  if (v instanceof Uint8Array) return s + '{"bytesValue":"' + bytesToBase64(v) + '"}';
  if (v instanceof ArrayValue) {
    const values = v.values;
    if (values.length === 0) return s + '{"arrayValue":{}}';
    s += '{"arrayValue":{"values":[';
    for (let i = 0; i < values.length; i++) {
      if (i > 0) s += ',';
      s = writeAnyValue(s, values[i]!);
    }
    return s + ']}}';
  }
  if (v instanceof KeyValueList) {
    if (v.values.length === 0) return s + '{"kvlistValue":{}}';
    return writeKeyValues(s + '{"kvlistValue":{"values":', v.values) + '}}';
  }
  if (v instanceof AnyValueWithUnknownFields) return writeAnyValue(s, v.value);
  throw new TypeError(`not an AnyValue of the model: ${String(v)}`);
}

/** proto3 JSON doubles: non-finite values as strings; -0 keeps its sign (String(-0) is "0"). */
function doubleJson(v: number): string {
  if (v !== v) return '"NaN"';
  if (v === Infinity) return '"Infinity"';
  if (v === -Infinity) return '"-Infinity"';
  if (v === 0 && 1 / v < 0) return '-0';
  return String(v);
}

function bytesToBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

// ---------------------------------------------------------------------------------------------
// Decode
// ---------------------------------------------------------------------------------------------

/**
 * A decode failure at a JSON path. The path is built while the error unwinds (each object and
 * array level prepends its key or index), so successful decoding never formats a path.
 */
class PathError extends Error {
  path = '';
  constructor(readonly detail: string) {
    super(detail);
  }
}

/** A 64-bit field met a JSON number that JSON.parse has already rounded (beyond 2^53). */
class InexactNumber extends PathError {
  constructor() {
    super('integer beyond 2^53 written as a JSON number cannot be read exactly; write 64-bit integers as decimal strings');
  }
}

/** Prepends a key or array index to the path of a PathError; other errors are returned as they are. */
function addPath(e: unknown, key: string | number): unknown {
  if (e instanceof PathError) {
    const seg = typeof key === 'number' ? `[${key}]` : key;
    e.path = e.path === '' ? seg : e.path.charCodeAt(0) === 91 /* [ */ ? seg + e.path : `${seg}.${e.path}`;
  }
  return e;
}

function within(e: unknown, key: string | number): never {
  throw addPath(e, key);
}

function toInputError(e: unknown, where: string, source: string | undefined): unknown {
  if (!(e instanceof PathError)) return e;
  return new InputError(e.path === '' ? where + e.detail : `${where}${e.path}: ${e.detail}`, source);
}

/** Decodes one OTLP/JSON ExportTraceServiceRequest (or TracesData, which has the same shape). */
export function decodeTracesJson(text: string, source?: string, limits?: DecodeLimits): TracesData {
  return decodeText(text, decodeRequest, '', source, limits);
}

/** Decodes a request from an already parsed JSON value (e.g. a parsed HTTP body). */
export function decodeTracesJsonValue(value: unknown, source?: string, limits?: DecodeLimits): TracesData {
  startBudget(limits, 0, source);
  rejectLoneSurrogates(value, '', source);
  try {
    return decodeRequest(value);
  } catch (e) {
    throw toInputError(e, '', source);
  }
}

/**
 * Decodes JSON Lines, one request per non-empty line, as the Collector's file exporter writes them.
 * Errors name the 1-based line number.
 */
export function decodeTracesJsonLines(text: string, source?: string, limits?: DecodeLimits): TracesData[] {
  const out: TracesData[] = [];
  let start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (let line = 1; start <= text.length; line++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (!isBlank(text, start, end)) out.push(decodeText(text.slice(start, end), decodeRequest, `line ${line}: `, source, limits));
    start = end + 1;
  }
  return out;
}

/** Decodes an ExportTraceServiceResponse; an empty body (some servers send one on success) is `{}`. */
export function decodeTraceResponseJson(text: string, source?: string): ExportTraceServiceResponse {
  if (isBlank(text, 0, text.length)) return { partialSuccess: undefined, unknownFields: undefined };
  return decodeText(text, decodeResponse, '', source);
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return false;
  }
  return true;
}

// ---- limits (see limits.ts): decoding is synchronous, so one budget at a time -------------------

let spansLeft = Infinity;
let memoryLeft = Infinity;
let limitsInForce: Required<DecodeLimits> = resolveDecodeLimits(undefined);
let limitSource: string | undefined;

/**
 * Starts a request's budget and charges what JSON.parse will build from `text`: the text's strings
 * and one object per `{` or `[`. The count is only taken for texts large enough to matter (below
 * the limit divided by the worst case, about 110 bytes per character for `{},`, nothing can fail).
 */
function startBudget(limits: DecodeLimits | undefined, textLength: number, source: string | undefined, text?: string): void {
  limitsInForce = resolveDecodeLimits(limits);
  limitSource = source;
  spansLeft = limitsInForce.maxSpans;
  memoryLeft = limitsInForce.maxDecodedMemory - textLength * DECODE_COST.jsonChar;
  if (text !== undefined && textLength * 110 > memoryLeft) {
    let containers = 0;
    for (let i = 0; i < textLength; i++) {
      const c = text.charCodeAt(i);
      if (c === 123 /* { */ || c === 91 /* [ */) containers++;
    }
    memoryLeft -= containers * (DECODE_COST.jsonContainer + DECODE_COST.arrayElement);
  }
  if (memoryLeft < 0) overMemory();
}

function overMemory(): never {
  throw new DecodeLimitError('maxDecodedMemory', limitsInForce.maxDecodedMemory, 0, 'the request would take more memory to decode than allowed', limitSource);
}

function charge(cost: number): void {
  if ((memoryLeft -= cost) < 0) overMemory();
}

function chargeSpan(): void {
  if (--spansLeft < 0) throw new DecodeLimitError('maxSpans', limitsInForce.maxSpans, 0, 'too many spans in one request', limitSource);
  charge(DECODE_COST.span);
}

// ---- lone surrogates ----------------------------------------------------------------------------

// A `\uD800`-`\uDFFF` escape: the only way JSON text that is itself valid Unicode can hold a lone
// surrogate. Text without one (nearly all) is not walked.
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function isWellFormed(s: string): boolean {
  const f = (s as unknown as { isWellFormed?: () => boolean }).isWellFormed;
  return f ? f.call(s) : !LONE_SURROGATE.test(s);
}

/**
 * Rejects a lone UTF-16 surrogate anywhere in the parsed value (keys included). The model's
 * strings are written as UTF-8, where a lone surrogate can only become U+FFFD: rejecting keeps
 * every decoded string losslessly encodable (issue 15).
 */
function rejectLoneSurrogates(value: unknown, where: string, source: string | undefined): void {
  const path = loneSurrogatePath(value, 0);
  if (path !== undefined) {
    throw new InputError(`${where}${path === '' ? '' : `${path}: `}lone UTF-16 surrogate in a string (OTLP/JSON strings must be valid Unicode)`, source);
  }
}

function loneSurrogatePath(v: unknown, depth: number): string | undefined {
  if (typeof v === 'string') return isWellFormed(v) ? undefined : '';
  if (typeof v !== 'object' || v === null || depth > MAX_JSON_DEPTH) return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = loneSurrogatePath(v[i], depth + 1);
      if (p !== undefined) return p === '' || p.charCodeAt(0) === 91 ? `[${i}]${p}` : `[${i}].${p}`;
    }
    return undefined;
  }
  for (const key in v as Obj) {
    if (!isWellFormed(key)) return JSON.stringify(key).slice(1, -1);
    const p = loneSurrogatePath((v as Obj)[key], depth + 1);
    if (p !== undefined) return p === '' ? key : p.charCodeAt(0) === 91 ? key + p : `${key}.${p}`;
  }
  return undefined;
}

function decodeText<T>(text: string, decode: (v: unknown) => T, where: string, source: string | undefined, limits?: DecodeLimits): T {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (isBlank(text, 0, text.length)) throw new InputError(`${where}empty input, expected a JSON object`, source);
  startBudget(limits, text.length, source, text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${where}not valid JSON: ${(e as Error).message}`, source);
  }
  if (SURROGATE_ESCAPE.test(text) || !isWellFormed(text)) rejectLoneSurrogates(value, where, source);
  try {
    return decode(value);
  } catch (e) {
    if (!(e instanceof InexactNumber)) throw toInputError(e, where, source);
  }
  // A 64-bit field holds a number JSON.parse rounded: read the text again, keeping such numbers exact.
  startBudget(limits, text.length, source, text);
  try {
    return decode(parseExact(text));
  } catch (e) {
    throw toInputError(e, where, source);
  }
}

type Obj = Record<string, unknown>;

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'bigint') return 'number';
  return typeof v;
}

function asObject(v: unknown): Obj {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Obj;
  throw new PathError(`expected an object, got ${typeName(v)}`);
}

function asArray(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  throw new PathError(`expected an array, got ${typeName(v)}`);
}

function asString(v: unknown): string {
  if (typeof v === 'string') return v;
  throw new PathError(`expected a string, got ${typeName(v)}`);
}

function excerpt(s: string): string {
  return s.length > 40 ? JSON.stringify(s.slice(0, 40)) + '...' : JSON.stringify(s);
}

const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

function decodeId(v: unknown): Uint8Array {
  const s = asString(v);
  if (s.length === 0) return EMPTY_BYTES;
  const b = hexToBytes(s);
  if (b !== undefined) return b;
  // A common mistake (generic proto3 JSON writers do it): name it rather than just "not hex".
  const hint = (s.length === 24 || s.length === 12) && BASE64_RE.test(s) ? ' (looks like base64; OTLP/JSON ids are hex)' : '';
  throw new PathError(`not hex: ${excerpt(s)}${hint}`);
}

const UINT_RE = /^[0-9]+$/;
const INT_RE = /^-?[0-9]+$/;
const JSON_NUMBER_RE = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/** uint32 and fixed32 (counts, flags): a JSON number, or a decimal string as proto3 JSON allows. */
function decodeUint32(v: unknown): number {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && UINT_RE.test(v)) n = Number(v);
  else if (typeof v === 'bigint') n = Number(v);
  else throw new PathError(`expected an unsigned 32-bit integer, got ${typeof v === 'string' ? excerpt(v) : typeName(v)}`);
  if (!Number.isInteger(n)) throw new PathError(`not an integer: ${n}`);
  if (n < 0 || n > 0xffffffff) throw new PathError(`out of range for uint32: ${String(v)}`);
  return n >>> 0; // also turns -0 into 0
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** int64 (`signed`) or fixed64: decimal string, safe-integer number, or bigint from the exact re-parse. */
function decodeInt64(v: unknown, signed: boolean): bigint {
  let n: bigint;
  if (typeof v === 'string') {
    if (!INT_RE.test(v)) throw new PathError(`not a decimal integer: ${excerpt(v)}`);
    n = BigInt(v);
  } else if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) n = BigInt(v);
    // Far outside both ranges, rounding cannot matter: say so rather than ask for exactness.
    else if (v > 2e19 || v < -1e19) throw new PathError(`out of range for ${signed ? 'int64' : 'fixed64'}: ${v}`);
    else if (Number.isInteger(v)) throw new InexactNumber();
    else throw new PathError(`not an integer: ${v}`);
  } else if (typeof v === 'bigint') {
    n = v;
  } else {
    throw new PathError(`expected a 64-bit integer as a decimal string, got ${typeName(v)}`);
  }
  if (signed ? n < INT64_MIN || n > INT64_MAX : n < 0n || n > UINT64_MAX) {
    throw new PathError(`out of range for ${signed ? 'int64' : 'fixed64'}: ${n}`);
  }
  return n;
}

function decodeDouble(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    if (JSON_NUMBER_RE.test(v)) return Number(v);
    throw new PathError(`not a number: ${excerpt(v)}`);
  }
  if (typeof v === 'bigint') return Number(v);
  throw new PathError(`expected a number, got ${typeName(v)}`);
}

const SPAN_KIND_NAMES: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};

const STATUS_CODE_NAMES: Record<string, number> = {
  STATUS_CODE_UNSET: 0,
  STATUS_CODE_OK: 1,
  STATUS_CODE_ERROR: 2,
};

/** An open proto3 enum: any int32, or one of the value names (which proto3 JSON parsers accept). */
function decodeEnum(v: unknown, names: Record<string, number>): number {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff) return v | 0;
    throw new PathError(`not an int32 enum value: ${v}`);
  }
  if (typeof v === 'string') {
    const n = Object.hasOwn(names, v) ? names[v] : undefined;
    if (n !== undefined) return n;
    throw new PathError(`unknown enum name ${excerpt(v)} (expected an integer or one of ${Object.keys(names).join(', ')})`);
  }
  throw new PathError(`expected an enum integer, got ${typeName(v)}`);
}

/** Standard or URL-safe base64, padded or not (proto3 JSON parsers accept all four). */
function decodeBase64(v: unknown): Uint8Array {
  const s = asString(v);
  let n = s.length;
  while (n > 0 && s.charCodeAt(n - 1) === 61 /* = */) n--;
  const bad = (): never => {
    throw new PathError(`not base64: ${excerpt(s)}`);
  };
  if (s.length - n > 2 || n % 4 === 1 || (n !== s.length && s.length % 4 !== 0)) bad();
  const out = new Uint8Array((n * 3) >> 2);
  let acc = 0;
  let bits = 0;
  let j = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    const d = c < 128 ? BASE64_DIGITS[c]! : -1;
    if (d < 0) bad();
    acc = ((acc << 6) | d) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

const BASE64_DIGITS = new Int8Array(128).fill(-1);
{
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < 64; i++) BASE64_DIGITS[alphabet.charCodeAt(i)] = i;
  BASE64_DIGITS[45 /* - */] = 62;
  BASE64_DIGITS[95 /* _ */] = 63;
}

function decodeStrings(v: unknown): string[] {
  const a = asArray(v);
  const out: string[] = [];
  let i = 0;
  try {
    for (; i < a.length; i++) out.push(asString(a[i]));
  } catch (e) {
    within(e, i);
  }
  return out;
}

/** A repeated message field; `item` is always a top-level function, so no closure per call. */
function decodeList<T>(v: unknown, item: (x: unknown) => T): T[] {
  const a = asArray(v);
  const out: T[] = [];
  let i = 0;
  try {
    for (; i < a.length; i++) out.push(item(a[i]));
  } catch (e) {
    within(e, i);
  }
  return out;
}

// Each message decoder walks the object's own keys once, accepting both the lowerCamelCase JSON
// name and the proto field name; `null` means "absent" (proto3 JSON); other keys are ignored.

function decodeRequest(v: unknown): TracesData {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new PathError(`the request must be a JSON object, got ${typeName(v)}`);
  }
  const o = v as Obj;
  const data = makeTracesData();
  let key = '';
  try {
    for (key in o) {
      const x = o[key];
      if (x == null) continue;
      if (key === 'resourceSpans' || key === 'resource_spans') data.resourceSpans = decodeList(x, decodeResourceSpans);
    }
  } catch (e) {
    within(e, key);
  }
  return data;
}

function decodeResourceSpans(v: unknown): ResourceSpans {
  const o = asObject(v);
  const r = makeResourceSpans();
  let key = '';
  try {
    for (key in o) {
      const x = o[key];
      if (x == null) continue;
      switch (key) {
        case 'resource':
          r.resource = decodeResource(x);
          break;
        case 'scopeSpans':
        case 'scope_spans':
          r.scopeSpans = decodeList(x, decodeScopeSpans);
          break;
        case 'schemaUrl':
        case 'schema_url':
          r.schemaUrl = asString(x);
          break;
      }
    }
  } catch (e) {
    within(e, key);
  }
  return r;
}

function decodeResource(v: unknown): Resource {
  const o = asObject(v);
  const r = makeResource();
  let key = '';
  try {
    for (key in o) {
      const x = o[key];
      if (x == null) continue;
      switch (key) {
        case 'attributes':
          r.attributes = decodeAttributes(x);
          break;
        case 'droppedAttributesCount':
        case 'dropped_attributes_count':
          r.droppedAttributesCount = decodeUint32(x);
          break;
        case 'entityRefs':
        case 'entity_refs':
          r.entityRefs = decodeList(x, decodeEntityRef);
          break;
      }
    }
  } catch (e) {
    within(e, key);
  }
  return r;
}

function decodeEntityRef(v: unknown): EntityRef {
  const o = asObject(v);
  const r = makeEntityRef();
  let key = '';
  try {
    for (key in o) {
      const x = o[key];
      if (x == null) continue;
      switch (key) {
        case 'schemaUrl':
        case 'schema_url':
          r.schemaUrl = asString(x);
          break;
        case 'type':
          r.type = asString(x);
          break;
        case 'idKeys':
        case 'id_keys':
          r.idKeys = decodeStrings(x);
          break;
        case 'descriptionKeys':
        case 'description_keys':
          r.descriptionKeys = decodeStrings(x);
          break;
      }
    }
  } catch (e) {
    within(e, key);
  }
  return r;
}

function decodeScopeSpans(v: unknown): ScopeSpans {
  const o = asObject(v);
  const r = makeScopeSpans();
  let key = '';
  try {
    for (key in o) {
      const x = o[key];
      if (x == null) continue;
      switch (key) {
        case 'scope':
          r.scope = decodeScope(x);
          break;
        case 'spans':
          r.spans = decodeList(x, decodeSpan);
          break;
        case 'schemaUrl':
        case 'schema_url':
          r.schemaUrl = asString(x);
          break;
      }
    }
  } catch (e) {
    within(e, key);
  }
  return r;
}

function decodeScope(v: unknown): InstrumentationScope {
  const o = asObject(v);
  const r = makeScope();
  let key = '';
  try {
    for (key in o) {
      const x = o[key];
      if (x == null) continue;
      switch (key) {
        case 'name':
          r.name = asString(x);
          break;
        case 'version':
          r.version = asString(x);
          break;
        case 'attributes':
          r.attributes = decodeAttributes(x);
          break;
        case 'droppedAttributesCount':
        case 'dropped_attributes_count':
          r.droppedAttributesCount = decodeUint32(x);
          break;
      }
    }
  } catch (e) {
    within(e, key);
  }
  return r;
}

function decodeSpan(v: unknown): Span {
  const o = asObject(v);
  chargeSpan();
  const r = makeSpan();
  let key = '';
  try {
    for (key in o) {
      const x = o[key];
      if (x == null) continue;
      switch (key) {
        case 'traceId':
        case 'trace_id':
          r.traceId = decodeId(x);
          break;
        case 'spanId':
        case 'span_id':
          r.spanId = decodeId(x);
          break;
        case 'traceState':
        case 'trace_state':
          r.traceState = asString(x);
          break;
        case 'parentSpanId':
        case 'parent_span_id':
          r.parentSpanId = decodeId(x);
          break;
        case 'flags':
          r.flags = decodeUint32(x);
          break;
        case 'name':
          r.name = asString(x);
          break;
        case 'kind':
          r.kind = decodeEnum(x, SPAN_KIND_NAMES);
          break;
        case 'startTimeUnixNano':
        case 'start_time_unix_nano':
          r.startTimeUnixNano = decodeInt64(x, false);
          break;
        case 'endTimeUnixNano':
        case 'end_time_unix_nano':
          r.endTimeUnixNano = decodeInt64(x, false);
          break;
        case 'attributes':
          r.attributes = decodeAttributes(x);
          break;
        case 'droppedAttributesCount':
        case 'dropped_attributes_count':
          r.droppedAttributesCount = decodeUint32(x);
          break;
        case 'events':
          r.events = decodeList(x, decodeEvent);
          break;
        case 'droppedEventsCount':
        case 'dropped_events_count':
          r.droppedEventsCount = decodeUint32(x);
          break;
        case 'links':
          r.links = decodeList(x, decodeLink);
          break;
        case 'droppedLinksCount':
        case 'dropped_links_count':
          r.droppedLinksCount = decodeUint32(x);
          break;
        case 'status':
          r.status = decodeStatus(x);
          break;
      }
    }
  } catch (e) {
    within(e, key);
  }
  return r;
}

function decodeEvent(v: unknown): SpanEvent {
  const o = asObject(v);
  const r = makeEvent();
  let key = '';
  try {
    for (key in o) {
      const x = o[key];
      if (x == null) continue;
      switch (key) {
        case 'timeUnixNano':
        case 'time_unix_nano':
          r.timeUnixNano = decodeInt64(x, false);
          break;
        case 'name':
          r.name = asString(x);
          break;
        case 'attributes':
          r.attributes = decodeAttributes(x);
          break;
        case 'droppedAttributesCount':
        case 'dropped_attributes_count':
          r.droppedAttributesCount = decodeUint32(x);
          break;
      }
    }
  } catch (e) {
    within(e, key);
  }
  return r;
}

function decodeLink(v: unknown): SpanLink {
  const o = asObject(v);
  const r = makeLink();
  let key = '';
  try {
    for (key in o) {
      const x = o[key];
      if (x == null) continue;
      switch (key) {
        case 'traceId':
        case 'trace_id':
          r.traceId = decodeId(x);
          break;
        case 'spanId':
        case 'span_id':
          r.spanId = decodeId(x);
          break;
        case 'traceState':
        case 'trace_state':
          r.traceState = asString(x);
          break;
        case 'attributes':
          r.attributes = decodeAttributes(x);
          break;
        case 'droppedAttributesCount':
        case 'dropped_attributes_count':
          r.droppedAttributesCount = decodeUint32(x);
          break;
        case 'flags':
          r.flags = decodeUint32(x);
          break;
      }
    }
  } catch (e) {
    within(e, key);
  }
  return r;
}

function decodeStatus(v: unknown): Status {
  const o = asObject(v);
  const r = makeStatus();
  let key = '';
  try {
    for (key in o) {
      const x = o[key];
      if (x == null) continue;
      switch (key) {
        case 'message':
          r.message = asString(x);
          break;
        case 'code':
          r.code = decodeEnum(x, STATUS_CODE_NAMES);
          break;
      }
    }
  } catch (e) {
    within(e, key);
  }
  return r;
}

function decodeAttributes(v: unknown): KeyValue[] {
  const a = asArray(v);
  const out: KeyValue[] = [];
  let i = 0;
  try {
    for (; i < a.length; i++) out.push(decodeKeyValue(a[i], 0));
  } catch (e) {
    within(e, i);
  }
  return out;
}

/** KeyValue: `depth` counts the AnyValues around it (0 for an attribute), like the protobuf decoder's. */
function decodeKeyValue(v: unknown, depth: number): KeyValue {
  const o = asObject(v);
  charge(DECODE_COST.keyValue);
  let k = '';
  let value: AnyValue = null;
  let key = '';
  try {
    for (key in o) {
      const x = o[key];
      if (x == null) continue;
      if (key === 'key') k = asString(x);
      else if (key === 'value') value = decodeAnyValue(x, depth + 1);
    }
  } catch (e) {
    within(e, key);
  }
  return kv(k, value);
}

/** AnyValue: at most one member of the oneof; none set (`{}`) is the model's null. */
function decodeAnyValue(v: unknown, depth: number): AnyValue {
  const o = asObject(v);
  if (depth > MAX_DEPTH) throw new PathError(`AnyValue nested deeper than ${MAX_DEPTH}`);
  let value: AnyValue = null;
  let member = '';
  let key = '';
  try {
    for (key in o) {
      const x = o[key];
      if (x == null) continue;
      let got: AnyValue;
      switch (key) {
        case 'stringValue':
        case 'string_value':
          got = asString(x);
          break;
        case 'boolValue':
        case 'bool_value':
          if (typeof x !== 'boolean') throw new PathError(`expected true or false, got ${typeName(x)}`);
          got = x;
          break;
        case 'intValue':
        case 'int_value':
          got = decodeInt64(x, true);
          break;
        case 'doubleValue':
        case 'double_value':
          got = decodeDouble(x);
          break;
        case 'arrayValue':
        case 'array_value':
          got = decodeArrayValue(x, depth);
          break;
        case 'kvlistValue':
        case 'kvlist_value':
          got = decodeKvList(x, depth);
          break;
        case 'bytesValue':
        case 'bytes_value':
          got = decodeBase64(x);
          break;
        default:
          continue;
      }
      if (member !== '') throw new PathError(`AnyValue sets both ${member} and ${key}; it holds one value`);
      member = key;
      value = got;
    }
  } catch (e) {
    within(e, key);
  }
  return value;
}

// ArrayValue and KeyValueList: 1 values. Errors inside name the `values` key as well as the index.
function decodeArrayValue(v: unknown, depth: number): ArrayValue {
  const x = asObject(v).values;
  const values: AnyValue[] = [];
  if (x == null) return new ArrayValue(values);
  let i = -1;
  try {
    const a = asArray(x);
    for (i = 0; i < a.length; i++) values.push(decodeAnyValue(a[i], depth + 1));
  } catch (e) {
    within(i < 0 ? e : addPath(e, i), 'values');
  }
  return new ArrayValue(values);
}

function decodeKvList(v: unknown, depth: number): KeyValueList {
  const x = asObject(v).values;
  const values: KeyValue[] = [];
  if (x == null) return new KeyValueList(values);
  let i = -1;
  try {
    const a = asArray(x);
    for (i = 0; i < a.length; i++) values.push(decodeKeyValue(a[i], depth));
  } catch (e) {
    within(i < 0 ? e : addPath(e, i), 'values');
  }
  return new KeyValueList(values);
}

function decodeResponse(v: unknown): ExportTraceServiceResponse {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new PathError(`the response must be a JSON object, got ${typeName(v)}`);
  }
  const o = v as Obj;
  const r: ExportTraceServiceResponse = { partialSuccess: undefined, unknownFields: undefined };
  let key = '';
  try {
    for (key in o) {
      const x = o[key];
      if (x == null) continue;
      if (key === 'partialSuccess' || key === 'partial_success') r.partialSuccess = decodePartialSuccess(x);
    }
  } catch (e) {
    within(e, key);
  }
  return r;
}

function decodePartialSuccess(v: unknown): ExportTracePartialSuccess {
  const o = asObject(v);
  const r: ExportTracePartialSuccess = { rejectedSpans: 0n, errorMessage: '', unknownFields: undefined };
  let key = '';
  try {
    for (key in o) {
      const x = o[key];
      if (x == null) continue;
      switch (key) {
        case 'rejectedSpans':
        case 'rejected_spans':
          r.rejectedSpans = decodeInt64(x, true);
          break;
        case 'errorMessage':
        case 'error_message':
          r.errorMessage = asString(x);
          break;
      }
    }
  } catch (e) {
    within(e, key);
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Exact re-parse
// ---------------------------------------------------------------------------------------------

const NUMBER_TOKEN = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

/**
 * JSON.parse, except that an integer token (no fraction, no exponent) beyond 2^53 becomes a bigint.
 * Only called on text JSON.parse has accepted, so its error messages matter little; it still
 * rejects what it does not understand rather than guessing.
 */
function parseExact(text: string): unknown {
  let pos = 0;

  const fail = (what: string): never => {
    throw new PathError(`not valid JSON: ${what} at position ${pos}`);
  };

  const ws = (): void => {
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 32 || c === 10 || c === 13 || c === 9) pos++;
      else return;
    }
  };

  const string = (): string => {
    const start = pos; // at the opening quote
    let escaped = false;
    for (pos++; pos < text.length; pos++) {
      const c = text.charCodeAt(pos);
      if (c === 34 /* " */) {
        pos++;
        return escaped ? (JSON.parse(text.slice(start, pos)) as string) : text.slice(start + 1, pos - 1);
      }
      if (c === 92 /* \ */) {
        escaped = true;
        pos++;
      } else if (c < 32) fail('control character in string');
    }
    return fail('unterminated string');
  };

  const value = (depth: number): unknown => {
    ws();
    const c = text.charCodeAt(pos);
    if (c === 123 /* { */ || c === 91 /* [ */) {
      if (depth >= MAX_JSON_DEPTH) fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
      pos++;
      ws();
      if (c === 91) {
        const arr: unknown[] = [];
        if (text.charCodeAt(pos) === 93 /* ] */) {
          pos++;
          return arr;
        }
        for (;;) {
          arr.push(value(depth + 1));
          ws();
          const d = text.charCodeAt(pos++);
          if (d === 93) return arr;
          if (d !== 44 /* , */) fail('expected , or ]');
        }
      }
      const obj: Obj = {};
      if (text.charCodeAt(pos) === 125 /* } */) {
        pos++;
        return obj;
      }
      for (;;) {
        ws();
        if (text.charCodeAt(pos) !== 34) fail('expected a key');
        const k = string();
        ws();
        if (text.charCodeAt(pos++) !== 58 /* : */) fail('expected :');
        const x = value(depth + 1);
        // An own property, as JSON.parse makes it, rather than the prototype setter.
        if (k === '__proto__') Object.defineProperty(obj, k, { value: x, enumerable: true, writable: true, configurable: true });
        else obj[k] = x;
        ws();
        const d = text.charCodeAt(pos++);
        if (d === 125) return obj;
        if (d !== 44) fail('expected , or }');
      }
    }
    if (c === 34) return string();
    if (text.startsWith('true', pos)) {
      pos += 4;
      return true;
    }
    if (text.startsWith('false', pos)) {
      pos += 5;
      return false;
    }
    if (text.startsWith('null', pos)) {
      pos += 4;
      return null;
    }
    NUMBER_TOKEN.lastIndex = pos;
    const m = NUMBER_TOKEN.exec(text);
    if (m === null) return fail('unexpected character');
    pos = NUMBER_TOKEN.lastIndex;
    const n = Number(m[0]);
    if (m[1] === undefined && m[2] === undefined && !Number.isSafeInteger(n)) return BigInt(m[0]);
    return n;
  };

  const result = value(0);
  ws();
  if (pos < text.length) fail('unexpected text after the value');
  return result;
}
