// Injected faults: each type leaves its signature in the spans, and the ground truth lists exactly
// the spans its definition (exact, slow, proxy) names, and nothing outside the fault windows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError, SpanKind, StatusCode } from '../../src/model/index.js';
import {
  collectTraffic,
  defaultFaultScenario,
  defaultTopology,
  faultDefinitions,
  resolveFaults,
  type FaultDefinition,
  type ResolvedFault,
} from '../../src/generator/index.js';
import { attr, durationMs, flatten, median, type FlatSpan } from './helpers.js';

const run = collectTraffic({ seed: 31, durationSeconds: 60, rate: 100, faults: defaultFaultScenario(60) });
const spans = flatten(run.batches);
const byHex = new Map(spans.map((s) => [s.spanHex, s]));
const faults = run.groundTruth.faults;
const fault = (type: string): ResolvedFault => faults.find((f) => f.type === type)!;
const inWindow = (s: FlatSpan, f: ResolvedFault) => s.span.startTimeUnixNano >= f.startTimeUnixNano && s.span.startTimeUnixNano < f.endTimeUnixNano;
const listed = (f: ResolvedFault, definition: FaultDefinition) =>
  new Set(run.groundTruth.spans.filter((g) => g.faultId === f.id && g.definition === definition).map((g) => g.spanId));
const named = (service: string, name: string) => spans.filter((s) => s.service === service && s.span.name === name);
const sameSet = (a: Set<string>, b: Set<string>, what: string) => {
  const missing = [...b].filter((x) => !a.has(x)).length;
  const extra = [...a].filter((x) => !b.has(x)).length;
  assert.ok(missing === 0 && extra === 0, `${what}: ${missing} missing, ${extra} extra (of ${b.size})`);
};

test('the default scenario has one fault of each type, in separate windows', () => {
  assert.deepEqual(faults.map((f) => f.type), ['exception', 'wrong-return', 'latency-spike', 'cpu-contention', 'network-delay']);
  assert.deepEqual(faults.map((f) => f.id), ['F01', 'F02', 'F03', 'F04', 'F05']);
  for (let i = 1; i < faults.length; i++) assert.ok(faults[i]!.startTimeUnixNano > faults[i - 1]!.endTimeUnixNano);
});

test('ground truth names real spans, once per fault and definition, under that fault type\'s definitions', () => {
  const seen = new Set<string>();
  for (const g of run.groundTruth.spans) {
    assert.match(g.traceId, /^[0-9a-f]{32}$/);
    assert.match(g.spanId, /^[0-9a-f]{16}$/);
    const s = byHex.get(g.spanId);
    assert.ok(s, `listed span ${g.spanId} not in the data`);
    assert.equal(s.traceHex, g.traceId);
    assert.equal(s.service, g.service);
    assert.equal(s.span.name, g.spanName);
    assert.ok(g.reason.length > 0);
    const key = `${g.faultId}/${g.definition}/${g.spanId}`;
    assert.ok(!seen.has(key), `listed twice: ${key}`);
    seen.add(key);
    const f = faults.find((x) => x.id === g.faultId)!;
    assert.ok(faultDefinitions(f.type).includes(g.definition), `${f.type} has no ${g.definition} spans`);
  }
  for (const f of faults) for (const d of faultDefinitions(f.type)) assert.ok(listed(f, d).size > 0, `${f.id} ${d} is empty`);
});

test('proxy: every span of the faulty service that started in the window', () => {
  for (const f of faults) {
    const expected = new Set(spans.filter((s) => s.service === f.service && inWindow(s, f)).map((s) => s.spanHex));
    sameSet(listed(f, 'proxy'), expected, `${f.id} proxy`);
  }
});

test('exception: error status and exception event on the faulty operation, propagated to the root', () => {
  const f = fault('exception');
  const ops = named('catalog-service', 'GET /api/catalog/products/:id');
  const expected = ops.filter((s) => inWindow(s, f));
  sameSet(listed(f, 'exact'), new Set(expected.map((s) => s.spanHex)), 'exception exact');
  for (const s of expected) {
    assert.equal(s.span.status?.code, StatusCode.ERROR);
    assert.equal(attr(s.span, 'http.response.status_code'), 500n);
    const ev = s.span.events.find((e) => e.name === 'exception');
    assert.ok(ev, 'exception event');
    for (const k of ['exception.type', 'exception.message', 'exception.stacktrace']) assert.ok(ev.attributes.some((a) => a.key === k), k);
    assert.ok(ev.timeUnixNano >= s.span.startTimeUnixNano && ev.timeUnixNano <= s.span.endTimeUnixNano);
  }
  for (const s of ops.filter((x) => !inWindow(x, f))) assert.equal(s.span.events.length, 0);
  // Nothing between the faulty call and the root catches it in the default topology.
  const faultyTraces = new Set(expected.map((s) => s.traceHex));
  const roots = spans.filter((s) => faultyTraces.has(s.traceHex) && s.span.parentSpanId.length === 0);
  assert.equal(roots.length, faultyTraces.size);
  for (const r of roots) {
    assert.equal(r.span.status?.code, StatusCode.ERROR);
    assert.equal(attr(r.span, 'http.response.status_code'), 500n);
  }
});

test('wrong-return: the answer looks fine but a downstream branch changes', () => {
  const f = fault('wrong-return');
  const checks = named('inventory-service', 'shop.InventoryService/CheckStock').filter((s) => inWindow(s, f));
  sameSet(listed(f, 'exact'), new Set(checks.map((s) => s.spanHex)), 'wrong-return exact');
  for (const s of checks) {
    assert.notEqual(s.span.status?.code, StatusCode.ERROR);
    assert.equal(s.span.events.length, 0);
  }
  // cart.addItem takes its out-of-stock arm on a wrong CheckStock answer, 7% of the time otherwise.
  const adds = named('cart-service', 'POST /api/carts/:userId/items');
  const soldOut = (l: FlatSpan[]) => l.filter((s) => attr(s.span, 'http.response.status_code') === 409n).length / l.length;
  const inside = adds.filter((s) => inWindow(s, f));
  const outside = adds.filter((s) => !inWindow(s, f));
  assert.ok(inside.length > 20);
  assert.equal(soldOut(inside), 1);
  assert.ok(soldOut(outside) < 0.15, `out-of-stock rate outside the window ${soldOut(outside)}`);
  // And no cart write follows a wrong answer.
  const children = new Set(spans.filter((s) => s.span.name === 'hset').map((s) => s.parentHex));
  for (const s of inside) assert.ok(!children.has(s.spanHex));
});

test('latency-spike: the operation\'s own span is slower; it and its callers\' client spans are listed', () => {
  const f = fault('latency-spike');
  const ops = named('shipping-service', 'POST /api/shipments');
  const inside = ops.filter((s) => inWindow(s, f));
  const outside = ops.filter((s) => !inWindow(s, f));
  assert.ok(median(inside.map((s) => durationMs(s.span))) > median(outside.map((s) => durationMs(s.span))) + 200);
  sameSet(listed(f, 'exact'), new Set(inside.map((s) => s.spanHex)), 'latency-spike exact');
  const slow = listed(f, 'slow');
  for (const s of inside) {
    assert.ok(slow.has(s.spanHex));
    assert.ok(slow.has(s.parentHex), 'the caller\'s client span');
  }
  // The spike is in the handler's own time: its children are not slower.
  const label = spans.filter((s) => s.span.name === 'POST' && s.service === 'shipping-service');
  const ids = new Set(inside.map((s) => s.spanHex));
  const labelIn = label.filter((s) => ids.has(s.parentHex)).map((s) => durationMs(s.span));
  assert.ok(median(labelIn) < 200);
});

test('cpu-contention: everything the service does is slower; slow spans are its own or client spans into it', () => {
  const f = fault('cpu-contention');
  const ops = named('cart-service', 'GET /api/carts/:userId');
  const inside = ops.filter((s) => inWindow(s, f)).map((s) => durationMs(s.span));
  const outside = ops.filter((s) => !inWindow(s, f)).map((s) => durationMs(s.span));
  assert.ok(median(inside) > 1.5 * median(outside), `median ${median(inside)} vs ${median(outside)}`);
  const redisIn = spans.filter((s) => s.service === 'cart-service' && s.scope.endsWith('ioredis') && inWindow(s, f)).map((s) => durationMs(s.span));
  const redisOut = spans.filter((s) => s.service === 'cart-service' && s.scope.endsWith('ioredis') && !inWindow(s, f)).map((s) => durationMs(s.span));
  assert.ok(median(redisIn) > 2 * median(redisOut));
  assert.equal(listed(f, 'exact').size, 0);
  const cartParents = new Set(spans.filter((c) => c.service === 'cart-service').map((c) => c.parentHex));
  for (const id of listed(f, 'slow')) {
    const s = byHex.get(id)!;
    if (s.service === 'cart-service') continue;
    assert.equal(s.span.kind, SpanKind.CLIENT);
    assert.ok(cartParents.has(id), 'client span without a cart-service child');
  }
});

test('network-delay: callers see slower calls into the service', () => {
  const f = fault('network-delay');
  const authSpans = new Set(named('auth-service', 'POST /api/auth/verify').map((s) => s.parentHex));
  const clients = spans.filter((s) => s.span.kind === SpanKind.CLIENT && authSpans.has(s.spanHex));
  const inside = clients.filter((s) => inWindow(s, f));
  const outside = clients.filter((s) => !inWindow(s, f));
  assert.ok(inside.length > 50);
  for (const s of inside) assert.ok(durationMs(s.span) >= 100, `client span ${durationMs(s.span)} ms`);
  assert.ok(median(outside.map((s) => durationMs(s.span))) < 10);
  const slow = listed(f, 'slow');
  for (const s of inside) assert.ok(slow.has(s.spanHex));
  assert.equal(listed(f, 'exact').size, 0);
});

test('nothing outside the fault windows is listed, and faults are not written into the spans', () => {
  const firstStart = faults[0]!.startTimeUnixNano;
  const lastEnd = faults[faults.length - 1]!.endTimeUnixNano;
  const rootStart = new Map(spans.filter((s) => s.span.parentSpanId.length === 0).map((s) => [s.traceHex, s.span.startTimeUnixNano]));
  for (const g of run.groundTruth.spans) {
    const t = rootStart.get(g.traceId)!;
    // Causally slowed client spans may start a little before their callee entered the window.
    assert.ok(t >= firstStart - 2_000_000_000n && t < lastEnd, `${g.faultId} ${g.definition} span of a trace starting outside every window`);
  }
  for (const { span } of spans) {
    for (const a of span.attributes) assert.ok(!/fault|inject/i.test(a.key), a.key);
    for (const e of span.events) assert.equal(e.name, 'exception');
  }
});

test('intensity below 1 makes only that share of executions misbehave; instance narrows the target', () => {
  const r = collectTraffic({
    seed: 5,
    durationSeconds: 20,
    rate: 100,
    faults: [
      { type: 'exception', service: 'catalog-service', operation: 'getProduct', startOffsetSeconds: 0, durationSeconds: 20, intensity: 0.5 },
      { type: 'cpu-contention', service: 'cart-service', instance: 1, startOffsetSeconds: 0, durationSeconds: 20 },
    ],
  });
  const s = flatten(r.batches);
  const gets = s.filter((x) => x.span.name === 'GET /api/catalog/products/:id');
  const failed = gets.filter((x) => x.span.status?.code === StatusCode.ERROR).length;
  assert.ok(Math.abs(failed / gets.length - 0.5) < 0.06, `failed share ${failed / gets.length}`);
  const exact = r.groundTruth.spans.filter((g) => g.faultId === 'F01' && g.definition === 'exact');
  assert.equal(exact.length, failed);
  const index = new Map(s.map((x) => [x.spanHex, x]));
  const pods = new Set(
    r.groundTruth.spans
      .filter((g) => g.faultId === 'F02' && g.definition === 'proxy')
      .map((g) => index.get(g.spanId)!.resource),
  );
  assert.equal(pods.size, 1);
});

test('bad faults are input errors', () => {
  const t = defaultTopology();
  const base = { startOffsetSeconds: 0, durationSeconds: 1 };
  assert.throws(() => resolveFaults([{ type: 'exception', service: 'nope', ...base }], t, 0n), InputError);
  assert.throws(() => resolveFaults([{ type: 'exception', service: 'cart-service', operation: 'nope', ...base }], t, 0n), InputError);
  assert.throws(() => resolveFaults([{ type: 'cpu-contention', service: 'cart-service', instance: 7, ...base }], t, 0n), InputError);
  assert.throws(() => resolveFaults([{ type: 'meteor' as 'exception', service: 'cart-service', ...base }], t, 0n), InputError);
  assert.throws(() => resolveFaults([{ type: 'exception', service: 'cart-service', startOffsetSeconds: 0, durationSeconds: 0 }], t, 0n), InputError);
});
