// Generated traffic: determinism, well-formed traces, realistic attributes, and branch and loop
// behaviour that follows the topology.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffSpan, diffTracesData, InputError, isZeroId, SpanKind, type Resource, type TracesData } from '../../src/model/index.js';
import {
  collectTraffic,
  defaultTopology,
  DEFAULT_START_TIME_UNIX_NANO,
  generateTraffic,
  generateTrafficAsync,
  trafficData,
  type Topology,
} from '../../src/generator/index.js';
import { attr, byTrace, durationMs, flatten, tinyTopology } from './helpers.js';

const run = collectTraffic({ seed: 3, traces: 2000 });
const spans = flatten(run.batches);
const traces = byTrace(spans);

test('the same seed gives identical batches; another seed does not', () => {
  const a = collectTraffic({ seed: 11, traces: 300, batchSpans: 500 });
  const b = collectTraffic({ seed: 11, traces: 300, batchSpans: 500 });
  assert.equal(a.batches.length, b.batches.length);
  for (let i = 0; i < a.batches.length; i++) assert.equal(diffTracesData(a.batches[i]!, b.batches[i]!), undefined);
  const c = collectTraffic({ seed: 12, traces: 300, batchSpans: 500 });
  assert.notEqual(diffTracesData(a.batches[0]!, c.batches[0]!), undefined);
});

test('batch size changes the envelopes, not the spans', () => {
  const small = flatten(collectTraffic({ seed: 5, traces: 200, batchSpans: 1 }).batches);
  const large = flatten(collectTraffic({ seed: 5, traces: 200, batchSpans: 1_000_000 }).batches);
  assert.equal(small.length, large.length);
  const index = new Map(large.map((s) => [s.spanHex, s]));
  for (const s of small) assert.equal(diffSpan(s.spanHex, s.span, index.get(s.spanHex)!.span), undefined);
});

test('batches hold whole traces and at least batchSpans spans (but the last)', () => {
  const seen = new Set<string>();
  const batches = [...generateTraffic({ seed: 9, traces: 400, batchSpans: 300 })];
  batches.forEach((b, i) => {
    const flat = flatten([b.data]);
    assert.equal(flat.length, b.spans);
    if (i < batches.length - 1) assert.ok(b.spans >= 300);
    const ids = new Set(flat.map((s) => s.traceHex));
    for (const id of ids) assert.ok(!seen.has(id), 'a trace split across batches');
    for (const id of ids) seen.add(id);
    assert.equal(ids.size, b.traces);
  });
  assert.equal(seen.size, 400);
});

test('ids are well formed and unique', () => {
  const ids = new Set<string>();
  for (const s of spans) {
    assert.equal(s.span.traceId.length, 16);
    assert.equal(s.span.spanId.length, 8);
    assert.ok(!isZeroId(s.span.traceId) && !isZeroId(s.span.spanId));
    assert.ok(!ids.has(s.spanHex), `duplicate span id ${s.spanHex}`);
    ids.add(s.spanHex);
  }
  assert.equal(traces.size, 2000);
  assert.equal(run.spans, spans.length);
});

test('every trace is one tree: one root, known parents, children inside their parents', () => {
  for (const [id, list] of traces) {
    const byId = new Map(list.map((s) => [s.spanHex, s]));
    const roots = list.filter((s) => s.span.parentSpanId.length === 0);
    assert.equal(roots.length, 1, `trace ${id} has ${roots.length} roots`);
    for (const s of list) {
      assert.ok(s.span.startTimeUnixNano <= s.span.endTimeUnixNano);
      if (s.span.parentSpanId.length === 0) continue;
      const p = byId.get(s.parentHex);
      assert.ok(p, `trace ${id}: parent of ${s.span.name} missing`);
      // Kafka consumers run after the producer returned: the one place a child may outlive its parent.
      if (s.span.kind === SpanKind.CONSUMER) {
        assert.equal(p.span.kind, SpanKind.PRODUCER);
        assert.ok(s.span.startTimeUnixNano >= p.span.startTimeUnixNano);
        continue;
      }
      assert.ok(s.span.startTimeUnixNano >= p.span.startTimeUnixNano && s.span.endTimeUnixNano <= p.span.endTimeUnixNano, `${s.span.name} outside ${p.span.name}`);
    }
  }
});

test('remote calls: CLIENT on the caller, SERVER on another resource, JS SDK flags', () => {
  const byId = new Map(spans.map((s) => [s.spanHex, s]));
  for (const s of spans) {
    const parent = s.span.parentSpanId.length ? byId.get(s.parentHex)! : undefined;
    if (!parent) {
      assert.equal(s.span.kind, SpanKind.SERVER);
      assert.equal(s.span.flags, 0x101);
      continue;
    }
    if (s.span.kind === SpanKind.SERVER || s.span.kind === SpanKind.CONSUMER) {
      assert.equal(s.span.flags, 0x301, 'remote parent');
      assert.equal(parent.span.kind, s.span.kind === SpanKind.SERVER ? SpanKind.CLIENT : SpanKind.PRODUCER);
      assert.notEqual(parent.resource, s.resource);
      assert.notEqual(parent.service, s.service);
    } else {
      assert.equal(s.span.flags, 0x101, 'local parent');
      assert.equal(parent.resource, s.resource, `${s.span.name} not on its parent's resource`);
    }
  }
});

test('resources and scopes are shared objects with realistic attributes', () => {
  const resources = new Set<Resource>(spans.map((s) => s.resource));
  const instances = defaultTopology().services.reduce((n, s) => n + s.instances, 0);
  assert.ok(resources.size <= instances && resources.size >= 10);
  for (const r of resources) {
    const get = (k: string) => r.attributes.find((a) => a.key === k)?.value;
    for (const k of ['service.name', 'service.version', 'service.instance.id', 'host.name', 'k8s.pod.name', 'telemetry.sdk.language', 'telemetry.sdk.name', 'telemetry.sdk.version'])
      assert.equal(typeof get(k), 'string', k);
    assert.equal(typeof get('process.pid'), 'bigint');
    assert.match(String(get('k8s.pod.name')), new RegExp(`^${String(get('service.name'))}-[a-z0-9]{10}-[a-z0-9]{5}$`));
  }
  const scopes = new Set(spans.map((s) => s.scope));
  for (const name of ['@opentelemetry/instrumentation-http', '@opentelemetry/instrumentation-grpc', '@opentelemetry/instrumentation-pg', '@opentelemetry/instrumentation-ioredis', '@opentelemetry/instrumentation-kafkajs', '@opentelemetry/instrumentation-mongodb'])
    assert.ok(scopes.has(name), name);
});

test('spans carry semantic-convention attributes of their kind', () => {
  let checked = 0;
  for (const { span, scope } of spans) {
    const a = (k: string) => attr(span, k);
    if (scope.endsWith('instrumentation-http') && span.kind === SpanKind.SERVER) {
      assert.match(String(a('http.request.method')), /^(GET|POST|PUT|PATCH|DELETE)$/);
      assert.equal(span.name, `${a('http.request.method')} ${a('http.route')}`);
      assert.equal(typeof a('url.path'), 'string');
      assert.equal(typeof a('http.response.status_code'), 'bigint');
      assert.equal(typeof a('server.address'), 'string');
      checked++;
    } else if (scope.endsWith('instrumentation-http') && span.kind === SpanKind.CLIENT) {
      assert.match(String(a('url.full')), /^https?:\/\//);
      assert.equal(span.name, a('http.request.method'));
    } else if (scope.endsWith('instrumentation-pg')) {
      assert.equal(a('db.system'), 'postgresql');
      assert.match(String(a('db.statement')), /^(SELECT|INSERT|UPDATE|DELETE) /);
      assert.equal(typeof a('db.name'), 'string');
    } else if (scope.endsWith('instrumentation-ioredis')) {
      assert.equal(a('db.system'), 'redis');
      assert.ok(String(a('db.statement')).startsWith(`${span.name} `));
    } else if (scope.endsWith('instrumentation-kafkajs')) {
      assert.equal(a('messaging.system'), 'kafka');
      assert.match(String(a('messaging.destination.name')), /^(order-events|push-notifications)$/);
    } else if (scope.endsWith('instrumentation-grpc')) {
      assert.equal(a('rpc.system'), 'grpc');
      assert.equal(typeof a('rpc.grpc.status_code'), 'bigint');
    } else if (span.kind === SpanKind.INTERNAL) {
      assert.equal(typeof a('code.function'), 'string');
    }
  }
  assert.ok(checked > 1000);
});

test('every generated span is one the code model names for its service', () => {
  const known = new Set<string>();
  for (const svc of run.model.services) for (const op of svc.operations) for (const s of op.spans) known.add(`${svc.name}|${s.kind}|${s.name}`);
  const kindName = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
  const seen = new Set<string>();
  for (const s of spans) {
    const key = `${s.service}|${kindName[s.span.kind]}|${s.span.name}`;
    assert.ok(known.has(key), `unmodelled span ${key}`);
    seen.add(key);
  }
  // And 2000 traces reach nearly everything the model can emit.
  assert.ok(seen.size >= known.size * 0.9, `${seen.size} of ${known.size} modelled spans seen`);
});

test('branch arms are taken with their configured probabilities', () => {
  const tiny = flatten(collectTraffic({ seed: 21, traces: 4000, topology: tinyTopology() }).batches);
  const count = (name: string) => tiny.filter((s) => s.span.name === name).length;
  assert.ok(Math.abs(count('doA') / 4000 - 0.5) < 0.03, `doA ${count('doA')}`);
  assert.ok(Math.abs(count('doB') / 4000 - 0.3) < 0.03, `doB ${count('doB')}`);
  assert.ok(Math.abs(count('doC') / 4000 - 0.2) < 0.03, `doC ${count('doC')}`);

  // Default topology: catalog's product cache misses (20%) query MongoDB.
  const children = new Map<string, string[]>();
  for (const s of spans) if (s.span.parentSpanId.length) (children.get(s.parentHex) ?? children.set(s.parentHex, []).get(s.parentHex)!).push(s.span.name);
  const gets = spans.filter((s) => s.service === 'catalog-service' && s.span.name === 'GET /api/catalog/products/:id');
  const misses = gets.filter((s) => children.get(s.spanHex)?.includes('mongodb.findOne'));
  assert.ok(gets.length > 500);
  assert.ok(Math.abs(misses.length / gets.length - 0.2) < 0.04, `miss ratio ${misses.length / gets.length}`);
});

test('loops repeat their body a uniform number of times', () => {
  const tiny = collectTraffic({ seed: 22, traces: 2000, topology: tinyTopology() });
  const perTrace = [...byTrace(flatten(tiny.batches)).values()].map((l) => l.filter((s) => s.span.name === 'pg.query:SELECT main').length);
  const counts = new Map<number, number>();
  for (const n of perTrace) counts.set(n, (counts.get(n) ?? 0) + 1);
  assert.deepEqual([...counts.keys()].sort(), [2, 3, 4, 5]);
  const mean = perTrace.reduce((a, b) => a + b, 0) / perTrace.length;
  assert.ok(Math.abs(mean - 3.5) < 0.15, `mean ${mean}`);
});

test('durations are spread like real latencies', () => {
  const tiny = flatten(collectTraffic({ seed: 23, traces: 2000, topology: tinyTopology() }).batches);
  const d = tiny.filter((s) => s.span.name === 'test.Worker/Work' && s.span.kind === SpanKind.SERVER).map((s) => durationMs(s.span));
  d.sort((a, b) => a - b);
  const p10 = d[Math.floor(d.length * 0.1)]!;
  const p50 = d[Math.floor(d.length * 0.5)]!;
  const p99 = d[Math.floor(d.length * 0.99)]!;
  assert.ok(p50 > 1.5 && p50 < 2.5, `median ${p50}`);
  assert.ok(p99 / p50 > 2 && p50 / p10 > 1.5, `p10 ${p10} p50 ${p50} p99 ${p99}`);
});

test('durationSeconds bounds the trace start times', () => {
  const r = collectTraffic({ seed: 4, durationSeconds: 10, rate: 50, topology: tinyTopology() });
  assert.ok(r.traces > 400 && r.traces < 600, `${r.traces} traces`);
  for (const s of flatten(r.batches))
    if (s.span.parentSpanId.length === 0) assert.ok(s.span.startTimeUnixNano < DEFAULT_START_TIME_UNIX_NANO + 10_000_000_000n);
});

test('the async and data-only forms yield the same data', async () => {
  const sync = collectTraffic({ seed: 8, traces: 150, batchSpans: 200 }).batches;
  const viaAsync: TracesData[] = [];
  for await (const b of generateTrafficAsync({ seed: 8, traces: 150, batchSpans: 200 })) viaAsync.push(b.data);
  const viaData = [...trafficData({ seed: 8, traces: 150, batchSpans: 200 })];
  assert.equal(viaAsync.length, sync.length);
  sync.forEach((b, i) => {
    assert.equal(diffTracesData(b, viaAsync[i]!), undefined);
    assert.equal(diffTracesData(b, viaData[i]!), undefined);
  });
});

test('bad options and topologies are input errors, raised before the first batch', () => {
  assert.throws(() => generateTraffic({ seed: 1, rate: 0 }), InputError);
  assert.throws(() => generateTraffic({ seed: 1, traces: -1 }), InputError);
  const cyclic: Topology = tinyTopology();
  cyclic.services[1]!.operations[0]!.body.push({ kind: 'call', id: 'back', service: 'api', operation: 'handle' });
  assert.throws(() => generateTraffic({ seed: 1, topology: cyclic }), /cycle/);
  const unknown = tinyTopology();
  unknown.services[0]!.operations[0]!.body.push({ kind: 'call', id: 'x', service: 'nope', operation: 'x' });
  assert.throws(() => generateTraffic({ seed: 1, topology: unknown }), InputError);
  const odds = tinyTopology();
  const branch = odds.services[0]!.operations[0]!.body[0]!;
  if (branch.kind === 'branch') branch.arms[0]!.probability = 0.9;
  assert.throws(() => generateTraffic({ seed: 1, topology: odds }), /sum to/);
});
