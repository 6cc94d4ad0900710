// Constructors with proto3 defaults, so code that builds spans names only what it sets and every
// object of a message type has the same shape (one hidden class in V8).
import type {
  EntityRef,
  InstrumentationScope,
  KeyValue,
  AnyValue,
  Resource,
  ResourceSpans,
  ScopeSpans,
  Span,
  SpanEvent,
  SpanLink,
  Status,
  TracesData,
} from './types.js';

/** Shared zero-length id: the parent of a root span. Never written to. */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

export function makeSpan(fields: Partial<Span> = {}): Span {
  return {
    traceId: fields.traceId ?? EMPTY_BYTES,
    spanId: fields.spanId ?? EMPTY_BYTES,
    traceState: fields.traceState ?? '',
    parentSpanId: fields.parentSpanId ?? EMPTY_BYTES,
    flags: fields.flags ?? 0,
    name: fields.name ?? '',
    kind: fields.kind ?? 0,
    startTimeUnixNano: fields.startTimeUnixNano ?? 0n,
    endTimeUnixNano: fields.endTimeUnixNano ?? 0n,
    attributes: fields.attributes ?? [],
    droppedAttributesCount: fields.droppedAttributesCount ?? 0,
    events: fields.events ?? [],
    droppedEventsCount: fields.droppedEventsCount ?? 0,
    links: fields.links ?? [],
    droppedLinksCount: fields.droppedLinksCount ?? 0,
    status: fields.status,
    unknownFields: fields.unknownFields,
  };
}

export function makeEvent(fields: Partial<SpanEvent> = {}): SpanEvent {
  return {
    timeUnixNano: fields.timeUnixNano ?? 0n,
    name: fields.name ?? '',
    attributes: fields.attributes ?? [],
    droppedAttributesCount: fields.droppedAttributesCount ?? 0,
    unknownFields: fields.unknownFields,
  };
}

export function makeLink(fields: Partial<SpanLink> = {}): SpanLink {
  return {
    traceId: fields.traceId ?? EMPTY_BYTES,
    spanId: fields.spanId ?? EMPTY_BYTES,
    traceState: fields.traceState ?? '',
    attributes: fields.attributes ?? [],
    droppedAttributesCount: fields.droppedAttributesCount ?? 0,
    flags: fields.flags ?? 0,
    unknownFields: fields.unknownFields,
  };
}

export function makeStatus(code = 0, message = ''): Status {
  return { message, code, unknownFields: undefined };
}

export function makeResource(fields: Partial<Resource> = {}): Resource {
  return {
    attributes: fields.attributes ?? [],
    droppedAttributesCount: fields.droppedAttributesCount ?? 0,
    entityRefs: fields.entityRefs ?? [],
    unknownFields: fields.unknownFields,
  };
}

export function makeEntityRef(fields: Partial<EntityRef> = {}): EntityRef {
  return {
    schemaUrl: fields.schemaUrl ?? '',
    type: fields.type ?? '',
    idKeys: fields.idKeys ?? [],
    descriptionKeys: fields.descriptionKeys ?? [],
    unknownFields: fields.unknownFields,
  };
}

export function makeScope(fields: Partial<InstrumentationScope> = {}): InstrumentationScope {
  return {
    name: fields.name ?? '',
    version: fields.version ?? '',
    attributes: fields.attributes ?? [],
    droppedAttributesCount: fields.droppedAttributesCount ?? 0,
    unknownFields: fields.unknownFields,
  };
}

export function makeScopeSpans(fields: Partial<ScopeSpans> = {}): ScopeSpans {
  return {
    scope: fields.scope,
    spans: fields.spans ?? [],
    schemaUrl: fields.schemaUrl ?? '',
    unknownFields: fields.unknownFields,
  };
}

export function makeResourceSpans(fields: Partial<ResourceSpans> = {}): ResourceSpans {
  return {
    resource: fields.resource,
    scopeSpans: fields.scopeSpans ?? [],
    schemaUrl: fields.schemaUrl ?? '',
    unknownFields: fields.unknownFields,
  };
}

export function makeTracesData(resourceSpans: ResourceSpans[] = []): TracesData {
  return { resourceSpans, unknownFields: undefined };
}

export function kv(key: string, value: AnyValue): KeyValue {
  return { key, value, unknownFields: undefined };
}

/** Attributes from a plain record: numbers that are safe integers stay doubles; use bigint for int64. */
export function attributes(record: Record<string, AnyValue>): KeyValue[] {
  const out: KeyValue[] = [];
  for (const key of Object.keys(record)) out.push(kv(key, record[key] as AnyValue));
  return out;
}

/** The value of the first attribute named `key`, or undefined. */
export function getAttribute(attrs: readonly KeyValue[], key: string): AnyValue | undefined {
  for (let i = 0; i < attrs.length; i++) if (attrs[i]!.key === key) return attrs[i]!.value;
  return undefined;
}
