// The envelope meter (what OTLP requests add around kept spans) against the bytes of the requests
// themselves, and the byte budget's use of it: counted as output, the margin dropped once reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectTraffic } from '../../src/generator/index.js';
import { bytesToHex, countSpans, locatedSpans, type LocatedSpan, type TracesData } from '../../src/model/index.js';
import { encodedSpanSize, encodeTracesData } from '../../src/otlp/index.js';
import { AutoscopeSampler, ByteBudget, toTracesData } from '../../src/sampling/index.js';
import { EnvelopeMeter } from '../../src/sampling/envelopes.js';
import { evaluateSampling, OtlpByteCounter } from '../../src/eval/sampling.js';

test('the meter measures what requests of N spans add around their spans, span by span or batch by batch, within the length prefixes', () => {
  const run = collectTraffic({ seed: 4, traces: 300, batchSpans: 97 });
  for (const [n, bySpans] of [[512, true], [64, true], [7, true], [512, false], [7, false]] as const) {
    const meter = new EnvelopeMeter(n);
    const counter = new OtlpByteCounter(n);
    let spanBytes = 0;
    let envelopes = 0;
    for (const b of run.batches) {
      envelopes += bySpans ? meter.add([...locatedSpans(b)]) : meter.addData(b);
      counter.addData(b);
      for (const rs of b.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) spanBytes += encodedSpanSize(s);
    }
    const actual = counter.finish() - spanBytes;
    assert.ok(actual > 0);
    // Each envelope's estimate allows 2 bytes for the growth of its length prefix: over, by at most that.
    assert.ok(envelopes >= actual && envelopes - actual <= 0.25 * actual, `batches of ${n}: measured ${envelopes}, requests add ${actual}`);
  }
  assert.throws(() => new EnvelopeMeter(0), /positive integer/);
});

test('the budget counts reported envelopes as output and drops its margin once they are reported', () => {
  const budget = new ByteBudget({ targetReduction: 0.8, margin: 0.05 });
  assert.ok(budget.allowance(1000) < 200, 'the margin lowers the share while envelopes are unknown');
  budget.recordOverhead(0, 0);
  assert.equal(Math.round(budget.allowance(1000)), 200, 'the share at the target once they are reported');
  budget.record(1000, 150);
  budget.recordOverhead(100, 30);
  assert.equal(Math.round(budget.credit), 40, 'the input envelopes add to what may be kept, the output ones take from it');
  assert.ok(Math.abs(budget.achieved() - (1 - 180 / 1100)) < 1e-9);
});

test('regroup merges envelopes of equal content from different requests, and loses no span', () => {
  // Small batches: every batch has envelope objects of its own, as decoded requests do.
  const run = collectTraffic({ seed: 5, traces: 200, batchSpans: 50 });
  const located = run.batches.flatMap((b) => [...locatedSpans(b)]);
  const meter = new EnvelopeMeter(512, 1_000_000);
  const merged = meter.regroup(located);
  const byObject = toTracesData(located);
  const distinct = new Set(located.map((s) => Buffer.from(encodeTracesData({ resourceSpans: [{ ...s.resourceSpans, scopeSpans: [] }] })).toString('hex')));
  assert.equal(merged.resourceSpans.length, distinct.size, 'one ResourceSpans per distinct resource envelope');
  assert.ok(byObject.resourceSpans.length > merged.resourceSpans.length);
  assert.ok(encodeTracesData(merged).length < encodeTracesData(byObject).length);
  // The same spans, each under a resource and scope of the same bytes as its own.
  const envelopeOf = (d: TracesData): string[] =>
    [...locatedSpans(d)].map((s) => bytesToHex(s.span.spanId) + ' ' + Buffer.from(encodeTracesData({ resourceSpans: [{ ...s.resourceSpans, scopeSpans: [{ ...s.scopeSpans, spans: [] }] }] })).toString('hex')).sort();
  assert.deepEqual(envelopeOf(merged), envelopeOf(byObject));
  assert.equal(countSpans(merged), located.length);
});

test('regroup cuts every N spans in their order and merges by envelope within each cut; cut per request, what add() estimates is what the cuts add', () => {
  const run = collectTraffic({ seed: 6, traces: 400, batchSpans: 60 });
  const traces = new Map<string, LocatedSpan[]>();
  for (const b of run.batches)
    for (const s of locatedSpans(b)) {
      const k = bytesToHex(s.span.traceId);
      let list = traces.get(k);
      if (!list) traces.set(k, (list = []));
      list.push(s);
    }
  const estimator = new EnvelopeMeter(64);
  const grouper = new EnvelopeMeter(64, 64); // cuts of one request each: add()'s model exactly
  const sent = new EnvelopeMeter(64);
  let estimate = 0;
  let measured = 0;
  let drained = 0;
  const drain: LocatedSpan[] = [];
  let k = 0;
  const flush = (): void => {
    const out = grouper.regroup(drain, drained);
    // Every cut holds the cut's spans, each resource once.
    const got = [...locatedSpans(out)].map((s) => bytesToHex(s.span.spanId));
    let at = 0;
    let cutStart = 0;
    let first = 64 - (drained % 64);
    while (cutStart < drain.length) {
      const len = Math.min(first, drain.length - cutStart);
      assert.deepEqual(got.slice(at, at + len).sort(), drain.slice(cutStart, cutStart + len).map((s) => bytesToHex(s.span.spanId)).sort());
      at += len;
      cutStart += len;
      first = 64;
    }
    measured += sent.addData(out);
    drained += drain.length;
    drain.length = 0;
  };
  for (const spans of traces.values()) {
    // A third of each trace kept, drained every 7 traces (not on a cut's end).
    const kept = spans.filter((_, i) => i % 3 === 0);
    estimate += estimator.add(kept);
    drain.push(...kept);
    if (++k % 7 === 0) flush();
  }
  flush();
  assert.ok(measured > 0);
  assert.equal(estimate, measured);
});

test('addRegrouped estimates what drains cut every 4,096 spans, merged by envelope and sent in requests of 512, add', () => {
  const run = collectTraffic({ seed: 7, traces: 1500, batchSpans: 60 });
  const meter = new EnvelopeMeter();
  const sent = new EnvelopeMeter();
  let estimate = 0;
  let measured = 0;
  let drained = 0;
  // Every other span kept, a batch a decision, drained past 9,000 spans (several cuts): an offline run
  // drains most of its input at once, where the estimate stands alone until the end. Small drains
  // (a live processor's polls) are measured and corrected one by one, so their estimate matters less.
  let drain: LocatedSpan[] = [];
  const flush = (): void => {
    measured += sent.addData(meter.regroup(drain, drained));
    meter.endDrain();
    drained += drain.length;
    drain = [];
  };
  for (const b of run.batches) {
    const kept = [...locatedSpans(b)].filter((_, i) => i % 2 === 0);
    estimate += meter.addRegrouped(kept, sent);
    drain.push(...kept);
    if (drain.length > 9000) flush();
  }
  flush();
  assert.ok(measured > 0);
  assert.ok(Math.abs(estimate - measured) <= 0.1 * measured, `estimated ${estimate}, measured ${measured}`);
});

test('a sampler whose decisions come in one burst meets its byte target as the output is counted (the drain corrects the estimates)', async () => {
  // 40 s of traffic decided with a 30 s wait: most traces are decided at the end, in one drain.
  const run = collectTraffic({ seed: 2, traces: 2000, rate: 50, batchSpans: 4096 });
  for (const target of [0.85, 0.6]) {
    const [r] = await evaluateSampling({ batches: toAsync(run.batches), strategies: [new AutoscopeSampler({ targetReduction: target })] });
    assert.ok(r!.reduction >= target - 0.002 && r!.reduction <= target + 0.003, `target ${target}: reduction ${r!.reduction}`);
  }
});

async function* toAsync<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const x of items) yield x;
}
