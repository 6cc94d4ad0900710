// Compression 'zstd-stream': one zstd stream per epoch on each side, flushed at every frame, so a
// frame's body can only be read by a decoder whose zstd stream has read every earlier frame of the
// epoch. The same rules as for the other compressions: every frame decodes exactly (across resyncs
// and cap-triggered epochs, which start new zstd streams), sync faults are answered without touching
// the zstd stream (a gap, a duplicate, a stale frame), and damage gives a typed answer, never a wrong
// span. One difference by design: a frame that passes the checksum but fails after its body went
// through the zstd stream leaves the two streams apart, so the decoder drops the stream (its next
// frame is answered resync-needed) instead of keeping the state unchanged; the encoder's resync
// then recovers everything.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TracezipDecoder, TracezipEncoder, readFrameHeader, type Compression } from '../../src/tracezip/index.js';
import { collectTraffic, defaultFaultScenario } from '../../src/generator/index.js';
import { diffTracesData, type TracesData } from '../../src/model/index.js';
import { Arbitrary, Rng } from '../helpers/arbitrary.js';
import { edgeCaseTracesData } from '../helpers/edge-cases.js';
import {
  tracezipArbitrary,
  decodeOutcome,
  describeOutcome,
  expectData,
  expectResync,
  outcomeKey,
  patchCrc,
  recut,
  rewriteHeaderKeepBody,
  streamRoundTrip,
  wellFormedProblem,
} from '../helpers/tracezip.js';

const STREAM = 'zstd-stream' as string as Compression; // (compiles whether or not this build's Compression type has it)
const traffic = collectTraffic({ seed: 71, traces: 500, faults: defaultFaultScenario(5), batchSpans: 256 }).batches;

function supported(): boolean {
  try {
    new TracezipEncoder({ compression: STREAM }).encode({ resourceSpans: [], unknownFields: undefined });
    return true;
  } catch {
    return false;
  }
}
const skip = supported() ? false : 'this build has no zstd-stream compression';

function frames(batches: readonly TracesData[], streamId: bigint, hook?: (enc: TracezipEncoder, i: number) => void): Uint8Array[] {
  const enc = new TracezipEncoder({ compression: STREAM, streamId });
  return batches.map((b, i) => {
    hook?.(enc, i);
    return enc.encode(b);
  });
}

describe('zstd-stream: round trips', { skip }, () => {
  test('traffic as generated and re-cut to random sizes, with resyncs and a small state cap (new epochs, new zstd streams)', () => {
    const rng = new Rng(0x25e);
    const fs = streamRoundTrip(traffic, 'zstd-stream, as generated', { compression: STREAM });
    for (const f of fs) assert.equal(readFrameHeader(f).compression, STREAM);
    streamRoundTrip(recut(traffic, (n) => rng.int(n), 1, 120), 'zstd-stream, re-cut, resyncs', { compression: STREAM }, { beforeEncode: (enc, i) => i > 0 && rng.bool(0.1) && enc.resync() });
    streamRoundTrip(recut(traffic, (n) => rng.int(n), 1, 60), 'zstd-stream, cap 30,000', { compression: STREAM, maxStateBytes: 30_000 });
  });

  test('arbitrary messages and the edge cases in one stream', () => {
    const gen = new Arbitrary(new Rng(0x25f), { maxSpans: 6 });
    const arb = Array.from({ length: 150 }, () => tracezipArbitrary(gen));
    streamRoundTrip([...arb, ...edgeCaseTracesData().map((c) => c.data)], 'zstd-stream, arbitrary and edge cases', { compression: STREAM });
  });

  test("literals raw (the default up to level 3) or Huffman-coded: both decode exactly, raw costs a little more; another value is an InputError", () => {
    const rng = new Rng(0x261);
    const batches = recut(traffic, (n) => rng.int(n), 8, 24);
    const total = (zstdLiterals: 'raw' | 'huffman' | undefined) =>
      streamRoundTrip(batches, `zstd-stream, literals ${zstdLiterals ?? 'default'}`, { compression: STREAM, streamId: 9n, ...(zstdLiterals ? { zstdLiterals } : {}) }).reduce((a, f) => a + readFrameHeader(f).bodyLength, 0); // bodies: headers hold a random epoch
    const raw = total('raw');
    const huffman = total('huffman');
    assert.equal(total(undefined), raw, 'raw is the default (level 1)');
    const level = (zstdLevel: number, zstdLiterals?: 'raw' | 'huffman') =>
      streamRoundTrip(batches, `zstd-stream, level ${zstdLevel}`, { compression: STREAM, zstdLevel, ...(zstdLiterals ? { zstdLiterals } : {}) }).reduce((a, f) => a + readFrameHeader(f).bodyLength, 0);
    assert.equal(level(9), level(9, 'huffman'), 'above level 3 Huffman is the default');
    assert.notEqual(level(9, 'raw'), level(9), 'and raw literals differ from it');
    assert.ok(raw > huffman && raw < huffman * 1.15, `raw ${raw} B, Huffman ${huffman} B`);
    assert.throws(() => new TracezipEncoder({ compression: STREAM, zstdLiterals: 'fse' as 'raw' }), /zstdLiterals must be 'raw' or 'huffman'/);
  });

  test('a stateless encoder refuses zstd-stream (a stateless frame cannot use a stream)', () => {
    assert.throws(() => new TracezipEncoder({ compression: STREAM, stateless: true }).encode(traffic[0]!));
  });
});

describe('zstd-stream: sync faults leave the zstd stream alone', { skip }, () => {
  const rng = new Rng(0x260);
  const batches = recut(traffic, (n) => rng.int(n), 5, 40).slice(0, 12);

  test('duplicates (any earlier frame, again and again) answer duplicate; the stream goes on exactly', () => {
    const fs = frames(batches, 31n);
    const dec = new TracezipDecoder();
    fs.forEach((f, i) => {
      expectData(dec, f, batches[i]!, `frame ${i}`);
      for (let j = 0; j <= i; j += 1 + rng.int(3)) assert.equal(decodeOutcome(dec, fs[j]!).kind, 'duplicate', `frame ${j} again after ${i}`);
    });
  });

  test('a dropped frame: gap (the zstd stream has not read the next frame), resync, everything exact; frames ahead of their turn, then in order', () => {
    const enc = new TracezipEncoder({ compression: STREAM, streamId: 32n });
    const dec = new TracezipDecoder();
    const fs = batches.slice(0, 6).map((b) => enc.encode(b));
    expectData(dec, fs[0]!, batches[0]!, 'frame 0');
    expectData(dec, fs[1]!, batches[1]!, 'frame 1');
    expectResync(dec, fs[3]!, 'gap', 'frame 3 before frame 2');
    expectResync(dec, fs[4]!, 'gap', 'frame 4 before frame 2');
    expectData(dec, fs[2]!, batches[2]!, 'frame 2 late: the zstd stream was not disturbed by the frames ahead');
    expectData(dec, fs[3]!, batches[3]!, 'frame 3 again');
    // frame 4 lost for good
    expectResync(dec, fs[5]!, 'gap', 'frame 5 after a lost frame 4');
    enc.resync();
    for (let i = 4; i < batches.length; i++) expectData(dec, enc.encode(batches[i]!), batches[i]!, `batch ${i} after resync`);
    expectResync(dec, fs[4]!, 'stale-epoch', 'the lost frame, late');
  });

  test('decoder restart and encoder restart: unknown-stream / a new epoch, then exact', () => {
    const enc = new TracezipEncoder({ compression: STREAM, streamId: 33n });
    let dec = new TracezipDecoder();
    expectData(dec, enc.encode(batches[0]!), batches[0]!, 'frame 0');
    dec = new TracezipDecoder();
    expectResync(dec, enc.encode(batches[1]!), 'unknown-stream', 'to a restarted decoder');
    enc.resync();
    expectData(dec, enc.encode(batches[1]!), batches[1]!, 'after resync');
    const restarted = new TracezipEncoder({ compression: STREAM, streamId: 33n });
    for (let i = 2; i < 6; i++) expectData(dec, restarted.encode(batches[i]!), batches[i]!, `restarted encoder, batch ${i}`);
  });

  test('a frame of the epoch relabelled as another compression (CRC patched) is refused without reading the zstd stream', () => {
    const fs = frames(batches, 34n);
    const dec = new TracezipDecoder();
    expectData(dec, fs[0]!, batches[0]!, 'frame 0');
    for (const flags of [0x00, 0x01, 0x02]) {
      const m = new Uint8Array(fs[1]!);
      m[3] = (m[3]! & ~0x03) | flags;
      const o = decodeOutcome(dec, patchCrc(m));
      assert.ok(o.kind === 'error' || o.kind === 'resync-needed', `compression code ${flags}: ${describeOutcome(o)}`);
    }
    expectData(dec, fs[1]!, batches[1]!, 'frame 1 after the relabelled copies');
    expectData(dec, fs[2]!, batches[2]!, 'frame 2');
  });
});

describe('zstd-stream: damaged frames', { skip }, () => {
  const rng = new Rng(0x261);
  const batches = recut(traffic, (n) => rng.int(n), 3, 12).slice(0, 5);
  const fs = frames(batches, 35n);

  function primed(k: number): TracezipDecoder {
    const dec = new TracezipDecoder();
    for (let i = 0; i < k; i++) expectData(dec, fs[i]!, batches[i]!, `priming frame ${i}`);
    return dec;
  }

  test('bit flips with the checksum left as it was: a TracezipFrameError, and the zstd stream is untouched (the real frame decodes)', () => {
    for (const k of [0, 2]) {
      for (let bit = 0; bit < fs[k]!.length * 8; bit += 5) {
        const dec = primed(k);
        const m = new Uint8Array(fs[k]!);
        m[bit >> 3]! ^= 1 << (bit & 7);
        const o = decodeOutcome(dec, m);
        assert.equal(o.kind, 'error', `frame ${k} bit ${bit}: ${describeOutcome(o)}`);
        expectData(dec, fs[k]!, batches[k]!, `frame ${k} after bit ${bit} was refused`);
      }
    }
  });

  test('body damage with the CRC patched: a typed answer, never a wrong span the format could have caught; after a refusal the stream recovers (exactly, or by resync)', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 800; i++) {
      const k = rng.int(fs.length);
      const f = fs[k]!;
      const h = readFrameHeader(f);
      const m = new Uint8Array(f);
      for (let n = rng.range(1, 3); n > 0; n--) m[h.bodyStart + rng.int(h.bodyLength)]! ^= 1 << rng.int(8);
      const dec = primed(k);
      const o = decodeOutcome(dec, patchCrc(m));
      const key = outcomeKey(o);
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (o.kind === 'exception') assert.fail(`case ${i} (frame ${k}): ${describeOutcome(o)}`);
      if (o.kind === 'data') {
        if (diffTracesData(o.data, batches[k]!) !== undefined) {
          const p = wellFormedProblem(o.data);
          assert.equal(p, undefined, `case ${i}: an altered message that is not well-formed`);
        }
        continue;
      }
      // Refused: the real frame decodes exactly, or the stream must resync (then it recovers).
      const r = decodeOutcome(dec, f);
      if (r.kind === 'data') {
        assert.equal(diffTracesData(r.data, batches[k]!), undefined, `case ${i}: the real frame ${k} after a refused copy`);
      } else {
        assert.equal(r.kind, 'resync-needed', `case ${i}: the real frame ${k} after a refused copy: ${describeOutcome(r)}`);
        const enc = new TracezipEncoder({ compression: STREAM, streamId: 35n });
        expectData(dec, enc.encode(batches[k]!), batches[k]!, `case ${i}: recovery after resync`);
      }
    }
    console.log(`  zstd-stream body damage: ${[...counts.entries()].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  });

  test('a relabelled epoch: a zstd-stream frame rewritten into a stream that has no zstd stream is refused', () => {
    const plain = new TracezipEncoder({ compression: 'zstd', streamId: 36n });
    const dec = new TracezipDecoder();
    expectData(dec, plain.encode(batches[0]!), batches[0]!, 'plain frame 0');
    const h = readFrameHeader(plain.encode(batches[1]!));
    const o = decodeOutcome(dec, rewriteHeaderKeepBody(fs[1]!, { streamId: 36n, epoch: h.epoch, seq: 1 }));
    assert.ok(o.kind === 'error' || o.kind === 'resync-needed', describeOutcome(o));
  });
});
