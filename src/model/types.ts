// The in-memory OTLP trace data model (opentelemetry-proto 1.11 trace.proto, common.proto,
// resource.proto, trace_service.proto) that every part of slimtrace speaks.
//
// Choices that matter for losslessness and speed:
// - ids are raw bytes (Uint8Array); an absent parent is a zero-length array.
// - times are exact 64-bit nanoseconds as bigint, never a JS number (epoch ns > 2^53).
// - AnyValue primitives are plain JS values, so the common attribute costs no wrapper object:
//   string -> string_value, boolean -> bool_value, bigint -> int_value, number -> double_value,
//   Uint8Array -> bytes_value, ArrayValue / KeyValueList -> the composite kinds, null -> an AnyValue
//   with no value set. An AnyValue message that carried fields this model does not know is an
//   AnyValueWithUnknownFields (rare; it keeps those bytes so nothing is lost).
// - Every message keeps the raw bytes of fields it does not know in `unknownFields` (tag and value,
//   in wire order), so a decoder/encoder round trip carries future schema fields through.
// - Message-typed fields keep presence (`resource`, `scope`, `status`, `partialSuccess` may be
//   undefined), as proto3 does; scalars use proto3 implicit presence (default = absent).

/** Span.SpanKind. Kept as a number: proto3 enums are open, unknown values are carried through. */
export const SpanKind = {
  UNSPECIFIED: 0,
  INTERNAL: 1,
  SERVER: 2,
  CLIENT: 3,
  PRODUCER: 4,
  CONSUMER: 5,
} as const;
export type SpanKindValue = number;

/** Status.StatusCode (open enum, like SpanKind). */
export const StatusCode = {
  UNSET: 0,
  OK: 1,
  ERROR: 2,
} as const;

/** Span.flags / Link.flags bit layout (SpanFlags in trace.proto). */
export const SpanFlags = {
  TRACE_FLAGS_MASK: 0x000000ff,
  SAMPLED: 0x00000001,
  CONTEXT_HAS_IS_REMOTE_MASK: 0x00000100,
  CONTEXT_IS_REMOTE_MASK: 0x00000200,
} as const;

/** An ArrayValue message. */
export class ArrayValue {
  constructor(
    public values: AnyValue[],
    public unknownFields?: Uint8Array,
  ) {}
}

/** A KeyValueList message. */
export class KeyValueList {
  constructor(
    public values: KeyValue[],
    public unknownFields?: Uint8Array,
  ) {}
}

/** An AnyValue message that carried fields outside this model (e.g. string_value_strindex). */
export class AnyValueWithUnknownFields {
  constructor(
    /** The value of the known oneof member, or null when none was set. */
    public value: AnyValuePrimitive | ArrayValue | KeyValueList | null,
    public unknownFields: Uint8Array,
  ) {}
}

export type AnyValuePrimitive = string | boolean | bigint | number | Uint8Array;

/** AnyValue: see the mapping at the top of this file. */
export type AnyValue = AnyValuePrimitive | ArrayValue | KeyValueList | AnyValueWithUnknownFields | null;

export interface KeyValue {
  key: string;
  value: AnyValue;
  unknownFields?: Uint8Array;
}

export interface EntityRef {
  schemaUrl: string;
  type: string;
  idKeys: string[];
  descriptionKeys: string[];
  unknownFields?: Uint8Array;
}

export interface Resource {
  attributes: KeyValue[];
  droppedAttributesCount: number;
  entityRefs: EntityRef[];
  unknownFields?: Uint8Array;
}

export interface InstrumentationScope {
  name: string;
  version: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  unknownFields?: Uint8Array;
}

export interface Status {
  message: string;
  code: number;
  unknownFields?: Uint8Array;
}

export interface SpanEvent {
  timeUnixNano: bigint;
  name: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  unknownFields?: Uint8Array;
}

export interface SpanLink {
  traceId: Uint8Array;
  spanId: Uint8Array;
  traceState: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  flags: number;
  unknownFields?: Uint8Array;
}

export interface Span {
  traceId: Uint8Array;
  spanId: Uint8Array;
  traceState: string;
  /** Zero-length for a root span. */
  parentSpanId: Uint8Array;
  /** fixed32: low 8 bits are the W3C trace flags, bits 8-9 the remote-parent markers. */
  flags: number;
  name: string;
  kind: SpanKindValue;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  events: SpanEvent[];
  droppedEventsCount: number;
  links: SpanLink[];
  droppedLinksCount: number;
  status?: Status;
  unknownFields?: Uint8Array;
}

export interface ScopeSpans {
  scope?: InstrumentationScope;
  spans: Span[];
  schemaUrl: string;
  unknownFields?: Uint8Array;
}

export interface ResourceSpans {
  resource?: Resource;
  scopeSpans: ScopeSpans[];
  schemaUrl: string;
  unknownFields?: Uint8Array;
}

/** ExportTraceServiceRequest (and TracesData, which has the same shape and field number). */
export interface TracesData {
  resourceSpans: ResourceSpans[];
  unknownFields?: Uint8Array;
}

export interface ExportTracePartialSuccess {
  rejectedSpans: bigint;
  errorMessage: string;
  unknownFields?: Uint8Array;
}

export interface ExportTraceServiceResponse {
  partialSuccess?: ExportTracePartialSuccess;
  unknownFields?: Uint8Array;
}
