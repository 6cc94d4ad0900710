// The encoder finds a parent among its trace's remembered spans by 30 bits of the parent's id,
// then compares all 8 bytes (traces.ts, EncoderSpans). Ids that share those bits, ids that repeat,
// ids of other lengths (raw spans) and traces longer than the remembered window must all still give
// the same references as ids that never collide: checked by round trips and by the frames'
// payload sizes, which depend on the references and not on the ids' values.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TracezipDecoder, TracezipEncoder, readFrameHeader } from '../../src/tracezip/index.js';
import { EncoderSpans, idHash } from '../../src/tracezip/traces.js';
import { TRACE_SPANS_KEPT } from '../../src/tracezip/format.js';
import { Rng } from '../helpers/arbitrary.js';
import { batchOf, expectData, sp } from '../helpers/tracezip.js';
import type { Span } from '../../src/model/index.js';

/** An 8-byte id whose 30-bit hash equals `target`'s, differing in its last four bytes (from `salt`). */
function collidingWith(target: Uint8Array, salt: number): Uint8Array {
  const id = new Uint8Array(8);
  const dv = new DataView(id.buffer);
  const hi = (Math.imul(salt + 1, 0x2545f491) ^ 0x5bd1e995) >>> 0;
  dv.setUint32(4, hi, true);
  const tdv = new DataView(target.buffer, target.byteOffset, 8);
  const tlo = tdv.getUint32(0, true);
  const thi = tdv.getUint32(4, true);
  // lo ^ imul(hi, K) must equal tlo ^ imul(thi, K) in the low 30 bits.
  const lo = (tlo ^ Math.imul(thi, 0x9e3779b1) ^ Math.imul(hi, 0x9e3779b1)) >>> 0;
  dv.setUint32(0, lo, true);
  return id;
}

function randomId(rng: Rng, n = 8): Uint8Array {
  return Uint8Array.from({ length: n }, () => rng.int(256));
}

/** A long trace in frames: every span's parent is a random earlier span (often beyond the window). */
function trace(ids: Uint8Array[], rng: Rng): Span[][] {
  const spans = ids.map((id, i) => {
    const s = sp({ trace: 7, id: i + 1, startTimeUnixNano: 1_700_000_000_000_000_000n + BigInt(i) * 1000n });
    s.spanId = id;
    if (i > 0) s.parentSpanId = ids[Math.max(0, i - 1 - rng.int(Math.min(i, TRACE_SPANS_KEPT + 60)))]!;
    return s;
  });
  const frames: Span[][] = [];
  for (let at = 0; at < spans.length; ) {
    const n = 1 + rng.int(40);
    frames.push(spans.slice(at, at + n));
    at += n;
  }
  return frames;
}

describe('encoder parent lookup by id hash', () => {
  test('colliding, repeated and odd-length ids give exactly the references of distinct ids', () => {
    const count = 3 * TRACE_SPANS_KEPT;
    const rng = new Rng(0xc011);
    const plain: Uint8Array[] = [];
    const tricky: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const base = randomId(rng);
      plain.push(base);
      const r = rng.int(10);
      if (r < 4 && i > 0) tricky.push(collidingWith(tricky[rng.int(i)]!, i)); // shares the hash of an earlier id
      else if (r === 4 && i > 0) tricky.push(tricky[rng.int(i)]!.slice()); // repeats an earlier id
      else tricky.push(base);
    }
    // Repeated ids must repeat at the same places in the plain run for the references to match.
    for (let i = 0; i < count; i++) {
      const j = tricky.findIndex((t) => t.length === tricky[i]!.length && t.every((b, k) => b === tricky[i]![k]));
      if (j < i) plain[i] = plain[j]!;
    }
    // Odd lengths (raw spans) in both runs at the same places.
    for (let i = 5; i < count; i += 97) plain[i] = tricky[i] = randomId(rng, 5);
    for (const id of tricky) if (id.length === 8) assert.ok(idHash(id) >= 0 && idHash(id) < 2 ** 30);
    let collisions = 0;
    const seen = new Set<number>();
    for (const id of tricky) if (id.length === 8) (seen.has(idHash(id)) ? collisions++ : seen.add(idHash(id)));
    assert.ok(collisions > count / 4, `only ${collisions} ids share a hash`);

    const sizes: number[][] = [];
    for (const ids of [plain, tricky]) {
      const frames = trace(ids, new Rng(0x7ace));
      const enc = new TracezipEncoder({ compression: 'none' });
      const dec = new TracezipDecoder();
      const got: number[] = [];
      frames.forEach((f, k) => {
        const b = batchOf(f);
        const frame = enc.encode(b);
        got.push(readFrameHeader(frame).payloadLength); // not the frame's: its epoch is random
        expectData(dec, frame, b, `frame ${k}`);
      });
      sizes.push(got);
    }
    assert.deepEqual(sizes[1], sizes[0]);
  });

  test('EncoderSpans against a plain map: ids that share hash bits or table slots, repeats, forgetting the oldest', () => {
    const rng = new Rng(0x51075);
    for (let round = 0; round < 30; round++) {
      const spans = new EncoderSpans();
      const model = new Map<string, number>(); // hex id -> newest ordinal
      const byOrdinal: Uint8Array[] = [];
      const pool: Uint8Array[] = [];
      const max = 8 + rng.int(60);
      for (let frame = 0; frame < 40; frame++) {
        const n = 1 + rng.int(20);
        for (let k = 0; k < n; k++) {
          const pick = rng.int(10);
          const id = pool.length > 0 && pick < 3 ? pool[rng.int(pool.length)]! : pool.length > 0 && pick < 5 && pool[pool.length - 1]!.length === 8 ? collidingWith(pool[pool.length - 1]!, rng.int(1000)) : randomId(rng, rng.int(20) === 0 ? 4 : 8);
          pool.push(id);
          const ordinal = spans.trimmed + spans.starts.length + spans.frameCount;
          spans.addFrameSpan(id, BigInt(ordinal));
          byOrdinal[ordinal] = id;
        }
        const first = spans.trimmed + spans.starts.length;
        for (let k = 0; k < spans.frameCount; k++) {
          spans.set(byOrdinal[first + k]!, first + k);
          model.set(Buffer.from(byOrdinal[first + k]!).toString('hex') + ':' + byOrdinal[first + k]!.length, first + k);
        }
        spans.commit(max);
        for (const [key, ordinal] of model) if (ordinal < spans.trimmed) model.delete(key);
        for (const id of pool) {
          const want = model.get(Buffer.from(id).toString('hex') + ':' + id.length);
          assert.equal(spans.get(id), want, `round ${round} frame ${frame}: id ${Buffer.from(id).toString('hex')}`);
        }
      }
    }
  });
});
