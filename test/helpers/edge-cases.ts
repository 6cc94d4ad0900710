// Hand-written edge-case trace messages, shared by the codec tests (OTLP protobuf, JSON, Tracezip).
// Each is a valid message a lossless codec must carry through unchanged.
import {
  AnyValueWithUnknownFields,
  ArrayValue,
  KeyValueList,
  makeEntityRef,
  makeEvent,
  makeLink,
  makeResource,
  makeResourceSpans,
  makeScope,
  makeScopeSpans,
  makeSpan,
  makeStatus,
  type AnyValue,
  type KeyValue,
  type TracesData,
} from '../../src/model/index.js';
import { DOUBLE_EDGES, ENUM_EDGES, FLAGS_EDGES, INT64_EDGES, STRING_EDGES, UINT32_EDGES, UINT64_EDGES, nestedArrays, nestedKvlists, singleSpan } from './arbitrary.js';
import { concatBytes, fieldFixed32, fieldFixed64, fieldLen, fieldString, fieldVarint } from './wire.js';

const kv = (key: string, value: AnyValue, unknownFields?: Uint8Array): KeyValue => ({ key, value, unknownFields });

/** Unknown fields of all four wire types with field numbers no message of the model uses. */
export function unknownOfEveryWireType(seedByte = 1): Uint8Array {
  return concatBytes(
    fieldVarint(100, 150 + seedByte),
    fieldFixed64(1000, 0x0102030405060708n + BigInt(seedByte)),
    fieldLen(536870911, Uint8Array.of(seedByte, 0xff, 0x00)),
    fieldFixed32(2047, 0xdeadbeef ^ seedByte),
  );
}

/** One of each AnyValue kind, including values with unknown fields and null. */
export function everyAnyValue(): KeyValue[] {
  const u = unknownOfEveryWireType(7);
  const attrs: KeyValue[] = [];
  STRING_EDGES.forEach((s, i) => attrs.push(kv(`string.${i}`, s)));
  attrs.push(kv('bool.true', true), kv('bool.false', false));
  INT64_EDGES.forEach((v) => attrs.push(kv(`int.${v}`, v)));
  DOUBLE_EDGES.forEach((v, i) => attrs.push(kv(`double.${i}`, v)));
  attrs.push(kv('bytes.empty', new Uint8Array(0)), kv('bytes.zero', Uint8Array.of(0)), kv('bytes.all', Uint8Array.from({ length: 256 }, (_, i) => i)));
  attrs.push(kv('null', null));
  attrs.push(kv('array.empty', new ArrayValue([])));
  attrs.push(kv('array.mixed', new ArrayValue(['s', true, -1n, 0.5, Uint8Array.of(1, 2), null, new ArrayValue([]), new KeyValueList([])])));
  attrs.push(kv('kvlist.empty', new KeyValueList([])));
  attrs.push(kv('kvlist.mixed', new KeyValueList([kv('a', 'x'), kv('b', 1n), kv('', null), kv('d', new ArrayValue([2.5, false]))])));
  attrs.push(kv('nested.arrays.30', nestedArrays(30)));
  attrs.push(kv('nested.kvlists.20', nestedKvlists(20)));
  attrs.push(kv('with-unknown.null', new AnyValueWithUnknownFields(null, u)));
  attrs.push(kv('with-unknown.string', new AnyValueWithUnknownFields('', u)));
  attrs.push(kv('with-unknown.int', new AnyValueWithUnknownFields(0n, u)));
  attrs.push(kv('with-unknown.array', new AnyValueWithUnknownFields(new ArrayValue([1n], u), u)));
  // string_value_strindex (AnyValue field 8) and key_strindex (KeyValue field 3) are unknown to the model.
  attrs.push(kv('strindex', new AnyValueWithUnknownFields(null, fieldVarint(8, 3)), fieldVarint(3, 5)));
  attrs.push(kv('kv-unknown', 'v', u));
  return attrs;
}

/** A message with unknown fields on every message type (all four wire types each). */
export function unknownFieldsEverywhere(): TracesData {
  let n = 0;
  const u = (): Uint8Array => unknownOfEveryWireType(++n);
  const attr = (): KeyValue[] => [
    kv('k', new AnyValueWithUnknownFields(new ArrayValue([new AnyValueWithUnknownFields(new KeyValueList([kv('in', 'x', u())], u()), u())], u()), u()), u()),
  ];
  const status = makeStatus(2, 'err');
  status.unknownFields = concatBytes(fieldString(1, 'reserved field 1 is unknown'), u());
  return {
    resourceSpans: [
      makeResourceSpans({
        resource: makeResource({
          attributes: attr(),
          droppedAttributesCount: 1,
          entityRefs: [makeEntityRef({ schemaUrl: 's', type: 'service', idKeys: ['service.name'], descriptionKeys: [], unknownFields: u() })],
          unknownFields: u(),
        }),
        scopeSpans: [
          makeScopeSpans({
            scope: makeScope({ name: 'scope', version: '1', attributes: attr(), unknownFields: u() }),
            spans: [
              makeSpan({
                traceId: new Uint8Array(16).fill(1),
                spanId: new Uint8Array(8).fill(2),
                name: 'with unknowns',
                attributes: attr(),
                events: [makeEvent({ name: 'e', timeUnixNano: 5n, attributes: attr(), unknownFields: u() })],
                links: [makeLink({ traceId: new Uint8Array(16).fill(3), spanId: new Uint8Array(8).fill(4), attributes: attr(), unknownFields: u() })],
                status,
                unknownFields: u(),
              }),
            ],
            unknownFields: u(),
          }),
        ],
        unknownFields: u(),
      }),
    ],
    unknownFields: u(),
  };
}

/** Named edge-case messages. */
export function edgeCaseTracesData(): Array<{ name: string; data: TracesData }> {
  const cases: Array<{ name: string; data: TracesData }> = [];
  const add = (name: string, data: TracesData): void => void cases.push({ name, data });

  add('empty request', { resourceSpans: [], unknownFields: undefined });
  add('request with only unknown fields', { resourceSpans: [], unknownFields: unknownOfEveryWireType() });
  add('empty ResourceSpans', { resourceSpans: [makeResourceSpans()], unknownFields: undefined });
  add('two empty ResourceSpans', { resourceSpans: [makeResourceSpans(), makeResourceSpans()], unknownFields: undefined });
  add('present but empty Resource', { resourceSpans: [makeResourceSpans({ resource: makeResource() })], unknownFields: undefined });
  add('empty ScopeSpans', { resourceSpans: [makeResourceSpans({ scopeSpans: [makeScopeSpans()] })], unknownFields: undefined });
  add('present but empty scope', { resourceSpans: [makeResourceSpans({ scopeSpans: [makeScopeSpans({ scope: makeScope() })] })], unknownFields: undefined });
  add('empty span', { resourceSpans: [makeResourceSpans({ scopeSpans: [makeScopeSpans({ spans: [makeSpan()] })] })], unknownFields: undefined });
  add('present but empty status', singleSpan([], { status: makeStatus() }));
  add('empty event and link', singleSpan([], { events: [makeEvent()], links: [makeLink()] }));
  add('every AnyValue kind', singleSpan(everyAnyValue()));
  add('unknown fields on every message type', unknownFieldsEverywhere());
  add(
    '64-bit times',
    singleSpan(
      [],
      {
        events: UINT64_EDGES.map((t) => makeEvent({ timeUnixNano: t, name: `t=${t}` })),
        startTimeUnixNano: 2n ** 53n + 1n,
        endTimeUnixNano: 2n ** 64n - 1n,
      },
    ),
  );
  for (const t of UINT64_EDGES) add(`times ${t}`, singleSpan([], { startTimeUnixNano: t, endTimeUnixNano: t }));
  add(
    'flags, kinds, codes and counts at the edges',
    {
      resourceSpans: [
        makeResourceSpans({
          resource: makeResource({ droppedAttributesCount: 0xffffffff }),
          scopeSpans: [
            makeScopeSpans({
              scope: makeScope({ droppedAttributesCount: 0x80000000 }),
              spans: [
                ...FLAGS_EDGES.map((flags, i) =>
                  makeSpan({
                    flags,
                    kind: ENUM_EDGES[i % ENUM_EDGES.length]!,
                    status: makeStatus(ENUM_EDGES[(i + 3) % ENUM_EDGES.length]!, ''),
                    links: [makeLink({ flags, droppedAttributesCount: UINT32_EDGES[i % UINT32_EDGES.length]! })],
                  }),
                ),
                ...ENUM_EDGES.map((kind) => makeSpan({ kind, status: makeStatus(kind, 'm') })),
                ...UINT32_EDGES.map((c) =>
                  makeSpan({ droppedAttributesCount: c, droppedEventsCount: c, droppedLinksCount: c, events: [makeEvent({ droppedAttributesCount: c })] }),
                ),
              ],
            }),
          ],
        }),
      ],
      unknownFields: undefined,
    },
  );
  add(
    'ids of every length in use',
    {
      resourceSpans: [
        makeResourceSpans({
          scopeSpans: [
            makeScopeSpans({
              spans: [
                makeSpan({ traceId: new Uint8Array(16).fill(0xff), spanId: new Uint8Array(8).fill(0xff), parentSpanId: new Uint8Array(8).fill(0x01) }),
                makeSpan({ traceId: new Uint8Array(16), spanId: new Uint8Array(8) }),
                makeSpan({ traceId: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), spanId: new Uint8Array(0) }),
              ],
            }),
          ],
        }),
      ],
      unknownFields: undefined,
    },
  );
  add(
    'strings at the edges everywhere',
    {
      resourceSpans: STRING_EDGES.map((s) =>
        makeResourceSpans({
          schemaUrl: s,
          resource: makeResource({ attributes: [kv(s, s)], entityRefs: [makeEntityRef({ schemaUrl: s, type: s, idKeys: [s, ''], descriptionKeys: [s] })] }),
          scopeSpans: [
            makeScopeSpans({
              schemaUrl: s,
              scope: makeScope({ name: s, version: s }),
              spans: [makeSpan({ name: s, traceState: s, status: makeStatus(0, s), events: [makeEvent({ name: s })], links: [makeLink({ traceState: s })] })],
            }),
          ],
        }),
      ),
      unknownFields: undefined,
    },
  );
  return cases;
}
