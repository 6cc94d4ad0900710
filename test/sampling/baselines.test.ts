// The baseline strategies: head (against the SDK's TraceIdRatioBasedSampler as the oracle), tail
// policies and its byte-budget mode, random span sampling at a budget, and leaf aggregation, each
// on generated traffic with structural checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { context } from '@opentelemetry/api';
import { SamplingDecision, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';
import { bytesToHex, getAttribute, hexToBytes, kv, makeResource, makeResourceSpans, makeScopeSpans, makeSpan, makeStatus, type LocatedSpan, type Span } from '../../src/model/index.js';
import { assembleTrace, ByteBudget, reduceTrace, sampleTrace, spanHasError, type SampledTrace } from '../../src/sampling/index.js';
import { AGGREGATE_ATTR, HeadSampler, LeafAggregateSampler, RandomSpanSampler, TailSampler, traceIdRatioKeeps } from '../../src/sampling/baselines.js';
import { droppedCount, generated, runStream } from './helpers.js';

const { traces } = generated();

test('head: the same decision as the SDK TraceIdRatioBasedSampler for random ids and ratios', () => {
  const ratios = [0, 0.001, 0.1, 0.25, 0.5, 0.8, 0.999, 1];
  const ids: string[] = [];
  for (let i = 0; i < 20_000; i++) ids.push(randomBytes(16).toString('hex'));
  ids.push('0'.repeat(32), 'f'.repeat(32), 'FFFFFFFF00000000ffffffff00000001', '0'.repeat(31) + '1', 'xyz', '');
  for (const ratio of ratios) {
    const sdk = new TraceIdRatioBasedSampler(ratio);
    const head = new HeadSampler({ ratio });
    let kept = 0;
    for (const id of ids) {
      const expected = sdk.shouldSample(context.active(), id).decision === SamplingDecision.RECORD_AND_SAMPLED;
      assert.equal(head.keepsTraceId(id), expected, `ratio ${ratio}, id ${id}`);
      assert.equal(traceIdRatioKeeps(id, ratio), expected);
      if (expected) kept++;
    }
    if (ratio > 0 && ratio < 1) assert.ok(Math.abs(kept / ids.length - ratio) < 0.02, `ratio ${ratio}: kept ${kept / ids.length}`);
  }
});

test('head: ratio defaults to 1 - targetReduction; whole traces kept or dropped on generated traffic', () => {
  assert.equal(new HeadSampler({ targetReduction: 0.7 }).ratio, 0.30000000000000004);
  assert.equal(new HeadSampler().ratio, 1 - 0.8);
  assert.throws(() => new HeadSampler({ ratio: 1.5 }), RangeError);
  const head = new HeadSampler({ targetReduction: 0.8 });
  const r = runStream(head, traces);
  for (const [id, out] of r.reduced) assert.equal(out.droppedSpans, 0, id);
  const share = r.tracesKept / r.traces;
  assert.ok(Math.abs(share - 0.2) < 0.04, `kept ${share} of traces`);
  // Trace-level: the byte reduction is the ratio's only in expectation.
  assert.ok(Math.abs(r.reduction - 0.8) < 0.06, `reduction ${r.reduction}`);
});

test('tail: error traces and slow traces are kept, the rest at the rate by trace id', () => {
  const rootMs = (t: SampledTrace): number => t.duration[t.roots[0]!]! / 1e6;
  const sorted = traces.map(rootMs).sort((a, b) => a - b);
  const threshold = sorted[Math.floor(sorted.length * 0.95)]!;
  const tail = new TailSampler({ latencyThresholdMs: threshold, rate: 0.1 });
  const r = runStream(tail, traces);
  let errors = 0;
  let slow = 0;
  let other = 0;
  let otherKept = 0;
  for (const t of traces) {
    const kept = r.reduced.has(t.traceIdHex);
    if (t.spans.some((s) => spanHasError(s.span))) {
      errors++;
      assert.ok(kept, 'error trace kept');
    } else if (rootMs(t) > threshold) {
      slow++;
      assert.ok(kept, 'slow trace kept');
    } else {
      other++;
      if (kept) otherKept++;
      assert.equal(kept, traceIdRatioKeeps(t.traceIdHex, 0.1), 'probabilistic by trace id');
    }
  }
  assert.ok(errors > 10 && slow > 10, `errors ${errors}, slow ${slow}`);
  assert.ok(Math.abs(otherKept / other - 0.1) < 0.03, `rest kept ${otherKept / other}`);
  assert.equal(tail.counters.keptError, errors);
  assert.equal(tail.counters.keptLatency, slow);
  // Errors off: an error trace follows the rate like any other.
  const noErr = new TailSampler({ keepErrors: false, rate: 0 });
  for (const t of traces.slice(0, 200)) assert.equal(noErr.decide(t), false);
});

test('tail: byte-budget mode meets the target within 5% and still keeps every error trace', () => {
  let errorBytes = 0;
  let bytes = 0;
  for (const t of traces) {
    bytes += t.bytes;
    if (t.spans.some((s) => spanHasError(s.span))) errorBytes += t.bytes;
  }
  for (const target of [0.6, 0.7, 0.85]) {
    const tail = new TailSampler({ targetReduction: target });
    const r = runStream(tail, traces);
    assert.ok(Math.abs(r.reduction - target) <= 0.05 * (1 - target), `target ${target}: reduction ${r.reduction}`);
    for (const t of traces) if (t.spans.some((s) => spanHasError(s.span))) assert.ok(r.reduced.has(t.traceIdHex));
  }
  // A target below what the error traces need: they are all kept, and little else.
  assert.ok(errorBytes / bytes > 0.05, 'the generated faults give more than 5% error bytes');
  const r = runStream(new TailSampler({ targetReduction: 0.95 }), traces);
  assert.ok(r.reduction < 0.95 && r.reduction > 1 - errorBytes / bytes - 0.02, `reduction ${r.reduction}`);
});

test('random-span: every trace kept with its root, budget met within 5%, deterministic per seed', () => {
  // With dropped-span summaries (the default) the roots and their summaries alone take about a third
  // of the bytes of this traffic (the roots alone 11%), so higher targets are checked without summaries.
  for (const [target, summaries] of [[0.5, true], [0.8, false], [0.85, false]] as const) {
    const r = runStream(new RandomSpanSampler({ targetReduction: target, seed: 1 }), traces, { summaries });
    assert.equal(r.tracesKept, r.traces);
    assert.ok(Math.abs(r.reduction - target) <= 0.05 * (1 - target), `target ${target}: reduction ${r.reduction}`);
    assert.ok(r.spansOut < r.spansIn);
  }
  const a = new RandomSpanSampler({ seed: 3 }).decide(traces[5]!);
  const b = new RandomSpanSampler({ seed: 3 }).decide(traces[5]!);
  assert.deepEqual(a, b);
  // A different seed draws differently somewhere.
  let differ = false;
  const s3 = new RandomSpanSampler({ seed: 3 });
  const s4 = new RandomSpanSampler({ seed: 4 });
  for (const t of traces.slice(0, 50)) if (bytesToHex(s3.decide(t)) !== bytesToHex(s4.decide(t))) differ = true;
  assert.ok(differ);
});

// A hand-made trace: root -> A (3 leaf SELECTs, 1 leaf with error, 1 non-leaf SELECT with a child), root -> B (1 leaf).
function handTrace(): SampledTrace {
  const resource = makeResource({ attributes: [kv('service.name', 'svc')] });
  const ss = makeScopeSpans({});
  const rs = makeResourceSpans({ resource, scopeSpans: [ss] });
  const tid = hexToBytes('0af7651916cd43dd8448eb211c80319c')!;
  let next = 1;
  const id = (): Uint8Array => hexToBytes((next++).toString(16).padStart(16, '0'))!;
  const spans: Span[] = [];
  const add = (name: string, parent: Span | undefined, start: number, end: number, extra: Partial<Span> = {}): Span => {
    const s = makeSpan({ traceId: tid, spanId: id(), parentSpanId: parent?.spanId, name, startTimeUnixNano: BigInt(start), endTimeUnixNano: BigInt(end), ...extra });
    spans.push(s);
    return s;
  };
  const root = add('GET /', undefined, 0, 1000);
  const a = add('A', root, 10, 900);
  add('SELECT t', a, 20, 30);
  add('SELECT t', a, 40, 80);
  add('SELECT t', a, 100, 110);
  add('SELECT t', a, 120, 130, { status: makeStatus(2) });
  const nonLeaf = add('SELECT t', a, 140, 200);
  add('inner', nonLeaf, 150, 160);
  const b = add('B', root, 910, 990);
  add('SELECT t', b, 920, 930);
  ss.spans = spans;
  const located: LocatedSpan[] = spans.map((span) => ({ span, resource, scope: ss.scope, resourceSpans: rs, scopeSpans: ss }));
  return assembleTrace(bytesToHex(tid), located);
}

test('leaf-aggregate: a leaf group becomes its first span with count and duration attributes', () => {
  const trace = handTrace();
  const out = sampleTrace(new LeafAggregateSampler(), trace)!;
  const names = out.spans.map((s) => s.span.name);
  // The 3 plain SELECT leaves of A become one; the error leaf, the non-leaf SELECT and B's single leaf stay.
  assert.deepEqual(names, ['GET /', 'A', 'SELECT t', 'SELECT t', 'SELECT t', 'inner', 'B', 'SELECT t']);
  const summary = out.spans[2]!.span;
  assert.equal(bytesToHex(summary.spanId), '0000000000000003');
  assert.equal(getAttribute(summary.attributes, AGGREGATE_ATTR.COUNT), 3n);
  assert.equal(getAttribute(summary.attributes, AGGREGATE_ATTR.MIN_NS), 10n);
  assert.equal(getAttribute(summary.attributes, AGGREGATE_ATTR.MAX_NS), 40n);
  assert.equal(getAttribute(summary.attributes, AGGREGATE_ATTR.SUM_NS), 60n);
  assert.equal(getAttribute(summary.attributes, AGGREGATE_ATTR.FIRST_NS), 10n);
  assert.equal(summary.startTimeUnixNano, 20n);
  assert.equal(summary.endTimeUnixNano, 110n);
  // The merged spans are not summarized again on A.
  const a = out.spans[1]!.span;
  assert.equal(droppedCount(a.attributes), 0);
  assert.ok(spanHasError(out.spans[3]!.span));
  // The input is not mutated.
  assert.equal(trace.spans[2]!.span.endTimeUnixNano, 30n);
  assert.equal(trace.spans[2]!.span.attributes.length, 0);
  // minGroup 4: nothing to merge, the trace is kept whole.
  assert.equal(new LeafAggregateSampler({ minGroup: 4 }).decide(trace), true);
  assert.throws(() => new LeafAggregateSampler({ minGroup: 1 }), RangeError);
});

test('leaf-aggregate on generated traffic: intact, every trace kept, counts add up to the input', () => {
  const r = runStream(new LeafAggregateSampler(), traces);
  assert.equal(r.tracesKept, r.traces);
  assert.ok(r.spansOut < r.spansIn, 'the generated loops give leaf groups to merge');
  for (const t of traces) {
    const out = r.reduced.get(t.traceIdHex)!;
    let represented = 0;
    for (const s of out.spans) {
      const c = getAttribute(s.span.attributes, AGGREGATE_ATTR.COUNT);
      represented += c === undefined ? 1 : Number(c);
    }
    assert.equal(represented, t.spans.length, t.traceIdHex);
  }
});

test('reduceTrace: patches append attributes and replace times on kept spans only; accounted spans are not summarized', () => {
  const trace = handTrace();
  const keep = new Uint8Array(trace.spans.length).fill(1);
  keep[3] = 0;
  keep[4] = 0;
  const plain = reduceTrace(trace, keep.slice());
  assert.equal(droppedCount(plain.spans[1]!.span.attributes), 2);
  const accounted = new Uint8Array(trace.spans.length);
  accounted[3] = 1;
  const patched = reduceTrace(trace, keep.slice(), { patches: new Map([[2, { attributes: [kv('x', 1n)], endTimeUnixNano: 99n }]]), accounted });
  assert.equal(droppedCount(patched.spans[1]!.span.attributes), 1);
  const s = patched.spans.find((x) => bytesToHex(x.span.spanId) === '0000000000000003')!.span;
  assert.equal(getAttribute(s.attributes, 'x'), 1n);
  assert.equal(s.endTimeUnixNano, 99n);
  assert.equal(s.startTimeUnixNano, 20n);
  assert.ok(patched.bytes > plain.bytes - 40);
});

test('ByteBudget.setTargetReduction changes what comes next, not what was spent', () => {
  const b = new ByteBudget({ targetReduction: 0.5 });
  b.record(1000, 500);
  assert.equal(b.allowance(100), 50);
  b.setTargetReduction(0.9);
  assert.equal(b.targetReduction, 0.9);
  assert.ok(Math.abs(b.allowance(100) - 10) < 1e-9, 'no credit from re-pricing the past');
  b.record(1000, 0);
  assert.ok(Math.abs(b.allowance(100) - 30) < 1e-9, 'credit 100, carry bounded to 2 shares');
  assert.throws(() => b.setTargetReduction(1), RangeError);
});
