// Tracezip is lossless at the message level: for every frame of a stream, decode(encode(x)) is the
// same protobuf message as x (diffTracesData names the first difference), across frame boundaries
// (traces and parent/child pairs that straddle frames), at random batch sizes, for generated
// traffic with faults, arbitrary messages (every AnyValue kind, unknown fields, odd id lengths, empty
// containers, huge values), the shared edge cases, and hand-made shapes that stress the span
// references (parents later in the frame or in earlier frames, clock skew, duplicate ids, more
// traces than the 512-trace ring, attribute cardinality crossing the template limit), with every
// compression, and in stateless mode.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TracezipDecoder, TracezipEncoder, readFrameHeader, type Compression } from '../../src/tracezip/index.js';
import { crc32c, crc32cIsNative, crc32cPortable } from '../../src/tracezip/crc32c.js';
import { jsonEscaped, rfc3339Nano } from '../../src/tracezip/context.js';
import { collectTraffic, defaultFaultScenario } from '../../src/generator/index.js';
import { ArrayValue, KeyValueList, bytesToHex, countSpans, diffTracesData, rebatch, type KeyValue, type ResourceSpans, type ScopeSpans, type Span, type TracesData } from '../../src/model/index.js';
import { Arbitrary, Rng, arbitraryTracesData, mixSeed, nestedArrays, nestedKvlists } from '../helpers/arbitrary.js';
import { edgeCaseTracesData, everyAnyValue, unknownFieldsEverywhere } from '../helpers/edge-cases.js';
import {
  T0,
  batchOf,
  cloneData,
  breakParentCycles,
  decodeOutcome,
  describeOutcome,
  ev,
  expectData,
  kv,
  recut,
  shuffled,
  sid,
  sp,
  tid,
  spansOf,
  streamRoundTrip,
} from '../helpers/tracezip.js';

const COMPRESSIONS: readonly Compression[] = ['zstd', 'gzip', 'none'];

const trafficCache = new Map<number, TracesData[]>();
/** Generated traffic with the default fault scenario (exceptions, wrong returns, latency, CPU, network). */
function traffic(seed: number, traces = 500): TracesData[] {
  const key = seed * 100_000 + traces;
  let b = trafficCache.get(key);
  if (!b) {
    b = collectTraffic({ seed, traces, faults: defaultFaultScenario(traces / 100), batchSpans: 512 }).batches;
    trafficCache.set(key, b);
  }
  return b;
}

/** Where each span's parent is, relative to the span's frame. */
function parentPlaces(batches: readonly TracesData[]): Record<'none' | 'earlier-in-frame' | 'later-in-frame' | 'earlier-frame' | 'later-frame' | 'absent', number> {
  const where = new Map<string, { frame: number; index: number }[]>();
  batches.forEach((b, f) =>
    spansOf(b).forEach((s, i) => {
      const k = bytesToHex(s.traceId) + bytesToHex(s.spanId);
      const l = where.get(k) ?? [];
      l.push({ frame: f, index: i });
      where.set(k, l);
    }),
  );
  const out = { none: 0, 'earlier-in-frame': 0, 'later-in-frame': 0, 'earlier-frame': 0, 'later-frame': 0, absent: 0 };
  batches.forEach((b, f) =>
    spansOf(b).forEach((s, i) => {
      if (s.parentSpanId.length === 0) return void out.none++;
      const p = where.get(bytesToHex(s.traceId) + bytesToHex(s.parentSpanId))?.[0];
      if (!p) out.absent++;
      else if (p.frame < f) out['earlier-frame']++;
      else if (p.frame > f) out['later-frame']++;
      else if (p.index < i) out['earlier-in-frame']++;
      else out['later-in-frame']++;
    }),
  );
  return out;
}

/** Round-trips one message through a fresh encoder/decoder pair; returns a problem or undefined. */
function singleFrameProblem(data: TracesData, compression: Compression = 'none'): string | undefined {
  const enc = new TracezipEncoder({ compression, streamId: 99n });
  let frame: Uint8Array;
  try {
    frame = enc.encode(data);
  } catch (e) {
    return `encode threw ${(e as Error).stack}`;
  }
  const o = decodeOutcome(new TracezipDecoder(), frame);
  if (o.kind !== 'data') return `decoded as ${describeOutcome(o)}`;
  const d = diffTracesData(o.data, data);
  return d === undefined ? undefined : `first difference (decoded != original): ${d}`;
}

/** Runs `check` for each item, collecting failures; fails once with the count and the first few. */
function allPass<T>(items: Iterable<T>, label: (item: T) => string, check: (item: T) => string | undefined): number {
  const failures: string[] = [];
  let n = 0;
  for (const item of items) {
    n++;
    const p = check(item);
    if (p !== undefined) failures.push(`${label(item)}: ${p}`);
  }
  if (failures.length > 0) assert.fail(`${failures.length} of ${n} failed:\n  ${failures.slice(0, 8).join('\n  ')}`);
  return n;
}

/** Times folded below 2^63, so that no two times of a message are 2^63 or more apart. */
function foldTimes(data: TracesData): TracesData {
  const m = (1n << 63n) - 1n;
  for (const s of spansOf(data)) {
    s.startTimeUnixNano &= m;
    s.endTimeUnixNano &= m;
    for (const e of s.events) e.timeUnixNano &= m;
  }
  return data;
}

/**
 * Gives arbitrary spans a trace structure: 16-byte trace ids from a small pool and 8-byte span ids,
 * parents among the spans of the same trace (acyclic: a parent has a lower random rank, but may sit
 * anywhere in the message, or in an earlier message of the stream), sometimes a parent that is not
 * there, sometimes a duplicated span id.
 */
function rewire(data: TracesData, rng: Rng, pool: Uint8Array[], earlier: Map<string, Uint8Array[]>, duplicateRate = 0): TracesData {
  const spans = spansOf(data);
  const ranked = spans.map((s) => ({ s, rank: rng.float() })).sort((a, b) => a.rank - b.rank);
  const byTrace = new Map<string, Uint8Array[]>();
  for (const { s } of ranked) {
    if (rng.bool(0.1)) continue; // keep the arbitrary ids (odd lengths: raw spans)
    const t = rng.pick(pool);
    const key = bytesToHex(t);
    s.traceId = t;
    const mine = byTrace.get(key) ?? [];
    const before = earlier.get(key) ?? [];
    s.spanId = mine.length > 0 && rng.bool(duplicateRate) ? rng.pick(mine) : rng.bytes(8);
    const r = rng.int(10);
    if (r < 5 && mine.length > 0) s.parentSpanId = rng.pick(mine);
    else if (r < 7 && before.length > 0) s.parentSpanId = rng.pick(before);
    else if (r < 8) s.parentSpanId = rng.bytes(8);
    else s.parentSpanId = new Uint8Array(0);
    mine.push(s.spanId);
    byTrace.set(key, mine);
  }
  for (const [k, ids] of byTrace) earlier.set(k, [...(earlier.get(k) ?? []), ...ids].slice(-300));
  // Arbitrary ids kept as they were may still make a span its own parent (all-zero ids).
  if (duplicateRate === 0) breakParentCycles(data);
  return data;
}

describe('round trips: generated traffic', () => {
  test('traffic with faults (3 seeds) as generated, with every compression', () => {
    let spans = 0;
    for (const seed of [1, 7, 23]) {
      const batches = traffic(seed);
      for (const compression of COMPRESSIONS) {
        streamRoundTrip(batches, `seed ${seed}, ${compression}`, { compression });
        spans += batches.reduce((n, b) => n + countSpans(b), 0);
      }
    }
    assert.ok(spans > 20_000, `only ${spans} spans`);
  });

  test('traffic re-cut into random batch sizes: traces and parent/child pairs straddle frames', () => {
    const totals = { 'earlier-frame': 0, 'later-frame': 0, 'later-in-frame': 0, 'earlier-in-frame': 0 };
    for (const seed of [2, 5]) {
      const rng = new Rng(mixSeed(0x7c07, seed));
      for (const [min, max] of [
        [1, 3],
        [1, 40],
        [5, 700],
      ] as const) {
        const batches = recut(traffic(seed), (n) => rng.int(n), min, max);
        const compression = rng.pick(COMPRESSIONS);
        streamRoundTrip(batches, `seed ${seed}, batches of ${min}..${max}, ${compression}`, { compression });
        const p = parentPlaces(batches);
        for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += p[k];
      }
    }
    // The stream really exercised every kind of parent reference.
    assert.ok(totals['earlier-frame'] > 1000, `parents in earlier frames: ${totals['earlier-frame']}`);
    assert.ok(totals['later-in-frame'] > 1000, `parents later in the frame: ${totals['later-in-frame']}`);
    assert.ok(totals['earlier-in-frame'] > 100, `parents earlier in the frame: ${totals['earlier-in-frame']}`);
    assert.ok(totals['later-frame'] > 100, `parents in later frames: ${totals['later-frame']}`);
  });

  test('traffic re-cut with rebatch into 1, 7, 64 and 512 spans', async () => {
    for (const n of [1, 7, 64, 512]) {
      const batches: TracesData[] = [];
      for await (const b of rebatch(traffic(3, 300), n)) batches.push(b);
      streamRoundTrip(batches, `rebatch ${n}`, { compression: 'none' });
    }
  });

  test('children before their parents: every scope reversed, and shuffled', () => {
    const rng = new Rng(0xc41d);
    const reversed = traffic(4, 300).map((b) => ({
      ...b,
      resourceSpans: b.resourceSpans.map((rs) => ({ ...rs, scopeSpans: rs.scopeSpans.map((ss) => ({ ...ss, spans: ss.spans.slice().reverse() })) })),
    }));
    streamRoundTrip(reversed, 'reversed', { compression: 'none' });
    const all = shuffled(
      traffic(4, 300).flatMap((b) => spansOf(b)),
      (n) => rng.int(n),
    );
    const batches: TracesData[] = [];
    for (let i = 0; i < all.length; ) {
      const n = 1 + rng.int(300);
      batches.push(batchOf(all.slice(i, i + n)));
      i += n;
    }
    const p = parentPlaces(batches);
    assert.ok(p['later-in-frame'] > 50 && p['later-frame'] > 500, JSON.stringify(p));
    streamRoundTrip(batches, 'shuffled', { compression: 'none' });
  });
});

describe('round trips: arbitrary messages', () => {
  test('1,500 arbitrary messages, one frame each (every AnyValue kind, unknown fields everywhere, odd ids, 64-bit times)', () => {
    const n = allPass(
      Array.from({ length: 1500 }, (_, i) => i + 1),
      (seed) => `arbitrary seed ${seed}`,
      (seed) => singleFrameProblem(arbitraryTracesData(seed)),
    );
    assert.equal(n, 1500);
  });

  test('1,500 arbitrary messages, one frame each, times folded below 2^63 and parent cycles broken (all but the two minimal bugs below)', () => {
    let broken = 0;
    allPass(
      Array.from({ length: 1500 }, (_, i) => i + 1),
      (seed) => `arbitrary seed ${seed} (folded times, no cycles)`,
      (seed) => {
        const data = foldTimes(arbitraryTracesData(seed));
        broken += breakParentCycles(data);
        return singleFrameProblem(data);
      },
    );
    assert.ok(broken > 0, 'the arbitrary messages include parent cycles (zero ids) that the unmodified test above carries');
  });

  test('arbitrary messages as long streams, rewired into traces whose parents sit anywhere (earlier frames, later in the frame), every compression', () => {
    for (const [k, compression] of COMPRESSIONS.entries()) {
      const rng = new Rng(mixSeed(0xa5b, k));
      const pool = Array.from({ length: 6 }, () => rng.bytes(16));
      const earlier = new Map<string, Uint8Array[]>();
      const gen = new Arbitrary(rng.fork(), { maxSpans: 8, maxResourceSpans: 2, maxScopeSpans: 2 });
      const batches: TracesData[] = [];
      for (let i = 0; i < 250; i++) {
        if (rng.bool(0.05)) pool[rng.int(pool.length)] = rng.bytes(16); // traces end, new ones start
        batches.push(foldTimes(rewire(gen.tracesData(), rng, pool, earlier)));
      }
      const p = parentPlaces(batches);
      assert.ok(p['earlier-frame'] > 50 && p['later-in-frame'] > 50, JSON.stringify(p));
      streamRoundTrip(batches, `arbitrary stream, ${compression}`, { compression });
    }
  });

  test('the same, with extreme 64-bit times left in', () => {
    const rng = new Rng(0xa5c);
    const pool = Array.from({ length: 5 }, () => rng.bytes(16));
    const earlier = new Map<string, Uint8Array[]>();
    const gen = new Arbitrary(rng.fork(), { maxSpans: 8 });
    const batches = Array.from({ length: 150 }, () => rewire(gen.tracesData(), rng, pool, earlier));
    streamRoundTrip(batches, 'arbitrary stream with 64-bit times', { compression: 'none' });
  });

  test('the same, with 4% of span ids duplicated within their trace (times folded)', () => {
    const rng = new Rng(0xa5d);
    const pool = Array.from({ length: 5 }, () => rng.bytes(16));
    const earlier = new Map<string, Uint8Array[]>();
    const gen = new Arbitrary(rng.fork(), { maxSpans: 8 });
    const batches = Array.from({ length: 150 }, () => foldTimes(rewire(gen.tracesData(), rng, pool, earlier, 0.04)));
    streamRoundTrip(batches, 'arbitrary stream with duplicate span ids', { compression: 'none' });
  });
});

describe('round trips: edge cases and huge values', () => {
  test('every edge case alone, with every compression', () => {
    for (const compression of COMPRESSIONS) {
      allPass(
        edgeCaseTracesData(),
        (c) => `${c.name} (${compression})`,
        (c) => singleFrameProblem(c.data, compression),
      );
    }
  });

  test('all edge cases in one stream, forwards and backwards (state shared between them)', () => {
    const cases = edgeCaseTracesData().filter((c) => c.name !== '64-bit times');
    streamRoundTrip(
      cases.map((c) => c.data),
      'edge cases forwards',
      { compression: 'none' },
    );
    streamRoundTrip(
      cases.map((c) => c.data).reverse(),
      'edge cases backwards',
      { compression: 'zstd' },
    );
    streamRoundTrip([unknownFieldsEverywhere(), batchOf([sp({ trace: 1, id: 1, attributes: everyAnyValue() })]), unknownFieldsEverywhere()], 'unknown fields, then every AnyValue twice', {
      compression: 'gzip',
    });
  });

  test('huge values: 4 MiB strings, 1 MiB bytes, 1,000 attributes, 5,000 events, deep nesting', () => {
    const big = 'x'.repeat(4 << 20);
    const bytes = new Uint8Array(1 << 20).map((_, i) => (i * 31) & 0xff);
    const many = Array.from({ length: 1000 }, (_, i) => kv(`attr.${i}`, i % 3 === 0 ? `v${i}` : i % 3 === 1 ? BigInt(i) : i / 7));
    const events = Array.from({ length: 5000 }, (_, i) => ev(`event ${i % 7}`, T0 + BigInt(i), [kv('i', BigInt(i)), kv('level', i % 2 ? 'info' : 'warn')]));
    const batches = [
      batchOf([sp({ trace: 1, id: 1, name: big, attributes: [kv('big', big), kv('bytes', bytes)] })]),
      batchOf([sp({ trace: 1, id: 2, parent: 1, attributes: many })]),
      batchOf([sp({ trace: 1, id: 3, parent: 2, events })]),
      batchOf([sp({ trace: 2, id: 4, attributes: [kv('deep.a', nestedArrays(95)), kv('deep.k', nestedKvlists(45)), kv('big', big + 'y')] })]),
      batchOf([sp({ trace: 2, id: 5, parent: 4, attributes: many.slice(0, 500), events: events.slice(0, 100) })]),
    ];
    for (const compression of COMPRESSIONS) streamRoundTrip(batches, `huge values, ${compression}`, { compression });
  });

  test('values nested deeper than the OTLP decoder accepts (101 arrays): refused when encoding, or carried; never a frame its own decoder calls malformed', () => {
    const data = batchOf([sp({ trace: 1, id: 1, attributes: [kv('deep', nestedArrays(101))] })]);
    let frame: Uint8Array;
    try {
      frame = new TracezipEncoder({ compression: 'none' }).encode(data);
    } catch (e) {
      assert.ok(e instanceof Error, 'encode refused the message');
      return;
    }
    expectData(new TracezipDecoder(), frame, data, 'a frame the encoder wrote');
  });

  test('empty batches between full ones', () => {
    const empty: TracesData = { resourceSpans: [], unknownFields: undefined };
    const batches = [empty, ...traffic(1, 100).slice(0, 3), empty, empty, batchOf([]), ...traffic(1, 100).slice(3, 5), empty];
    streamRoundTrip(batches, 'empty batches', { compression: 'none' });
  });
});

describe('round trips: span references under stress', () => {
  test('clock skew: children starting before their parents, ends before starts, events before their span, across frames', () => {
    const rng = new Rng(0x5e3);
    const batches = recut(traffic(6, 300), (n) => rng.int(n), 1, 30).map((b) => {
      for (const s of spansOf(b)) {
        const r = rng.int(4);
        if (r === 0) s.startTimeUnixNano -= BigInt(rng.int(2_000_000_000)); // before the parent (usually)
        if (r === 1) s.endTimeUnixNano = s.startTimeUnixNano - BigInt(rng.int(1_000_000_000)); // end before start
        if (r === 2) s.endTimeUnixNano = 0n; // unfinished
        for (const e of s.events) if (rng.bool(0.5)) e.timeUnixNano = s.startTimeUnixNano - BigInt(rng.int(1_000_000));
      }
      return b;
    });
    streamRoundTrip(batches, 'clock skew', { compression: 'none' });
  });

  test('extreme times: span from 0 to 2^64-1, roots 2^63 apart, child 2^64-1 after its parent, event 2^64-1 after its span (minimal)', () => {
    const MAX = (1n << 64n) - 1n;
    allPass(
      [
        { name: 'one span from 0 to 2^64-1', data: batchOf([sp({ trace: 1, id: 1, startTimeUnixNano: 0n, endTimeUnixNano: MAX })]) },
        { name: 'one span from 2^64-1 to 0', data: batchOf([sp({ trace: 1, id: 1, startTimeUnixNano: MAX, endTimeUnixNano: 0n })]) },
        {
          name: 'two roots at 0 and 2^63',
          data: batchOf([sp({ trace: 1, id: 1, startTimeUnixNano: 0n, endTimeUnixNano: 0n }), sp({ trace: 2, id: 2, startTimeUnixNano: 1n << 63n, endTimeUnixNano: 1n << 63n })]),
        },
        {
          name: 'child at 2^64-1 of a parent at 0',
          data: batchOf([sp({ trace: 1, id: 1, startTimeUnixNano: 0n, endTimeUnixNano: 0n }), sp({ trace: 1, id: 2, parent: 1, startTimeUnixNano: MAX, endTimeUnixNano: MAX })]),
        },
        { name: 'event at 2^64-1 in a span at 0', data: batchOf([sp({ trace: 1, id: 1, startTimeUnixNano: 0n, endTimeUnixNano: 0n, events: [ev('e', MAX)] })]) },
      ],
      (c) => c.name,
      (c) => singleFrameProblem(c.data),
    );
  });

  test('duplicate span ids: within a trace, across traces, across frames, a whole batch sent twice', () => {
    const batches: TracesData[] = [];
    // Two spans of one trace share id 10; children of "10" in the same and in later frames.
    batches.push(batchOf([sp({ trace: 1, id: 1 }), sp({ trace: 1, id: 10, parent: 1 }), sp({ trace: 1, id: 10, parent: 1, startTimeUnixNano: T0 + 5n }), sp({ trace: 1, id: 11, parent: 10 })]));
    batches.push(batchOf([sp({ trace: 1, id: 12, parent: 10, startTimeUnixNano: T0 + 7n }), sp({ trace: 1, id: 10, parent: 11 })]));
    // The same span id in different traces.
    batches.push(batchOf([sp({ trace: 2, id: 10 }), sp({ trace: 3, id: 10 }), sp({ trace: 2, id: 20, parent: 10 }), sp({ trace: 3, id: 21, parent: 10 })]));
    // A whole batch twice, in two frames and within one frame.
    const t = traffic(8, 60).slice(0, 2);
    batches.push(t[0]!, t[0]!, { resourceSpans: [...t[1]!.resourceSpans, ...t[1]!.resourceSpans], unknownFields: undefined });
    streamRoundTrip(batches, 'duplicate span ids', { compression: 'none' });
  });

  test('Docker json-file log lines as span events: sent as references to the parsed body (JSON-escaped), the ids and the event time, even when the span waits for a parent later in the frame', () => {
    const dockerLine = (span: Span, body: string, time: bigint) =>
      `{"log":"16:42:54.367 INFO  s.s.SeatServiceImpl#166 TraceID: ${bytesToHex(span.traceId)} SpanID: ${bytesToHex(span.spanId)} ${jsonEscaped(body)}\\n","stream":"stdout","time":"${rfc3339Nano(time)}"}`;
    const logEvent = (span: Span, body: string, time: bigint, extra: KeyValue[] = []) =>
      ev('log', time, [kv('log.record.body', body), kv('log.severity_text', 'INFO'), ...extra, kv('log.record.original', dockerLine(span, body, time))]);
    const bodies = ['[getLeftTicketOfInterval][Get left ticket of interval][TravelDate: 2023-01-29]', '[query][result is <200,Response(status=0, msg="Seat is Null.")>]\nnext line & more', 'NUL \u0000 inside a body of some length'];
    // The child comes first: its start, and so its events' times, are known only after its parent's.
    const child = sp({ trace: 1, id: 2, parent: 1, startTimeUnixNano: T0 + 1_000n });
    const root = sp({ trace: 1, id: 1 });
    child.events = bodies.map((b, k) => logEvent(child, b, T0 + 1_000n + BigInt(k) * 100_000_000n));
    root.events = [logEvent(root, bodies[1]!, T0 + 5_000_000_000n), logEvent(root, bodies[0]!, T0 + 5_000_000_001n, [kv('note', 'the time is not in this one')])];
    const later = sp({ trace: 1, id: 3, parent: 2, startTimeUnixNano: T0 + 7_000_000_000n });
    later.events = [logEvent(later, bodies[2]!, T0 + 7_000_000_000n), ev('plain', T0 + 7_000_000_100n, [kv('text', `time ${rfc3339Nano(T0 + 7_000_000_100n)} in a span attribute list`)])];
    const batches = [batchOf([child, root]), batchOf([later])];
    // A value limit of 1: the log attributes are residuals at once (references apply to residual strings).
    const frames = streamRoundTrip(batches, 'docker log lines', { compression: 'none', templateValueLimit: 1 });
    // Nothing the references stand for travels as text.
    const text = Buffer.from(frames[0]!).toString('latin1');
    for (const e of [...child.events, ...root.events]) assert.ok(!text.includes(rfc3339Nano(e.timeUnixNano)), `the time of ${rfc3339Nano(e.timeUnixNano)} is a reference`);
    assert.ok(!text.includes(jsonEscaped(bodies[1]!)), 'the escaped body is a reference');
    assert.ok(!text.includes(bytesToHex(child.traceId)), 'the trace id is a reference');
    for (const compression of ['zstd', 'gzip'] as const) streamRoundTrip(batches, `docker log lines, ${compression}`, { compression, templateValueLimit: 1 });
    streamRoundTrip(batches, 'docker log lines, templated', { compression: 'none' });
  });

  test('parent references that form cycles: a span that is its own parent, a duplicate id whose copy is the child of the first, two spans parent of each other (minimal)', () => {
    allPass(
      [
        { name: 'span whose parent id is its own id', data: batchOf([sp({ trace: 1, id: 1, parent: 1 })]) },
        { name: 'span id 1 (root) and span id 1 with parent 1', data: batchOf([sp({ trace: 1, id: 1 }), sp({ trace: 1, id: 1, parent: 1 })]) },
        { name: 'span 1 parent 2, span 2 parent 1', data: batchOf([sp({ trace: 1, id: 1, parent: 2 }), sp({ trace: 1, id: 2, parent: 1 })]) },
      ],
      (c) => c.name,
      (c) => singleFrameProblem(c.data),
    );
  });

  test('more traces than the 512-trace ring: 2,000 single-span traces in one frame, and traces that come back after being pushed out', () => {
    const batches: TracesData[] = [];
    // One frame: trace 0's root, 2,000 one-span traces, then trace 0's child (trace 0 left the ring mid-frame).
    const spans: Span[] = [sp({ trace: 0, id: 0 })];
    for (let i = 1; i <= 2000; i++) spans.push(sp({ trace: i, id: 100_000 + i, startTimeUnixNano: T0 + BigInt(i) }));
    spans.push(sp({ trace: 0, id: 1, parent: 0, startTimeUnixNano: T0 + 3n }));
    batches.push(batchOf(spans));
    // Next frame: children of spans of the previous frame, for traces still in the ring and long gone.
    batches.push(batchOf([sp({ trace: 0, id: 2, parent: 1 }), sp({ trace: 1, id: 3, parent: 100_001 }), sp({ trace: 2000, id: 4, parent: 102_000 }), sp({ trace: 1500, id: 5, parent: 101_500 })]));
    // 600 new traces in small frames (the ring turns over), then the old traces again.
    for (let f = 0; f < 6; f++) batches.push(batchOf(Array.from({ length: 100 }, (_, i) => sp({ trace: 5000 + f * 100 + i, id: 200_000 + f * 100 + i }))));
    batches.push(batchOf([sp({ trace: 0, id: 6, parent: 2 }), sp({ trace: 2000, id: 7, parent: 4 }), sp({ trace: 5599, id: 8, parent: 200_599 }), sp({ trace: 5000, id: 9, parent: 200_000 })]));
    for (const compression of ['none', 'zstd'] as const) streamRoundTrip(batches, `ring overflow, ${compression}`, { compression });
  });

  test('a trace with 1,000 spans over many frames: parents further back than the spans a trace keeps (256)', () => {
    const batches: TracesData[] = [];
    let id = 1;
    for (let f = 0; f < 20; f++) {
      const spans: Span[] = [];
      for (let k = 0; k < 50; k++, id++) spans.push(sp({ trace: 7, id, parent: id === 1 ? undefined : id % 3 === 0 ? 1 : id - 1, startTimeUnixNano: T0 + BigInt(id) * 1000n }));
      batches.push(batchOf(spans));
    }
    streamRoundTrip(batches, 'long trace', { compression: 'none' });
  });

  test('events with low- and high-cardinality attributes', () => {
    const rng = new Rng(0xe7e);
    const batches = Array.from({ length: 60 }, (_, f) =>
      batchOf(
        Array.from({ length: 10 }, (_, i) => {
          const n = f * 10 + i;
          return sp({
            trace: n >> 2,
            id: n,
            parent: n % 4 === 0 ? undefined : n - 1,
            startTimeUnixNano: T0 + BigInt(n) * 1000n,
            events: Array.from({ length: rng.int(4) }, (_, e) =>
              ev(rng.pick(['log', 'exception', 'retry']), T0 + BigInt(n) * 1000n + BigInt(e), [
                kv('level', rng.pick(['info', 'warn', 'error'])),
                kv('message', `request ${n}/${e} failed after ${rng.int(1e6)} us`),
                kv('attempt', BigInt(rng.int(1000))),
                kv('ratio', rng.float()),
                kv('ok', rng.bool()),
              ]),
            ),
          });
        }),
      ),
    );
    streamRoundTrip(batches, 'events', { compression: 'none' });
  });

  test('attribute cardinality crossing the template limit mid-stream and mid-frame (templateValueLimit 0, 1, 4), on spans and events, with values changing type', () => {
    const rng = new Rng(0xca4d);
    const values = (f: number): unknown[] => (f < 10 ? ['a', 'b', 'c'] : f < 20 ? ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] : ['a', 1n, 2.5, true, Uint8Array.of(f), new ArrayValue([f.toString()]), null, `v${f}`]);
    const batches = Array.from({ length: 30 }, (_, f) =>
      batchOf(
        Array.from({ length: 8 }, (_, i) => {
          const n = f * 8 + i;
          const v = values(f);
          return sp({
            trace: n >> 3,
            id: n,
            name: rng.pick(['GET /a', 'GET /b']),
            startTimeUnixNano: T0 + BigInt(n),
            attributes: [kv('route', rng.pick(v) as never), kv('const', 'x'), kv('id', `u${rng.int(1000)}`), kv(i % 2 ? 'odd' : 'even', rng.pick(v) as never)],
            events: [ev('e', T0 + BigInt(n), [kv('route', rng.pick(v) as never), kv('code', BigInt(f < 15 ? 200 : 200 + rng.int(50)))])],
          });
        }),
      ),
    );
    for (const limit of [0, 1, 4]) streamRoundTrip(batches, `templateValueLimit ${limit}`, { compression: 'none', templateValueLimit: limit });
  });

  test('residual strings that repeat the span ids (hex, either case), earlier values of the list, and NULs; up to 40 residual strings per list, on spans and events', () => {
    const rng = new Rng(0x5c7);
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
    const batches = Array.from({ length: 40 }, (_, f) =>
      batchOf(
        Array.from({ length: 5 }, (_, i) => {
          const n = f * 5 + i;
          const ids = [hex(tid(n >> 2)), hex(sid(n))];
          const values: string[] = [];
          const piece = (): string => {
            switch (rng.int(7)) {
              case 0:
                return rng.pick(ids);
              case 1:
                return rng.pick(ids).toUpperCase();
              case 2:
                return values.length > 0 ? rng.pick(values) : 'x';
              case 3:
                return '\u0000'.repeat(rng.range(1, 3));
              case 4:
                return rng.pick(['t', 's', 'T', 'S', 'a', 'z', '\u0000t', '\u0000a']);
              default:
                return `text ${rng.int(1e6)} `;
            }
          };
          const attributes = Array.from({ length: rng.range(1, 40) }, (_, a) => {
            const v = Array.from({ length: rng.range(0, 6) }, piece).join('');
            values.push(v);
            return kv(`field.${a}`, v);
          });
          return sp({ trace: n >> 2, id: n, parent: n % 4 === 0 ? undefined : n - 1, attributes, events: [ev('log', T0, attributes.slice().reverse())] });
        }),
      ),
    );
    for (const limit of [0, 64]) streamRoundTrip(batches, `residual strings with repeats, templateValueLimit ${limit}`, { compression: 'none', templateValueLimit: limit });
  });

  test('a residual string that repeats the 19th or 20th earlier residual string of its list (minimal)', () => {
    // 20 residual strings, then one that repeats numbers 18 and 19 (0-based) of them.
    const attributes = Array.from({ length: 20 }, (_, i) => kv(`k${i}`, `value-number-${i}`));
    attributes.push(kv('msg', 'see value-number-18 and value-number-19 here'));
    const data = batchOf([sp({ trace: 1, id: 1, attributes })]);
    streamRoundTrip([data], 'repeats of earlier residual strings 18 and 19', { compression: 'none', templateValueLimit: 0 });
  });

  test('span heads that differ only where the encoder joins fields with NUL (trace state, status, attribute keys)', () => {
    allPass(
      [
        {
          name: 'trace state "a\\u00001" without status, then trace state "a" with status {1, "-"}',
          data: batchOf([sp({ trace: 1, id: 1, traceState: 'a\u00001' }), sp({ trace: 1, id: 2, traceState: 'a', status: { code: 1, message: '-', unknownFields: undefined } })]),
        },
        {
          name: 'one attribute "a\\u00010\\u0000b", then attributes "a" and "b"',
          data: batchOf([sp({ trace: 1, id: 1, attributes: [kv('a\u00010\u0000b', 'x')] }), sp({ trace: 1, id: 2, attributes: [kv('a', 'x'), kv('b', 'x')] })]),
        },
      ],
      (c) => c.name,
      (c) => singleFrameProblem(c.data),
    );
  });

  test('envelopes: one Resource object changed in place between frames, shared and distinct scopes', () => {
    const b0 = batchOf([sp({ trace: 1, id: 1 })]);
    const res = b0.resourceSpans[0]!.resource!;
    const b1 = batchOf([sp({ trace: 1, id: 2, parent: 1 })]);
    b1.resourceSpans[0]!.resource = res;
    const enc = new TracezipEncoder({ compression: 'none' });
    const dec = new TracezipDecoder();
    expectData(dec, enc.encode(b0), b0, 'frame 0');
    res.attributes[0]!.value = 'renamed';
    res.attributes.push(kv('k8s.pod.name', 'p-1'));
    expectData(dec, enc.encode(b1), b1, 'frame 1 (resource changed in place)');
    res.droppedAttributesCount = 3;
    expectData(dec, enc.encode(b1), b1, 'frame 2 (dropped count changed in place)');
  });

  test('envelopes changed deep inside between frames (an entity ref, a nested kvlist value, a scope attribute value) are not sent stale', () => {
    const b0 = batchOf([sp({ trace: 1, id: 1 })]);
    const rs0 = b0.resourceSpans[0]!;
    rs0.resource!.entityRefs.push({ schemaUrl: '', type: 'service', idKeys: ['service.name'], descriptionKeys: [], unknownFields: undefined });
    const list = new KeyValueList([kv('zone', 'a')]);
    rs0.resource!.attributes.push(kv('cloud', list));
    rs0.scopeSpans[0]!.scope!.attributes.push(kv('lib', 'x'));
    const b1 = batchOf([sp({ trace: 1, id: 2, parent: 1 })]);
    b1.resourceSpans[0]!.resource = rs0.resource;
    b1.resourceSpans[0]!.scopeSpans[0]!.scope = rs0.scopeSpans[0]!.scope;
    const enc = new TracezipEncoder({ compression: 'none' });
    const dec = new TracezipDecoder();
    expectData(dec, enc.encode(b0), b0, 'frame 0');
    rs0.resource!.entityRefs[0]!.type = 'host';
    expectData(dec, enc.encode(b1), b1, 'frame 1 (entity ref type changed in place)');
    list.values[0]!.value = 'b';
    expectData(dec, enc.encode(b1), b1, 'frame 2 (nested kvlist value changed in place)');
    rs0.scopeSpans[0]!.scope!.attributes[0]!.value = 'y';
    expectData(dec, enc.encode(b1), b1, 'frame 3 (scope attribute value changed in place)');
  });

  test('plain envelopes that differ in one field only (the encoder reuses ids of equal ones without encoding them) each come back exactly', () => {
    // Every variant shares the first resource attribute (the encoder's lookup key) or the scope
    // name with the others; each frame holds several, and every variant recurs in later frames.
    type Variant = { res: ResourceSpans['resource']; rsSchema: string; scope: ScopeSpans['scope']; ssSchema: string };
    const scope = (name: string, version = '1', attributes: KeyValue[] = [], dropped = 0): ScopeSpans['scope'] => ({ name, version, attributes, droppedAttributesCount: dropped, unknownFields: undefined });
    const res = (attributes: KeyValue[], dropped = 0): ResourceSpans['resource'] => ({ attributes, droppedAttributesCount: dropped, entityRefs: [], unknownFields: undefined });
    const variants: Variant[] = [
      { res: res([kv('service.name', 'a')]), rsSchema: '', scope: scope('s'), ssSchema: '' },
      { res: res([kv('service.name', 'a'), kv('pod', 'p1')]), rsSchema: '', scope: scope('s'), ssSchema: '' },
      { res: res([kv('service.name', 'a'), kv('pod', 'p2')]), rsSchema: '', scope: scope('s', '2'), ssSchema: '' },
      { res: res([kv('service.name', 'a'), kv('n', '1')]), rsSchema: '', scope: scope('s', '1', [kv('k', 'v')]), ssSchema: '' },
      { res: res([kv('service.name', 'a'), kv('n', 1n)]), rsSchema: '', scope: scope('s', '1', [kv('k', true)]), ssSchema: '' },
      { res: res([kv('service.name', 'a'), kv('n', true)]), rsSchema: '', scope: scope('s', '1', [], 2), ssSchema: '' },
      { res: res([kv('service.name', 'a')]), rsSchema: 'https://x/1', scope: scope('s'), ssSchema: '' },
      { res: res([kv('service.name', 'a')], 1), rsSchema: '', scope: scope('s'), ssSchema: 'https://y/1' },
      { res: res([kv('pod', 'p1'), kv('service.name', 'a')]), rsSchema: '', scope: scope(''), ssSchema: '' },
      { res: res([]), rsSchema: '', scope: undefined, ssSchema: '' },
      { res: undefined, rsSchema: '', scope: scope(''), ssSchema: '' },
      { res: res([kv('service.name', 'a'), kv('n', 1.5)]), rsSchema: '', scope: scope('s', '1', [kv('k', 1)]), ssSchema: '' },
    ];
    const frame = (vs: number[], f: number): TracesData => ({
      resourceSpans: vs.map((v, k) => {
        const x = variants[v]!;
        return {
          resource: x.res && { ...x.res, attributes: x.res.attributes.map((a) => ({ ...a })) },
          scopeSpans: [{ scope: x.scope && { ...x.scope, attributes: x.scope.attributes.map((a) => ({ ...a })) }, spans: [sp({ trace: f + 1, id: k + 1 })], schemaUrl: x.ssSchema, unknownFields: undefined }],
          schemaUrl: x.rsSchema,
          unknownFields: undefined,
        };
      }),
      unknownFields: undefined,
    });
    const rng = new Rng(0xe5e1);
    for (const compression of ['none', 'zstd'] as const) {
      const enc = new TracezipEncoder({ compression });
      const dec = new TracezipDecoder();
      for (let f = 0; f < 40; f++) {
        const vs = Array.from({ length: 1 + rng.int(5) }, () => rng.int(variants.length));
        const b = frame(vs, f);
        expectData(dec, enc.encode(b), b, `frame ${f} (variants ${vs.join(', ')})`);
      }
    }
  });

  test('decoded messages stay exact after later frames: nothing in them is a view of a payload buffer that gets reused', () => {
    // The zstd stream decompresses every frame into one shared buffer, and an uncompressed payload
    // is the caller's receive buffer: every id, bytes value, envelope and raw span of a decoded
    // message must be its own copy. All outputs are compared only after the whole stream.
    const rng = new Rng(0x0b1e);
    const batches = [
      ...recut(traffic(4, 120), (n) => rng.int(n), 1, 40),
      ...Array.from({ length: 40 }, (_, i) => foldTimes(arbitraryTracesData(20_000 + i))),
      ...edgeCaseTracesData()
        .filter((c) => c.name !== '64-bit times')
        .map((c) => c.data),
    ];
    const expected = batches.map((b) => cloneData(b));
    for (const compression of ['zstd-stream', 'none', 'zstd'] as const) {
      const enc = new TracezipEncoder({ compression });
      const dec = new TracezipDecoder();
      const rx = new Uint8Array(1 << 22);
      const outputs: TracesData[] = [];
      for (const b of batches) {
        const frame = enc.encode(b);
        rx.set(frame);
        const r = dec.decode(rx.subarray(0, frame.length));
        rx.fill(0xa5, 0, frame.length);
        assert.equal(r.kind, 'data', r.kind === 'resync-needed' ? r.reason : r.kind);
        if (r.kind === 'data') outputs.push(r.data);
      }
      for (let i = 0; i < outputs.length; i++) {
        const diff = diffTracesData(expected[i]!, outputs[i]!);
        assert.equal(diff, undefined, `${compression}, frame ${i} after the whole stream: ${diff}`);
      }
    }
  });

  test('the decoder state does not depend on the caller keeping old frame buffers: a reused receive buffer', () => {
    // A transport that reads each frame into the same buffer. The stream's state (envelopes,
    // dictionary) must be the decoder's own copy; only then is frame 1 correct.
    const b0 = batchOf([sp({ trace: 1, id: 1 })]);
    b0.resourceSpans[0]!.resource!.attributes.push(kv('host.id', Uint8Array.of(1, 2, 3, 4)), kv('list', new ArrayValue([Uint8Array.of(9, 9)])));
    b0.resourceSpans[0]!.scopeSpans[0]!.scope!.attributes.push(kv('scope.bytes', Uint8Array.of(5, 6)), kv('kv', new KeyValueList([kv('b', Uint8Array.of(7))])));
    const b1 = batchOf([sp({ trace: 1, id: 2, parent: 1 })]);
    b1.resourceSpans[0]!.resource = b0.resourceSpans[0]!.resource;
    b1.resourceSpans[0]!.scopeSpans[0]!.scope = b0.resourceSpans[0]!.scopeSpans[0]!.scope;
    for (const compression of COMPRESSIONS) {
      const enc = new TracezipEncoder({ compression });
      const dec = new TracezipDecoder();
      const rx = new Uint8Array(1 << 16);
      const receive = (frame: Uint8Array): Uint8Array => {
        rx.fill(0xee);
        rx.set(frame);
        return rx.subarray(0, frame.length);
      };
      const r0 = dec.decode(receive(enc.encode(b0)));
      assert.equal(r0.kind, 'data');
      expectData(dec, receive(enc.encode(b1)), b1, `frame 1 after the receive buffer was reused (${compression})`);
    }
  });
});

describe('stateless mode', () => {
  const rng = new Rng(0x57a7e);
  const batches = [
    ...recut(traffic(9, 300), (n) => rng.int(n), 1, 120),
    ...Array.from({ length: 60 }, (_, i) => {
      const d = foldTimes(arbitraryTracesData(10_000 + i));
      breakParentCycles(d);
      return d;
    }),
    ...edgeCaseTracesData()
      .filter((c) => c.name !== '64-bit times')
      .map((c) => c.data),
  ];

  test('every frame is self-contained: flags, epoch 0, seq 0; a fresh decoder decodes each; no stream state is kept', () => {
    for (const compression of COMPRESSIONS) {
      const enc = new TracezipEncoder({ stateless: true, compression, streamId: 5n });
      const frames = batches.map((b) => enc.encode(b));
      frames.forEach((f, i) => {
        const h = readFrameHeader(f);
        assert.ok(h.stateless, `frame ${i} has the stateless flag`);
        assert.ok(!h.epochStart && h.epoch === 0 && h.seq === 0, `frame ${i}: epoch ${h.epoch}, seq ${h.seq}`);
        assert.equal(h.compression, compression);
        const dec = new TracezipDecoder();
        expectData(dec, f, batches[i]!, `stateless frame ${i} (${compression}), fresh decoder`);
        assert.equal(dec.streamCount, 0, 'a stateless frame leaves no stream state');
      });
    }
  });

  test('in any order, repeated, with one decoder, interleaved with a stateful stream of the same stream id', () => {
    const enc = new TracezipEncoder({ stateless: true, compression: 'none', streamId: 5n });
    const frames = batches.map((b) => enc.encode(b));
    const order = shuffled(
      frames.map((_, i) => i),
      (n) => rng.int(n),
    );
    const dec = new TracezipDecoder();
    const stateful = new TracezipEncoder({ compression: 'none', streamId: 5n });
    const t = traffic(10, 200);
    let k = 0;
    for (const i of [...order, ...order.slice(0, 40)]) {
      expectData(dec, frames[i]!, batches[i]!, `stateless frame ${i}`);
      if (rng.bool(0.2) && k < t.length) {
        expectData(dec, stateful.encode(t[k]!), t[k]!, `stateful frame ${k} between stateless ones`);
        k++;
      }
    }
    assert.ok(k > 5);
  });

  test('stateless frames of one batch are identical whatever came before', () => {
    const a = new TracezipEncoder({ stateless: true, compression: 'none', streamId: 5n });
    const b = new TracezipEncoder({ stateless: true, compression: 'none', streamId: 5n });
    for (const x of batches.slice(0, 30)) a.encode(x);
    for (const x of batches.slice(30, 40)) assert.deepEqual(a.encode(x), b.encode(x));
  });
});

test('CRC-32C: the check value of "123456789" is 0xe3069283 (the checksum the frame helpers patch)', () => {
  assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  assert.equal(sid(1).length, 8);
  // Every length and offset around the 16-byte steps against the bit-by-bit definition.
  const bitwise = (d: Uint8Array, start: number, end: number) => {
    let c = 0xffffffff;
    for (let i = start; i < end; i++) {
      c ^= d[i]!;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    }
    return (c ^ 0xffffffff) >>> 0;
  };
  const rng = new Rng(0xc5c);
  const data = Uint8Array.from({ length: 300 }, () => rng.int(256));
  for (let start = 0; start < 20; start++) for (let end = start; end <= 300; end += 1 + (end % 7)) assert.equal(crc32c(data, start, end), bitwise(data, start, end), `bytes ${start}..${end}`);
});

test('CRC-32C of large inputs (the native module where it loads) equals the table code and the definition', () => {
  // The prebuilt module ships for Linux on x64 and arm64: there the fast path must be in use.
  if (process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64')) assert.ok(crc32cIsNative, '@node-rs/crc32 did not load');
  const rng = new Rng(0xc5d);
  const data = Buffer.from(Uint8Array.from({ length: 70_000 }, () => rng.int(256)));
  for (const len of [500, 511, 512, 513, 1024, 4099, 65_536, 69_990]) {
    for (const start of [0, 1, 3, 9]) {
      const end = Math.min(data.length, start + len);
      assert.equal(crc32c(data, start, end), crc32cPortable(data, start, end), `bytes ${start}..${end}`);
    }
  }
  const bitwise = (d: Uint8Array) => {
    let c = 0xffffffff;
    for (const b of d) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    }
    return (c ^ 0xffffffff) >>> 0;
  };
  assert.equal(crc32c(data), bitwise(data));
  assert.equal(crc32c(data.subarray(7, 5000)), bitwise(data.subarray(7, 5000)), 'a view with an offset into its buffer');
});
