// Residual-string substitution (context.ts): the encoder writes substituted strings straight into
// the frame in pieces; those bytes must be exactly the substituted string's UTF-8, and expand() must
// give the original back, for strings built to hit every case (ids, earlier values, overlaps,
// NULs, surrogate pairs cut at a reference, multi-byte text, every length around a prefix step,
// JSON-escaped earlier values and event times as Docker's json-file log lines carry them).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteReader, ByteWriter } from '../../src/tracezip/bytes.js';
import { expand, hex, IdHexContext, jsonEscaped, RepeatSearch, rfc3339Nano, substituteIds, substituteInto } from '../../src/tracezip/context.js';
import { bytesToHex } from '../../src/model/index.js';
import { Rng } from '../helpers/arbitrary.js';
import { T0 } from '../helpers/tracezip.js';

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
    const atoms = ['a', 'TraceID: ', ' ', 'é', '€', '😀', '\ud83d', '\ude00', '\u0000', '"', '<b>&', '\n', '\\', 'x'.repeat(40), 'ü'.repeat(30), traceHex, spanHex, traceHex.slice(0, 20), spanHex + traceHex];
    const times = [0n, 1n, T0, T0 + 120_000_000n, (1n << 64n) - 1n];
    for (let iter = 0; iter < 3000; iter++) {
      const eventTime = rng.int(3) === 0 ? undefined : times[rng.int(times.length)]!;
      const timeAtoms = eventTime === undefined ? [] : [rfc3339Nano(eventTime), `"time":"${rfc3339Nano(eventTime)}"}`];
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
      for (let k = 0; k < parts; k++) {
        const pick = rng.int(6);
        if (pick === 0 && earlier.length > 0) s += earlier[rng.int(earlier.length)]!;
        else if (pick === 1 && earlier.length > 0) s += jsonEscaped(earlier[rng.int(earlier.length)]!);
        else if (pick === 2 && timeAtoms.length > 0) s += timeAtoms[rng.int(timeAtoms.length)]!;
        else s += atoms[rng.int(atoms.length)]!;
      }
      if (rng.int(4) === 0) s += 'y'.repeat(rng.int(200)); // lengths around the prefix steps
      const expected = new ByteWriter(16);
      expected.string(substituteIds(s, traceHex, spanHex, earlier, eventTime));
      const got = new ByteWriter(16);
      got.uvar(3); // not at the start of the buffer
      substituteInto(got, s, traceHex, spanHex, earlier, earlier.length, eventTime);
      assert.deepEqual(Buffer.from(got.finish().subarray(1)), Buffer.from(expected.finish()), `bytes of ${JSON.stringify(s)}`);
      const r = new ByteReader(got.finish(), 1);
      const sent = r.string();
      const back = expand(sent, () => ctx, earlier, eventTime);
      if (eventTime !== undefined && s.includes(rfc3339Nano(eventTime))) assert.ok(sent.includes('\u0000e'), `the time in ${JSON.stringify(s)} is referenced`);
      // Lone surrogates do not survive UTF-8 (they become U+FFFD), with or without substitution.
      const wellFormed = Buffer.from(s, 'utf8').toString('utf8') === s;
      if (wellFormed && earlier.every((e) => Buffer.from(e, 'utf8').toString('utf8') === e)) assert.equal(back, s, `round trip of ${JSON.stringify(s)}`);
    }
  });

  test('rfc3339Nano writes what Go writes: nine-digit fraction without trailing zeros, none on a whole second', () => {
    assert.equal(rfc3339Nano(1674981774368135592n), '2023-01-29T08:42:54.368135592Z');
    assert.equal(rfc3339Nano(1674984011366000000n), '2023-01-29T09:20:11.366Z');
    assert.equal(rfc3339Nano(1674984011000000010n), '2023-01-29T09:20:11.00000001Z');
    assert.equal(rfc3339Nano(1674984011000000000n), '2023-01-29T09:20:11Z');
    assert.equal(rfc3339Nano(0n), '1970-01-01T00:00:00Z');
    assert.equal(rfc3339Nano((1n << 64n) - 1n), '2554-07-21T23:34:33.709551615Z');
    const rng = new Rng(0x3339);
    for (let i = 0; i < 2000; i++) {
      const t = BigInt(rng.int(2 ** 31)) * 1_000_000_000n + BigInt(rng.int(4) === 0 ? rng.int(10) * 100_000_000 : rng.int(1_000_000_000));
      const ms = Number(t / 1_000_000n);
      const frac = String(t % 1_000_000_000n).padStart(9, '0').replace(/0+$/, '');
      assert.equal(rfc3339Nano(t), new Date(ms).toISOString().slice(0, 19) + (frac ? '.' + frac : '') + 'Z', `time ${t}`);
    }
  });

  test('jsonEscaped writes what Go writes (encoding/json, HTML-safe) and reads back with JSON.parse', () => {
    assert.equal(jsonEscaped('plain text, no escapes'), 'plain text, no escapes');
    // Lines as Docker (Go 1.22+) wrote them.
    assert.equal(jsonEscaped('result is <200,"OK">\n'), 'result is \\u003c200,\\"OK\\"\\u003e\\n');
    assert.equal(jsonEscaped('a & b\tc\\d\r'), 'a \\u0026 b\\tc\\\\d\\r');
    assert.equal(jsonEscaped('\b\f\u0000\u001f\u007f'), '\\b\\f\\u0000\\u001f\u007f');
    assert.equal(jsonEscaped('line\u2028sep\u2029é😀'), 'line\\u2028sep\\u2029é😀');
    assert.equal(jsonEscaped('lone \ud800 surrogate'), 'lone \\ud800 surrogate'); // alone or beside other escapes
    assert.equal(jsonEscaped('lone \udc00 "surrogate"'), 'lone \\udc00 \\"surrogate\\"');
    const rng = new Rng(0x15);
    const alphabet = ['a', ' ', '"', '\\', '<', '>', '&', '\n', '\r', '\t', '\b', '\f', '\u0000', '\u001f', '\u007f', 'é', '\u2028', '\u2029', '😀', 'b\\b', '\\u003c'];
    for (let i = 0; i < 3000; i++) {
      let s = '';
      for (let k = rng.int(20); k > 0; k--) s += alphabet[rng.int(alphabet.length)]!;
      const e = jsonEscaped(s);
      assert.equal(JSON.parse(`"${e}"`), s, JSON.stringify(s));
      assert.ok(!/[<>&\u0000-\u001f\u2028\u2029]/.test(e), `nothing HTML-unsafe or raw control left in ${JSON.stringify(e)}`);
    }
  });

  test('a Docker json-file log line is sent as its own text around four references', () => {
    const traceHex = '9bd72d837371fe1b33bd1ab5c2e51e85';
    const spanHex = '86a242c348d57043';
    const time = 1674981774368135592n;
    const body = '[getLeftTicketOfInterval][result is <200,Response(status=0, msg="Seat is Null.")>]';
    const original = `{"log":"16:42:54.367 INFO  s.s.SeatServiceImpl#166 TraceID: ${traceHex} SpanID: ${spanHex} ${jsonEscaped(body)}\\n","stream":"stdout","time":"${rfc3339Nano(time)}"}`;
    const sent = substituteIds(original, traceHex, spanHex, [body], time);
    assert.equal(sent, '{"log":"16:42:54.367 INFO  s.s.SeatServiceImpl#166 TraceID: \u0000t SpanID: \u0000s \u0000\u00a0\\n","stream":"stdout","time":"\u0000e"}');
    assert.equal(expand(sent, () => new IdHexContext(traceHex, spanHex), [body], time), original);
    // The time is an event's: elsewhere (span attributes) the reference points nowhere.
    assert.equal(expand(sent, () => new IdHexContext(traceHex, spanHex), [body]), undefined);
    // A reference to an earlier value that is not there is malformed in both forms.
    assert.equal(expand('x\u0000\u00a1', () => new IdHexContext(traceHex, spanHex), [body], time), undefined);
    assert.equal(expand('x\u0000\u00ba', () => new IdHexContext(traceHex, spanHex), Array(30).fill(body), time), undefined);
  });

  test('RepeatSearch: a column that keeps missing is searched on one string in 16, and on every string again after a hit', () => {
    const traceHex = hex(Uint8Array.from({ length: 16 }, (_, i) => i + 1));
    const spanHex = hex(Uint8Array.from({ length: 8 }, (_, i) => i + 100));
    const search = new RepeatSearch();
    const referenced = (s: string) => {
      const w = new ByteWriter(16);
      substituteInto(w, s, traceHex, spanHex, [], 0, undefined, search);
      const sent = new ByteReader(w.finish()).string();
      assert.equal(expand(sent, () => new IdHexContext(traceHex, spanHex), []), s, 'lossless whatever is searched');
      return sent.includes('\u0000t');
    };
    for (let i = 0; i < 100; i++) referenced(`a message without ids, number ${i}`);
    const hits: boolean[] = [];
    for (let i = 0; i < 40; i++) hits.push(referenced(`TraceID: ${traceHex} message ${i}`));
    const first = hits.indexOf(true);
    assert.ok(first >= 0 && first < 16, `a probe finds the id within 16 strings (at ${first})`);
    assert.ok(hits.slice(first).every(Boolean), 'every string after the hit is searched');
  });
});
