// The pieces under every strategy: the reducer (re-parenting, skipped levels, dropped summaries,
// duplicate copies), the streaming processor (decision wait, memory caps, late spans), the sorted
// window statistics against a brute-force median, and reading analysis.json.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex, getAttribute, hexToBytes, InputError, makeResource, makeResourceSpans, makeScopeSpans, makeSpan, kv, type Span, type TracesData } from '../../src/model/index.js';
import { assembleTrace, codeKnowledgeFromAnalysis, formatDroppedSummary, MinedStructure, parseDroppedSummary, reduceTrace, RobustScore, SAMPLING_ATTR, SortedWindow, StreamingSampler, type SampledTrace, type SamplingStrategy } from '../../src/sampling/index.js';
import { checkReducedTrace } from '../../src/eval/sampling.js';
import { ScoreTable, WindowBuffers } from '../../src/sampling/robust-stats.js';

const TRACE = 'aa'.repeat(16);
function span(id: string, parent: string, name: string, startMs: number, endMs: number, extra: Partial<Span> = {}): Span {
  return makeSpan({
    traceId: hexToBytes(TRACE)!,
    spanId: hexToBytes(id.padStart(16, '0'))!,
    parentSpanId: parent ? hexToBytes(parent.padStart(16, '0'))! : new Uint8Array(0),
    name,
    startTimeUnixNano: BigInt(startMs) * 1_000_000n,
    endTimeUnixNano: BigInt(endMs) * 1_000_000n,
    ...extra,
  });
}
function data(spans: Span[], service = 'svc'): TracesData {
  return { resourceSpans: [makeResourceSpans({ resource: makeResource({ attributes: [kv('service.name', service)] }), scopeSpans: [makeScopeSpans({ spans })] })] };
}
function traceOf(spans: Span[]): SampledTrace {
  const d = data(spans);
  const rs = d.resourceSpans[0]!;
  const ss = rs.scopeSpans[0]!;
  return assembleTrace(TRACE, spans.map((s) => ({ span: s, resource: rs.resource, scope: ss.scope, resourceSpans: rs, scopeSpans: ss })));
}
// root 1 -> 2 -> 3 -> 4, and 1 -> 5 (leaf), 2 -> 6 (leaf)
const chain = (): Span[] => [span('1', '', 'root', 0, 100), span('2', '1', 'a', 1, 90), span('3', '2', 'b', 2, 80), span('4', '3', 'c', 3, 70), span('5', '1', 'd', 91, 95), span('6', '2', 'e', 81, 85)];
const idx = (t: SampledTrace, id: string): number => t.spans.findIndex((s) => bytesToHex(s.span.spanId) === id.padStart(16, '0'));

describe('assembleTrace', () => {
  it('links parents and duplicate copies the same with 8-byte ids (hash table) and other lengths (keys)', () => {
    // Duplicates (an id written twice), a self-parent, a missing parent, a parent id of the wrong
    // length, and many spans so the table probes; then the same trace with one 4-byte id added,
    // which sends it down the general path.
    const spans: Span[] = [span('1', '', 'root', 0, 1000)];
    for (let k = 2; k < 400; k++) spans.push(span(k.toString(16), (k >> 1).toString(16), 'op' + (k % 5), k, k + 10));
    spans.push(span('7', '3', 'op2', 7, 17), span('abc', 'abc', 'self', 5, 6), span('def', 'fffff', 'orphan', 3, 4));
    spans.push({ ...span('ace', '', 'short parent', 8, 9), parentSpanId: new Uint8Array([0, 0, 0x0a, 0xce]) });
    const fast = traceOf(spans);
    const odd = traceOf([...spans, { ...span('bad', '1', 'short id', 1, 2), spanId: new Uint8Array([1, 2, 3, 4]) }]);
    const n = spans.length;
    assert.deepEqual([...odd.parent.subarray(0, n)], [...fast.parent]);
    assert.deepEqual([...odd.firstCopy.subarray(0, n)], [...fast.firstCopy]);
    assert.equal(fast.firstCopy[399], 6, 'a later copy points at the first');
    assert.equal(fast.parent[idx(fast, 'e')], 6, "children hang under an id's first copy");
    assert.equal(fast.parent[idx(fast, 'abc')], -1, 'a span is not its own parent');
    assert.equal(fast.parent[idx(fast, 'def')], -1);
    assert.equal(fast.parent[spans.length - 1], -1, 'a 4-byte parent id matches no 8-byte span id');
    assert.equal(odd.parent[n], 0);
    assert.equal(fast.keys.length, n);
    assert.equal(new Set(fast.keys).size, n - 1, 'spanKey of every span, made when read');
  });
});

describe('reduceTrace', () => {
  it('re-parents kept spans to their nearest kept ancestor and records the skipped levels', () => {
    const t = traceOf(chain());
    const keep = new Uint8Array(t.spans.length);
    keep[idx(t, '4')] = 1;
    const out = reduceTrace(t, keep);
    assert.equal(out.keptSpans, 2, 'the root is forced');
    const c = out.spans.find((s) => s.span.name === 'c')!.span;
    assert.equal(bytesToHex(c.parentSpanId), '1'.padStart(16, '0'));
    assert.equal(getAttribute(c.attributes, SAMPLING_ATTR.SKIPPED_LEVELS), 2n);
    assert.equal(checkReducedTrace(t, out), undefined);
    assert.equal(t.spans[idx(t, '4')]!.span.parentSpanId.length, 8, 'the input is not mutated');
    assert.equal(getAttribute(t.spans[idx(t, '4')]!.span.attributes, SAMPLING_ATTR.SKIPPED_LEVELS), undefined);
  });

  it('summarizes dropped spans per operation on their nearest kept ancestor', () => {
    const spans = [span('1', '', 'root', 0, 100), span('2', '1', 'q', 1, 11), span('3', '1', 'q', 12, 42), span('4', '1', 'r', 50, 51)];
    const t = traceOf(spans);
    const out = reduceTrace(t, new Uint8Array(4));
    assert.equal(out.keptSpans, 1);
    const summary = getAttribute(out.spans[0]!.span.attributes, SAMPLING_ATTR.DROPPED);
    assert.equal(summary, '2|40000|10000|30000|q;1|1000|r');
    assert.deepEqual(parseDroppedSummary(summary as string, 'svc'), [
      { service: 'svc', name: 'q', count: 2, sum: 40e6, min: 10e6, max: 30e6 },
      { service: 'svc', name: 'r', count: 1, sum: 1e6, min: 1e6, max: 1e6 },
    ]);
    const none = reduceTrace(t, new Uint8Array(4), { summaries: false });
    assert.equal(getAttribute(none.spans[0]!.span.attributes, SAMPLING_ATTR.DROPPED), undefined);
    assert.ok(none.bytes < out.bytes);
  });

  it('writes the summary text so that any service and operation name reads back', () => {
    const ops = [
      { service: 'own', name: 'a|b;c\\d', count: 3, sum: 6000, min: 1000, max: 3000 },
      { service: 'x;y', name: '@weird', count: 1, sum: 2000, min: 2000, max: 2000 },
      { service: 'own', name: '', count: 2, sum: 0, min: 0, max: 0 },
    ];
    const text = formatDroppedSummary(ops, 'own');
    const back = parseDroppedSummary(text, 'own');
    assert.deepEqual(
      back.map((o) => [o.service, o.name, o.count, o.sum, o.min, o.max]),
      [['own', 'a|b;c\\d', 3, 6000, 1000, 3000], ['own', '', 2, 0, 0, 0], ['x;y', '@weird', 1, 2000, 2000, 2000]],
    );
    assert.deepEqual(parseDroppedSummary('', 'own'), []);
    assert.throws(() => parseDroppedSummary('x|1|a', 'own'), RangeError);
  });

  it('keeps every copy of a duplicated span id when one copy is kept', () => {
    const spans = [...chain(), span('3', '2', 'b', 2, 80)];
    const t = traceOf(spans);
    const keep = new Uint8Array(t.spans.length);
    keep[t.spans.length - 1] = 1; // the second copy of span 3
    keep[idx(t, '4')] = 1;
    const out = reduceTrace(t, keep);
    assert.equal(out.spans.filter((s) => s.span.name === 'b').length, 2);
    assert.equal(checkReducedTrace(t, out), undefined);
  });

  it('checkReducedTrace catches a span hung under the wrong ancestor', () => {
    const t = traceOf(chain());
    const keep = new Uint8Array(t.spans.length);
    keep[idx(t, '4')] = 1;
    const out = reduceTrace(t, keep);
    const bad = { ...out, spans: out.spans.map((s) => (s.span.name === 'c' ? { ...s, span: { ...s.span, parentSpanId: hexToBytes('2'.padStart(16, '0'))! } } : s)) };
    assert.match(checkReducedTrace(t, bad) ?? '', /nearest kept ancestor/);
  });

  it('breaks a parent cycle in corrupt data instead of looping', () => {
    const t = traceOf([span('1', '2', 'x', 0, 10), span('2', '1', 'y', 1, 9)]);
    assert.equal(t.roots.length, 1);
    assert.equal(t.order.length, 2);
  });
});

/** Keeps spans named in `names`, records every decision. */
function pick(names: string[]): SamplingStrategy & { decided: string[] } {
  const decided: string[] = [];
  return {
    name: 'pick',
    decided,
    decide(trace) {
      decided.push(trace.traceIdHex);
      return Uint8Array.from(trace.spans.map((s) => (names.includes(s.span.name) ? 1 : 0)));
    },
  };
}

describe('StreamingSampler', () => {
  it('decides a trace once it has been silent for the decision wait, not before', () => {
    const strategy = pick(['c']);
    const s = new StreamingSampler({ strategy, decisionWaitMs: 1000 });
    const [a, b, c, d] = chain();
    s.push(data([a!, b!]), 0);
    assert.equal(s.poll(900), undefined);
    s.push(data([c!, d!]), 900);
    assert.equal(s.poll(1800), undefined, 'the new spans restarted the wait');
    const out = s.poll(1900);
    assert.ok(out);
    assert.deepEqual(out.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((x) => x.spans.map((y) => y.name))), ['root', 'c']);
    assert.equal(strategy.decided.length, 1);
    assert.deepEqual(s.pending, { traces: 0, spans: 0 });
  });

  it('late spans follow the decision: under the nearest kept ancestor, or dropped with a dropped trace', () => {
    const s = new StreamingSampler({ strategy: pick(['c']), decisionWaitMs: 10 });
    const spans = chain();
    s.push(data(spans.slice(0, 4)), 0);
    s.poll(100);
    s.push(data([span('7', '3', 'late', 5, 6)]), 200);
    const out = s.poll(200)!;
    const late = out.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    assert.equal(bytesToHex(late.parentSpanId), '1'.padStart(16, '0'), 'span 3 was dropped; its nearest kept ancestor is the root');
    assert.equal(s.counters.lateSpansForwarded, 1);
    const drop: SamplingStrategy = { name: 'drop', decide: () => false };
    const s2 = new StreamingSampler({ strategy: drop, decisionWaitMs: 10 });
    s2.push(data(spans.slice(0, 2)), 0);
    assert.equal(s2.poll(100), undefined);
    s2.push(data(spans.slice(2)), 150);
    assert.equal(s2.poll(150), undefined);
    assert.equal(s2.counters.lateSpansDropped, 4);
  });

  it('decides the least recently active trace early when the trace cap is reached', () => {
    const strategy = pick([]);
    const s = new StreamingSampler({ strategy, decisionWaitMs: 1e9, maxTraces: 2 });
    for (let k = 0; k < 5; k++) {
      const id = (k + 1).toString(16).padStart(32, '0');
      s.push(data([makeSpan({ traceId: hexToBytes(id)!, spanId: hexToBytes('01'.repeat(8))!, name: 'r', startTimeUnixNano: 1n, endTimeUnixNano: 2n })]), k);
    }
    assert.equal(s.pending.traces, 2);
    assert.equal(s.counters.tracesDecidedEarly, 3);
    assert.deepEqual(strategy.decided, [1, 2, 3].map((k) => k.toString(16).padStart(32, '0')));
    s.flush();
    assert.equal(s.counters.tracesDecided, 5);
  });

  it('rejects nonsense settings', () => {
    assert.throws(() => new StreamingSampler({ strategy: pick([]), decisionWaitMs: -1 }), RangeError);
    assert.throws(() => new StreamingSampler({ strategy: pick([]), maxTraces: 0 }), RangeError);
  });
});

describe('SortedWindow and RobustScore', () => {
  it('median and quantiles match a brute-force sort over the sliding window', () => {
    let x = 12345;
    const rand = (): number => ((x = (x * 1103515245 + 12345) >>> 0) % 1000) / 7;
    const w = new SortedWindow(37);
    const all: number[] = [];
    for (let k = 0; k < 500; k++) {
      const v = rand();
      w.push(v);
      all.push(v);
      const win = all.slice(-37).sort((a, b) => a - b);
      const m = win.length >> 1;
      const median = win.length & 1 ? win[m]! : (win[m - 1]! + win[m]!) / 2;
      assert.equal(w.median(), median);
      assert.equal(w.quantile(0.9), win[Math.ceil(0.9 * win.length) - 1]);
    }
    assert.throws(() => new SortedWindow(0), RangeError);
  });

  it('stays exact at capacity 1, before its second value, and when a full window shifts far', () => {
    let x = 99;
    const rand = (): number => ((x = (x * 1103515245 + 12345) >>> 0) % 50) * 3;
    for (const capacity of [1, 2, 300]) {
      const w = new SortedWindow(capacity);
      assert.ok(Number.isNaN(w.median()) && Number.isNaN(w.quantile(0.5)));
      const all: number[] = [];
      for (let k = 0; k < 1500; k++) {
        const v = rand();
        w.push(v);
        all.push(v);
        const win = all.slice(-capacity).sort((a, b) => a - b);
        const m = win.length >> 1;
        assert.equal(w.median(), win.length & 1 ? win[m]! : (win[m - 1]! + win[m]!) / 2);
        for (const q of [0, 0.25, 0.99, 1]) assert.equal(w.quantile(q), win[Math.min(win.length - 1, Math.max(0, Math.ceil(q * win.length) - 1))]);
      }
    }
  });

  it('windows sharing pooled buffers stay exact as others grow, are released and reuse them', () => {
    const pool = new WindowBuffers();
    let x = 5;
    const rand = (m: number): number => (x = (x * 1103515245 + 12345) >>> 0) % m;
    const windows: { w: SortedWindow; all: number[]; capacity: number }[] = [];
    const fresh = (): { w: SortedWindow; all: number[]; capacity: number } => {
      const capacity = [3, 40, 100, 500][rand(4)]!;
      return { w: new SortedWindow(capacity, pool), all: [], capacity };
    };
    for (let k = 0; k < 30; k++) windows.push(fresh());
    for (let step = 0; step < 30_000; step++) {
      const at = rand(windows.length);
      if (rand(200) === 0) {
        windows[at]!.w.release();
        windows[at] = fresh();
        continue;
      }
      const { w, all, capacity } = windows[at]!;
      const v = rand(1000);
      w.push(v);
      all.push(v);
      const win = all.slice(-capacity).sort((a, b) => a - b);
      const m = win.length >> 1;
      assert.equal(w.median(), win.length & 1 ? win[m]! : (win[m - 1]! + win[m]!) / 2);
      assert.equal(w.quantile(0.9), win[Math.ceil(0.9 * win.length) - 1]);
    }
  });

  it('ScoreTable finds and forgets keys as a Map forgetting its oldest key does', () => {
    const table = new ScoreTable();
    const map = new Map<number, RobustScore>();
    let x = 7;
    // Keys as Autoscope makes them (a 32-bit shape hash x 65536 + position), from a small pool so
    // they repeat; a bound of 300 forgets some of them.
    const pool = Array.from({ length: 600 }, (_, k) => ((x = (x * 1103515245 + 12345) >>> 0) * 65536 + (k % 7)));
    for (let k = 0; k < 20_000; k++) {
      const key = pool[(x = (x * 1103515245 + 12345) >>> 0) % pool.length]!;
      assert.equal(table.get(key), map.get(key));
      if (!map.has(key)) {
        if (map.size >= 300) {
          map.delete(map.keys().next().value!);
          table.deleteOldest();
        }
        const s = new RobustScore();
        map.set(key, s);
        table.set(key, s);
      }
      assert.equal(table.size, map.size);
    }
    for (const key of pool) assert.equal(table.get(key), map.get(key));
  });

  it('scores a slow value high and a typical one near zero, never against itself', () => {
    const s = new RobustScore();
    assert.equal(s.score(5), 0, 'nothing seen yet');
    for (let k = 0; k < 100; k++) s.observe(100 + (k % 10));
    assert.ok(Math.abs(s.score(104.5)) < 1);
    assert.ok(s.score(200) > 10);
    const flat = new RobustScore();
    for (let k = 0; k < 50; k++) flat.observe(100);
    assert.equal(flat.score(500), 0, 'MAD 0 scores 0, as in the artifact');
    assert.ok(flat.score(500, 5) > 50, 'a MAD floor lets a constant operation that slows down score');
  });
});

describe('code knowledge from analysis.json', () => {
  const fn = (id: string, branch: boolean) => ({ id, nodes: [{ id: 0, kind: 'entry' }, { id: 1, kind: 'exit' }, ...(branch ? [{ id: 2, kind: 'branch', branch: 'if' }] : [])], branchPoints: branch ? [2] : [] });
  const doc = {
    format: 'slimtrace-analysis',
    version: 1,
    functions: [fn('s:A.a', false), fn('s:Helper.h', true), fn('s:B.b', false)],
    spans: [
      { spanName: 'A.a', service: 's', function: 's:A.a', via: 'controller' },
      { spanName: 'B.b', service: 's', function: 's:B.b', via: 'controller' },
      { spanName: 'GET /b', service: 's', function: 's:B.b', via: 'route' },
      { spanName: 'HTTP GET', service: 's', function: 's:A.a', via: 'http-client' },
    ],
    calls: [{ from: 's:A.a', node: 2, to: 's:Helper.h' }],
  };

  it('a span branches when code it reaches before the next span can branch', () => {
    const k = codeKnowledgeFromAnalysis(doc);
    assert.equal(k.lookup('s', 'A.a')!.branching, true, 'through the call to Helper.h');
    assert.equal(k.lookup('s', 'B.b')!.branching, false);
    assert.deepEqual(k.lookup('s', 'GET /b')!.functions, ['s:B.b']);
    assert.deepEqual(k.lookup('s', 'HTTP GET')!.functions, [], 'a call-site span is not its caller');
    assert.equal(k.lookup('other', 'A.a'), undefined);
  });

  it('names what is wrong with a document that is not an analysis', () => {
    assert.throws(() => codeKnowledgeFromAnalysis([], 'x.json'), (e: unknown) => e instanceof InputError && /x\.json.*JSON object/.test(e.message));
    assert.throws(() => codeKnowledgeFromAnalysis({ ...doc, format: 'other' }), /format is "other"/);
    assert.throws(() => codeKnowledgeFromAnalysis({ ...doc, version: 9 }), /version 9 is not supported/);
    assert.throws(() => codeKnowledgeFromAnalysis({ ...doc, spans: 3 }), /`spans` is not an array/);
    assert.throws(() => codeKnowledgeFromAnalysis({ ...doc, spans: [{}] }), /spans\[0\] lacks/);
  });
});


describe('MinedStructure', () => {
  const none = new Int32Array(0);
  it('implies a child seen under nearly every instance of its parent, and only after enough instances', () => {
    const m = new MinedStructure({ minObservations: 10 });
    const kids = Int32Array.from([7, 8]);
    for (let k = 0; k < 9; k++) m.observe(1, kids, 0, 2, 100);
    assert.equal(m.implied(1, 7), false, 'too few instances yet');
    m.observe(1, kids, 0, 1, 100);
    assert.equal(m.implied(1, 7), true);
    assert.equal(m.implied(1, 8), false, '9 of 10 is below 98%');
  });

  it('a path counted with a small weight stays novel while a few repeat it, and becomes usual once it is most of the traffic', () => {
    const m = new MinedStructure({ minObservations: 10 });
    for (let k = 0; k < 1000; k++) m.observe(1, none, 0, 0, 100);
    for (let k = 0; k < 50; k++) m.observe(1, none, 0, 0, 200, 0.03);
    assert.ok(m.signatureShare(1, 200) < 0.02, 'a fault repeating a rare path 50 times');
    for (let k = 0; k < 5000; k++) m.observe(1, none, 0, 0, 200, 0.03);
    assert.ok(m.signatureShare(1, 200) > 0.02, 'the new normal');
    for (let k = 0; k < 100; k++) m.observe(1, none, 0, 0, 300);
    assert.ok(m.signatureShare(1, 300) > 0.015);
  });
});
