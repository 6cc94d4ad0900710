// validateTracesData against decodeTracesData: the receivers validate and count an OTLP protobuf
// request with the first and hand its bytes on, and the forwarder (or a sink) decodes them later
// with the second. A request the validator accepts and the decoder refuses would be acknowledged to
// its client and then dropped as undecodable; one it refuses that the decoder takes would be lost
// for nothing. So on every input (valid generated requests, the fuzz strategies' mutated,
// truncated and hostile bytes, bombs, and real requests damaged at random) both must give the same
// outcome: the same span count, or an error of the same class with the same kind, offset, limit
// and message, under the default limits and under tight ones that trip mid-request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countSpans } from '../../src/model/index.js';
import { decodeTracesData, encodeTracesData, type DecodeLimits } from '../../src/otlp/index.js';
import { validateTracesData } from '../../src/otlp/protobuf.js';
import { trafficData } from '../../src/generator/index.js';
import { Rng, arbitraryTracesData } from '../helpers/arbitrary.js';
import { edgeCaseTracesData, unknownFieldsEverywhere } from '../helpers/edge-cases.js';
import { STRATEGIES, buildCorpus, caseCounts, makeCase } from '../helpers/mutate.js';

type Outcome = { spans: number } | { error: string; message: string; kind: unknown; offset: unknown; limit: unknown };

function outcome(run: () => number): Outcome {
  try {
    return { spans: run() };
  } catch (e) {
    const x = e as Error & { kind?: unknown; offset?: unknown; limit?: unknown };
    return { error: x.constructor.name, message: x.message, kind: x.kind, offset: x.offset, limit: x.limit };
  }
}

/** Asserts the two agree on `bytes`; returns whether the input was accepted. */
function same(bytes: Uint8Array, limits: DecodeLimits | undefined, what: string): boolean {
  const decoded = outcome(() => countSpans(decodeTracesData(bytes, limits)));
  const validated = outcome(() => validateTracesData(bytes, limits));
  assert.deepEqual(validated, decoded, `${what} (${bytes.length} bytes, limits ${JSON.stringify(limits ?? {})})`);
  return 'spans' in decoded;
}

/** Limits that trip somewhere inside a request of `bytes` (or just do not), chosen by `rng`. */
function tightLimits(bytes: Uint8Array, rng: Rng): DecodeLimits {
  switch (rng.int(3)) {
    case 0:
      return { maxSpans: rng.int(6) };
    case 1:
      return { maxDecodedMemory: bytes.length * 2 + rng.int(4000) };
    default:
      return { maxSpans: rng.int(40), maxDecodedMemory: bytes.length * 2 + rng.int(20_000) };
  }
}

test('validate = decode on valid requests: generated traffic, arbitrary messages, edge cases', () => {
  const inputs: [string, Uint8Array][] = [];
  for (const seed of [1, 7, 11]) {
    let i = 0;
    for (const b of trafficData({ seed, traces: 60, batchSpans: 128 })) inputs.push([`traffic seed ${seed} batch ${i++}`, encodeTracesData(b)]);
  }
  for (let seed = 1; seed <= 300; seed++) inputs.push([`arbitrary ${seed}`, encodeTracesData(arbitraryTracesData(seed, { unknownFieldRate: seed % 3 === 0 ? 0.3 : 0 }))]);
  for (const { name, data } of edgeCaseTracesData()) inputs.push([name, encodeTracesData(data)]);
  inputs.push(['unknown fields everywhere', encodeTracesData(unknownFieldsEverywhere())]);
  const rng = new Rng(42);
  for (const [name, bytes] of inputs) {
    assert.ok(same(bytes, undefined, name), `${name} must decode`);
    same(bytes, tightLimits(bytes, rng), `${name}, tight limits`);
  }
});

test('validate = decode on the fuzz strategies (mutated, truncated, hostile), default and tight limits', () => {
  const corpus = buildCorpus(encodeTracesData);
  const counts = caseCounts(corpus);
  const rng = new Rng(7);
  let cases = 0;
  let accepted = 0;
  for (let s = 0; s < STRATEGIES.length; s++) {
    // Every case of the small strategies, a deterministic spread of the large ones.
    const n = counts[s]!;
    const take = Math.min(n, 2500);
    for (let k = 0; k < take; k++) {
      const index = take === n ? k : Math.floor((k * n) / take);
      const bytes = makeCase(corpus, s, index);
      const what = `strategy "${STRATEGIES[s]!.name}" case ${index}`;
      if (same(bytes, undefined, what)) accepted++;
      same(bytes, tightLimits(bytes, rng), what);
      cases++;
    }
  }
  assert.ok(cases > 20_000, `${cases} cases`);
  assert.ok(accepted > 1000, `some mutated inputs must still decode (${accepted})`);
});

test('validate = decode on real requests damaged at random (truncation, bit flips, byte edits)', () => {
  const requests = [...trafficData({ seed: 5, traces: 80, batchSpans: 256 })].map((b) => encodeTracesData(b));
  const rng = new Rng(99);
  for (let i = 0; i < 3000; i++) {
    const base = rng.pick(requests);
    let bytes: Uint8Array;
    switch (rng.int(3)) {
      case 0:
        bytes = base.subarray(0, rng.int(base.length));
        break;
      case 1: {
        bytes = new Uint8Array(base);
        for (let f = rng.range(1, 4); f > 0; f--) bytes[rng.int(bytes.length)]! ^= 1 << rng.int(8);
        break;
      }
      default: {
        bytes = new Uint8Array(base);
        const p = rng.int(bytes.length);
        bytes[p] = rng.pick([0x00, 0xff, 0x80, 0x0a, 0x12, 0xc3, 0xe2, rng.int(256)]);
        if (rng.bool()) bytes[rng.int(bytes.length)] = 0xc0; // never valid in UTF-8
      }
    }
    same(bytes, undefined, `damaged request ${i}`);
    same(bytes, tightLimits(bytes, rng), `damaged request ${i}`);
  }
});

test('validate = decode on bombs (empty spans, attributes, array values, deep nesting, big counts)', () => {
  const varint = (n: number): number[] => {
    const a: number[] = [];
    while (n >= 0x80) {
      a.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    a.push(n);
    return a;
  };
  const field = (tag: number, body: Uint8Array): Uint8Array => Uint8Array.from([tag, ...varint(body.length), ...body]);
  const bigField = (tag: number, body: Uint8Array): Uint8Array => Buffer.concat([Uint8Array.from([tag, ...varint(body.length)]), body]);
  const request = (scopeBody: Uint8Array): Uint8Array => bigField(0x0a, bigField(0x12, scopeBody));
  const bombs: [string, Uint8Array][] = [
    ['empty spans', request(Buffer.alloc(2 * 100_000, Uint8Array.of(0x12, 0x00)))],
    ['empty attributes', request(bigField(0x12, Buffer.alloc(2 * 100_000, Uint8Array.of(0x4a, 0x00))))],
    ['empty array values', request(bigField(0x12, bigField(0x4a, bigField(0x12, bigField(0x2a, Buffer.alloc(2 * 100_000, Uint8Array.of(0x0a, 0x00)))))))],
    ['6M empty spans (the prescan)', request(Buffer.alloc(2 * 6_000_000, Uint8Array.of(0x12, 0x00)))],
  ];
  // AnyValue nesting at, just under and over MAX_DEPTH, as arrays and as kvlists.
  for (const depth of [98, 99, 100, 101, 150]) {
    let arr: Uint8Array = field(0x0a, new TextEncoder().encode('leaf'));
    let kv: Uint8Array = arr;
    for (let d = 0; d < depth; d++) {
      arr = field(0x2a, field(0x0a, arr));
      kv = field(0x32, field(0x0a, field(0x12, kv)));
    }
    for (const [shape, value] of [['array', arr], ['kvlist', kv]] as const) {
      const attr = bigField(0x12, value); // KeyValue{value}
      // In a span's, an event's, a link's, the scope's and the resource's attributes.
      bombs.push([`${shape} depth ${depth} in a span`, request(bigField(0x12, bigField(0x4a, attr)))]);
      bombs.push([`${shape} depth ${depth} in an event`, request(bigField(0x12, bigField(0x5a, bigField(0x1a, attr))))]);
      bombs.push([`${shape} depth ${depth} in a link`, request(bigField(0x12, bigField(0x6a, bigField(0x22, attr))))]);
      bombs.push([`${shape} depth ${depth} in the scope`, request(bigField(0x0a, bigField(0x1a, attr)))]);
      bombs.push([`${shape} depth ${depth} in the resource`, bigField(0x0a, bigField(0x0a, bigField(0x0a, attr)))]);
    }
  }
  // A value given three times (merged), arrays into arrays (charged once, as the decoder does), the
  // last time after an unknown field (a varint under the string's number).
  const arrayOfTwo = field(0x2a, Uint8Array.of(0x0a, 0x00, 0x0a, 0x00)); // AnyValue{array_value: [{}, {}]}
  bombs.push(['merged values', request(bigField(0x12, bigField(0x4a, Uint8Array.from([...field(0x12, arrayOfTwo), ...field(0x12, arrayOfTwo), ...field(0x12, Uint8Array.of(0x08, 0x01, ...arrayOfTwo))]))))]);
  for (const [name, bytes] of bombs) {
    same(bytes, undefined, name);
    for (const limits of [{ maxSpans: 1000 }, { maxDecodedMemory: 1024 * 1024 }, { maxDecodedMemory: bytes.length * 2 + 300 }, { maxDecodedMemory: 64 * 1024 * 1024 }]) same(bytes, limits, name);
  }
});

test('validate = decode on merged values, at every memory limit around what they cost', () => {
  // The decoder merges a value given again into the ArrayValue or KeyValueList it already holds
  // without charging a new one, and charges anew once a scalar came in between: the validator's
  // charges must follow, or a limit trips at a different point. Each pattern is repeated in one
  // KeyValue (value field given again) or in one AnyValue (its field given again), and the memory
  // limit swept in small steps across the whole request's cost.
  const field = (tag: number, body: number[]): number[] => [tag, body.length, ...body];
  const array = field(0x2a, [0x0a, 0x00]); // array_value: [{}]
  const kvlist = field(0x32, field(0x0a, [])); // kvlist_value: [{}]
  const scalars = [[0x10, 0x01], [0x18, 0x05], [...field(0x0a, [0x61])], [0x21, 0, 0, 0, 0, 0, 0, 0, 0], [...field(0x3a, [1])], [0x08, 0x01]];
  const patterns: [string, number[][]][] = [
    ['arrays', [array]],
    ['kvlists', [kvlist]],
    ['array then kvlist', [array, kvlist]],
    ...scalars.map((s, i): [string, number[][]] => [`array, scalar ${i}`, [array, s]]),
    ...scalars.map((s, i): [string, number[][]] => [`kvlist, scalar ${i}`, [kvlist, s]]),
  ];
  for (const [name, pattern] of patterns) {
    for (const where of ['key-value', 'any-value'] as const) {
      const parts: number[] = [];
      for (let k = 0; k < 12; k++) for (const p of pattern) parts.push(...(where === 'key-value' ? field(0x12, p) : p));
      const kv = where === 'key-value' ? parts : field(0x12, parts);
      const span = field(0x4a, kv);
      const bytes = Uint8Array.from(field(0x0a, field(0x12, field(0x12, span))));
      for (let extra = 0; extra < 2400; extra += 8) same(bytes, { maxDecodedMemory: bytes.length * 2 + extra }, `${name} in a ${where}, limit +${extra}`);
    }
  }
});
