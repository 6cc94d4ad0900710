// Zipkin v2 and Jaeger JSON to OTLP, as the OpenTelemetry Collector's receivers map them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { InputError, SpanKind, StatusCode, bytesToHex, getAttribute, type KeyValue } from '../../src/model/index.js';
import { openTraceSource } from '../../src/datasets/index.js';
import { TempDir, bySpanId, collect } from './helpers.js';

const ZIPKIN = fileURLToPath(new URL('./fixtures/zipkin.json', import.meta.url));
const JAEGER = fileURLToPath(new URL('./fixtures/jaeger.json', import.meta.url));

const pairs = (attrs: readonly KeyValue[] | undefined) => (attrs ?? []).map((a) => [a.key, a.value]);

describe('Zipkin v2 JSON', () => {
  it('maps spans like the collector: resource per service, scope, status, kinds, endpoints, annotations', async () => {
    const source = await openTraceSource(ZIPKIN);
    assert.equal(source.kind, 'zipkin-json');
    const { batches, spans } = await collect(source.batches());
    assert.equal(batches.length, 1);
    assert.equal(spans.length, 4);

    const server = bySpanId(spans, '6b221d5bc9e6496c');
    assert.equal(bytesToHex(server.span.traceId), '00000000000000005af7183fb1d4cf5f', '64-bit trace ids are left-padded');
    assert.equal(server.span.kind, SpanKind.SERVER);
    assert.equal(server.span.name, 'get /api');
    assert.equal(server.span.startTimeUnixNano, 1556604172355737000n);
    assert.equal(server.span.endTimeUnixNano, 1556604172355737000n + 1431000n);
    assert.equal(server.span.traceState, 'rojo=00f067aa0ba902b7');
    assert.deepEqual([server.span.status?.code, server.span.status?.message], [StatusCode.ERROR, 'boom']);
    assert.deepEqual(pairs(server.resource?.attributes), [
      ['service.name', 'backend'],
      ['host.name', 'box-1'],
    ]);
    assert.deepEqual([server.scope?.name, server.scope?.version], ['io.opentelemetry.servlet', '1.2.3']);
    assert.deepEqual(pairs(server.span.attributes), [
      ['http.method', 'GET'],
      ['http.path', '/api'],
      ['net.host.ip', '192.168.99.1'],
      ['net.host.port', 9000n],
      ['net.peer.ip', '172.19.0.2'],
      ['net.peer.port', 58648n],
      ['zipkin.shared', true],
    ]);
    assert.deepEqual(
      server.span.events.map((e) => [e.timeUnixNano, e.name, pairs(e.attributes), e.droppedAttributesCount]),
      [
        [1556604172355800000n, 'wr', [], 0],
        [
          1556604172355900000n,
          'exception',
          [
            ['exception.type', 'IOError'],
            ['retries', 3n],
          ],
          1,
        ],
        [1556604172356000000n, 'cache|miss', [], 0],
      ],
    );

    const client = bySpanId(spans, '000000000000a8a1');
    assert.equal(client.span.kind, SpanKind.CLIENT);
    assert.equal(bytesToHex(client.span.parentSpanId), '6b221d5bc9e6496c');
    assert.deepEqual([client.span.status?.code, client.span.status?.message], [StatusCode.ERROR, '']);
    assert.deepEqual(pairs(client.span.attributes), [
      ['sql.query', 'select 1'],
      ['peer.service', 'mysql'],
      ['net.peer.ip', '::1'],
      ['net.peer.port', 3306n],
      ['zipkin.debug', true],
    ]);
    assert.deepEqual(pairs(client.resource?.attributes), [['service.name', 'backend']]);
    assert.notEqual(client.resource, server.resource, 'different resource tags, different resources');

    const internal = bySpanId(spans, 'b7ad6b7169203331');
    assert.equal(internal.span.kind, SpanKind.INTERNAL);
    assert.equal(internal.span.parentSpanId.length, 0, 'a parentId equal to the id is no parent');
    assert.deepEqual(pairs(internal.span.attributes), []);

    const untimed = bySpanId(spans, '00f067aa0ba902b7');
    assert.equal(untimed.span.kind, SpanKind.UNSPECIFIED);
    assert.equal(untimed.span.startTimeUnixNano, 0n);
    assert.equal(untimed.span.endTimeUnixNano, 10000n);
    assert.deepEqual(pairs(untimed.span.attributes), [['otel.zipkin.absentField.startTime', true]]);
    assert.equal(untimed.resource, internal.resource);

    assert.deepEqual(
      source.warnings.list.map((w) => [w.code, w.message]),
      [['bad-row', '[4].traceId: traceId undefined is not hex of at most 32 digits; span skipped']],
    );
    assert.equal(source.stats.skippedRows, 1);
  });

  it('re-cuts into batches of N spans on request', async () => {
    const source = await openTraceSource(ZIPKIN, { batchSpans: 3 });
    const { batches } = await collect(source.batches());
    assert.equal(batches.length, 2);
  });
});

describe('Jaeger JSON', () => {
  it('maps the query API format like the collector: parent, links, typed tags, kind, status, logs, process', async () => {
    const source = await openTraceSource(JAEGER);
    assert.equal(source.kind, 'jaeger-json');
    const { spans } = await collect(source.batches());
    assert.equal(spans.length, 3);

    const server = bySpanId(spans, '051581bf3cb55c13');
    assert.equal(bytesToHex(server.span.traceId), '5b8aa5a2d2c872e8321cf37308d69df2');
    assert.equal(server.span.kind, SpanKind.SERVER);
    assert.equal(server.span.parentSpanId.length, 0);
    assert.equal(server.span.startTimeUnixNano, 1556604172355737000n);
    assert.equal(server.span.endTimeUnixNano, 1556604172357168000n);
    assert.equal(server.span.traceState, 'rojo=1');
    assert.deepEqual([server.span.status?.code, server.span.status?.message], [StatusCode.ERROR, ''], '5xx on a server span');
    assert.deepEqual(pairs(server.span.attributes), [
      ['http.status_code', 503n],
      ['http.method', 'GET'],
      ['sampler.param', true],
      ['ratio', 0.25],
    ]);
    assert.deepEqual([server.scope?.name, server.scope?.version], ['io.opentelemetry.test', '0.9']);
    assert.deepEqual(
      server.span.events.map((e) => [e.timeUnixNano, e.name, pairs(e.attributes)]),
      [[1556604172355800000n, 'cache miss', [['key', 'customer:123']]]],
    );
    assert.deepEqual(pairs(server.resource?.attributes), [
      ['service.name', 'customer'],
      ['ip', '10.0.0.1'],
      ['host.name', 'host-a'],
      ['opencensus.exporterversion', 'Jaeger-Go-2.30.0'],
    ]);

    const client = bySpanId(spans, '5a4a2f0c4b3e8e1d');
    assert.equal(client.span.kind, SpanKind.CLIENT);
    assert.equal(bytesToHex(client.span.parentSpanId), '051581bf3cb55c13');
    assert.deepEqual(
      client.span.links.map((l) => [bytesToHex(l.spanId), pairs(l.attributes)]),
      [['1111111111111111', [['opentracing.ref_type', 'follows_from']]]],
    );
    assert.deepEqual([client.span.status?.code, client.span.status?.message], [StatusCode.ERROR, 'db down']);
    assert.equal(getAttribute(client.span.attributes, 'rows'), 9007199254740993n, 'int64 text stays exact');
    assert.equal(getAttribute(client.span.attributes, 'error'), undefined);
    assert.deepEqual(pairs(client.resource?.attributes), [['service.name', 'mysql']]);

    const follower = bySpanId(spans, '2222222222222222');
    assert.equal(follower.span.parentSpanId.length, 0, 'FOLLOWS_FROM alone is a link, not a parent');
    assert.deepEqual(
      follower.span.links.map((l) => [bytesToHex(l.spanId), pairs(l.attributes)]),
      [['051581bf3cb55c13', [['opentracing.ref_type', 'follows_from']]]],
    );
    assert.deepEqual([follower.span.status?.code, follower.span.attributes.length], [StatusCode.OK, 0]);
    assert.equal(follower.resource, server.resource);

    assert.deepEqual(
      source.warnings.list.map((w) => [w.code, w.message]),
      [['bad-row', 'data[0].spans[3].spanID: "zz" is not hex of at most 16 digits; span skipped']],
    );
  });
});

describe('JSON input errors', () => {
  let tmp: TempDir;
  before(() => (tmp = new TempDir()));
  after(() => tmp.remove());

  it('reads gzip-compressed JSON', async () => {
    const path = tmp.writeBytes('zipkin.json.gz', gzipSync(readFileSync(ZIPKIN)));
    const source = await openTraceSource(path);
    assert.equal(source.kind, 'zipkin-json');
    assert.equal((await collect(source.batches())).spans.length, 4);
  });

  it('fails with a clear error on invalid JSON', async () => {
    const path = tmp.write('broken.json', '[{"traceId": "5af7183fb1d4cf5f", "id": ');
    const source = await openTraceSource(path);
    await assert.rejects(collect(source.batches()), (err: unknown) => {
      assert.ok(err instanceof InputError);
      assert.equal(err.source, path);
      assert.match(err.message, /: invalid JSON: /);
      return true;
    });
  });

  it('fails on a bad span in strict mode, naming its JSON path', async () => {
    const source = await openTraceSource(JAEGER, { strict: true });
    await assert.rejects(collect(source.batches()), /data\[0\]\.spans\[3\]\.spanID: "zz" is not hex/);
  });
});
