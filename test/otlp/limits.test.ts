// Hostile OTLP requests (issue 15): each costs bounded time and memory, or ends in a typed error.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_DECODE_LIMITS,
  DecodeLimitError,
  ProtobufDecodeError,
  decodeTracesData,
  decodeTracesJson,
  decodeTracesJsonLines,
  decodeTracesJsonValue,
  encodeTracesData,
} from '../../src/otlp/index.js';
import { InputError } from '../../src/model/index.js';

function varint(n: number): Buffer {
  const a: number[] = [];
  while (n >= 0x80) {
    a.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  a.push(n);
  return Buffer.from(a);
}
const field = (tag: number, body: Buffer) => Buffer.concat([Buffer.from([tag]), varint(body.length), body]);
/** One ResourceSpans holding one ScopeSpans whose body is `scopeBody`. */
const request = (scopeBody: Buffer) => field(0x0a, field(0x12, scopeBody));

it('2 MiB of unknown fields decode in linear time and round-trip', () => {
  // `78 00` = field 15, varint 0: unknown at the top level. Before the fix each one copied the
  // whole accumulator (136 s for 2 MiB); the bound is generous, the fixed decoder takes ~0.2 s.
  const input = Buffer.alloc(2 * 1024 * 1024, Buffer.from([0x78, 0x00]));
  const t0 = performance.now();
  const decoded = decodeTracesData(input);
  const ms = performance.now() - t0;
  assert.ok(ms < 15_000, `took ${ms} ms`);
  assert.equal(decoded.unknownFields!.length, input.length);
  assert.deepEqual(Buffer.from(encodeTracesData(decoded)), input);
});

it('unknown fields interleaved with known ones and in merged messages stay exact', () => {
  // A span with unknown fields around its name, and a Resource given twice (merged), each with
  // unknown fields: the accumulators grow in place and must not share bytes.
  const span = Buffer.concat([Buffer.from([0xa0, 0x06, 0x01]), field(0x2a, Buffer.from('op')), Buffer.from([0xa0, 0x06, 0x02, 0xa8, 0x06, 0x03])]);
  const resource = (n: number) => field(0x0a, Buffer.from([0xa0, 0x06, n]));
  const rs = Buffer.concat([resource(1), resource(2), resource(3), field(0x12, field(0x12, span)), field(0x12, field(0x12, span))]);
  const input = field(0x0a, rs);
  const d = decodeTracesData(input);
  assert.deepEqual([...d.resourceSpans[0]!.resource!.unknownFields!], [0xa0, 0x06, 1, 0xa0, 0x06, 2, 0xa0, 0x06, 3]);
  const spans = d.resourceSpans[0]!.scopeSpans.map((s) => s.spans[0]!);
  for (const s of spans) assert.deepEqual([...s.unknownFields!], [0xa0, 0x06, 1, 0xa0, 0x06, 2, 0xa8, 0x06, 3]);
  assert.deepEqual(decodeTracesData(encodeTracesData(d)), d);
});

it('the decode limits have the documented defaults', () => {
  assert.equal(DEFAULT_DECODE_LIMITS.maxSpans, 4_194_304);
  assert.equal(DEFAULT_DECODE_LIMITS.maxDecodedMemory, 1024 * 1024 * 1024);
});

it('protobuf: a request of empty spans stops at maxSpans with a typed error', () => {
  const bomb = request(Buffer.alloc(2 * 100_000, Buffer.from([0x12, 0x00]))); // `12 00`: an empty span
  assert.throws(
    () => decodeTracesData(bomb, { maxSpans: 1000 }),
    (e: unknown) =>
      e instanceof DecodeLimitError && e instanceof ProtobufDecodeError && e instanceof InputError &&
      e.kind === 'limit' && e.limit === 'maxSpans' && e.value === 1000 && /maxSpans = 1000/.test(e.message) && /raise it/.test(e.message),
  );
  assert.equal(decodeTracesData(bomb, { maxSpans: 100_000 }).resourceSpans[0]!.scopeSpans[0]!.spans.length, 100_000);
});

it('protobuf: the memory estimate stops empty spans, attributes and array values early', () => {
  const spans = request(Buffer.alloc(2 * 100_000, Buffer.from([0x12, 0x00])));
  const attrs = request(field(0x12, Buffer.alloc(2 * 100_000, Buffer.from([0x4a, 0x00]))));
  const values = request(field(0x12, field(0x4a, field(0x12, field(0x2a, Buffer.alloc(2 * 100_000, Buffer.from([0x0a, 0x00])))))));
  for (const bomb of [spans, attrs, values]) {
    assert.throws(
      () => decodeTracesData(bomb, { maxDecodedMemory: 1024 * 1024 }),
      (e: unknown) => e instanceof DecodeLimitError && e.limit === 'maxDecodedMemory' && /maxDecodedMemory = 1048576 bytes/.test(e.message),
    );
    decodeTracesData(bomb, { maxDecodedMemory: 64 * 1024 * 1024 }); // the same under a larger limit
  }
});

it('protobuf: under the default limits, 30 MiB of empty spans is refused before any span is built', () => {
  // Issue 15 item 4: 4.5 GB and a heap abort before. The span count is checked first, in one pass.
  const bomb = request(Buffer.alloc(30 * 1024 * 1024, Buffer.from([0x12, 0x00])));
  const heapBefore = process.memoryUsage().heapUsed;
  assert.throws(() => decodeTracesData(bomb), (e: unknown) => e instanceof DecodeLimitError && e.limit === 'maxSpans' && e.value === DEFAULT_DECODE_LIMITS.maxSpans);
  // Building even a quarter of the 15.7M spans would take over 250 MB of heap.
  assert.ok(process.memoryUsage().heapUsed - heapBefore < 64 * 1024 * 1024, 'no spans were materialised');
  // Malformed input found by the count is left to the decoder, which names it precisely.
  const cut = Buffer.concat([request(Buffer.alloc(2 * 5_000_000, Buffer.from([0x12, 0x00]))), Buffer.from([0x0a, 0xff])]);
  assert.throws(() => decodeTracesData(cut), (e: unknown) => e instanceof ProtobufDecodeError && (e.kind === 'truncated' || e.kind === 'limit'));
});

const jsonSpans = (n: number) => `{"resourceSpans":[{"scopeSpans":[{"spans":[${'{},'.repeat(n).slice(0, -1)}]}]}]}`;

it('OTLP/JSON: the same limits, and the memory check comes before JSON.parse', () => {
  assert.throws(() => decodeTracesJson(jsonSpans(5000), 'x.json', { maxSpans: 1000 }), (e: unknown) => e instanceof DecodeLimitError && e.limit === 'maxSpans' && /^x\.json: /.test(e.message));
  assert.throws(() => decodeTracesJsonLines(jsonSpans(5000), undefined, { maxSpans: 1000 }), DecodeLimitError);
  assert.throws(() => decodeTracesJsonValue(JSON.parse(jsonSpans(5000)), undefined, { maxSpans: 1000 }), DecodeLimitError);
  assert.equal(decodeTracesJson(jsonSpans(5000), undefined, { maxSpans: 5000 }).resourceSpans[0]!.scopeSpans[0]!.spans.length, 5000);
  // 1M `{}`: about 70 MB once parsed; a 16 MiB limit refuses it before parsing.
  const big = jsonSpans(1_000_000);
  const before = process.memoryUsage().heapUsed;
  assert.throws(() => decodeTracesJson(big, undefined, { maxDecodedMemory: 16 * 1024 * 1024 }), (e: unknown) => e instanceof DecodeLimitError && e.limit === 'maxDecodedMemory');
  assert.ok(process.memoryUsage().heapUsed - before < 40 * 1024 * 1024);
});

it('OTLP/JSON: a lone UTF-16 surrogate is rejected with an InputError naming where; pairs are fine', () => {
  const withName = (name: string) => `{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"${name}"}]}]}]}`;
  for (const bad of ['\\ud800', 'a\\udc00b', '\\ud800\\ud800', '\\uDBFFx']) {
    assert.throws(
      () => decodeTracesJson(withName(bad), 'f.json'),
      (e: unknown) => e instanceof InputError && /resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.name: lone UTF-16 surrogate/.test(e.message),
      bad,
    );
  }
  assert.throws(() => decodeTracesJson(withName('\ud800')), /lone UTF-16 surrogate/); // raw, not escaped
  assert.throws(() => decodeTracesJson('{"resourceSpans":[],"\\udfff":1}'), /lone UTF-16 surrogate/); // in a key
  assert.equal(decodeTracesJson(withName('\\ud83d\\ude00')).resourceSpans[0]!.scopeSpans[0]!.spans[0]!.name, '\u{1f600}');
  assert.equal(decodeTracesJson(withName('\\\\ud800')).resourceSpans[0]!.scopeSpans[0]!.spans[0]!.name, '\\ud800'); // an escaped backslash
});
