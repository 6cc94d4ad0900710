// Autoscope priced in Tracezip's bytes (sample-then-compress): the target is met on the bytes
// Tracezip really sends, the budget hears the measurement, and the option is refused where it
// cannot hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectTraffic } from '../../src/generator/index.js';
import { countSpans, type TracesData } from '../../src/model/index.js';
import { AdaptiveBudget, AdaptiveSampler, AutoscopeSampler, createStrategy, StreamingSampler, dataClockMs, type SamplingStrategy } from '../../src/sampling/index.js';
import { splitBatch, tracezipByteMeter, TracezipEncoder, TracezipDecoder } from '../../src/tracezip/index.js';
import { encodedTracesDataSize, encodeTracesData } from '../../src/otlp/index.js';

/**
 * Streams the batches through a sampler and measures its output through a Tracezip stream in frames
 * of 512 spans; `feed`: whether the sampler hears the measurement (its wireMeter).
 */
function run(strategy: SamplingStrategy, batches: readonly TracesData[], feed = true): { input: number; wire: number; spansOut: number; otlpOut: number } {
  let wire = 0;
  const measure = tracezipByteMeter(512);
  const sampler = new StreamingSampler({ strategy, decisionWaitMs: 30_000, ...(feed ? { wireMeter: (d: TracesData) => { const b = measure(d); wire += b; return b; } } : {}) });
  let input = 0;
  let otlpOut = 0;
  let clock = -Infinity;
  const sent = (out: TracesData | undefined): void => {
    if (!out) return;
    otlpOut += encodedTracesDataSize(out);
    if (!feed) wire += measure(out);
  };
  for (const b of batches) {
    input += encodeTracesData(b).length;
    clock = dataClockMs(b, clock);
    sampler.push(b, clock);
    sent(sampler.poll(clock));
  }
  sent(sampler.flush());
  return { input, wire, spansOut: sampler.counters.spansOut, otlpOut };
}

const traffic = collectTraffic({ seed: 3, traces: 1500, batchSpans: 512 });

test("priced as Tracezip bytes, Autoscope meets its target on what Tracezip sends (1,500 traces: within 0.8 pt)", () => {
  for (const target of [0.95, 0.97]) {
    const r = run(new AutoscopeSampler({ targetReduction: target, price: 'tracezip' }), traffic.batches);
    const achieved = 1 - r.wire / r.input;
    assert.ok(Math.abs(achieved - target) <= 0.008, `target ${target}: Tracezip reduction ${achieved}`);
    // OTLP's reduction is far smaller: the spans are kept whole, not as skeletons.
    assert.ok(1 - r.otlpOut / r.input < target - 0.03, `target ${target}: OTLP reduction ${1 - r.otlpOut / r.input}`);
  }
});

test("the budget's figure is what the meter measured, and without a meter the estimate stands", () => {
  const sampler = new AutoscopeSampler({ targetReduction: 0.96, price: 'tracezip' });
  const r = run(sampler, traffic.batches);
  // The budget counts the input's OTLP (spans and envelopes) and the measured Tracezip bytes.
  const counted = sampler.budget.achieved();
  assert.ok(Math.abs(counted - (1 - r.wire / r.input)) < 0.002, `budget ${counted}, measured ${1 - r.wire / r.input}`);
  // No meter (an in-process processor that does not encode): the per-span price alone, near the target still.
  const alone = run(new AutoscopeSampler({ targetReduction: 0.96, price: 'tracezip' }), traffic.batches, false);
  const measured = 1 - alone.wire / alone.input;
  assert.ok(Math.abs(measured - 0.96) < 0.02, `without a meter: ${measured}`);
});

test('an adaptive budget priced as Tracezip bytes hears the meter, and the options are refused where they cannot hold', () => {
  const inner = new AutoscopeSampler({ targetReduction: 0.9, price: 'tracezip' });
  const adaptive = new AdaptiveSampler(inner, new AdaptiveBudget({ bytesPerSecondBudget: 1e9, clock: () => 0 }));
  assert.equal(adaptive.priceUnit, 'tracezip');
  let heard = 0;
  const original = inner.recordEncoded.bind(inner);
  inner.recordEncoded = (spans, bytes) => {
    heard += bytes;
    original(spans, bytes);
  };
  const r = run(adaptive, traffic.batches.slice(0, 20));
  assert.ok(r.wire > 0 && heard === r.wire, `the inner strategy heard ${heard} of ${r.wire} bytes`);

  assert.throws(() => new AutoscopeSampler({ price: 'tracezip', paperOnly: true }), /needs the tiers/);
  assert.throws(() => new AutoscopeSampler({ price: 'tracezip', tiers: false }), /needs the tiers/);
  assert.throws(() => new AutoscopeSampler({ price: 'bytes' as 'otlp' }), /price must be/);
  assert.throws(() => createStrategy('head', { targetReduction: 0.9, price: 'tracezip' }), /only autoscope/);
  assert.equal(createStrategy('autoscope-mined', { targetReduction: 0.9, price: 'tracezip' }).priceUnit, 'tracezip');
});

test('the meter encodes in frames of at most N spans on one stream, and its frames decode back', () => {
  const data = traffic.batches.slice(0, 4);
  const meter = tracezipByteMeter(300, { streamId: 7n });
  const encoder = new TracezipEncoder({ streamId: 7n });
  const decoder = new TracezipDecoder();
  let expected = 0;
  let decoded = 0;
  for (const d of data) {
    let rest = d;
    for (let n = countSpans(rest); n > 0; n -= 300) {
      const [first, after] = n > 300 ? splitBatch(rest, 300) : [rest, rest];
      const frame = encoder.encode(first);
      expected += frame.length;
      const out = decoder.decode(frame);
      decoded += out.kind === 'data' ? countSpans(out.data) : 0;
      if (n <= 300) break;
      rest = after;
    }
  }
  let measured = 0;
  for (const d of data) measured += meter(d);
  // The same frames: equal but for each stream's random epoch in the frame headers (a varint).
  assert.ok(Math.abs(measured - expected) <= 0.002 * expected, `${measured} against ${expected}`);
  assert.equal(decoded, data.reduce((a, d) => a + countSpans(d), 0));
  assert.throws(() => tracezipByteMeter(0), /frameSpans/);
});

test('the price follows what the meter measures, drain after drain, and the target holds on it', () => {
  // A meter that says every span took 30 bytes (summaries and re-parenting included), over traffic
  // decided as it goes (many drains).
  const sampler = new AutoscopeSampler({ targetReduction: 0.95, price: 'tracezip' });
  assert.equal(sampler.tracezipPrice()!.spanBytes, 24);
  let measured = 0;
  const stream = new StreamingSampler({ strategy: sampler, decisionWaitMs: 1000, wireMeter: (d) => (measured += 30 * countSpans(d), 30 * countSpans(d)) });
  let clock = -Infinity;
  let input = 0;
  for (const b of collectTraffic({ seed: 4, traces: 1500, rate: 20, batchSpans: 256 }).batches) {
    input += encodeTracesData(b).length;
    clock = dataClockMs(b, clock);
    stream.push(b, clock);
    stream.poll(clock);
  }
  stream.flush();
  const price = sampler.tracezipPrice()!;
  assert.notEqual(price.spanBytes, 24, 'the per-span price was learned');
  assert.ok(Math.abs(1 - measured / input - 0.95) < 0.01, `reduction on the meter's bytes ${1 - measured / input} (${JSON.stringify(price)})`);
  assert.equal(new AutoscopeSampler({ targetReduction: 0.9 }).tracezipPrice(), undefined);
});
