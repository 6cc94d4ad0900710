// Tracezip frames over HTTP between a real encoder and a real decoder on loopback: applied and
// duplicate frames are acknowledged, a gap or a restarted gateway answers resync and a new epoch
// recovers, a refusing sink never lets a frame be acknowledged without its spans, damaged frames
// are refused, the token and the size limit are enforced, and streams do not wait for each other.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TracezipDecoder, TracezipEncoder } from '../../src/tracezip/index.js';
import { countSpans, tracesDataEqual, type TracesData } from '../../src/model/index.js';
import { trafficData } from '../../src/generator/index.js';
import { Backpressure, type ReceivedRequest, type TraceSink } from '../../src/pipeline/sink.js';
import { FrameHandler, FrameSender, serveFrameRequest, TRACEZIP_PATH, type FrameEndpointOptions } from '../../src/pipeline/tracezip-transport.js';

const batches: TracesData[] = [...trafficData({ seed: 11, traces: 60, batchSpans: 40 })];

/** A sink that records what it was given and can be told to refuse. */
class RecordingSink implements TraceSink {
  got: TracesData[] = [];
  refuse: (() => Error | undefined) | undefined;
  async accept(r: ReceivedRequest): Promise<void> {
    const e = this.refuse?.();
    if (e) throw e;
    this.got.push(r.data);
  }
}

interface Gateway {
  server: Server;
  url: string;
  sink: RecordingSink;
  handler: FrameHandler;
}

async function gateway(options: FrameEndpointOptions = {}): Promise<Gateway> {
  const sink = new RecordingSink();
  const handler = new FrameHandler(new TracezipDecoder(), sink);
  const server = createServer((req, res) => {
    if (req.url === TRACEZIP_PATH && req.method === 'POST') void serveFrameRequest(handler, req, res, options);
    else res.writeHead(404).end();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sink, handler };
}

const close = (g: Gateway): Promise<void> => new Promise((ok) => g.server.close(() => ok()));

describe('Tracezip over HTTP', () => {
  let g: Gateway;
  let sender: FrameSender;
  before(async () => {
    g = await gateway();
    sender = new FrameSender({ url: g.url });
  });
  after(async () => {
    sender.close();
    await close(g);
  });

  it('acknowledges applied frames and their duplicates; the gateway rebuilds every span', async () => {
    g.sink.got = [];
    const enc = new TracezipEncoder();
    for (const b of batches.slice(0, 3)) {
      const frame = enc.encode(b);
      assert.deepEqual(await sender.send(frame), { kind: 'acknowledged', duplicate: false, spans: countSpans(b) });
      assert.deepEqual(await sender.send(frame), { kind: 'acknowledged', duplicate: true, spans: 0 }, 'a resent frame is a duplicate');
    }
    assert.equal(g.sink.got.length, 3);
    g.sink.got.forEach((d, i) => assert.ok(tracesDataEqual(d, batches[i]!)));
  });

  it('answers resync on a gap and on a restarted gateway; a new epoch recovers without loss', async () => {
    g.sink.got = [];
    const enc = new TracezipEncoder();
    assert.equal((await sender.send(enc.encode(batches[0]!))).kind, 'acknowledged');
    enc.encode(batches[1]!); // lost on the way
    const gap = await sender.send(enc.encode(batches[2]!));
    assert.deepEqual(gap, { kind: 'resync', reason: 'gap' });
    enc.resync();
    assert.equal((await sender.send(enc.encode(batches[1]!))).kind, 'acknowledged');
    assert.equal((await sender.send(enc.encode(batches[2]!))).kind, 'acknowledged');

    // The gateway restarts: its decoder has no state for the stream.
    g.handler.decoder.dropStream(enc.streamId);
    const restarted = await sender.send(enc.encode(batches[3]!));
    assert.deepEqual(restarted, { kind: 'resync', reason: 'unknown-stream' });
    enc.resync();
    assert.equal((await sender.send(enc.encode(batches[3]!))).kind, 'acknowledged');
    assert.deepEqual(
      g.sink.got.map((d) => countSpans(d)),
      [0, 1, 2, 3].map((i) => countSpans(batches[i]!)),
    );
    g.sink.got.forEach((d, i) => assert.ok(tracesDataEqual(d, batches[i]!)));
  });

  it('never acknowledges a frame whose spans the sink refused: busy with Retry-After, then resync', async () => {
    g.sink.got = [];
    const enc = new TracezipEncoder();
    assert.equal((await sender.send(enc.encode(batches[0]!))).kind, 'acknowledged');
    let refusals = 1;
    g.sink.refuse = () => (refusals-- > 0 ? new Backpressure('queue-full', 2) : undefined);
    const frame = enc.encode(batches[1]!);
    const busy = await sender.send(frame);
    assert.deepEqual(busy, { kind: 'retry', reason: 'HTTP 429', retryAfterMs: 2000 });
    // The same frame again: the decoder had applied it, but its spans never reached the sink.
    assert.deepEqual(await sender.send(frame), { kind: 'resync', reason: 'unknown-stream' });
    enc.resync();
    assert.equal((await sender.send(enc.encode(batches[1]!))).kind, 'acknowledged');
    g.sink.refuse = () => new Error('disk on fire');
    assert.deepEqual(await sender.send(enc.encode(batches[2]!)), { kind: 'resync', reason: 'sink-failed' });
    g.sink.refuse = undefined;
    enc.resync();
    assert.equal((await sender.send(enc.encode(batches[2]!))).kind, 'acknowledged');
    assert.equal(g.sink.got.length, 3, 'each batch reached the sink exactly once');
    g.sink.got.forEach((d, i) => assert.ok(tracesDataEqual(d, batches[i]!)));
  });

  it('refuses damaged frames and non-frames as malformed, and the stream recovers', async () => {
    const enc = new TracezipEncoder();
    assert.equal((await sender.send(enc.encode(batches[0]!))).kind, 'acknowledged');
    const frame = enc.encode(batches[1]!);
    const damaged = Uint8Array.from(frame);
    damaged[damaged.length >> 1]! ^= 0x40;
    const out = await sender.send(damaged);
    assert.equal(out.kind, 'malformed');
    assert.match((out as { error: string }).error, /CRC|checksum/i);
    assert.equal((await sender.send(frame)).kind, 'acknowledged', 'the undamaged frame still applies');
    assert.equal((await sender.send(Buffer.from('{"resourceSpans":[]}'))).kind, 'malformed');
    assert.equal((await sender.send(new Uint8Array())).kind, 'malformed');
  });

  it('keeps streams apart: one stream\'s gap does not disturb another', async () => {
    g.sink.got = [];
    const a = new TracezipEncoder();
    const b = new TracezipEncoder();
    const results = await Promise.all(batches.slice(0, 6).map((batch, i) => sender.send((i % 2 ? a : b).encode(batch))));
    assert.ok(results.every((r) => r.kind === 'acknowledged'));
    b.encode(batches[6]!); // lost
    assert.equal((await sender.send(b.encode(batches[7]!))).kind, 'resync');
    assert.equal((await sender.send(a.encode(batches[8]!))).kind, 'acknowledged');
  });
});

describe('the frame endpoint', () => {
  it('requires the bearer token when one is set', async () => {
    const g = await gateway({ bearerToken: 's3cret' });
    const enc = new TracezipEncoder();
    const frame = enc.encode(batches[0]!);
    const none = new FrameSender({ url: g.url });
    const wrong = new FrameSender({ url: g.url, headers: { authorization: 'Bearer s3creT' } });
    const right = new FrameSender({ url: g.url, headers: { authorization: 'Bearer s3cret' } });
    try {
      assert.deepEqual(await none.send(frame), { kind: 'refused', status: 401, reason: `HTTP 401 {"result":"unauthorized"} (the bearer token does not match the gateway's: auth.bearer_token)` });
      assert.equal((await wrong.send(frame)).kind, 'refused');
      assert.equal(g.sink.got.length, 0);
      assert.equal((await right.send(frame)).kind, 'acknowledged');
    } finally {
      for (const s of [none, wrong, right]) s.close();
      await close(g);
    }
  });

  it('refuses a frame over the size limit with 413 without reading it all', async () => {
    const g = await gateway({ maxFrameBytes: 1000 });
    const enc = new TracezipEncoder({ compression: 'none' });
    const frame = enc.encode(batches[0]!);
    assert.ok(frame.length > 1000);
    const sender = new FrameSender({ url: g.url });
    try {
      const out = await sender.send(frame);
      assert.equal(out.kind, 'refused');
      assert.equal((out as { status: number }).status, 413);
      // A body without a length (chunked) is cut off as it streams in.
      const status = await new Promise<number>((ok, fail) => {
        const req = httpRequest(`${g.url}${TRACEZIP_PATH}`, { method: 'POST', headers: { 'transfer-encoding': 'chunked', 'content-type': 'application/x-tracezip' } }, (res) => {
          res.resume();
          ok(res.statusCode!);
        });
        req.on('error', fail);
        for (let i = 0; i < 10; i++) req.write(Buffer.alloc(500));
        req.end();
      });
      assert.equal(status, 413);
      assert.equal(g.sink.got.length, 0);
    } finally {
      sender.close();
      await close(g);
    }
  });
});
