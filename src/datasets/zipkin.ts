// Zipkin v2 JSON (an array of spans, as /api/v2/spans takes and /api/v2/trace returns) to OTLP,
// mapped the way the OpenTelemetry Collector's zipkin receiver maps it
// (collector-contrib pkg/translator/zipkin/zipkinv2/to_translator.go): a resource per
// localEndpoint service, resource-convention tags moved to the resource, otel.library.* tags to
// the scope, otel.status_* / error tags to the status, the rest of the tags as string attributes,
// endpoints as net.* / peer.service attributes, annotations as events.
// Two deliberate differences, so that nothing is lost: an annotation that is not the collector's
// `name|{json}|dropped` form keeps its whole value as the event name (the collector cuts it at the
// first '|'), and `shared` / `debug` spans keep that fact as attributes (the collector drops it).
import {
  InputError,
  SpanKind,
  StatusCode,
  hexToIdBytes,
  isZeroId,
  kv,
  makeEvent,
  makeResource,
  makeScope,
  makeSpan,
  makeStatus,
  type AnyValue,
  type KeyValue,
  type SpanEvent,
  type Status,
  type TracesData,
} from '../model/index.js';
import { EnvelopeBuilder, SpanDefect, isObject, microsToNanos, readJsonDocument, reportDefect } from './json-input.js';
import type { ReadContext } from './span-csv.js';

/** Attribute keys the collector's zipkin translator writes (semantic conventions v1.6.1). */
export const ZIPKIN_ATTR = {
  NET_HOST_IP: 'net.host.ip',
  NET_HOST_PORT: 'net.host.port',
  NET_PEER_IP: 'net.peer.ip',
  NET_PEER_PORT: 'net.peer.port',
  PEER_SERVICE: 'peer.service',
  START_TIME_ABSENT: 'otel.zipkin.absentField.startTime',
  SHARED: 'zipkin.shared',
  DEBUG: 'zipkin.debug',
} as const;

const KINDS: Record<string, number> = {
  CLIENT: SpanKind.CLIENT,
  SERVER: SpanKind.SERVER,
  PRODUCER: SpanKind.PRODUCER,
  CONSUMER: SpanKind.CONSUMER,
};

const STATUS_CODES: Record<string, number> = {
  STATUS_CODE_UNSET: StatusCode.UNSET,
  STATUS_CODE_OK: StatusCode.OK,
  STATUS_CODE_ERROR: StatusCode.ERROR,
  UNSET: StatusCode.UNSET,
  OK: StatusCode.OK,
  ERROR: StatusCode.ERROR,
};

const RESOURCE_PREFIXES = [
  'service.',
  'telemetry.sdk.',
  'telemetry.auto.',
  'container.',
  'host.',
  'os.',
  'process.',
  'k8s.',
  'cloud.',
  'deployment.',
  'device.',
  'webengine.',
  'aws.ecs.',
  'aws.eks.',
  'aws.log.',
];
const RESOURCE_KEYS = new Set([
  'faas.name',
  'faas.id',
  'faas.version',
  'faas.instance',
  'faas.max_memory',
  'opencensus.starttime',
  'opencensus.exporterversion',
  'opencensus.resourcetype',
]);

/** Tags that describe the resource (semantic-convention resource attributes), as the collector moves them. */
export function isResourceAttributeKey(key: string): boolean {
  return RESOURCE_KEYS.has(key) || RESOURCE_PREFIXES.some((p) => key.startsWith(p));
}

const LIBRARY_NAME = ['otel.library.name', 'otel.scope.name'];
const LIBRARY_VERSION = ['otel.library.version', 'otel.scope.version'];

function idOf(v: unknown, width: number, path: string, what: string): Uint8Array {
  const bytes = typeof v === 'string' && v.length > 0 ? hexToIdBytes(v, width) : undefined;
  if (!bytes) throw new SpanDefect(path, `${what} ${JSON.stringify(v)} is not hex of at most ${width * 2} digits`);
  if (isZeroId(bytes)) throw new SpanDefect(path, `${what} is all zeros`);
  return bytes;
}

function endpointAttributes(ep: unknown, local: boolean, out: KeyValue[]): void {
  if (!isObject(ep)) return;
  if (!local && typeof ep.serviceName === 'string' && ep.serviceName !== '') out.push(kv(ZIPKIN_ATTR.PEER_SERVICE, ep.serviceName));
  const ipKey = local ? ZIPKIN_ATTR.NET_HOST_IP : ZIPKIN_ATTR.NET_PEER_IP;
  if (typeof ep.ipv4 === 'string' && ep.ipv4 !== '') out.push(kv(ipKey, ep.ipv4));
  if (typeof ep.ipv6 === 'string' && ep.ipv6 !== '') out.push(kv(ipKey, ep.ipv6));
  if (typeof ep.port === 'number' && Number.isInteger(ep.port) && ep.port > 0) out.push(kv(local ? ZIPKIN_ATTR.NET_HOST_PORT : ZIPKIN_ATTR.NET_PEER_PORT, BigInt(ep.port)));
}

/** A `name|{json attributes}|droppedCount` annotation as the OTel zipkin exporter writes events. */
function annotationEvent(time: bigint, value: string): SpanEvent {
  const parts = value.split('|');
  if (parts.length >= 3) {
    const dropped = parts[parts.length - 1]!;
    const json = parts.slice(1, -1).join('|');
    try {
      const attrs = JSON.parse(json) as unknown;
      if (isObject(attrs) && /^\d+$/.test(dropped)) {
        const attributes: KeyValue[] = [];
        for (const [k, v] of Object.entries(attrs)) {
          if (typeof v === 'string' || typeof v === 'boolean') attributes.push(kv(k, v));
          else if (typeof v === 'number') attributes.push(kv(k, Number.isInteger(v) ? BigInt(v) : v));
        }
        return makeEvent({ timeUnixNano: time, name: parts[0]!, attributes, droppedAttributesCount: Number(dropped) });
      }
    } catch {
      // not the exporter's form: the whole value is the name
    }
  }
  return makeEvent({ timeUnixNano: time, name: value });
}

function tagValue(v: unknown, path: string, ctx: ReadContext, file: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') {
    ctx.warnings.add('lenient-conversion', `${path}: Zipkin tags are strings, got ${typeof v} ${String(v)}; kept as text`, file);
    return String(v);
  }
  throw new SpanDefect(path, `tag value ${JSON.stringify(v)} is not a string`);
}

/** Converts a parsed Zipkin v2 document (an array of spans) to one TracesData. */
export function zipkinToTraces(doc: unknown, ctx: ReadContext, file: string): TracesData {
  if (!Array.isArray(doc)) throw new InputError('not Zipkin v2 JSON: expected an array of spans', file);
  const out = new EnvelopeBuilder();
  doc.forEach((z: unknown, i) => {
    const at = `[${i}]`;
    ctx.stats.rows++;
    try {
      if (!isObject(z)) throw new SpanDefect(at, 'not an object');
      const traceId = idOf(z.traceId, 16, `${at}.traceId`, 'traceId');
      const spanId = idOf(z.id, 8, `${at}.id`, 'id');
      const parentSpanId =
        z.parentId === undefined || z.parentId === null || z.parentId === '' || z.parentId === z.id ? undefined : idOf(z.parentId, 8, `${at}.parentId`, 'parentId');

      // Tags are consumed in the collector's order: resource, scope, trace state, kind, status.
      const tags = new Map<string, string>();
      if (z.tags !== undefined && z.tags !== null) {
        if (!isObject(z.tags)) throw new SpanDefect(`${at}.tags`, 'not an object');
        for (const [k, v] of Object.entries(z.tags)) tags.set(k, tagValue(v, `${at}.tags.${k}`, ctx, file));
      }
      const take = (key: string) => {
        const v = tags.get(key);
        if (v !== undefined) tags.delete(key);
        return v;
      };

      const local = isObject(z.localEndpoint) ? z.localEndpoint : undefined;
      const service = typeof local?.serviceName === 'string' ? local.serviceName : '';
      const resourceAttrs: KeyValue[] = service === '' ? [] : [kv('service.name', service)];
      for (const [k, v] of [...tags]) {
        if (isResourceAttributeKey(k) && k !== 'service.name') {
          resourceAttrs.push(kv(k, v));
          tags.delete(k);
        }
      }
      let scopeName = '';
      let scopeVersion = '';
      for (const k of LIBRARY_NAME) scopeName = take(k) ?? scopeName;
      for (const k of LIBRARY_VERSION) scopeVersion = take(k) ?? scopeVersion;
      const traceState = take('w3c.tracestate') ?? '';

      let kind: number = SpanKind.UNSPECIFIED;
      if (z.kind !== undefined && z.kind !== null) {
        const k = KINDS[String(z.kind)];
        if (k === undefined) throw new SpanDefect(`${at}.kind`, `${JSON.stringify(z.kind)} is not CLIENT, SERVER, PRODUCER or CONSUMER`);
        kind = k;
      } else if (take('span.kind') === 'internal') kind = SpanKind.INTERNAL;

      let status: Status | undefined;
      const code = take('otel.status_code');
      if (code !== undefined) {
        status = makeStatus(STATUS_CODES[code.toUpperCase()] ?? StatusCode.UNSET, take('otel.status_description') ?? '');
      }
      if (tags.get('error') === 'true') {
        tags.delete('error');
        status = makeStatus(StatusCode.ERROR, status?.message ?? '');
      }

      const attributes: KeyValue[] = [];
      for (const [k, v] of tags) attributes.push(kv(k, v as AnyValue));
      endpointAttributes(local, true, attributes);
      endpointAttributes(z.remoteEndpoint, false, attributes);

      const durationNs = z.duration === undefined || z.duration === null ? 0n : microsToNanos(z.duration);
      if (durationNs === undefined) throw new SpanDefect(`${at}.duration`, `${JSON.stringify(z.duration)} is not a non-negative number of µs`);
      let start = 0n;
      if (z.timestamp === undefined || z.timestamp === null || z.timestamp === 0) attributes.push(kv(ZIPKIN_ATTR.START_TIME_ABSENT, true));
      else {
        const t = microsToNanos(z.timestamp);
        if (t === undefined) throw new SpanDefect(`${at}.timestamp`, `${JSON.stringify(z.timestamp)} is not a non-negative number of µs`);
        start = t;
      }
      if (z.shared === true) attributes.push(kv(ZIPKIN_ATTR.SHARED, true));
      if (z.debug === true) attributes.push(kv(ZIPKIN_ATTR.DEBUG, true));

      const events: SpanEvent[] = [];
      if (Array.isArray(z.annotations)) {
        z.annotations.forEach((a: unknown, j) => {
          const t = isObject(a) ? microsToNanos(a.timestamp) : undefined;
          if (!isObject(a) || t === undefined || typeof a.value !== 'string') {
            throw new SpanDefect(`${at}.annotations[${j}]`, 'expected {timestamp: µs, value: string}');
          }
          events.push(annotationEvent(t, a.value));
        });
      }

      const span = makeSpan({
        traceId,
        spanId,
        traceState,
        parentSpanId,
        name: typeof z.name === 'string' ? z.name : '',
        kind,
        startTimeUnixNano: start,
        endTimeUnixNano: start + durationNs,
        attributes,
        events,
        status,
      });
      const resourceKey = JSON.stringify(resourceAttrs.map((a) => [a.key, a.value]));
      out.add(
        resourceKey,
        () => (resourceAttrs.length === 0 ? makeResource() : makeResource({ attributes: resourceAttrs })),
        `${scopeName}\u0000${scopeVersion}`,
        () => makeScope({ name: scopeName, version: scopeVersion }),
        span,
      );
      ctx.stats.spans++;
    } catch (err) {
      if (err instanceof SpanDefect) reportDefect(ctx, file, err);
      else throw err;
    }
  });
  ctx.stats.batches++;
  return out.build();
}

/** Reads a Zipkin v2 JSON file (plain or gzip) whole. */
export async function readZipkinFile(path: string, ctx: ReadContext): Promise<TracesData> {
  const doc = await readJsonDocument(path, ctx.limits);
  ctx.stats.files++;
  return zipkinToTraces(doc, ctx, path);
}
