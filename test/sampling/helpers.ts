// Shared helpers of the sampling strategy tests: generated traffic with its ground truth, assembled
// into the sampler's view, and a run of a strategy over a stream of traces that checks structure
// and adds up bytes.
import assert from 'node:assert/strict';
import { collectTraffic, defaultFaultScenario, type FaultySpan } from '../../src/generator/index.js';
import { getAttribute, locatedSpans, type KeyValue, type LocatedSpan } from '../../src/model/index.js';
import { assembleTraces, parseDroppedSummary, sampleTrace, SAMPLING_ATTR, type ReduceOptions, type ReducedTrace, type SampledTrace, type SamplingStrategy } from '../../src/sampling/index.js';
import { checkReducedTrace } from '../../src/eval/sampling.js';

export interface Generated {
  traces: SampledTrace[];
  faulty: FaultySpan[];
}

const cache = new Map<string, Generated>();

/** Generated traffic with the default fault scenario, as assembled traces (cached per seed and length). */
export function generated(seed = 7, durationSeconds = 30, rate = 50): Generated {
  const key = `${seed}/${durationSeconds}/${rate}`;
  let g = cache.get(key);
  if (!g) {
    const run = collectTraffic({ seed, durationSeconds, rate, faults: defaultFaultScenario(durationSeconds) });
    const spans: LocatedSpan[] = [];
    for (const b of run.batches) for (const s of locatedSpans(b)) spans.push(s);
    g = { traces: assembleTraces(spans), faulty: run.groundTruth.spans };
    cache.set(key, g);
  }
  return g;
}

export interface StreamResult {
  inputBytes: number;
  outputBytes: number;
  reduction: number;
  traces: number;
  tracesKept: number;
  spansIn: number;
  spansOut: number;
  reduced: Map<string, ReducedTrace>;
}

/**
 * Runs a strategy over the traces in order (as sampleTrace does in the streaming processor) and
 * asserts every kept trace is structurally intact: one root, no orphans, each kept span under its
 * nearest kept ancestor.
 */
export function runStream(strategy: SamplingStrategy, traces: readonly SampledTrace[], options?: ReduceOptions): StreamResult {
  const r: StreamResult = { inputBytes: 0, outputBytes: 0, reduction: 0, traces: 0, tracesKept: 0, spansIn: 0, spansOut: 0, reduced: new Map() };
  for (const t of traces) {
    r.traces++;
    r.inputBytes += t.bytes;
    r.spansIn += t.spans.length;
    const out = sampleTrace(strategy, t, options);
    if (!out) continue;
    r.tracesKept++;
    r.outputBytes += out.bytes;
    r.spansOut += out.spans.length;
    r.reduced.set(t.traceIdHex, out);
    const problem = checkReducedTrace(t, out);
    assert.equal(problem, undefined, `${strategy.name}: trace ${t.traceIdHex}: ${problem}`);
    assert.equal(out.spans.filter((s) => s.span.parentSpanId.length === 0).length, t.spans.filter((s) => s.span.parentSpanId.length === 0).length, 'one root, as in the original');
  }
  r.reduction = 1 - r.outputBytes / r.inputBytes;
  return r;
}

/** Spans a kept span's dropped-span summary covers (0 without one). */
export function droppedCount(attributes: readonly KeyValue[]): number {
  const v = getAttribute(attributes as KeyValue[], SAMPLING_ATTR.DROPPED);
  if (typeof v !== 'string') return 0;
  return parseDroppedSummary(v, '').reduce((n, o) => n + o.count, 0);
}
