// Tests of the OTLP/JSON codec: round trips at message level, the OTLP JSON rules as literal JSON,
// lenient decoding (snake_case, enum names, numbers for int64, unknown keys), errors with paths,
// JSON Lines, and a cross-check against the OpenTelemetry JS SDK's own JSON serializer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, SpanKind as ApiSpanKind, SpanStatusCode, TraceFlags, trace, type Attributes, type AttributeValue } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import {
  AnyValueWithUnknownFields,
  ArrayValue,
  InputError,
  KeyValueList,
  SpanKind,
  StatusCode,
  attributes,
  bytesToHex,
  diffAnyValue,
  diffTracesData,
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
  type Span,
  type TracesData,
} from '../../src/model/index.js';
import {
  decodeTraceResponseJson,
  decodeTracesJson,
  decodeTracesJsonLines,
  decodeTracesJsonValue,
  encodeTraceResponseJson,
  encodeTracesJson,
} from '../../src/otlp/json.js';
import { MAX_DEPTH } from '../../src/otlp/wire.js';

const hex = (h: string): Uint8Array => hexToBytes(h)!;
const TRACE_A = hex('5b8efff798038103d269b633813fc60c');
const TRACE_B = hex('0af7651916cd43dd8448eb211c80319c');
const SPAN_1 = hex('eee19b7ec3c1b174');
const SPAN_2 = hex('b7ad6b7169203331');
const SPAN_3 = hex('00f067aa0ba902b7');

function assertSame(actual: TracesData, expected: TracesData): void {
  const d = diffTracesData(actual, expected);
  assert.equal(d, undefined, d);
}

/** One span per request, for tests about a single span. */
function oneSpan(span: Span): TracesData {
  return makeTracesData([makeResourceSpans({ scopeSpans: [makeScopeSpans({ spans: [span] })] })]);
}

function firstSpan(data: TracesData): Span {
  return data.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
}

/** The JSON object of the first span in an encoded request. */
function firstSpanJson(json: string): Record<string, unknown> {
  return (JSON.parse(json) as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] }).resourceSpans[0]!.scopeSpans[0]!
    .spans[0]!;
}

const EVERY_ANY_VALUE: Record<string, AnyValue> = {
  str: 'héllo "world"\n\u2028\ud83d\ude00',
  emptyStr: '',
  yes: true,
  no: false,
  zero: 0n,
  beyond53: 2n ** 53n + 1n,
  min64: -(2n ** 63n),
  max64: 2n ** 63n - 1n,
  negative: -42n,
  double: 3.14159,
  doubleZero: 0,
  negZero: -0,
  nan: NaN,
  inf: Infinity,
  negInf: -Infinity,
  tiny: 5e-324,
  huge: 1.7976931348623157e308,
  integralDouble: 2,
  bytes: new Uint8Array([0, 1, 2, 250, 251, 252, 253, 254, 255]),
  emptyBytes: new Uint8Array(0),
  empty: null,
  array: new ArrayValue(['a', 1n, 2.5, true, null, new Uint8Array([9]), new ArrayValue([new ArrayValue([])])]),
  emptyArray: new ArrayValue([]),
  kvlist: new KeyValueList([
    kv('inner', 'x'),
    kv('nested', new KeyValueList([kv('deep', new ArrayValue([-1n, NaN]))])),
    kv('', 'empty key'),
    kv('nothing', null),
  ]),
  emptyKvlist: new KeyValueList([]),
};

/** A request that uses every field of every message, with values chosen to catch encoding slips. */
function richRequest(): TracesData {
  const root = makeSpan({
    traceId: TRACE_A,
    spanId: SPAN_1,
    traceState: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
    flags: 0x301,
    name: 'GET /api/orders/{id}',
    kind: SpanKind.SERVER,
    startTimeUnixNano: 1_700_000_000_123_456_789n,
    endTimeUnixNano: 1_700_000_000_987_654_321n,
    attributes: attributes(EVERY_ANY_VALUE),
    droppedAttributesCount: 3,
    events: [
      makeEvent({ timeUnixNano: 1_700_000_000_200_000_001n, name: 'exception', attributes: attributes({ 'exception.type': 'Error' }), droppedAttributesCount: 1 }),
      makeEvent({ name: 'no time' }),
      makeEvent(),
    ],
    droppedEventsCount: 4,
    links: [
      makeLink({ traceId: TRACE_B, spanId: SPAN_3, traceState: 'a=b', attributes: attributes({ why: 'batch' }), droppedAttributesCount: 2, flags: 0x101 }),
      makeLink({ traceId: TRACE_B, spanId: SPAN_2 }),
    ],
    droppedLinksCount: 5,
    status: makeStatus(StatusCode.ERROR, 'boom'),
  });
  const child = makeSpan({
    traceId: TRACE_A,
    spanId: SPAN_2,
    parentSpanId: SPAN_1,
    name: 'SELECT',
    kind: SpanKind.CLIENT,
    startTimeUnixNano: 1_700_000_000_300_000_000n,
    endTimeUnixNano: 0xffff_ffff_ffff_ffffn, // fixed64 maximum
    status: makeStatus(), // present with default values
  });
  const bare = makeSpan({ kind: 99 }); // proto3 enums are open: an unknown kind is carried through
  const resource = makeResource({
    attributes: attributes({ 'service.name': 'checkout', 'host.cpus': 8n }),
    droppedAttributesCount: 7,
    entityRefs: [
      makeEntityRef({ schemaUrl: 'https://opentelemetry.io/schemas/1.30.0', type: 'service', idKeys: ['service.name', 'service.namespace'], descriptionKeys: ['service.version'] }),
      makeEntityRef({ type: 'host', idKeys: ['host.id'] }),
    ],
  });
  return makeTracesData([
    makeResourceSpans({
      resource,
      schemaUrl: 'https://opentelemetry.io/schemas/1.29.0',
      scopeSpans: [
        makeScopeSpans({
          scope: makeScope({ name: '@acme/http', version: '2.1.0', attributes: attributes({ 'scope.kind': 'auto' }), droppedAttributesCount: 6 }),
          schemaUrl: 'https://opentelemetry.io/schemas/1.28.0',
          spans: [root, child],
        }),
        makeScopeSpans({ scope: makeScope(), spans: [bare] }), // present, empty scope
        makeScopeSpans(), // no scope at all
      ],
    }),
    makeResourceSpans({ resource: makeResource(), scopeSpans: [] }), // present, empty resource
    makeResourceSpans(),
  ]);
}

describe('OTLP/JSON round trip', () => {
  it('decode(encode(x)) equals x for every field and every AnyValue kind', () => {
    const data = richRequest();
    assertSame(decodeTracesJson(encodeTracesJson(data)), data);
  });

  it('decodes an already parsed value to the same message', () => {
    const data = richRequest();
    assertSame(decodeTracesJsonValue(JSON.parse(encodeTracesJson(data))), data);
  });

  it('is stable: encoding the decoded message gives the same text', () => {
    const text = encodeTracesJson(richRequest());
    assert.equal(encodeTracesJson(decodeTracesJson(text)), text);
  });

  it('an empty request is {}', () => {
    assert.equal(encodeTracesJson(makeTracesData()), '{}');
    assertSame(decodeTracesJson('{}'), makeTracesData());
  });

  it('keeps presence of status, resource and scope', () => {
    const data = richRequest();
    const back = decodeTracesJson(encodeTracesJson(data));
    const ss = back.resourceSpans[0]!.scopeSpans;
    assert.equal(ss[0]!.spans[1]!.status?.code, 0);
    assert.equal(ss[0]!.spans[0]!.status?.message, 'boom');
    assert.equal(ss[1]!.spans[0]!.status, undefined);
    assert.notEqual(ss[1]!.scope, undefined);
    assert.equal(ss[2]!.scope, undefined);
    assert.notEqual(back.resourceSpans[1]!.resource, undefined);
    assert.equal(back.resourceSpans[2]!.resource, undefined);
  });

  it('drops unknownFields, which JSON cannot express, and writes AnyValueWithUnknownFields as its inner value', () => {
    const withUnknown = makeSpan({
      traceId: TRACE_A,
      spanId: SPAN_1,
      attributes: [kv('a', new AnyValueWithUnknownFields('inner', new Uint8Array([0x40, 0x05]))), kv('b', new AnyValueWithUnknownFields(null, new Uint8Array([0x40, 0x01])))],
      unknownFields: new Uint8Array([0xa8, 0x01, 0x01]),
    });
    const data = oneSpan(withUnknown);
    data.unknownFields = new Uint8Array([0x10, 0x01]);
    const json = encodeTracesJson(data);
    assert.equal(json, '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","attributes":[{"key":"a","value":{"stringValue":"inner"}},{"key":"b","value":{}}]}]}]}]}');
    const back = decodeTracesJson(json);
    assert.equal(back.unknownFields, undefined);
    assert.equal(firstSpan(back).unknownFields, undefined);
    assert.equal(firstSpan(back).attributes[0]!.value, 'inner');
    assert.equal(firstSpan(back).attributes[1]!.value, null);
  });
});

describe('OTLP/JSON encoding rules', () => {
  const json = encodeTracesJson(richRequest());
  const parsed = JSON.parse(json) as Record<string, unknown>;

  it('writes ids as lowercase hex, enums as integers, 64-bit integers as decimal strings, fixed32 flags as numbers', () => {
    const span = firstSpanJson(json);
    assert.equal(span.traceId, '5b8efff798038103d269b633813fc60c');
    assert.equal(span.spanId, 'eee19b7ec3c1b174');
    assert.equal(span.kind, 2);
    assert.equal(span.flags, 0x301);
    assert.equal(span.startTimeUnixNano, '1700000000123456789');
    assert.equal(span.endTimeUnixNano, '1700000000987654321');
    assert.deepEqual(span.status, { message: 'boom', code: 2 });
    const event = (span.events as Record<string, unknown>[])[0]!;
    assert.equal(event.timeUnixNano, '1700000000200000001');
    const link = (span.links as Record<string, unknown>[])[0]!;
    assert.equal(link.traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(link.spanId, '00f067aa0ba902b7');
    assert.equal(link.flags, 0x101);
    assert.equal(span.droppedAttributesCount, 3);
    const child = (parsed as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] }).resourceSpans[0]!.scopeSpans[0]!.spans[1]!;
    assert.equal(child.parentSpanId, 'eee19b7ec3c1b174');
    assert.equal(child.endTimeUnixNano, '18446744073709551615');
  });

  it('writes AnyValue as the OTLP JSON oneof', () => {
    const attrs = new Map((firstSpanJson(json).attributes as { key?: string; value: unknown }[]).map((a) => [a.key ?? '', a.value]));
    assert.deepEqual(attrs.get('str'), { stringValue: EVERY_ANY_VALUE.str });
    assert.deepEqual(attrs.get('emptyStr'), { stringValue: '' });
    assert.deepEqual(attrs.get('yes'), { boolValue: true });
    assert.deepEqual(attrs.get('no'), { boolValue: false });
    assert.deepEqual(attrs.get('zero'), { intValue: '0' });
    assert.deepEqual(attrs.get('beyond53'), { intValue: '9007199254740993' });
    assert.deepEqual(attrs.get('min64'), { intValue: '-9223372036854775808' });
    assert.deepEqual(attrs.get('max64'), { intValue: '9223372036854775807' });
    assert.deepEqual(attrs.get('double'), { doubleValue: 3.14159 });
    assert.deepEqual(attrs.get('doubleZero'), { doubleValue: 0 });
    assert.deepEqual(attrs.get('nan'), { doubleValue: 'NaN' });
    assert.deepEqual(attrs.get('inf'), { doubleValue: 'Infinity' });
    assert.deepEqual(attrs.get('negInf'), { doubleValue: '-Infinity' });
    assert.deepEqual(attrs.get('integralDouble'), { doubleValue: 2 });
    assert.deepEqual(attrs.get('bytes'), { bytesValue: 'AAEC+vv8/f7/' });
    assert.deepEqual(attrs.get('emptyBytes'), { bytesValue: '' });
    assert.deepEqual(attrs.get('empty'), {});
    assert.deepEqual(attrs.get('emptyArray'), { arrayValue: {} });
    assert.deepEqual(attrs.get('emptyKvlist'), { kvlistValue: {} });
    assert.deepEqual(attrs.get('array'), {
      arrayValue: {
        values: [
          { stringValue: 'a' },
          { intValue: '1' },
          { doubleValue: 2.5 },
          { boolValue: true },
          {},
          { bytesValue: 'CQ==' },
          { arrayValue: { values: [{ arrayValue: {} }] } },
        ],
      },
    });
    assert.deepEqual(attrs.get('kvlist'), {
      kvlistValue: {
        values: [
          { key: 'inner', value: { stringValue: 'x' } },
          { key: 'nested', value: { kvlistValue: { values: [{ key: 'deep', value: { arrayValue: { values: [{ intValue: '-1' }, { doubleValue: 'NaN' }] } } }] } } },
          { value: { stringValue: 'empty key' } },
          { key: 'nothing', value: {} },
        ],
      },
    });
    // -0 keeps its sign in the text (JSON.stringify would write 0).
    assert.match(json, /"key":"negZero","value":\{"doubleValue":-0\}/);
  });

  it('uses lowerCamelCase keys only', () => {
    const keys = new Set<string>();
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v !== null && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          keys.add(k);
          walk(x);
        }
      }
    };
    walk(parsed);
    // Attribute keys are data, not field names: skip the ones this test put there.
    const fieldNames = [...keys].filter((k) => !(k in EVERY_ANY_VALUE));
    for (const k of fieldNames) assert.match(k, /^[a-z][a-zA-Z]*$/, `key ${k}`);
    for (const k of ['resourceSpans', 'scopeSpans', 'schemaUrl', 'entityRefs', 'idKeys', 'descriptionKeys', 'droppedAttributesCount', 'droppedEventsCount', 'droppedLinksCount', 'traceState', 'parentSpanId', 'timeUnixNano', 'kvlistValue', 'arrayValue', 'bytesValue']) {
      assert.ok(keys.has(k), `missing ${k}`);
    }
  });

  it('omits proto3 defaults but keeps present messages', () => {
    const data = makeTracesData([
      makeResourceSpans({
        resource: makeResource(),
        scopeSpans: [makeScopeSpans({ scope: makeScope(), spans: [makeSpan(), makeSpan({ status: makeStatus() })] })],
      }),
    ]);
    assert.equal(encodeTracesJson(data), '{"resourceSpans":[{"resource":{},"scopeSpans":[{"scope":{},"spans":[{},{"status":{}}]}]}]}');
    const ids = encodeTracesJson(oneSpan(makeSpan({ traceId: TRACE_A, spanId: SPAN_1, links: [makeLink()], events: [makeEvent()] })));
    assert.equal(ids, '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","events":[{}],"links":[{}]}]}]}]}');
    const entity = encodeTracesJson(makeTracesData([makeResourceSpans({ resource: makeResource({ entityRefs: [makeEntityRef()] }) })]));
    assert.equal(entity, '{"resourceSpans":[{"resource":{"entityRefs":[{}]}}]}');
  });

  it('encodes and decodes the export response', () => {
    assert.equal(encodeTraceResponseJson({}), '{}');
    assert.equal(encodeTraceResponseJson({ partialSuccess: { rejectedSpans: 0n, errorMessage: '' } }), '{"partialSuccess":{}}');
    const r = { partialSuccess: { rejectedSpans: 2n ** 62n, errorMessage: 'too old' } };
    const text = encodeTraceResponseJson(r);
    assert.equal(text, '{"partialSuccess":{"rejectedSpans":"4611686018427387904","errorMessage":"too old"}}');
    assert.deepEqual(decodeTraceResponseJson(text), { partialSuccess: { rejectedSpans: 2n ** 62n, errorMessage: 'too old', unknownFields: undefined }, unknownFields: undefined });
    assert.deepEqual(decodeTraceResponseJson('{"partial_success":{"rejected_spans":3,"error_message":"x"},"extra":1}').partialSuccess?.rejectedSpans, 3n);
    assert.deepEqual(decodeTraceResponseJson('{"partialSuccess":{}}').partialSuccess, { rejectedSpans: 0n, errorMessage: '', unknownFields: undefined });
    assert.equal(decodeTraceResponseJson('').partialSuccess, undefined);
    assert.equal(decodeTraceResponseJson('{}').partialSuccess, undefined);
    assert.throws(() => decodeTraceResponseJson('{"partialSuccess":{"rejectedSpans":"x"}}'), /partialSuccess\.rejectedSpans: not a decimal integer/);
    assert.throws(() => decodeTraceResponseJson('[1]'), InputError);
  });
});

describe('OTLP/JSON decoding', () => {
  it('accepts the proto field names (snake_case), enum names and numbers for 64-bit integers', () => {
    const text = JSON.stringify({
      resource_spans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { string_value: 'svc' } }], dropped_attributes_count: 1, entity_refs: [{ schema_url: 's', type: 't', id_keys: ['a'], description_keys: ['b'] }] },
          schema_url: 'r',
          scope_spans: [
            {
              scope: { name: 'lib', version: '1', dropped_attributes_count: 2 },
              schema_url: 'sc',
              spans: [
                {
                  trace_id: '5B8EFFF798038103D269B633813FC60C',
                  span_id: 'EEE19B7EC3C1B174',
                  parent_span_id: 'b7ad6b7169203331',
                  trace_state: 'k=v',
                  name: 'op',
                  kind: 'SPAN_KIND_CONSUMER',
                  flags: 257,
                  start_time_unix_nano: 1000,
                  end_time_unix_nano: '2000',
                  attributes: [
                    { key: 'i', value: { int_value: 5 } },
                    { key: 'd', value: { double_value: '1.5' } },
                    { key: 'b', value: { bool_value: true } },
                    { key: 'y', value: { bytes_value: '-_8' } },
                    { key: 'a', value: { array_value: { values: [{ int_value: '-3' }] } } },
                    { key: 'k', value: { kvlist_value: { values: [{ key: 'x', value: { string_value: 'y' } }] } } },
                  ],
                  dropped_attributes_count: 3,
                  events: [{ time_unix_nano: '5', name: 'e', dropped_attributes_count: 4 }],
                  dropped_events_count: 5,
                  links: [{ trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: '00f067aa0ba902b7', trace_state: 'l=1', dropped_attributes_count: 6, flags: 1 }],
                  dropped_links_count: 7,
                  status: { code: 'STATUS_CODE_OK', message: 'fine' },
                },
              ],
            },
          ],
        },
      ],
    });
    const expected = makeTracesData([
      makeResourceSpans({
        resource: makeResource({ attributes: [kv('service.name', 'svc')], droppedAttributesCount: 1, entityRefs: [makeEntityRef({ schemaUrl: 's', type: 't', idKeys: ['a'], descriptionKeys: ['b'] })] }),
        schemaUrl: 'r',
        scopeSpans: [
          makeScopeSpans({
            scope: makeScope({ name: 'lib', version: '1', droppedAttributesCount: 2 }),
            schemaUrl: 'sc',
            spans: [
              makeSpan({
                traceId: TRACE_A,
                spanId: SPAN_1,
                parentSpanId: SPAN_2,
                traceState: 'k=v',
                name: 'op',
                kind: SpanKind.CONSUMER,
                flags: 257,
                startTimeUnixNano: 1000n,
                endTimeUnixNano: 2000n,
                attributes: [
                  kv('i', 5n),
                  kv('d', 1.5),
                  kv('b', true),
                  kv('y', new Uint8Array([0xfb, 0xff])),
                  kv('a', new ArrayValue([-3n])),
                  kv('k', new KeyValueList([kv('x', 'y')])),
                ],
                droppedAttributesCount: 3,
                events: [makeEvent({ timeUnixNano: 5n, name: 'e', droppedAttributesCount: 4 })],
                droppedEventsCount: 5,
                links: [makeLink({ traceId: TRACE_B, spanId: SPAN_3, traceState: 'l=1', droppedAttributesCount: 6, flags: 1 })],
                droppedLinksCount: 7,
                status: makeStatus(StatusCode.OK, 'fine'),
              }),
            ],
          }),
        ],
      }),
    ]);
    assertSame(decodeTracesJson(text), expected);
  });

  it('ignores unknown fields at every level', () => {
    const text = JSON.stringify({
      future: { a: [1, 2] },
      resourceSpans: [
        {
          x: 1,
          resource: { y: 'z', attributes: [{ key: 'k', keyStrindex: 3, value: { stringValue: 'v', other: true } }] },
          scopeSpans: [{ scope: { name: 'n', q: null }, spans: [{ spanId: 'eee19b7ec3c1b174', somethingNew: { deep: [{}] }, status: { deprecatedCode: 1, code: 2 } }] }],
        },
      ],
    });
    const data = decodeTracesJson(text);
    assert.equal(data.resourceSpans[0]!.resource!.attributes[0]!.value, 'v');
    assert.equal(firstSpan(data).status!.code, 2);
    assert.equal(bytesToHex(firstSpan(data).spanId), 'eee19b7ec3c1b174');
  });

  it('treats null as an absent field, as proto3 JSON does', () => {
    const data = decodeTracesJson('{"resourceSpans":[{"resource":null,"scopeSpans":[{"spans":[{"traceId":null,"status":null,"attributes":[{"key":"k","value":null},{"key":"s","value":{"stringValue":null}}]}]}]}]}');
    const span = firstSpan(data);
    assert.equal(data.resourceSpans[0]!.resource, undefined);
    assert.equal(span.traceId.length, 0);
    assert.equal(span.status, undefined);
    assert.equal(span.attributes[0]!.value, null);
    assert.equal(span.attributes[1]!.value, null);
  });

  it('reads int64 numbers beyond 2^53 exactly from the JSON text', () => {
    // 1700000000123456789 is not a double: JSON.parse alone would give ...456768.
    const text = '{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":1700000000123456789,"endTimeUnixNano":18446744073709551615,' +
      '"events":[{"timeUnixNano":1700000000123456791}],"attributes":[{"key":"min","value":{"intValue":-9223372036854775808}},{"key":"d","value":{"doubleValue":12345678901234567890}},{"key":"s","value":{"stringValue":"\\"esc\\u00e9\\""}}]}]}]}]}';
    const span = firstSpan(decodeTracesJson(text));
    assert.equal(span.startTimeUnixNano, 1700000000123456789n);
    assert.equal(span.endTimeUnixNano, 18446744073709551615n);
    assert.equal(span.events[0]!.timeUnixNano, 1700000000123456791n);
    assert.equal(span.attributes[0]!.value, -9223372036854775808n);
    assert.equal(span.attributes[1]!.value, 12345678901234567890);
    assert.equal(span.attributes[2]!.value, '"escé"');
    // The same from JSON Lines.
    assert.equal(firstSpan(decodeTracesJsonLines(text + '\n')[0]!).startTimeUnixNano, 1700000000123456789n);
  });

  it('the exact re-parse reads everything else as JSON.parse does', () => {
    // One bare number beyond 2^53 sends the whole text through the exact parser: escapes, unicode,
    // -0, nested values and every other field must come out the same as on the fast path.
    const text = encodeTracesJson(richRequest());
    const bare = text.replace('"startTimeUnixNano":"1700000000123456789"', '"startTimeUnixNano":1700000000123456789');
    assert.notEqual(bare, text);
    assertSame(decodeTracesJson(bare), richRequest());
    const spaced = JSON.stringify(JSON.parse(text), null, 2).replace('"startTimeUnixNano": "1700000000123456789"', '"startTimeUnixNano": 1700000000123456789');
    assert.notEqual(spaced, JSON.stringify(JSON.parse(text), null, 2));
    const back = decodeTracesJson(spaced);
    assert.equal(firstSpan(back).startTimeUnixNano, 1700000000123456789n);
    // The pretty print went through JSON.stringify, which writes -0 as 0: compare with its fast-path decode.
    assert.equal(diffTracesData(back, decodeTracesJson(JSON.stringify(JSON.parse(text), null, 2))), undefined);
  });

  it('accepts safe integer numbers from a parsed value and refuses rounded ones with a clear error', () => {
    const value = { resourceSpans: [{ scopeSpans: [{ spans: [{ startTimeUnixNano: 1_000_000, endTimeUnixNano: '1700000000123456789' }] }] }] };
    const span = firstSpan(decodeTracesJsonValue(value));
    assert.equal(span.startTimeUnixNano, 1_000_000n);
    assert.equal(span.endTimeUnixNano, 1700000000123456789n);
    const rounded = { resourceSpans: [{ scopeSpans: [{ spans: [{ startTimeUnixNano: 1700000000123456789 }] }] }] };
    assert.throws(() => decodeTracesJsonValue(rounded, 'body'), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.source, 'body');
      assert.match(e.message, /^body: resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.startTimeUnixNano: integer beyond 2\^53 .*decimal strings/);
      return true;
    });
  });

  it('accepts standard and URL-safe base64, padded or not', () => {
    for (const b64 of ['+/+/', '-_-_', 'AAEC+vv8/f7/', 'AAEC-vv8_f7_', 'YQ==', 'YQ', 'YWI=', 'YWI']) {
      const data = decodeTracesJson(`{"resourceSpans":[{"resource":{"attributes":[{"key":"b","value":{"bytesValue":"${b64}"}}]}}]}`);
      const got = data.resourceSpans[0]!.resource!.attributes[0]!.value as Uint8Array;
      const standard = b64.replace(/-/g, '+').replace(/_/g, '/');
      assert.deepEqual([...got], [...Buffer.from(standard, 'base64')], b64);
    }
  });

  it('decodes JSON Lines, skipping blank lines and tolerating CRLF', () => {
    const a = encodeTracesJson(oneSpan(makeSpan({ name: 'a' })));
    const b = encodeTracesJson(oneSpan(makeSpan({ name: 'b' })));
    const batches = decodeTracesJsonLines(`${a}\r\n\n   \n${b}\n`);
    assert.deepEqual(batches.map((d) => firstSpan(d).name), ['a', 'b']);
    assert.deepEqual(decodeTracesJsonLines(''), []);
    assert.deepEqual(decodeTracesJsonLines('\n\n'), []);
  });
});

describe('OTLP/JSON errors', () => {
  /** Asserts an InputError whose message matches. */
  function rejects(text: string, message: RegExp, decode: (t: string) => unknown = (t) => decodeTracesJson(t)): void {
    assert.throws(
      () => decode(text),
      (e: unknown) => {
        assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
        assert.match(e.message, message);
        return true;
      },
    );
  }
  const span = (fields: string): string => `{"resourceSpans":[{"scopeSpans":[{},{"spans":[{},{},{},{${fields}}]}]}]}`;
  const attr = (value: string): string => `{"resourceSpans":[{"resource":{"attributes":[{"key":"k","value":${value}}]}}]}`;

  it('names bad hex ids with their JSON path', () => {
    rejects(span('"traceId":"xyz0"'), /^resourceSpans\[0\]\.scopeSpans\[1\]\.spans\[3\]\.traceId: not hex: "xyz0"$/);
    rejects(span('"spanId":"abc"'), /spans\[3\]\.spanId: not hex/);
    rejects(span('"parentSpanId":12'), /spans\[3\]\.parentSpanId: expected a string, got number/);
    rejects(span('"links":[{"traceId":"W47/95gDgQPSabYzgT/GDA=="}]'), /spans\[3\]\.links\[0\]\.traceId: not hex: .*looks like base64/);
  });

  it('names wrong types', () => {
    rejects('{"resourceSpans":"nope"}', /^resourceSpans: expected an array, got string$/);
    rejects('{"resourceSpans":["nope"]}', /^resourceSpans\[0\]: expected an object, got string$/);
    rejects('{"resourceSpans":[null]}', /^resourceSpans\[0\]: expected an object, got null$/);
    rejects('{"resourceSpans":[{"resource":[]}]}', /^resourceSpans\[0\]\.resource: expected an object, got array$/);
    rejects(span('"name":5'), /spans\[3\]\.name: expected a string, got number/);
    rejects(span('"kind":1.5'), /spans\[3\]\.kind: not an int32 enum value: 1.5/);
    rejects(span('"kind":"SERVER"'), /spans\[3\]\.kind: unknown enum name "SERVER"/);
    rejects(span('"status":{"code":"STATUS_CODE_BROKEN"}'), /spans\[3\]\.status\.code: unknown enum name/);
    rejects(span('"status":"ok"'), /spans\[3\]\.status: expected an object, got string/);
    rejects(span('"flags":-1'), /spans\[3\]\.flags: out of range for uint32/);
    rejects(span('"droppedAttributesCount":4294967296'), /droppedAttributesCount: out of range for uint32/);
    rejects(span('"droppedEventsCount":true'), /droppedEventsCount: expected an unsigned 32-bit integer, got boolean/);
    rejects(span('"startTimeUnixNano":"-1"'), /startTimeUnixNano: out of range for fixed64: -1/);
    rejects(span('"startTimeUnixNano":"1.5e9"'), /startTimeUnixNano: not a decimal integer/);
    rejects(span('"startTimeUnixNano":1.5'), /startTimeUnixNano: not an integer: 1.5/);
    rejects(span('"startTimeUnixNano":1e30'), /startTimeUnixNano: out of range for fixed64/);
    rejects(span('"endTimeUnixNano":18446744073709551616'), /endTimeUnixNano: out of range for fixed64: 18446744073709551616/);
    rejects(span('"events":[{"timeUnixNano":{}}]'), /spans\[3\]\.events\[0\]\.timeUnixNano: expected a 64-bit integer/);
    rejects('{"resourceSpans":[{"resource":{"entityRefs":[{"idKeys":["a",1]}]}}]}', /^resourceSpans\[0\]\.resource\.entityRefs\[0\]\.idKeys\[1\]: expected a string, got number$/);
    rejects(attr('"s"'), /^resourceSpans\[0\]\.resource\.attributes\[0\]\.value: expected an object, got string$/);
    rejects(attr('{"intValue":"9223372036854775808"}'), /attributes\[0\]\.value\.intValue: out of range for int64/);
    rejects(attr('{"intValue":"12a"}'), /value\.intValue: not a decimal integer: "12a"/);
    rejects(attr('{"boolValue":"true"}'), /value\.boolValue: expected true or false, got string/);
    rejects(attr('{"doubleValue":"fast"}'), /value\.doubleValue: not a number: "fast"/);
    rejects(attr('{"bytesValue":"a"}'), /value\.bytesValue: not base64/);
    rejects(attr('{"bytesValue":"ab$d"}'), /value\.bytesValue: not base64/);
    rejects(attr('{"stringValue":"a","intValue":"1"}'), /attributes\[0\]\.value\.intValue: AnyValue sets both stringValue and intValue/);
    rejects(attr('{"arrayValue":{"values":[{},{"kvlistValue":{"values":[{"key":3}]}}]}}'), /value\.arrayValue\.values\[1\]\.kvlistValue\.values\[0\]\.key: expected a string, got number/);
    rejects(attr('{"arrayValue":{"values":{}}}'), /value\.arrayValue\.values: expected an array, got object/);
  });

  it('rejects a non-object root, empty input and JSON that is not valid', () => {
    rejects('[]', /^the request must be a JSON object, got array$/);
    rejects('"text"', /got string/);
    rejects('null', /got null/);
    rejects('', /^empty input/);
    rejects('{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8e', /^not valid JSON: /);
    rejects('{"a":1}}', /^not valid JSON/);
    rejects(span('"traceId":"zz"'), /^traces\.json: resourceSpans/, (t) => decodeTracesJson(t, 'traces.json'));
    rejects('"x"', /^the request must be a JSON object, got string$/, (t) => decodeTracesJsonValue(JSON.parse(t)));
    rejects('', /got undefined/, () => decodeTracesJsonValue(undefined));
  });

  it('limits AnyValue nesting as the protobuf decoder does, instead of overflowing the stack', () => {
    const deep = (n: number): string => '{"arrayValue":{"values":['.repeat(n - 1) + '{"intValue":"1"}' + ']}}'.repeat(n - 1);
    const ok = decodeTracesJson(attr(deep(MAX_DEPTH)));
    assert.ok(ok.resourceSpans[0]!.resource!.attributes[0]!.value instanceof ArrayValue);
    rejects(attr(deep(MAX_DEPTH + 1)), new RegExp(`AnyValue nested deeper than ${MAX_DEPTH}$`));
    rejects(attr(deep(100_000)), /nested deeper/);
  });

  it('throws only InputError when any value is replaced by one of the wrong type, or the text is cut short', () => {
    const text = encodeTracesJson(richRequest());
    const replacements: unknown[] = ['x', '', 'zz', -1, 1.5, 1e300, 2 ** 64, true, null, [], [1], {}, { values: 3 }];
    let mutations = 0;
    const check = (value: unknown): void => {
      mutations++;
      try {
        decodeTracesJsonValue(value);
      } catch (e) {
        assert.ok(e instanceof InputError, `not an InputError: ${String(e)}`);
      }
    };
    // Replace each node of the parsed JSON in turn (a fresh parse each time, so one change at a time).
    const countNodes = (v: unknown): number =>
      v !== null && typeof v === 'object' ? 1 + Object.values(v).reduce<number>((n, x) => n + countNodes(x), 0) : 1;
    const total = countNodes(JSON.parse(text));
    for (let target = 1; target < total; target++) {
      for (const r of replacements) {
        const root = JSON.parse(text) as unknown;
        let seen = 0;
        const walk = (v: unknown): boolean => {
          if (v === null || typeof v !== 'object') return false;
          for (const k of Object.keys(v)) {
            seen++;
            if (seen === target) {
              (v as Record<string, unknown>)[k] = r;
              return true;
            }
            if (walk((v as Record<string, unknown>)[k])) return true;
          }
          return false;
        };
        walk(root);
        check(root);
      }
    }
    assert.ok(mutations > 1000, `only ${mutations} mutations`);
    for (let cut = 0; cut < text.length; cut += 7) {
      assert.throws(() => decodeTracesJson(text.slice(0, cut)), InputError);
    }
  });

  it('names the line in JSON Lines', () => {
    const good = encodeTracesJson(oneSpan(makeSpan({ name: 'ok' })));
    rejects(`${good}\n\n${span('"spanId":"q"')}\n`, /^trace\.jsonl: line 3: resourceSpans\[0\]\.scopeSpans\[1\]\.spans\[3\]\.spanId: not hex/, (t) => decodeTracesJsonLines(t, 'trace.jsonl'));
    rejects(`${good}\n{"resourceSpans":[\n`, /^line 2: not valid JSON/, (t) => decodeTracesJsonLines(t));
    rejects(`${good}\n[1]\n`, /^line 2: the request must be a JSON object/, (t) => decodeTracesJsonLines(t));
  });
});

// ----------------------------------------------------------------------------------------------
// Cross-check with the OpenTelemetry JS SDK's own OTLP/JSON serializer
// ----------------------------------------------------------------------------------------------

class CollectingExporter implements SpanExporter {
  readonly spans: ReadableSpan[] = [];
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.spans.push(...spans);
    done({ code: ExportResultCode.SUCCESS });
  }
  async shutdown(): Promise<void> {}
}

function hrTimeToBigint(t: [number, number]): bigint {
  return BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
}

/**
 * The model value the SDK's attribute becomes. Integral numbers are written as intValue, as the
 * digits JSON.stringify prints: for a double beyond 2^53 that is the shortest round-trip form
 * (2^60 prints as 1152921504606847000), and the decoder reads that text exactly.
 */
function expectedAnyValue(v: AttributeValue | undefined): AnyValue {
  if (Array.isArray(v)) return new ArrayValue(v.map((x) => expectedAnyValue(x ?? undefined)));
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(JSON.stringify(v)) : v;
  if (v === undefined) return null;
  return v as string | boolean;
}

function checkAttributes(path: string, actual: readonly { key: string; value: AnyValue }[], expected: Attributes): void {
  assert.deepEqual(
    actual.map((a) => a.key),
    Object.keys(expected),
    `${path} keys`,
  );
  for (const a of actual) {
    const d = diffAnyValue(`${path}(${a.key})`, a.value, expectedAnyValue(expected[a.key]));
    assert.equal(d, undefined, d);
  }
}

async function sdkSpans(): Promise<ReadableSpan[]> {
  const exporter = new CollectingExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'json-test', 'service.instance.id': 'i-1', 'host.cpus': 4 }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer('json-test-lib', '0.0.1', { schemaUrl: 'https://opentelemetry.io/schemas/1.24.0' });
  const other = provider.getTracer('other-lib');
  const remote = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED, isRemote: true };

  const root = tracer.startSpan(
    'GET /orders',
    {
      kind: ApiSpanKind.SERVER,
      startTime: [1_700_000_000, 123_456_789],
      attributes: {
        'http.request.method': 'GET',
        'http.response.status_code': 200,
        ratio: 0.25,
        ok: true,
        big: 2 ** 60, // written by the SDK as a bare JSON number beyond 2^53
        negative: -7,
        tags: ['a', 'b'],
        codes: [1, 2.5],
      },
      links: [{ context: remote, attributes: { reason: 'fan-in' } }],
    },
    trace.setSpanContext(ROOT_CONTEXT, remote),
  );
  root.addEvent('cache.miss', { key: 'order:42' }, [1_700_000_000, 500_000_001]);
  root.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream failed' });

  const child = tracer.startSpan('SELECT orders', { kind: ApiSpanKind.CLIENT, startTime: [1_700_000_000, 200_000_000] }, trace.setSpan(ROOT_CONTEXT, root));
  child.setAttribute('db.system', 'postgresql');
  child.end([1_700_000_000, 400_000_000]);

  for (const kind of [ApiSpanKind.INTERNAL, ApiSpanKind.PRODUCER, ApiSpanKind.CONSUMER]) {
    other.startSpan(`kind-${kind}`, { kind, startTime: [1_699_999_999, 999_999_999] }).end([1_700_000_001, 1]);
  }
  root.end([1_700_000_000, 987_654_321]);
  await provider.forceFlush();
  await provider.shutdown();
  return exporter.spans;
}

describe('OTLP/JSON against the OpenTelemetry JS serializer', () => {
  it('decodes what JsonTraceSerializer writes, exactly, and re-encodes to the same message', async () => {
    const spans = await sdkSpans();
    assert.equal(spans.length, 5);
    const bytes = JsonTraceSerializer.serializeRequest(spans);
    assert.ok(bytes);
    const text = new TextDecoder().decode(bytes);
    const data = decodeTracesJson(text);

    const decoded = new Map<string, { span: Span; scopeName: string; scopeVersion: string; scopeSchemaUrl: string; resourceAttrs: readonly { key: string; value: AnyValue }[] }>();
    for (const rs of data.resourceSpans) {
      for (const ss of rs.scopeSpans) {
        for (const span of ss.spans) {
          decoded.set(bytesToHex(span.spanId), {
            span,
            scopeName: ss.scope?.name ?? '',
            scopeVersion: ss.scope?.version ?? '',
            scopeSchemaUrl: ss.schemaUrl,
            resourceAttrs: rs.resource?.attributes ?? [],
          });
        }
      }
    }
    assert.equal(decoded.size, spans.length);

    for (const rs of spans) {
      const ctx = rs.spanContext();
      const got = decoded.get(ctx.spanId);
      assert.ok(got, `span ${ctx.spanId} missing`);
      const { span } = got;
      const p = `span ${rs.name}`;
      assert.equal(bytesToHex(span.traceId), ctx.traceId, `${p} traceId`);
      assert.equal(bytesToHex(span.parentSpanId), rs.parentSpanContext?.spanId ?? '', `${p} parentSpanId`);
      assert.equal(span.name, rs.name);
      assert.equal(span.kind, rs.kind + 1, `${p} kind (OTLP = API + 1)`);
      assert.equal(span.startTimeUnixNano, hrTimeToBigint(rs.startTime), `${p} start`);
      assert.equal(span.endTimeUnixNano, hrTimeToBigint(rs.endTime), `${p} end`);
      assert.equal(span.flags, (ctx.traceFlags & 0xff) | 0x100 | (rs.parentSpanContext?.isRemote ? 0x200 : 0), `${p} flags`);
      assert.equal(span.status?.code, rs.status.code, `${p} status code`);
      assert.equal(span.status?.message ?? '', rs.status.message ?? '', `${p} status message`);
      checkAttributes(`${p}.attributes`, span.attributes, rs.attributes);
      assert.equal(span.events.length, rs.events.length);
      rs.events.forEach((e, i) => {
        assert.equal(span.events[i]!.name, e.name);
        assert.equal(span.events[i]!.timeUnixNano, hrTimeToBigint(e.time), `${p} event time`);
        checkAttributes(`${p}.events[${i}]`, span.events[i]!.attributes, e.attributes ?? {});
      });
      assert.equal(span.links.length, rs.links.length);
      rs.links.forEach((l, i) => {
        assert.equal(bytesToHex(span.links[i]!.traceId), l.context.traceId);
        assert.equal(bytesToHex(span.links[i]!.spanId), l.context.spanId);
        assert.equal(span.links[i]!.flags, (l.context.traceFlags & 0xff) | 0x100 | (l.context.isRemote ? 0x200 : 0));
        checkAttributes(`${p}.links[${i}]`, span.links[i]!.attributes, l.attributes ?? {});
      });
      assert.equal(got.scopeName, rs.instrumentationScope.name);
      assert.equal(got.scopeVersion, rs.instrumentationScope.version ?? '');
      assert.equal(got.scopeSchemaUrl, rs.instrumentationScope.schemaUrl ?? '');
      checkAttributes(`${p}.resource`, got.resourceAttrs, rs.resource.attributes);
    }
    // The 2^60 attribute came as the bare JSON number 1152921504606847000: the decoder keeps those
    // digits, where JSON.parse would have rounded them to the double 2^60 = ...846976.
    assert.match(text, /"intValue":1152921504606847000\b/);
    const root = [...decoded.values()].find((d) => d.span.name === 'GET /orders')!.span;
    assert.equal(root.attributes.find((a) => a.key === 'big')!.value, 1152921504606847000n);
    assert.equal(root.flags, 0x301);

    // Re-encode: our JSON decodes to the same message, and the fields both writers put as strings
    // or hex are the same text.
    const ours = encodeTracesJson(data);
    assertSame(decodeTracesJson(ours), data);
    const theirsJson = JSON.parse(text) as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] };
    const oursJson = JSON.parse(ours) as typeof theirsJson;
    const pick = (j: typeof theirsJson) =>
      j.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((sp) => [sp.traceId, sp.spanId, sp.parentSpanId, sp.name, sp.kind, sp.startTimeUnixNano, sp.endTimeUnixNano, sp.flags])));
    assert.deepEqual(pick(oursJson), pick(theirsJson));
  });
});
