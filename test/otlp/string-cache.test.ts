// The decoder's intern cache of short strings is shared by every reader (wire.ts): readers that
// interleave, inputs that put other strings at the same offsets, and strings that share a cache slot
// must each still read exactly their own strings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtobufReader } from '../../src/otlp/wire.js';

/** A message of repeated field-1 strings. */
function stringsMessage(values: string[]): Uint8Array {
  const parts: number[] = [];
  for (const v of values) {
    const b = Buffer.from(v, 'utf8');
    parts.push(10, b.length, ...b);
  }
  return Uint8Array.from(parts);
}

function readAll(r: ProtobufReader, end: number, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(r.readVarint32(end), 10);
    out.push(r.readString(end));
  }
  return out;
}

test('interleaved readers over different inputs read their own strings', () => {
  // Same lengths and same first/last/middle bytes at the same offsets: the same slots, other bytes.
  const a = ['service.name', 'sxrvice.nbme', 'abcdefgh', 'é-unicode-é', 'x', 'same'];
  const b = ['sarvice.nxme', 'service.name', 'abcXefgh', 'é-unicodé-é', 'y', 'same'];
  const ba = stringsMessage(a);
  const bb = stringsMessage(b);
  const ra = new ProtobufReader(ba);
  const rb = new ProtobufReader(bb);
  const outA: string[] = [];
  const outB: string[] = [];
  for (let i = 0; i < a.length; i++) {
    outA.push(...readAll(ra, ba.length, 1));
    outB.push(...readAll(rb, bb.length, 1));
  }
  assert.deepEqual(outA, a);
  assert.deepEqual(outB, b);
});

test('repeats within one input come back equal, near-misses do not', () => {
  const values: string[] = [];
  for (let i = 0; i < 2000; i++) values.push(`k${i % 37}.attr-${(i * 7) % 11}`, 'http.request.method', `get session:${(i * 2654435761 >>> 0).toString(16).padStart(8, '0')}`);
  const bytes = stringsMessage(values);
  // Also through a Uint8Array that is not a Buffer, at an offset into its ArrayBuffer.
  const shifted = new Uint8Array(bytes.length + 3);
  shifted.set(bytes, 3);
  for (const input of [bytes, shifted.subarray(3)]) {
    const r = new ProtobufReader(input);
    assert.deepEqual(readAll(r, input.length, values.length), values);
  }
});

test('invalid UTF-8 is refused even when a valid string of that length sits in its slot', () => {
  const good = Buffer.from('abcd');
  const bad = Uint8Array.from([10, 4, 0x61, 0xff, 0x63, 0x64]);
  const r = new ProtobufReader(Uint8Array.from([10, 4, ...good, ...bad]));
  assert.equal(readAll(r, 12, 1)[0], 'abcd');
  assert.throws(() => readAll(r, 12, 1), /UTF-8/);
});

