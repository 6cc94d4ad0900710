// TraceStatsAccumulator: the same spans give the same figures however they are batched or ordered
// (a trace whose spans are far apart in the input is one trace), exact on hand-built edge cases
// (repeated ids, missing parents, cycles, ids of odd lengths), and bounded.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateTraffic, Prng } from '../../src/generator/index.js';
import {
  bytesToHex,
  hexToBytes,
  makeResource,
  makeResourceSpans,
  makeScopeSpans,
  makeSpan,
  makeTracesData,
  kv,
  type ResourceSpans,
  type ScopeSpans,
  type Span,
  type TracesData,
} from '../../src/model/index.js';
import { StatsLimitError, TraceStatsAccumulator, type TraceStatsSummary } from '../../src/eval/index.js';

interface Located {
  span: Span;
  rs: ResourceSpans;
  ss: ScopeSpans;
}

function flatten(batches: readonly TracesData[]): Located[] {
  const out: Located[] = [];
  for (const b of batches) for (const rs of b.resourceSpans) for (const ss of rs.scopeSpans) for (const span of ss.spans) out.push({ span, rs, ss });
  return out;
}

/** The spans cut into batches of `size`, each span in its own envelope copy (as a reader would give them). */
function batchesOf(spans: readonly Located[], size: number): TracesData[] {
  const out: TracesData[] = [];
  for (let i = 0; i < spans.length; i += size) {
    out.push(
      makeTracesData(
        spans.slice(i, i + size).map(({ span, rs, ss }) => makeResourceSpans({ resource: rs.resource, scopeSpans: [makeScopeSpans({ scope: ss.scope, spans: [span] })] })),
      ),
    );
  }
  return out;
}

function summarize(batches: readonly TracesData[]): TraceStatsSummary {
  const acc = new TraceStatsAccumulator();
  for (const b of batches) acc.add(b);
  return acc.summary();
}

/** What must not depend on batching (bytes and the batch count do: envelopes repeat per batch). */
function traceFigures(s: TraceStatsSummary) {
  const { batches: _b, otlpBytes: _o, otlpBytesPerSpan: _p, ...rest } = s;
  return rest;
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const r = new Prng(seed);
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

const id = (hex: string) => hexToBytes(hex);
const T1 = '0102030405060708090a0b0c0d0e0f10';
const T2 = 'f102030405060708090a0b0c0d0e0f10';

function span(trace: string, spanId: string, parent = ''): Span {
  return makeSpan({ traceId: id(trace), spanId: id(spanId), parentSpanId: parent ? id(parent) : new Uint8Array(0), name: 'op', startTimeUnixNano: 1n, endTimeUnixNano: 2_000_001n });
}

function data(...spans: Span[]): TracesData {
  return makeTracesData([makeResourceSpans({ resource: makeResource({ attributes: [kv('service.name', 'svc')] }), scopeSpans: [makeScopeSpans({ spans })] })]);
}

describe('TraceStatsAccumulator', () => {
  const traffic = [...generateTraffic({ seed: 3, traces: 150 })].map((b) => b.data);
  const spans = flatten(traffic);

  it('gives the same figures for every batching and order of the same spans', () => {
    const reference = traceFigures(summarize(traffic));
    // What the generator knows about its own traffic.
    const traces = new Set(spans.map((s) => bytesToHex(s.span.traceId)));
    assert.equal(reference.traces, traces.size);
    assert.equal(reference.rootSpans, spans.filter((s) => s.span.parentSpanId.length === 0).length);
    assert.equal(reference.orphanSpans, 0);
    assert.equal(reference.spans, spans.length);
    for (const size of [1, 2, 7, 64, spans.length]) assert.deepEqual(traceFigures(summarize(batchesOf(spans, size))), reference, `batches of ${size}`);
    assert.deepEqual(traceFigures(summarize(batchesOf([...spans].reverse(), 5))), reference, 'reversed');
    for (const seed of [1, 2]) assert.deepEqual(traceFigures(summarize(batchesOf(shuffled(spans, seed), 16))), reference, `shuffled (${seed})`);
  });

  it('measures a trace whole when its spans are many batches apart', () => {
    // One span per batch, the root first and its child 10 batches later: one trace, no orphan.
    const filler = Array.from({ length: 10 }, (_, i) => data(span(T2, `00000000000000${(i + 1).toString(16).padStart(2, '0')}`)));
    const s = summarize([data(span(T1, 'aaaaaaaaaaaaaaaa')), ...filler, data(span(T1, 'bbbbbbbbbbbbbbbb', 'aaaaaaaaaaaaaaaa'))]);
    assert.equal(s.traces, 2);
    assert.equal(s.rootSpans, 11);
    assert.equal(s.orphanSpans, 0);
    assert.equal(s.depth.max, 2);
    assert.equal(s.spansPerTrace.max, 10);
  });

  it('counts repeated span ids once, whichever copy comes first', () => {
    const a = span(T1, 'aaaaaaaaaaaaaaaa');
    const b1 = span(T1, 'bbbbbbbbbbbbbbbb', 'aaaaaaaaaaaaaaaa');
    const b2 = span(T1, 'bbbbbbbbbbbbbbbb', 'cccccccccccccccc'); // the same id, another (missing) parent
    const one = summarize([data(a, b1, b2)]);
    const other = summarize([data(b2), data(a), data(b1)]);
    assert.deepEqual(traceFigures(one), traceFigures(other));
    assert.equal(one.spans, 3);
    assert.equal(one.duplicateSpans, 1);
    assert.equal(one.spansPerTrace.max, 2);
    // The copy kept is the one with the smaller parent id: here the one whose parent is present.
    assert.equal(one.rootSpans, 1);
    assert.equal(one.orphanSpans, 0);
    assert.equal(one.depth.max, 2);
  });

  it('counts spans whose parent is missing, and ends on parent cycles', () => {
    const s = summarize([
      data(
        span(T1, '0000000000000001'),
        span(T1, '0000000000000002', '0000000000000009'), // parent never seen
        span(T1, '0000000000000003', '0000000000000002'),
        span(T2, '0000000000000004', '0000000000000005'), // a cycle 4 -> 5 -> 4
        span(T2, '0000000000000005', '0000000000000004'),
        span(T2, '0000000000000006', '0000000000000006'), // its own parent
      ),
    ]);
    assert.equal(s.traces, 2);
    assert.equal(s.rootSpans, 1);
    assert.equal(s.orphanSpans, 1);
    assert.equal(s.depth.max, 2);
  });

  it('compares ids that are not 8 bytes long exactly', () => {
    const odd = makeSpan({ traceId: id(T1), spanId: id('0102'), parentSpanId: new Uint8Array(0) });
    const child = makeSpan({ traceId: id(T1), spanId: id('0000000000000102'), parentSpanId: id('0102') });
    const lookalike = makeSpan({ traceId: id(T1), spanId: id('0000000000000001'), parentSpanId: id('0000000000000000') });
    const s = summarize([data(odd, child, lookalike)]);
    assert.equal(s.spansPerTrace.max, 3);
    assert.equal(s.rootSpans, 1);
    assert.equal(s.orphanSpans, 1, 'an 8-byte zero parent is not the 2-byte id');
    assert.equal(s.depth.max, 2);
  });

  it('refuses more spans than its bound as soon as the bound is met, with a StatsLimitError', () => {
    const acc = new TraceStatsAccumulator({ maxSpans: 100 });
    for (const b of batchesOf(spans.slice(0, 100), 10)) acc.add(b);
    assert.throws(() => acc.add(batchesOf(spans.slice(100, 101), 1)[0]!), (e: unknown) => e instanceof StatsLimitError && /more than 100 spans/.test(e.message));
  });
});
