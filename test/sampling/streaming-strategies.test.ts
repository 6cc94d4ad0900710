// The baselines, the seed's samplers and the adaptive wrapper through the StreamingSampler (what the
// CLI, the evaluation and a server run): generated batches in, decision wait on the data's clock,
// every decided trace checked for structure, budgets met within 5%, and the ground truth's faulty
// spans where a strategy promises them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectTraffic, defaultFaultScenario } from '../../src/generator/index.js';
import { bytesToHex } from '../../src/model/index.js';
import { dataClockMs, StreamingSampler, type ReduceOptions, type SamplingStrategy } from '../../src/sampling/index.js';
import { HeadSampler, LeafAggregateSampler, RandomSpanSampler, TailSampler } from '../../src/sampling/baselines.js';
import { ImportanceSampler, StructurePreservingSampler } from '../../src/sampling/seed.js';
import { checkReducedTrace, OtlpByteCounter } from '../../src/eval/sampling.js';

const run = collectTraffic({ seed: 21, durationSeconds: 40, rate: 40, faults: defaultFaultScenario(40), batchSpans: 1000 });

interface Outcome {
  reduction: number;
  traces: number;
  tracesKept: number;
  keptSpanKeys: Set<string>;
  spansOut: number;
  spansIn: number;
}

function stream(strategy: SamplingStrategy, reduce?: ReduceOptions): Outcome {
  // OTLP bytes in requests of 512 spans, the output in the order it is decided (as an SDK's batch
  // processor sends it on): the budgets count the envelopes of what they write that way
  // (recordEnvelope), so span bytes alone would show them over-reducing.
  const input = new OtlpByteCounter();
  const output = new OtlpByteCounter();
  let traces = 0;
  let tracesKept = 0;
  const keptSpanKeys = new Set<string>();
  const sampler = new StreamingSampler({
    strategy,
    decisionWaitMs: 5000,
    reduce,
    onDecision: (trace, reduced) => {
      traces++;
      if (!reduced) return;
      tracesKept++;
      for (const s of reduced.spans) output.add(s);
      const problem = checkReducedTrace(trace, reduced);
      assert.equal(problem, undefined, `${strategy.name}: ${problem}`);
      for (const s of reduced.spans) keptSpanKeys.add(bytesToHex(s.span.traceId) + bytesToHex(s.span.spanId));
    },
  });
  let clock = 0;
  let spansOut = 0;
  const count = (d: ReturnType<StreamingSampler['poll']>): void => {
    if (!d) return;
    for (const rs of d.resourceSpans) for (const ss of rs.scopeSpans) spansOut += ss.spans.length;
  };
  for (const b of run.batches) {
    clock = dataClockMs(b, clock);
    input.addData(b);
    sampler.push(b, clock);
    count(sampler.poll(clock));
  }
  count(sampler.flush());
  assert.equal(sampler.counters.lateSpansUnknown, 0);
  return { reduction: 1 - output.finish() / input.finish(), traces, tracesKept, keptSpanKeys, spansOut, spansIn: run.spans };
}

const exactOf = (faultType: string): string[] => {
  const ids = new Set(run.groundTruth.faults.filter((f) => f.type === faultType).map((f) => f.id));
  return run.groundTruth.spans.filter((s) => ids.has(s.faultId) && s.definition === 'exact').map((s) => s.traceId + s.spanId);
};

test('budgeted strategies meet their byte budget within 5% through the streaming processor', () => {
  const cases: [SamplingStrategy, number, ReduceOptions | undefined][] = [
    [new TailSampler({ targetReduction: 0.7 }), 0.7, undefined],
    [new RandomSpanSampler({ targetReduction: 0.5 }), 0.5, undefined],
    [new RandomSpanSampler({ targetReduction: 0.8 }), 0.8, { summaries: false }],
    [new ImportanceSampler({ targetReduction: 0.5 }), 0.5, undefined],
    [new ImportanceSampler({ targetReduction: 0.8 }), 0.8, { summaries: false }],
    [new StructurePreservingSampler(new ImportanceSampler({ targetReduction: 0.6 })), 0.6, { summaries: false }],
  ];
  for (const [strategy, target, reduce] of cases) {
    const o = stream(strategy, reduce);
    assert.ok(Math.abs(o.reduction - target) <= 0.05 * (1 - target), `${strategy.name} at ${target}: ${o.reduction}`);
    if (strategy.name !== 'tail') assert.equal(o.tracesKept, o.traces, `${strategy.name} keeps every trace`);
    assert.equal(o.spansOut, [...o.keptSpanKeys].length);
  }
});

test('head keeps whole traces by id; leaf-aggregate keeps every trace; all intact', () => {
  const head = stream(new HeadSampler({ ratio: 0.25 }));
  assert.ok(Math.abs(head.tracesKept / head.traces - 0.25) < 0.05);
  const leaf = stream(new LeafAggregateSampler());
  assert.equal(leaf.tracesKept, leaf.traces);
  assert.ok(leaf.spansOut < leaf.spansIn);
});

test('ground truth: tail sampling keeps every exact faulty span of the exception fault (error traces are kept whole)', () => {
  const exception = exactOf('exception');
  assert.ok(exception.length > 10);
  const tail = stream(new TailSampler({ targetReduction: 0.8 }));
  for (const k of exception) assert.ok(tail.keptSpanKeys.has(k), k);
  // Head sampling does not look: it keeps about its ratio of them.
  const head = stream(new HeadSampler({ ratio: 0.2 }));
  const kept = exception.filter((k) => head.keptSpanKeys.has(k)).length;
  assert.ok(kept < exception.length * 0.5, `head kept ${kept}/${exception.length}`);
});
