// What a Tracezip decoder accepts from one frame and one file, and the size estimate both the
// decoder and the file writer use, so a writer never produces a frame the default decoder refuses.
// Every limit exists because a few hostile bytes can otherwise claim gigabytes: a frame that
// declares millions of spans, a dictionary string referenced by every span, a residual string that
// repeats earlier values that repeat earlier values, a header that claims a payload its body cannot
// hold. The defaults are far above what real traffic reaches (docs/reliability.md).
import type { AnyValue, KeyValue, Resource, ResourceSpans, ScopeSpans, Span, SpanEvent, SpanLink, InstrumentationScope, TracesData } from '../model/index.js';
import { ArrayValue, AnyValueWithUnknownFields, KeyValueList } from '../model/index.js';
import { TracezipFrameError } from './errors.js';

export interface TracezipLimits {
  /** Largest uncompressed payload of one frame, checked before anything is allocated. Default 64 MiB. */
  maxPayloadBytes?: number;
  /**
   * How far a header's payload length is believed before the output arrives, per byte of
   * compressed body (any frame is believed up to 1 MiB): a larger claim gets a buffer that grows
   * as the body actually decompresses, never one of the claimed size up front. Not a refusal: a
   * frame that really expands further (a degenerate payload) still decodes within maxPayloadBytes.
   * Default 1024.
   */
  maxExpansionRatio?: number;
  /** Most spans one frame may hold. Default 262,144. */
  maxFrameSpans?: number;
  /**
   * Largest decoded size of one frame, estimated as the OTLP bytes its spans and envelopes make
   * (`decodedSizeOf`): the bound on what references to state can amplify. Default 128 MiB.
   */
  maxFrameDecodedBytes?: number;
}

export interface TracezipFileLimits extends TracezipLimits {
  /**
   * Largest decoded size of a `.tzip` file per byte of the file (a file may always decode to
   * `maxFrameDecodedBytes`): bounds what frames that each stay under their own limit add up to.
   * Default 1024.
   */
  maxFileExpansionRatio?: number;
}

export const DEFAULT_LIMITS: Readonly<Required<TracezipFileLimits>> = Object.freeze({
  maxPayloadBytes: 64 * 1024 * 1024,
  maxExpansionRatio: 1024,
  maxFrameSpans: 262_144,
  maxFrameDecodedBytes: 128 * 1024 * 1024,
  maxFileExpansionRatio: 1024,
});

/** What any frame may claim whatever its body (small frames are cheap to believe). */
export const EXPANSION_FLOOR_BYTES = 1024 * 1024;

/** The limits with every default filled in, checked to be positive numbers. */
export function resolveLimits(options: TracezipFileLimits = {}): Required<TracezipFileLimits> {
  const out = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof TracezipFileLimits)[]) {
    const v = options[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !(v > 0)) throw new RangeError(`Tracezip limit ${key} must be a positive number, got ${String(v)}`);
    out[key] = v;
  }
  return out;
}

/** The error a limit gives: names the limit, what was declared or reached, and the bound. */
export function limitError(limit: keyof TracezipFileLimits, what: string, bound: number): TracezipFrameError {
  return new TracezipFrameError('limit', `${what}, more than ${limit} allows (${bound})`);
}

/**
 * Checks what a frame header claims against the limits, before its payload is allocated; returns
 * how many payload bytes its body proves (what may be allocated before output arrives).
 */
export function checkDeclaredPayload(payloadLength: number, bodyLength: number, limits: Required<TracezipLimits>): number {
  if (payloadLength > limits.maxPayloadBytes) throw limitError('maxPayloadBytes', `payload of ${payloadLength} bytes`, limits.maxPayloadBytes);
  return Math.max(EXPANSION_FLOOR_BYTES, bodyLength * limits.maxExpansionRatio);
}

// ---- the decoded-size estimate ---------------------------------------------------------------
// Roughly the OTLP protobuf bytes of what is decoded: content lengths (strings in UTF-16 units)
// plus a few bytes of tags and numbers per message. The decoder counts it as it builds spans (with
// the same constants, cached per template), the file writer over a batch before encoding it.

export const SPAN_FIXED = 40;
export const EVENT_FIXED = 16;
export const LINK_FIXED = 24;
export const ATTRIBUTE_FIXED = 4;
export const STATUS_FIXED = 8;
export const ENVELOPE_FIXED = 8;
const VALUE_FIXED = 2;

function extra(unknown: Uint8Array | undefined): number {
  return unknown === undefined ? 0 : unknown.length;
}

export function valueSize(v: AnyValue): number {
  if (v === null) return VALUE_FIXED;
  switch (typeof v) {
    case 'string':
      return VALUE_FIXED + v.length;
    case 'boolean':
      return VALUE_FIXED + 1;
    case 'number':
      return VALUE_FIXED + 8;
    case 'bigint':
      return VALUE_FIXED + 10;
  }
  if (v instanceof Uint8Array) return VALUE_FIXED + v.length;
  if (v instanceof ArrayValue) {
    let n = VALUE_FIXED + extra(v.unknownFields);
    for (const x of v.values) n += valueSize(x);
    return n;
  }
  if (v instanceof KeyValueList) return VALUE_FIXED + extra(v.unknownFields) + attributesSize(v.values);
  if (v instanceof AnyValueWithUnknownFields) return valueSize(v.value) + v.unknownFields.length;
  return VALUE_FIXED;
}

/** An attribute's size without its value (a template node knows keys before values). */
export function keySize(key: string): number {
  return ATTRIBUTE_FIXED + key.length;
}

export function attributesSize(attrs: readonly KeyValue[]): number {
  let n = 0;
  for (const kv of attrs) n += keySize(kv.key) + valueSize(kv.value) + extra(kv.unknownFields);
  return n;
}

export function eventSize(e: SpanEvent): number {
  return EVENT_FIXED + e.name.length + attributesSize(e.attributes) + extra(e.unknownFields);
}

function linkSize(l: SpanLink): number {
  return LINK_FIXED + l.traceId.length + l.spanId.length + l.traceState.length + attributesSize(l.attributes) + extra(l.unknownFields);
}

export function spanSize(s: Span): number {
  let n = SPAN_FIXED + s.traceId.length + s.spanId.length + s.parentSpanId.length + s.name.length + s.traceState.length;
  n += attributesSize(s.attributes) + extra(s.unknownFields);
  if (s.status) n += STATUS_FIXED + s.status.message.length + extra(s.status.unknownFields);
  for (const e of s.events) n += eventSize(e);
  for (const l of s.links) n += linkSize(l);
  return n;
}

export function resourceEnvelopeSize(resource: Resource | undefined, schemaUrl: string, unknown: Uint8Array | undefined): number {
  let n = ENVELOPE_FIXED + schemaUrl.length + extra(unknown);
  if (resource) {
    n += attributesSize(resource.attributes) + extra(resource.unknownFields);
    for (const r of resource.entityRefs) {
      n += ENVELOPE_FIXED + r.schemaUrl.length + r.type.length + extra(r.unknownFields);
      for (const k of r.idKeys) n += 2 + k.length;
      for (const k of r.descriptionKeys) n += 2 + k.length;
    }
  }
  return n;
}

export function scopeEnvelopeSize(scope: InstrumentationScope | undefined, schemaUrl: string, unknown: Uint8Array | undefined): number {
  let n = ENVELOPE_FIXED + schemaUrl.length + extra(unknown);
  if (scope) n += scope.name.length + scope.version.length + attributesSize(scope.attributes) + extra(scope.unknownFields);
  return n;
}

function scopeSpansSize(ss: ScopeSpans): number {
  let n = scopeEnvelopeSize(ss.scope, ss.schemaUrl, ss.unknownFields);
  for (const s of ss.spans) n += spanSize(s);
  return n;
}

function resourceSpansSize(rs: ResourceSpans): number {
  let n = resourceEnvelopeSize(rs.resource, rs.schemaUrl, rs.unknownFields);
  for (const ss of rs.scopeSpans) n += scopeSpansSize(ss);
  return n;
}

/** The decoded size of a batch, as the decoder counts it against `maxFrameDecodedBytes`. */
export function decodedSizeOf(data: TracesData): number {
  let n = extra(data.unknownFields);
  for (const rs of data.resourceSpans) n += resourceSpansSize(rs);
  return n;
}
