// The byte writer and reader under the wire format: strings of every length around the varint
// boundaries of their length prefix (the writer places UTF-8 after room for the longest prefix and
// moves it back), in every UTF-8 width, and varints around their size steps (signed bigints too).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteReader, ByteWriter } from '../../src/tracezip/bytes.js';

/** A string of `n` UTF-16 units built from `unit` (cut to n units, so surrogate pairs may be split). */
function make(unit: string, n: number): string {
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
}

describe('ByteWriter / ByteReader', () => {
  test('strings round trip as UTF-8 with exact length prefixes at every size boundary', () => {
    const units = ['a', 'é', '€', '😀', 'a€', 'x\u0000y', '\ud800'];
    const lengths = [0, 1, 15, 16, 23, 24, 42, 43, 44, 127, 128, 129, 200, 5461, 5462, 5463, 16383, 16384, 16385, 70000];
    for (const unit of units) {
      for (const n of lengths) {
        const s = make(unit, n);
        const w = new ByteWriter(4); // small: every path must grow it
        w.uvar(7);
        w.string(s);
        w.uvar(9);
        const bytes = w.finish();
        const expected = Buffer.from(s, 'utf8');
        const r = new ByteReader(bytes);
        assert.equal(r.uvar(), 7);
        assert.equal(r.uvar(), expected.length, `length prefix of ${JSON.stringify(unit)} x ${n}`);
        assert.deepEqual(Buffer.from(r.raw(expected.length)), expected, `bytes of ${JSON.stringify(unit)} x ${n}`);
        assert.equal(r.uvar(), 9);
        assert.equal(r.remaining, 0);
        // Strings without lone surrogates read back as written.
        if (Buffer.from(s, 'utf8').toString('utf8') === s) assert.equal(new ByteReader(bytes, 1).string(), s);
      }
    }
  });

  test('signed bigints around the number/bigint boundary (2^52, 2^53) and up to 65 bits: zigzag varints, read back exactly', () => {
    const values: bigint[] = [0n, 1n, -1n];
    for (const b of [31n, 32n, 51n, 52n, 53n, 54n, 62n, 63n, 64n]) for (const d of [-2n, -1n, 0n, 1n, 2n]) values.push((1n << b) + d, -((1n << b) + d));
    values.push((1n << 64n) - 1n, -((1n << 64n) - 1n));
    const w = new ByteWriter(1);
    for (const v of values) w.svarBig(v);
    // The reference: zigzag in bigint arithmetic, then LEB128.
    const expected: number[] = [];
    for (const v of values) {
      let u = v >= 0n ? v << 1n : (-v << 1n) - 1n;
      while (u >= 0x80n) {
        expected.push(Number(u & 0x7fn) | 0x80);
        u >>= 7n;
      }
      expected.push(Number(u));
    }
    assert.deepEqual([...w.finish()], expected);
    const r = new ByteReader(w.finish());
    for (const v of values) assert.equal(r.svarBig(), v);
    assert.equal(r.remaining, 0);
  });

  test('varints around each size step', () => {
    const w = new ByteWriter(1);
    const values: number[] = [];
    for (let b = 0; b <= 52; b++) for (const d of [-1, 0, 1]) if (2 ** b + d >= 0 && 2 ** b + d <= Number.MAX_SAFE_INTEGER) values.push(2 ** b + d);
    for (const v of values) w.uvar(v);
    const r = new ByteReader(w.finish());
    for (const v of values) assert.equal(r.uvar(), v);
    assert.equal(r.remaining, 0);
  });
});
