// The simple per-batch scheme (src/tracezip/baseline.ts), the baseline Tracezip is measured against:
// lossless at the message level on generated traffic, arbitrary messages and the edge cases, and
// safe on damaged input (InputError or a valid message, never another exception or a hang).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSimpleBatch, encodeSimpleBatch, MAX_VALUE_DEPTH, SIMPLE_BATCH_VERSION } from '../../src/tracezip/baseline.js';
import { ArrayValue, InputError, countSpans, diffTracesData, rebatch, type TracesData } from '../../src/model/index.js';
import { encodeTracesData } from '../../src/otlp/index.js';
import { collectTraffic } from '../../src/generator/index.js';
import { Rng, arbitraryTracesData, largeTracesData, nestedArrays, nestedKvlists, singleSpan } from '../helpers/arbitrary.js';
import { edgeCaseTracesData, everyAnyValue, unknownFieldsEverywhere } from '../helpers/edge-cases.js';

function roundTrip(data: TracesData, label: string): Uint8Array {
  const bytes = encodeSimpleBatch(data);
  const d = diffTracesData(decodeSimpleBatch(bytes), data);
  assert.equal(d, undefined, `${label}: first difference (decoded != original): ${d}`);
  return bytes;
}

/** Decodes damaged bytes: an InputError, or a message that is itself valid (it round-trips). */
function decodeDamaged(bytes: Uint8Array, label: string): 'error' | 'ok' {
  let out: TracesData;
  try {
    out = decodeSimpleBatch(bytes);
  } catch (err) {
    if (err instanceof InputError) return 'error';
    throw new Error(`${label}: not an InputError: ${(err as Error).stack}`);
  }
  roundTrip(out, `${label} (re-encoded)`);
  encodeTracesData(out); // also a message the OTLP encoder accepts
  return 'ok';
}

function occurrences(haystack: Uint8Array, needle: string): number {
  const n = Buffer.from(needle);
  let count = 0;
  for (let i = Buffer.from(haystack).indexOf(n); i >= 0; i = Buffer.from(haystack).indexOf(n, i + 1)) count++;
  return count;
}

const traffic = collectTraffic({ seed: 7, traces: 400 });

describe('round trip decode(encode(x)) = x', () => {
  test('generated traffic, as generated and re-cut into batches of 1, 16 and 512 spans', async () => {
    let spans = 0;
    for (const [i, b] of traffic.batches.entries()) {
      roundTrip(b, `traffic batch ${i}`);
      spans += countSpans(b);
    }
    assert.equal(spans, traffic.spans);
    for (const n of [1, 16, 512]) {
      let i = 0;
      for await (const b of rebatch(traffic.batches, n)) roundTrip(b, `traffic re-cut to ${n}, batch ${i++}`);
    }
  });

  test('1,500 arbitrary messages (every edge value, unknown fields, nested values)', () => {
    for (let seed = 1; seed <= 1500; seed++) roundTrip(arbitraryTracesData(seed), `arbitrary seed ${seed}`);
  });

  test('arbitrary messages with unknown fields on most messages, deeper values, more spans', () => {
    for (let seed = 1; seed <= 200; seed++)
      roundTrip(arbitraryTracesData(seed, { unknownFieldRate: 0.8, maxDepth: 8, maxSpans: 12, maxAttributes: 10 }), `arbitrary(dense) seed ${seed}`);
  });

  for (const { name, data } of edgeCaseTracesData()) test(`edge case: ${name}`, () => void roundTrip(data, name));

  test('every AnyValue kind, one attribute at a time and all repeated (dictionary paths)', () => {
    for (const kv of everyAnyValue()) roundTrip(singleSpan([kv]), `attribute ${kv.key}`);
    const all = everyAnyValue();
    roundTrip(singleSpan([...all, ...all, ...everyAnyValue()]), 'every value three times');
  });

  test('unknown fields everywhere, twice in one batch', () => {
    const a = unknownFieldsEverywhere();
    const b = unknownFieldsEverywhere();
    roundTrip({ resourceSpans: [...a.resourceSpans, ...b.resourceSpans], unknownFields: a.unknownFields }, 'unknown fields x2');
  });

  test('a large realistic message (20k spans)', () => void roundTrip(largeTracesData(20_000), 'large'));

  test('values nested up to the limit round-trip; deeper ones are refused by the encoder', () => {
    roundTrip(singleSpan([{ key: 'a', value: nestedArrays(MAX_VALUE_DEPTH), unknownFields: undefined }]), 'arrays at the limit');
    roundTrip(singleSpan([{ key: 'k', value: nestedKvlists(MAX_VALUE_DEPTH), unknownFields: undefined }]), 'kvlists at the limit');
    assert.throws(() => encodeSimpleBatch(singleSpan([{ key: 'a', value: nestedArrays(MAX_VALUE_DEPTH + 1), unknownFields: undefined }])), InputError);
  });

  test('decoding does not depend on anything outside the batch (same bytes, same message, any order)', () => {
    const encoded = traffic.batches.slice(0, 6).map((b) => encodeSimpleBatch(b));
    for (let i = encoded.length - 1; i >= 0; i--) assert.equal(diffTracesData(decodeSimpleBatch(encoded[i]!), traffic.batches[i]!), undefined);
  });
});

describe('the scheme', () => {
  test('starts with the version byte; another version is an InputError', () => {
    const bytes = encodeSimpleBatch(traffic.batches[0]!);
    assert.equal(bytes[0], SIMPLE_BATCH_VERSION);
    const other = Uint8Array.from(bytes);
    other[0] = SIMPLE_BATCH_VERSION + 1;
    assert.throws(() => decodeSimpleBatch(other), (e: unknown) => e instanceof InputError && /version/.test((e as Error).message));
    assert.throws(() => decodeSimpleBatch(new Uint8Array(0)), InputError);
  });

  test('a string seen twice is written once (dictionary), a string seen once is written inline once', () => {
    const data = singleSpan(
      [
        { key: 'repeated.key', value: 'value-once-AAAA', unknownFields: undefined },
        { key: 'other.key', value: 'repeated-value-BBBB', unknownFields: undefined },
        { key: 'third.key', value: 'repeated-value-BBBB', unknownFields: undefined },
        { key: 'repeated.key', value: 'value-once-CCCC', unknownFields: undefined },
      ],
      { name: 'repeated-value-BBBB' },
    );
    const bytes = roundTrip(data, 'dictionary');
    assert.equal(occurrences(bytes, 'repeated.key'), 1);
    assert.equal(occurrences(bytes, 'repeated-value-BBBB'), 1);
    assert.equal(occurrences(bytes, 'value-once-AAAA'), 1);
  });

  test('a key/value pair seen twice is one dictionary entry', () => {
    const attrs = [
      { key: 'http.request.method', value: 'GET', unknownFields: undefined },
      { key: 'n', value: 7n, unknownFields: undefined },
    ];
    const one = encodeSimpleBatch(singleSpan(attrs));
    const many = encodeSimpleBatch(singleSpan([...attrs, ...attrs, ...attrs, ...attrs]));
    // Each further use of a dictionary pair costs one byte.
    assert.ok(many.length <= one.length + 3 * 2 + 6, `${many.length} vs ${one.length}`);
    roundTrip(singleSpan([...attrs, ...attrs]), 'pairs');
  });

  test('-0 and 0, and NaN, stay apart as dictionary pairs where the model tells them apart', () => {
    const kv = (value: number) => ({ key: 'x', value, unknownFields: undefined });
    roundTrip(singleSpan([kv(0), kv(-0), kv(0), kv(-0), kv(NaN), kv(NaN), kv(1), kv(1)]), 'doubles');
    roundTrip(singleSpan([{ key: 'b', value: Uint8Array.of(1), unknownFields: undefined }, { key: 'b', value: Uint8Array.of(1), unknownFields: undefined }, { key: 'b', value: '01', unknownFields: undefined }]), 'bytes vs text');
    roundTrip(singleSpan([{ key: 'i', value: 1n, unknownFields: undefined }, { key: 'i', value: 1, unknownFields: undefined }, { key: 'i', value: 1n, unknownFields: undefined }, { key: 'i', value: 1, unknownFields: undefined }, { key: 'i', value: '1', unknownFields: undefined }, { key: 'i', value: true, unknownFields: undefined }, { key: 'i', value: true, unknownFields: undefined }]), 'int vs double vs string');
  });

  test('is well below OTLP protobuf on generated traffic', () => {
    let simple = 0;
    let otlp = 0;
    for (const b of traffic.batches) {
      simple += encodeSimpleBatch(b).length;
      otlp += encodeTracesData(b).length;
    }
    assert.ok(simple < otlp * 0.5, `simple ${simple} B vs OTLP ${otlp} B`);
  });
});

describe('damaged input: InputError or a valid message, never another exception or a hang', () => {
  const small = encodeSimpleBatch(
    (() => {
      const d = arbitraryTracesData(42, { maxResourceSpans: 2, maxScopeSpans: 2, maxSpans: 3, maxAttributes: 4, maxEvents: 2, maxLinks: 1, maxDepth: 3, unknownFieldRate: 0.3 });
      const t = traffic.batches[0]!;
      return { resourceSpans: [...d.resourceSpans, ...t.resourceSpans.slice(0, 1).map((rs) => ({ ...rs, scopeSpans: rs.scopeSpans.slice(0, 1).map((ss) => ({ ...ss, spans: ss.spans.slice(0, 4) })) }))], unknownFields: d.unknownFields };
    })(),
  );

  test(`truncation at every offset is an InputError (${small.length} prefixes)`, () => {
    assert.ok(small.length > 200, `a non-trivial batch (${small.length} B)`);
    for (let n = 0; n < small.length; n++) {
      assert.throws(() => decodeSimpleBatch(small.subarray(0, n)), InputError, `prefix of ${n} bytes`);
    }
    decodeSimpleBatch(small); // the whole batch is fine
  });

  test('trailing bytes are an InputError', () => {
    const longer = new Uint8Array(small.length + 1);
    longer.set(small);
    assert.throws(() => decodeSimpleBatch(longer), InputError);
  });

  test('20,000 random byte flips and byte edits', async () => {
    const trafficSmall = (await rebatch(traffic.batches, 24).next()).value as TracesData;
    const corpus = [small, encodeSimpleBatch(trafficSmall), encodeSimpleBatch(unknownFieldsEverywhere()), encodeSimpleBatch(singleSpan(everyAnyValue()))];
    const rng = new Rng(0xbadb175);
    const outcomes = { error: 0, ok: 0 };
    const t0 = Date.now();
    for (let i = 0; i < 20_000; i++) {
      const src = corpus[i % corpus.length]!;
      const bytes = Uint8Array.from(src);
      const edits = 1 + rng.int(3);
      for (let e = 0; e < edits; e++) {
        const at = rng.int(bytes.length);
        if (rng.bool(0.5)) bytes[at] = bytes[at]! ^ (1 << rng.int(8));
        else bytes[at] = rng.pick([0x00, 0x01, 0x7f, 0x80, 0xff, rng.int(256)]);
      }
      outcomes[decodeDamaged(bytes, `case ${i}`)]++;
    }
    assert.ok(outcomes.error > 0 && outcomes.ok > 0, JSON.stringify(outcomes));
    assert.ok(Date.now() - t0 < 60_000, 'no case hangs');
  });

  test('random garbage', () => {
    const rng = new Rng(99);
    for (let i = 0; i < 5_000; i++) {
      const bytes = rng.bytes(1 + rng.int(200));
      if (rng.bool(0.5)) bytes[0] = SIMPLE_BATCH_VERSION;
      decodeDamaged(bytes, `garbage ${i}`);
    }
  });

  test('counts far beyond the input and nesting far beyond the limit fail fast', () => {
    // version, no strings, no pairs, base 0, request bits 0, 2^40 resource spans.
    const huge = Uint8Array.of(SIMPLE_BATCH_VERSION, 0, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20);
    assert.throws(() => decodeSimpleBatch(huge), InputError);
    // One resource whose single attribute is an array nested 200,000 levels deep.
    const head = [SIMPLE_BATCH_VERSION, 0, 0, 0, 0, 1, 1, 0, 1, 0, 2, 0x6b];
    const deep = new Uint8Array(head.length + 2 * 200_000);
    deep.set(head);
    for (let i = 0; i < 200_000; i++) {
      deep[head.length + 2 * i] = 7; // array
      deep[head.length + 2 * i + 1] = 1; // of one value
    }
    assert.throws(() => decodeSimpleBatch(deep), (e: unknown) => e instanceof InputError && /deep/.test((e as Error).message));
    // Just inside the limit it decodes.
    const ok = singleSpan([{ key: 'k', value: nestedArrays(MAX_VALUE_DEPTH - 1, new ArrayValue([])), unknownFields: undefined }]);
    roundTrip(ok, 'limit');
  });
});
