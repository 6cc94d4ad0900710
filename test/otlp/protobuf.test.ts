// The OTLP protobuf codec against the protobuf rules and three independent oracles:
//   (a) protobufjs 8 loading our own test/otlp/otlp-trace.proto (both directions, unknown fields included),
//   (b) the real OpenTelemetry JS SDK and its ProtobufTraceSerializer,
//   (c) Google's C++ protobuf via `protoc --decode` (skipped with a message when protoc is absent).
// "Equal" is message equality (diffTracesData): doubles bit-exact via Object.is, presence of message
// fields, unknown-field bytes. Encodings need not be byte-identical across encoders.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import {
  decodeTracesData,
  encodeTracesData,
  encodedTracesDataSize,
  encodedSpanSize,
  decodeTraceResponse,
  encodeTraceResponse,
  ProtobufDecodeError,
} from '../../src/otlp/index.js';
import {
  AnyValueWithUnknownFields,
  ArrayValue,
  InputError,
  KeyValueList,
  bytesToHex,
  countSpans,
  diffSpan,
  diffTracesData,
  makeStatus,
  type AnyValue,
  type ExportTraceServiceResponse,
  type KeyValue,
  type Span,
  type TracesData,
} from '../../src/model/index.js';
import { encodedAttributeSize, encodedIdFieldSize, resizedSpanSize } from '../../src/otlp/protobuf.js';
import { Arbitrary, Rng, arbitraryResponse, arbitraryTracesData, largeTracesData, nestedArrays, nestedKvlists, singleSpan, type ArbitraryOptions } from '../helpers/arbitrary.js';
import { edgeCaseTracesData, everyAnyValue, unknownFieldsEverywhere, unknownOfEveryWireType } from '../helpers/edge-cases.js';
import {
  concatBytes,
  fieldDouble,
  fieldFixed32,
  fieldFixed64,
  fieldGroup,
  fieldLen,
  fieldString,
  fieldVarint,
  paddedVarintBytes,
  parseRawFields,
  rewriteMessage,
  tagBytes,
  varintBytes,
  type RewriteOptions,
} from '../helpers/wire.js';
import { pbjsDecodeResponse, pbjsDecodeTraces, pbjsEncodeResponse, pbjsEncodeTraces } from '../helpers/protobufjs-oracle.js';
import { diffText, expectedTracesText, parseTextFormat, protocDecode, protocUnavailable } from '../helpers/protoc.js';

// ------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------

function assertSameMessage(actual: TracesData, expected: TracesData, label: string): void {
  const d = diffTracesData(expected, actual);
  assert.equal(d, undefined, `${label}: first difference (expected != actual): ${d}`);
}

function roundTrip(data: TracesData): TracesData {
  return decodeTracesData(encodeTracesData(data));
}

function responseDiff(a: ExportTraceServiceResponse, b: ExportTraceServiceResponse): string | undefined {
  const hex = (u: Uint8Array | undefined): string => bytesToHex(u ?? new Uint8Array(0));
  if (hex(a.unknownFields) !== hex(b.unknownFields)) return `unknownFields ${hex(a.unknownFields)} != ${hex(b.unknownFields)}`;
  if (!a.partialSuccess !== !b.partialSuccess) return `partialSuccess presence ${!!a.partialSuccess} != ${!!b.partialSuccess}`;
  if (a.partialSuccess && b.partialSuccess) {
    const x = a.partialSuccess;
    const y = b.partialSuccess;
    if (x.rejectedSpans !== y.rejectedSpans) return `rejectedSpans ${x.rejectedSpans} != ${y.rejectedSpans}`;
    if (x.errorMessage !== y.errorMessage) return `errorMessage ${JSON.stringify(x.errorMessage)} != ${JSON.stringify(y.errorMessage)}`;
    if (hex(x.unknownFields) !== hex(y.unknownFields)) return `partialSuccess.unknownFields ${hex(x.unknownFields)} != ${hex(y.unknownFields)}`;
  }
  return undefined;
}

/** Wraps span-level bytes (the content of one Span) into a full request. */
function requestWithSpanBytes(spanContent: Uint8Array): Uint8Array {
  return fieldLen(1, fieldLen(2, fieldLen(2, spanContent)));
}

/** Wraps AnyValue bytes as the value of one attribute of one span. */
function requestWithAnyValueBytes(anyValueContent: Uint8Array, key = 'k'): Uint8Array {
  return requestWithSpanBytes(fieldLen(9, concatBytes(fieldString(1, key), fieldLen(2, anyValueContent))));
}

function onlySpan(d: TracesData): Span {
  assert.equal(countSpans(d), 1, 'expected exactly one span');
  return d.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
}

function onlyValue(d: TracesData): AnyValue {
  const s = onlySpan(d);
  assert.equal(s.attributes.length, 1);
  return s.attributes[0]!.value;
}

function expectDecodeError(bytes: Uint8Array, kinds: readonly string[], label: string): ProtobufDecodeError {
  let caught: unknown;
  try {
    decodeTracesData(bytes);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, `${label}: decoded without error, expected ProtobufDecodeError (${kinds.join('|')})`);
  assert.ok(caught instanceof ProtobufDecodeError, `${label}: threw ${String(caught)} instead of ProtobufDecodeError`);
  assert.ok(caught instanceof InputError, `${label}: ProtobufDecodeError must be an InputError`);
  assert.ok(kinds.includes(caught.kind), `${label}: kind ${caught.kind}, expected ${kinds.join('|')} (${caught.message})`);
  assert.ok(Number.isInteger(caught.offset) && caught.offset >= 0 && caught.offset <= bytes.length, `${label}: offset ${caught.offset} outside the input (${bytes.length} bytes)`);
  return caught;
}

const SEEDS = (n: number, base: number): number[] => Array.from({ length: n }, (_, i) => base + i);

// ------------------------------------------------------------------------------------------------
// The test helpers themselves (checked against protobufjs, so a broken helper cannot hide a bug)
// ------------------------------------------------------------------------------------------------

describe('test helpers', () => {
  test('arbitrary messages are deterministic by seed', () => {
    for (const seed of [1, 2, 99]) assertSameMessage(arbitraryTracesData(seed), arbitraryTracesData(seed), `seed ${seed}`);
    assert.notEqual(diffTracesData(arbitraryTracesData(1), arbitraryTracesData(2)), undefined);
  });

  test('arbitrary messages cover every field, AnyValue kind and unknown wire type', () => {
    const seen = new Set<string>();
    const rng = new Rng(5);
    const note = (v: AnyValue): void => {
      if (v instanceof AnyValueWithUnknownFields) {
        seen.add('anyvalue-unknown');
        note(v.value);
      } else if (v instanceof ArrayValue) {
        seen.add('array');
        v.values.forEach(note);
      } else if (v instanceof KeyValueList) {
        seen.add('kvlist');
        v.values.forEach((x) => note(x.value));
      } else if (v === null) seen.add('null');
      else if (v instanceof Uint8Array) seen.add('bytes');
      else seen.add(typeof v);
    };
    for (let i = 0; i < 200; i++) {
      const d = new Arbitrary(rng).tracesData();
      for (const rs of d.resourceSpans) {
        if (rs.resource) seen.add('resource');
        if (rs.resource?.entityRefs.length) seen.add('entityRefs');
        for (const ss of rs.scopeSpans) {
          if (ss.scope) seen.add('scope');
          for (const s of ss.spans) {
            s.attributes.forEach((a) => note(a.value));
            if (s.status) seen.add('status');
            if (s.events.length) seen.add('events');
            if (s.links.length) seen.add('links');
            if (s.kind > 5 || s.kind < 0) seen.add('kind-unknown');
            if (s.flags === 0xffffffff) seen.add('flags-max');
            if (s.startTimeUnixNano === 2n ** 64n - 1n) seen.add('time-max');
            if (s.unknownFields) for (const f of parseRawFields(s.unknownFields)!) seen.add(`wt${f.wt}`);
          }
        }
      }
    }
    for (const k of ['string', 'boolean', 'bigint', 'number', 'bytes', 'null', 'array', 'kvlist', 'anyvalue-unknown', 'resource', 'scope', 'status', 'events', 'links', 'entityRefs', 'kind-unknown', 'flags-max', 'time-max', 'wt0', 'wt1', 'wt2', 'wt5']) {
      assert.ok(seen.has(k), `arbitrary generator never produced ${k}`);
    }
  });

  test('protobufjs oracle round-trips arbitrary messages (validates the converters and the generator)', () => {
    for (const seed of SEEDS(150, 10_000)) {
      const d = arbitraryTracesData(seed);
      assertSameMessage(pbjsDecodeTraces(pbjsEncodeTraces(d)), d, `protobufjs seed ${seed}`);
    }
    for (const { name, data } of edgeCaseTracesData()) assertSameMessage(pbjsDecodeTraces(pbjsEncodeTraces(data)), data, `protobufjs ${name}`);
  });

  test('semantics-preserving rewrites decode unchanged in protobufjs (validates the rewrites)', () => {
    const rng = new Rng(77);
    for (const seed of SEEDS(150, 20_000)) {
      const d = arbitraryTracesData(seed);
      const b = rewriteMessage(pbjsEncodeTraces(d), 'TracesData', rng, { reorder: true, split: 0.5, decoy: 0.5, explicitDefault: 0.3, pad: 0.3 });
      assertSameMessage(pbjsDecodeTraces(b), d, `protobufjs rewritten seed ${seed}`);
    }
  });
});

// ------------------------------------------------------------------------------------------------
// Round trips
// ------------------------------------------------------------------------------------------------

describe('round trip decode(encode(x)) = x', () => {
  test('500 arbitrary messages', () => {
    for (const seed of SEEDS(500, 1)) assertSameMessage(roundTrip(arbitraryTracesData(seed)), arbitraryTracesData(seed), `seed ${seed}`);
  });

  test('arbitrary messages with unknown fields on most messages and deeper values', () => {
    const opts: ArbitraryOptions = { unknownFieldRate: 0.8, maxDepth: 6, edgeRate: 0.6 };
    for (const seed of SEEDS(150, 5000)) assertSameMessage(roundTrip(arbitraryTracesData(seed, opts)), arbitraryTracesData(seed, opts), `seed ${seed}`);
  });

  for (const { name, data } of edgeCaseTracesData()) {
    test(`edge case: ${name}`, () => assertSameMessage(roundTrip(data), data, name));
  }

  test('every AnyValue kind, one attribute at a time', () => {
    for (const a of everyAnyValue()) {
      const d = singleSpan([a]);
      assertSameMessage(roundTrip(d), d, a.key);
    }
  });

  test('int64 / fixed64 / fixed32 / uint32 / enum edges one at a time', () => {
    const cases: Array<[string, TracesData]> = [
      ...[0n, -1n, 2n ** 53n + 1n, -(2n ** 63n), 2n ** 63n - 1n].map((v): [string, TracesData] => [`int ${v}`, singleSpan([{ key: 'i', value: v }])]),
      ...[0n, 2n ** 53n + 1n, 2n ** 64n - 1n].map((t): [string, TracesData] => [`time ${t}`, singleSpan([], { startTimeUnixNano: t, endTimeUnixNano: 2n ** 64n - 1n - t })]),
      ...[0, 0x101, 0x301, 0xffffffff].map((f): [string, TracesData] => [`flags ${f}`, singleSpan([], { flags: f })]),
      ...[6, 100, 0x7fffffff, -1, -2147483648].map((k): [string, TracesData] => [`kind ${k}`, singleSpan([], { kind: k, status: makeStatus(k, '') })]),
      ...[1, 0x7fffffff, 0xffffffff].map((c): [string, TracesData] => [`dropped ${c}`, singleSpan([], { droppedAttributesCount: c, droppedEventsCount: c, droppedLinksCount: c })]),
    ];
    for (const [name, d] of cases) assertSameMessage(roundTrip(d), d, name);
  });

  test('encode(empty request) is zero bytes and decode of zero bytes is an empty request', () => {
    assert.equal(encodeTracesData({ resourceSpans: [] }).length, 0);
    const d = decodeTracesData(new Uint8Array(0));
    assert.deepEqual(d.resourceSpans, []);
    assert.equal(d.unknownFields === undefined || d.unknownFields.length === 0, true);
  });

  test('encodedTracesDataSize is the length encodeTracesData writes (arbitrary messages, unknown fields, edge cases)', () => {
    const opts: ArbitraryOptions = { unknownFieldRate: 0.8, maxDepth: 6, edgeRate: 0.6 };
    const cases = [...SEEDS(100, 1).map((s) => arbitraryTracesData(s)), ...SEEDS(50, 5000).map((s) => arbitraryTracesData(s, opts)), ...edgeCaseTracesData().map((c) => c.data)];
    for (const d of cases) assert.equal(encodedTracesDataSize(d), encodeTracesData(d).length);
  });

  test('resizedSpanSize: a span changed by a new parent id and appended attributes, priced from its own size (length prefixes of 1-3 bytes)', () => {
    const arbitrarySpans: Span[] = [];
    for (const d of SEEDS(30, 7000).map((s) => arbitraryTracesData(s))) for (const rs of d.resourceSpans) for (const ss of rs.scopeSpans) arbitrarySpans.push(...ss.spans);
    // Bodies just under and over the one- and two-byte length prefixes (127/128, 16383/16384).
    for (const length of [60, 70, 75, 80, 85, 90, 16_300, 16_320, 16_340]) arbitrarySpans.push(singleSpan([{ key: 'k', value: 'v'.repeat(length) }]).resourceSpans[0]!.scopeSpans[0]!.spans[0]!);
    const parent = new Uint8Array(8).fill(7);
    const extras: KeyValue[][] = [[], [{ key: 'slimtrace.sampling.skipped_levels', value: 3n }], [{ key: 'a', value: 'x'.repeat(5) }, { key: 'b', value: 'y'.repeat(300) }]];
    let checked = 0;
    for (const span of arbitrarySpans)
      for (const extra of extras)
        for (const parentSpanId of [parent, new Uint8Array(0), span.parentSpanId]) {
          const changed: Span = { ...span, parentSpanId, attributes: [...span.attributes, ...extra] };
          let delta = encodedIdFieldSize(parentSpanId) - encodedIdFieldSize(span.parentSpanId);
          for (const a of extra) delta += encodedAttributeSize(a);
          assert.equal(resizedSpanSize(encodedSpanSize(span), delta), encodedSpanSize(changed));
          checked++;
        }
    assert.ok(checked > 100);
  });

  test('unknown fields are written after the known fields of their message', () => {
    const d = singleSpan([], { name: 'n', unknownFields: fieldVarint(100, 1) });
    const spanBytes = (() => {
      const b = encodeTracesData(d);
      const rs = parseRawFields(b)![0]!;
      const ss = parseRawFields(b, rs.valueStart, rs.valueEnd)!.find((f) => f.no === 2)!;
      const span = parseRawFields(b, ss.valueStart, ss.valueEnd)!.find((f) => f.no === 2)!;
      return b.subarray(span.valueStart, span.valueEnd);
    })();
    const fields = parseRawFields(spanBytes)!;
    assert.equal(fields[fields.length - 1]!.no, 100);
    assert.ok(fields.slice(0, -1).every((f) => f.no <= 16));
  });

  test('a large message (~100k spans) round-trips', () => {
    const t0 = performance.now();
    const d = largeTracesData(100_000, 3);
    const t1 = performance.now();
    const bytes = encodeTracesData(d);
    const t2 = performance.now();
    const back = decodeTracesData(bytes);
    const t3 = performance.now();
    assert.equal(countSpans(back), countSpans(d));
    assertSameMessage(back, d, 'large');
    // protobufjs agrees on the same bytes.
    assertSameMessage(pbjsDecodeTraces(bytes), d, 'large via protobufjs');
    const t4 = performance.now();
    console.log(
      `large: ${countSpans(d)} spans, ${(bytes.length / 1e6).toFixed(1)} MB; generate ${(t1 - t0).toFixed(0)} ms, ` +
        `encode ${(t2 - t1).toFixed(0)} ms, decode ${(t3 - t2).toFixed(0)} ms, compare+protobufjs ${(t4 - t3).toFixed(0)} ms`,
    );
  });

  test('response round trips', () => {
    const cases: ExportTraceServiceResponse[] = [
      {},
      { partialSuccess: { rejectedSpans: 0n, errorMessage: '' } },
      { partialSuccess: { rejectedSpans: -1n, errorMessage: 'ünïcode 😀' } },
      { partialSuccess: { rejectedSpans: 2n ** 63n - 1n, errorMessage: 'x', unknownFields: unknownOfEveryWireType(3) }, unknownFields: unknownOfEveryWireType(4) },
      { partialSuccess: { rejectedSpans: -(2n ** 63n), errorMessage: '' } },
      ...SEEDS(200, 900).map((s) => arbitraryResponse(s, { unknownFieldRate: 0.5, edgeRate: 0.5 })),
    ];
    for (const r of cases) {
      const b = encodeTraceResponse(r);
      const d = responseDiff(r, decodeTraceResponse(b));
      assert.equal(d, undefined, `response ${d}`);
      // protobufjs both ways
      assert.equal(responseDiff(r, pbjsDecodeResponse(b)), undefined, 'protobufjs decode of our response');
      assert.equal(responseDiff(r, decodeTraceResponse(pbjsEncodeResponse(r))), undefined, 'our decode of protobufjs response');
    }
    assert.equal(encodeTraceResponse({}).length, 0, 'full success is an empty response');
  });
});

// ------------------------------------------------------------------------------------------------
// Oracle (a): protobufjs
// ------------------------------------------------------------------------------------------------

describe('oracle: protobufjs 8 with our .proto', () => {
  test('our bytes decode in protobufjs to the same message (300 arbitrary + edge cases)', () => {
    for (const seed of SEEDS(300, 30_000)) {
      const d = arbitraryTracesData(seed);
      assertSameMessage(pbjsDecodeTraces(encodeTracesData(d)), d, `seed ${seed}`);
    }
    for (const { name, data } of edgeCaseTracesData()) assertSameMessage(pbjsDecodeTraces(encodeTracesData(data)), data, name);
  });

  test("protobufjs's bytes decode in ours to the same message, and re-encode stably", () => {
    const cases = [...SEEDS(300, 40_000).map((s) => ({ name: `seed ${s}`, data: arbitraryTracesData(s) })), ...edgeCaseTracesData()];
    for (const { name, data } of cases) {
      const b = pbjsEncodeTraces(data);
      const ours = decodeTracesData(b);
      assertSameMessage(ours, data, name);
      const again = encodeTracesData(ours);
      assertSameMessage(decodeTracesData(again), data, `${name} re-encoded`);
      assertSameMessage(pbjsDecodeTraces(again), pbjsDecodeTraces(b), `${name} re-encoded, read by protobufjs`);
    }
  });
});

// ------------------------------------------------------------------------------------------------
// Other encoders' layouts: field order, repeated occurrences, explicit defaults, padding
// ------------------------------------------------------------------------------------------------

describe('bytes laid out differently decode to the same message', () => {
  const variants: Array<[string, RewriteOptions]> = [
    ['fields in random order (unknown fields interleaved)', { reorder: true }],
    ['non-repeated message fields split into several occurrences (merged)', { split: 0.7 }],
    ['scalars and oneof members preceded by other values (last wins)', { decoy: 0.7 }],
    ['explicit default values, also after a non-default one', { explicitDefault: 0.7 }],
    ['non-minimal varints and lengths', { pad: 0.7 }],
    ['all of the above', { reorder: true, split: 0.5, decoy: 0.5, explicitDefault: 0.5, pad: 0.5 }],
  ];
  for (const [name, opt] of variants) {
    test(name, () => {
      const rng = new Rng(name.length * 7919);
      let changed = 0;
      for (const seed of SEEDS(120, 50_000)) {
        const d = arbitraryTracesData(seed, { unknownFieldRate: 0.3 });
        for (const source of [encodeTracesData(d), pbjsEncodeTraces(d)]) {
          const b = rewriteMessage(source, 'TracesData', rng, opt);
          if (bytesToHex(b) !== bytesToHex(source)) changed++;
          const ours = decodeTracesData(b);
          assertSameMessage(ours, d, `seed ${seed}`);
          // encode(decode(b)) decodes to the same message as b.
          assertSameMessage(decodeTracesData(encodeTracesData(ours)), d, `seed ${seed} re-encoded`);
        }
      }
      assert.ok(changed > 120, `the rewrite changed only ${changed} of 240 encodings`);
    });
  }
});

describe('protobuf merge and last-wins rules (hand-written bytes)', () => {
  // Checks ours against protobufjs on the same bytes as well as against the stated expectation.
  function check(bytes: Uint8Array, expected: TracesData, label: string): void {
    assertSameMessage(decodeTracesData(bytes), expected, label);
    assertSameMessage(pbjsDecodeTraces(bytes), expected, `${label} (protobufjs agrees)`);
    assertSameMessage(decodeTracesData(encodeTracesData(decodeTracesData(bytes))), expected, `${label} re-encoded`);
  }
  const span = (p: Partial<Span>): TracesData => singleSpan([], { name: '', spanId: new Uint8Array(0), traceId: new Uint8Array(0), ...p });

  test('a repeated scalar occurrence: the last value wins', () => {
    check(requestWithSpanBytes(concatBytes(fieldString(5, 'first'), fieldString(5, 'second'))), span({ name: 'second' }), 'name twice');
    check(requestWithSpanBytes(concatBytes(fieldString(5, 'first'), fieldString(5, ''))), span({ name: '' }), 'name then explicit empty');
    check(requestWithSpanBytes(concatBytes(fieldVarint(6, 2), fieldVarint(6, 3))), span({ kind: 3 }), 'kind twice');
    check(requestWithSpanBytes(concatBytes(fieldFixed64(7, 5n), fieldFixed64(7, 2n ** 64n - 1n))), span({ startTimeUnixNano: 2n ** 64n - 1n }), 'start time twice');
    check(requestWithSpanBytes(concatBytes(fieldFixed32(16, 0x301), fieldFixed32(16, 0))), span({ flags: 0 }), 'flags then explicit 0');
    check(requestWithSpanBytes(concatBytes(fieldLen(1, Uint8Array.of(1)), fieldLen(1, new Uint8Array(16).fill(9)))), span({ traceId: new Uint8Array(16).fill(9) }), 'trace id twice');
    check(requestWithSpanBytes(concatBytes(fieldVarint(10, 7), fieldVarint(10, 0))), span({}), 'dropped count then explicit 0');
  });

  test('a repeated occurrence of a non-repeated message field is merged into the first', () => {
    // Span.status twice: code from the first, message from the second.
    check(
      requestWithSpanBytes(concatBytes(fieldLen(15, fieldVarint(3, 2)), fieldString(5, 'n'), fieldLen(15, fieldString(2, 'boom')))),
      span({ name: 'n', status: makeStatus(2, 'boom') }),
      'status twice',
    );
    // A second, empty occurrence changes nothing but presence.
    check(requestWithSpanBytes(concatBytes(fieldLen(15, fieldVarint(3, 1)), fieldLen(15, new Uint8Array(0)))), span({ status: makeStatus(1, '') }), 'status then empty status');
    // Resource twice: repeated attributes are appended, scalars overwritten when present.
    const rsBytes = concatBytes(
      fieldLen(1, concatBytes(fieldLen(1, concatBytes(fieldString(1, 'a'), fieldLen(2, fieldString(1, 'x')))), fieldVarint(2, 4))),
      fieldLen(1, concatBytes(fieldLen(1, concatBytes(fieldString(1, 'b'), fieldLen(2, fieldVarint(2, 1)))), fieldVarint(100, 9))),
    );
    check(
      fieldLen(1, rsBytes),
      {
        resourceSpans: [
          {
            resource: {
              attributes: [
                { key: 'a', value: 'x' },
                { key: 'b', value: true },
              ],
              droppedAttributesCount: 4,
              entityRefs: [],
              unknownFields: fieldVarint(100, 9),
            },
            scopeSpans: [],
            schemaUrl: '',
          },
        ],
      },
      'resource twice',
    );
    // ScopeSpans.scope twice.
    check(
      fieldLen(1, fieldLen(2, concatBytes(fieldLen(1, fieldString(1, 'lib')), fieldString(3, 'url'), fieldLen(1, fieldString(2, '1.0'))))),
      { resourceSpans: [{ resource: undefined, scopeSpans: [{ scope: { name: 'lib', version: '1.0', attributes: [], droppedAttributesCount: 0 }, spans: [], schemaUrl: 'url' }], schemaUrl: '' }] },
      'scope twice',
    );
    // KeyValue.value twice: the AnyValue messages merge; a oneof member set in the second wins.
    const kvTwice = (a: Uint8Array, b: Uint8Array): Uint8Array => requestWithSpanBytes(fieldLen(9, concatBytes(fieldString(1, 'k'), fieldLen(2, a), fieldLen(2, b))));
    check(kvTwice(fieldString(1, 'first'), fieldVarint(3, 5)), singleSpan([{ key: 'k', value: 5n }], { name: '', traceId: new Uint8Array(0), spanId: new Uint8Array(0) }), 'value twice, different members');
    check(kvTwice(fieldString(1, 'kept'), new Uint8Array(0)), singleSpan([{ key: 'k', value: 'kept' }], { name: '', traceId: new Uint8Array(0), spanId: new Uint8Array(0) }), 'value then empty value');
    check(
      kvTwice(fieldLen(5, fieldLen(1, fieldVarint(3, 1))), fieldLen(5, fieldLen(1, fieldVarint(3, 2)))),
      singleSpan([{ key: 'k', value: new ArrayValue([1n, 2n]) }], { name: '', traceId: new Uint8Array(0), spanId: new Uint8Array(0) }),
      'value twice, both arrays: the arrays merge (values appended)',
    );
  });

  test('AnyValue oneof: the last member on the wire wins; the same message member merges', () => {
    const pv = (b: Uint8Array): AnyValue => onlyValue(pbjsDecodeTraces(requestWithAnyValueBytes(b)));
    const cases: Array<[string, Uint8Array, AnyValue]> = [
      ['string then int', concatBytes(fieldString(1, 'a'), fieldVarint(3, 5)), 5n],
      ['int then string', concatBytes(fieldVarint(3, 5), fieldString(1, 'a')), 'a'],
      ['double then bool', concatBytes(fieldDouble(4, 1.5), fieldVarint(2, 1)), true],
      ['bytes then double', concatBytes(fieldLen(7, Uint8Array.of(1)), fieldDouble(4, -0)), -0],
      ['array then kvlist', concatBytes(fieldLen(5, fieldLen(1, fieldVarint(2, 1))), fieldLen(6, new Uint8Array(0))), new KeyValueList([])],
      ['kvlist then string', concatBytes(fieldLen(6, fieldLen(1, fieldString(1, 'x'))), fieldString(1, 's')), 's'],
      ['string then array', concatBytes(fieldString(1, 's'), fieldLen(5, new Uint8Array(0))), new ArrayValue([])],
      ['array twice merges', concatBytes(fieldLen(5, fieldLen(1, fieldString(1, 'a'))), fieldLen(5, fieldLen(1, fieldString(1, 'b')))), new ArrayValue(['a', 'b'])],
      [
        'kvlist twice merges',
        concatBytes(fieldLen(6, fieldLen(1, fieldString(1, 'a'))), fieldLen(6, fieldLen(1, fieldString(1, 'b')))),
        new KeyValueList([
          { key: 'a', value: null },
          { key: 'b', value: null },
        ]),
      ],
      ['array, string, array: the second array starts afresh', concatBytes(fieldLen(5, fieldLen(1, fieldString(1, 'a'))), fieldString(1, 's'), fieldLen(5, fieldLen(1, fieldString(1, 'b')))), new ArrayValue(['b'])],
      ['bool from varint 2 is true', fieldVarint(2, 2), true],
      ['no member at all is null', new Uint8Array(0), null],
    ];
    for (const [name, bytes, expected] of cases) {
      const d = singleSpan([{ key: 'k', value: expected }], { name: '', traceId: new Uint8Array(0), spanId: new Uint8Array(0) });
      assertSameMessage(decodeTracesData(requestWithAnyValueBytes(bytes)), d, name);
      assertSameMessage(singleSpan([{ key: 'k', value: pv(bytes) }], { name: '', traceId: new Uint8Array(0), spanId: new Uint8Array(0) }), d, `${name} (protobufjs agrees)`);
      assertSameMessage(roundTrip(decodeTracesData(requestWithAnyValueBytes(bytes))), d, `${name} re-encoded`);
    }
  });

  test('a KeyValue without a value field and one with an empty AnyValue both decode to null', () => {
    const noValue = requestWithSpanBytes(fieldLen(9, fieldString(1, 'k')));
    const emptyValue = requestWithSpanBytes(fieldLen(9, concatBytes(fieldString(1, 'k'), fieldLen(2, new Uint8Array(0)))));
    assert.equal(onlyValue(decodeTracesData(noValue)), null);
    assert.equal(onlyValue(decodeTracesData(emptyValue)), null);
  });

  test('a known field number with the wrong wire type is an unknown field (kept, written after known fields)', () => {
    // Span.name (5) as a varint, Span.kind (6) as fixed32, Span.start (7) as LEN, AnyValue.string (1) as varint.
    const odd = concatBytes(fieldVarint(5, 42), fieldFixed32(6, 3), fieldLen(7, Uint8Array.of(1, 2)));
    const bytes = requestWithSpanBytes(concatBytes(odd, fieldString(5, 'real'), fieldVarint(6, 2)));
    const d = decodeTracesData(bytes);
    const s = onlySpan(d);
    assert.equal(s.name, 'real');
    assert.equal(s.kind, 2);
    assert.equal(s.startTimeUnixNano, 0n);
    assert.equal(bytesToHex(s.unknownFields ?? new Uint8Array(0)), bytesToHex(odd));
    assertSameMessage(pbjsDecodeTraces(bytes), d, 'protobufjs agrees');
    assertSameMessage(roundTrip(d), d, 're-encoded');
    const av = decodeTracesData(requestWithAnyValueBytes(concatBytes(fieldVarint(1, 7), fieldString(1, 's'))));
    const value = onlyValue(av);
    assert.ok(value instanceof AnyValueWithUnknownFields, 'AnyValue with a mismatched field keeps it as unknown');
    assert.equal(value.value, 's');
    assert.equal(bytesToHex(value.unknownFields), bytesToHex(fieldVarint(1, 7)));
  });

  test('unknown fields between known ones are collected in wire order', () => {
    const u1 = fieldVarint(100, 1);
    const u2 = fieldFixed64(1000, 2n);
    const u3 = fieldLen(536870911, Uint8Array.of(3));
    const bytes = requestWithSpanBytes(concatBytes(u1, fieldString(5, 'a'), u2, fieldVarint(6, 1), u3));
    const s = onlySpan(decodeTracesData(bytes));
    assert.equal(bytesToHex(s.unknownFields!), bytesToHex(concatBytes(u1, u2, u3)));
    assert.equal(s.name, 'a');
  });

  test('unknown groups (wire types 3/4) are kept verbatim', () => {
    const group = fieldGroup(100, concatBytes(fieldVarint(1, 5), fieldGroup(2, fieldString(3, 'x')), fieldFixed32(4, 9)));
    const bytes = requestWithSpanBytes(concatBytes(fieldString(5, 'g'), group));
    const d = decodeTracesData(bytes);
    assert.equal(bytesToHex(onlySpan(d).unknownFields ?? new Uint8Array(0)), bytesToHex(group));
    assertSameMessage(pbjsDecodeTraces(bytes), d, 'protobufjs agrees');
    assertSameMessage(roundTrip(d), d, 're-encoded');
  });

  test('integers wider than their field: uint32/int32 take the low 32 bits, int64 takes a 10-byte negative', () => {
    const span0 = { name: '', traceId: new Uint8Array(0), spanId: new Uint8Array(0) };
    // dropped_attributes_count (uint32) written as a 64-bit varint 2^32 + 5 -> 5.
    check(requestWithSpanBytes(fieldVarint(10, 2n ** 32n + 5n)), span({ droppedAttributesCount: 5 }), 'uint32 from a 64-bit varint');
    // kind (enum = int32) written as a 10-byte negative varint -> -1; as 2^32 + 3 -> 3.
    check(requestWithSpanBytes(fieldVarint(6, 2n ** 64n - 1n)), span({ kind: -1 }), 'enum -1');
    check(requestWithSpanBytes(fieldVarint(6, 2n ** 32n + 3n)), span({ kind: 3 }), 'enum from a 64-bit varint');
    check(requestWithSpanBytes(fieldVarint(6, 0xffffffffn)), span({ kind: -1 }), 'enum 0xffffffff is -1 (int32)');
    // int_value from the 10-byte encoding of -2^63.
    check(requestWithAnyValueBytes(fieldVarint(3, 2n ** 63n)), singleSpan([{ key: 'k', value: -(2n ** 63n) }], span0), 'int64 min');
    // Non-minimal encodings of small values.
    check(requestWithSpanBytes(concatBytes(tagBytes(6, 0), paddedVarintBytes(2, 10))), span({ kind: 2 }), 'kind as a padded 10-byte varint');
    check(requestWithSpanBytes(concatBytes(tagBytes(5, 2), paddedVarintBytes(2, 5), Uint8Array.of(0x68, 0x69))), span({ name: 'hi' }), 'padded length');
  });

  test('explicit zero fields (as the OTel SDK writes them) decode like absent ones', () => {
    const zeros = concatBytes(
      fieldLen(1, new Uint8Array(0)),
      fieldLen(2, new Uint8Array(0)),
      fieldString(3, ''),
      fieldLen(4, new Uint8Array(0)),
      fieldString(5, ''),
      fieldVarint(6, 0),
      fieldFixed64(7, 0n),
      fieldFixed64(8, 0n),
      fieldVarint(10, 0),
      fieldVarint(12, 0),
      fieldVarint(14, 0),
      fieldFixed32(16, 0),
    );
    const d = decodeTracesData(requestWithSpanBytes(zeros));
    assertSameMessage(d, span({}), 'explicit zeros');
    const reencoded = encodeTracesData(d);
    assert.ok(reencoded.length < requestWithSpanBytes(zeros).length, 'the re-encoding omits default scalars');
  });

  test('invalid UTF-8 in a string field is rejected as ProtobufDecodeError; in bytes fields and unknown fields it is data', () => {
    const bad = Uint8Array.of(0xc3, 0x28, 0xff);
    expectDecodeError(requestWithSpanBytes(fieldLen(5, bad)), ['utf8'], 'span name');
    expectDecodeError(requestWithAnyValueBytes(fieldLen(1, bad)), ['utf8'], 'string_value');
    expectDecodeError(requestWithSpanBytes(fieldLen(9, fieldLen(1, bad))), ['utf8'], 'attribute key');
    const ok = decodeTracesData(requestWithSpanBytes(concatBytes(fieldLen(1, bad), fieldLen(100, bad))));
    assert.equal(bytesToHex(onlySpan(ok).traceId), bytesToHex(bad));
    const av = decodeTracesData(requestWithAnyValueBytes(fieldLen(7, bad)));
    assert.equal(bytesToHex(onlyValue(av) as Uint8Array), bytesToHex(bad));
  });
});

// ------------------------------------------------------------------------------------------------
// Malformed input
// ------------------------------------------------------------------------------------------------

describe('malformed input throws ProtobufDecodeError with kind and offset', () => {
  const valid = encodeTracesData(singleSpan([{ key: 'k', value: 'v' }], { name: 'n', startTimeUnixNano: 5n }));

  test('truncation anywhere inside a message', () => {
    for (let n = 1; n < valid.length; n++) {
      const cut = valid.subarray(0, n);
      try {
        decodeTracesData(cut);
        // A cut exactly at a top-level field boundary is a valid (shorter) message; the only
        // boundary inside `valid` is 0 (one ResourceSpans), so every cut here must fail.
        assert.fail(`truncated to ${n} of ${valid.length} bytes decoded without error`);
      } catch (e) {
        assert.ok(e instanceof ProtobufDecodeError, `cut at ${n}: ${String(e)}`);
        assert.ok(['truncated', 'length', 'limit'].includes(e.kind), `cut at ${n}: kind ${e.kind}`);
      }
    }
  });

  test('an 11-byte varint', () => {
    const eleven = Uint8Array.of(0x30, ...new Array(10).fill(0xff), 0x01);
    expectDecodeError(requestWithSpanBytes(eleven), ['varint'], 'span kind');
    expectDecodeError(Uint8Array.of(...new Array(11).fill(0x80), 0x00), ['varint'], 'tag');
    expectDecodeError(Uint8Array.of(0x0a, ...new Array(10).fill(0x80), 0x00), ['varint', 'length'], 'length');
  });

  test('field number 0', () => {
    for (const wt of [0, 1, 2, 5]) expectDecodeError(Uint8Array.of(wt, 0, 0, 0, 0, 0, 0, 0, 0), ['field-zero'], `top level wt ${wt}`);
    expectDecodeError(requestWithSpanBytes(Uint8Array.of(0x00, 0x01)), ['field-zero'], 'in a span');
    expectDecodeError(requestWithAnyValueBytes(Uint8Array.of(0x00, 0x01)), ['field-zero'], 'in an AnyValue');
  });

  test('wire types 6 and 7, and a stray or mismatched end group', () => {
    for (const wt of [6, 7]) {
      expectDecodeError(concatBytes(tagBytes(1, wt), Uint8Array.of(0)), ['wire-type'], `top level wt ${wt}`);
      expectDecodeError(requestWithSpanBytes(concatBytes(tagBytes(100, wt), Uint8Array.of(0))), ['wire-type'], `unknown field wt ${wt}`);
    }
    expectDecodeError(requestWithSpanBytes(tagBytes(100, 4)), ['wire-type'], 'end group without start');
    expectDecodeError(requestWithSpanBytes(concatBytes(tagBytes(100, 3), fieldVarint(1, 1), tagBytes(101, 4))), ['wire-type', 'truncated'], 'mismatched end group');
    expectDecodeError(requestWithSpanBytes(concatBytes(tagBytes(100, 3), fieldVarint(1, 1))), ['truncated', 'wire-type'], 'unterminated group');
  });

  test('a length beyond the input', () => {
    for (const len of [valid.length + 1, valid.length + 1000, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1]) {
      expectDecodeError(concatBytes(tagBytes(1, 2), varintBytes(len), valid), ['truncated', 'length', 'limit'], `length ${len}`);
    }
  });

  test('a length varint of 2^32 or more is an error, not wrapped to 32 bits (C++ protoc and Go reject it)', () => {
    // Minimal case: ResourceSpans with length 2^32 and nothing after it. Read as 32 bits the length
    // wraps to 0 and the input "decodes" as one empty ResourceSpans. protoc --decode says
    // "Failed to parse input" (C++ refuses sizes >= 2^31); Go's protowire reads the length as 64
    // bits and reports it truncated.
    expectDecodeError(Uint8Array.of(0x0a, 0x80, 0x80, 0x80, 0x80, 0x10), ['truncated', 'length', 'limit', 'varint'], 'length 2^32');
    // Same with a wrapped length that lands on real data: Span.name of length 2^32 + 2 followed by "hi".
    expectDecodeError(requestWithSpanBytes(Uint8Array.of(0x2a, 0x82, 0x80, 0x80, 0x80, 0x10, 0x68, 0x69)), ['truncated', 'length', 'limit', 'varint'], 'name length 2^32+2');
    for (const len of [2n ** 32n, 2n ** 32n + BigInt(valid.length), 2n ** 35n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n]) {
      expectDecodeError(concatBytes(tagBytes(1, 2), varintBytes(len), valid), ['truncated', 'length', 'limit', 'varint'], `length ${len}`);
    }
  });

  test('nesting beyond any sane depth is refused without exhausting the stack', () => {
    // AnyValue { array_value { values { ... } } } repeated far beyond any limit.
    const depth = 100_000;
    const inner = fieldString(1, 'leaf');
    // Build from the inside out with exact lengths (one pass, no quadratic copying).
    const lens: number[] = [];
    let len = inner.length;
    for (let i = 0; i < depth; i++) {
      lens.push(len);
      const values = 1 + varintBytes(len).length + len; // ArrayValue.values
      lens.push(values);
      len = 1 + varintBytes(values).length + values; // AnyValue.array_value
    }
    const out = new Uint8Array(len);
    let o = 0;
    for (let i = lens.length - 1; i >= 0; i -= 2) {
      const arr = lens[i]!;
      out[o++] = 0x2a; // AnyValue.array_value
      const a = varintBytes(arr);
      out.set(a, o);
      o += a.length;
      out[o++] = 0x0a; // ArrayValue.values
      const b = varintBytes(lens[i - 1]!);
      out.set(b, o);
      o += b.length;
    }
    out.set(inner, o);
    expectDecodeError(requestWithAnyValueBytes(out), ['depth'], 'AnyValue arrays 100k deep');
    // Nested groups in an unknown field.
    const g = concatBytes(...Array.from({ length: 50_000 }, () => tagBytes(100, 3)), ...Array.from({ length: 50_000 }, () => tagBytes(100, 4)));
    expectDecodeError(requestWithSpanBytes(g), ['depth'], 'groups 50k deep');
  });

  test('moderately deep values (sane payloads) still decode', () => {
    for (const d of [1, 10, 30, 50]) {
      const m = singleSpan([
        { key: 'a', value: nestedArrays(d) },
        { key: 'k', value: nestedKvlists(d) },
      ]);
      assertSameMessage(roundTrip(m), m, `depth ${d}`);
    }
  });
});

describe('decodeTraceResponse on malformed input', () => {
  test('20,000 truncated, bit-flipped or random responses decode or throw ProtobufDecodeError', () => {
    const rng = new Rng(31337);
    const corpus = SEEDS(40, 700).map((s) => encodeTraceResponse(arbitraryResponse(s, { unknownFieldRate: 0.6, edgeRate: 0.5 })));
    corpus.push(concatBytes(fieldLen(1, concatBytes(fieldVarint(1, 2n ** 64n - 1n), fieldString(2, 'x'))), fieldGroup(100, fieldVarint(1, 1))));
    let decoded = 0;
    for (let i = 0; i < 20_000; i++) {
      const base = rng.pick(corpus);
      let b: Uint8Array;
      const r = rng.int(4);
      if (r === 0) b = base.subarray(0, rng.int(base.length + 1));
      else if (r === 1) {
        b = new Uint8Array(base);
        for (let k = rng.range(1, 3); k > 0 && b.length > 0; k--) b[rng.int(b.length)]! ^= 1 << rng.int(8);
      } else if (r === 2) b = rng.bytes(rng.int(40));
      else b = concatBytes(base.subarray(0, rng.int(base.length + 1)), rng.bytes(rng.int(6)), base.subarray(rng.int(base.length + 1)));
      let resp: ExportTraceServiceResponse;
      try {
        resp = decodeTraceResponse(b);
      } catch (e) {
        assert.ok(e instanceof ProtobufDecodeError, `case ${i} (${bytesToHex(b)}): threw ${String(e)}`);
        continue;
      }
      decoded++;
      const again = decodeTraceResponse(encodeTraceResponse(resp));
      assert.equal(responseDiff(resp, again), undefined, `case ${i} (${bytesToHex(b)}): re-encoding changed the response`);
    }
    assert.ok(decoded > 1000, `only ${decoded} mutated responses decoded`);
  });
});

// ------------------------------------------------------------------------------------------------
// Oracle (b): the OpenTelemetry JS SDK and its serializer
// ------------------------------------------------------------------------------------------------

describe('oracle: OpenTelemetry JS SDK 2.12.1 + ProtobufTraceSerializer 0.223.1', async () => {
  const api = await import('@opentelemetry/api');
  const { TracerProvider, SimpleSpanProcessor, InMemorySpanExporter } = await import('@opentelemetry/sdk-trace');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const { TraceState } = await import('@opentelemetry/core');
  const { ProtobufTraceSerializer } = await import('@opentelemetry/otlp-transformer');
  type ReadableSpan = import('@opentelemetry/sdk-trace').ReadableSpan;
  type HrTime = import('@opentelemetry/api').HrTime;
  type Attributes = import('@opentelemetry/api').Attributes;

  const nanos = (t: HrTime): bigint => BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
  const hexBytes = (hex: string): Uint8Array => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));

  /** The OTLP AnyValue the serializer is documented to write for an attribute value. */
  function expectedValue(v: unknown): AnyValue {
    if (v === null || v === undefined) return null;
    if (typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') return Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 63 ? BigInt(v) : v;
    if (v instanceof Uint8Array) return v;
    if (Array.isArray(v)) return new ArrayValue(v.map(expectedValue));
    return new KeyValueList(Object.entries(v as Record<string, unknown>).map(([key, x]) => ({ key, value: expectedValue(x) })));
  }
  const expectedAttrs = (a: Attributes | undefined): KeyValue[] => Object.entries(a ?? {}).map(([key, v]) => ({ key, value: expectedValue(v) }));

  function expectedSpan(s: ReadableSpan): Span {
    const ctx = s.spanContext();
    const traceState = ctx.traceState?.serialize() ?? '';
    return {
      traceId: hexBytes(ctx.traceId),
      spanId: hexBytes(ctx.spanId),
      traceState,
      parentSpanId: s.parentSpanContext?.spanId ? hexBytes(s.parentSpanContext.spanId) : new Uint8Array(0),
      flags: (ctx.traceFlags & 0xff) | 0x100 | (s.parentSpanContext?.isRemote ? 0x200 : 0),
      name: s.name,
      kind: s.kind + 1,
      startTimeUnixNano: nanos(s.startTime),
      endTimeUnixNano: nanos(s.endTime),
      attributes: expectedAttrs(s.attributes),
      droppedAttributesCount: s.droppedAttributesCount,
      events: s.events.map((e) => ({
        timeUnixNano: nanos(e.time),
        name: e.name,
        attributes: expectedAttrs(e.attributes),
        droppedAttributesCount: e.droppedAttributesCount ?? 0,
      })),
      droppedEventsCount: s.droppedEventsCount,
      links: s.links.map((l) => ({
        traceId: hexBytes(l.context.traceId),
        spanId: hexBytes(l.context.spanId),
        traceState: l.context.traceState?.serialize() ?? '',
        attributes: expectedAttrs(l.attributes),
        droppedAttributesCount: l.droppedAttributesCount ?? 0,
        flags: (l.context.traceFlags & 0xff) | 0x100 | (l.context.isRemote ? 0x200 : 0),
      })),
      droppedLinksCount: s.droppedLinksCount,
      status: { code: s.status.code, message: s.status.message ?? '' },
    };
  }

  async function makeSpans(): Promise<ReadableSpan[]> {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({
      resource: resourceFromAttributes({
        'service.name': 'oracle-service',
        'service.instance.id': 'ünïque-😀',
        'host.cpu.count': 2,
        'process.runtime.ratio': 0.25,
        'deployment.canary': true,
        'host.tags': ['a', 'b', ''],
      }),
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
      spanLimits: { attributeCountLimit: 40, eventCountLimit: 3, linkCountLimit: 3 },
    });
    const tracerA = provider.getTracer('@slimtrace/oracle-a', '1.2.3', { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' });
    const tracerB = provider.getTracer('oracle-b');
    const t0: HrTime = [1_700_000_000, 123_456_789];
    const at = (ms: number): HrTime => [t0[0] + Math.floor((t0[1] + ms * 1e6) / 1e9), (t0[1] + ms * 1e6) % 1e9];
    const allTypes: Attributes = {
      'str': 'value',
      'str.empty': '',
      'str.astral': '𝄞😀 日本',
      'int': 42,
      'int.negative': -7,
      'int.zero': 0,
      'int.big': 2 ** 53 + 2, // exact double above 2^53: written as int_value
      'int.huge': 2 ** 62,
      'double': 3.25,
      'double.negzero': -0,
      'double.nan': NaN,
      'double.inf': Infinity,
      'double.huge': 1e21,
      'double.tiny': 5e-324,
      'bool.true': true,
      'bool.false': false,
      'arr.str': ['a', 'b'],
      'arr.int': [1, 2, -3],
      'arr.double': [1.5, -2.5],
      'arr.bool': [true, false],
      'arr.empty': [],
      'arr.withnull': ['x', null, 'y'],
    };
    const root = tracerA.startSpan('GET /api/orders/{id}', { kind: api.SpanKind.SERVER, attributes: allTypes, startTime: t0 });
    root.addEvent('event.attrs', { 'e.str': 's', 'e.int': 1, 'e.arr': [true] }, at(1));
    root.addEvent('event.bare', at(2));
    root.recordException(new Error('boom'), at(3));
    root.setStatus({ code: api.SpanStatusCode.ERROR, message: 'it failed' });
    const rootCtx = api.trace.setSpan(api.ROOT_CONTEXT, root);
    const kinds = [api.SpanKind.INTERNAL, api.SpanKind.CLIENT, api.SpanKind.PRODUCER, api.SpanKind.CONSUMER];
    kinds.forEach((kind, i) => {
      const child = tracerA.startSpan(`child-${i}`, { kind, startTime: at(10 + i), attributes: { i } }, rootCtx);
      if (i === 0) child.setStatus({ code: api.SpanStatusCode.OK });
      child.end(at(20 + i));
    });
    // A span with a remote parent, a tracestate and links (one remote, one local, with attributes).
    const remote = api.trace.setSpanContext(api.ROOT_CONTEXT, {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: api.TraceFlags.SAMPLED,
      isRemote: true,
      traceState: new TraceState('vendor=value,other=1'),
    });
    const linked = tracerB.startSpan(
      'consume',
      {
        kind: api.SpanKind.CONSUMER,
        startTime: at(30),
        links: [
          { context: { traceId: 'ffffffffffffffffffffffffffffffff', spanId: 'ffffffffffffffff', traceFlags: 0, isRemote: true }, attributes: { 'link.n': 1, 'link.s': 'x' } },
          { context: root.spanContext() },
        ],
      },
      remote,
    );
    linked.addLink({ context: { traceId: '00000000000000000000000000000001', spanId: '0000000000000001', traceFlags: 1, traceState: new TraceState('k=v') } });
    linked.end(at(31));
    // Limits exceeded: dropped counts.
    const crowded = tracerB.startSpan('crowded', { startTime: at(40) });
    for (let i = 0; i < 50; i++) crowded.setAttribute(`a${i}`, i);
    for (let i = 0; i < 5; i++) crowded.addEvent(`e${i}`, at(41 + i));
    crowded.end(at(50));
    root.end(at(100));
    await provider.forceFlush();
    const spans = exporter.getFinishedSpans();
    await provider.shutdown();
    return spans;
  }

  const spans = await makeSpans();

  function checkDecoded(decoded: TracesData, source: ReadableSpan[], label: string): void {
    assert.equal(countSpans(decoded), source.length, `${label}: span count`);
    const byId = new Map<string, Span>();
    for (const rs of decoded.resourceSpans) {
      assert.ok(rs.resource, `${label}: resource present`);
      for (const ss of rs.scopeSpans) {
        assert.ok(ss.scope, `${label}: scope present`);
        for (const s of ss.spans) byId.set(bytesToHex(s.spanId), s);
      }
    }
    for (const s of source) {
      const actual = byId.get(s.spanContext().spanId);
      assert.ok(actual, `${label}: span ${s.name} missing`);
      const d = diffSpan(`span ${s.name}`, expectedSpan(s), actual);
      assert.equal(d, undefined, `${label}: ${d}`);
    }
    // Resource and scope.
    const rs = decoded.resourceSpans[0]!;
    const rd = diffTracesData(
      { resourceSpans: [{ resource: { attributes: expectedAttrs(source[0]!.resource.attributes as Attributes), droppedAttributesCount: 0, entityRefs: [] }, scopeSpans: [], schemaUrl: '' }] },
      { resourceSpans: [{ ...rs, scopeSpans: [] }] },
    );
    assert.equal(rd, undefined, `${label}: resource ${rd}`);
    const scopes = rs.scopeSpans.map((ss) => `${ss.scope!.name}@${ss.scope!.version}|${ss.schemaUrl}`).sort();
    assert.deepEqual(scopes, ['@slimtrace/oracle-a@1.2.3|https://opentelemetry.io/schemas/1.26.0', 'oracle-b@|']);
  }

  test('SDK spans: decoded fields equal the ReadableSpans (ids, exact ns times, kind+1, flags 0x101/0x301, attributes, events, links, status)', () => {
    assert.ok(spans.length >= 7);
    const bytes = ProtobufTraceSerializer.serializeRequest(spans)!;
    const decoded = decodeTracesData(bytes);
    checkDecoded(decoded, spans, 'SDK bytes');
    const flags = new Set(decoded.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.flags))));
    assert.ok(flags.has(0x101) && flags.has(0x301), `expected flags 0x101 and 0x301, got ${[...flags].map((f) => f.toString(16))}`);
    // protobufjs reads the SDK's bytes the same way.
    assertSameMessage(pbjsDecodeTraces(bytes), decoded, 'protobufjs on SDK bytes');
  });

  test('SDK bytes: encode(decode(b)) decodes to the same message (not the same bytes: the SDK writes explicit zeros)', () => {
    const bytes = ProtobufTraceSerializer.serializeRequest(spans)!;
    const decoded = decodeTracesData(bytes);
    const again = encodeTracesData(decoded);
    assertSameMessage(decodeTracesData(again), decoded, 're-decoded');
    assertSameMessage(pbjsDecodeTraces(again), pbjsDecodeTraces(bytes), 'protobufjs: re-encoded vs SDK bytes');
    checkDecoded(decodeTracesData(again), spans, 're-encoded');
    assert.ok(again.length < bytes.length, `re-encoding drops explicit zero fields: ${again.length} < ${bytes.length}`);
  });

  test('serializer with bytes, kvlist and nested attribute values (plain ReadableSpan-shaped objects)', () => {
    const base = spans[0]!;
    const exotic: Attributes = {
      'bytes': Uint8Array.of(0, 1, 255) as unknown as string,
      'bytes.empty': new Uint8Array(0) as unknown as string,
      'kv': { a: 1, b: 'x', c: [1.5, 'mixed', true, null], d: { deep: { deeper: ['z'] } }, e: Uint8Array.of(9) } as unknown as string,
      'arr.nested': [[1, 2], ['a', ['b']], []] as unknown as string[],
    };
    const plain = Object.create(base, { attributes: { value: exotic }, name: { value: 'plain object span' } }) as ReadableSpan;
    const bytes = ProtobufTraceSerializer.serializeRequest([plain])!;
    const decoded = decodeTracesData(bytes);
    const s = onlySpan(decoded);
    const d = diffSpan('plain', { ...expectedSpan(base), name: 'plain object span', attributes: expectedAttrs(exotic) }, s);
    assert.equal(d, undefined, d);
    assertSameMessage(pbjsDecodeTraces(bytes), decoded, 'protobufjs agrees');
    assertSameMessage(roundTrip(decoded), decoded, 're-encoded');
  });

  test('many SDK-shaped spans from arbitrary data (serializer on synthetic ReadableSpans)', () => {
    // Plain objects with the ReadableSpan shape, built from arbitrary ids/times/attributes.
    const rng = new Rng(4242);
    const synthetic: ReadableSpan[] = [];
    for (let i = 0; i < 300; i++) {
      const hex = (n: number): string => bytesToHex(rng.bytes(n));
      const traceId = hex(16);
      const sec = rng.int(2 ** 31);
      const start: HrTime = [sec, rng.int(1e9)];
      const end: HrTime = [sec + rng.int(100), rng.int(1e9)];
      const ctx = { traceId, spanId: hex(8), traceFlags: rng.int(256), isRemote: false };
      const attrs: Attributes = {};
      for (let k = 0; k < rng.int(6); k++) {
        const pick = rng.int(5);
        attrs[`a${k}`] = pick === 0 ? hex(rng.int(10)) : pick === 1 ? rng.int(2 ** 31) - 2 ** 30 : pick === 2 ? rng.float() * 1e6 : pick === 3 ? rng.bool() : [hex(2), hex(3)];
      }
      synthetic.push({
        ...Object.fromEntries(Object.entries(spans[1]!)),
        name: `syn-${i}`,
        kind: rng.int(5),
        spanContext: () => ctx,
        parentSpanContext: rng.bool() ? { traceId, spanId: hex(8), traceFlags: 1, isRemote: rng.bool() } : undefined,
        startTime: start,
        endTime: end,
        attributes: attrs,
        events: [],
        links: [],
        status: { code: rng.int(3) },
        resource: spans[1]!.resource,
        instrumentationScope: spans[1]!.instrumentationScope,
        droppedAttributesCount: rng.int(3),
        droppedEventsCount: 0,
        droppedLinksCount: 0,
      } as unknown as ReadableSpan);
    }
    const bytes = ProtobufTraceSerializer.serializeRequest(synthetic)!;
    const decoded = decodeTracesData(bytes);
    assert.equal(countSpans(decoded), synthetic.length);
    const all = decoded.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
    synthetic.forEach((s, i) => {
      const d = diffSpan(`syn ${i}`, expectedSpan(s), all[i]!);
      assert.equal(d, undefined, d);
    });
    assertSameMessage(decodeTracesData(encodeTracesData(decoded)), decoded, 're-encoded');
  });
});

// ------------------------------------------------------------------------------------------------
// Oracle (c): protoc --decode (Google C++ protobuf)
// ------------------------------------------------------------------------------------------------

describe('oracle: protoc --decode', () => {
  const unavailable = protocUnavailable();

  function checkWithProtoc(data: TracesData, label: string): void {
    const bytes = encodeTracesData(data);
    const r = protocDecode(bytes, 'ExportTraceServiceRequest');
    assert.ok(r.ok, `${label}: protoc failed to decode our bytes: ${r.stderr}`);
    const d = diffText(parseTextFormat(r.text), expectedTracesText(data));
    assert.equal(d, undefined, `${label}: protoc printed something else: ${d}\n${r.text.slice(0, 2000)}`);
  }

  test('edge cases decode in protoc to the expected values', (t) => {
    if (unavailable) return t.skip(unavailable);
    for (const { name, data } of edgeCaseTracesData()) checkWithProtoc(data, name);
    checkWithProtoc(unknownFieldsEverywhere(), 'unknown fields everywhere');
  });

  test('40 arbitrary messages decode in protoc to the expected values', (t) => {
    if (unavailable) return t.skip(unavailable);
    for (const seed of SEEDS(40, 60_000)) checkWithProtoc(arbitraryTracesData(seed, { unknownFieldRate: 0.3 }), `seed ${seed}`);
  });

  test('responses decode in protoc', (t) => {
    if (unavailable) return t.skip(unavailable);
    const r = protocDecode(encodeTraceResponse({ partialSuccess: { rejectedSpans: -(2n ** 63n), errorMessage: 'partial 😀' } }), 'ExportTraceServiceResponse');
    assert.ok(r.ok, r.stderr);
    assert.match(r.text, /rejected_spans: -9223372036854775808/);
    assert.match(r.text, /error_message: "partial \\360\\237\\230\\200"/);
  });

  test('a large message (5k spans) decodes in protoc', (t) => {
    if (unavailable) return t.skip(unavailable);
    checkWithProtoc(largeTracesData(5_000, 9), 'large');
  });
});
