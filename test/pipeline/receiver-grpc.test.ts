// OtlpGrpcReceiver against real clients, no mocks in the path: the stock OpenTelemetry JS gRPC
// exporter (gzip on and off, plaintext and TLS with a certificate openssl makes at test time) behind
// a real TracerProvider, every span checked at the message level against the SDK's serializer output
// decoded by protobufjs; backpressure as UNAVAILABLE with RetryInfo and retry pushback, retried by a
// grpc-js client with a retry policy; then raw gRPC calls and raw HTTP/2 requests for every refusal
// (malformed, truncated, oversized, gzip bomb, wrong content type, wrong path, empty), the
// concurrency cap and close() with calls in flight.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { Backpressure, OtlpGrpcReceiver, traceServiceDefinition, type OtlpGrpcReceiverOptions } from '../../src/pipeline/index.js';
import { InputError, makeResourceSpans, makeScopeSpans, makeSpan, makeTracesData, type ExportTraceServiceResponse } from '../../src/model/index.js';
import { encodeTracesData } from '../../src/otlp/index.js';
import { deferred, waitFor, diffReceived, expectedFromSdk, oracleDecodeStatus, RecordingMetrics, RecordingSink, ResultObserver, selfSignedCertificate, sendThroughSdk } from './receiver-helpers.js';

type Compression = NonNullable<NonNullable<ConstructorParameters<typeof GrpcExporter>[0]>['compression']>;
const GZIP = 'gzip' as Compression;
const NONE = 'none' as Compression;
const SERVICE = 'opentelemetry.proto.collector.trace.v1.TraceService';

const receivers: OtlpGrpcReceiver[] = [];
after(async () => {
  for (const r of receivers) await r.close(100);
});

async function receiverFor(options: Partial<OtlpGrpcReceiverOptions> & { sink?: RecordingSink } = {}) {
  const sink = options.sink ?? new RecordingSink();
  const metrics = new RecordingMetrics();
  const logged: string[] = [];
  const receiver = new OtlpGrpcReceiver({ host: '127.0.0.1', port: 0, metrics, log: (l) => logged.push(l), ...options, sink });
  const { port } = await receiver.start();
  receivers.push(receiver);
  return { receiver, sink, metrics, logged, port, target: `127.0.0.1:${port}` };
}

function request(n: number) {
  const spans = Array.from({ length: n }, (_, i) => makeSpan({ name: `s${i}`, traceId: new Uint8Array(16).fill(2), spanId: Uint8Array.of(0, 0, 0, 0, 0, 0, 1, i) }));
  return makeTracesData([makeResourceSpans({ scopeSpans: [makeScopeSpans({ spans })] })]);
}

const TraceServiceClient = grpc.makeGenericClientConstructor(traceServiceDefinition, 'TraceService');
type ExportFn = (req: Uint8Array, cb: (err: grpc.ServiceError | null, res?: ExportTraceServiceResponse) => void) => void;

/** A raw client built from the receiver's own service definition. */
function client(target: string, options: grpc.ClientOptions = {}) {
  const c = new TraceServiceClient(target, grpc.credentials.createInsecure(), options);
  const call = (bytes: Uint8Array) =>
    new Promise<{ err: grpc.ServiceError | null; res?: ExportTraceServiceResponse }>((resolve) => (c as unknown as { Export: ExportFn }).Export(bytes, (err, res) => resolve({ err, res })));
  return { call, close: () => c.close() };
}

/** The google.rpc.Status of a gRPC error's `grpc-status-details-bin` trailer, decoded by protobufjs. */
function detailsOf(err: grpc.ServiceError) {
  const bin = err.metadata.get('grpc-status-details-bin')[0];
  assert.ok(Buffer.isBuffer(bin), 'grpc-status-details-bin present');
  return oracleDecodeStatus(bin);
}

describe('stock gRPC exporter through a real TracerProvider', { timeout: 60_000 }, () => {
  for (const compression of [NONE, GZIP]) {
    test(`compression ${compression}: every span arrives, equal at the message level`, async () => {
      const { sink, port, metrics } = await receiverFor();
      const exporter = new ResultObserver(new GrpcExporter({ url: `http://127.0.0.1:${port}`, compression }));
      const spans = await sendThroughSdk(exporter, 40, 16);
      assert.equal(spans.length, 80);
      assert.ok(exporter.results.length >= 5);
      assert.deepEqual(exporter.results.map((r) => r.code), exporter.results.map(() => 0));
      assert.equal(diffReceived(expectedFromSdk(spans), sink.accepted.map((r) => r.data)), undefined);
      for (const r of sink.accepted) {
        assert.equal(r.receiver, 'otlp-grpc');
        assert.ok(r.protobuf && r.protobuf.length > 0, 'the request bytes are handed on');
      }
      assert.deepEqual(new Set(metrics.outcomes()), new Set(['accepted']));
      assert.equal(metrics.events.reduce((n, e) => n + e.acceptedSpans, 0), 80);
    });
  }
});

describe('backpressure', { timeout: 60_000 }, () => {
  test('UNAVAILABLE with a RetryInfo detail and grpc-retry-pushback-ms, for every reason', async () => {
    const sink = new RecordingSink(() => {
      throw new Backpressure('queue-full', 2.5);
    });
    const { target, metrics } = await receiverFor({ sink });
    const c = client(target);
    const { err } = await c.call(encodeTracesData(request(4)));
    c.close();
    assert.equal(err?.code, grpc.status.UNAVAILABLE);
    assert.match(err!.details, /queue-full/);
    const st = detailsOf(err!);
    assert.equal(st.code, grpc.status.UNAVAILABLE);
    assert.equal(st.message, err!.details);
    assert.equal(st.retryDelaySeconds, 2.5);
    assert.deepEqual(err!.metadata.get('grpc-retry-pushback-ms'), ['2500']);
    assert.deepEqual(metrics.events.map((e) => [e.outcome, e.refusedSpans]), [['refused', 4]]);
  });

  test('a sink refusing twice then accepting: a grpc-js client with a retry policy retries after the pushback, every span arrives once', async () => {
    const times: number[] = [];
    const sink = new RecordingSink((_r, n) => {
      times.push(Date.now());
      if (n < 2) throw new Backpressure('memory', 0.3);
    });
    const { target } = await receiverFor({ sink });
    const serviceConfig = {
      methodConfig: [
        {
          name: [{ service: SERVICE }],
          retryPolicy: { maxAttempts: 5, initialBackoff: '0.01s', maxBackoff: '2s', backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'] },
        },
      ],
    };
    const c = client(target, { 'grpc.service_config': JSON.stringify(serviceConfig) });
    const data = request(6);
    const { err, res } = await c.call(encodeTracesData(data));
    c.close();
    assert.equal(err, null);
    assert.deepEqual(res, { partialSuccess: undefined, unknownFields: undefined });
    assert.equal(sink.calls, 3);
    assert.equal(diffReceived(data, sink.accepted.map((r) => r.data)), undefined);
    assert.ok(times[1]! - times[0]! >= 280 && times[2]! - times[1]! >= 280, `retried after ${times[1]! - times[0]!} and ${times[2]! - times[1]!} ms`);
  });

  test('the stock JS gRPC exporter (0.223.1) does not retry at all: it reports UNAVAILABLE as a failed export', async () => {
    // Its transport resolves every gRPC error as a final failure and is not wrapped in the
    // retrying transport the HTTP exporters use; Go's and Java's OTLP/gRPC exporters do retry
    // UNAVAILABLE and read RetryInfo. Nothing is acknowledged here, so nothing is lost by the receiver.
    const sink = new RecordingSink(() => {
      throw new Backpressure('queue-full', 0);
    });
    const { port } = await receiverFor({ sink });
    const exporter = new ResultObserver(new GrpcExporter({ url: `http://127.0.0.1:${port}` }));
    await sendThroughSdk(exporter, 2, 10);
    assert.equal(exporter.results.length, 1);
    assert.equal(exporter.results[0]!.code, 1);
    assert.equal((exporter.results[0]!.error as grpc.ServiceError).code, grpc.status.UNAVAILABLE);
    assert.equal(sink.calls, 1);
    assert.equal(sink.accepted.length, 0);
  });
});

describe('sink answers', { timeout: 60_000 }, () => {
  test('partial success in the response', async () => {
    const sink = new RecordingSink(() => ({ rejectedSpans: 3, errorMessage: 'three spans too old' }));
    const { target, metrics } = await receiverFor({ sink });
    const c = client(target);
    const { err, res } = await c.call(encodeTracesData(request(5)));
    c.close();
    assert.equal(err, null);
    assert.deepEqual(res?.partialSuccess, { rejectedSpans: 3n, errorMessage: 'three spans too old', unknownFields: undefined });
    assert.deepEqual(metrics.events.map((e) => [e.outcome, e.acceptedSpans, e.refusedSpans]), [['partial', 2, 3]]);
  });

  test("the sink's InputError: INVALID_ARGUMENT with a BadRequest; anything else: INTERNAL, logged", async () => {
    let fail: Error = new InputError('tenant x is not accepted');
    const sink = new RecordingSink(() => {
      throw fail;
    });
    const { target, logged, metrics } = await receiverFor({ sink });
    const c = client(target);
    const bad = await c.call(encodeTracesData(request(1)));
    assert.equal(bad.err?.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(bad.err?.details, 'tenant x is not accepted');
    assert.deepEqual(detailsOf(bad.err!).badRequest, [{ field: '', description: 'tenant x is not accepted' }]);
    fail = new RangeError('offset out of range');
    const broken = await c.call(encodeTracesData(request(1)));
    c.close();
    assert.equal(broken.err?.code, grpc.status.INTERNAL);
    assert.equal(broken.err?.details, 'internal error in the receiver; see its log');
    assert.equal(logged.length, 1);
    assert.match(logged[0]!, /INTERNAL.*RangeError: offset out of range/s);
    assert.deepEqual(metrics.outcomes(), ['invalid', 'error']);
  });
});

describe('refusals, with raw calls', { timeout: 60_000 }, () => {
  test('malformed and truncated messages: INVALID_ARGUMENT naming the problem, with a BadRequest', async () => {
    const { target, sink, metrics } = await receiverFor();
    const c = client(target);
    const whole = encodeTracesData(request(10));
    for (const bytes of [Uint8Array.of(0x0a, 0x05, 0x01), whole.subarray(0, whole.length - 3), Uint8Array.of(0x00)]) {
      const { err } = await c.call(bytes);
      assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err!.details, /^malformed OTLP protobuf request: invalid protobuf \((truncated|field-zero)\) at byte \d+/);
      assert.equal(detailsOf(err!).badRequest?.[0]?.description, err!.details);
    }
    c.close();
    assert.equal(sink.calls, 0);
    assert.deepEqual(metrics.outcomes(), ['invalid', 'invalid', 'invalid']);
  });

  test('decodeOptions reach the decoder (copyBytes: ids no longer view the request bytes)', async () => {
    for (const copyBytes of [false, true]) {
      const { target, sink } = await receiverFor({ decodeOptions: { copyBytes } });
      const c = client(target);
      assert.equal((await c.call(encodeTracesData(request(1)))).err, null);
      c.close();
      const { data, protobuf } = sink.accepted[0]!;
      assert.equal(data.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.spanId.buffer === protobuf!.buffer, !copyBytes);
    }
  });

  test('an empty message is the empty request: OK, the sink is not called', async () => {
    const { target, sink } = await receiverFor();
    const c = client(target);
    const { err, res } = await c.call(new Uint8Array(0));
    c.close();
    assert.equal(err, null);
    assert.equal(res?.partialSuccess, undefined);
    assert.equal(sink.calls, 0);
  });

  test('above the message size limit: RESOURCE_EXHAUSTED without RetryInfo (final), plain or gzip (a bomb stops at the limit)', async () => {
    const LIMIT = 1024 * 1024;
    const { target, metrics } = await receiverFor({ maxReceiveMessageBytes: LIMIT });
    const plain = client(target);
    const big = await plain.call(Buffer.alloc(LIMIT + 1));
    plain.close();
    assert.equal(big.err?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(big.err?.metadata.get('grpc-status-details-bin').length, 0, 'no RetryInfo: clients must not retry');
    const zipped = client(target, { 'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip });
    const started = performance.now();
    const bomb = await zipped.call(Buffer.alloc(256 * 1024 * 1024)); // 256 MiB of zeros, ~256 KiB gzipped
    const elapsed = performance.now() - started;
    zipped.close();
    assert.equal(bomb.err?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(bomb.err!.details, /decompresses to a size larger than 1048576/);
    assert.ok(elapsed < 10_000, `${elapsed.toFixed(0)} ms (most of it the client compressing)`);
    assert.deepEqual(metrics.outcomes(), ['too-large', 'too-large']);
  });

  test('raw HTTP/2: a wrong content type is 415, a wrong path UNIMPLEMENTED, no message at all UNIMPLEMENTED', async () => {
    const { port, sink } = await receiverFor();
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const send = (path: string, contentType: string, body?: Buffer) =>
      new Promise<{ status: number; grpcStatus?: string; message?: string }>((resolve, reject) => {
        const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': contentType, te: 'trailers' });
        let status = 0;
        let grpcStatus: string | undefined;
        let message: string | undefined;
        stream.on('response', (h) => {
          status = Number(h[':status']);
          grpcStatus ??= h['grpc-status'] as string | undefined;
          message ??= h['grpc-message'] as string | undefined;
        });
        stream.on('trailers', (t) => {
          grpcStatus = t['grpc-status'] as string;
          message = decodeURIComponent(t['grpc-message'] as string);
        });
        stream.on('error', reject);
        stream.on('close', () => resolve({ status, grpcStatus, message }));
        stream.resume();
        stream.end(body);
      });
    const frame = (msg: Uint8Array) => Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), msg]).fill(msg.length, 4, 5);
    const ok = await send(`/${SERVICE}/Export`, 'application/grpc', frame(encodeTracesData(request(1))));
    assert.deepEqual([ok.status, ok.grpcStatus], [200, '0']);
    assert.equal(sink.spans(), 1);
    const wrongType = await send(`/${SERVICE}/Export`, 'application/json', Buffer.from('{}'));
    assert.equal(wrongType.status, 415);
    const wrongPath = await send(`/${SERVICE}/Exportt`, 'application/grpc', frame(encodeTracesData(request(1))));
    assert.equal(wrongPath.grpcStatus, String(grpc.status.UNIMPLEMENTED));
    const empty = await send(`/${SERVICE}/Export`, 'application/grpc');
    assert.equal(empty.grpcStatus, String(grpc.status.UNIMPLEMENTED));
    assert.match(decodeURIComponent(empty.message!), /no request message/);
    const cutFrame = await send(`/${SERVICE}/Export`, 'application/grpc', frame(encodeTracesData(request(3))).subarray(0, 20));
    assert.notEqual(cutFrame.grpcStatus, '0', 'a frame cut short is never OK');
    session.close();
    assert.equal(sink.spans(), 1);
  });
});

describe('guards and close()', { timeout: 60_000 }, () => {
  test('concurrency cap: beyond it UNAVAILABLE with RetryInfo; the admitted finish', async () => {
    // The cap is also each connection's HTTP/2 stream limit, so one connection's extra calls wait at
    // the client; the receiver-wide cap answers calls that come over other connections.
    const gate = deferred();
    const sink = new RecordingSink(() => gate.promise);
    const { target, receiver, metrics } = await receiverFor({ sink, maxConcurrentRequests: 2, overloadRetryAfterSeconds: 2 });
    const c = client(target);
    const first = c.call(encodeTracesData(request(1)));
    const second = c.call(encodeTracesData(request(1)));
    await waitFor(() => sink.calls >= 2, 'sink.calls >= 2');
    assert.equal(receiver.requestsInFlight, 2);
    const other = client(target, { 'grpc.use_local_subchannel_pool': 1 });
    const third = await other.call(encodeTracesData(request(1)));
    other.close();
    assert.equal(third.err?.code, grpc.status.UNAVAILABLE);
    assert.match(third.err!.details, /too many concurrent requests \(limit 2\)/);
    assert.equal(detailsOf(third.err!).retryDelaySeconds, 2);
    gate.resolve();
    assert.deepEqual([(await first).err, (await second).err], [null, null]);
    c.close();
    assert.deepEqual(metrics.outcomes().sort(), ['accepted', 'accepted', 'overloaded']);
  });

  test('close() waits for calls in flight, which are answered', async () => {
    const gate = deferred();
    const sink = new RecordingSink(() => gate.promise);
    const { target, receiver } = await receiverFor({ sink });
    const c = client(target);
    const pending = c.call(encodeTracesData(request(2)));
    await waitFor(() => sink.calls >= 1, 'sink.calls >= 1');
    const closing = receiver.close(5000);
    await new Promise((r) => setTimeout(r, 50));
    gate.resolve();
    assert.equal((await pending).err, null);
    await closing;
    c.close();
    assert.equal(sink.accepted.length, 1);
  });

  test('close() at its deadline answers what is still waiting UNAVAILABLE (retryable), then closes', async () => {
    const sink = new RecordingSink(() => new Promise(() => {}));
    const { target, receiver, metrics } = await receiverFor({ sink });
    const c = client(target);
    const pending = c.call(encodeTracesData(request(2)));
    await waitFor(() => sink.calls >= 1, 'sink.calls >= 1');
    const started = performance.now();
    await receiver.close(200);
    const elapsed = performance.now() - started;
    const { err } = await pending;
    c.close();
    assert.equal(err?.code, grpc.status.UNAVAILABLE);
    assert.match(err!.details, /shutting down/);
    assert.ok(elapsed >= 190 && elapsed < 3000, `closed in ${elapsed.toFixed(0)} ms`);
    assert.deepEqual(metrics.outcomes(), ['overloaded']);
  });
});

describe('TLS', { timeout: 60_000 }, () => {
  const tls = selfSignedCertificate();
  const skip = tls ? false : 'openssl is not installed (node:crypto cannot make X.509 certificates): no certificate to test with';
  after(() => tls?.cleanup());

  test('the stock exporter over TLS with a self-signed certificate made at test time', { skip }, async () => {
    const { sink, port } = await receiverFor({ tls: { certFile: tls!.certFile, keyFile: tls!.keyFile } });
    const exporter = new ResultObserver(new GrpcExporter({ url: `https://localhost:${port}`, credentials: grpc.credentials.createSsl(tls!.cert), compression: GZIP }));
    const spans = await sendThroughSdk(exporter, 5, 100);
    assert.deepEqual(exporter.results.map((r) => r.code), [0]);
    assert.equal(diffReceived(expectedFromSdk(spans), sink.accepted.map((r) => r.data)), undefined);
  });

  test('a plaintext client cannot talk to the TLS receiver', { skip }, async () => {
    const { port, sink } = await receiverFor({ tls: { certFile: tls!.certFile, keyFile: tls!.keyFile } });
    const c = client(`localhost:${port}`);
    const { err } = await c.call(encodeTracesData(request(1)));
    c.close();
    assert.equal(err?.code, grpc.status.UNAVAILABLE);
    assert.equal(sink.calls, 0);
  });
});
