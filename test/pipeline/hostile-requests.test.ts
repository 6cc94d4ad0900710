// Hostile and broken requests to every endpoint of a running agent and gateway (in this process, on
// loopback, with their real receivers, queues and decoder): malformed, oversized (declared, chunked,
// and a gzip bomb), truncated (a short body, a body cut off with the connection, a cut frame) and
// wrong Content-Type / Content-Encoding / method, on OTLP/HTTP, OTLP/gRPC, the gateway's Tracezip
// frame endpoint, /metrics and /healthz. Each gets its 4xx (or gRPC status) with a message; then both
// services are still healthy, and the traffic that follows arrives whole and exactly once, including
// a Tracezip stream that hostile frames carrying its own stream id were aimed at in between: a broken
// frame can make a stream resync, never give it a wrong or a lost span.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { countSpans, type TracesData } from '../../src/model/index.js';
import { encodeTracesData, encodeTracesJson } from '../../src/otlp/index.js';
import { trafficData } from '../../src/generator/index.js';
import { TracezipEncoder } from '../../src/tracezip/index.js';
import { Agent, Gateway, resolveServeConfig, traceServiceDefinition } from '../../src/pipeline/index.js';
import { FrameSender, TRACEZIP_CONTENT_TYPE } from '../../src/pipeline/tracezip-transport.js';
import { FaultyBackend, spanIds, waitUntil } from './fault-harness.js';
import { diffReceived, oracleDecodeStatus, rawRequest, type RawResponse } from './receiver-helpers.js';

const LIMIT = 256 * 1024;
const quiet = (): void => {};
const PROTO = { 'content-type': 'application/x-protobuf' };
const JSON_TYPE = { 'content-type': 'application/json' };
const FRAME = { 'content-type': TRACEZIP_CONTENT_TYPE };

/** A body whose first bytes are a field-1 length-delimited tag claiming more bytes than follow. */
const MALFORMED_PROTO = Uint8Array.of(0x0a, 0x7f, 0x01, 0x02);

/** The message of a refusal: a google.rpc.Status (protobuf or JSON) for OTLP, the JSON answer for frames, text otherwise. */
function messageOf(res: RawResponse): string {
  const type = String(res.headers['content-type'] ?? '');
  if (type.startsWith('application/x-protobuf')) return oracleDecodeStatus(res.body).message;
  if (type.startsWith('application/json')) {
    const v = JSON.parse(res.body.toString('utf8')) as { message?: string; error?: string; result?: string };
    return v.message ?? v.error ?? v.result ?? '';
  }
  return res.body.toString('utf8');
}

function assertRefused(res: RawResponse, status: number, pattern: RegExp, what: string): void {
  assert.equal(res.status, status, `${what}: status ${res.status}, body ${res.body.subarray(0, 200).toString()}`);
  const message = messageOf(res);
  assert.ok(message.length > 0, `${what}: the refusal says why`);
  assert.match(message, pattern, `${what}: ${message}`);
}

/** A request whose body stops short of its Content-Length and whose connection is then cut. */
function cutOff(port: number, path: string, contentType: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${contentType}\r\nContent-Length: 5000\r\n\r\n`);
      socket.write(Buffer.alloc(100, 7));
      setTimeout(() => socket.destroy(), 50);
    });
    socket.on('close', () => resolve());
    socket.on('error', () => undefined);
  });
}

/** A request of `bytes` sent in chunks without a Content-Length. */
function chunked(bytes: number): Uint8Array[] {
  const chunk = new Uint8Array(16 * 1024).fill(0x0a);
  return Array.from({ length: Math.ceil(bytes / chunk.length) }, () => chunk);
}

const TraceServiceClient = grpc.makeGenericClientConstructor(traceServiceDefinition, 'TraceService');
type ExportFn = (req: Uint8Array, cb: (err: grpc.ServiceError | null) => void) => void;

function grpcCall(port: number, bytes: Uint8Array): Promise<grpc.ServiceError | null> {
  const c = new TraceServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1 });
  return new Promise((resolve) =>
    (c as unknown as { Export: ExportFn }).Export(bytes, (err) => {
      c.close();
      resolve(err);
    }),
  );
}

describe('hostile requests to every endpoint of an agent and a gateway', { timeout: 180_000 }, () => {
  let dir: string;
  let backend: FaultyBackend;
  let gateway: Gateway;
  let agent: Agent;
  let agentBase: string;
  let gatewayBase: string;
  const sent: TracesData[] = [];
  const valid = [...trafficData({ seed: 21, traces: 120, batchSpans: 50 })];
  const big = encodeTracesData(valid[0]!);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'slimtrace-hostile-'));
    backend = await new FaultyBackend().start();
    const limits = { limits: { max_request_bytes: '256KiB' }, retry: { initial_interval: '50ms', max_interval: '500ms' } };
    gateway = await Gateway.start(resolveServeConfig(limits, { role: 'gateway', listen: '127.0.0.1:0', 'grpc.listen': '127.0.0.1:0', 'grpc.enabled': true, 'backend.url': backend.url, 'queue.dir': join(dir, 'gq') }), { log: quiet });
    gatewayBase = `http://127.0.0.1:${gateway.address.port}`;
    agent = await Agent.start(resolveServeConfig(limits, { role: 'agent', listen: '127.0.0.1:0', 'grpc.listen': '127.0.0.1:0', gateways: gatewayBase, 'queue.dir': join(dir, 'aq'), 'batch.linger': '20ms' }), { log: quiet });
    agentBase = `http://127.0.0.1:${agent.addresses.http.port}`;
  });
  after(async () => {
    await agent?.stop();
    await gateway?.stop();
    await backend?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const role of ['agent', 'gateway'] as const) {
    it(`${role}: OTLP/HTTP /v1/traces refuses each broken request with its 4xx and a message`, async () => {
      const base = role === 'agent' ? agentBase : gatewayBase;
      const port = Number(new URL(base).port);
      const url = `${base}/v1/traces`;
      const cases: [string, () => Promise<RawResponse>, number, RegExp][] = [
        ['malformed protobuf', () => rawRequest(url, { headers: PROTO, body: MALFORMED_PROTO }), 400, /malformed|invalid protobuf/i],
        ['malformed JSON', () => rawRequest(url, { headers: JSON_TYPE, body: '{"resourceSpans": [' }), 400, /JSON/i],
        ['JSON of the wrong shape', () => rawRequest(url, { headers: JSON_TYPE, body: '{"resourceSpans": 7}' }), 400, /resourceSpans|array|expected/i],
        ['truncated protobuf', () => rawRequest(url, { headers: PROTO, body: big.subarray(0, big.length - 7) }), 400, /truncated|invalid protobuf/i],
        ['truncated gzip', () => rawRequest(url, { headers: { ...PROTO, 'content-encoding': 'gzip' }, body: gzipSync(big).subarray(0, 200) }), 400, /gzip|compress|inflate|unexpected end/i],
        ['gzip header on a plain body', () => rawRequest(url, { headers: { ...PROTO, 'content-encoding': 'gzip' }, body: big }), 400, /gzip|compress|inflate|header/i],
        ['declared body over the limit', () => rawRequest(url, { headers: PROTO, body: new Uint8Array(LIMIT + 1) }), 413, /limit/i],
        ['chunked body over the limit', () => rawRequest(url, { headers: PROTO, chunks: chunked(LIMIT + 64 * 1024) }), 413, /limit/i],
        ['gzip bomb', () => rawRequest(url, { headers: { ...PROTO, 'content-encoding': 'gzip' }, body: gzipSync(Buffer.alloc(8 * LIMIT)) }), 413, /limit/i],
        ['text/plain', () => rawRequest(url, { headers: { 'content-type': 'text/plain' }, body: 'hello' }), 415, /Content-Type/i],
        ['no Content-Type', () => rawRequest(url, { headers: {}, body: big }), 415, /Content-Type/i],
        ['the frame Content-Type on the OTLP path', () => rawRequest(url, { headers: FRAME, body: big }), 415, /Content-Type/i],
        ['brotli', () => rawRequest(url, { headers: { ...PROTO, 'content-encoding': 'br' }, body: big }), 415, /Content-Encoding/i],
        ['GET', () => rawRequest(url, { method: 'GET', headers: PROTO }), 405, /not allowed/i],
        ['an unknown path', () => rawRequest(`${base}/v1/logs`, { headers: PROTO, body: big }), 404, /no OTLP endpoint/i],
        ['POST /metrics', () => rawRequest(`${base}/metrics`, { headers: PROTO, body: big }), 405, /not allowed/i],
        ['POST /healthz', () => rawRequest(`${base}/healthz`, { headers: PROTO, body: big }), 405, /not allowed/i],
      ];
      for (const [what, send, status, pattern] of cases) assertRefused(await send(), status, pattern, `${role} ${what}`);
      // Cut off mid-body: nothing to answer; the server just lets go of it.
      await cutOff(port, '/v1/traces', 'application/x-protobuf');
      assert.equal((await rawRequest(`${base}/healthz`, { method: 'GET' })).status, 200, `${role} healthy after the barrage`);
    });

    it(`${role}: OTLP/gRPC refuses malformed, truncated and oversized messages with INVALID_ARGUMENT / RESOURCE_EXHAUSTED`, async () => {
      const port = role === 'agent' ? agent.addresses.grpc!.port : gateway.addresses.grpc!.port;
      for (const bytes of [MALFORMED_PROTO, big.subarray(0, big.length - 7)]) {
        const err = await grpcCall(port, bytes);
        assert.equal(err?.code, grpc.status.INVALID_ARGUMENT, String(err));
        assert.match(err!.details, /malformed|invalid protobuf/i);
      }
      const err = await grpcCall(port, new Uint8Array(LIMIT + 1024));
      assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED, String(err));
      assert.ok(err!.details.length > 0);
    });
  }

  it('gateway: the Tracezip frame endpoint refuses each broken frame with its 4xx and a message', async () => {
    const url = `${gatewayBase}/v1/tracezip`;
    const frame = new TracezipEncoder().encode(valid[1]!);
    const cases: [string, () => Promise<RawResponse>, number, RegExp][] = [
      ['garbage', () => rawRequest(url, { headers: FRAME, body: 'not a frame at all, just text' }), 400, /malformed|magic|frame/i],
      ['an empty body', () => rawRequest(url, { headers: FRAME, body: '' }), 400, /malformed|magic|frame/i],
      ['a cut frame', () => rawRequest(url, { headers: FRAME, body: frame.subarray(0, frame.length >> 1) }), 400, /.+/],
      ['a frame with a flipped byte', () => rawRequest(url, { headers: FRAME, body: flip(frame, frame.length - 5) }), 400, /.+/],
      ['an OTLP body', () => rawRequest(url, { headers: FRAME, body: big }), 400, /malformed|magic|frame/i],
      ['declared body over the limit', () => rawRequest(url, { headers: FRAME, body: new Uint8Array(LIMIT + 1) }), 413, /too-large/],
      ['chunked body over the limit', () => rawRequest(url, { headers: FRAME, chunks: chunked(LIMIT + 64 * 1024) }), 413, /too-large/],
      ['an OTLP Content-Type', () => rawRequest(url, { headers: PROTO, body: frame }), 415, /Content-Type/],
      ['no Content-Type', () => rawRequest(url, { headers: {}, body: frame }), 415, /Content-Type/],
      ['gzip Content-Encoding', () => rawRequest(url, { headers: { ...FRAME, 'content-encoding': 'gzip' }, body: gzipSync(frame) }), 415, /Content-Encoding/],
      ['GET', () => rawRequest(url, { method: 'GET' }), 405, /not allowed/],
    ];
    for (const [what, send, status, pattern] of cases) assertRefused(await send(), status, pattern, `frame endpoint, ${what}`);
    await cutOff(gateway.address.port, '/v1/tracezip', TRACEZIP_CONTENT_TYPE);
    assert.equal((await rawRequest(`${gatewayBase}/healthz`, { method: 'GET' })).status, 200);
  });

  it('afterwards both carry traffic whole and exactly once, a Tracezip stream under fire included', async () => {
    // OTLP through the agent.
    for (const b of valid.slice(2, 12)) {
      const res = await rawRequest(`${agentBase}/v1/traces`, { headers: PROTO, body: encodeTracesData(b) });
      assert.equal(res.status, 200);
      sent.push(b);
    }
    // JSON to the gateway, as a Collector would send.
    for (const b of valid.slice(12, 16)) {
      const res = await rawRequest(`${gatewayBase}/v1/traces`, { headers: JSON_TYPE, body: encodeTracesJson(b) });
      assert.equal(res.status, 200);
      sent.push(b);
    }
    // A Tracezip stream (the victim) with hostile frames carrying its stream id sent between its own.
    const victim = new TracezipEncoder();
    const sender = new FrameSender({ url: gatewayBase });
    const hostile: Uint8Array[] = [];
    let resyncs = 0;
    try {
      for (const b of valid.slice(16, 40)) {
        let frame = victim.encode(b);
        for (let tries = 0; ; tries++) {
          assert.ok(tries < 5, 'the victim stream recovers');
          const out = await sender.send(frame);
          if (out.kind === 'acknowledged') break;
          assert.equal(out.kind, 'resync', JSON.stringify(out));
          resyncs++;
          victim.resync();
          frame = victim.encode(b);
        }
        sent.push(b);
        // The last frame again (an answer lost): duplicate, not applied twice.
        assert.equal((await sender.send(frame)).kind, 'acknowledged');
        // Broken frames naming the victim's stream: a cut copy, a copy with a flipped byte, its header alone.
        for (const bad of [frame.subarray(0, frame.length - 9), flip(frame, frame.length >> 1), frame.subarray(0, 24)]) {
          const res = await rawRequest(`${gatewayBase}/v1/tracezip`, { headers: FRAME, body: bad });
          assert.ok(res.status === 400 || res.status === 409, `a broken frame is refused (${res.status} ${res.body.toString()})`);
          hostile.push(bad);
        }
      }
    } finally {
      sender.close();
    }
    const expected = sent.flatMap((b) => spanIds(b));
    await waitUntil(() => backend.missing(expected).length === 0, 'every span at the backend', 60_000);
    assert.deepEqual(backend.duplicates(), { spans: 0, copies: 0 }, 'nothing arrived twice');
    assert.equal(backend.spans, expected.length, 'nothing arrived that was not sent');
    assert.equal(expected.length, sent.reduce((n, b) => n + countSpans(b), 0));
    assert.equal(diffReceived({ resourceSpans: sent.flatMap((b) => b.resourceSpans) }, backend.received), undefined, 'equal at the message level');
    assert.ok(hostile.length > 0);
    void resyncs; // how often the victim had to resync depends on what the broken frames touched
  });
});

function flip(frame: Uint8Array, at: number): Uint8Array {
  const copy = Uint8Array.from(frame);
  copy[at]! ^= 0xff;
  return copy;
}
