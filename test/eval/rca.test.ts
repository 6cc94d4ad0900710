// Root-cause localisation (src/eval/rca.ts) on hand-built traces with known answers: a clear fault
// both rankings put first, the loss when the reduced data drops the faulty spans (and how
// dropped-span summaries keep it), the AC@k / Avg@5 / chance arithmetic and the random-tie rule,
// and degenerate inputs that must give plain zeros, never NaN.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  kv,
  makeResource,
  makeResourceSpans,
  makeScopeSpans,
  makeSpan,
  makeStatus,
  makeTracesData,
  SpanKind,
  StatusCode,
  type KeyValue,
  type Span,
  type TracesData,
} from '../../src/model/index.js';
import { formatDroppedSummary, SAMPLING_ATTR, createStrategy } from '../../src/sampling/index.js';
import { collectTraffic, defaultFaultScenario, DEFAULT_RATE } from '../../src/generator/index.js';
import {
  evaluateSampling,
  hitsAt,
  rankFaults,
  RcaCollector,
  RcaLimitError,
  rcaFaultsFromDataset,
  rcaFaultsFromGenerator,
  scoreCases,
  type RcaCase,
  type RcaFault,
  type RcaResult,
} from '../../src/eval/index.js';

const MS = 1_000_000n;
const T0 = 1_700_000_000_000n * MS; // ns
let nextId = 1;

function id(bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let n = nextId++;
  for (let i = bytes - 1; n > 0 && i >= 0; i--, n = Math.floor(n / 256)) out[i] = n % 256;
  return out;
}

interface Built {
  service: string;
  span: Span;
}

/** A span of `service` from `startMs` (after T0) lasting `ms`, under `parent`. */
function span(trace: Uint8Array, service: string, name: string, startMs: number, ms: number, parent?: Built, opts: { kind?: number; error?: boolean; attributes?: KeyValue[] } = {}): Built {
  const start = T0 + BigInt(Math.round(startMs * 1e6));
  return {
    service,
    span: makeSpan({
      traceId: trace,
      spanId: id(8),
      parentSpanId: parent ? parent.span.spanId : new Uint8Array(0),
      name,
      kind: opts.kind ?? SpanKind.SERVER,
      startTimeUnixNano: start,
      endTimeUnixNano: start + BigInt(Math.round(ms * 1e6)),
      status: opts.error ? makeStatus(StatusCode.ERROR) : undefined,
      attributes: opts.attributes ?? [],
    }),
  };
}

function data(spans: readonly Built[]): TracesData {
  const bySvc = new Map<string, Span[]>();
  for (const s of spans) {
    const list = bySvc.get(s.service) ?? [];
    list.push(s.span);
    bySvc.set(s.service, list);
  }
  return makeTracesData(
    [...bySvc].map(([svc, list]) => makeResourceSpans({ resource: makeResource({ attributes: [kv('service.name', svc)] }), scopeSpans: [makeScopeSpans({ spans: list })] })),
  );
}

interface TraceShape {
  /** Request type A calls api -> db; type B calls api -> auth. */
  type: 'A' | 'B';
  dbMs?: number;
  dbError?: boolean;
  /** Drop the api client span into db and db's span, summarizing them on api's server span. */
  summarizeDb?: boolean;
  /** Drop them without any summary (what a span sampler without summaries leaves). */
  dropDb?: boolean;
  /** Network delay into db: the api client span is this much slower, db's own span is not. */
  netDelayMs?: number;
  /** Keep the api client span, drop db's span and summarize it on the client span. */
  summarizeDbOnClient?: boolean;
}

/**
 * One trace: frontend (root) -> frontend client -> api server -> api client -> db|auth server.
 * Latencies propagate to the callers; a db error propagates too.
 */
function trace(atMs: number, jitter: number, shape: TraceShape): Built[] {
  const t = id(16);
  const leafMs = shape.type === 'A' ? (shape.dbMs ?? 10 + jitter) : 8 + jitter;
  const err = shape.type === 'A' && shape.dbError === true;
  const net = shape.type === 'A' ? (shape.netDelayMs ?? 0) : 0;
  const apiMs = leafMs + net + 4 + jitter * 0.5;
  const feMs = apiMs + 3 + jitter * 0.25;
  const root = span(t, 'frontend', 'GET /page', atMs, feMs + 2, undefined, { error: err });
  const feClient = span(t, 'frontend', 'HTTP GET', atMs + 1, feMs, root, { kind: SpanKind.CLIENT, error: err });
  const leafSvc = shape.type === 'A' ? 'db' : 'auth';
  const leafName = shape.type === 'A' ? 'query' : 'verify';
  const hideLeaf = shape.type === 'A' && (shape.summarizeDb || shape.dropDb);
  const summary = shape.type === 'A' && shape.summarizeDb
    ? [
        kv(
          SAMPLING_ATTR.DROPPED,
          formatDroppedSummary(
            [
              { service: 'api', name: 'HTTP POST', count: 1, sum: (leafMs + 1) * 1e6, min: (leafMs + 1) * 1e6, max: (leafMs + 1) * 1e6 },
              { service: leafSvc, name: leafName, count: 1, sum: leafMs * 1e6, min: leafMs * 1e6, max: leafMs * 1e6 },
            ],
            'api',
          ),
        ),
      ]
    : [];
  const api = span(t, 'api', 'POST /work', atMs + 2, apiMs, feClient, { error: err, attributes: summary });
  if (hideLeaf) return [root, feClient, api];
  const onClient =
    shape.type === 'A' && shape.summarizeDbOnClient ? [kv(SAMPLING_ATTR.DROPPED, formatDroppedSummary([{ service: leafSvc, name: leafName, count: 1, sum: leafMs * 1e6, min: leafMs * 1e6, max: leafMs * 1e6 }], 'api'))] : [];
  const apiClient = span(t, 'api', 'HTTP POST', atMs + 3, leafMs + net + 1, api, { kind: SpanKind.CLIENT, error: err, attributes: onClient });
  if (onClient.length > 0) return [root, feClient, api, apiClient];
  const leaf = span(t, leafSvc, leafName, atMs + 3.5, leafMs, apiClient, { error: err });
  return [root, feClient, api, apiClient, leaf];
}

const FAULT: RcaFault = { id: 'F01', service: 'db', type: 'latency', startTimeUnixNano: T0 + 100_000n * MS, endTimeUnixNano: T0 + 200_000n * MS };

/** 60 baseline traces before the window, then 40 in it (half of type A), shaped by `inWindow`. */
function scenario(inWindow: (type: 'A' | 'B') => TraceShape, baseline: (type: 'A' | 'B') => TraceShape = (type) => ({ type }), windowJitter?: number): TracesData[] {
  const out: Built[] = [];
  for (let i = 0; i < 60; i++) {
    const type = i % 2 === 0 ? 'A' : 'B';
    out.push(...trace(i * 1000, i % 5, baseline(type)));
  }
  for (let i = 0; i < 40; i++) {
    const type = i % 2 === 0 ? 'A' : 'B';
    out.push(...trace(100_000 + i * 1000, windowJitter ?? i % 5, inWindow(type)));
  }
  return [data(out)];
}

function top1(r: RcaResult, method: 'traceRca' | 'microRank'): string | undefined {
  return r.cases[0]!.top[method][0];
}

function assertFinite(r: RcaResult): void {
  for (const x of [...r.methods.traceRca.ac, r.methods.traceRca.avg5, ...r.methods.microRank.ac, r.methods.microRank.avg5, ...r.chance.ac, r.chance.avg5]) {
    assert.ok(Number.isFinite(x), `not finite: ${x}`);
    assert.ok(x >= 0 && x <= 1, `out of [0, 1]: ${x}`);
  }
}

describe('RCA rankings on a clear fault', () => {
  it('a slow db: both rankings put db first, AC@1 = 1', () => {
    const r = rankFaults(scenario((type) => ({ type, dbMs: 120 })), [FAULT]);
    assert.equal(r.faults, 1);
    assert.equal(top1(r, 'traceRca'), 'db');
    assert.equal(top1(r, 'microRank'), 'db');
    assert.deepEqual(r.methods.traceRca.ac, [1, 1, 1, 1, 1]);
    assert.deepEqual(r.methods.microRank.ac, [1, 1, 1, 1, 1]);
    assert.equal(r.cases[0]!.candidates, 4);
    assert.equal(r.cases[0]!.abnormalTraces.traceRca, 20);
    assert.equal(r.cases[0]!.abnormalTraces.microRank, 20);
    assert.deepEqual(r.chance.ac, [0.25, 0.5, 0.75, 1, 1]);
    assertFinite(r);
  });

  it('a failing db (errors propagate to every caller): db first in both', () => {
    const r = rankFaults(scenario((type) => ({ type, dbError: true })), [FAULT]);
    assert.equal(top1(r, 'traceRca'), 'db');
    assert.equal(top1(r, 'microRank'), 'db');
    assert.equal(r.methods.traceRca.ac[0], 1);
    assert.equal(r.methods.microRank.ac[0], 1);
  });

  it('spans outside every window are the baseline; in-window spans are not', () => {
    const r = rankFaults(scenario((type) => ({ type, dbMs: 120 })), [FAULT]);
    assert.equal(r.baselineSpans, 60 * 5);
    assert.equal(r.windowSpans, 40 * 5);
    assert.equal(r.cases[0]!.traces, 40);
  });

  it('the same spans in any batching give the same result', () => {
    const one = rankFaults(scenario((type) => ({ type, dbMs: 120 })), [FAULT]);
    const c = new RcaCollector([FAULT]);
    nextId = 1;
    const again = scenario((type) => ({ type, dbMs: 120 }))[0]!;
    for (const rs of again.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) c.add(makeTracesData([makeResourceSpans({ resource: rs.resource, scopeSpans: [makeScopeSpans({ spans: [s] })] })]));
    const split = c.result();
    assert.deepEqual(split.methods, one.methods);
    assert.deepEqual(split.cases[0]!.top, one.cases[0]!.top);
  });
});

describe('RCA on reduced data', () => {
  it('reduced data that dropped the faulty spans loses the top-1, and the metric says so', () => {
    const full = rankFaults(scenario((type) => ({ type, dbMs: 120 })), [FAULT]);
    const reduced = rankFaults(scenario((type) => ({ type, dbMs: 120, dropDb: true }), (type) => ({ type, dropDb: true })), [FAULT]);
    assert.equal(full.methods.traceRca.ac[0], 1);
    assert.equal(full.methods.microRank.ac[0], 1);
    assert.notEqual(top1(reduced, 'traceRca'), 'db');
    assert.notEqual(top1(reduced, 'microRank'), 'db');
    // db is not in the reduced data at all: a miss at every k, not chance.
    assert.deepEqual(reduced.methods.traceRca.ac, [0, 0, 0, 0, 0]);
    assert.deepEqual(reduced.methods.microRank.ac, [0, 0, 0, 0, 0]);
    assert.equal(reduced.cases[0]!.candidates, 3);
    assert.ok(reduced.methods.traceRca.avg5 < full.methods.traceRca.avg5);
    assertFinite(reduced);
  });

  it('dropped-span summaries keep the culprit: db is still first', () => {
    const reduced = rankFaults(scenario((type) => ({ type, dbMs: 120, summarizeDb: true }), (type) => ({ type, summarizeDb: true })), [FAULT]);
    assert.equal(reduced.cases[0]!.candidates, 4);
    assert.equal(top1(reduced, 'traceRca'), 'db');
    assert.equal(top1(reduced, 'microRank'), 'db');
    assert.equal(reduced.methods.traceRca.ac[0], 1);
    assert.equal(reduced.methods.microRank.ac[0], 1);
  });

  it('network delay into db (only the caller sees it): db first, also when db spans are summarized on the client span', () => {
    const full = rankFaults(scenario((type) => ({ type, netDelayMs: 100 })), [FAULT]);
    assert.equal(top1(full, 'traceRca'), 'db');
    const reduced = rankFaults(scenario((type) => ({ type, netDelayMs: 100, summarizeDbOnClient: true }), (type) => ({ type, summarizeDbOnClient: true })), [FAULT]);
    assert.equal(reduced.cases[0]!.candidates, 4);
    assert.equal(top1(reduced, 'traceRca'), 'db');
    assert.equal(reduced.methods.traceRca.ac[0], full.methods.traceRca.ac[0]);
  });

  it('evaluateSampling reports RCA on the full input and on each strategy output', async () => {
    const traces = 400;
    const g = collectTraffic({ seed: 3, traces, faults: defaultFaultScenario(traces / DEFAULT_RATE) });
    const faults = rcaFaultsFromGenerator(g.groundTruth.faults);
    async function* batches(): AsyncGenerator<TracesData> {
      yield* g.batches;
    }
    const results = await evaluateSampling({
      batches: batches(),
      strategies: [createStrategy('head', { targetReduction: 0.8 }), createStrategy('tail', { targetReduction: 0.8 })],
      rcaFaults: faults,
    });
    assert.equal(results.length, 2);
    for (const r of results) {
      assert.ok(r.rca);
      assert.equal(r.rca.full.faults, 5);
      assert.equal(r.rca.reduced.faults, 5);
      assertFinite(r.rca.full);
      assertFinite(r.rca.reduced);
      // Fewer spans in the windows after a reduction.
      assert.ok(r.rca.reduced.windowSpans < r.rca.full.windowSpans);
    }
    // The full-data figures do not depend on the strategy.
    assert.deepEqual(results[0]!.rca!.full.methods, results[1]!.rca!.full.methods);
  });
});

function fakeCase(hits: number[], candidates: number): RcaCase {
  const chance = [1, 2, 3, 4, 5].map((k) => (candidates === 0 ? 0 : Math.min(k, candidates) / candidates));
  return {
    fault: 'F',
    type: 't',
    service: 's',
    candidates,
    traces: 1,
    spans: 1,
    abnormalTraces: { traceRca: 1, microRank: 1 },
    top: { traceRca: [], microRank: [] },
    hits: { traceRca: hits, microRank: hits },
    chance,
  };
}

describe('AC@k, Avg@5 and chance arithmetic', () => {
  it('AC@k is the mean hit@k over cases; Avg@5 the mean of AC@1..AC@5', () => {
    // Case 1 found first, case 2 third, case 3 never.
    const s = scoreCases([fakeCase([1, 1, 1, 1, 1], 10), fakeCase([0, 0, 1, 1, 1], 10), fakeCase([0, 0, 0, 0, 0], 10)]);
    assert.equal(s.faults, 3);
    assert.deepEqual(s.methods.traceRca.ac, [1 / 3, 1 / 3, 2 / 3, 2 / 3, 2 / 3]);
    assert.ok(Math.abs(s.methods.traceRca.avg5 - (1 / 3 + 1 / 3 + 2 / 3 + 2 / 3 + 2 / 3) / 5) < 1e-12);
  });

  it('chance@k = mean of min(k, n)/n over cases', () => {
    const s = scoreCases([fakeCase([0, 0, 0, 0, 0], 4), fakeCase([0, 0, 0, 0, 0], 2)]);
    assert.deepEqual(s.chance.ac, [(0.25 + 0.5) / 2, (0.5 + 1) / 2, (0.75 + 1) / 2, 1, 1]);
    const ten = scoreCases([fakeCase([0, 0, 0, 0, 0], 10)]);
    assert.deepEqual(ten.chance.ac, [0.1, 0.2, 0.3, 0.4, 0.5]);
    assert.ok(Math.abs(ten.chance.avg5 - 0.3) < 1e-12);
  });

  it('hit@k: a unique rank, ties at random, and an absent service', () => {
    const services = new Set(['a', 'b', 'c', 'd']);
    assert.deepEqual(hitsAt(new Map([['a', 3], ['b', 2], ['c', 1], ['d', 0]]), services, 'b'), [0, 1, 1, 1, 1]);
    // All equal: the method tells nothing apart, so it scores chance, not a lucky name order.
    assert.deepEqual(hitsAt(new Map(), services, 'a'), [0.25, 0.5, 0.75, 1, 1]);
    // One above, two tied (b, c) for ranks 2-3.
    assert.deepEqual(hitsAt(new Map([['a', 5], ['b', 1], ['c', 1]]), services, 'c'), [0, 0.5, 1, 1, 1]);
    assert.deepEqual(hitsAt(new Map([['a', 1]]), services, 'zz'), [0, 0, 0, 0, 0]);
  });
});

describe('degenerate inputs give plain numbers', () => {
  it('no faults: faults 0 and zeros', () => {
    const r = rankFaults(scenario((type) => ({ type })), []);
    assert.equal(r.faults, 0);
    assert.deepEqual(r.methods.traceRca.ac, [0, 0, 0, 0, 0]);
    assert.equal(r.chance.avg5, 0);
    assertFinite(r);
  });

  it('no data at all, and a window with no spans in it', () => {
    const empty = rankFaults([], [FAULT]);
    assert.equal(empty.faults, 1);
    assert.equal(empty.cases[0]!.candidates, 0);
    assert.deepEqual(empty.methods.microRank.ac, [0, 0, 0, 0, 0]);
    assert.deepEqual(empty.chance.ac, [0, 0, 0, 0, 0]);
    assertFinite(empty);
    const elsewhere = rankFaults([makeTracesData([])], [{ ...FAULT, startTimeUnixNano: 0n, endTimeUnixNano: 1n }]);
    assert.equal(elsewhere.cases[0]!.traces, 0);
    assertFinite(elsewhere);
  });

  it('no anomaly in the window: every service ties, so hits equal chance', () => {
    // Window traces at the baseline's fastest: nothing is an outlier for either method.
    const r = rankFaults(scenario((type) => ({ type }), undefined, 0), [FAULT]);
    assert.equal(r.cases[0]!.abnormalTraces.microRank, 0);
    assert.equal(r.cases[0]!.abnormalTraces.traceRca, 0);
    assert.deepEqual(r.methods.traceRca.ac, r.chance.ac);
    assert.deepEqual(r.methods.microRank.ac, r.chance.ac);
    assertFinite(r);
  });

  it('no baseline (everything in the window): only errors count, no NaN', () => {
    const wide = { ...FAULT, startTimeUnixNano: 0n };
    const slow = rankFaults(scenario((type) => ({ type, dbMs: 120 })), [wide]);
    assert.equal(slow.cases[0]!.abnormalTraces.traceRca, 0);
    assertFinite(slow);
    const failing = rankFaults(scenario((type) => ({ type, dbError: true })), [wide]);
    assert.equal(top1(failing, 'traceRca'), 'db');
    assertFinite(failing);
  });

  it('a malformed dropped-span summary is ignored, not fatal', () => {
    const t = id(16);
    const bad = span(t, 'api', 'x', 150_000, 5, undefined, { attributes: [kv(SAMPLING_ATTR.DROPPED, 'zz|not|a|summary')] });
    const r = rankFaults([data([bad])], [FAULT]);
    assert.equal(r.cases[0]!.candidates, 1);
    assertFinite(r);
  });

  it('more window spans than maxSpans is a typed error', () => {
    assert.throws(() => rankFaults(scenario((type) => ({ type })), [FAULT], { maxSpans: 10 }), RcaLimitError);
  });
});

describe('fault cases from labels', () => {
  it('dataset faults: the pod service and [inject, inject + 180 s)', () => {
    const [f] = rcaFaultsFromDataset([{ id: 'F01', type: 'cpu_contention', injectService: 'ts-order-service', injectTimeNs: 10n, windowEndNs: 20n }]);
    assert.deepEqual(f, { id: 'F01', service: 'ts-order-service', type: 'cpu_contention', startTimeUnixNano: 10n, endTimeUnixNano: 20n });
  });
});
