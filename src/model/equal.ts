// Message-level equality of trace data: what "lossless" means in slimtrace. Two values are equal
// when they are the same protobuf message: same field values (doubles compared bit-exactly by
// Object.is, so NaN equals NaN and -0 differs from 0), same presence of message fields, and the same
// unknown-field bytes. `diffTracesData` names the first difference, which is what a failing
// round-trip test needs to print.
import {
  AnyValueWithUnknownFields,
  ArrayValue,
  KeyValueList,
  type AnyValue,
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
} from './types.js';
import { bytesEqual, bytesToHex } from './ids.js';

type Diff = string | undefined;

function unknownDiff(path: string, a: Uint8Array | undefined, b: Uint8Array | undefined): Diff {
  const x = a ?? EMPTY;
  const y = b ?? EMPTY;
  return bytesEqual(x, y) ? undefined : `${path}.unknownFields: ${bytesToHex(x)} != ${bytesToHex(y)}`;
}
const EMPTY = new Uint8Array(0);

function show(v: unknown): string {
  if (v instanceof Uint8Array) return `bytes(${bytesToHex(v)})`;
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

function scalar(path: string, a: unknown, b: unknown): Diff {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return bytesEqual(a, b) ? undefined : `${path}: ${show(a)} != ${show(b)}`;
  return Object.is(a, b) ? undefined : `${path}: ${show(a)} != ${show(b)}`;
}

function listDiff<T>(path: string, a: readonly T[], b: readonly T[], item: (p: string, x: T, y: T) => Diff): Diff {
  if (a.length !== b.length) return `${path}: length ${a.length} != ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    const d = item(`${path}[${i}]`, a[i]!, b[i]!);
    if (d) return d;
  }
  return undefined;
}

function anyValueKind(v: AnyValue): string {
  if (v === null) return 'empty';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof ArrayValue) return 'array';
  if (v instanceof KeyValueList) return 'kvlist';
  if (v instanceof AnyValueWithUnknownFields) return 'with-unknown';
  return typeof v;
}

export function diffAnyValue(path: string, a: AnyValue, b: AnyValue): Diff {
  const ka = anyValueKind(a);
  const kb = anyValueKind(b);
  if (ka !== kb) return `${path}: ${ka} ${show(a)} != ${kb} ${show(b)}`;
  if (a instanceof ArrayValue) {
    const y = b as ArrayValue;
    return listDiff(`${path}.array`, a.values, y.values, diffAnyValue) ?? unknownDiff(path, a.unknownFields, y.unknownFields);
  }
  if (a instanceof KeyValueList) {
    const y = b as KeyValueList;
    return listDiff(`${path}.kvlist`, a.values, y.values, diffKeyValue) ?? unknownDiff(path, a.unknownFields, y.unknownFields);
  }
  if (a instanceof AnyValueWithUnknownFields) {
    const y = b as AnyValueWithUnknownFields;
    return diffAnyValue(path, a.value, y.value) ?? unknownDiff(path, a.unknownFields, y.unknownFields);
  }
  return scalar(path, a, b);
}

export function diffKeyValue(path: string, a: KeyValue, b: KeyValue): Diff {
  return (
    scalar(`${path}.key`, a.key, b.key) ??
    diffAnyValue(`${path}(${a.key})`, a.value, b.value) ??
    unknownDiff(path, a.unknownFields, b.unknownFields)
  );
}

function attrs(path: string, a: readonly KeyValue[], b: readonly KeyValue[]): Diff {
  return listDiff(`${path}.attributes`, a, b, diffKeyValue);
}

function optional<T>(path: string, a: T | undefined, b: T | undefined, inner: (p: string, x: T, y: T) => Diff): Diff {
  if (a === undefined && b === undefined) return undefined;
  if (a === undefined || b === undefined) return `${path}: ${a === undefined ? 'absent' : 'present'} != ${b === undefined ? 'absent' : 'present'}`;
  return inner(path, a, b);
}

function strings(path: string, a: readonly string[], b: readonly string[]): Diff {
  return listDiff(path, a, b, scalar);
}

function diffEntityRef(p: string, a: EntityRef, b: EntityRef): Diff {
  return (
    scalar(`${p}.schemaUrl`, a.schemaUrl, b.schemaUrl) ??
    scalar(`${p}.type`, a.type, b.type) ??
    strings(`${p}.idKeys`, a.idKeys, b.idKeys) ??
    strings(`${p}.descriptionKeys`, a.descriptionKeys, b.descriptionKeys) ??
    unknownDiff(p, a.unknownFields, b.unknownFields)
  );
}

export function diffResource(p: string, a: Resource, b: Resource): Diff {
  return (
    attrs(p, a.attributes, b.attributes) ??
    scalar(`${p}.droppedAttributesCount`, a.droppedAttributesCount, b.droppedAttributesCount) ??
    listDiff(`${p}.entityRefs`, a.entityRefs, b.entityRefs, diffEntityRef) ??
    unknownDiff(p, a.unknownFields, b.unknownFields)
  );
}

export function diffScope(p: string, a: InstrumentationScope, b: InstrumentationScope): Diff {
  return (
    scalar(`${p}.name`, a.name, b.name) ??
    scalar(`${p}.version`, a.version, b.version) ??
    attrs(p, a.attributes, b.attributes) ??
    scalar(`${p}.droppedAttributesCount`, a.droppedAttributesCount, b.droppedAttributesCount) ??
    unknownDiff(p, a.unknownFields, b.unknownFields)
  );
}

function diffStatus(p: string, a: Status, b: Status): Diff {
  return scalar(`${p}.code`, a.code, b.code) ?? scalar(`${p}.message`, a.message, b.message) ?? unknownDiff(p, a.unknownFields, b.unknownFields);
}

function diffEvent(p: string, a: SpanEvent, b: SpanEvent): Diff {
  return (
    scalar(`${p}.timeUnixNano`, a.timeUnixNano, b.timeUnixNano) ??
    scalar(`${p}.name`, a.name, b.name) ??
    attrs(p, a.attributes, b.attributes) ??
    scalar(`${p}.droppedAttributesCount`, a.droppedAttributesCount, b.droppedAttributesCount) ??
    unknownDiff(p, a.unknownFields, b.unknownFields)
  );
}

function diffLink(p: string, a: SpanLink, b: SpanLink): Diff {
  return (
    scalar(`${p}.traceId`, a.traceId, b.traceId) ??
    scalar(`${p}.spanId`, a.spanId, b.spanId) ??
    scalar(`${p}.traceState`, a.traceState, b.traceState) ??
    attrs(p, a.attributes, b.attributes) ??
    scalar(`${p}.droppedAttributesCount`, a.droppedAttributesCount, b.droppedAttributesCount) ??
    scalar(`${p}.flags`, a.flags, b.flags) ??
    unknownDiff(p, a.unknownFields, b.unknownFields)
  );
}

export function diffSpan(p: string, a: Span, b: Span): Diff {
  return (
    scalar(`${p}.traceId`, a.traceId, b.traceId) ??
    scalar(`${p}.spanId`, a.spanId, b.spanId) ??
    scalar(`${p}.traceState`, a.traceState, b.traceState) ??
    scalar(`${p}.parentSpanId`, a.parentSpanId, b.parentSpanId) ??
    scalar(`${p}.flags`, a.flags, b.flags) ??
    scalar(`${p}.name`, a.name, b.name) ??
    scalar(`${p}.kind`, a.kind, b.kind) ??
    scalar(`${p}.startTimeUnixNano`, a.startTimeUnixNano, b.startTimeUnixNano) ??
    scalar(`${p}.endTimeUnixNano`, a.endTimeUnixNano, b.endTimeUnixNano) ??
    attrs(p, a.attributes, b.attributes) ??
    scalar(`${p}.droppedAttributesCount`, a.droppedAttributesCount, b.droppedAttributesCount) ??
    listDiff(`${p}.events`, a.events, b.events, diffEvent) ??
    scalar(`${p}.droppedEventsCount`, a.droppedEventsCount, b.droppedEventsCount) ??
    listDiff(`${p}.links`, a.links, b.links, diffLink) ??
    scalar(`${p}.droppedLinksCount`, a.droppedLinksCount, b.droppedLinksCount) ??
    optional(`${p}.status`, a.status, b.status, diffStatus) ??
    unknownDiff(p, a.unknownFields, b.unknownFields)
  );
}

function diffScopeSpans(p: string, a: ScopeSpans, b: ScopeSpans): Diff {
  return (
    optional(`${p}.scope`, a.scope, b.scope, diffScope) ??
    listDiff(`${p}.spans`, a.spans, b.spans, diffSpan) ??
    scalar(`${p}.schemaUrl`, a.schemaUrl, b.schemaUrl) ??
    unknownDiff(p, a.unknownFields, b.unknownFields)
  );
}

function diffResourceSpans(p: string, a: ResourceSpans, b: ResourceSpans): Diff {
  return (
    optional(`${p}.resource`, a.resource, b.resource, diffResource) ??
    listDiff(`${p}.scopeSpans`, a.scopeSpans, b.scopeSpans, diffScopeSpans) ??
    scalar(`${p}.schemaUrl`, a.schemaUrl, b.schemaUrl) ??
    unknownDiff(p, a.unknownFields, b.unknownFields)
  );
}

/** The path and values of the first difference between two messages, or undefined when equal. */
export function diffTracesData(a: TracesData, b: TracesData): Diff {
  return (
    listDiff('resourceSpans', a.resourceSpans, b.resourceSpans, diffResourceSpans) ??
    unknownDiff('request', a.unknownFields, b.unknownFields)
  );
}

export function tracesDataEqual(a: TracesData, b: TracesData): boolean {
  return diffTracesData(a, b) === undefined;
}
