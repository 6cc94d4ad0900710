// The seed's samplers: the importance score rules, top-k then probabilistic selection at a byte
// budget, and the structure-preserving wrapper's ancestor closure, on hand-made and generated traces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex, getAttribute, hexToBytes, kv, makeResource, makeResourceSpans, makeScopeSpans, makeSpan, makeStatus, SpanKind, type LocatedSpan, type Span } from '../../src/model/index.js';
import { assembleTrace, SAMPLING_ATTR, spanHasError, type SampledTrace, type SamplingStrategy } from '../../src/sampling/index.js';
import { HeadSampler, RandomSpanSampler } from '../../src/sampling/baselines.js';
import { ImportanceSampler, IMPORTANCE_WEIGHTS, StructurePreservingSampler } from '../../src/sampling/seed.js';
import { generated, runStream } from './helpers.js';

const { traces } = generated();

function trace(build: (add: (name: string, parent: Span | undefined, extra?: Partial<Span>) => Span) => void): SampledTrace {
  const resource = makeResource({ attributes: [kv('service.name', 'shop')] });
  const ss = makeScopeSpans({});
  const rs = makeResourceSpans({ resource, scopeSpans: [ss] });
  const tid = hexToBytes('4bf92f3577b34da6a3ce929d0e0e4736')!;
  let next = 1;
  const spans: Span[] = [];
  build((name, parent, extra = {}) => {
    const t = BigInt(next * 10);
    const s = makeSpan({ traceId: tid, spanId: hexToBytes((next++).toString(16).padStart(16, '0'))!, parentSpanId: parent?.spanId, name, startTimeUnixNano: t, endTimeUnixNano: t + 5n, ...extra });
    spans.push(s);
    return s;
  });
  ss.spans = spans;
  const located: LocatedSpan[] = spans.map((span) => ({ span, resource, scope: ss.scope, resourceSpans: rs, scopeSpans: ss }));
  return assembleTrace(bytesToHex(tid), located);
}

test('importance: each rule scores, rules add up, high frequency subtracts', () => {
  const t = trace((add) => {
    const root = add('GET /home', undefined);
    add('plain', root);
    add('handleError', root);
    add('failing', root, { status: makeStatus(2) });
    add('HTTP GET', root);
    add('call', root, { kind: SpanKind.CLIENT });
    add('rpcish', root, { attributes: [kv('rpc.system', 'grpc')] });
    add('query', root, { attributes: [kv('db.system', 'postgresql')] });
    add('select * from t', root);
    add('OrderRepository.save', root);
    add('processPayment', root);
    add('Refund', root);
    for (let i = 0; i < 6; i++) add('loop', root);
    for (let i = 0; i < 5; i++) add('fiveTimes', root);
  });
  const s = new ImportanceSampler().scores(t);
  const byName = (name: string): number => s[t.spans.findIndex((x) => x.span.name === name)]!;
  const W = IMPORTANCE_WEIGHTS;
  assert.equal(byName('plain'), 0);
  assert.equal(byName('handleError'), W.ERROR);
  assert.equal(byName('failing'), W.ERROR);
  assert.equal(byName('HTTP GET'), W.EXTERNAL);
  assert.equal(byName('call'), W.EXTERNAL);
  assert.equal(byName('rpcish'), W.EXTERNAL);
  assert.equal(byName('query'), W.DATABASE);
  assert.equal(byName('select * from t'), W.DATABASE);
  assert.equal(byName('OrderRepository.save'), W.DATABASE + W.BUSINESS);
  assert.equal(byName('processPayment'), W.BUSINESS);
  assert.equal(byName('Refund'), 0);
  assert.equal(byName('loop'), W.HIGH_FREQUENCY);
  assert.equal(byName('fiveTimes'), 0);
  const custom = new ImportanceSampler({ businessKeywords: ['REFUND'], highFrequency: 4 }).scores(t);
  assert.equal(custom[t.spans.findIndex((x) => x.span.name === 'Refund')]!, W.BUSINESS);
  assert.equal(custom[t.spans.findIndex((x) => x.span.name === 'processPayment')]!, 0);
  assert.equal(custom[t.spans.findIndex((x) => x.span.name === 'fiveTimes')]!, W.HIGH_FREQUENCY);
});

test('importance: top-k by score first; the rest at score/10 with a 1% floor', () => {
  const t = trace((add) => {
    const root = add('root', undefined);
    add('failing', root, { status: makeStatus(2) });
    for (let i = 0; i < 300; i++) add(`plain${i}`, root);
    for (let i = 0; i < 300; i++) add(`select${i}`, root, { attributes: [kv('db.system', 'mysql')] });
  });
  // Budget for about the root and the error span only: the error span wins the top-k.
  const bytesOf = (names: string[]): number => names.reduce((a, n) => a + t.size[t.spans.findIndex((x) => x.span.name === n)]!, 0);
  const tight = 1 - (bytesOf(['root', 'failing']) + 0.02 * t.bytes) / t.bytes;
  const keep = new ImportanceSampler({ targetReduction: tight }).decide(t);
  assert.equal(keep[1], 1, 'error span kept');
  // A generous budget: top-k takes spans by score, the rest follow score/10 and the floor.
  const r = new ImportanceSampler({ targetReduction: 0.3, seed: 9 });
  const k = r.decide(t);
  let selects = 0;
  let plains = 0;
  for (let i = 0; i < t.spans.length; i++) {
    if (!k[i]) continue;
    if (t.spans[i]!.span.name.startsWith('select')) selects++;
    if (t.spans[i]!.span.name.startsWith('plain')) plains++;
  }
  assert.equal(k[1], 1);
  assert.ok(selects === 300, `all database spans (score 7) fit before any plain one: ${selects}`);
  assert.ok(plains > 0, 'the room left after the database spans goes to the next scores');
  // A budget too small for every database span: plain spans only at about the 1% floor.
  const half = new ImportanceSampler({ targetReduction: 0.5, seed: 9 }).decide(t);
  let halfSelects = 0;
  let halfPlains = 0;
  for (let i = 0; i < t.spans.length; i++) {
    if (!half[i]) continue;
    if (t.spans[i]!.span.name.startsWith('select')) halfSelects++;
    if (t.spans[i]!.span.name.startsWith('plain')) halfPlains++;
  }
  assert.ok(halfSelects > 100 && halfSelects < 300, `selects ${halfSelects}`);
  assert.ok(halfPlains < 15, `plain spans ${halfPlains}`);
  // Deterministic per seed.
  assert.deepEqual(new ImportanceSampler({ targetReduction: 0.3, seed: 9 }).decide(t), k);
});

test('importance on generated traffic: intact, every trace kept, budget met within 5%, errors kept', () => {
  for (const [target, summaries] of [[0.5, true], [0.5, false], [0.8, false], [0.85, false]] as const) {
    const sampler = new ImportanceSampler({ targetReduction: target });
    const r = runStream(sampler, traces, { summaries });
    assert.equal(r.tracesKept, r.traces);
    assert.ok(Math.abs(r.reduction - target) <= 0.05 * (1 - target), `target ${target}: reduction ${r.reduction}`);
    let errors = 0;
    let kept = 0;
    for (const t of traces) {
      const ids = new Set(r.reduced.get(t.traceIdHex)!.spans.map((s) => bytesToHex(s.span.spanId)));
      for (const s of t.spans)
        if (spanHasError(s.span)) {
          errors++;
          if (ids.has(bytesToHex(s.span.spanId))) kept++;
        }
    }
    // Error spans score highest, so they are kept far more often than spans in general (not always:
    // in a trace of a cascading exception the error spans alone exceed the trace's allowance).
    const share = r.spansOut / r.spansIn;
    assert.ok(kept / errors > 1.5 * share, `target ${target}: error spans kept ${kept}/${errors}, spans kept ${share}`);
  }
});

test('structure-preserving: kept spans keep their original parents; the budget of the inner strategy still holds', () => {
  const inner = new RandomSpanSampler({ targetReduction: 0.7, seed: 2 });
  const wrapped = new StructurePreservingSampler(inner);
  assert.equal(wrapped.name, 'structure-preserving');
  const r = runStream(wrapped, traces, { summaries: false });
  assert.equal(r.tracesKept, r.traces);
  for (const t of traces) {
    const out = r.reduced.get(t.traceIdHex)!;
    const ids = new Set(out.spans.map((s) => bytesToHex(s.span.spanId)));
    for (const s of out.spans) {
      assert.equal(getAttribute(s.span.attributes, SAMPLING_ATTR.SKIPPED_LEVELS), undefined, 'never re-parented');
      if (s.span.parentSpanId.length > 0) assert.ok(ids.has(bytesToHex(s.span.parentSpanId)), 'parent kept');
    }
  }
  assert.ok(Math.abs(r.reduction - 0.7) <= 0.05 * 0.3, `reduction ${r.reduction}`);
  // The inner strategy alone re-parents somewhere (so the closure is what preserved structure).
  const plain = runStream(new RandomSpanSampler({ targetReduction: 0.7, seed: 2 }), traces, { summaries: false });
  let reparented = 0;
  for (const out of plain.reduced.values()) for (const s of out.spans) if (getAttribute(s.span.attributes, SAMPLING_ATTR.SKIPPED_LEVELS) !== undefined) reparented++;
  assert.ok(reparented > 0);
  // Whole-trace decisions pass through.
  const head: SamplingStrategy = new StructurePreservingSampler(new HeadSampler({ ratio: 1 }));
  assert.equal(head.decide(traces[0]!), true);
});
