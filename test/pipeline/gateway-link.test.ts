// The agent's gateway link against real frame endpoints on loopback: failover from a dead gateway to
// a live one (which resyncs), the same frame resent after a busy answer, a batch split in halves on
// 413, plain OTLP when frames keep being refused as malformed, and patience with a refusing gateway.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TracezipDecoder } from '../../src/tracezip/index.js';
import { countSpans, tracesDataEqual, type TracesData } from '../../src/model/index.js';
import { decodeTracesData, encodeTracesData } from '../../src/otlp/index.js';
import { trafficData } from '../../src/generator/index.js';
import { RequestTooLargeError, type ReceivedRequest, type TraceSink } from '../../src/pipeline/sink.js';
import { FrameHandler, serveFrameRequest, TRACEZIP_PATH, type FrameEndpointOptions } from '../../src/pipeline/tracezip-transport.js';
import { GatewayLink, splitBatch } from '../../src/pipeline/gateway-link.js';

const batches: TracesData[] = [...trafficData({ seed: 5, traces: 40, batchSpans: 60 })];
const FAST = { initialIntervalMs: 5, maxIntervalMs: 20 };

interface Endpoint {
  server: Server;
  url: string;
  got: TracesData[];
  otlp: TracesData[];
  frames: number;
}

type Override = (req: IncomingMessage, res: ServerResponse, frames: number) => boolean;

async function endpoint(options: FrameEndpointOptions = {}, override?: Override): Promise<Endpoint> {
  const e: Endpoint = { server: undefined as unknown as Server, url: '', got: [], otlp: [], frames: 0 };
  const sink: TraceSink = { accept: async (r: ReceivedRequest) => void e.got.push(r.data) };
  const handler = new FrameHandler(new TracezipDecoder(), sink);
  e.server = createServer((req, res) => {
    if (req.url === TRACEZIP_PATH) {
      e.frames++;
      if (override?.(req, res, e.frames)) return;
      void serveFrameRequest(handler, req, res, options);
    } else if (req.url === '/v1/traces') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        e.otlp.push(decodeTracesData(Buffer.concat(chunks)));
        res.writeHead(200).end();
      });
    } else res.writeHead(404).end();
  });
  await new Promise<void>((ok) => e.server.listen(0, '127.0.0.1', ok));
  e.url = `http://127.0.0.1:${(e.server.address() as AddressInfo).port}`;
  return e;
}

const close = (e: Endpoint): Promise<void> => new Promise((ok) => e.server.close(() => ok()));
const spansOf = (list: TracesData[]): number => list.reduce((n, d) => n + countSpans(d), 0);

describe('GatewayLink', () => {
  it('fails over from a gateway that died to the next, which resyncs; then stays there', async () => {
    const first = await endpoint();
    const second = await endpoint();
    const events: string[] = [];
    // Stream id 0 starts on the first gateway of the list.
    const link = new GatewayLink(
      { gateways: [first.url, second.url], retry: FAST, failoverAfter: 2, encoder: { streamId: 0n } },
      { onFailover: (from, to) => events.push(`failover ${new URL(from).port}->${new URL(to).port}`), onResync: (r) => events.push(`resync ${r}`) },
    );
    try {
      for (const b of batches.slice(0, 2)) await link.deliver(b);
      first.server.closeAllConnections();
      await close(first);
      for (const b of batches.slice(2, 5)) await link.deliver(b);
      assert.deepEqual(events, [`failover ${new URL(first.url).port}->${new URL(second.url).port}`, 'resync unknown-stream']);
      assert.equal(first.got.length, 2);
      assert.equal(second.got.length, 3);
      [...first.got, ...second.got].forEach((d, i) => assert.ok(tracesDataEqual(d, batches[i]!)));
    } finally {
      link.close();
      await close(second);
    }
  });

  it('takes a batch factory: made again for a resync (zstd stream) and a split, every span delivered equal', async () => {
    const first = await endpoint();
    const second = await endpoint({ maxFrameBytes: 6000 });
    const link = new GatewayLink({ gateways: [first.url, second.url], retry: FAST, failoverAfter: 1, encoder: { streamId: 0n, compression: 'zstd-stream', zstdLevel: 3 } });
    let made = 0;
    const factory = (b: TracesData) => (): TracesData => {
      made++;
      // A fresh copy each time, as the TracezipExporter converts the SDK's spans again.
      return decodeTracesData(encodeTracesData(b));
    };
    try {
      await link.deliver(factory(batches[0]!));
      assert.equal(made, 1, 'made once when the first frame is taken');
      first.server.closeAllConnections();
      await close(first);
      made = 0;
      const big: TracesData = { resourceSpans: batches.slice(1, 5).flatMap((b) => b.resourceSpans) };
      await link.deliver(factory(big)); // fails over, resyncs, then splits on 413: made again each time
      assert.ok(made >= 2, `made ${made} times`);
      assert.ok(tracesDataEqual(first.got[0]!, batches[0]!));
      assert.equal(spansOf(second.got), countSpans(big));
    } finally {
      link.close();
      await close(second);
    }
  });

  it('spreads streams over the gateways by stream id', () => {
    const urls = ['http://a:1', 'http://b:1', 'http://c:1'];
    const picked = new Set<string>();
    for (let id = 0n; id < 6n; id++) picked.add(new GatewayLink({ gateways: urls, encoder: { streamId: id } }).gateway);
    assert.equal(picked.size, 3);
  });

  it('resends the same frame after a busy answer: the gateway sees it once', async () => {
    const e = await endpoint({}, (_req, res, n) => {
      if (n !== 2) return false;
      res.writeHead(503, { 'retry-after': '0', 'content-type': 'application/json' }).end('{"result":"busy","reason":"shutting-down","retryAfterSeconds":0}');
      return true;
    });
    const link = new GatewayLink({ gateways: [e.url], retry: FAST });
    try {
      for (const b of batches.slice(0, 3)) await link.deliver(b);
      assert.equal(e.frames, 4);
      assert.equal(e.got.length, 3);
      e.got.forEach((d, i) => assert.ok(tracesDataEqual(d, batches[i]!)));
    } finally {
      link.close();
      await close(e);
    }
  });

  it('splits a batch whose frame is over the gateway\'s limit', async () => {
    const e = await endpoint({ maxFrameBytes: 3000 });
    const link = new GatewayLink({ gateways: [e.url], retry: FAST, encoder: { compression: 'none' } });
    const big: TracesData = { resourceSpans: batches.slice(0, 4).flatMap((b) => b.resourceSpans) };
    try {
      await link.deliver(big);
      assert.ok(e.got.length > 1, `split into ${e.got.length} frames`);
      assert.equal(spansOf(e.got), countSpans(big));
    } finally {
      link.close();
      await close(e);
    }
  });

  it('after a 413, splits later batches before sending them: no refused frame each time', async () => {
    const e = await endpoint({ maxFrameBytes: 3000 });
    let refused = 0;
    const link = new GatewayLink({ gateways: [e.url], retry: FAST, encoder: { compression: 'none' } }, { onFrame: (o) => void (o.kind === 'refused' && refused++) });
    const big = (from: number): TracesData => ({ resourceSpans: batches.slice(from, from + 4).flatMap((b) => b.resourceSpans) });
    try {
      await link.deliver(big(0));
      const first = refused;
      assert.ok(first > 0, 'the first batch met 413');
      await link.deliver(big(0));
      assert.ok(refused - first < first, `fewer refusals the second time (${refused - first} after ${first})`);
      assert.equal(spansOf(e.got), 2 * countSpans(big(0)));
    } finally {
      link.close();
      await close(e);
    }
  });

  it('splits a batch whose spans decode to more than the gateway\'s sink takes (413 from the sink)', async () => {
    const limit = 2 * 1024;
    const got: TracesData[] = [];
    const sink: TraceSink = {
      accept: async (r: ReceivedRequest) => {
        const bytes = encodeTracesData(r.data).length;
        if (bytes > limit) throw new RequestTooLargeError(bytes, limit, `${bytes} bytes over ${limit}`);
        got.push(r.data);
      },
    };
    const handler = new FrameHandler(new TracezipDecoder(), sink);
    const server = createServer((req, res) => void serveFrameRequest(handler, req, res));
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const link = new GatewayLink({ gateways: [`http://127.0.0.1:${(server.address() as AddressInfo).port}`], retry: FAST });
    const big: TracesData = { resourceSpans: batches.slice(0, 4).flatMap((b) => b.resourceSpans) };
    try {
      await link.deliver(big);
      assert.ok(got.length > 1, `split into ${got.length} frames`);
      assert.equal(spansOf(got), countSpans(big));
    } finally {
      link.close();
      await new Promise((ok) => server.close(ok));
    }
  });

  it('sends plain OTLP when frames keep being refused as malformed', async () => {
    const e = await endpoint({}, (_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"result":"malformed","error":"checksum"}');
      return true;
    });
    let fallbacks = 0;
    const link = new GatewayLink({ gateways: [e.url], retry: FAST }, { onFallback: () => fallbacks++ });
    try {
      await link.deliver(batches[0]!);
      assert.equal(fallbacks, 1);
      assert.equal(e.otlp.length, 1);
      assert.ok(tracesDataEqual(e.otlp[0]!, batches[0]!));
    } finally {
      link.close();
      await close(e);
    }
  });

  it('keeps the batch while a gateway refuses it (401): retried with backoff until stopped, never dropped', async () => {
    const e = await endpoint({ bearerToken: 'right' });
    const retries: string[] = [];
    const link = new GatewayLink({ gateways: [e.url], retry: FAST, http: { headers: { authorization: 'Bearer wrong' } } }, { onRetry: (r) => retries.push(r) });
    const ac = new AbortController();
    try {
      const p = link.deliver(batches[0]!, ac.signal);
      await new Promise((ok) => setTimeout(ok, 100));
      ac.abort(new Error('stop'));
      await assert.rejects(p, /stop/);
      assert.ok(retries.length >= 2 && retries.every((r) => r.includes('unauthorized')), retries.join('; '));
      assert.equal(e.got.length, 0);
    } finally {
      link.close();
      await close(e);
    }
  });

  it('splitBatch halves by spans and keeps every span once', () => {
    const whole = batches[0]!;
    const [a, b] = splitBatch(whole);
    assert.equal(countSpans(a) + countSpans(b), countSpans(whole));
    assert.ok(Math.abs(countSpans(a) - countSpans(b)) <= 1);
  });
});
