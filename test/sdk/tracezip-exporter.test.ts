// TracezipExporter inside a real TracerProvider with the SDK's BatchSpanProcessor, sending to a real
// frame endpoint on loopback: every span arrives equal to what the stock OTLP serializer writes for
// it, a gateway that lost the stream's state is answered with a new epoch, a second gateway takes
// over from a dead one, an unreachable gateway fails the export within its deadline, and the seed's
// options reach the codec.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { bytesToHex, diffSpan, locatedSpans, tracesDataEqual, type TracesData } from '../../src/model/index.js';
import { decodeTracesData } from '../../src/otlp/index.js';
import { readFrameHeader, TracezipDecoder } from '../../src/tracezip/index.js';
import { FrameHandler, serveFrameRequest, TRACEZIP_PATH } from '../../src/pipeline/tracezip-transport.js';
import type { ReceivedRequest, TraceSink } from '../../src/pipeline/sink.js';
import { TracezipExporter, type TracezipExporterOptions } from '../../src/sdk/tracezip-exporter.js';
import { SamplingSpanProcessor } from '../../src/sdk/autoscope-processor.js';
import { AutoscopeSampler } from '../../src/sampling/index.js';

interface Gateway {
  server: Server;
  url: string;
  got: TracesData[];
  frames: Uint8Array[];
  handler: FrameHandler;
}

async function gateway(): Promise<Gateway> {
  const got: TracesData[] = [];
  const frames: Uint8Array[] = [];
  const sink: TraceSink = {
    accept: async (r: ReceivedRequest) => {
      got.push(r.data);
    },
  };
  const handler = new FrameHandler(new TracezipDecoder(), sink);
  const server = createServer((req, res) => {
    if (req.url !== TRACEZIP_PATH) return void res.writeHead(404).end();
    const chunks: Buffer[] = [];
    // Keep a copy of each frame for header checks, then serve it as the gateway does.
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => frames.push(Buffer.concat(chunks)));
    void serveFrameRequest(handler, req, res);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got, frames, handler };
}

const close = (s: Server): Promise<void> => new Promise((ok) => s.close(() => ok()));

function provider(exporter: TracezipExporter, batch = true): TracerProvider {
  return new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'cart', 'service.version': '1.4.2' }),
    spanProcessors: [batch ? new BatchSpanProcessor({ exporter, scheduledDelayMillis: 20, maxExportBatchSize: 64 }) : new SimpleSpanProcessor({ exporter })],
  });
}

/** A few traces with the things spans carry: kinds, attributes, events, links, status, errors. */
function makeTraces(p: TracerProvider, traces: number, label = 'a'): void {
  const tracer = p.getTracer('cart-http', '2.0.1');
  for (let t = 0; t < traces; t++) {
    const root = tracer.startSpan(`GET /cart/${label}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'http.route': '/cart/:id', 'user.id': `u-${t}` } });
    const ctx = trace.setSpan(context.active(), root);
    for (let i = 0; i < 6; i++) {
      const db = tracer.startSpan('SELECT cart_items', { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql', 'db.statement': `SELECT * FROM cart_items WHERE cart = ${t * 10 + i}`, rows: i, ratio: i / 7 } }, ctx);
      if (i === 3) db.addEvent('retry', { attempt: 2 });
      if (t === 1 && i === 5) db.setStatus({ code: SpanStatusCode.ERROR, message: 'deadlock detected' });
      db.end();
    }
    const child = tracer.startSpan('publish cart.updated', { kind: SpanKind.PRODUCER, links: [{ context: root.spanContext(), attributes: { why: 'same request' } }] }, ctx);
    child.end();
    root.end();
  }
}

/** Every span the gateway got, by span id, compared with the stock serializer's view of `spans`. */
function assertSameSpans(got: TracesData[], spans: ReadableSpan[]): void {
  const expected = decodeTracesData(ProtobufTraceSerializer.serializeRequest(spans)!);
  const want = new Map([...locatedSpans(expected)].map((l) => [bytesToHex(l.span.spanId), l]));
  let n = 0;
  for (const data of got)
    for (const l of locatedSpans(data)) {
      const w = want.get(bytesToHex(l.span.spanId));
      assert.ok(w, `unexpected span ${l.span.name}`);
      assert.equal(diffSpan(l.span.name, l.span, w.span), undefined);
      assert.ok(tracesDataEqual({ resourceSpans: [{ ...l.resourceSpans, scopeSpans: [] }] }, { resourceSpans: [{ ...w.resourceSpans, scopeSpans: [] }] }), 'resource');
      n++;
    }
  assert.equal(n, want.size, 'every span arrived once');
}

/** Collects what the SDK handed to the exporter, to compare with what arrived. */
class Recording extends TracezipExporter {
  exported: ReadableSpan[] = [];
  results: number[] = [];
  override export(spans: ReadableSpan[], cb: Parameters<TracezipExporter['export']>[1]): void {
    this.exported.push(...spans);
    super.export(spans, (r) => {
      this.results.push(r.code);
      cb(r);
    });
  }
}

describe('TracezipExporter', () => {
  it('under a BatchSpanProcessor, every span reaches the gateway equal to the stock OTLP serialization', async () => {
    const g = await gateway();
    const exporter = new Recording({ url: g.url });
    const p = provider(exporter);
    try {
      makeTraces(p, 12);
      await p.shutdown();
      assert.ok(exporter.results.length >= 2 && exporter.results.every((c) => c === 0), `results ${exporter.results}`);
      assert.equal(exporter.exported.length, 12 * 8);
      assertSameSpans(g.got, exporter.exported);
      assert.ok(exporter.stats.frameBytes < ProtobufTraceSerializer.serializeRequest(exporter.exported)!.length, 'frames are smaller than OTLP');
    } finally {
      await close(g.server);
    }
  });

  it('answers a gateway that lost the stream (restart) with a new epoch: nothing is lost', async () => {
    const g = await gateway();
    const exporter = new Recording({ url: g.url });
    const p = provider(exporter, false);
    try {
      makeTraces(p, 2, 'before');
      await p.forceFlush();
      for (const id of [...g.frames.map((f) => readFrameHeader(f).streamId)]) g.handler.decoder.dropStream(id);
      makeTraces(p, 2, 'after');
      await p.shutdown();
      assert.ok(exporter.results.every((c) => c === 0));
      assert.ok(exporter.stats.resyncs >= 1, 'a resync happened');
      assertSameSpans(g.got, exporter.exported);
    } finally {
      await close(g.server);
    }
  });

  it('fails over to the next gateway when the first is unreachable', async () => {
    const dead = await gateway();
    const deadUrl = dead.url;
    await close(dead.server);
    const g = await gateway();
    const exporter = new Recording({ url: [deadUrl, g.url], timeoutMillis: 20_000 });
    const p = provider(exporter);
    try {
      makeTraces(p, 3);
      await p.shutdown();
      assert.ok(exporter.results.every((c) => c === 0));
      assertSameSpans(g.got, exporter.exported);
    } finally {
      await close(g.server);
    }
  });

  it('fails the export within its deadline when no gateway answers', async () => {
    const dead = await gateway();
    await close(dead.server);
    const exporter = new Recording({ url: dead.url, timeoutMillis: 300 });
    const p = provider(exporter, false);
    const t0 = Date.now();
    makeTraces(p, 1);
    await p.shutdown();
    const ms = Date.now() - t0;
    assert.ok(exporter.results.length > 0 && exporter.results.every((c) => c === 1), `results ${exporter.results}`);
    assert.ok(ms < 5000, `gave up in ${ms} ms`);
  });

  it('maps the seed\'s options onto the codec: compression off, self-contained frames, frame size', async () => {
    const g = await gateway();
    const options: TracezipExporterOptions = { url: g.url, compressionEnabled: false, deltaEncoding: false, batchSize: 10, dictionaryThreshold: 2 };
    const exporter = new Recording(options);
    const p = provider(exporter);
    try {
      makeTraces(p, 4);
      await p.shutdown();
      assertSameSpans(g.got, exporter.exported);
      assert.ok(g.frames.length >= Math.ceil(32 / 10));
      for (const f of g.frames) {
        const h = readFrameHeader(f);
        assert.equal(h.compression, 'none');
        assert.equal(h.stateless, true);
      }
      assert.ok(g.got.every((d) => [...locatedSpans(d)].length <= 10), 'at most batchSize spans per frame');
    } finally {
      await close(g.server);
    }
  });

  it('coalesces small exports within batchTimeout and refuses exports after shutdown', async () => {
    const g = await gateway();
    const exporter = new Recording({ url: g.url, batchTimeout: 200, batchSize: 1000 });
    const p = provider(exporter, false);
    try {
      makeTraces(p, 2);
      await p.forceFlush();
      assert.equal(g.frames.length, 1, 'the SimpleSpanProcessor\'s one-span exports shared a frame');
      await p.shutdown();
      const after = await new Promise<number>((ok) => exporter.export([], (r) => ok(r.code)));
      assert.equal(after, 1);
    } finally {
      await close(g.server);
    }
  });

  it('reports each encoded frame (onEncoded): an in-process Autoscope priced in Tracezip bytes learns its price from it', async () => {
    const g = await gateway();
    const strategy = new AutoscopeSampler({ targetReduction: 0.5, price: 'tracezip' });
    const heard = { spans: 0, bytes: 0, calls: 0 };
    const exporter = new Recording({
      url: g.url,
      onEncoded: (spans, bytes) => {
        heard.spans += spans;
        heard.bytes += bytes;
        heard.calls++;
        strategy.recordEncoded(spans, bytes);
      },
    });
    const p = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'cart' }),
      spanProcessors: [new SamplingSpanProcessor({ strategy, next: new BatchSpanProcessor({ exporter, scheduledDelayMillis: 20, maxExportBatchSize: 64 }) })],
    });
    try {
      const before = strategy.tracezipPrice()!;
      makeTraces(p, 40);
      await p.shutdown();
      assert.ok(heard.calls >= 1);
      assert.equal(heard.calls, exporter.stats.frames, 'one report a frame');
      assert.equal(heard.spans, exporter.exported.length, 'every exported span reported once');
      assert.equal(heard.bytes, exporter.stats.frameBytes);
      assertSameSpans(g.got, exporter.exported);
      const after = strategy.tracezipPrice()!;
      assert.notDeepEqual(after, before, 'the price moved toward what was measured');
    } finally {
      await close(g.server);
    }
  });
});
