// The SDK integration with a real TracerProvider, SimpleSpanProcessor and InMemorySpanExporter (no
// mocks): nested spans are ended, the processor decides when the local root ends, and the exporter
// receives only the kept spans, each under its nearest kept ancestor; late spans, caps, flush and
// shutdown; the ReadableSpan -> model conversion; and the head strategy as the SDK's Sampler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { context, ROOT_CONTEXT, SpanKind as ApiSpanKind, SpanStatusCode, trace as apiTrace, TraceFlags, type Context, type Span as ApiSpan, type Tracer } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, ParentBasedSampler, SimpleSpanProcessor, TraceIdRatioBasedSampler, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { bytesToHex, getAttribute, SpanKind } from '../../src/model/index.js';
import { KEEP_FULL, KEEP_SKELETON, SAMPLING_ATTR, type SampledTrace, type SamplingStrategy } from '../../src/sampling/index.js';
import { HeadSampler, LeafAggregateSampler, RandomSpanSampler, AGGREGATE_ATTR } from '../../src/sampling/baselines.js';
import { SamplingSpanProcessor, StrategySampler } from '../../src/sdk/autoscope-processor.js';
import { ReadableSpanConverter } from '../../src/sdk/from-readable.js';
import { toReadableSpans } from '../../src/sdk/readable.js';
import { collectTraffic } from '../../src/generator/index.js';

/** Keeps spans whose name does not start with "drop". */
class DropByName implements SamplingStrategy {
  readonly name = 'drop-by-name';
  traces: SampledTrace[] = [];
  decide(trace: SampledTrace): Uint8Array {
    this.traces.push(trace);
    return Uint8Array.from(trace.spans, (s) => (s.span.name.startsWith('drop') ? 0 : 1));
  }
}

function setup(strategy: SamplingStrategy, options: { maxSpansPerTrace?: number; maxTraces?: number } = {}) {
  const exporter = new InMemorySpanExporter();
  const processor = new SamplingSpanProcessor({ strategy, next: new SimpleSpanProcessor({ exporter }), ...options });
  const provider = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'shop' }), spanProcessors: [processor] });
  const tracer = provider.getTracer('test', '1.0.0');
  return { exporter, processor, provider, tracer };
}

function child(tracer: Tracer, name: string, parent: ApiSpan, options: Parameters<Tracer['startSpan']>[1] = {}): ApiSpan {
  return tracer.startSpan(name, options, apiTrace.setSpan(ROOT_CONTEXT, parent));
}

const parentOf = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;
const idOf = (s: ReadableSpan | ApiSpan): string => s.spanContext().spanId;

test('decides when the local root ends; only kept spans are exported, re-parented to the nearest kept ancestor', async () => {
  const { exporter, processor, tracer } = setup(new DropByName());
  const root = tracer.startSpan('GET /checkout', { kind: ApiSpanKind.SERVER });
  const a = child(tracer, 'dropA', root);
  const b = child(tracer, 'dropB', a);
  const c = child(tracer, 'keepC', b, { attributes: { 'db.system': 'postgresql', n: 3, x: 1.5, tags: ['a', 'b'] } });
  const d = child(tracer, 'keepD', root);
  c.end();
  b.end();
  d.end();
  a.end();
  assert.equal(exporter.getFinishedSpans().length, 0, 'nothing before the root ends');
  assert.deepEqual(processor.pending, { traces: 1, spans: 4 });
  root.end();
  const out = exporter.getFinishedSpans();
  assert.deepEqual(out.map((s) => s.name).sort(), ['GET /checkout', 'keepC', 'keepD']);
  const byName = new Map(out.map((s) => [s.name, s]));
  assert.equal(parentOf(byName.get('GET /checkout')!), undefined);
  assert.equal(parentOf(byName.get('keepD')!), idOf(root), 'parent kept: unchanged');
  assert.equal(parentOf(byName.get('keepC')!), idOf(root), 'two dropped levels skipped');
  assert.equal(byName.get('keepC')!.attributes[SAMPLING_ATTR.SKIPPED_LEVELS], 2);
  assert.equal(byName.get('keepC')!.attributes['db.system'], 'postgresql', 'own attributes kept');
  assert.equal(byName.get('keepC')!.parentSpanContext!.isRemote, false);
  assert.equal(byName.get('keepD')!.attributes[SAMPLING_ATTR.SKIPPED_LEVELS], undefined);
  assert.ok(byName.get('GET /checkout')!.attributes[SAMPLING_ATTR.DROPPED] !== undefined, 'dropped spans summarized on the root');
  assert.equal(byName.get('keepC')!.spanContext().spanId, idOf(c));
  assert.deepEqual(processor.pending, { traces: 0, spans: 0 });
  assert.equal(processor.counters.tracesDecided, 1);
  assert.equal(processor.counters.spansOut, 3);
  await processor.shutdown();
});

test('late spans follow the decision: under the nearest kept ancestor, or dropped with the trace', async () => {
  const { exporter, processor, tracer } = setup(new DropByName());
  const root = tracer.startSpan('root');
  const a = child(tracer, 'dropA', root);
  const lateKept = child(tracer, 'late', root);
  const lateUnderDropped = child(tracer, 'late2', a);
  a.end();
  root.end();
  lateKept.end();
  lateUnderDropped.end();
  const byName = new Map(exporter.getFinishedSpans().map((s) => [s.name, s]));
  assert.deepEqual([...byName.keys()].sort(), ['late', 'late2', 'root']);
  assert.equal(parentOf(byName.get('late')!), idOf(root));
  assert.equal(parentOf(byName.get('late2')!), idOf(root), 'its dropped parent is skipped');
  assert.equal(byName.get('late2')!.attributes[SAMPLING_ATTR.SKIPPED_LEVELS], -1);
  assert.equal(processor.counters.lateSpansForwarded, 2);
  // A dropped trace drops its late spans.
  const head = setup(new HeadSampler({ ratio: 0 }));
  const r = head.tracer.startSpan('root');
  const late = child(head.tracer, 'late', r);
  r.end();
  late.end();
  assert.equal(head.exporter.getFinishedSpans().length, 0);
  assert.equal(head.processor.counters.lateSpansDropped, 1);
  await processor.shutdown();
});

test('a remote parent makes a local root; whole-trace strategies pass spans unchanged', async () => {
  const { exporter, tracer } = setup(new HeadSampler({ ratio: 1 }));
  const remote = apiTrace.setSpanContext(ROOT_CONTEXT, { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), traceFlags: TraceFlags.SAMPLED, isRemote: true });
  const server = tracer.startSpan('GET /api', { kind: ApiSpanKind.SERVER }, remote);
  const inner = child(tracer, 'inner', server);
  inner.end();
  assert.equal(exporter.getFinishedSpans().length, 0);
  server.end();
  const out = exporter.getFinishedSpans();
  assert.equal(out.length, 2);
  assert.equal(parentOf(out.find((s) => s.name === 'GET /api')!), apiTrace.getSpanContext(remote)!.spanId, 'the remote parent stays');
  assert.equal(out.find((s) => s.name === 'inner')!.attributes[SAMPLING_ATTR.SKIPPED_LEVELS], undefined);
});

test('caps: spans per trace and traces held; forceFlush and shutdown decide what is pending', async () => {
  const { exporter, processor, tracer } = setup(new DropByName(), { maxSpansPerTrace: 3, maxTraces: 2 });
  const root = tracer.startSpan('root');
  const kids = [0, 1, 2, 3].map((i) => child(tracer, `keep${i}`, root));
  for (const k of kids) k.end();
  assert.equal(processor.counters.tracesDecidedEarly, 1, 'decided at 3 spans');
  assert.equal(exporter.getFinishedSpans().length, 3);
  root.end();
  assert.equal(exporter.getFinishedSpans().length, 5, 'the fourth child and the root follow the decision');
  // Three open traces with a cap of two: the least recently active is decided.
  const roots = [0, 1, 2].map(() => tracer.startSpan('r'));
  const inner = roots.map((r) => child(tracer, 'keep', r));
  for (const s of inner) s.end();
  assert.equal(processor.pending.traces, 2);
  assert.equal(processor.counters.tracesDecidedEarly, 2);
  await processor.forceFlush();
  assert.deepEqual(processor.pending, { traces: 0, spans: 0 });
  assert.equal(processor.counters.tracesDecidedEarly, 4);
  for (const r of roots) r.end();
  const other = tracer.startSpan('x');
  child(tracer, 'keep', other).end();
  assert.deepEqual(processor.pending, { traces: 1, spans: 1 });
  await processor.forceFlush();
  const names = exporter.getFinishedSpans().map((s) => s.name);
  assert.equal(names.filter((n) => n === 'keep').length, 4);
  assert.equal(names.filter((n) => n === 'r').length, 3, 'roots ending after a forced decision are decided on their own');
  child(tracer, 'keep', tracer.startSpan('y')).end();
  assert.deepEqual(processor.pending, { traces: 1, spans: 1 });
  await processor.shutdown();
  assert.deepEqual(processor.pending, { traces: 0, spans: 0 });
  assert.equal(processor.counters.spansOut, 5 + 4 + 3 + 1);
});

test('leaf aggregation in the SDK: the summary span carries the group and the widened times', async () => {
  const { exporter, tracer } = setup(new LeafAggregateSampler());
  const root = tracer.startSpan('root', { startTime: [1000, 0] });
  for (let i = 0; i < 4; i++) child(tracer, 'SELECT item', root, { startTime: [1000, 100 + i * 1000] }).end([1000, 600 + i * 1000]);
  root.end([1001, 0]);
  const out = exporter.getFinishedSpans();
  assert.equal(out.length, 2);
  const summary = out.find((s) => s.name === 'SELECT item')!;
  assert.equal(summary.attributes[AGGREGATE_ATTR.COUNT], 4);
  assert.equal(summary.attributes[AGGREGATE_ATTR.SUM_NS], 2000);
  assert.deepEqual(summary.startTime, [1000, 100]);
  assert.deepEqual(summary.endTime, [1000, 3600]);
  assert.deepEqual(summary.duration, [0, 3500]);
});

test('random-span through the SDK on many traces: every exported span hangs under an exported span or is the root', async () => {
  const { exporter, processor, tracer } = setup(new RandomSpanSampler({ targetReduction: 0.6, seed: 1 }));
  const build = (parent: ApiSpan, depth: number): void => {
    if (depth === 0) return;
    for (let i = 0; i < 3; i++) {
      const s = child(tracer, `op${depth}.${i}`, parent, { kind: i === 0 ? ApiSpanKind.CLIENT : ApiSpanKind.INTERNAL });
      build(s, depth - 1);
      if (i === 2) s.setStatus({ code: SpanStatusCode.ERROR, message: 'x' });
      s.end();
    }
  };
  const rootIds = new Set<string>();
  for (let t = 0; t < 50; t++) {
    const root = tracer.startSpan('root');
    rootIds.add(idOf(root));
    build(root, 3);
    root.end();
  }
  const out = exporter.getFinishedSpans();
  assert.ok(out.length < 50 * 40 && out.length > 50, `exported ${out.length}`);
  const ids = new Set(out.map(idOf));
  for (const s of out) {
    const p = parentOf(s);
    if (p === undefined) assert.ok(rootIds.has(idOf(s)));
    else assert.ok(ids.has(p), `${s.name} hangs under an exported span`);
  }
  assert.equal(processor.counters.tracesKept, 50);
  await processor.shutdown();
});

test('ReadableSpan -> model: the inverse of toReadableSpans on generated traffic', () => {
  const { batches } = collectTraffic({ seed: 4, traces: 50 });
  const converter = new ReadableSpanConverter();
  let n = 0;
  for (const data of batches) {
    const readable = toReadableSpans(data);
    const models = data.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((span) => ({ span, rs }))));
    for (let i = 0; i < readable.length; i++) {
      const back = converter.convert(readable[i]!);
      const { span, rs } = models[i]!;
      assert.deepEqual(back.span.traceId, span.traceId);
      assert.deepEqual(back.span.spanId, span.spanId);
      assert.deepEqual(back.span.parentSpanId, span.parentSpanId);
      assert.equal(back.span.name, span.name);
      assert.equal(back.span.kind, span.kind);
      assert.equal(back.span.flags, span.flags);
      assert.equal(back.span.startTimeUnixNano, span.startTimeUnixNano);
      assert.equal(back.span.endTimeUnixNano, span.endTimeUnixNano);
      assert.equal(back.span.status?.code ?? 0, span.status?.code ?? 0);
      assert.equal(back.span.events.length, span.events.length);
      for (const a of span.attributes) {
        const v = getAttribute(back.span.attributes, a.key);
        assert.deepEqual(v, a.value, `${a.key}`);
      }
      assert.equal(getAttribute(back.resource!.attributes, 'service.name'), getAttribute(rs.resource!.attributes, 'service.name'));
      n++;
    }
  }
  assert.ok(n > 100);
  assert.equal(bytesToHex(new Uint8Array([1])), '01');
  assert.equal(SpanKind.SERVER, ApiSpanKind.SERVER + 1);
});

test('StrategySampler: the head strategy as the SDK sampler, the same traces as TraceIdRatioBasedSampler', async () => {
  for (const ratio of [0.1, 0.5]) {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ sampler: new ParentBasedSampler({ root: new StrategySampler(new HeadSampler({ ratio })) }), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const tracer = provider.getTracer('t');
    const oracle = new TraceIdRatioBasedSampler(ratio);
    let expected = 0;
    for (let i = 0; i < 2000; i++) {
      const root = tracer.startSpan('root');
      const traceId = root.spanContext().traceId;
      const c = child(tracer, 'child', root);
      c.end();
      root.end();
      if (oracle.shouldSample(context.active() as Context, traceId).decision === 2) expected += 2;
      assert.equal(root.isRecording() || root.spanContext().traceFlags === TraceFlags.SAMPLED, new HeadSampler({ ratio }).keepsTraceId(traceId));
    }
    assert.equal(exporter.getFinishedSpans().length, expected);
    assert.ok(Math.abs(expected / 4000 - ratio) < 0.05);
    assert.equal(new StrategySampler(new HeadSampler({ ratio })).toString(), `StrategySampler{head, ratio=${ratio}}`);
    await provider.shutdown();
  }
});

/** Keeps spans named "skel*" as skeletons, drops "drop*", keeps the rest whole. */
class Skeletons implements SamplingStrategy {
  readonly name = 'skeletons';
  decide(trace: SampledTrace): Uint8Array {
    return Uint8Array.from(trace.spans, (s) => (s.span.name.startsWith('drop') ? 0 : s.span.name.startsWith('skel') ? KEEP_SKELETON : KEEP_FULL));
  }
}

test('a skeleton through the SDK: no attributes, events or links of its own, the counts of what was left out, and the tier marker on the span (SDK scopes carry no attributes)', async () => {
  const { exporter, tracer } = setup(new Skeletons());
  const root = tracer.startSpan('GET /cart', { kind: ApiSpanKind.SERVER, attributes: { 'http.route': '/cart' } });
  const s = child(tracer, 'skelLoad', root, { attributes: { 'cart.size': 3, 'user.tier': 'gold' } });
  s.addEvent('cache miss', { key: 'cart:1' });
  s.addEvent('loaded');
  const dropped = child(tracer, 'dropQuery', s);
  const under = child(tracer, 'keepAudit', dropped, { attributes: { audit: true } });
  under.end();
  dropped.end();
  s.end();
  root.end();
  const byName = new Map(exporter.getFinishedSpans().map((x) => [x.name, x]));
  assert.deepEqual([...byName.keys()].sort(), ['GET /cart', 'keepAudit', 'skelLoad']);
  const skel = byName.get('skelLoad')!;
  assert.equal(skel.attributes[SAMPLING_ATTR.TIER], 'skeleton');
  assert.equal(skel.attributes['cart.size'], undefined);
  assert.equal(typeof skel.attributes[SAMPLING_ATTR.DROPPED], 'string', 'the summary of the dropped span below it');
  assert.deepEqual(skel.events, []);
  assert.equal(skel.droppedAttributesCount, 2);
  assert.equal(skel.droppedEventsCount, 2);
  assert.equal(skel.instrumentationScope.name, 'test');
  const whole = byName.get('keepAudit')!;
  assert.equal(whole.attributes.audit, true);
  assert.equal(whole.attributes[SAMPLING_ATTR.TIER], undefined);
  assert.equal(parentOf(whole), idOf(skel), 're-parented over the dropped span to the skeleton');
  assert.equal(byName.get('GET /cart')!.attributes['http.route'], '/cart');
});
