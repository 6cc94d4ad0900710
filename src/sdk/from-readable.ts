// OpenTelemetry JS `ReadableSpan`s as model spans: the inverse of readable.ts, so the SDK
// integration (SamplingSpanProcessor) can run any slimtrace strategy on the spans a process ends.
// The mapping is the one the SDK's OTLP exporter (otlp-transformer) uses: integer numbers become
// int64, other numbers doubles; the API's SpanKind is OTLP's minus one; span flags carry the W3C
// trace flags and the remote-parent bits.
import type { Attributes, AttributeValue, HrTime, SpanContext } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import {
  ArrayValue,
  EMPTY_BYTES,
  hexToBytes,
  type AnyValue,
  type InstrumentationScope,
  type KeyValue,
  type LocatedSpan,
  type Resource,
  type ResourceSpans,
  type ScopeSpans,
  type Span,
} from '../model/index.js';

const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;

// The last whole second converted and its nanoseconds as a bigint: the spans of a batch end within
// a few seconds of each other, so most conversions are one BigInt and one addition instead of
// three BigInts, a multiplication and an addition (the exporter's hot path; allocation is its cost).
let lastSecond = 0;
let lastSecondNanos = 0n;

export function fromHrTime(t: HrTime): bigint {
  const sec = t[0];
  if (sec !== lastSecond) {
    lastSecondNanos = BigInt(sec) * 1_000_000_000n;
    lastSecond = sec;
  }
  return lastSecondNanos + BigInt(t[1]);
}

function anyValue(v: AttributeValue | null | undefined): AnyValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return new ArrayValue((v as readonly (string | number | boolean | null | undefined)[]).map((x) => anyValue(x)));
  return null;
}

export function fromAttributes(attributes: Attributes | undefined): KeyValue[] {
  const out: KeyValue[] = [];
  if (!attributes) return out;
  for (const key of Object.keys(attributes)) {
    const v = attributes[key];
    if (v === undefined) continue;
    out.push({ key, value: anyValue(v) });
  }
  return out;
}

function idBytes(hex: string): Uint8Array {
  return hexToBytes(hex) ?? EMPTY_BYTES;
}

function traceStateOf(ctx: SpanContext): string {
  return ctx.traceState?.serialize() ?? '';
}

/**
 * Converts ReadableSpans to located model spans. Spans of one SDK Resource share one ResourceSpans
 * and spans of one scope under it one ScopeSpans, so a trace's services are known to the strategies.
 */
export class ReadableSpanConverter {
  private readonly resources = new WeakMap<object, { rs: ResourceSpans; scopes: Map<string, ScopeSpans> }>();

  // The trace id's bytes are shared by consecutive spans of one trace (nothing writes into ids):
  // the spans of a trace end together, so one array serves them. (A map of recent span ids for
  // parent ids was tried: it kept its arrays alive into the old generation and cost more than the
  // conversions it saved.)
  private lastTraceHex = '';
  private lastTraceId: Uint8Array = EMPTY_BYTES;

  private traceIdOf(hex: string): Uint8Array {
    if (hex !== this.lastTraceHex) {
      this.lastTraceId = idBytes(hex);
      this.lastTraceHex = hex;
    }
    return this.lastTraceId;
  }

  /** The model span of one ReadableSpan, with its envelope. */
  convert(span: ReadableSpan): LocatedSpan {
    const ctx = span.spanContext();
    const parent = span.parentSpanContext;
    const model: Span = {
      traceId: this.traceIdOf(ctx.traceId),
      spanId: idBytes(ctx.spanId),
      traceState: traceStateOf(ctx),
      parentSpanId: parent ? idBytes(parent.spanId) : EMPTY_BYTES,
      flags: (ctx.traceFlags & 0xff) | HAS_IS_REMOTE | (parent?.isRemote ? IS_REMOTE : 0),
      name: span.name,
      kind: span.kind + 1,
      startTimeUnixNano: fromHrTime(span.startTime),
      endTimeUnixNano: fromHrTime(span.endTime),
      attributes: fromAttributes(span.attributes),
      droppedAttributesCount: span.droppedAttributesCount,
      events: span.events.length === 0 ? [] : span.events.map((e) => ({ timeUnixNano: fromHrTime(e.time), name: e.name, attributes: fromAttributes(e.attributes), droppedAttributesCount: e.droppedAttributesCount ?? 0, unknownFields: undefined })),
      droppedEventsCount: span.droppedEventsCount,
      links: span.links.length === 0 ? [] : span.links.map((l) => ({
        traceId: idBytes(l.context.traceId),
        spanId: idBytes(l.context.spanId),
        traceState: traceStateOf(l.context),
        attributes: fromAttributes(l.attributes),
        droppedAttributesCount: l.droppedAttributesCount ?? 0,
        flags: (l.context.traceFlags & 0xff) | HAS_IS_REMOTE | (l.context.isRemote ? IS_REMOTE : 0),
        unknownFields: undefined,
      })),
      droppedLinksCount: span.droppedLinksCount,
      // Always present, as the SDK's OTLP serializer writes it (an UNSET status is an empty Status message, not an absent one).
      status: { code: span.status.code, message: span.status.message ?? '', unknownFields: undefined },
      unknownFields: undefined,
    };
    const { rs, ss } = this.envelope(span);
    return { span: model, resource: rs.resource, scope: ss.scope, resourceSpans: rs, scopeSpans: ss };
  }

  private envelope(span: ReadableSpan): { rs: ResourceSpans; ss: ScopeSpans } {
    const key = span.resource as unknown as object;
    let r = this.resources.get(key);
    if (!r) {
      const resource: Resource = { attributes: fromAttributes(span.resource.attributes), droppedAttributesCount: 0, entityRefs: [] };
      r = { rs: { resource, scopeSpans: [], schemaUrl: span.resource.schemaUrl ?? '' }, scopes: new Map() };
      this.resources.set(key, r);
    }
    const scope = span.instrumentationScope;
    const scopeKey = `${scope.name}\u0000${scope.version ?? ''}\u0000${scope.schemaUrl ?? ''}`;
    let ss = r.scopes.get(scopeKey);
    if (!ss) {
      const s: InstrumentationScope = { name: scope.name, version: scope.version ?? '', attributes: [], droppedAttributesCount: 0 };
      // The envelope is shared and never filled: strategies read spans through LocatedSpan.
      ss = { scope: s, spans: [], schemaUrl: scope.schemaUrl ?? '' };
      r.scopes.set(scopeKey, ss);
    }
    return { rs: r.rs, ss };
  }
}
