// Epoch resets and cap-triggered rebuilds: `encoder.resync()` at any point of a stream, and a tiny
// `maxStateBytes` that makes the encoder start new epochs on its own many times. Every frame must
// still decode to exactly its batch; epochs and sequence numbers must follow the format's rules
// (a new epoch starts at seq 0 with the epoch-start flag; frames of an epoch count up by one); and
// the state the decoder mirrors must be rebuilt from nothing at each epoch start. A fixed first
// epoch (firstEpoch) makes a measurement repeat byte for byte.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TracezipDecoder, TracezipEncoder, readFrameHeader, tracezipByteMeter, type Compression, type FrameHeader } from '../../src/tracezip/index.js';
import { collectTraffic, defaultFaultScenario } from '../../src/generator/index.js';
import type { TracesData } from '../../src/model/index.js';
import { Arbitrary, Rng, mixSeed, nestedArrays } from '../helpers/arbitrary.js';
import { edgeCaseTracesData } from '../helpers/edge-cases.js';
import { batchOf, tracezipArbitrary, expectData, expectResync, kv, recut, sp, streamRoundTrip } from '../helpers/tracezip.js';

const traffic = collectTraffic({ seed: 31, traces: 800, faults: defaultFaultScenario(8), batchSpans: 512 }).batches;

function headers(frames: readonly Uint8Array[]): FrameHeader[] {
  return frames.map((f) => readFrameHeader(f));
}

/** Asserts the epoch/seq discipline of a stream and returns the indexes of its epoch starts. */
function checkEpochDiscipline(hs: readonly FrameHeader[], label: string): number[] {
  const starts: number[] = [];
  hs.forEach((h, i) => {
    assert.ok(!h.stateless, `${label}: frame ${i} is not stateless`);
    if (h.epochStart) {
      starts.push(i);
      assert.equal(h.seq, 0, `${label}: epoch start frame ${i} has seq 0`);
      if (i > 0) assert.equal(h.epoch, (hs[i - 1]!.epoch + 1) % 0x80000000, `${label}: frame ${i} starts the next epoch`);
    } else {
      assert.ok(i > 0, `${label}: the first frame starts an epoch`);
      assert.equal(h.epoch, hs[i - 1]!.epoch, `${label}: frame ${i} stays in its epoch`);
      assert.equal(h.seq, hs[i - 1]!.seq + 1, `${label}: frame ${i} follows frame ${i - 1}`);
    }
  });
  return starts;
}

/** Arbitrary messages with sane times and no parent cycles (see roundtrip.test.ts for those). */
function arbitraryStream(seed: number, n: number): TracesData[] {
  const gen = new Arbitrary(new Rng(seed), { maxSpans: 6 });
  return Array.from({ length: n }, () => tracezipArbitrary(gen));
}

describe('encoder.resync()', () => {
  test('at random points of a stream (batches re-cut to random sizes, traces straddling the resets), every compression', () => {
    for (const [k, compression] of (['none', 'zstd', 'gzip'] as Compression[]).entries()) {
      const rng = new Rng(mixSeed(0xe90c, k));
      const batches = recut(traffic, (n) => rng.int(n), 1, 200);
      const resyncAt = new Set<number>();
      const frames = streamRoundTrip(batches, `resyncs (${compression})`, { compression }, {
        beforeEncode: (enc, i) => {
          if (i > 0 && rng.bool(0.15)) {
            enc.resync();
            resyncAt.add(i);
          }
        },
      });
      const starts = checkEpochDiscipline(headers(frames), compression);
      assert.deepEqual(starts, [0, ...[...resyncAt].sort((a, b) => a - b)], 'an epoch starts at the first frame and exactly where resync() was called');
      assert.ok(starts.length > 5);
    }
  });

  test('resync before the first frame, twice in a row, and after every frame', () => {
    const batches = traffic.slice(0, 12);
    const f1 = streamRoundTrip(batches, 'resync twice in a row', { compression: 'none' }, {
      beforeEncode: (enc, i) => {
        if (i === 0 || i === 5) {
          enc.resync();
          enc.resync();
        }
      },
    });
    assert.deepEqual(checkEpochDiscipline(headers(f1), 'twice'), [0, 5]);
    const f2 = streamRoundTrip(batches, 'resync after every frame', { compression: 'none' }, { beforeEncode: (enc) => enc.resync() });
    assert.deepEqual(
      checkEpochDiscipline(headers(f2), 'every frame'),
      batches.map((_, i) => i),
    );
  });

  test('an epoch-start frame carries the whole state it needs: it decodes on a fresh decoder, and after it frames of the old epoch are refused', () => {
    const rng = new Rng(0xe90d);
    const batches = recut(traffic, (n) => rng.int(n), 20, 120).slice(0, 40);
    const enc = new TracezipEncoder({ compression: 'none', streamId: 77n });
    const frames = batches.map((b, i) => {
      if (i % 10 === 0 && i > 0) enc.resync();
      return enc.encode(b);
    });
    const dec = new TracezipDecoder();
    frames.forEach((f, i) => {
      expectData(dec, f, batches[i]!, `frame ${i}`);
      if (i % 10 === 0) {
        // The epoch start alone, on a decoder that never saw the stream.
        expectData(new TracezipDecoder(), f, batches[i]!, `epoch start ${i} on a fresh decoder`);
        // Every frame of the previous epoch is now stale, whatever its sequence number.
        for (let j = Math.max(0, i - 10); j < i; j++) expectResync(dec, frames[j]!, 'stale-epoch', `old-epoch frame ${j} after epoch start ${i}`);
      }
    });
  });
});

describe('an encode that throws', () => {
  test('a message the encoder refuses (a value nested deeper than the decoder accepts), first or mid-stream, leaves the stream consistent: the next frames decode exactly', () => {
    const bad = batchOf([sp({ trace: 9, id: 9, attributes: [kv('ok', 'fine'), kv('deep', nestedArrays(101))] })]);
    for (const at of [0, 3]) {
      const enc = new TracezipEncoder({ compression: 'none', streamId: 21n });
      const dec = new TracezipDecoder();
      const batches = traffic.slice(0, 8);
      batches.forEach((b, i) => {
        if (i === at) {
          assert.throws(() => enc.encode(bad), `the encoder refuses the message at frame ${i}`);
          // The refused message may have left half-built state in the encoder; the stream goes on.
        }
        expectData(dec, enc.encode(b), b, `frame ${i} (a refused message before frame ${at})`);
      });
    }
  });
});

describe('cap-triggered rebuilds (maxStateBytes)', () => {
  test('maxStateBytes 20,000: the encoder starts new epochs on its own, exactly when its state is over the cap, and every frame decodes exactly', () => {
    const rng = new Rng(0xca9);
    const batches = recut(traffic, (n) => rng.int(n), 1, 60);
    const cap = 20_000;
    const enc = new TracezipEncoder({ compression: 'none', maxStateBytes: cap });
    const dec = new TracezipDecoder();
    let starts = 0;
    batches.forEach((b, i) => {
      const over = enc.stateSize > cap;
      const f = enc.encode(b);
      const h = readFrameHeader(f);
      if (i > 0) assert.equal(h.epochStart, over, `frame ${i}: starts an epoch iff the state (${over ? 'over' : 'under'} the cap) was over the cap`);
      if (h.epochStart) starts++;
      expectData(dec, f, b, `cap 20,000, frame ${i}`);
    });
    assert.ok(starts > 20, `only ${starts} epochs`);
    assert.ok(starts < batches.length, 'some frames are not epoch starts (small ones fit under the cap)');
  });

  test('tiny caps with every compression, arbitrary messages, and resyncs on top', () => {
    for (const [k, compression] of (['none', 'zstd', 'gzip'] as Compression[]).entries()) {
      const rng = new Rng(mixSeed(0xca9a, k));
      const batches = [...arbitraryStream(mixSeed(0xab, k), 120), ...recut(traffic.slice(0, 6), (n) => rng.int(n), 1, 40)];
      for (const cap of [1, 5_000, 20_000]) {
        const frames = streamRoundTrip(batches, `cap ${cap}, ${compression}`, { compression, maxStateBytes: cap }, { beforeEncode: (enc) => rng.bool(0.05) && enc.resync() });
        const starts = checkEpochDiscipline(headers(frames), `cap ${cap}, ${compression}`);
        assert.ok(starts.length > 10, `cap ${cap}: ${starts.length} epochs`);
      }
    }
  });

  test('edge cases through a stream with maxStateBytes 1 (every frame after a non-empty one starts an epoch)', () => {
    const cases = edgeCaseTracesData()
      .filter((c) => c.name !== '64-bit times')
      .map((c) => c.data);
    streamRoundTrip([...cases, ...cases], 'edge cases, cap 1', { compression: 'none', maxStateBytes: 1 });
  });

  test('a decoder following a capped stream keeps only the current epoch: its state stays near the encoder cap', () => {
    const rng = new Rng(0xcab);
    const batches = recut(traffic, (n) => rng.int(n), 1, 100);
    const cap = 50_000;
    const enc = new TracezipEncoder({ compression: 'none', maxStateBytes: cap });
    const dec = new TracezipDecoder();
    let maxFresh = 0;
    for (const b of batches) {
      const alone = new TracezipEncoder({ compression: 'none' });
      alone.encode(b);
      maxFresh = Math.max(maxFresh, alone.stateSize);
    }
    let maxEnc = 0;
    let maxDec = 0;
    batches.forEach((b, i) => {
      expectData(dec, enc.encode(b), b, `frame ${i}`);
      maxEnc = Math.max(maxEnc, enc.stateSize);
      maxDec = Math.max(maxDec, dec.stateBytes);
    });
    assert.ok(maxEnc <= cap + maxFresh, `encoder state ${maxEnc} > cap ${cap} + largest single-frame state ${maxFresh}`);
    assert.ok(maxDec <= 2 * (cap + maxFresh), `decoder state ${maxDec} is not bounded by the encoder's cap (${cap} + ${maxFresh})`);
    assert.equal(dec.streamCount, 1);
  });
});

describe('firstEpoch: a measurement repeats byte for byte', () => {
  test('the first frame carries the given epoch, and the stream decodes', () => {
    const enc = new TracezipEncoder({ firstEpoch: 5 });
    const dec = new TracezipDecoder();
    const frames = traffic.slice(0, 3).map((b) => enc.encode(b));
    assert.equal(readFrameHeader(frames[0]!).epoch, 5);
    frames.forEach((f, i) => expectData(dec, f, traffic[i]!, `frame ${i}`));
  });

  test('the epoch is in every frame header: a random one changes frame sizes, a fixed one does not', () => {
    const sizes = (options: { streamId: bigint; firstEpoch: number }): number[] => {
      const enc = new TracezipEncoder({ compression: 'none', ...options });
      return traffic.slice(0, 4).map((b) => enc.encode(b).length);
    };
    assert.deepEqual(sizes({ streamId: 1n, firstEpoch: 1 }), sizes({ streamId: 1n, firstEpoch: 1 }));
    assert.notDeepEqual(sizes({ streamId: 1n, firstEpoch: 1 }), sizes({ streamId: 1n, firstEpoch: 0x40000000 }));
    const meterA = tracezipByteMeter(512);
    const meterB = tracezipByteMeter(512);
    assert.deepEqual(traffic.map((b) => meterA(b)), traffic.map((b) => meterB(b)), 'two meters over one input agree');
  });

  test('refuses an epoch outside [0, 2^31)', () => {
    for (const bad of [-1, 0x80000000, 1.5, Number.NaN]) assert.throws(() => new TracezipEncoder({ firstEpoch: bad }), /firstEpoch must be an integer in \[0, 2\^31\)/);
  });
});
