// Tiered pricing and Autoscope's budget controller on hand-built traces with known answers: what a
// skeleton keeps and drops, summary totals, bytes per tier adding up, the controller degrading by
// tier (and saying so) to meet a target it can meet, and reporting why when it cannot; with
// dropQuietTraces, quiet traces dropped whole (never one with an anomaly) when their roots do not fit.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex, getAttribute, hexToBytes, kv, makeResource, makeResourceSpans, makeScopeSpans, makeSpan, SpanKind, type Span } from '../../src/model/index.js';
import { encodedSpanSize } from '../../src/otlp/index.js';
import { assembleTrace, AutoscopeSampler, KEEP_FULL, KEEP_SKELETON, isSkeletonScope, parseDroppedSummary, reduceTrace, SAMPLING_ATTR, skeletonScopeSpans, skeletonSize, toTracesData, type SampledTrace } from '../../src/sampling/index.js';
import { checkReducedTrace } from '../../src/eval/sampling.js';
import { runStream } from './helpers.js';

const long = (c: string): string => c.repeat(40);

function span(trace: string, id: string, parent: string, name: string, startMs: number, endMs: number, extra: Partial<Span> = {}): Span {
  return makeSpan({
    traceId: hexToBytes(trace)!,
    spanId: hexToBytes(id.padStart(16, '0'))!,
    parentSpanId: parent ? hexToBytes(parent.padStart(16, '0'))! : new Uint8Array(0),
    name,
    startTimeUnixNano: BigInt(startMs) * 1_000_000n,
    endTimeUnixNano: BigInt(endMs) * 1_000_000n,
    attributes: [kv('http.url', long('u')), kv('peer', long('p')), kv('note', long('n'))],
    ...extra,
  });
}

/**
 * One request: root -> a (log-heavy) -> b -> c, and root -> d, root -> e. With `error`, c fails
 * (status ERROR): the anomaly whose path to the root is a and b.
 */
function request(k: number, error = false): SampledTrace {
  const trace = k.toString(16).padStart(32, '0');
  const events = Array.from({ length: 5 }, (_, j) => ({ timeUnixNano: 1_000_000n * BigInt(2 + j), name: 'log', attributes: [kv('message', long(String(j)))], droppedAttributesCount: 0, unknownFields: undefined }));
  const spans = [
    span(trace, '1', '', 'GET /order', 0, 100),
    span(trace, '2', '1', 'OrderController.get', 1, 60, { events }),
    span(trace, '3', '2', 'OrderService.load', 2, 50),
    span(trace, '4', '3', 'SELECT orders', 3, 40, error ? { status: { code: 2, message: 'boom' } } : {}),
    span(trace, '5', '1', 'PriceClient.quote', 61, 80),
    span(trace, '6', '1', 'AuditLog.write', 81, 95),
  ];
  const rs = makeResourceSpans({ resource: makeResource({ attributes: [kv('service.name', 'order')] }), scopeSpans: [makeScopeSpans({ spans })] });
  const ss = rs.scopeSpans[0]!;
  return assembleTrace(trace, spans.map((s) => ({ span: s, resource: rs.resource, scope: ss.scope, resourceSpans: rs, scopeSpans: ss })));
}

const idx = (t: SampledTrace, id: string): number => t.spans.findIndex((s) => bytesToHex(s.span.spanId) === id.padStart(16, '0'));

describe('tiers in the reducer', () => {
  it('writes a skeleton: ids, parent, name, kind, times, status and a marker; no events, links or other attributes', () => {
    const t = request(1, true);
    const keep = new Uint8Array(t.spans.length);
    keep[idx(t, '1')] = KEEP_SKELETON;
    keep[idx(t, '2')] = KEEP_SKELETON;
    keep[idx(t, '4')] = KEEP_FULL;
    const out = reduceTrace(t, keep);
    assert.equal(checkReducedTrace(t, out), undefined);
    const located = out.spans.find((s) => s.span.name === 'OrderController.get')!;
    const a = located.span;
    const original = t.spans[idx(t, '2')]!.span;
    assert.deepEqual(a.events, []);
    assert.equal(a.droppedEventsCount, 5);
    assert.equal(a.droppedAttributesCount, 3);
    // The tier marker is on the scope the skeleton is sent under: a copy of its own scope with the marker added.
    assert.equal(getAttribute(a.attributes, SAMPLING_ATTR.TIER), undefined);
    assert.equal(getAttribute(located.scope!.attributes, SAMPLING_ATTR.TIER), 'skeleton');
    assert.equal(located.scopeSpans.scope, located.scope);
    const ownScope = t.spans[idx(t, '2')]!.scope;
    assert.equal(located.scope!.name, ownScope?.name ?? '');
    assert.equal(located.scope!.version, ownScope?.version ?? '');
    assert.equal(getAttribute(ownScope?.attributes ?? [], SAMPLING_ATTR.TIER), undefined, 'the input is not changed');
    assert.equal(located.resourceSpans, t.spans[idx(t, '2')]!.resourceSpans);
    assert.equal(a.attributes.length, 1, 'only the summary of what was dropped below it');
    // Every skeleton of one scope shares one envelope (so regrouping sends it once), whole spans keep their own.
    const root = out.spans.find((s) => s.span.name === 'GET /order')!;
    assert.equal(root.scopeSpans, located.scopeSpans);
    const whole = out.spans.find((s) => s.span.name === 'SELECT orders')!;
    assert.equal(whole.scopeSpans, t.spans[idx(t, '4')]!.scopeSpans);
    assert.equal(isSkeletonScope(whole.scope), false);
    const data = toTracesData(out.spans);
    assert.equal(data.resourceSpans.length, 1);
    assert.equal(data.resourceSpans[0]!.scopeSpans.length, 2, 'one scope for whole spans, one for skeletons');
    assert.equal(a.startTimeUnixNano, original.startTimeUnixNano);
    assert.equal(a.endTimeUnixNano, original.endTimeUnixNano);
    assert.equal(a.name, original.name);
    const c = out.spans.find((s) => s.span.name === 'SELECT orders')!.span;
    assert.equal(c.status?.code, 2, 'the anomaly is whole');
    assert.equal(getAttribute(c.attributes, SAMPLING_ATTR.TIER), undefined);
    assert.equal(getAttribute(c.attributes, 'http.url'), long('u'));
    assert.equal(bytesToHex(c.parentSpanId), '2'.padStart(16, '0'), 're-parented over the dropped OrderService.load');
    // Tier bytes add up to what was written, and a skeleton costs what skeletonSize says plus its extras.
    assert.equal(out.tierBytes.full + out.tierBytes.skeleton + out.tierBytes.summary, out.bytes);
    assert.equal(out.bytes, out.spans.reduce((n, s) => n + encodedSpanSize(s.span), 0));
    assert.ok(skeletonSize(original) < encodedSpanSize(original) / 3, 'a skeleton of a log-heavy span is a fraction of it');
    // The input is not changed.
    assert.equal(t.spans[idx(t, '2')]!.span.events.length, 5);
  });

  it('summarizes dropped spans as totals when asked: one entry, name *', () => {
    const t = request(2);
    const keep = new Uint8Array(t.spans.length);
    const out = reduceTrace(t, keep, { summaryLevel: 'totals' });
    assert.equal(out.keptSpans, 1);
    const text = getAttribute(out.spans[0]!.span.attributes, SAMPLING_ATTR.DROPPED) as string;
    const parsed = parseDroppedSummary(text, 'order');
    assert.deepEqual(parsed, [{ service: 'order', name: '*', count: 5, sum: (59 + 48 + 37 + 19 + 14) * 1e6, min: 14e6, max: 59e6 }]);
    assert.equal(out.tierBytes.summary > 0 && out.tierBytes.summary < 60, true, `totals cost ${out.tierBytes.summary} B`);
    const none = reduceTrace(t, new Uint8Array(t.spans.length), { summaryLevel: 'none' });
    assert.equal(getAttribute(none.spans[0]!.span.attributes, SAMPLING_ATTR.DROPPED), undefined);
  });

  it("keeps totals per service: another service's dropped spans are never counted under the kept span's service", () => {
    const trace = 'ab'.repeat(16);
    const web = makeResourceSpans({ resource: makeResource({ attributes: [kv('service.name', 'web')] }), scopeSpans: [makeScopeSpans({ spans: [span(trace, '1', '', 'GET /', 0, 50), span(trace, '2', '1', 'POST auth', 1, 40, { kind: SpanKind.CLIENT })] })] });
    const auth = makeResourceSpans({ resource: makeResource({ attributes: [kv('service.name', 'auth')] }), scopeSpans: [makeScopeSpans({ spans: [span(trace, '3', '2', 'POST /verify', 2, 39, { kind: SpanKind.SERVER }), span(trace, '4', '3', 'GET session', 3, 10, { kind: SpanKind.CLIENT })] })] });
    const located = [web, auth].flatMap((rs) => rs.scopeSpans[0]!.spans.map((s) => ({ span: s, resource: rs.resource, scope: rs.scopeSpans[0]!.scope, resourceSpans: rs, scopeSpans: rs.scopeSpans[0]! })));
    const t = assembleTrace(trace, located);
    const out = reduceTrace(t, new Uint8Array(t.spans.length), { summaryLevel: 'totals' });
    const text = getAttribute(out.spans[0]!.span.attributes, SAMPLING_ATTR.DROPPED) as string;
    assert.deepEqual(parseDroppedSummary(text, 'web'), [
      { service: 'web', name: '*', count: 1, sum: 39e6, min: 39e6, max: 39e6 },
      { service: 'auth', name: '*', count: 2, sum: 44e6, min: 7e6, max: 37e6 },
    ]);
  });
});

describe("Autoscope's budget controller", () => {
  const stream = (count: number, errorEvery: number): SampledTrace[] => Array.from({ length: count }, (_, k) => request(1000 + k, k % errorEvery === errorEvery - 1));
  const errorSpans = (traces: SampledTrace[]): number => traces.filter((t) => t.spans.some((s) => s.span.status?.code === 2)).length;

  it('keeps anomalies whole when the budget allows', () => {
    const traces = stream(100, 10);
    const s = new AutoscopeSampler({ targetReduction: 0.3 });
    const r = runStream(s, traces);
    let whole = 0;
    for (const t of traces) {
      const out = r.reduced.get(t.traceIdHex)!;
      const c = out.spans.find((x) => x.span.status?.code === 2);
      if (c && !isSkeletonScope(c.scope) && c.span.attributes.length >= 3) whole++;
    }
    assert.equal(whole, errorSpans(traces));
    assert.equal(s.budgetReport().steps['anomalies-dropped'], 0);
    assert.ok(r.reduction >= 0.28, `reduction ${r.reduction}`);
  });

  it('degrades by tier to meet a tight target, keeps every anomaly and says which tiers it touched', () => {
    const traces = stream(400, 8);
    const s = new AutoscopeSampler({ targetReduction: 0.8 });
    const r = runStream(s, traces);
    // Every error span is still there (as a skeleton at worst), every trace kept and intact (runStream checks).
    let kept = 0;
    for (const t of traces) {
      const out = r.reduced.get(t.traceIdHex)!;
      if (out.spans.some((x) => x.span.status?.code === 2)) kept++;
    }
    assert.equal(kept, errorSpans(traces));
    assert.equal(r.tracesKept, traces.length);
    // Within 2 points of the target (feedback on written bytes corrects the estimates).
    assert.ok(Math.abs(r.reduction - 0.8) <= 0.02, `reduction ${r.reduction} ${JSON.stringify(s.budgetReport())}`);
    const report = s.budgetReport();
    assert.equal(report.steps['anomalies-dropped'], 0);
    const touched = Object.entries(report.steps).filter(([, v]) => v > 0).map(([k]) => k);
    assert.ok(touched.length > 0, 'some tier was degraded');
    assert.deepEqual(report.notes, []);
    // The log-heavy caller on the error's path is kept as a skeleton in the error traces.
    let skeletons = 0;
    for (const t of traces) {
      const out = r.reduced.get(t.traceIdHex)!;
      const a = out.spans.find((x) => x.span.name === 'OrderController.get');
      if (a && isSkeletonScope(a.scope)) skeletons++;
    }
    assert.ok(skeletons > 0, JSON.stringify(report));
  });

  it('reports why a target is impossible: roots and anomalies as skeletons cost more than it leaves', () => {
    const traces = stream(300, 4);
    const s = new AutoscopeSampler({ targetReduction: 0.99 });
    const r = runStream(s, traces);
    assert.equal(r.tracesKept, traces.length, 'every trace is still kept, with its root');
    assert.ok(r.reduction < 0.97, `reduction ${r.reduction}`);
    const report = s.budgetReport();
    assert.equal(report.notes.length, 1);
    assert.match(report.notes[0]!, /out of reach: the cheapest form of what must stay .* is \d+\.\d% of the input bytes, above the 1\.0% the target leaves/);
    assert.ok(report.steps['summaries-dropped']! > 0, 'it degraded every tier it could first');
    assert.match(report.notes[0]!, /--drop-quiet-traces/, 'and names the tier it may not touch');
  });

  it('with dropQuietTraces, drops quiet traces whole (never one with an error) to come nearer such a target, and says so', () => {
    const traces = stream(300, 4);
    const keepAll = runStream(new AutoscopeSampler({ targetReduction: 0.99 }), traces);
    const s = new AutoscopeSampler({ targetReduction: 0.99, dropQuietTraces: true });
    const r = runStream(s, traces);
    const errorTraces = traces.filter((t) => t.spans.some((x) => x.span.status?.code === 2));
    // Every error trace is kept with its error span (runStream checks each kept trace is intact).
    for (const t of errorTraces) assert.ok(r.reduced.get(t.traceIdHex)?.spans.some((x) => x.span.status?.code === 2), t.traceIdHex);
    const dropped = traces.length - r.tracesKept;
    assert.ok(dropped > 0 && dropped <= traces.length - errorTraces.length, `dropped ${dropped}`);
    const report = s.budgetReport();
    assert.equal(report.steps['quiet-traces-dropped'], dropped, JSON.stringify(report));
    assert.equal(report.spans['quiet-traces-dropped'], dropped * 6, 'each dropped trace counted with all its spans');
    assert.equal(report.steps['anomalies-dropped'], 0);
    assert.ok(r.reduction > keepAll.reduction + 0.01, `${r.reduction} against ${keepAll.reduction} with every trace kept`);
    assert.doesNotMatch(report.notes.join(' '), /--drop-quiet-traces/);
  });

  it('with dropQuietTraces and a target the roots fit, keeps every trace', () => {
    const traces = stream(300, 4);
    const s = new AutoscopeSampler({ targetReduction: 0.5, dropQuietTraces: true });
    const r = runStream(s, traces);
    assert.equal(r.tracesKept, traces.length);
    assert.equal(s.budgetReport().steps['quiet-traces-dropped'], 0);
  });

  it('with a higher debt limit, keeps more of a long burst of slow spans and ends further over the target', () => {
    // A long fault: after 150 normal requests, 150 whose SELECT (and so its callers) runs 10x slower:
    // the slow spans below the root are what the debt limit decides on.
    const slowRequest = (k: number): SampledTrace => {
      const t = request(k);
      for (const sp of t.spans) {
        const name = sp.span.name;
        const grow = name === 'SELECT orders' ? 370n : name === 'OrderService.load' ? 380n : name === 'OrderController.get' ? 390n : name === 'GET /order' ? 400n : 0n;
        if (grow > 0n) sp.span.endTimeUnixNano += grow * 1_000_000n;
      }
      return assembleTrace(t.traceIdHex, t.spans);
    };
    const traces = [...Array.from({ length: 150 }, (_, k) => request(5000 + k)), ...Array.from({ length: 150 }, (_, k) => slowRequest(6000 + k))];
    const SLOW = new Set(['SELECT orders', 'OrderService.load', 'OrderController.get']);
    const slowSpansKept = (limit: number): { kept: number; reduction: number; dropped: number } => {
      const s = new AutoscopeSampler({ targetReduction: 0.9, borrowTraces: limit });
      const r = runStream(s, traces);
      let kept = 0;
      for (const t of traces.slice(150)) for (const x of r.reduced.get(t.traceIdHex)!.spans) if (SLOW.has(x.span.name)) kept++;
      return { kept, reduction: r.reduction, dropped: s.budgetReport().steps['anomalies-dropped']! };
    };
    const tight = slowSpansKept(0);
    const loose = slowSpansKept(1_000_000);
    assert.ok(tight.dropped > 0, `with no debt allowed some anomalies go: ${JSON.stringify(tight)}`);
    assert.equal(loose.dropped, 0);
    assert.ok(loose.kept > tight.kept, `slow spans kept: ${loose.kept} against ${tight.kept}`);
    assert.ok(loose.reduction < tight.reduction, `reduction ${loose.reduction} against ${tight.reduction}`);
    assert.throws(() => new AutoscopeSampler({ targetReduction: 0.9, borrowTraces: -1 }), /debt limit \(borrowTraces\) must be a non-negative number/);
  });

  it('refuses dropQuietTraces without the tiered controller', () => {
    assert.throws(() => new AutoscopeSampler({ targetReduction: 0.9, paperOnly: true, dropQuietTraces: true }), /dropQuietTraces needs the tiered budget controller/);
    assert.throws(() => new AutoscopeSampler({ targetReduction: 0.9, tiers: false, dropQuietTraces: true }), /dropQuietTraces needs the tiered budget controller/);
  });
});

describe("Autoscope keeps both ends of a slow call", () => {
  /** root -> CLIENT `POST auth` -> SERVER `POST /verify` -> `GET session`; with `delay`, only the client span is slower (time lost on the way). */
  function call(k: number, delay: number): SampledTrace {
    const trace = k.toString(16).padStart(32, '0');
    const j = k % 3;
    const spans = [
      span(trace, '1', '', 'GET /page', 0, 40 + delay + j, { kind: SpanKind.SERVER }),
      span(trace, '2', '1', 'POST auth', 1, 30 + delay + j, { kind: SpanKind.CLIENT }),
      span(trace, '3', '2', 'POST /verify', 2 + delay, 28 + delay + j, { kind: SpanKind.SERVER }),
      span(trace, '4', '3', 'GET session', 3 + delay, 10 + delay + j, { kind: SpanKind.CLIENT }),
    ];
    const rs = makeResourceSpans({ resource: makeResource({ attributes: [kv('service.name', 'web')] }), scopeSpans: [makeScopeSpans({ spans })] });
    const ss = rs.scopeSpans[0]!;
    return assembleTrace(trace, spans.map((s) => ({ span: s, resource: rs.resource, scope: ss.scope, resourceSpans: rs, scopeSpans: ss })));
  }

  it('keeps the server side of a slow client span that has nothing slow below it, as a skeleton under it', () => {
    const traces = Array.from({ length: 300 }, (_, k) => call(5000 + k, k >= 100 && k % 25 === 0 ? 60 : 0));
    const r = runStream(new AutoscopeSampler({ targetReduction: 0.5 }), traces);
    let slow = 0;
    for (const [k, t] of traces.entries()) {
      if (!(k >= 100 && k % 25 === 0)) continue;
      slow++;
      const out = r.reduced.get(t.traceIdHex)!;
      const client = out.spans.find((x) => x.span.name === 'POST auth');
      const server = out.spans.find((x) => x.span.name === 'POST /verify');
      assert.ok(client && !isSkeletonScope(client.scope), `trace ${k}: the slow client span is kept whole`);
      assert.ok(server, `trace ${k}: the server side of the slow call is kept`);
      assert.equal(bytesToHex(server.span.parentSpanId), bytesToHex(client.span.spanId));
      assert.ok(isSkeletonScope(server.scope));
    }
    assert.equal(slow, 8);
  });
});

describe('the skeletons’ scope', () => {
  it('copies the scope with the tier marker added, once per ScopeSpans, and never changes the input', () => {
    const scope = { name: 'io.example.orders', version: '1.4.0', attributes: [kv('team', 'checkout'), kv(SAMPLING_ATTR.TIER, 'old')], droppedAttributesCount: 2 };
    const ss = makeScopeSpans({ scope, spans: [], schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' });
    const a = skeletonScopeSpans(ss);
    assert.equal(skeletonScopeSpans(ss), a, 'cached: one envelope for all of its skeletons');
    assert.equal(a.scope!.name, 'io.example.orders');
    assert.equal(a.scope!.version, '1.4.0');
    assert.equal(a.scope!.droppedAttributesCount, 2);
    assert.equal(a.schemaUrl, ss.schemaUrl);
    assert.deepEqual(a.scope!.attributes.map((x) => [x.key, x.value]), [['team', 'checkout'], [SAMPLING_ATTR.TIER, 'skeleton']]);
    assert.equal(scope.attributes.length, 2);
    assert.ok(isSkeletonScope(a.scope));
    assert.equal(isSkeletonScope(ss.scope), false);
    assert.equal(isSkeletonScope(undefined), false);
    assert.deepEqual(a.spans, []);
  });
});
