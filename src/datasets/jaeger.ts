// Jaeger JSON as the Jaeger query API returns it (`{data: [{traceID, spans, processes}]}`) to OTLP,
// mapped the way the OpenTelemetry Collector maps Jaeger spans (collector-contrib
// pkg/translator/jaeger/jaegerproto_to_traces.go): the first CHILD_OF reference is the parent and
// every other reference a link tagged opentracing.ref_type; typed tags become typed attributes;
// span.kind, otel.status_code / otel.status_description / error (and http.status_code as a
// fallback), w3c.tracestate and otel.library.* tags become the span's kind, status, trace state
// and scope; logs become events named by their `event` field; a process becomes the resource.
import {
  InputError,
  SpanKind,
  StatusCode,
  bytesEqual,
  hexToIdBytes,
  isZeroId,
  kv,
  makeEvent,
  makeLink,
  makeResource,
  makeScope,
  makeSpan,
  makeStatus,
  type AnyValue,
  type KeyValue,
  type SpanEvent,
  type SpanLink,
  type Status,
  type TracesData,
} from '../model/index.js';
import { EnvelopeBuilder, SpanDefect, isObject, microsToNanos, readJsonDocument, reportDefect } from './json-input.js';
import type { ReadContext } from './span-csv.js';

export const JAEGER_ATTR = {
  REF_TYPE: 'opentracing.ref_type',
  EXPORTER_VERSION: 'opencensus.exporterversion',
  HOST_NAME: 'host.name',
} as const;

const KINDS: Record<string, number> = {
  client: SpanKind.CLIENT,
  server: SpanKind.SERVER,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
  internal: SpanKind.INTERNAL,
};

interface Converted {
  ctx: ReadContext;
  file: string;
}

function idOf(v: unknown, width: number, path: string): Uint8Array {
  const bytes = typeof v === 'string' && v.length > 0 ? hexToIdBytes(v, width) : undefined;
  if (!bytes) throw new SpanDefect(path, `${JSON.stringify(v)} is not hex of at most ${width * 2} digits`);
  if (isZeroId(bytes)) throw new SpanDefect(path, 'id is all zeros');
  return bytes;
}

/** A Jaeger tag `{key, type, value}` as an attribute value (types as the query API spells them). */
function tagValue(tag: Record<string, unknown>, path: string, c: Converted): AnyValue {
  const v = tag.value;
  const type = typeof tag.type === 'string' ? tag.type.toLowerCase() : undefined;
  switch (type) {
    case 'string':
    case 'binary': // base64 text in JSON; the collector keeps binary tags as base64 strings too
      if (typeof v === 'string') return v;
      break;
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === 'false') return v === 'true';
      break;
    case 'int64':
      if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
      if (typeof v === 'string' && /^-?\d{1,19}$/.test(v)) return BigInt(v);
      break;
    case 'float64':
      if (typeof v === 'number') return v;
      if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
      break;
    case undefined:
      if (typeof v === 'string' || typeof v === 'boolean') return v;
      if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
      break;
  }
  if (v === undefined || v === null || typeof v === 'object') throw new SpanDefect(path, `tag value ${JSON.stringify(v)} is not a ${type ?? 'scalar'}`);
  c.ctx.warnings.add('lenient-conversion', `${path}: ${JSON.stringify(v)} is not a ${type}; kept as text`, c.file);
  return String(v);
}

function tagsToAttributes(tags: unknown, path: string, c: Converted): KeyValue[] {
  if (tags === undefined || tags === null) return [];
  if (!Array.isArray(tags)) throw new SpanDefect(path, 'not an array of {key, type, value}');
  return tags.map((t: unknown, i) => {
    if (!isObject(t) || typeof t.key !== 'string') throw new SpanDefect(`${path}[${i}]`, 'expected {key, type, value}');
    return kv(t.key, tagValue(t, `${path}[${i}]`, c));
  });
}

/** Removes the first attribute named `key` and returns its value. */
function take(attrs: KeyValue[], key: string): AnyValue | undefined {
  const i = attrs.findIndex((a) => a.key === key);
  if (i < 0) return undefined;
  return attrs.splice(i, 1)[0]!.value;
}

function get(attrs: readonly KeyValue[], key: string): AnyValue | undefined {
  return attrs.find((a) => a.key === key)?.value;
}

function text(v: AnyValue | undefined): string {
  return v === undefined || v === null ? '' : typeof v === 'string' ? v : String(v);
}

/** Span status per the OTel spec's HTTP rules: 4xx is an error on the client side only. */
function statusFromHttp(code: number, kind: number): number {
  if (code >= 400 && code < 500) return kind === SpanKind.CLIENT ? StatusCode.ERROR : kind === SpanKind.SERVER ? StatusCode.UNSET : StatusCode.ERROR;
  return code < 100 || code >= 500 ? StatusCode.ERROR : StatusCode.UNSET;
}

/** The collector's precedence: error=true wins, then otel.status_code, then http.status_code. */
function statusOf(attrs: KeyValue[], kind: number): Status | undefined {
  let status: Status | undefined;
  const error = get(attrs, 'error');
  if (error === true) {
    take(attrs, 'error');
    const desc = take(attrs, 'otel.status_description');
    status = makeStatus(StatusCode.ERROR, desc !== undefined ? text(desc) : text(get(attrs, 'http.status_message')));
  }
  const code = get(attrs, 'otel.status_code');
  if (code !== undefined) {
    if (!status) {
      const c = text(code).toUpperCase();
      status = makeStatus(c === 'OK' ? StatusCode.OK : c === 'ERROR' ? StatusCode.ERROR : StatusCode.UNSET, text(take(attrs, 'otel.status_description')));
    }
    take(attrs, 'otel.status_code');
  } else if (!status) {
    const http = get(attrs, 'http.status_code');
    const n = typeof http === 'bigint' ? Number(http) : typeof http === 'string' && /^\d+$/.test(http) ? Number(http) : undefined;
    if (n !== undefined) {
      const s = statusFromHttp(n, kind);
      if (s !== StatusCode.UNSET) status = makeStatus(s, text(get(attrs, 'http.status_message')));
    }
  }
  return status;
}

interface Process {
  key: string;
  attributes: KeyValue[];
}

function processOf(p: unknown, path: string, c: Converted): Process {
  if (!isObject(p)) throw new SpanDefect(path, 'process is not an object');
  const attributes: KeyValue[] = [];
  if (typeof p.serviceName === 'string' && p.serviceName !== '') attributes.push(kv('service.name', p.serviceName));
  attributes.push(...tagsToAttributes(p.tags, `${path}.tags`, c));
  const hostname = get(attributes, 'hostname');
  if (hostname !== undefined && get(attributes, JAEGER_ATTR.HOST_NAME) === undefined) {
    take(attributes, 'hostname');
    attributes.push(kv(JAEGER_ATTR.HOST_NAME, hostname));
  }
  const version = get(attributes, 'jaeger.version');
  if (version !== undefined && get(attributes, JAEGER_ATTR.EXPORTER_VERSION) === undefined) {
    take(attributes, 'jaeger.version');
    attributes.push(kv(JAEGER_ATTR.EXPORTER_VERSION, `Jaeger-${text(version)}`));
  }
  const key = JSON.stringify(attributes.map((a) => [a.key, typeof a.value === 'bigint' ? `${a.value}n` : a.value]));
  return { key, attributes };
}

function convertSpan(s: unknown, at: string, processes: Map<string, Process>, out: EnvelopeBuilder, c: Converted): void {
  if (!isObject(s)) throw new SpanDefect(at, 'not an object');
  const traceId = idOf(s.traceID, 16, `${at}.traceID`);
  const spanId = idOf(s.spanID, 8, `${at}.spanID`);

  // Parent: the first CHILD_OF reference within the same trace; every other reference is a link.
  const refs: { type: string; traceId: Uint8Array; spanId: Uint8Array }[] = [];
  if (s.references !== undefined && s.references !== null) {
    if (!Array.isArray(s.references)) throw new SpanDefect(`${at}.references`, 'not an array');
    s.references.forEach((r: unknown, j) => {
      const rp = `${at}.references[${j}]`;
      if (!isObject(r)) throw new SpanDefect(rp, 'not an object');
      const type = typeof r.refType === 'string' ? r.refType.toUpperCase() : 'CHILD_OF';
      if (type !== 'CHILD_OF' && type !== 'FOLLOWS_FROM') throw new SpanDefect(`${rp}.refType`, `${JSON.stringify(r.refType)} is not CHILD_OF or FOLLOWS_FROM`);
      refs.push({ type, traceId: r.traceID === undefined ? traceId : idOf(r.traceID, 16, `${rp}.traceID`), spanId: idOf(r.spanID, 8, `${rp}.spanID`) });
    });
  } else if (typeof s.parentSpanID === 'string' && s.parentSpanID !== '' && !/^0+$/.test(s.parentSpanID)) {
    refs.push({ type: 'CHILD_OF', traceId, spanId: idOf(s.parentSpanID, 8, `${at}.parentSpanID`) });
  }
  const parentIndex = refs.findIndex((r) => r.type === 'CHILD_OF' && bytesEqual(r.traceId, traceId));
  const links: SpanLink[] = refs
    .filter((_, j) => j !== parentIndex)
    .map((r) => makeLink({ traceId: r.traceId, spanId: r.spanId, attributes: [kv(JAEGER_ATTR.REF_TYPE, r.type === 'CHILD_OF' ? 'child_of' : 'follows_from')] }));

  const attributes = tagsToAttributes(s.tags, `${at}.tags`, c);
  const libraryName = take(attributes, 'otel.library.name') ?? take(attributes, 'otel.scope.name');
  const libraryVersion = libraryName === undefined ? undefined : (take(attributes, 'otel.library.version') ?? take(attributes, 'otel.scope.version'));
  const kindTag = take(attributes, 'span.kind');
  const kind = kindTag === undefined ? SpanKind.UNSPECIFIED : (KINDS[text(kindTag)] ?? SpanKind.UNSPECIFIED);
  const status = statusOf(attributes, kind);
  const traceState = text(take(attributes, 'w3c.tracestate'));

  const start = microsToNanos(s.startTime);
  if (start === undefined) throw new SpanDefect(`${at}.startTime`, `${JSON.stringify(s.startTime)} is not a non-negative number of µs`);
  const duration = s.duration === undefined ? 0n : microsToNanos(s.duration);
  if (duration === undefined) throw new SpanDefect(`${at}.duration`, `${JSON.stringify(s.duration)} is not a non-negative number of µs`);

  const events: SpanEvent[] = [];
  if (s.logs !== undefined && s.logs !== null) {
    if (!Array.isArray(s.logs)) throw new SpanDefect(`${at}.logs`, 'not an array');
    s.logs.forEach((l: unknown, j) => {
      const lp = `${at}.logs[${j}]`;
      const t = isObject(l) ? microsToNanos(l.timestamp) : undefined;
      if (!isObject(l) || t === undefined) throw new SpanDefect(lp, 'expected {timestamp: µs, fields: [...]}');
      const fields = tagsToAttributes(l.fields, `${lp}.fields`, c);
      const name = take(fields, 'event');
      events.push(makeEvent({ timeUnixNano: t, name: text(name), attributes: fields }));
    });
  }

  let process: Process | undefined;
  if (isObject(s.process)) process = processOf(s.process, `${at}.process`, c);
  else if (typeof s.processID === 'string') {
    process = processes.get(s.processID);
    if (!process) throw new SpanDefect(`${at}.processID`, `${JSON.stringify(s.processID)} is not in the trace's processes`);
  }

  const span = makeSpan({
    traceId,
    spanId,
    traceState,
    parentSpanId: parentIndex >= 0 ? refs[parentIndex]!.spanId : undefined,
    name: typeof s.operationName === 'string' ? s.operationName : '',
    kind,
    startTimeUnixNano: start,
    endTimeUnixNano: start + duration,
    attributes,
    events,
    links,
    status,
  });
  const scopeName = text(libraryName);
  const scopeVersion = text(libraryVersion);
  const proc = process;
  out.add(
    proc?.key ?? '',
    () => (proc ? makeResource({ attributes: proc.attributes }) : undefined),
    `${scopeName}\u0000${scopeVersion}`,
    () => makeScope({ name: scopeName, version: scopeVersion }),
    span,
  );
}

/**
 * Converts a parsed Jaeger query-API document to one TracesData. Accepts `{data: [trace…]}`, a
 * bare array of traces, or one trace object `{traceID, spans, processes}`.
 */
export function jaegerToTraces(doc: unknown, ctx: ReadContext, file: string): TracesData {
  let traces: unknown[];
  let base: string;
  if (isObject(doc) && Array.isArray(doc.data)) {
    traces = doc.data;
    base = 'data';
  } else if (Array.isArray(doc)) {
    traces = doc;
    base = '';
  } else if (isObject(doc) && Array.isArray(doc.spans)) {
    traces = [doc];
    base = '';
  } else {
    throw new InputError('not Jaeger JSON: expected {"data": [traces]} with spans and processes', file);
  }
  const c: Converted = { ctx, file };
  const out = new EnvelopeBuilder();
  traces.forEach((trace: unknown, i) => {
    const tp = base === '' && traces.length === 1 && !Array.isArray(doc) ? '' : `${base}[${i}]`;
    if (!isObject(trace) || !Array.isArray(trace.spans)) throw new InputError(`${tp || 'trace'}: not a Jaeger trace (expected {traceID, spans, processes})`, file);
    const processes = new Map<string, Process>();
    if (isObject(trace.processes)) {
      for (const [id, p] of Object.entries(trace.processes)) {
        try {
          processes.set(id, processOf(p, `${tp}.processes.${id}`, c));
        } catch (err) {
          if (err instanceof SpanDefect) throw new InputError(`${err.path}: ${err.message}`, file);
          throw err;
        }
      }
    }
    trace.spans.forEach((s: unknown, j) => {
      ctx.stats.rows++;
      try {
        convertSpan(s, `${tp}.spans[${j}]`, processes, out, c);
        ctx.stats.spans++;
      } catch (err) {
        if (err instanceof SpanDefect) reportDefect(ctx, file, err);
        else throw err;
      }
    });
  });
  ctx.stats.batches++;
  return out.build();
}

/** Reads a Jaeger JSON file (plain or gzip) whole. */
export async function readJaegerFile(path: string, ctx: ReadContext): Promise<TracesData> {
  const doc = await readJsonDocument(path, ctx.limits);
  ctx.stats.files++;
  return jaegerToTraces(doc, ctx, path);
}
