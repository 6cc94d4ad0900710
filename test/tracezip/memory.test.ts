// Memory caps on the decoder. A stream whose state would pass `maxStreamStateBytes` is dropped and
// asked to resync ('state-limit' when an epoch start alone is too big); a decoder serving many
// streams keeps at most `maxStreams` of them and at most `maxTotalStateBytes` in all, evicting the
// least recently used, whose next frame is answered 'unknown-stream'. In every case the encoder's
// resync recovers the stream, no span is lost or wrong (a sender that re-sends the batch of a frame
// answered resync-needed delivers everything exactly once), and the caps hold after every frame.
// Also: the encoder's cap must protect a decoder whose cap is larger (the two estimate the same
// state), so that a stream the encoder keeps under its cap is never dropped.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TracezipDecoder, TracezipEncoder, type Compression, type DecodeResult } from '../../src/tracezip/index.js';
import { collectTraffic, defaultFaultScenario } from '../../src/generator/index.js';
import { diffTracesData, type TracesData } from '../../src/model/index.js';
import { Rng } from '../helpers/arbitrary.js';
import { batchOf, decodeOutcome, describeOutcome, expectData, expectResync, kv, recut, sp } from '../helpers/tracezip.js';

const traffic = collectTraffic({ seed: 61, traces: 600, faults: defaultFaultScenario(6), batchSpans: 256 }).batches;

/**
 * A sender that answers every resync-needed with encoder.resync() and sends the batch again, as
 * a real exporter would. Returns the answers it got. Every batch must come out exactly once.
 */
function deliver(enc: TracezipEncoder, dec: TracezipDecoder, b: TracesData, label: string): DecodeResult[] {
  const answers: DecodeResult[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const o = decodeOutcome(dec, enc.encode(b));
    if (o.kind === 'data') {
      const d = diffTracesData(o.data, b);
      assert.equal(d, undefined, `${label}: first difference (decoded != original): ${d}`);
      answers.push(o.result);
      return answers;
    }
    if (o.kind !== 'resync-needed') assert.fail(`${label}: ${describeOutcome(o)}`);
    answers.push(o.result);
    enc.resync();
  }
  assert.fail(`${label}: not delivered after 3 attempts: ${answers.map((a) => (a.kind === 'resync-needed' ? a.reason : a.kind)).join(', ')}`);
}

/** What a decoder holds after one batch alone. */
function decoderStateOf(b: TracesData): number {
  const dec = new TracezipDecoder();
  dec.decode(new TracezipEncoder({ compression: 'none' }).encode(b));
  return dec.stateBytes;
}

function reasons(answers: DecodeResult[]): string[] {
  return answers.flatMap((a) => (a.kind === 'resync-needed' ? [a.reason] : []));
}

describe('maxStreamStateBytes', () => {
  test('an epoch start bigger than the cap answers state-limit and keeps nothing; other streams are untouched', () => {
    const dec = new TracezipDecoder({ maxStreamStateBytes: 20_000 });
    const small = new TracezipEncoder({ compression: 'none', streamId: 1n });
    const b0 = batchOf([sp({ trace: 1, id: 1 })]);
    expectData(dec, small.encode(b0), b0, 'a small stream');
    const big = new TracezipEncoder({ compression: 'none', streamId: 2n });
    const huge = batchOf(Array.from({ length: 300 }, (_, i) => sp({ trace: 100 + i, id: 100 + i, name: `op ${i}`, attributes: [kv('k', `v${i}`)] })));
    expectResync(dec, big.encode(huge), 'state-limit', 'an epoch start whose state alone passes the cap');
    assert.equal(dec.streamCount, 1, 'the oversized stream is not kept');
    assert.ok(dec.stateBytes <= 20_000);
    // Its next frame: the stream is unknown (nothing was kept).
    expectResync(dec, big.encode(b0), ['unknown-stream', 'state-limit'], 'the next frame of the refused stream');
    const b1 = batchOf([sp({ trace: 1, id: 2, parent: 1 })]);
    expectData(dec, small.encode(b1), b1, 'the small stream continues');
    // Recovery: the big stream resyncs with a batch that fits.
    big.resync();
    expectData(dec, big.encode(b0), b0, 'the big stream after resync, with a batch that fits');
  });

  test('a growing stream is dropped when it passes the cap, answers resync-needed, and recovers again and again; the cap holds after every frame', () => {
    const rng = new Rng(0x3e3);
    const batches = recut(traffic, (n) => rng.int(n), 5, 40);
    // Room for the largest batch on its own, and for a few more: the stream outgrows it many times.
    const cap = 2 * Math.max(...batches.map((b) => decoderStateOf(b)));
    const dec = new TracezipDecoder({ maxStreamStateBytes: cap });
    const enc = new TracezipEncoder({ compression: 'zstd', streamId: 3n }); // encoder cap: the default, far above
    const seen: string[] = [];
    batches.forEach((b, i) => {
      seen.push(...reasons(deliver(enc, dec, b, `batch ${i}`)));
      assert.ok(dec.stateBytes <= cap, `after batch ${i}: decoder state ${dec.stateBytes} > cap ${cap}`);
    });
    assert.ok(seen.length >= 5, `the cap was hit ${seen.length} times`);
    for (const r of seen) assert.ok(r === 'state-limit' || r === 'unknown-stream', `reason ${r}`);
  });

  test('the encoder cap protects a decoder with twice that cap (as the defaults, 32 and 64 MiB): a stream of traffic is never dropped', () => {
    const dec = new TracezipDecoder({ maxStreamStateBytes: 200_000 });
    const enc = new TracezipEncoder({ compression: 'none', streamId: 4n, maxStateBytes: 100_000 });
    const rng = new Rng(0x3e4);
    recut(traffic, (n) => rng.int(n), 1, 30).forEach((b, i) => {
      const answers = deliver(enc, dec, b, `batch ${i}`);
      assert.deepEqual(reasons(answers), [], `batch ${i}: a stream under the encoder's cap was dropped by the decoder`);
    });
  });

  test('the same with wide spans (64 attributes of a few values each): the two sides must estimate the same state, so the decoder never drops the stream', () => {
    const dec = new TracezipDecoder({ maxStreamStateBytes: 2_000_000 });
    const enc = new TracezipEncoder({ compression: 'none', streamId: 5n, maxStateBytes: 1_000_000 });
    const rng = new Rng(0x3e5);
    let n = 0;
    const dropped: number[] = [];
    let maxRatio = 0;
    for (let f = 0; f < 60; f++) {
      const b = batchOf(Array.from({ length: 10 }, () => sp({ trace: ++n, id: n, name: 'wide', attributes: Array.from({ length: 64 }, (_, a) => kv(`attr.${a}`, `v${rng.int(3)}`)) })));
      if (reasons(deliver(enc, dec, b, `wide batch ${f}`)).length > 0) dropped.push(f);
      if (enc.stateSize > 0 && dec.streamCount > 0) maxRatio = Math.max(maxRatio, dec.stateBytes / enc.stateSize);
    }
    assert.deepEqual(dropped, [], `frames answered resync-needed although the encoder kept its state under its cap (decoder/encoder state estimate up to ${maxRatio.toFixed(1)}x)`);
  });
});

describe('maxStreams and maxTotalStateBytes: least recently used streams are evicted', () => {
  test('maxStreams 3: the least recently used stream is evicted, its next frame answers unknown-stream, recovery after resync', () => {
    const dec = new TracezipDecoder({ maxStreams: 3 });
    const encs = ['A', 'B', 'C', 'D'].map((_, i) => new TracezipEncoder({ compression: 'none', streamId: BigInt(10 + i) }));
    const [A, B, C, D] = encs as [TracezipEncoder, TracezipEncoder, TracezipEncoder, TracezipEncoder];
    const b = (i: number): TracesData => batchOf([sp({ trace: 500 + i, id: 500 + i })]);
    expectData(dec, A.encode(b(0)), b(0), 'A0');
    expectData(dec, B.encode(b(1)), b(1), 'B0');
    expectData(dec, C.encode(b(2)), b(2), 'C0');
    expectData(dec, A.encode(b(3)), b(3), 'A1 (A is now the most recently used)');
    expectData(dec, D.encode(b(4)), b(4), 'D0 evicts B, the least recently used');
    assert.equal(dec.streamCount, 3);
    expectResync(dec, B.encode(b(5)), 'unknown-stream', 'B1 after B was evicted');
    expectData(dec, A.encode(b(6)), b(6), 'A2: A was not evicted');
    expectData(dec, C.encode(b(7)), b(7), 'C1: C was not evicted');
    B.resync();
    expectData(dec, B.encode(b(5)), b(5), 'B again after resync (evicts D, now the least recently used)');
    expectResync(dec, D.encode(b(8)), 'unknown-stream', 'D1 after D was evicted');
    expectData(dec, C.encode(b(9)), b(9), 'C2');
    assert.equal(dec.streamCount, 3);
  });

  test('40 streams over maxStreams 8 at random: every batch delivered exactly once, never more than 8 streams kept', () => {
    const rng = new Rng(0x3e6);
    const dec = new TracezipDecoder({ maxStreams: 8 });
    const streams = Array.from({ length: 40 }, (_, i) => ({ enc: new TracezipEncoder({ compression: i % 2 ? 'none' : 'gzip', streamId: BigInt(100 + i) }), next: 0 }));
    const batches = recut(traffic, (n) => rng.int(n), 1, 10);
    let evictions = 0;
    for (let i = 0; i < 1500; i++) {
      // Skewed: a few streams are busy, most are idle for long stretches.
      const s = streams[rng.bool(0.6) ? rng.int(6) : rng.int(streams.length)]!;
      const b = batches[(s.next++ * 7 + Number(s.enc.streamId)) % batches.length]!;
      evictions += reasons(deliver(s.enc, dec, b, `stream ${s.enc.streamId} frame ${i}`)).filter((r) => r === 'unknown-stream').length;
      assert.ok(dec.streamCount <= 8, `${dec.streamCount} streams kept`);
    }
    assert.ok(evictions > 50, `${evictions} evictions`);
  });

  test('maxTotalStateBytes: the least recently used streams are evicted until the total fits; the cap holds after every frame; recovery after resync', () => {
    const rng = new Rng(0x3e7);
    const total = 150_000;
    const dec = new TracezipDecoder({ maxTotalStateBytes: total });
    const streams = Array.from({ length: 8 }, (_, i) => new TracezipEncoder({ compression: 'zstd', streamId: BigInt(200 + i), maxStateBytes: 40_000 }));
    const batches = recut(traffic, (n) => rng.int(n), 5, 30);
    let unknown = 0;
    batches.forEach((b, i) => {
      const enc = streams[rng.int(streams.length)]!;
      unknown += reasons(deliver(enc, dec, b, `batch ${i} on stream ${enc.streamId}`)).filter((r) => r === 'unknown-stream').length;
      assert.ok(dec.stateBytes <= total || dec.streamCount === 1, `after batch ${i}: ${dec.stateBytes} bytes in ${dec.streamCount} streams > ${total}`);
    });
    assert.ok(unknown > 10, `${unknown} evictions`);
  });

  test('zstd-stream streams: the zstd window each one keeps counts toward maxTotalStateBytes; evicted ones recover after resync', () => {
    const rng = new Rng(0x3e8);
    const total = 4 * 1024 * 1024;
    const dec = new TracezipDecoder({ maxTotalStateBytes: total });
    const compression = 'zstd-stream' as string as Compression; // (compiles whether or not this build's Compression type has it)
    try {
      new TracezipEncoder({ compression }).encode(batchOf([]));
    } catch {
      return; // no zstd-stream in this build
    }
    const streams = Array.from({ length: 6 }, (_, i) => new TracezipEncoder({ compression, streamId: BigInt(400 + i) }));
    let unknown = 0;
    recut(traffic, (n) => rng.int(n), 5, 30).forEach((b, i) => {
      const enc = streams[rng.int(streams.length)]!;
      unknown += reasons(deliver(enc, dec, b, `batch ${i} on stream ${enc.streamId}`)).filter((r) => r === 'unknown-stream').length;
      assert.ok(dec.stateBytes <= total || dec.streamCount === 1, `after batch ${i}: ${dec.stateBytes} bytes in ${dec.streamCount} streams > ${total}`);
      assert.ok(dec.streamCount <= 3, `${dec.streamCount} zstd streams of 1.25 MiB each kept under a 4 MiB total`);
    });
    assert.ok(unknown > 10, `${unknown} evictions`);
  });

  test('an evicted stream never decodes a frame against missing state: its frames answer unknown-stream until it resyncs, whatever their sequence number', () => {
    const dec = new TracezipDecoder({ maxStreams: 1 });
    const a = new TracezipEncoder({ compression: 'none', streamId: 300n });
    const b = new TracezipEncoder({ compression: 'none', streamId: 301n });
    const x = (i: number): TracesData => batchOf([sp({ trace: 900 + i, id: 900 + i, name: `n${i % 2}` })]);
    expectData(dec, a.encode(x(0)), x(0), 'a0');
    const a1 = a.encode(x(1));
    expectData(dec, b.encode(x(2)), x(2), 'b0 evicts a');
    for (const f of [a1, a.encode(x(3)), a.encode(x(4))]) expectResync(dec, f, 'unknown-stream', 'a frame of the evicted stream');
    a.resync();
    expectData(dec, a.encode(x(5)), x(5), 'a after resync');
    expectResync(dec, b.encode(x(6)), 'unknown-stream', 'b was evicted in turn');
  });
});
