// Residual-string substitution (context.ts): the encoder writes substituted strings straight into
// the frame in pieces; those bytes must be exactly the substituted string's UTF-8, and expand() must
// give the original back, for strings built to hit every case (ids, earlier values, overlaps,
// NULs, surrogate pairs cut at a reference, multi-byte text, every length around a prefix step).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteReader, ByteWriter } from '../../src/tracezip/bytes.js';
import { expand, hex, IdHexContext, substituteIds, substituteInto } from '../../src/tracezip/context.js';
import { bytesToHex } from '../../src/model/index.js';
import { Rng } from '../helpers/arbitrary.js';

describe('residual string substitution', () => {
  test('hex() is bytesToHex', () => {
    const rng = new Rng(0x4e7);
    for (let n = 0; n < 70; n++) {
      const id = Uint8Array.from({ length: n }, () => rng.int(256));
      assert.equal(hex(id), bytesToHex(id));
    }
  });

  test('written in pieces = the substituted string as UTF-8, and it expands back', () => {
    const rng = new Rng(0x5b57);
    const traceHex = hex(Uint8Array.from({ length: 16 }, () => rng.int(256)));
    const spanHex = hex(Uint8Array.from({ length: 8 }, () => rng.int(256)));
    const ctx = new IdHexContext(traceHex, spanHex);
    const atoms = ['a', 'TraceID: ', ' ', 'é', '€', '😀', '\ud83d', '\ude00', '\u0000', 'x'.repeat(40), 'ü'.repeat(30), traceHex, spanHex, traceHex.slice(0, 20), spanHex + traceHex];
    for (let iter = 0; iter < 3000; iter++) {
      const earlier: string[] = [];
      const nEarlier = rng.int(5);
      for (let e = 0; e < nEarlier; e++) {
        let v = '';
        const parts = 1 + rng.int(4);
        for (let k = 0; k < parts; k++) v += atoms[rng.int(atoms.length)]!;
        earlier.push(v);
      }
      let s = '';
      const parts = rng.int(12);
      for (let k = 0; k < parts; k++) s += rng.int(3) === 0 && earlier.length > 0 ? earlier[rng.int(earlier.length)]! : atoms[rng.int(atoms.length)]!;
      if (rng.int(4) === 0) s += 'y'.repeat(rng.int(200)); // lengths around the prefix steps
      const expected = new ByteWriter(16);
      expected.string(substituteIds(s, traceHex, spanHex, earlier));
      const got = new ByteWriter(16);
      got.uvar(3); // not at the start of the buffer
      substituteInto(got, s, traceHex, spanHex, earlier);
      assert.deepEqual(Buffer.from(got.finish().subarray(1)), Buffer.from(expected.finish()), `bytes of ${JSON.stringify(s)}`);
      const r = new ByteReader(got.finish(), 1);
      const back = expand(r.string(), () => ctx, earlier);
      // Lone surrogates do not survive UTF-8 (they become U+FFFD), with or without substitution.
      const wellFormed = Buffer.from(s, 'utf8').toString('utf8') === s;
      if (wellFormed && earlier.every((e) => Buffer.from(e, 'utf8').toString('utf8') === e)) assert.equal(back, s, `round trip of ${JSON.stringify(s)}`);
    }
  });
});
