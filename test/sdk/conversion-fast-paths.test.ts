// The exporter's conversion fast paths: hex ids by table (either case, anything else refused, even
// characters past ASCII whose low byte is a hex digit) and hrtimes through the cached second.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hexToBytes } from '../../src/model/index.js';
import { fromHrTime } from '../../src/sdk/from-readable.js';

test('hexToBytes: both cases, and no non-hex character passes', () => {
  assert.deepEqual(hexToBytes('00ff7Fa0'), Uint8Array.from([0x00, 0xff, 0x7f, 0xa0]));
  for (const bad of ['0g', 'g0', '0\u0130', '\u0141a', ' 1', '0x', 'a']) assert.equal(hexToBytes(bad), undefined, bad);
  assert.deepEqual(hexToBytes(''), new Uint8Array(0));
});

test('fromHrTime: exact across seconds, whatever the order', () => {
  const cases: [number, number][] = [[1675078742, 856000000], [1675078742, 1], [1675078743, 999999999], [0, 5], [1675078742, 0], [4102444800, 123456789]];
  for (const [s, ns] of cases) assert.equal(fromHrTime([s, ns]), BigInt(s) * 1_000_000_000n + BigInt(ns));
});
