// The figures the report adds, on hand-built traces with known answers, including the losses they
// must report: a dropped faulty span (coverage below 1), an orphaned span (not intact), a missed
// trace (query miss rate), spans dropped without a summary, a Tracezip frame that does not decode
// back (the lossless check fails), and quantiles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FaultySpans } from '../../src/datasets/index.js';
import { hexToBytes, kv, locatedSpans, makeResource, makeResourceSpans, makeScopeSpans, makeSpan, makeTracesData, SpanBatcher, type TracesData } from '../../src/model/index.js';
import { encodeTracesData } from '../../src/otlp/index.js';
import { assembleTrace, KEEP_SKELETON, reduceTrace, type SampledTrace, type SamplingStrategy } from '../../src/sampling/index.js';
import { TracezipDecoder } from '../../src/tracezip/index.js';
import { checkReducedTrace, CodecMeter, evaluateSampling, missRate, quantile, runEvaluation, spanFates, WaterfallCollector } from '../../src/eval/index.js';

const SEC = 1_000_000_000n;

/**
 * One trace per id: root A (frontend) -> B (api) -> C (db), A -> D (cache). Times in ms from `t0s`.
 * Span ids are the trace's number then the letter's, so they are distinct across traces.
 */
function trace(n: number, t0s = 1000): TracesData {
  const traceId = hexToBytes(n.toString(16).padStart(32, '0'));
  const id = (c: string) => hexToBytes(`${n.toString(16).padStart(14, '0')}0${'abcd'.indexOf(c) + 1}`);
  const at = (ms: number) => BigInt(t0s) * SEC + BigInt(ms) * 1_000_000n;
  const span = (c: string, name: string, parent: string | undefined, start: number, end: number) =>
    makeSpan({ traceId, spanId: id(c), parentSpanId: parent ? id(parent) : undefined, name, startTimeUnixNano: at(start), endTimeUnixNano: at(end) });
  const svc = (name: string) => makeResource({ attributes: [kv('service.name', name)] });
  return makeTracesData([
    makeResourceSpans({ resource: svc('frontend'), scopeSpans: [makeScopeSpans({ spans: [span('a', 'GET /', undefined, 0, 10), span('d', 'cache get', 'a', 8, 9)] })] }),
    makeResourceSpans({ resource: svc('api'), scopeSpans: [makeScopeSpans({ spans: [span('b', 'POST /x', 'a', 1, 7)] })] }),
    makeResourceSpans({ resource: svc('db'), scopeSpans: [makeScopeSpans({ spans: [span('c', 'SELECT', 'b', 2, 5)] })] }),
  ]);
}

function assembled(n: number): SampledTrace {
  const spans = [...locatedSpans(trace(n))];
  return assembleTrace(n.toString(16).padStart(32, '0'), spans);
}

const indexOf = (t: SampledTrace, name: string) => t.spans.findIndex((s) => s.span.name === name);

test('span fates: kept, re-parented with the levels skipped, summarized, and dropped without a summary', () => {
  const t = assembled(1);
  const keep = new Uint8Array(4);
  keep[indexOf(t, 'GET /')] = 1;
  keep[indexOf(t, 'SELECT')] = 1;
  const withSummaries = spanFates(t, reduceTrace(t, keep.slice(), { summaries: true }));
  const fate = (f: typeof withSummaries, name: string) => f.fates[indexOf(t, name)];
  assert.equal(fate(withSummaries, 'GET /'), 'kept');
  assert.equal(fate(withSummaries, 'SELECT'), 'reparented');
  assert.equal(withSummaries.skipped[indexOf(t, 'SELECT')], 1);
  assert.equal(fate(withSummaries, 'POST /x'), 'summarized');
  assert.equal(fate(withSummaries, 'cache get'), 'summarized');
  // Without summaries nothing accounts for the dropped spans: they are lost, and shown as dropped.
  const bare = spanFates(t, reduceTrace(t, keep.slice(), { summaries: false }));
  assert.equal(fate(bare, 'POST /x'), 'dropped');
  assert.equal(fate(bare, 'cache get'), 'dropped');
  assert.equal(fate(bare, 'SELECT'), 'reparented');
  assert.deepEqual(withSummaries.skeleton, [false, false, false, false]);
  // A span kept as a skeleton is kept, and says so.
  const skel = keep.slice();
  skel[indexOf(t, 'GET /')] = KEEP_SKELETON;
  const asSkeleton = spanFates(t, reduceTrace(t, skel, { summaries: true }));
  assert.equal(fate(asSkeleton, 'GET /'), 'kept');
  assert.equal(asSkeleton.skeleton[indexOf(t, 'GET /')], true);
  assert.equal(asSkeleton.skeleton[indexOf(t, 'SELECT')], false);
  // A dropped trace: every span dropped.
  assert.deepEqual(spanFates(t, undefined).fates, ['dropped', 'dropped', 'dropped', 'dropped']);
});

test('an orphaned span is a structural loss: checkReducedTrace names it', () => {
  const t = assembled(2);
  const keep = new Uint8Array(4);
  keep[indexOf(t, 'GET /')] = 1;
  keep[indexOf(t, 'SELECT')] = 1;
  const reduced = reduceTrace(t, keep, { summaries: false });
  assert.equal(checkReducedTrace(t, reduced), undefined);
  // The same kept spans with SELECT still pointing at its dropped parent: an orphan.
  const orphaned = { ...reduced, spans: reduced.spans.map((s) => (s.span.name === 'SELECT' ? { ...s, span: { ...s.span, parentSpanId: t.spans[indexOf(t, 'POST /x')]!.span.spanId } } : s)) };
  assert.match(checkReducedTrace(t, orphaned) ?? '', /hangs under/);
});

test('query miss rate: found / asked, with a missed trace', () => {
  assert.equal(missRate(1, 2), 0.5);
  assert.equal(missRate(2, 2), 0);
  assert.equal(missRate(0, 0), 0);
});

test('quantile: nearest rank on known values', () => {
  const v = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(quantile(v, 0.5), 5);
  assert.equal(quantile(v, 0.99), 10);
  assert.equal(quantile(v, 0), 1);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

/** Keeps every span of trace 1, only the root of the others: drops the faulty SELECT of trace 2, drops trace 3 whole. */
const lossy: SamplingStrategy = {
  name: 'lossy',
  decide(t) {
    if (t.traceIdHex.endsWith('3')) return false;
    if (t.traceIdHex.endsWith('1')) return true;
    const keep = new Uint8Array(t.spans.length);
    keep[indexOf(t, 'GET /')] = 1;
    return keep;
  },
};

function labels(): FaultySpans {
  const f = new FaultySpans();
  for (const n of [1, 2]) {
    const c = trace(n).resourceSpans[2]!.scopeSpans[0]!.spans[0]!;
    f.add('exact', c.traceId, c.spanId, `fault-${n}`);
  }
  return f;
}

async function* batches(): AsyncGenerator<TracesData> {
  for (const n of [1, 2, 3]) yield trace(n, 1000 + n * 100);
}

test('coverage reports the dropped faulty span, and the dropped trace is a missed trace', async () => {
  const types = new Map([
    ['fault-1', 'delay'],
    ['fault-2', 'exception'],
  ]);
  const [r] = await evaluateSampling({ batches: batches(), strategies: [lossy], faultySpans: labels(), faultTypes: () => types, decisionWaitMs: 1000 });
  assert.ok(r);
  assert.deepEqual(r.coverage.exact, { faulty: 2, kept: 1, share: 0.5 });
  assert.deepEqual(r.coverageByType.exact, { delay: { faulty: 1, kept: 1, share: 1 }, exception: { faulty: 1, kept: 0, share: 0 } });
  assert.equal(r.traces, 3);
  assert.equal(r.tracesKept, 2);
  assert.ok(Math.abs(missRate(r.tracesKept, r.traces) - 1 / 3) < 1e-12);
  assert.equal(r.outputSpans, 4 + 1);
});

test('the waterfall collector picks one faulty trace per fault type and records each strategy fate', () => {
  const f = labels();
  const types = new Map([
    ['fault-1', 'delay'],
    ['fault-2', 'delay'],
  ]);
  const c = new WaterfallCollector({ faultySpans: f, faultType: (id) => types.get(id), strategies: ['lossy', 'all'] });
  for (const n of [1, 2, 3]) {
    const t = assembled(n);
    const decision = lossy.decide(t);
    const reduced = decision === false ? undefined : reduceTrace(t, decision === true ? new Uint8Array(4).fill(1) : decision, { summaries: false });
    c.observe('lossy', t, reduced);
    c.observe('all', t, reduceTrace(t, new Uint8Array(4).fill(1)));
  }
  const picked = c.traces();
  // Trace 2 is faulty too but shows no new fault type; trace 3 has no faulty span.
  assert.equal(picked.length, 1);
  assert.equal(picked[0]!.traceId, assembled(1).traceIdHex);
  assert.deepEqual(picked[0]!.faultTypes, ['delay']);
  const select = picked[0]!.spans.find((s) => s.name === 'SELECT')!;
  assert.equal(select.faulty, true);
  assert.deepEqual(select.fates, { lossy: 'kept', all: 'kept' });
  assert.equal(select.depth, 2);
  assert.deepEqual(picked[0]!.spans.map((s) => s.name), ['GET /', 'POST /x', 'SELECT', 'cache get']);
});

test('codec meter: OTLP bytes are the batches encoded, Tracezip is smaller and checked lossless', () => {
  const m = new CodecMeter({ batchSizes: [2, 100], codecs: ['otlp-protobuf', 'otlp-gzip', 'tracezip'] });
  const data = Array.from({ length: 20 }, (_, i) => trace(i + 1, 1001 + i));
  for (const d of data) m.addData(d);
  const r = m.finish();
  assert.equal(r.spans, 80);
  assert.deepEqual(r.batchSizes, [2, 100]);
  // Independently: the same spans cut by an SDK-like batcher and encoded.
  for (const [g, size] of [2, 100].entries()) {
    const batcher = new SpanBatcher(size);
    let expected = 0;
    for (const d of data) for (const l of locatedSpans(d)) {
      const full = batcher.push(l.span, l.resourceSpans, l.scopeSpans);
      if (full) expected += encodeTracesData(full).length;
    }
    const last = batcher.flush();
    if (last) expected += encodeTracesData(last).length;
    assert.equal(r.bytes['otlp-protobuf']![g], expected, `batch ${size}`);
  }
  assert.ok(r.bytes.tracezip![1]! < r.bytes['otlp-protobuf']![1]!);
  assert.deepEqual(r.lossless, { checked: true, frames: 41, spans: 80, ok: true });
});

test('codec meter: a frame that does not decode back to its batch fails the lossless check', () => {
  const original = TracezipDecoder.prototype.decode;
  // A decoder that loses the last span of every frame: the check must notice.
  TracezipDecoder.prototype.decode = function (frame: Uint8Array) {
    const r = original.call(this, frame);
    if (r.kind === 'data') {
      const rs = r.data.resourceSpans.at(-1)!;
      rs.scopeSpans.at(-1)!.spans.pop();
    }
    return r;
  };
  try {
    const m = new CodecMeter({ batchSizes: [4], codecs: ['tracezip'] });
    m.addData(trace(1));
    const r = m.finish();
    assert.equal(r.lossless.ok, false);
    assert.match(r.lossless.problem ?? '', /differs after decoding/);
  } finally {
    TracezipDecoder.prototype.decode = original;
  }
});

test('runEvaluation: one report with strategies, codecs, the combined row, timings and a waterfall', async () => {
  const keepAll: SamplingStrategy = { name: 'all', decide: () => true };
  const types = new Map([
    ['fault-1', 'delay'],
    ['fault-2', 'exception'],
  ]);
  const report = await runEvaluation({
    description: 'three hand-built traces',
    batches: batches(),
    strategies: [
      { name: 'lossy', make: () => lossy },
      { name: 'all', make: () => keepAll },
    ],
    labels: { faultySpans: labels(), faultTypes: () => types },
    targetReduction: 0.5,
    decisionWaitMs: 1000,
    batchSizes: [4, 512],
    combinedStrategy: 'lossy',
    sweep: [{ strategy: 'all', targets: [0.9], make: () => keepAll }],
  });
  // The sweep point runs in the same pass but shows only on the trade-off curve.
  assert.deepEqual(report.strategies.map((s) => s.strategy), ['lossy', 'all']);
  assert.deepEqual(report.tradeoff, [{ strategy: 'all', points: [{ targetReduction: 0.5, reduction: 0, coverage: 1 }, { targetReduction: 0.9, reduction: 0, coverage: 1 }] }]);
  assert.equal(report.format, 'slimtrace-evaluation');
  assert.equal(report.input.spans, 12);
  assert.equal(report.input.traces, 3);
  const [l, a] = report.strategies;
  assert.ok(Math.abs(l!.traceQueryMissRate - 1 / 3) < 1e-12);
  assert.ok(Math.abs(l!.spanQueryMissRate - 7 / 12) < 1e-12);
  assert.equal(a!.traceQueryMissRate, 0);
  assert.equal(a!.coverage.exact!.share, 1);
  // (On three tiny traces the dropped-span summary costs more than the spans it replaces: only presence is checked.)
  assert.ok(l!.sampleThenTracezipBytes! > 0 && a!.sampleThenTracezipBytes! > 0);
  assert.deepEqual(report.codecs!.rows.map((r) => r.codec), ['otlp-protobuf', 'otlp-gzip', 'otlp-zstd', 'tracezip', 'lossy+tracezip']);
  assert.equal(report.codecs!.lossless.ok, true);
  assert.deepEqual(report.timings!.map((t) => t.stage).slice(0, 2), ['sample lossy', 'sample all']);
  assert.equal(report.waterfalls!.length, 2);
  assert.deepEqual(report.waterfalls!.map((w) => w.faultTypes), [['delay'], ['exception']]);
  const select2 = report.waterfalls![1]!.spans.find((s) => s.name === 'SELECT')!;
  assert.equal(select2.fates.lossy, 'summarized');
  assert.equal(select2.fates.all, 'kept');
  assert.ok(report.resources!.peakRssBytes > 0);
});
