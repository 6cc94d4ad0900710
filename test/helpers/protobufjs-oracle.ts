// protobufjs (8.x) as an independent codec for the OTLP trace subset, loaded by reflection from the
// project's own test/otlp/otlp-trace.proto, with converters between its message objects and the
// slimtrace model. protobufjs keeps unknown fields (as raw tag+value chunks in `$unknowns`) when
// the reader is told not to discard them, so the comparison covers unknown fields too.
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import {
  AnyValueWithUnknownFields,
  ArrayValue,
  KeyValueList,
  type AnyValue,
  type ExportTraceServiceResponse,
  type KeyValue,
  type TracesData,
} from '../../src/model/index.js';
import { concatBytes } from './wire.js';

export const PROTO_PATH = fileURLToPath(new URL('../otlp/otlp-trace.proto', import.meta.url));
export const PACKAGE = 'slimtrace.otlp.v1';

const root = protobuf.loadSync(PROTO_PATH);
export const RequestType = root.lookupType(`${PACKAGE}.ExportTraceServiceRequest`);
export const TracesDataType = root.lookupType(`${PACKAGE}.TracesData`);
export const ResponseType = root.lookupType(`${PACKAGE}.ExportTraceServiceResponse`);

// util.Long is the `long` package protobufjs depends on (typed loosely in its .d.ts).
const Long = protobuf.util.Long as unknown as {
  fromValue(v: unknown): { toString(): string };
  fromBits(lo: number, hi: number, unsigned: boolean): unknown;
};

// Loosely typed protobufjs message objects.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

function reader(bytes: Uint8Array): protobuf.Reader {
  const r = protobuf.Reader.create(bytes);
  (r as unknown as { discardUnknown: boolean }).discardUnknown = false;
  return r;
}

/** protobufjs decode of an ExportTraceServiceRequest, converted to the model. Throws on bad input. */
export function pbjsDecodeTraces(bytes: Uint8Array): TracesData {
  return fromPbjsTraces(RequestType.decode(reader(bytes)));
}

export function pbjsEncodeTraces(data: TracesData): Uint8Array {
  return copy(RequestType.encode(toPbjsTraces(data)).finish());
}

export function pbjsDecodeResponse(bytes: Uint8Array): ExportTraceServiceResponse {
  const m = ResponseType.decode(reader(bytes)) as Obj;
  return {
    partialSuccess: m.partialSuccess
      ? { rejectedSpans: big(m.partialSuccess.rejectedSpans), errorMessage: m.partialSuccess.errorMessage, unknownFields: unknowns(m.partialSuccess) }
      : undefined,
    unknownFields: unknowns(m),
  };
}

export function pbjsEncodeResponse(r: ExportTraceServiceResponse): Uint8Array {
  const o: Obj = withUnknowns({}, r.unknownFields);
  if (r.partialSuccess) {
    o.partialSuccess = withUnknowns(
      { rejectedSpans: long(r.partialSuccess.rejectedSpans, false), errorMessage: r.partialSuccess.errorMessage },
      r.partialSuccess.unknownFields,
    );
  }
  return copy(ResponseType.encode(o).finish());
}

// ------------------------------------------------------------------------------------------------
// protobufjs objects -> model
// ------------------------------------------------------------------------------------------------

function copy(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

function unknowns(m: Obj): Uint8Array | undefined {
  const u: Uint8Array[] | undefined = Object.prototype.hasOwnProperty.call(m, '$unknowns') ? m.$unknowns : undefined;
  return u && u.length > 0 ? concatBytes(...u) : undefined;
}

function big(v: Obj): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number') return BigInt(v);
  return BigInt(Long.fromValue(v).toString());
}

function bytes(v: Obj): Uint8Array {
  return v ? copy(v) : new Uint8Array(0);
}

function fromAnyValue(m: Obj): AnyValue {
  if (m === null || m === undefined) return null;
  let v: Exclude<AnyValue, AnyValueWithUnknownFields> = null;
  switch (m.value) {
    case 'stringValue':
      v = m.stringValue;
      break;
    case 'boolValue':
      v = m.boolValue;
      break;
    case 'intValue':
      v = big(m.intValue);
      break;
    case 'doubleValue':
      v = m.doubleValue;
      break;
    case 'bytesValue':
      v = bytes(m.bytesValue);
      break;
    case 'arrayValue':
      v = new ArrayValue((m.arrayValue.values ?? []).map(fromAnyValue), unknowns(m.arrayValue));
      break;
    case 'kvlistValue':
      v = new KeyValueList((m.kvlistValue.values ?? []).map(fromKeyValue), unknowns(m.kvlistValue));
      break;
    case undefined:
      break;
    default:
      throw new Error(`unexpected oneof member ${m.value}`);
  }
  const u = unknowns(m);
  return u ? new AnyValueWithUnknownFields(v, u) : v;
}

function fromKeyValue(m: Obj): KeyValue {
  return { key: m.key, value: fromAnyValue(m.value), unknownFields: unknowns(m) };
}

const attrs = (list: Obj[] | undefined): KeyValue[] => (list ?? []).map(fromKeyValue);

export function fromPbjsTraces(m: Obj): TracesData {
  return {
    resourceSpans: (m.resourceSpans ?? []).map((rs: Obj) => ({
      resource: rs.resource
        ? {
            attributes: attrs(rs.resource.attributes),
            droppedAttributesCount: rs.resource.droppedAttributesCount,
            entityRefs: (rs.resource.entityRefs ?? []).map((e: Obj) => ({
              schemaUrl: e.schemaUrl,
              type: e.type,
              idKeys: [...(e.idKeys ?? [])],
              descriptionKeys: [...(e.descriptionKeys ?? [])],
              unknownFields: unknowns(e),
            })),
            unknownFields: unknowns(rs.resource),
          }
        : undefined,
      scopeSpans: (rs.scopeSpans ?? []).map((ss: Obj) => ({
        scope: ss.scope
          ? {
              name: ss.scope.name,
              version: ss.scope.version,
              attributes: attrs(ss.scope.attributes),
              droppedAttributesCount: ss.scope.droppedAttributesCount,
              unknownFields: unknowns(ss.scope),
            }
          : undefined,
        spans: (ss.spans ?? []).map((s: Obj) => ({
          traceId: bytes(s.traceId),
          spanId: bytes(s.spanId),
          traceState: s.traceState,
          parentSpanId: bytes(s.parentSpanId),
          flags: s.flags,
          name: s.name,
          kind: s.kind,
          startTimeUnixNano: big(s.startTimeUnixNano),
          endTimeUnixNano: big(s.endTimeUnixNano),
          attributes: attrs(s.attributes),
          droppedAttributesCount: s.droppedAttributesCount,
          events: (s.events ?? []).map((e: Obj) => ({
            timeUnixNano: big(e.timeUnixNano),
            name: e.name,
            attributes: attrs(e.attributes),
            droppedAttributesCount: e.droppedAttributesCount,
            unknownFields: unknowns(e),
          })),
          droppedEventsCount: s.droppedEventsCount,
          links: (s.links ?? []).map((l: Obj) => ({
            traceId: bytes(l.traceId),
            spanId: bytes(l.spanId),
            traceState: l.traceState,
            attributes: attrs(l.attributes),
            droppedAttributesCount: l.droppedAttributesCount,
            flags: l.flags,
            unknownFields: unknowns(l),
          })),
          droppedLinksCount: s.droppedLinksCount,
          status: s.status ? { message: s.status.message, code: s.status.code, unknownFields: unknowns(s.status) } : undefined,
          unknownFields: unknowns(s),
        })),
        schemaUrl: ss.schemaUrl,
        unknownFields: unknowns(ss),
      })),
      schemaUrl: rs.schemaUrl,
      unknownFields: unknowns(rs),
    })),
    unknownFields: unknowns(m),
  };
}

// ------------------------------------------------------------------------------------------------
// model -> protobufjs objects
// ------------------------------------------------------------------------------------------------

function long(v: bigint, unsigned: boolean): Obj {
  const u = BigInt.asUintN(64, v);
  return Long.fromBits(Number(u & 0xffffffffn) | 0, Number(u >> 32n) | 0, unsigned);
}

function withUnknowns(o: Obj, u: Uint8Array | undefined): Obj {
  if (u && u.length > 0) o.$unknowns = [u];
  return o;
}

function toAnyValue(v: AnyValue): Obj {
  if (v instanceof AnyValueWithUnknownFields) return withUnknowns(toAnyValue(v.value), v.unknownFields);
  if (v === null) return {};
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'bigint') return { intValue: long(v, false) };
  if (typeof v === 'number') return { doubleValue: v };
  if (v instanceof Uint8Array) return { bytesValue: v };
  if (v instanceof ArrayValue) return { arrayValue: withUnknowns({ values: v.values.map(toAnyValue) }, v.unknownFields) };
  return { kvlistValue: withUnknowns({ values: v.values.map(toKeyValue) }, v.unknownFields) };
}

function toKeyValue(kv: KeyValue): Obj {
  return withUnknowns({ key: kv.key, value: toAnyValue(kv.value) }, kv.unknownFields);
}

export function toPbjsTraces(d: TracesData): Obj {
  return withUnknowns(
    {
      resourceSpans: d.resourceSpans.map((rs) =>
        withUnknowns(
          {
            ...(rs.resource
              ? {
                  resource: withUnknowns(
                    {
                      attributes: rs.resource.attributes.map(toKeyValue),
                      droppedAttributesCount: rs.resource.droppedAttributesCount,
                      entityRefs: rs.resource.entityRefs.map((e) =>
                        withUnknowns({ schemaUrl: e.schemaUrl, type: e.type, idKeys: e.idKeys, descriptionKeys: e.descriptionKeys }, e.unknownFields),
                      ),
                    },
                    rs.resource.unknownFields,
                  ),
                }
              : {}),
            scopeSpans: rs.scopeSpans.map((ss) =>
              withUnknowns(
                {
                  ...(ss.scope
                    ? {
                        scope: withUnknowns(
                          { name: ss.scope.name, version: ss.scope.version, attributes: ss.scope.attributes.map(toKeyValue), droppedAttributesCount: ss.scope.droppedAttributesCount },
                          ss.scope.unknownFields,
                        ),
                      }
                    : {}),
                  spans: ss.spans.map((s) =>
                    withUnknowns(
                      {
                        traceId: s.traceId,
                        spanId: s.spanId,
                        traceState: s.traceState,
                        parentSpanId: s.parentSpanId,
                        flags: s.flags,
                        name: s.name,
                        kind: s.kind,
                        startTimeUnixNano: long(s.startTimeUnixNano, true),
                        endTimeUnixNano: long(s.endTimeUnixNano, true),
                        attributes: s.attributes.map(toKeyValue),
                        droppedAttributesCount: s.droppedAttributesCount,
                        events: s.events.map((e) =>
                          withUnknowns(
                            { timeUnixNano: long(e.timeUnixNano, true), name: e.name, attributes: e.attributes.map(toKeyValue), droppedAttributesCount: e.droppedAttributesCount },
                            e.unknownFields,
                          ),
                        ),
                        droppedEventsCount: s.droppedEventsCount,
                        links: s.links.map((l) =>
                          withUnknowns(
                            {
                              traceId: l.traceId,
                              spanId: l.spanId,
                              traceState: l.traceState,
                              attributes: l.attributes.map(toKeyValue),
                              droppedAttributesCount: l.droppedAttributesCount,
                              flags: l.flags,
                            },
                            l.unknownFields,
                          ),
                        ),
                        droppedLinksCount: s.droppedLinksCount,
                        ...(s.status ? { status: withUnknowns({ message: s.status.message, code: s.status.code }, s.status.unknownFields) } : {}),
                      },
                      s.unknownFields,
                    ),
                  ),
                  schemaUrl: ss.schemaUrl,
                },
                ss.unknownFields,
              ),
            ),
            schemaUrl: rs.schemaUrl,
          },
          rs.unknownFields,
        ),
      ),
    },
    d.unknownFields,
  );
}
