// Model spans as OpenTelemetry JS `ReadableSpan`s, so the SDK's own exporters and serializers
// (ProtobufTraceSerializer, JsonTraceSerializer) can run on slimtrace data: the baseline bytes of
// the benchmarks, and the bridge the SDK integration builds on.
//
// The SDK's attribute model is narrower than OTLP's AnyValue: it has no int64 beyond 2^53, no
// bytes and no nested key-value lists. Those are converted (int64 to number, bytes to base64
// text, a key-value list to its JSON text), so this direction is exact only for data the SDK could
// have produced; the benchmark data (strings, small ints, doubles, booleans) is.
import type { Attributes, AttributeValue, HrTime, SpanContext } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import {
  AnyValueWithUnknownFields,
  ArrayValue,
  KeyValueList,
  bytesToHex,
  type AnyValue,
  type InstrumentationScope,
  type KeyValue,
  type Resource,
  type TracesData,
} from '../model/index.js';

const NS_PER_SEC = 1_000_000_000n;

export function toHrTime(ns: bigint): HrTime {
  return [Number(ns / NS_PER_SEC), Number(ns % NS_PER_SEC)];
}

function scalarAttribute(v: AnyValue): string | number | boolean | undefined {
  if (v instanceof AnyValueWithUnknownFields) return scalarAttribute(v.value);
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (v instanceof KeyValueList) return JSON.stringify(Object.fromEntries(v.values.map((kv) => [kv.key, scalarAttribute(kv.value)])));
  return undefined;
}

function attributeValue(v: AnyValue): AttributeValue | undefined {
  if (v instanceof ArrayValue) return v.values.map((x) => scalarAttribute(x) ?? null) as AttributeValue;
  return scalarAttribute(v);
}

export function toAttributes(kvs: readonly KeyValue[]): Attributes {
  const out: Attributes = {};
  for (const kv of kvs) out[kv.key] = attributeValue(kv.value);
  return out;
}

/** The subset of the SDK's Resource the serializers read. */
interface SerializableResource {
  attributes: Attributes;
  schemaUrl?: string;
}

/** Converts every span of a message into ReadableSpan-shaped objects, sharing resources and scopes. */
export function toReadableSpans(data: TracesData): ReadableSpan[] {
  const out: ReadableSpan[] = [];
  const resources = new Map<Resource | undefined, SerializableResource>();
  const scopes = new Map<InstrumentationScope | undefined, { name: string; version?: string; schemaUrl?: string }>();
  for (const rs of data.resourceSpans) {
    let resource = resources.get(rs.resource);
    if (!resource) {
      resource = { attributes: toAttributes(rs.resource?.attributes ?? []), schemaUrl: rs.schemaUrl || undefined };
      resources.set(rs.resource, resource);
    }
    for (const ss of rs.scopeSpans) {
      let scope = scopes.get(ss.scope);
      if (!scope) {
        scope = { name: ss.scope?.name ?? '', version: ss.scope?.version || undefined, schemaUrl: ss.schemaUrl || undefined };
        scopes.set(ss.scope, scope);
      }
      for (const span of ss.spans) {
        const ctx: SpanContext = { traceId: bytesToHex(span.traceId), spanId: bytesToHex(span.spanId), traceFlags: span.flags & 0xff };
        if (span.traceState) (ctx as { traceState?: unknown }).traceState = { serialize: () => span.traceState };
        const parent: SpanContext | undefined =
          span.parentSpanId.length === 0
            ? undefined
            : { traceId: ctx.traceId, spanId: bytesToHex(span.parentSpanId), traceFlags: ctx.traceFlags, isRemote: (span.flags & 0x200) !== 0 };
        const start = toHrTime(span.startTimeUnixNano);
        const end = toHrTime(span.endTimeUnixNano);
        out.push({
          name: span.name,
          kind: Math.max(0, span.kind - 1), // the API's SpanKind is OTLP's minus one
          spanContext: () => ctx,
          parentSpanContext: parent,
          startTime: start,
          endTime: end,
          duration: toHrTime(span.endTimeUnixNano - span.startTimeUnixNano),
          status: { code: span.status?.code ?? 0, message: span.status?.message || undefined },
          attributes: toAttributes(span.attributes),
          links: span.links.map((l) => ({
            context: { traceId: bytesToHex(l.traceId), spanId: bytesToHex(l.spanId), traceFlags: l.flags & 0xff },
            attributes: toAttributes(l.attributes),
            droppedAttributesCount: l.droppedAttributesCount,
          })),
          events: span.events.map((e) => ({
            name: e.name,
            time: toHrTime(e.timeUnixNano),
            attributes: toAttributes(e.attributes),
            droppedAttributesCount: e.droppedAttributesCount,
          })),
          ended: true,
          resource: resource as unknown as ReadableSpan['resource'],
          instrumentationScope: scope,
          droppedAttributesCount: span.droppedAttributesCount,
          droppedEventsCount: span.droppedEventsCount,
          droppedLinksCount: span.droppedLinksCount,
        });
      }
    }
  }
  return out;
}
