// Faults on the way from encoder to decoder. Each must give a typed answer (a TracezipFrameError of
// a known kind, or a `resync-needed` / `duplicate` result), never a wrong span, a crash or a hang,
// and a frame that is refused must leave the stream's state exactly as it was (the next valid frame
// still decodes exactly):
// - sync faults: a dropped frame, reordered frames, a duplicated frame, a decoder restart, an
//   encoder restart with the same stream id, stale frames of an epoch the stream has left, a valid
//   frame of another stream;
// - corrupted bytes: bit flips anywhere (checksum intact, so the CRC must catch them), truncation at
//   every offset, garbage, and - with the CRC-32C recomputed after the damage and compression
//   'none', so that the codec's own structural checks are what stands between the damage and a
//   wrong span - bit flips, byte edits, truncated payloads and rewritten header fields.
// With the CRC patched, some damage changes content the format cannot tell from real content (a bit
// of a span id, a time delta, a dictionary string): such a frame may decode to a different message,
// which must still be well-formed (OTLP and Tracezip round trips leave it unchanged). Those are
// counted and printed; any other exception, or an altered message that is not well-formed, fails.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TracezipDecoder, TracezipEncoder, TracezipFrameError, readFrameHeader, type Compression } from '../../src/tracezip/index.js';
import { collectTraffic, defaultFaultScenario } from '../../src/generator/index.js';
import { diffTracesData, type TracesData } from '../../src/model/index.js';
import { Rng } from '../helpers/arbitrary.js';
import { rfc3339Nano } from '../../src/tracezip/context.js';
import {
  T0,
  appendCrc,
  batchOf,
  compressBody,
  decodeOutcome,
  describeOutcome,
  ev,
  expectData,
  expectResync,
  kv,
  openFrame,
  outcomeKey,
  patchCrc,
  recut,
  reframe,
  rewriteHeader,
  sp,
  wellFormedProblem,
  writeRawFrame,
  type Outcome,
} from '../helpers/tracezip.js';

const traffic = collectTraffic({ seed: 51, traces: 300, faults: defaultFaultScenario(3), batchSpans: 256 }).batches;

interface Scenario {
  name: string;
  batches: TracesData[];
  frames: Uint8Array[];
}

/** A stream of `n` small batches (a few spans each, traces straddling frames) from one encoder. */
function scenario(name: string, compression: Compression, seed: number, n: number, min = 2, max = 5): Scenario {
  const rng = new Rng(seed);
  const batches = recut(traffic, (k) => rng.int(k), min, max).slice(0, n);
  const enc = new TracezipEncoder({ compression, streamId: BigInt(seed) });
  return { name, batches, frames: batches.map((b) => enc.encode(b)) };
}

/** A decoder that has applied frames 0..k-1 of the scenario (each checked). */
function primed(sc: Scenario, k: number): TracezipDecoder {
  const dec = new TracezipDecoder();
  for (let i = 0; i < k; i++) expectData(dec, sc.frames[i]!, sc.batches[i]!, `${sc.name}: priming frame ${i}`);
  return dec;
}

class Tally {
  readonly counts = new Map<string, number>();
  changed = 0;
  add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  get total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
  toString(): string {
    return [...this.counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  }
}

/**
 * Feeds `mutated` in place of frame k of the scenario (to a decoder primed with frames 0..k-1) and
 * checks the rules. `mustFail`: the damage is one the checksum must catch (no data may come out).
 */
function checkMutation(sc: Scenario, k: number, mutated: Uint8Array, tally: Tally, label: string, mustFail = false): Outcome {
  const dec = primed(sc, k);
  const o = decodeOutcome(dec, mutated);
  if (o.kind === 'exception') assert.fail(`${label}: ${describeOutcome(o)}`);
  if (mustFail && o.kind !== 'error') assert.fail(`${label}: damage the checksum must catch was not refused: ${describeOutcome(o)}`);
  if (o.kind === 'data') {
    const d = diffTracesData(o.data, sc.batches[k]!);
    if (d === undefined) tally.add('data (exact)');
    else {
      // Undetectable by design only when it is a well-formed message in its own right.
      const p = wellFormedProblem(o.data);
      if (p) assert.fail(`${label}: decoded to an altered message (${d}) that is not well-formed: ${p}`);
      tally.add('data (altered, well-formed)');
      tally.changed++;
    }
    return o;
  }
  tally.add(outcomeKey(o));
  // Refused: the stream's state is untouched, so the real frame k and the next one decode exactly.
  expectData(dec, sc.frames[k]!, sc.batches[k]!, `${label}: the real frame ${k} after the refused one`);
  if (k + 1 < sc.frames.length) expectData(dec, sc.frames[k + 1]!, sc.batches[k + 1]!, `${label}: frame ${k + 1} after the refused one`);
  return o;
}

const small = scenario('traffic/none', 'none', 0xfa01, 4);
const smallZstd = scenario('traffic/zstd', 'zstd', 0xfa02, 3);
const smallGzip = scenario('traffic/gzip', 'gzip', 0xfa03, 3);

describe('sync faults', () => {
  const sc = scenario('sync', 'none', 0xf001, 12, 3, 30);

  test('a dropped frame: the next frames answer gap; after encoder.resync() the lost and later batches decode exactly; old frames are stale', () => {
    for (let drop = 1; drop < 8; drop++) {
      const enc = new TracezipEncoder({ compression: 'none', streamId: 9n });
      const dec = new TracezipDecoder();
      const frames = sc.batches.slice(0, drop + 2).map((b) => enc.encode(b));
      for (let i = 0; i < drop; i++) expectData(dec, frames[i]!, sc.batches[i]!, `drop ${drop}: frame ${i}`);
      // frame `drop` is lost; the two after it arrive.
      expectResync(dec, frames[drop + 1]!, 'gap', `drop ${drop}: frame ${drop + 1} after the lost one`);
      expectResync(dec, frames[drop + 1]!, 'gap', `drop ${drop}: the same frame again`);
      enc.resync();
      for (let i = drop; i < sc.batches.length; i++) expectData(dec, enc.encode(sc.batches[i]!), sc.batches[i]!, `drop ${drop}: batch ${i} re-encoded after the resync`);
      // The lost frame and its successor turn up late: the epoch they belong to is over.
      expectResync(dec, frames[drop]!, 'stale-epoch', `drop ${drop}: the lost frame, late`);
      expectResync(dec, frames[drop + 1]!, 'stale-epoch', `drop ${drop}: its successor, late`);
    }
  });

  test('a dropped epoch-start frame: the next frame answers unknown-stream, then recovery after resync', () => {
    const enc = new TracezipEncoder({ compression: 'none', streamId: 10n });
    const dec = new TracezipDecoder();
    enc.encode(sc.batches[0]!); // lost
    expectResync(dec, enc.encode(sc.batches[1]!), 'unknown-stream', 'frame 1 without frame 0');
    enc.resync();
    for (let i = 0; i < 6; i++) expectData(dec, enc.encode(sc.batches[i]!), sc.batches[i]!, `batch ${i} after resync`);
    // A lost epoch start of a later epoch: the decoder still has the old epoch.
    enc.resync();
    enc.encode(sc.batches[6]!); // lost
    expectResync(dec, enc.encode(sc.batches[7]!), 'epoch-mismatch', 'frame of an epoch whose start was lost');
    enc.resync();
    expectData(dec, enc.encode(sc.batches[7]!), sc.batches[7]!, 'after the second resync');
  });

  test('reordered frames: a frame ahead of its turn answers gap and changes nothing; delivered again in order, everything decodes exactly', () => {
    const rng = new Rng(0x7e0);
    for (let trial = 0; trial < 30; trial++) {
      const dec = new TracezipDecoder();
      const order = sc.frames.map((_, i) => i);
      // Local reordering: random adjacent swaps.
      for (let s = 0; s < 6; s++) {
        const i = rng.int(order.length - 1);
        [order[i], order[i + 1]] = [order[i + 1]!, order[i]!];
      }
      const pending = new Set<number>();
      let next = 0;
      for (const i of order) {
        pending.add(i);
        // Receiver: offers every pending frame; keeps what answers gap for later.
        for (let progress = true; progress; ) {
          progress = false;
          for (const j of [...pending].sort((a, b) => a - b)) {
            const o = decodeOutcome(dec, sc.frames[j]!);
            if (o.kind === 'data') {
              assert.equal(j, next, `trial ${trial}: frame ${j} applied in order`);
              assert.equal(diffTracesData(o.data, sc.batches[j]!), undefined, `trial ${trial}: frame ${j}`);
              pending.delete(j);
              next++;
              progress = true;
            } else if (o.kind === 'resync-needed') {
              assert.equal(o.reason, next === 0 ? 'unknown-stream' : 'gap', `trial ${trial}: frame ${j} ahead of its turn`);
            } else assert.fail(`trial ${trial}: frame ${j}: ${describeOutcome(o)}`);
          }
        }
      }
      assert.equal(next, sc.frames.length, `trial ${trial}: every frame applied`);
    }
  });

  test('a duplicated frame answers duplicate (any frame, any number of times, late or at once) and changes nothing', () => {
    const rng = new Rng(0xd0b);
    for (let trial = 0; trial < 20; trial++) {
      const dec = new TracezipDecoder();
      for (let i = 0; i < sc.frames.length; i++) {
        expectData(dec, sc.frames[i]!, sc.batches[i]!, `trial ${trial}: frame ${i}`);
        for (let d = rng.int(3); d > 0; d--) {
          const j = rng.bool(0.5) ? i : rng.int(i + 1);
          const o = decodeOutcome(dec, sc.frames[j]!);
          assert.equal(o.kind, 'duplicate', `trial ${trial}: frame ${j} again after frame ${i}: ${describeOutcome(o)}`);
          assert.equal(o.kind === 'duplicate' && o.result.seq, readFrameHeader(sc.frames[j]!).seq);
        }
      }
    }
  });

  test('duplicates long after: 100 frames into an epoch, a copy of any earlier frame (also the epoch start) answers duplicate and changes nothing', () => {
    const enc = new TracezipEncoder({ compression: 'none', streamId: 16n });
    const batches = Array.from({ length: 100 }, (_, i) => batchOf([sp({ trace: 1 + (i >> 3), id: 1 + i, parent: i % 8 === 0 ? undefined : i })]));
    const fs = batches.map((b) => enc.encode(b));
    const dec = new TracezipDecoder();
    fs.forEach((f, i) => expectData(dec, f, batches[i]!, `frame ${i}`));
    const problems: string[] = [];
    for (const k of [0, 1, 2, 30, 35, 36, 50, 98, 99]) {
      const o = decodeOutcome(dec, fs[k]!);
      if (o.kind !== 'duplicate') problems.push(`a copy of frame ${k}: ${describeOutcome(o)}`);
    }
    const next = batchOf([sp({ trace: 99, id: 1000 })]);
    const o = decodeOutcome(dec, enc.encode(next));
    if (o.kind !== 'data' || diffTracesData(o.data, next) !== undefined) problems.push(`the next live frame: ${describeOutcome(o)}`);
    assert.deepEqual(problems, []);
  });

  test('decoder restart: the new decoder answers unknown-stream; after resync the stream decodes exactly', () => {
    const enc = new TracezipEncoder({ compression: 'zstd', streamId: 11n });
    let dec = new TracezipDecoder();
    for (let i = 0; i < sc.batches.length; i++) {
      if (i === 4 || i === 9) {
        dec = new TracezipDecoder(); // restart: all state lost
        expectResync(dec, enc.encode(sc.batches[i]!), 'unknown-stream', `frame ${i} to the restarted decoder`);
        enc.resync();
      }
      expectData(dec, enc.encode(sc.batches[i]!), sc.batches[i]!, `batch ${i}`);
    }
  });

  test('dropStream() (an operator or eviction forgets the stream): unknown-stream, then recovery', () => {
    const enc = new TracezipEncoder({ compression: 'none', streamId: 12n });
    const dec = new TracezipDecoder();
    expectData(dec, enc.encode(sc.batches[0]!), sc.batches[0]!, 'frame 0');
    dec.dropStream(12n);
    expectResync(dec, enc.encode(sc.batches[1]!), 'unknown-stream', 'after dropStream');
    enc.resync();
    expectData(dec, enc.encode(sc.batches[1]!), sc.batches[1]!, 'after resync');
  });

  test('encoder restart with the same stream id: the new encoder is accepted as a new epoch, 200 times over; the old encoder is then refused', () => {
    const rng = new Rng(0xe5e);
    const dec = new TracezipDecoder();
    let enc = new TracezipEncoder({ compression: 'none', streamId: 13n });
    let k = 0;
    const batch = (): TracesData => sc.batches[k++ % sc.batches.length]!;
    for (let restart = 0; restart < 200; restart++) {
      for (let i = rng.int(3); i > 0; i--) {
        const b = batch();
        expectData(dec, enc.encode(b), b, `restart ${restart}: frame before the restart`);
      }
      const old = enc;
      enc = new TracezipEncoder({ compression: 'none', streamId: 13n });
      const b = batch();
      expectData(dec, enc.encode(b), b, `restart ${restart}: first frame of the restarted encoder`);
      // A frame the old encoder had in flight: not applied.
      const o = decodeOutcome(dec, old.encode(batch()));
      assert.ok(o.kind === 'resync-needed' && (o.reason === 'stale-epoch' || o.reason === 'epoch-mismatch'), `restart ${restart}: old encoder's frame: ${describeOutcome(o)}`);
    }
  });

  test('encoder restart whose random epoch equals the old epoch (forced): never answered duplicate with its data dropped, never a wrong span', () => {
    // The epoch of a restarted encoder is random (31 bits), so it can equal the epoch the decoder
    // holds for the stream. Forced here by rewriting the new encoder's frames to that epoch (CRC
    // recomputed: these are exactly the frames such an encoder would send).
    const dec = new TracezipDecoder();
    const old = new TracezipEncoder({ compression: 'none', streamId: 14n });
    const names = (p: string, i: number): TracesData => batchOf([sp({ trace: 900 + i, id: 900 + i, name: `${p}${i % 3}` })]);
    for (let i = 0; i < 3; i++) expectData(dec, old.encode(names('old-', i)), names('old-', i), `old encoder frame ${i}`);
    const restarted = new TracezipEncoder({ compression: 'none', streamId: 14n });
    const problems: string[] = [];
    for (let i = 0; i < 5; i++) {
      const b = names('new-', i);
      const o = decodeOutcome(dec, rewriteHeader(restarted.encode(b), { epoch: old.epoch }));
      if (o.kind === 'duplicate') problems.push(`frame ${i}: answered duplicate (its spans are dropped)`);
      else if (o.kind === 'data' && diffTracesData(o.data, b)) problems.push(`frame ${i}: WRONG SPANS: ${diffTracesData(o.data, b)}`);
      else if (o.kind === 'error' || o.kind === 'exception') problems.push(`frame ${i}: ${describeOutcome(o)}`);
    }
    assert.deepEqual(problems, []);
  });

  test('stale epochs: every frame of an epoch the stream has left is refused, also its epoch-start frame, also 20 epochs later', () => {
    const enc = new TracezipEncoder({ compression: 'none', streamId: 15n });
    const dec = new TracezipDecoder();
    const byEpoch: { start: Uint8Array; rest: Uint8Array[] }[] = [];
    for (let e = 0; e < 24; e++) {
      if (e > 0) enc.resync();
      const frames = [0, 1, 2].map((j) => enc.encode(sc.batches[(e + j) % sc.batches.length]!));
      frames.forEach((f, j) => expectData(dec, f, sc.batches[(e + j) % sc.batches.length]!, `epoch ${e} frame ${j}`));
      byEpoch.push({ start: frames[0]!, rest: frames.slice(1) });
    }
    const problems: string[] = [];
    byEpoch.slice(0, -1).forEach((ep, e) => {
      for (const [j, f] of [ep.start, ...ep.rest].entries()) {
        const o = decodeOutcome(dec, f);
        if (o.kind !== 'resync-needed') problems.push(`epoch ${e} (of 24) frame ${j}: ${describeOutcome(o)}`);
      }
    });
    // The live epoch still decodes: nothing stale was applied.
    const b = sc.batches[5]!;
    const o = decodeOutcome(dec, enc.encode(b));
    if (o.kind !== 'data' || diffTracesData(o.data, b)) problems.push(`the live epoch after the stale frames: ${describeOutcome(o)}`);
    assert.deepEqual(problems, []);
  });

  test('a valid frame of another stream in the middle of a stream: handled as that stream, this stream untouched', () => {
    const other = scenario('other', 'none', 0xf002, 3);
    const dec = primed(sc, 3);
    expectResync(dec, other.frames[1]!, 'unknown-stream', 'a mid-epoch frame of an unknown stream');
    expectData(dec, other.frames[0]!, other.batches[0]!, 'the other stream starts');
    expectData(dec, sc.frames[3]!, sc.batches[3]!, 'this stream continues');
    expectData(dec, other.frames[1]!, other.batches[1]!, 'the other stream continues');
    expectData(dec, sc.frames[4]!, sc.batches[4]!, 'this stream continues again');
    assert.equal(dec.streamCount, 2);
  });
});

describe('corrupted bytes', () => {
  test('bit flips anywhere with the checksum left as it was: always a TracezipFrameError (every bit of three frames, 1-3 flips at random)', () => {
    const tally = new Tally();
    for (const sc of [small, smallZstd]) {
      for (const k of [0, 2]) {
        const f = sc.frames[k]!;
        for (let bit = 0; bit < f.length * 8; bit++) {
          const m = new Uint8Array(f);
          m[bit >> 3]! ^= 1 << (bit & 7);
          checkMutation(sc, k, m, tally, `${sc.name} frame ${k} bit ${bit}`, true);
        }
      }
    }
    const rng = new Rng(0xb17);
    for (let i = 0; i < 2000; i++) {
      const sc = rng.pick([small, smallZstd, smallGzip]);
      const k = rng.int(sc.frames.length);
      const m = new Uint8Array(sc.frames[k]!);
      const bits = new Set<number>();
      for (let n = rng.range(2, 3); bits.size < n; ) bits.add(rng.int(m.length * 8)); // distinct: no flip undoes another
      for (const bit of bits) m[bit >> 3]! ^= 1 << (bit & 7);
      checkMutation(sc, k, m, tally, `${sc.name} frame ${k} random flips #${i}`, true);
    }
    console.log(`  bit flips, CRC kept: ${tally.total} cases: ${tally}`);
  });

  test('truncation at every offset (frame cut short as is, and with a checksum recomputed over the rest): always a TracezipFrameError', () => {
    const tally = new Tally();
    for (const sc of [small, smallZstd, smallGzip]) {
      for (const k of [0, 1]) {
        const f = sc.frames[k]!;
        for (let len = 0; len < f.length; len++) {
          checkMutation(sc, k, f.slice(0, len), tally, `${sc.name} frame ${k} cut to ${len} bytes`, true);
          // The checksum recomputed over what is left: the header's body length gives it away.
          if (len >= 4) checkMutation(sc, k, appendCrc(f.slice(0, len - 4)), tally, `${sc.name} frame ${k} cut to ${len} bytes, CRC patched`, true);
        }
      }
    }
    console.log(`  truncated frames: ${tally.total} cases: ${tally}`);
  });

  test('garbage: random bytes, uniform bytes, random bytes behind a valid header, a frame glued to another', () => {
    const tally = new Tally();
    const rng = new Rng(0x9a9);
    const sc = small;
    for (let i = 0; i < 1500; i++) {
      const n = rng.bool(0.7) ? rng.int(64) : rng.int(3000);
      const r = rng.int(4);
      let g: Uint8Array;
      if (r === 0) g = rng.bytes(n);
      else if (r === 1) g = new Uint8Array(n).fill(rng.pick([0, 0xff, 0x80, 0x54]));
      else if (r === 2) {
        // "TZ", version 2, any flags, then random: the checksum catches it (or the header does).
        g = rng.bytes(Math.max(n, 20));
        g.set([0x54, 0x5a, 2]);
      } else g = new Uint8Array([...sc.frames[0]!, ...sc.frames[1]!]);
      checkMutation(sc, 1, g, tally, `garbage #${i}`, true);
    }
    // Random payloads behind a valid header and checksum: only the payload parser stands in the way.
    for (let i = 0; i < 3000; i++) {
      const { fields } = openFrame(sc.frames[1]!);
      const payload = rng.bytes(rng.bool(0.5) ? rng.int(40) : rng.int(2000));
      checkMutation(sc, 1, reframe(fields, payload), tally, `random payload #${i}`);
    }
    console.log(`  garbage: ${tally.total} cases: ${tally}`);
  });

  test('CRC patched, compression none: every single-bit flip of the header and payload of an epoch start and a mid-epoch frame', () => {
    const tally = new Tally();
    for (const k of [0, 1, 3]) {
      const f = small.frames[k]!;
      for (let bit = 0; bit < (f.length - 4) * 8; bit++) {
        const m = new Uint8Array(f);
        m[bit >> 3]! ^= 1 << (bit & 7);
        checkMutation(small, k, patchCrc(m), tally, `frame ${k} bit ${bit} (CRC patched)`);
      }
    }
    console.log(`  bit flips, CRC patched: ${tally.total} cases: ${tally}; ${tally.changed} altered but well-formed (undetectable by design)`);
  });

  test('CRC patched, compression none: byte edits at every offset of the payload (overwrite, insert, delete), re-framed with true lengths', () => {
    const tally = new Tally();
    for (const k of [0, 2]) {
      const { fields, payload } = openFrame(small.frames[k]!);
      for (let at = 0; at <= payload.length; at++) {
        const variants: [string, Uint8Array][] = [];
        for (const v of [0x00, 0x7f, 0x80, 0xff]) {
          if (at < payload.length && payload[at] !== v) {
            const m = new Uint8Array(payload);
            m[at] = v;
            variants.push([`byte ${at} := 0x${v.toString(16)}`, m]);
          }
        }
        variants.push([`insert 0x80 at ${at}`, new Uint8Array([...payload.subarray(0, at), 0x80, ...payload.subarray(at)])]);
        if (at < payload.length) variants.push([`delete byte ${at}`, new Uint8Array([...payload.subarray(0, at), ...payload.subarray(at + 1)])]);
        variants.push([`payload cut to ${at}`, payload.slice(0, at)]);
        for (const [what, m] of variants) checkMutation(small, k, reframe(fields, m), tally, `frame ${k}: ${what}`);
      }
    }
    console.log(`  payload edits: ${tally.total} cases: ${tally}; ${tally.changed} altered but well-formed`);
  });

  test('CRC patched: compressed bodies damaged (zstd, gzip): a compression error or a well-formed message', () => {
    const tally = new Tally();
    const rng = new Rng(0xc0);
    for (const sc of [smallZstd, smallGzip]) {
      for (const k of [0, 1]) {
        const f = sc.frames[k]!;
        const h = readFrameHeader(f);
        for (let i = 0; i < 600; i++) {
          const m = new Uint8Array(f);
          const r = rng.int(3);
          if (r === 0) m[h.bodyStart + rng.int(h.bodyLength)]! ^= 1 << rng.int(8);
          else if (r === 1) m[h.bodyStart + rng.int(h.bodyLength)] = rng.int(256);
          else for (let j = rng.int(6) + 1; j > 0; j--) m[h.bodyStart + rng.int(h.bodyLength)]! ^= 1 << rng.int(8);
          checkMutation(sc, k, patchCrc(m), tally, `${sc.name} frame ${k} body damage #${i}`);
        }
        // The body swapped for one of the other method, and declared sizes that lie.
        const { fields, payload } = openFrame(f);
        for (const c of ['none', 'zstd', 'gzip'] as const) {
          if (c === fields.compression) continue;
          checkMutation(sc, k, writeRawFrame(fields, compressBody(payload, c), payload.length), tally, `${sc.name} frame ${k} body compressed with ${c}, header says ${fields.compression}`);
        }
        for (const delta of [-1, 1, 1000, 1 << 20]) {
          checkMutation(sc, k, writeRawFrame({ ...fields, payloadLength: payload.length + delta }, f.subarray(h.bodyStart, h.bodyStart + h.bodyLength), payload.length), tally, `${sc.name} frame ${k} payload length off by ${delta}`);
        }
      }
    }
    console.log(`  compressed-body damage: ${tally.total} cases: ${tally}; ${tally.changed} altered but well-formed`);
  });

  test('CRC patched: header fields rewritten (flags, version, stream id, epoch, seq, lengths)', () => {
    const tally = new Tally();
    for (const sc of [small, smallZstd]) {
      for (const k of [0, 1, 2]) {
        const f = sc.frames[k]!;
        const { fields, payload } = openFrame(f);
        const h = readFrameHeader(f);
        const body = f.subarray(h.bodyStart, h.bodyStart + h.bodyLength);
        const cases: [string, Uint8Array][] = [];
        for (let flags = 0; flags < 256; flags++) cases.push([`flags 0x${flags.toString(16)}`, writeRawFrame({ ...fields, flags }, body, payload.length)]);
        for (const version of [0, 1, 3, 255]) cases.push([`version ${version}`, writeRawFrame({ ...fields, version }, body, payload.length)]);
        for (const streamId of [0n, fields.streamId + 1n, (1n << 64n) - 1n]) cases.push([`stream id ${streamId}`, reframe({ ...fields, streamId }, payload)]);
        for (const epoch of [0, fields.epoch + 1, fields.epoch - 1, 2 ** 31, 2 ** 53 - 1]) cases.push([`epoch ${epoch}`, reframe({ ...fields, epoch: Math.max(0, epoch) }, payload)]);
        for (const seq of [0, 1, 2, 3, fields.seq + 1, 2 ** 40]) cases.push([`seq ${seq}`, reframe({ ...fields, seq }, payload)]);
        for (const d of [-2, -1, 1, 2]) {
          cases.push([`payload length ${d}`, writeRawFrame({ ...fields, payloadLength: payload.length + d }, body, payload.length)]);
          cases.push([`body length ${d}`, writeRawFrame({ ...fields, bodyLength: body.length + d }, body, payload.length)]);
        }
        cases.push(['payload length 2^32', writeRawFrame({ ...fields, payloadLength: 2 ** 32 }, body, payload.length)]);
        cases.push(['payload length 2^53', writeRawFrame({ ...fields, payloadLength: 2 ** 53 - 1 }, body, payload.length)]);
        for (const [what, m] of cases) checkMutation(sc, k, m, tally, `${sc.name} frame ${k}: ${what}`);
      }
    }
    console.log(`  header rewrites: ${tally.total} cases: ${tally}; ${tally.changed} altered but well-formed`);
  });

  test('CRC patched: a frame spliced from two frames, and sections moved between frames', () => {
    const tally = new Tally();
    const rng = new Rng(0x5b1);
    const other = scenario('other', 'none', 0xfa05, 4);
    for (let i = 0; i < 3000; i++) {
      const k = rng.int(small.frames.length);
      const { fields, payload } = openFrame(small.frames[k]!);
      const donor = openFrame(rng.pick([...small.frames, ...other.frames])).payload;
      const a = rng.int(payload.length + 1);
      const b = rng.int(donor.length + 1);
      const m = rng.bool(0.5)
        ? new Uint8Array([...payload.subarray(0, a), ...donor.subarray(b)])
        : new Uint8Array([...payload.subarray(0, a), ...donor.subarray(b, b + rng.int(64)), ...payload.subarray(a)]);
      checkMutation(small, k, reframe(fields, m), tally, `frame ${k} spliced at ${a} with donor bytes from ${b} (#${i})`);
    }
    console.log(`  splices: ${tally.total} cases: ${tally}; ${tally.changed} altered but well-formed`);
  });

  test('structural checks: a status code beyond int32 in a span head (CRC patched) is refused, not decoded (minimal)', () => {
    const data = batchOf([sp({ trace: 1, id: 1, status: { code: 0x7fffffff, message: '', unknownFields: undefined } })]);
    const frame = new TracezipEncoder({ compression: 'none' }).encode(data);
    const { fields, payload } = openFrame(frame);
    // The head node's status code is the zigzag varint of 0x7fffffff (fe ff ff ff 0f): make it 2^34.
    const damaged = reframe(fields, replaceUnique(payload, [0xfe, 0xff, 0xff, 0xff, 0x0f], [0x80, 0x80, 0x80, 0x80, 0x80, 0x01]));
    const o = decodeOutcome(new TracezipDecoder(), damaged);
    const code = o.kind === 'data' ? o.data.resourceSpans[0]?.scopeSpans[0]?.spans[0]?.status?.code : undefined;
    assert.ok(o.kind === 'error' && o.error.kind === 'malformed', `status code 2^34 (not an int32 enum) must be refused; got ${describeOutcome(o)}${code !== undefined ? ` with status.code ${code}` : ''}`);
  });

  test('structural checks: request-level unknown fields that are not protobuf fields (CRC patched) are refused, not decoded (minimal)', () => {
    const data: TracesData = { resourceSpans: [], unknownFields: Uint8Array.of(0xa0, 0x06, 0x01) }; // field 100, varint 1
    const frame = new TracezipEncoder({ compression: 'none' }).encode(data);
    const { fields, payload } = openFrame(frame);
    // The same three bytes made field number 0 (invalid protobuf): the decoded message would have
    // unknown fields whose OTLP encoding no protobuf parser reads.
    const damaged = reframe(fields, replaceUnique(payload, [0x03, 0xa0, 0x06, 0x01], [0x03, 0x00, 0x00, 0x00]));
    const o = decodeOutcome(new TracezipDecoder(), damaged);
    const p = o.kind === 'data' ? wellFormedProblem(o.data) : undefined;
    assert.ok(o.kind === 'error' && o.error.kind === 'malformed', `unknown fields 00 00 00 must be refused; got ${describeOutcome(o)}${p ? ` (${p})` : ''}`);
  });

  test('structural checks: a residual string ending in a reference mark with no reference code (CRC patched) is refused, not decoded (minimal)', () => {
    const data = batchOf([sp({ trace: 1, id: 1, attributes: [kv('k', 'abcd\u0000e')] })]);
    const frame = new TracezipEncoder({ compression: 'none', templateValueLimit: 0 }).encode(data);
    const { fields, payload } = openFrame(frame);
    // The residual is sent as "abcd" NUL NUL "e" (7 bytes): make it "abcdef" NUL, a reference mark
    // at the very end of the string.
    const damaged = reframe(fields, replaceUnique(payload, [0x07, 0x61, 0x62, 0x63, 0x64, 0, 0, 0x65], [0x07, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0]));
    const o = decodeOutcome(new TracezipDecoder(), damaged);
    const v = o.kind === 'data' ? o.data.resourceSpans[0]?.scopeSpans[0]?.spans[0]?.attributes[0]?.value : undefined;
    assert.ok(o.kind === 'error' && o.error.kind === 'malformed', `a dangling reference mark must be refused; got ${describeOutcome(o)}${v !== undefined ? ` with the value ${JSON.stringify(v)}` : ''}`);
  });

  test('structural checks: format 2 references where they cannot stand (CRC patched): the event time in a span attribute, an escaped reference to no earlier value; the event time in an event decodes', () => {
    const sent = [0x07, 0x61, 0x62, 0x63, 0x64, 0, 0, 0x65]; // "abcd" NUL NUL "e": the value "abcd\0e" as sent
    const patched = (data: TracesData, to: number[]) => {
      const { fields, payload } = openFrame(new TracezipEncoder({ compression: 'none', templateValueLimit: 0 }).encode(data));
      return decodeOutcome(new TracezipDecoder(), reframe(fields, replaceUnique(payload, sent, to)));
    };
    const inSpan = batchOf([sp({ trace: 1, id: 1, attributes: [kv('k', 'abcd\u0000e')] })]);
    for (const [what, to] of [
      ['NUL e (the event time) in a span attribute', [0x07, 0x61, 0x62, 0x63, 0x64, 0, 0x65, 0x78]],
      ['NUL U+00A0 (earlier value 0, JSON-escaped) with no earlier value', [0x07, 0x61, 0x62, 0x63, 0x64, 0, 0xc2, 0xa0]],
    ] as const) {
      const o = patched(inSpan, [...to]);
      assert.ok(o.kind === 'error' && o.error.kind === 'malformed', `${what} must be refused; got ${describeOutcome(o)}`);
    }
    const time = T0 + 1_500_000_000n;
    const inEvent = batchOf([sp({ trace: 1, id: 1, events: [ev('log', time, [kv('k', 'abcd\u0000e')])] })]);
    const o = patched(inEvent, [0x07, 0x61, 0x62, 0x63, 0x64, 0, 0x65, 0x78]);
    const v = o.kind === 'data' ? o.data.resourceSpans[0]?.scopeSpans[0]?.spans[0]?.events[0]?.attributes[0]?.value : undefined;
    assert.equal(v, `abcd${rfc3339Nano(time)}x`, `the event's time where an event attribute refers to it; got ${describeOutcome(o)}`);
  });

  test('a refused frame throws the typed error class (TracezipFrameError, an InputError) with a known kind', () => {
    const dec = new TracezipDecoder();
    for (const bad of [new Uint8Array(0), Uint8Array.of(0x54, 0x5a), patchCrc(new Uint8Array(40)), appendCrc(Uint8Array.of(0x54, 0x5a, 1, 0, ...new Array(20).fill(0xff)))]) {
      assert.throws(
        () => dec.decode(bad),
        (e: unknown) => e instanceof TracezipFrameError && typeof e.kind === 'string' && e.name === 'TracezipFrameError',
      );
    }
    // A stream of mixed valid and invalid frames leaves valid ones intact.
    const enc = new TracezipEncoder({ compression: 'none', streamId: 77n });
    const b0 = batchOf([sp({ trace: 1, id: 1, attributes: [kv('a', 'b')] })]);
    const f0 = enc.encode(b0);
    assert.throws(() => dec.decode(f0.subarray(0, f0.length - 1)), TracezipFrameError);
    expectData(dec, f0, b0, 'after a truncated copy');
  });
});

/** `p` with the only occurrence of `from` replaced by `to`. */
function replaceUnique(p: Uint8Array, from: number[], to: number[]): Uint8Array {
  const b = Buffer.from(p);
  const i = b.indexOf(Buffer.from(from));
  assert.ok(i >= 0 && b.indexOf(Buffer.from(from), i + 1) < 0, `the byte sequence ${Buffer.from(from).toString('hex')} occurs exactly once in the payload`);
  return new Uint8Array(Buffer.concat([b.subarray(0, i), Buffer.from(to), b.subarray(i + from.length)]));
}
