// The adaptive budget with a fake clock: more load gives more reduction, the bounds hold, a step in
// load is smoothed by the half-life, attached byte budgets follow, and the metrics and their
// Prometheus text are right; then an adaptive strategy on generated traffic meets its bytes/s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteBudget } from '../../src/sampling/index.js';
import { AdaptiveBudget, AdaptiveSampler } from '../../src/sampling/adaptive.js';
import { RandomSpanSampler } from '../../src/sampling/baselines.js';
import { generated, runStream } from './helpers.js';

function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/** Feeds `bytesPerSecond` for `seconds`, in 100 ms steps. */
function feed(a: AdaptiveBudget, clock: ReturnType<typeof fakeClock>, bytesPerSecond: number, seconds: number): void {
  for (let i = 0; i < seconds * 10; i++) {
    clock.advance(100);
    a.observe(bytesPerSecond / 10);
  }
}

test('higher load, more reduction: needed = 1 - budget / rate', () => {
  const clock = fakeClock();
  const a = new AdaptiveBudget({ bytesPerSecondBudget: 1000, clock: clock.now, halfLifeMs: 1000 });
  assert.equal(a.targetReduction, 0, 'nothing measured yet: the minimum');
  feed(a, clock, 2000, 30);
  assert.ok(Math.abs(a.observedBytesPerSecond - 2000) < 1);
  assert.ok(Math.abs(a.targetReduction - 0.5) < 1e-3, `${a.targetReduction}`);
  feed(a, clock, 10_000, 30);
  assert.ok(Math.abs(a.targetReduction - 0.9) < 1e-3, `${a.targetReduction}`);
  feed(a, clock, 500, 30);
  assert.equal(a.targetReduction, 0, 'under budget: nothing to drop');
});

test('bounds: the target stays in [minReduction, maxReduction]', () => {
  const clock = fakeClock();
  const a = new AdaptiveBudget({ bytesPerSecondBudget: 1000, clock: clock.now, halfLifeMs: 500, minReduction: 0.2, maxReduction: 0.8 });
  assert.equal(a.targetReduction, 0.2);
  feed(a, clock, 100, 10);
  assert.equal(a.targetReduction, 0.2);
  feed(a, clock, 1_000_000, 10);
  assert.equal(a.targetReduction, 0.8);
  assert.throws(() => new AdaptiveBudget({ bytesPerSecondBudget: 1, maxReduction: 1 }), RangeError);
  assert.throws(() => new AdaptiveBudget({ bytesPerSecondBudget: 1, minReduction: 0.5, maxReduction: 0.4 }), RangeError);
  assert.throws(() => new AdaptiveBudget({ bytesPerSecondBudget: 0 }), RangeError);
});

test('smoothing: after a step in load, half of it shows after one half-life, however often observed', () => {
  for (const stepMs of [10, 100, 1000]) {
    const clock = fakeClock();
    const a = new AdaptiveBudget({ bytesPerSecondBudget: 1000, clock: clock.now, halfLifeMs: 5000 });
    for (let t = 0; t < 60_000; t += stepMs) {
      clock.advance(stepMs);
      a.observe((1000 * stepMs) / 1000);
    }
    assert.ok(Math.abs(a.observedBytesPerSecond - 1000) < 1);
    for (let t = 0; t < 5000; t += stepMs) {
      clock.advance(stepMs);
      a.observe((3000 * stepMs) / 1000);
    }
    assert.ok(Math.abs(a.observedBytesPerSecond - 2000) < 5, `step ${stepMs}: ${a.observedBytesPerSecond}`);
    assert.ok(Math.abs(a.targetReduction - 0.5) < 0.01);
  }
  // Bytes at one instant wait for time to pass; idle time brings the rate down.
  const clock = fakeClock();
  const a = new AdaptiveBudget({ bytesPerSecondBudget: 100, clock: clock.now, halfLifeMs: 1000 });
  a.observe(1000);
  clock.advance(1000);
  assert.ok(Math.abs(a.observedBytesPerSecond - 1000) < 1e-9);
  clock.advance(1000);
  assert.ok(Math.abs(a.observedBytesPerSecond - 500) < 1e-9, 'a silent second halves it');
});

test('attached byte budgets are retargeted', () => {
  const clock = fakeClock();
  const a = new AdaptiveBudget({ bytesPerSecondBudget: 1000, clock: clock.now, halfLifeMs: 100, initialReduction: 0.3 });
  const b = new ByteBudget({ targetReduction: 0.9 });
  a.attach(b);
  assert.ok(Math.abs(b.targetReduction - 0.3) < 1e-12);
  feed(a, clock, 4000, 10);
  assert.ok(Math.abs(b.targetReduction - 0.75) < 1e-3);
});

test('metrics and their Prometheus text', () => {
  const clock = fakeClock();
  const a = new AdaptiveBudget({ bytesPerSecondBudget: 1000, clock: clock.now, halfLifeMs: 1000 });
  feed(a, clock, 4000, 20);
  a.recordOutput(20_000);
  const m = a.metrics();
  assert.equal(m.budget_bytes_per_second, 1000);
  assert.ok(Math.abs(m.observed_bytes_per_second - 4000) < 1);
  assert.ok(Math.abs(m.target_reduction - 0.75) < 1e-3);
  assert.equal(m.input_bytes_total, 80_000);
  assert.equal(m.output_bytes_total, 20_000);
  assert.equal(m.achieved_reduction, 0.75);
  const text = a.prometheusText('slimtrace_sampling', { strategy: 'auto"scope' });
  const lines = text.trimEnd().split('\n');
  assert.equal(lines.length, 18);
  assert.ok(text.endsWith('\n'));
  assert.ok(lines.includes('# TYPE slimtrace_sampling_target_reduction gauge'));
  assert.ok(lines.includes('# TYPE slimtrace_sampling_input_bytes_total counter'));
  assert.ok(lines.includes('slimtrace_sampling_budget_bytes_per_second{strategy="auto\\"scope"} 1000'));
  assert.ok(lines.includes('slimtrace_sampling_achieved_reduction{strategy="auto\\"scope"} 0.75'));
  for (const l of lines) assert.match(l, /^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[^}]*\})? [-+0-9.eE]+)$/);
  assert.ok(new AdaptiveBudget({ bytesPerSecondBudget: 5, clock: clock.now }).prometheusText('x').includes('\nx_budget_bytes_per_second 5\n'));
});

test('an adaptive strategy on generated traffic keeps its output near the budget in bytes/s', () => {
  // The traffic's own clock: each trace is decided at its root's start (50 traces/s), in time order.
  const at = (t: (typeof traces0)[number]): number => Number(t.spans[t.roots[0]!]!.span.startTimeUnixNano / 1_000_000n);
  const traces0 = generated().traces;
  const traces = [...traces0].sort((a, b) => at(a) - at(b));
  let nowMs = 0;
  const first = Number(traces[0]!.spans[traces[0]!.roots[0]!]!.span.startTimeUnixNano / 1_000_000n);
  const clock = (): number => nowMs;
  let bytes = 0;
  for (const t of traces) bytes += t.bytes;
  const last = Number(traces[traces.length - 1]!.spans[traces[traces.length - 1]!.roots[0]!]!.span.startTimeUnixNano / 1_000_000n);
  const inputRate = (bytes * 1000) / (last - first);
  const budget = inputRate * 0.3; // room for 30%: the target should settle near 0.7
  nowMs = first;
  const adaptive = new AdaptiveBudget({ bytesPerSecondBudget: budget, clock, halfLifeMs: 2000, initialReduction: 0.5 });
  const sampler = new AdaptiveSampler(new RandomSpanSampler({ seed: 5 }), adaptive);
  const timed = traces.map((t) => ({ t, at: at(t) }));
  let out = 0;
  let outAfterWarmup = 0;
  let inAfterWarmup = 0;
  for (const { t, at } of timed) {
    nowMs = at;
    const r = runStream(sampler, [t], { summaries: false });
    out += r.outputBytes;
    if (at - first > 10_000) {
      outAfterWarmup += r.outputBytes;
      inAfterWarmup += t.bytes;
    }
  }
  assert.ok(out > 0);
  const achieved = 1 - outAfterWarmup / inAfterWarmup;
  assert.ok(Math.abs(adaptive.metrics().target_reduction - 0.7) < 0.1, `target ${adaptive.metrics().target_reduction}`);
  assert.ok(Math.abs(achieved - 0.7) <= 0.05 * 0.3 + 0.01, `achieved ${achieved}`);
  assert.equal(sampler.name, `adaptive(${sampler.inner.name})`);
});
