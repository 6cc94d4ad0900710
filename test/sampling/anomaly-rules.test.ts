// Autoscope's anomaly rules added for issue 14, on hand-built traces with known answers: a lasting
// slowdown stays an outlier after it has pushed the edge's quantile up (outlierStrongZ), and the
// subtree under the deepest error of a chain is kept as its cause (errorCauseSpans), a busy edge's
// quantile is held through a burst (outlierBurstHold), read through
// the sampler's inspection hook; a server span slow by its own work though its duration is within
// the spread its callee gives it (selfTimeZ); and the small debt the anomalies' paths may run into
// before they are summarized (pathBorrowTraces).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex, hexToBytes, kv, makeResource, makeResourceSpans, makeScopeSpans, makeSpan, SpanKind, type Span } from '../../src/model/index.js';
import { assembleTrace, AUTOSCOPE_REASONS, AutoscopeSampler, ByteBudget, sampleTrace, type AutoscopeDecisionDetail, type AutoscopeOptions, type SampledTrace } from '../../src/sampling/index.js';
import { checkReducedTrace } from '../../src/eval/sampling.js';

function span(trace: string, id: string, parent: string, name: string, kind: number, startUs: number, endUs: number, extra: Partial<Span> = {}): Span {
  return makeSpan({
    traceId: hexToBytes(trace)!,
    spanId: hexToBytes(id.padStart(16, '0'))!,
    parentSpanId: parent ? hexToBytes(parent.padStart(16, '0'))! : new Uint8Array(0),
    name,
    kind,
    startTimeUnixNano: BigInt(startUs) * 1000n,
    endTimeUnixNano: BigInt(endUs) * 1000n,
    attributes: [kv('k', 'v'.repeat(30))],
    ...extra,
  });
}

function traceOf(k: number, spans: (trace: string, t0: number) => Span[]): SampledTrace {
  const trace = (k + 1).toString(16).padStart(32, '0');
  const list = spans(trace, k * 1_000_000);
  const rs = makeResourceSpans({ resource: makeResource({ attributes: [kv('service.name', 'svc')] }), scopeSpans: [makeScopeSpans({ spans: list })] });
  const ss = rs.scopeSpans[0]!;
  return assembleTrace(trace, list.map((s) => ({ span: s, resource: rs.resource, scope: ss.scope, resourceSpans: rs, scopeSpans: ss })));
}

/** Runs Autoscope over the traces and returns each trace's decision detail. */
function decide(traces: SampledTrace[], options: AutoscopeOptions): { trace: SampledTrace; detail: AutoscopeDecisionDetail }[] {
  const out: { trace: SampledTrace; detail: AutoscopeDecisionDetail }[] = [];
  const sampler = new AutoscopeSampler({ targetReduction: 0.3, ...options, inspect: (trace, detail) => out.push({ trace, detail }) });
  for (const t of traces) {
    const reduced = sampleTrace(sampler, t);
    assert.ok(reduced);
    assert.equal(checkReducedTrace(t, reduced), undefined);
  }
  return out;
}

const reasonOf = (d: { trace: SampledTrace; detail: AutoscopeDecisionDetail }, id: string): string => {
  const i = d.trace.spans.findIndex((s) => bytesToHex(s.span.spanId) === id.padStart(16, '0'));
  return AUTOSCOPE_REASONS[d.detail.selected[i]!]!;
};

describe('Autoscope anomaly rules', () => {
  // GET /x -> SELECT x; the query takes 10-14 ms, then 100 ms for the last 40 requests (a lasting fault).
  const traces = Array.from({ length: 240 }, (_, k) =>
    traceOf(k, (trace, t0) => {
      const q = k >= 200 ? 100_000 : 10_000 + (k % 5) * 1000;
      return [span(trace, '1', '', 'GET /x', SpanKind.SERVER, t0, t0 + q + 2000), span(trace, '2', '1', 'SELECT x', SpanKind.CLIENT, t0 + 1000, t0 + 1000 + q)];
    }),
  );

  it('a lasting slowdown stays an outlier after its own spans pushed the quantile up (outlierStrongZ)', () => {
    const late = (o: AutoscopeOptions) => decide(traces, o).slice(230).map((d) => reasonOf(d, '2'));
    assert.deepEqual(new Set(late({})), new Set(['outlier']), 'the deepest slow span, every time');
    const without = late({ outlierStrongZ: Infinity, outlierBurstHold: false });
    assert.ok(without.some((r) => r !== 'outlier'), `without the rule the polluted p99 hides some: ${without.join(',')}`);
  });

  it('on an edge in a burst, a span is an outlier on its z-score alone once its own spans lifted the quantile (outlierBurstZ)', () => {
    // A rare edge: 60 normal queries (10-18 ms), then 30 ms from
    // then on. Its window is short, so the first admitted slow span is its 99th percentile already.
    const rare = Array.from({ length: 90 }, (_, k) =>
      traceOf(k, (trace, t0) => {
        const q = k >= 60 ? 30_000 : 10_000 + (k % 5) * 2000;
        return [span(trace, '1', '', 'GET /x', SpanKind.SERVER, t0, t0 + q + 2000), span(trace, '2', '1', 'SELECT x', SpanKind.CLIENT, t0 + 1000, t0 + 1000 + q)];
      }),
    );
    // The first 15 slow queries (later ones, admitted one in four, lift the median and MAD too).
    const late = (o: AutoscopeOptions) => decide(rare, o).slice(60, 75).map((d) => reasonOf(d, '2'));
    assert.deepEqual(new Set(late({})), new Set(['outlier']), 'every slow query of the burst, at the defaults');
    // Only on an edge whose window is short (60-75 durations here): a busy edge's percentile holds.
    assert.ok(late({ outlierBurstMaxCount: 50, outlierBurstHold: false }).some((r) => r !== 'outlier'), 'a window longer than outlierBurstMaxCount keeps its quantile test');
    const without = late({ outlierBurstZ: Infinity });
    assert.equal(without[0], 'outlier', 'the first is an outlier by the quantile');
    assert.ok(without.some((r) => r !== 'outlier'), `without the rule the lifted p99 hides the rest: ${without.join(',')}`);
    // The burst lasts outlierBurstMs of data time after the edge's last outlier (traces here are 1 s apart).
    assert.ok(late({ outlierBurstZ: 5, outlierBurstMs: 500 }).some((r) => r !== 'outlier'), 'a burst shorter than the gap between spans never carries over');
    // The slow queries' edge z is about 8 (5.3 once the median moves): a burst z above it keeps none of them.
    assert.ok(late({ outlierBurstZ: 9 }).some((r) => r !== 'outlier'), 'under the burst z the rule keeps nothing');
  });

  it('on a busy edge in a burst, the quantile is held where it was when the burst began (outlierBurstHold)', () => {
    // A busy edge: 300 normal queries (10-14 ms), then 60 at 20 ms (edge z about 5: above outlierZ,
    // under outlierStrongZ). One flagged span in four joins the window, so without the hold the
    // window's 99th percentile reaches 20 ms after a dozen of them and the rest pass as normal.
    const busy = Array.from({ length: 360 }, (_, k) =>
      traceOf(k, (trace, t0) => {
        const q = k >= 300 ? 20_000 : 10_000 + (k % 5) * 1000;
        return [span(trace, '1', '', 'GET /x', SpanKind.SERVER, t0, t0 + q + 2000), span(trace, '2', '1', 'SELECT x', SpanKind.CLIENT, t0 + 1000, t0 + 1000 + q)];
      }),
    );
    const late = (o: AutoscopeOptions) => decide(busy, o).slice(330).map((d) => reasonOf(d, '2'));
    assert.deepEqual(new Set(late({})), new Set(['outlier']), 'every slow query of the burst, at the defaults');
    const without = late({ outlierBurstHold: false });
    assert.ok(without.some((r) => r !== 'outlier'), `without the hold the lifted p99 hides some: ${without.join(',')}`);
    // The hold ends outlierBurstMs after the edge's last outlier (traces here are 1 s apart).
    assert.ok(late({ outlierBurstMs: 500 }).some((r) => r !== 'outlier'), 'a hold shorter than the gap between spans never carries over');
    // It holds the bar, not the z-score: a z-score rule above the slow queries' z keeps none of them.
    assert.ok(late({ outlierZ: 20, outlierStrongZ: 30 }).every((r) => r !== 'outlier'), 'under outlierZ the hold flags nothing');
  });

  it('the slow caller of the deepest slow span (the root here) is kept for being the root, not as an outlier', () => {
    const d = decide(traces, {})[235]!;
    assert.equal(reasonOf(d, '1'), 'root');
    const i = d.trace.spans.findIndex((s) => s.span.name === 'GET /x');
    assert.ok(d.detail.keep[i]! > 0);
  });

  it('a caller of the outlier slower than usual (edge z above slowCallerZ) is a slow caller, though under its polluted percentile', () => {
    // GET /x -> Service.load (its own time 0-40 ms, so a 90 ms slowdown is z about 9) -> SELECT x (10-14 ms, then 100 ms).
    const chain3 = Array.from({ length: 240 }, (_, k) =>
      traceOf(k, (trace, t0) => {
        const q = k >= 200 ? 100_000 : 10_000 + (k % 5) * 1000;
        const own = (k % 9) * 5000;
        return [
          span(trace, '1', '', 'GET /x', SpanKind.SERVER, t0, t0 + q + own + 4000),
          span(trace, '2', '1', 'Service.load', SpanKind.INTERNAL, t0 + 1000, t0 + 1000 + q + own + 2000),
          span(trace, '3', '2', 'SELECT x', SpanKind.CLIENT, t0 + 2000, t0 + 2000 + q),
        ];
      }),
    );
    // Every flagged span joins the window here, so the fault's own spans lift the percentile quickly.
    const late = (o: AutoscopeOptions) => decide(chain3, { outlierAdmitEvery: 1, slowCallerZ: 3, ...o }).slice(232).map((d) => reasonOf(d, '2'));
    assert.deepEqual(new Set(late({})), new Set(['slow-caller']));
    assert.ok(late({ slowCallerZ: Infinity, outlierBurstHold: false }).some((r) => r !== 'slow-caller'), 'only outliers are slow callers without it (and without the held quantile, which makes the caller an outlier too)');
  });

  // frontend GET /buy -> client POST (fails 409) -> server POST /cart -> client CheckStock -> server CheckStock -> GET cache.
  const chain = (k: number, clientFails: boolean, serverFails: boolean, other = true, cacheUs = 1000) =>
    traceOf(k, (trace, t0) => {
      const err = { status: { code: 2, message: 'failed' } };
      const spans = [
        span(trace, '1', '', 'GET /buy', SpanKind.SERVER, t0, t0 + 50_000, clientFails ? err : {}),
        span(trace, '2', '1', 'POST', SpanKind.CLIENT, t0 + 1000, t0 + 40_000, clientFails ? err : {}),
        span(trace, '3', '2', 'POST /cart', SpanKind.SERVER, t0 + 2000, t0 + 39_000, serverFails ? err : {}),
        span(trace, '4', '3', 'CheckStock', SpanKind.CLIENT, t0 + 3000, t0 + 20_000),
        span(trace, '5', '4', 'CheckStock', SpanKind.SERVER, t0 + 4000, t0 + 19_000),
        span(trace, '6', '5', 'GET', SpanKind.CLIENT, t0 + 5000, t0 + 5000 + cacheUs),
      ];
      if (other) spans.push(span(trace, '7', '1', 'Audit', SpanKind.INTERNAL, t0 + 41_000, t0 + 45_000));
      return spans;
    });

  it('keeps the subtree under the deepest error as its cause (errorCauseSpans), and only that subtree', () => {
    const traces2 = [...Array.from({ length: 50 }, (_, k) => chain(k, false, false)), chain(50, true, false)];
    const d = decide(traces2, {}).at(-1)!;
    assert.equal(reasonOf(d, '2'), 'error');
    for (const id of ['3', '4', '5', '6']) assert.equal(reasonOf(d, id), 'cause', `span ${id}`);
    assert.notEqual(reasonOf(d, '7'), 'cause', 'a sibling of the failing call is not its cause');
    const off = decide(traces2, { errorCauseSpans: 0 }).at(-1)!;
    for (const id of ['3', '4', '5', '6']) assert.notEqual(reasonOf(off, id), 'cause');
    const capped = decide(traces2, { errorCauseSpans: 2 }).at(-1)!;
    assert.deepEqual(['3', '4', '5', '6'].map((id) => reasonOf(capped, id) === 'cause'), [true, true, false, false], 'breadth first, at most 2');
  });

  it("spans below the deepest error on an outlier's path are its cause too, not a path the controller may summarize", () => {
    // The cache call under the failing client's subtree takes 12 ms instead of 1: an outlier, whose
    // path (5, 4, 3) lies below the deepest error (2).
    const traces2 = [...Array.from({ length: 50 }, (_, k) => chain(k, false, false)), chain(50, true, false, true, 12_000)];
    const d = decide(traces2, {}).at(-1)!;
    assert.equal(reasonOf(d, '6'), 'outlier');
    for (const id of ['3', '4', '5']) assert.equal(reasonOf(d, id), 'cause', `span ${id}`);
    const off = decide(traces2, { errorCauseSpans: 0 }).at(-1)!;
    for (const id of ['3', '4', '5']) assert.equal(reasonOf(off, id), 'path', `span ${id} without the cause rule`);
  });

  it('when the error goes deeper, the cause is below the deepest error', () => {
    const traces2 = [...Array.from({ length: 50 }, (_, k) => chain(k, false, false)), chain(50, true, true)];
    const d = decide(traces2, {}).at(-1)!;
    assert.equal(reasonOf(d, '3'), 'error');
    for (const id of ['4', '5', '6']) assert.equal(reasonOf(d, id), 'cause', `span ${id}`);
  });

  it('a server span slow by its own work, though its duration is within the spread its callee gives it, is kept as `self` (selfTimeZ)', () => {
    // GET /cart (SERVER) -> HGETALL (CLIENT): the callee takes 5-45 ms, the handler's own work 1 ms;
    // from trace 150 on the handler's own work takes 6 ms (CPU contention): +5 ms, far inside the
    // durations' 40 ms spread, and the callee is unchanged.
    const contended = Array.from({ length: 170 }, (_, k) =>
      traceOf(k, (trace, t0) => {
        const own = k >= 150 ? 6000 : 1000 + (k % 3) * 50;
        const callee = 5000 + ((k * 7919) % 41) * 1000;
        return [
          span(trace, '1', '', 'GET /cart', SpanKind.SERVER, t0, t0 + own + callee),
          span(trace, '2', '1', 'HGETALL', SpanKind.CLIENT, t0 + own / 2, t0 + own / 2 + callee),
        ];
      }),
    );
    const reasons = (o: AutoscopeOptions) => decide(contended, o).map((d) => reasonOf(d, '1'));
    const at = reasons({});
    assert.deepEqual(new Set(at.slice(150)), new Set(['self']), `every contended handler: ${at.slice(150).join(',')}`);
    assert.ok(!at.slice(20, 150).includes('self'), 'no handler before the contention');
    assert.ok(!reasons({ selfTimeZ: Infinity }).includes('self'), 'off with selfTimeZ Infinity');
    assert.ok(!reasons({ paperOnly: true }).includes('self'), "not in the paper's variant");
  });

  it("the anomalies' paths may run into a small debt (pathBorrowTraces), and none once the debt is deeper", () => {
    const budget = new ByteBudget({ targetReduction: 0.8 });
    budget.record(1000, 200); // the average share: 200 bytes
    const fresh = budget.tieredAllowance(1000, 10, 1000, 10);
    assert.equal(Math.round(fresh.degrade), 200);
    assert.equal(Math.round(fresh.paths), 200 + 10 * 200, 'ten average shares beyond what the trace may spend');
    budget.record(1000, 200 + 30 * 200); // thirty shares over
    const deep = budget.tieredAllowance(1000, 10, 1000, 10);
    assert.equal(deep.degrade, 0);
    assert.equal(deep.paths, 0, 'past the path debt, paths are summarized as before');
    assert.ok(deep.required > 0, 'while anomalies may still borrow');
    assert.equal(budget.tieredAllowance(1000, 10, 1000).paths, 0, 'no path debt by default');
  });
});
