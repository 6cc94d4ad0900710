// Lockstep multi-batch test (after otel-arrow's traces_dict_test): hundreds of batches through one
// encoder/decoder pair, each decoded batch compared with its original as it goes, while the state
// both sides keep is watched: the encoder's estimate stays under its cap plus one frame's worth, and
// the decoder's mirror stays within a constant factor of it. Then the same with several streams
// interleaved through one decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TracezipDecoder, TracezipEncoder, readFrameHeader } from '../../src/tracezip/index.js';
import { collectTraffic, defaultFaultScenario } from '../../src/generator/index.js';
import { countSpans, type TracesData } from '../../src/model/index.js';
import { Arbitrary, Rng } from '../helpers/arbitrary.js';
import { tracezipArbitrary, expectData, recut } from '../helpers/tracezip.js';

const seeds = [41, 42, 43];
const traffic = seeds.map((seed) => collectTraffic({ seed, traces: 900, faults: defaultFaultScenario(9), batchSpans: 512 }).batches);


/** State an encoder builds for one batch on its own: an upper bound of what one frame adds. */
function stateOfAlone(b: TracesData): number {
  const e = new TracezipEncoder({ compression: 'none' });
  e.encode(b);
  return e.stateSize;
}

test('lockstep: 400+ batches of traffic (random sizes, arbitrary messages mixed in) through one encoder/decoder pair with a 1 MiB cap', () => {
  const rng = new Rng(0x10c5);
  const gen = new Arbitrary(rng.fork(), { maxSpans: 6 });
  const batches: TracesData[] = [];
  for (const t of traffic) for (const b of recut(t, (n) => rng.int(n), 1, 150)) batches.push(rng.bool(0.1) ? tracezipArbitrary(gen) : b);
  assert.ok(batches.length >= 400, `${batches.length} batches`);
  const cap = 1 << 20;
  const enc = new TracezipEncoder({ compression: 'zstd', maxStateBytes: cap, streamId: 0xabcn });
  const dec = new TracezipDecoder();
  const maxAlone = Math.max(...batches.map(stateOfAlone));
  let spans = 0;
  let epochs = 0;
  let maxEnc = 0;
  let maxDec = 0;
  let bytes = 0;
  batches.forEach((b, i) => {
    const wasOver = enc.stateSize > cap;
    const frame = enc.encode(b);
    bytes += frame.length;
    const h = readFrameHeader(frame);
    if (h.epochStart) epochs++;
    if (wasOver) assert.ok(h.epochStart, `frame ${i}: the state was over the cap, so the frame starts a new epoch`);
    const r = expectData(dec, frame, b, `lockstep batch ${i}`);
    assert.equal(r.streamId, 0xabcn);
    assert.equal(r.epoch, h.epoch);
    assert.equal(r.seq, h.seq);
    spans += countSpans(b);
    maxEnc = Math.max(maxEnc, enc.stateSize);
    maxDec = Math.max(maxDec, dec.stateBytes);
    assert.ok(enc.stateSize <= cap + maxAlone, `batch ${i}: encoder state ${enc.stateSize} > cap + one frame (${cap} + ${maxAlone})`);
    assert.ok(dec.stateBytes <= 2 * (cap + maxAlone), `batch ${i}: decoder state ${dec.stateBytes} is more than twice the encoder's bound`);
    assert.equal(dec.streamCount, 1);
  });
  assert.ok(spans > 30_000, `${spans} spans`);
  assert.ok(epochs >= 3, `the cap triggered rebuilds: ${epochs} epochs`);
  console.log(`  lockstep: ${batches.length} batches, ${spans} spans, ${epochs} epochs, ${bytes} bytes; max state: encoder ${maxEnc}, decoder ${maxDec}`);
});

test('lockstep: three streams interleaved through one decoder, each with its own epochs and resyncs', () => {
  const rng = new Rng(0x10c6);
  const streams = traffic.map((t, k) => ({
    batches: recut(t, (n) => rng.int(n), 1, 80),
    next: 0,
    enc: new TracezipEncoder({ compression: k === 0 ? 'none' : k === 1 ? 'gzip' : 'zstd', streamId: BigInt(k + 1), maxStateBytes: k === 2 ? 30_000 : undefined }),
  }));
  const dec = new TracezipDecoder();
  let n = 0;
  while (streams.some((s) => s.next < s.batches.length)) {
    const live = streams.filter((s) => s.next < s.batches.length);
    const s = live[rng.int(live.length)]!;
    if (rng.bool(0.03)) s.enc.resync();
    const b = s.batches[s.next]!;
    const r = expectData(dec, s.enc.encode(b), b, `stream ${s.enc.streamId} batch ${s.next}`);
    assert.equal(r.streamId, s.enc.streamId);
    s.next++;
    n++;
    assert.ok(dec.streamCount <= 3);
  }
  assert.ok(n > 400, `${n} frames`);
  assert.equal(dec.streamCount, 3);
});
