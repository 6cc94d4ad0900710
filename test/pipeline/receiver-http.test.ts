// OtlpHttpReceiver against real clients, no mocks in the path: the stock OpenTelemetry JS exporters
// (OTLP/HTTP protobuf and JSON, gzip on and off) behind a real TracerProvider, every span checked at
// the message level against the SDK's own serializer output decoded by protobufjs; backpressure
// retried by the stock exporter as acknowledged; then raw requests for every refusal the
// specification defines (malformed, truncated, oversized, gzip bombs, wrong type, path, method,
// encoding, empty bodies), the server's guards (timeouts, concurrency cap, keep-alive) and close().
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import zlib from 'node:zlib';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Backpressure, OtlpHttpReceiver, type OtlpHttpReceiverOptions } from '../../src/pipeline/index.js';
import { InputError, makeResourceSpans, makeScopeSpans, makeSpan, makeTracesData } from '../../src/model/index.js';
import { decodeTraceResponse, decodeTraceResponseJson, encodeTracesData, encodeTracesJson } from '../../src/otlp/index.js';
import {
  deferred,
  waitFor,
  diffReceived,
  expectedFromSdk,
  oracleDecodeStatus,
  rawRequest,
  RecordingMetrics,
  RecordingSink,
  ResultObserver,
  selfSignedCertificate,
  sendThroughSdk,
} from './receiver-helpers.js';

type Compression = NonNullable<NonNullable<ConstructorParameters<typeof ProtoExporter>[0]>['compression']>;
const GZIP = 'gzip' as Compression;
const NONE = 'none' as Compression;

const PROTO = { 'Content-Type': 'application/x-protobuf' };
const JSON_TYPE = { 'Content-Type': 'application/json' };

async function startReceiver(options: Partial<OtlpHttpReceiverOptions> & { sink?: RecordingSink } = {}) {
  const sink = options.sink ?? new RecordingSink();
  const metrics = new RecordingMetrics();
  const logged: string[] = [];
  const receiver = new OtlpHttpReceiver({ host: '127.0.0.1', port: 0, metrics, log: (l) => logged.push(l), ...options, sink });
  const address = await receiver.start();
  const base = `http://127.0.0.1:${address.port}`;
  return { receiver, sink, metrics, logged, base, port: address.port, url: `${base}/v1/traces` };
}

/** A small valid request of `n` spans. */
function request(n: number) {
  const spans = Array.from({ length: n }, (_, i) => makeSpan({ name: `s${i}`, traceId: new Uint8Array(16).fill(1), spanId: Uint8Array.of(0, 0, 0, 0, 0, 0, 0, i + 1) }));
  return makeTracesData([makeResourceSpans({ scopeSpans: [makeScopeSpans({ spans })] })]);
}

const receivers: OtlpHttpReceiver[] = [];
after(async () => {
  for (const r of receivers) await r.close(100);
});
async function receiverFor(options: Partial<OtlpHttpReceiverOptions> & { sink?: RecordingSink } = {}) {
  const r = await startReceiver(options);
  receivers.push(r.receiver);
  return r;
}

describe('stock exporters through a real TracerProvider', { timeout: 60_000 }, () => {
  for (const [name, Exporter] of [
    ['OTLP/HTTP protobuf', ProtoExporter],
    ['OTLP/HTTP JSON', JsonExporter],
  ] as const) {
    for (const compression of [NONE, GZIP]) {
      test(`${name}, compression ${compression}: every span arrives, equal at the message level`, async () => {
        const { sink, url, metrics } = await receiverFor();
        const exporter = new ResultObserver(new Exporter({ url, compression }));
        const spans = await sendThroughSdk(exporter, 40, 16);
        assert.equal(spans.length, 80);
        assert.ok(exporter.results.length >= 5, 'several batches');
        assert.deepEqual(exporter.results.map((r) => r.code), exporter.results.map(() => 0), 'every export reported SUCCESS');
        assert.equal(diffReceived(expectedFromSdk(spans), sink.accepted.map((r) => r.data)), undefined);
        assert.equal(sink.spans(), 80);
        for (const r of sink.accepted) {
          assert.equal(r.receiver, 'otlp-http');
          assert.equal(r.protobuf !== undefined, Exporter === ProtoExporter, 'protobuf bytes handed on for protobuf bodies only');
        }
        assert.deepEqual(new Set(metrics.outcomes()), new Set(['accepted']));
        assert.equal(metrics.events.reduce((n, e) => n + e.acceptedSpans, 0), 80);
        if (compression === GZIP) assert.ok(metrics.events.every((e) => e.wireBytes! < e.bodyBytes), 'gzip bodies were inflated');
      });
    }
  }
});

describe('backpressure', { timeout: 60_000 }, () => {
  for (const [reason, status] of [
    ['queue-full', 429],
    ['unavailable', 503],
  ] as const) {
    test(`a sink refusing twice (${reason}) then accepting: HTTP ${status} + Retry-After, the stock exporter retries and every span arrives once`, async () => {
      const sink = new RecordingSink((_r, n) => {
        if (n < 2) throw new Backpressure(reason, 0);
      });
      const { url, metrics } = await receiverFor({ sink });
      const exporter = new ResultObserver(new ProtoExporter({ url, compression: GZIP }));
      const spans = await sendThroughSdk(exporter, 5, 100);
      assert.equal(spans.length, 10);
      assert.equal(sink.calls, 3, 'two refusals, one acceptance');
      assert.deepEqual(exporter.results.map((r) => r.code), [0]);
      assert.equal(diffReceived(expectedFromSdk(spans), sink.accepted.map((r) => r.data)), undefined);
      assert.deepEqual(metrics.outcomes(), ['refused', 'refused', 'accepted']);
      assert.deepEqual(metrics.events.map((e) => e.refusedSpans), [10, 10, 0]);
    });
  }

  test('the answer: status per reason, Retry-After rounded up, a Status with RetryInfo in the request encoding', async () => {
    const sink = new RecordingSink((r) => {
      const reason = r.data.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.name as 'queue-full' | 'memory' | 'shutting-down' | 'unavailable';
      throw new Backpressure(reason, 1.5);
    });
    const { url } = await receiverFor({ sink });
    for (const [reason, status, code] of [
      ['queue-full', 429, 8],
      ['memory', 429, 8],
      ['shutting-down', 503, 14],
      ['unavailable', 503, 14],
    ] as const) {
      const data = makeTracesData([makeResourceSpans({ scopeSpans: [makeScopeSpans({ spans: [makeSpan({ name: reason })] })] })]);
      const res = await rawRequest(url, { headers: PROTO, body: encodeTracesData(data) });
      assert.equal(res.status, status, reason);
      assert.equal(res.headers['retry-after'], '2');
      assert.equal(res.headers['content-type'], 'application/x-protobuf');
      const st = oracleDecodeStatus(res.body);
      assert.equal(st.code, code);
      assert.equal(st.retryDelaySeconds, 1.5);
      assert.match(st.message, new RegExp(reason));
      const json = await rawRequest(url, { headers: JSON_TYPE, body: encodeTracesJson(data) });
      assert.equal(json.status, status);
      assert.equal(json.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(json.body.toString()).details, [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.500s' }]);
    }
  });

  test('the stock exporter waits the Retry-After it is given', async () => {
    const times: number[] = [];
    const sink = new RecordingSink((_r, n) => {
      times.push(Date.now());
      if (n === 0) throw new Backpressure('memory', 1);
    });
    const { url } = await receiverFor({ sink });
    const exporter = new ResultObserver(new ProtoExporter({ url }));
    await sendThroughSdk(exporter, 1, 10);
    assert.deepEqual(exporter.results.map((r) => r.code), [0]);
    assert.equal(times.length, 2);
    assert.ok(times[1]! - times[0]! >= 950, `retried after ${times[1]! - times[0]!} ms`);
  });
});

describe('sink answers', { timeout: 60_000 }, () => {
  test('partial success: 200 with rejected_spans and error_message, in both encodings', async () => {
    const sink = new RecordingSink(() => ({ rejectedSpans: 2, errorMessage: 'two spans too old' }));
    const { url, metrics } = await receiverFor({ sink });
    const res = await rawRequest(url, { headers: PROTO, body: encodeTracesData(request(5)) });
    assert.equal(res.status, 200);
    assert.deepEqual(decodeTraceResponse(res.body).partialSuccess, { rejectedSpans: 2n, errorMessage: 'two spans too old', unknownFields: undefined });
    const json = await rawRequest(url, { headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: encodeTracesJson(request(5)) });
    assert.equal(json.status, 200);
    assert.equal(json.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(json.body.toString()), { partialSuccess: { rejectedSpans: '2', errorMessage: 'two spans too old' } });
    assert.deepEqual(decodeTraceResponseJson(json.body.toString()).partialSuccess?.rejectedSpans, 2n);
    assert.deepEqual(metrics.outcomes(), ['partial', 'partial']);
    assert.deepEqual([metrics.events[0]!.acceptedSpans, metrics.events[0]!.refusedSpans], [3, 2]);
  });

  test('the stock exporter takes a partial success as delivered, without retrying', async () => {
    const sink = new RecordingSink(() => ({ rejectedSpans: 1, errorMessage: 'one rejected' }));
    const { url } = await receiverFor({ sink });
    const exporter = new ResultObserver(new JsonExporter({ url }));
    await sendThroughSdk(exporter, 2, 10);
    assert.deepEqual(exporter.results.map((r) => r.code), [0]);
    assert.equal(sink.calls, 1);
  });

  test('full success: an empty ExportTraceServiceResponse (partial_success unset)', async () => {
    const { url } = await receiverFor();
    const res = await rawRequest(url, { headers: PROTO, body: encodeTracesData(request(1)) });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/x-protobuf');
    assert.equal(res.body.length, 0);
    const json = await rawRequest(url, { headers: JSON_TYPE, body: encodeTracesJson(request(1)) });
    assert.equal(json.body.toString(), '{}');
  });

  test("the sink's InputError: 400 with its message; never retried by the stock exporter", async () => {
    const sink = new RecordingSink(() => {
      throw new InputError('spans from tenant x are not accepted here');
    });
    const { url, metrics } = await receiverFor({ sink });
    const res = await rawRequest(url, { headers: PROTO, body: encodeTracesData(request(3)) });
    assert.equal(res.status, 400);
    const st = oracleDecodeStatus(res.body);
    assert.equal(st.code, 3);
    assert.equal(st.message, 'spans from tenant x are not accepted here');
    assert.deepEqual(st.badRequest, [{ field: '', description: 'spans from tenant x are not accepted here' }]);
    const exporter = new ResultObserver(new ProtoExporter({ url }));
    await sendThroughSdk(exporter, 1, 10);
    assert.deepEqual(exporter.results.map((r) => r.code), [1]);
    assert.equal(sink.calls, 2, 'one raw request, one export, no retry');
    assert.deepEqual(metrics.events[0], { receiver: 'otlp-http', outcome: 'invalid', acceptedSpans: 0, refusedSpans: 3, bodyBytes: metrics.events[0]!.bodyBytes, wireBytes: metrics.events[0]!.bodyBytes });
  });

  test('anything else from the sink: 500 with a Status, and the log says what happened', async () => {
    const sink = new RecordingSink(() => {
      throw new TypeError('queue file handle closed');
    });
    const { url, logged, metrics } = await receiverFor({ sink });
    const json = await rawRequest(url, { headers: JSON_TYPE, body: encodeTracesJson(request(1)) });
    assert.equal(json.status, 500);
    assert.deepEqual(JSON.parse(json.body.toString()), { code: 13, message: 'internal error in the receiver; see its log' });
    assert.equal(logged.length, 1);
    assert.match(logged[0]!, /HTTP 500.*TypeError: queue file handle closed/s);
    assert.deepEqual(metrics.outcomes(), ['error']);
  });
});

describe('refusals, with raw requests', { timeout: 60_000 }, () => {
  test('malformed protobuf: 400, a Status naming the problem, in protobuf', async () => {
    const { url, sink, metrics } = await receiverFor();
    const res = await rawRequest(url, { headers: PROTO, body: Buffer.from([0x0a, 0x05, 0x01]) });
    assert.equal(res.status, 400);
    assert.equal(res.headers['content-type'], 'application/x-protobuf');
    const st = oracleDecodeStatus(res.body);
    assert.equal(st.code, 3);
    assert.match(st.message, /^malformed OTLP protobuf request: invalid protobuf \(truncated\) at byte \d+/);
    assert.equal(st.badRequest?.[0]?.description, st.message);
    assert.equal(sink.calls, 0);
    assert.deepEqual(metrics.outcomes(), ['invalid']);
  });

  test('truncated: a valid request cut short is 400, plain or gzip', async () => {
    const { url } = await receiverFor();
    const whole = encodeTracesData(request(20));
    const cut = whole.subarray(0, whole.length - 7);
    const res = await rawRequest(url, { headers: PROTO, body: cut });
    assert.equal(res.status, 400);
    assert.match(oracleDecodeStatus(res.body).message, /truncated/);
    const gz = zlib.gzipSync(whole);
    const res2 = await rawRequest(url, { headers: { ...PROTO, 'Content-Encoding': 'gzip' }, body: gz.subarray(0, gz.length - 12) });
    assert.equal(res2.status, 400);
    assert.match(oracleDecodeStatus(res2.body).message, /^invalid gzip body: unexpected end of file/);
  });

  test('malformed JSON: 400 with a JSON Status; invalid UTF-8 too', async () => {
    const { url } = await receiverFor();
    const res = await rawRequest(url, { headers: JSON_TYPE, body: '{"resourceSpans": [' });
    assert.equal(res.status, 400);
    assert.equal(res.headers['content-type'], 'application/json');
    const body = JSON.parse(res.body.toString());
    assert.equal(body.code, 3);
    assert.match(body.message, /^malformed OTLP JSON request: not valid JSON/);
    assert.equal(body.details[0]['@type'], 'type.googleapis.com/google.rpc.BadRequest');
    const wrong = await rawRequest(url, { headers: JSON_TYPE, body: '{"resourceSpans": 7}' });
    assert.equal(wrong.status, 400);
    assert.match(JSON.parse(wrong.body.toString()).message, /resourceSpans/);
    const bad = await rawRequest(url, { headers: JSON_TYPE, body: Buffer.from([0x7b, 0xff, 0x7d]) });
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body.toString()).message, /not valid UTF-8/);
  });

  test('empty bodies: protobuf is the empty request (200, sink not called); JSON needs {}', async () => {
    const { url, sink } = await receiverFor();
    const res = await rawRequest(url, { headers: PROTO, body: '' });
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 0);
    const gz = await rawRequest(url, { headers: { ...PROTO, 'Content-Encoding': 'gzip' }, body: zlib.gzipSync(Buffer.alloc(0)) });
    assert.equal(gz.status, 200);
    const json = await rawRequest(url, { headers: JSON_TYPE, body: '' });
    assert.equal(json.status, 400);
    assert.match(JSON.parse(json.body.toString()).message, /empty input/);
    const braces = await rawRequest(url, { headers: JSON_TYPE, body: '{}' });
    assert.equal(braces.status, 200);
    assert.equal(sink.calls, 0);
  });

  test('wrong content type: 415 (missing, text/plain, a charset other than UTF-8); the body is protobuf', async () => {
    const { url, metrics } = await receiverFor();
    for (const type of [undefined, 'text/plain', 'application/json; charset=utf-16', 'application/protobuf']) {
      const res = await rawRequest(url, { headers: type === undefined ? {} : { 'Content-Type': type }, body: 'x' });
      assert.equal(res.status, 415, type);
      assert.equal(res.headers['content-type'], 'application/x-protobuf');
      const st = oracleDecodeStatus(res.body);
      assert.match(st.message, /Content-Type|charset/);
    }
    assert.deepEqual(new Set(metrics.outcomes()), new Set(['unsupported']));
  });

  test('content codings: gzip, x-gzip, deflate and identity taken; others 415', async () => {
    const { url, sink } = await receiverFor();
    const body = encodeTracesData(request(2));
    for (const [coding, encoded] of [
      ['gzip', zlib.gzipSync(body)],
      ['x-gzip', zlib.gzipSync(body)],
      ['deflate', zlib.deflateSync(body)],
      ['identity', body],
      ['GZIP', zlib.gzipSync(body)],
    ] as const) {
      const res = await rawRequest(url, { headers: { ...PROTO, 'Content-Encoding': coding }, body: encoded });
      assert.equal(res.status, 200, coding);
    }
    assert.equal(sink.spans(), 10);
    for (const coding of ['br', 'zstd', 'gzip, gzip']) {
      const res = await rawRequest(url, { headers: { ...PROTO, 'Content-Encoding': coding }, body });
      assert.equal(res.status, 415, coding);
      assert.match(oracleDecodeStatus(res.body).message, /Content-Encoding|content coding/);
    }
    const notGzip = await rawRequest(url, { headers: { ...PROTO, 'Content-Encoding': 'gzip' }, body });
    assert.equal(notGzip.status, 400);
    assert.match(oracleDecodeStatus(notGzip.body).message, /^invalid gzip body/);
  });

  test('wrong path: 404; wrong method: 405 with Allow: POST', async () => {
    const { base, url } = await receiverFor();
    const res = await rawRequest(`${base}/v1/metrics`, { headers: PROTO, body: encodeTracesData(request(1)) });
    assert.equal(res.status, 404);
    assert.match(oracleDecodeStatus(res.body).message, /no OTLP endpoint at \/v1\/metrics/);
    const json404 = await rawRequest(`${base}/`, { headers: JSON_TYPE, body: '{}' });
    assert.equal(json404.status, 404);
    assert.equal(JSON.parse(json404.body.toString()).code, 5);
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const r = await rawRequest(url, { method });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'POST');
      assert.equal(oracleDecodeStatus(r.body).code, 12);
    }
    const head = await rawRequest(url, { method: 'HEAD' });
    assert.equal(head.status, 405);
    assert.equal(head.body.length, 0);
    const query = await rawRequest(`${url}?tenant=a`, { headers: PROTO, body: encodeTracesData(request(1)) });
    assert.equal(query.status, 200, 'a query string does not change the path');
  });

  test('decodeOptions reach the protobuf decoder (copyBytes: ids no longer view the request body)', async () => {
    for (const copyBytes of [false, true]) {
      const { url, sink } = await receiverFor({ decodeOptions: { copyBytes } });
      assert.equal((await rawRequest(url, { headers: PROTO, body: encodeTracesData(request(1)) })).status, 200);
      const { data, protobuf } = sink.accepted[0]!;
      const id = data.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.spanId;
      assert.equal(id.buffer === protobuf!.buffer, !copyBytes);
    }
  });

  test('other routes share the server: served by their handlers; a failing one is a logged 500', async () => {
    const { base, logged } = await receiverFor({
      routes: {
        '/healthz': (_req, res) => void res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok'),
        '/broken': async () => {
          throw new Error('route bug');
        },
      },
    });
    const health = await rawRequest(`${base}/healthz?verbose=1`, { method: 'GET' });
    assert.deepEqual([health.status, health.body.toString()], [200, 'ok']);
    assert.equal((await rawRequest(`${base}/broken`, { method: 'GET' })).status, 500);
    assert.match(logged[0]!, /the handler of \/broken failed: Error: route bug/);
    assert.equal((await rawRequest(`${base}/v1/traces`, { headers: PROTO, body: '' })).status, 200);
    assert.equal((await rawRequest(`${base}/other`, { method: 'GET' })).status, 404);
    assert.throws(() => new OtlpHttpReceiver({ sink: new RecordingSink(), routes: { '/v1/traces': () => {} } }), /must not include the OTLP path/);
  });

  test('a configured path replaces /v1/traces', async () => {
    const { base } = await receiverFor({ path: '/otlp/v1/traces' });
    assert.equal((await rawRequest(`${base}/otlp/v1/traces`, { headers: PROTO, body: '' })).status, 200);
    assert.equal((await rawRequest(`${base}/v1/traces`, { headers: PROTO, body: '' })).status, 404);
  });
});

describe('size limits', { timeout: 60_000 }, () => {
  const LIMIT = 1024 * 1024;

  test('a declared Content-Length above the limit: 413 before the body is read', async () => {
    const { url, metrics } = await receiverFor({ maxRequestBytes: LIMIT });
    const res = await rawRequest(url, { headers: PROTO, body: Buffer.alloc(LIMIT + 1) });
    assert.equal(res.status, 413);
    const st = oracleDecodeStatus(res.body);
    assert.equal(st.code, 8);
    assert.match(st.message, /1048577 bytes exceeds the limit of 1048576 bytes/);
    assert.deepEqual(metrics.outcomes(), ['too-large']);
    assert.equal(metrics.events[0]!.bodyBytes, 0);
  });

  test('a chunked body that grows past the limit: 413 once the limit is crossed; at the limit it is taken', async () => {
    const { url, metrics } = await receiverFor({ maxRequestBytes: LIMIT });
    const chunk = Buffer.alloc(64 * 1024);
    const res = await rawRequest(url, { headers: PROTO, chunks: Array.from({ length: 20 }, () => chunk) });
    assert.equal(res.status, 413);
    assert.ok(metrics.events[0]!.wireBytes! <= LIMIT + chunk.length);
    // Exactly at the limit: a valid request padded with an unknown field to LIMIT bytes.
    const valid = encodeTracesData(request(1));
    const pad = LIMIT - valid.length - 5; // tag (1) + 4-byte length varint
    const field = Buffer.concat([Buffer.from([0x7a, (pad & 0x7f) | 0x80, ((pad >> 7) & 0x7f) | 0x80, ((pad >> 14) & 0x7f) | 0x80, pad >> 21]), Buffer.alloc(pad)]);
    const exact = Buffer.concat([valid, field]);
    assert.equal(exact.length, LIMIT);
    const ok = await rawRequest(url, { headers: { ...PROTO, 'Content-Encoding': 'gzip' }, body: zlib.gzipSync(exact) });
    assert.equal(ok.status, 200);
  });

  test('gzip bomb (1 GiB of zeros in 1 MiB): 413 after inflating no more than the limit, in bounded time and memory', async () => {
    const { url, metrics } = await receiverFor({ maxRequestBytes: LIMIT * 16 });
    const member = zlib.gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: 64 }, () => member)); // gzip members concatenate
    assert.ok(bomb.length < 2 * 1024 * 1024, `bomb is ${bomb.length} bytes`);
    const before = process.memoryUsage();
    const started = performance.now();
    const res = await rawRequest(url, { headers: { ...PROTO, 'Content-Encoding': 'gzip' }, body: bomb });
    const elapsed = performance.now() - started;
    const grew = process.memoryUsage().arrayBuffers - before.arrayBuffers;
    assert.equal(res.status, 413);
    assert.match(oracleDecodeStatus(res.body).message, /after decompression/);
    const inflated = metrics.events[0]!.bodyBytes;
    assert.ok(inflated > LIMIT * 16 && inflated <= LIMIT * 16 + 64 * 1024, `inflated ${inflated} bytes: stopped one chunk past the limit`);
    assert.ok(elapsed < 3000, `answered in ${elapsed.toFixed(0)} ms`);
    assert.ok(grew < 128 * 1024 * 1024, `buffers grew by ${(grew / 1048576).toFixed(1)} MiB`);
  });

  test('a gzip stream of empty blocks (inflates to nothing, forever): 413 once the bytes read pass the limit', async () => {
    const { url } = await receiverFor({ maxRequestBytes: LIMIT });
    const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
    const emptyBlocks = Buffer.alloc(5 * 300_000); // 300k stored blocks of length 0: 00 | 00 00 | ff ff
    for (let i = 0; i < 300_000; i++) emptyBlocks.set([0, 0, 0, 0xff, 0xff], i * 5);
    const res = await rawRequest(url, { headers: { ...PROTO, 'Content-Encoding': 'gzip' }, chunks: [header, emptyBlocks] });
    assert.equal(res.status, 413);
    assert.match(oracleDecodeStatus(res.body).message, /exceeds the limit of 1048576 bytes$/);
  });

  test('after a 413 the kept-alive connection still serves the next request', async () => {
    const { url } = await receiverFor({ maxRequestBytes: LIMIT });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const member = zlib.gzipSync(Buffer.alloc(4 * LIMIT));
    const first = await rawRequest(url, { headers: { ...PROTO, 'Content-Encoding': 'gzip' }, body: member, agent });
    assert.equal(first.status, 413);
    const second = await rawRequest(url, { headers: PROTO, body: encodeTracesData(request(1)), agent });
    assert.equal(second.status, 200);
    assert.equal(second.reusedSocket, true);
    agent.destroy();
  });
});

describe('server guards', { timeout: 60_000 }, () => {
  test('concurrency cap: beyond it 503 with Retry-After, without reading the body; the admitted finish', async () => {
    const gate = deferred();
    const sink = new RecordingSink(() => gate.promise);
    const { url, receiver, metrics } = await receiverFor({ sink, maxConcurrentRequests: 2, overloadRetryAfterSeconds: 3 });
    const first = rawRequest(url, { headers: PROTO, body: encodeTracesData(request(1)) });
    const second = rawRequest(url, { headers: PROTO, body: encodeTracesData(request(1)) });
    await waitFor(() => sink.calls >= 2, 'sink.calls >= 2');
    assert.equal(receiver.requestsInFlight, 2);
    const third = await rawRequest(url, { headers: PROTO, body: encodeTracesData(request(1)) });
    assert.equal(third.status, 503);
    assert.equal(third.headers['retry-after'], '3');
    const st = oracleDecodeStatus(third.body);
    assert.equal(st.code, 14);
    assert.equal(st.retryDelaySeconds, 3);
    assert.match(st.message, /too many concurrent requests \(limit 2\)/);
    gate.resolve();
    assert.deepEqual([(await first).status, (await second).status], [200, 200]);
    assert.equal(receiver.requestsInFlight, 0);
    assert.deepEqual(metrics.outcomes().sort(), ['accepted', 'accepted', 'overloaded']);
  });

  test('body timeout: a client that stops sending gets 408 with a Status and its connection closed', async () => {
    const { port, metrics } = await receiverFor({ bodyTimeoutMs: 300 });
    const socket = net.connect(port, '127.0.0.1');
    socket.write('POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 100\r\n\r\n0123456789');
    const started = performance.now();
    const reply = await readUntilClosed(socket);
    const elapsed = performance.now() - started;
    assert.match(reply, /^HTTP\/1\.1 408 /);
    assert.match(reply, /request body not received within 300 ms/);
    assert.ok(elapsed >= 250 && elapsed < 2000, `closed after ${elapsed.toFixed(0)} ms`);
    assert.deepEqual(metrics.outcomes(), ['timeout']);
  });

  test('headers timeout: a client that never finishes its headers is cut off', async () => {
    const { port } = await receiverFor({ headersTimeoutMs: 200 });
    const socket = net.connect(port, '127.0.0.1');
    socket.write('POST /v1/traces HTTP/1.1\r\nHost: x\r\n');
    const started = performance.now();
    const reply = await readUntilClosed(socket);
    const elapsed = performance.now() - started;
    assert.match(reply, /^HTTP\/1\.1 408 /);
    assert.ok(elapsed < 2000, `closed after ${elapsed.toFixed(0)} ms`);
  });

  test('keep-alive: a client sends request after request on one connection, refusals included', async () => {
    const { url } = await receiverFor();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const statuses: number[] = [];
    const reused: boolean[] = [];
    for (const headers of [PROTO, { 'Content-Type': 'text/plain' }, PROTO, { ...PROTO, 'Content-Encoding': 'br' }, PROTO]) {
      const r = await rawRequest(url, { headers, body: encodeTracesData(request(1)), agent });
      statuses.push(r.status);
      reused.push(r.reusedSocket);
    }
    assert.deepEqual(statuses, [200, 415, 200, 415, 200]);
    assert.deepEqual(reused, [false, true, true, true, true]);
    agent.destroy();
  });

  test('a client that disconnects mid-body is counted as aborted and leaves nothing in flight', async () => {
    const { port, metrics, sink, receiver } = await receiverFor();
    const socket = net.connect(port, '127.0.0.1');
    socket.write('POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 100\r\n\r\n0123');
    await waitFor(() => receiver.requestsInFlight > 0, 'receiver.requestsInFlight > 0');
    socket.destroy();
    await waitFor(() => receiver.requestsInFlight === 0, 'receiver.requestsInFlight === 0');
    assert.deepEqual(metrics.outcomes(), ['aborted']);
    assert.equal(sink.calls, 0);
  });
});

describe('close()', { timeout: 60_000 }, () => {
  test('waits for requests in flight, which are answered; new connections are refused', async () => {
    const gate = deferred();
    const sink = new RecordingSink(() => gate.promise);
    const { receiver, url } = await startReceiver({ sink });
    const pending = rawRequest(url, { headers: PROTO, body: encodeTracesData(request(2)) });
    await waitFor(() => sink.calls >= 1, 'sink.calls >= 1');
    const closing = receiver.close(5000);
    await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(rawRequest(url, { headers: PROTO, body: '' }), { code: 'ECONNREFUSED' });
    gate.resolve();
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(res.headers.connection, 'close');
    await closing;
    assert.equal(sink.accepted.length, 1);
  });

  test('waits for route requests in flight too (a frame being applied): their answer is written before the sockets go', async () => {
    const gate = deferred();
    let started = 0;
    const { receiver, base } = await startReceiver({
      routes: {
        '/v1/tracezip': async (req, res) => {
          started++;
          for await (const _ of req) void _;
          await gate.promise;
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"result":"applied","spans":1}');
        },
      },
    });
    const pending = rawRequest(`${base}/v1/tracezip`, { headers: { 'content-type': 'application/x-tracezip' }, body: 'frame' });
    await waitFor(() => started === 1, 'the route to start');
    const closing = receiver.close(5000);
    await new Promise((r) => setTimeout(r, 100));
    gate.resolve();
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body.toString()).result, 'applied');
    await closing;
  });

  test('at its deadline answers what is still waiting 503 + Retry-After (retryable), then closes', async () => {
    const sink = new RecordingSink(() => new Promise(() => {}));
    const { receiver, url, metrics } = await startReceiver({ sink });
    const pending = rawRequest(url, { headers: JSON_TYPE, body: encodeTracesJson(request(2)) });
    await waitFor(() => sink.calls >= 1, 'sink.calls >= 1');
    const started = performance.now();
    await receiver.close(200);
    const elapsed = performance.now() - started;
    const res = await pending;
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '1');
    assert.match(JSON.parse(res.body.toString()).message, /shutting down/);
    assert.ok(elapsed >= 190 && elapsed < 2000, `closed in ${elapsed.toFixed(0)} ms`);
    assert.deepEqual(metrics.outcomes(), ['overloaded']);
  });
});

describe('TLS', { timeout: 60_000 }, () => {
  const tls = selfSignedCertificate();
  test('serves HTTPS with the given certificate and key', { skip: tls ? false : 'openssl is not installed: no certificate to test with' }, async () => {
    const { port, sink } = await receiverFor({ tls: { certFile: tls!.certFile, keyFile: tls!.keyFile } });
    const body = encodeTracesData(request(3));
    const status = await new Promise<number>((resolve, reject) => {
      const req = https.request(`https://localhost:${port}/v1/traces`, { method: 'POST', headers: PROTO, ca: tls!.cert }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(status, 200);
    assert.equal(sink.spans(), 3);
  });
  test('an unreadable certificate file is an InputError naming the file', async () => {
    const receiver = new OtlpHttpReceiver({ sink: new RecordingSink(), port: 0, tls: { certFile: '/nonexistent/cert.pem', keyFile: '/nonexistent/key.pem' } });
    await assert.rejects(receiver.start(), (e: Error) => e instanceof InputError && /\/nonexistent\/cert\.pem: cannot read the TLS certificate/.test(e.message));
  });
  after(() => tls?.cleanup());
});

function readUntilClosed(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (c) => (text += c.toString('latin1')));
    socket.on('close', () => resolve(text));
    socket.on('error', () => {});
  });
}
