// slimtrace in a live pipeline, end to end with real clients and nothing mocked in the path: the
// OpenTelemetry JS SDK with its stock OTLP exporters (HTTP protobuf, HTTP JSON, gRPC; gzip on and off)
// -> agent -> Tracezip over HTTP -> gateway -> a test OTLP backend that decodes with protobufjs from
// the project's .proto. Every span arrives, equal at the message level to what the SDK exported. The
// same from the TracezipExporter straight to the gateway, and with Autoscope in the agent, whose kept
// spans are exactly those `slimtrace sample` keeps on the same input; priced in Tracezip bytes, on
// target on the wire, and with quiet traces allowed to go. Metrics are scraped for real.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { bytesToHex, countSpans, diffTracesData, locatedSpans, type TracesData } from '../../src/model/index.js';
import { encodeTracesData } from '../../src/otlp/index.js';
import { trafficData } from '../../src/generator/index.js';
import { createStrategy, StreamingSampler } from '../../src/sampling/index.js';
import { Agent, Gateway, resolveServeConfig, type ConfigOverrides } from '../../src/pipeline/index.js';
import { TracezipExporter } from '../../src/sdk/index.js';
import { pbjsDecodeTraces } from '../helpers/protobufjs-oracle.js';
import { diffReceived, expectedFromSdk, ResultObserver, sendThroughSdk, waitFor } from './receiver-helpers.js';

/** An OTLP/HTTP backend that decodes every request with protobufjs (not slimtrace's decoder). */
class Backend {
  received: TracesData[] = [];
  server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        this.received.push(pbjsDecodeTraces(body));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/traces`;
    return this;
  }

  get spans(): number {
    return this.received.reduce((n, d) => n + countSpans(d), 0);
  }

  close(): Promise<void> {
    return new Promise((ok) => this.server.close(() => ok()));
  }
}

const quiet = (): void => {};

describe('agent -> gateway -> backend with the stock OpenTelemetry exporters', { timeout: 240_000 }, () => {
  let dir: string;
  let backend: Backend;
  let gateway: Gateway;
  let agent: Agent;
  let agentHttp: string;
  let agentGrpc: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'slimtrace-e2e-'));
    backend = await new Backend().start();
    gateway = await Gateway.start(resolveServeConfig({}, { role: 'gateway', listen: '127.0.0.1:0', 'backend.url': backend.url, 'queue.dir': join(dir, 'gq') }), { log: quiet });
    const gw = `http://127.0.0.1:${gateway.address.port}`;
    agent = await Agent.start(resolveServeConfig({}, { role: 'agent', listen: '127.0.0.1:0', 'grpc.listen': '127.0.0.1:0', gateways: gw, 'queue.dir': join(dir, 'aq'), 'batch.linger': '20ms' }), { log: quiet });
    agentHttp = `http://127.0.0.1:${agent.addresses.http.port}/v1/traces`;
    agentGrpc = `http://127.0.0.1:${agent.addresses.grpc!.port}`;
  });
  after(async () => {
    await agent?.stop();
    await gateway?.stop();
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const clients: [string, () => SpanExporter][] = [
    ['HTTP protobuf', () => new ProtoExporter({ url: agentHttp })],
    ['HTTP protobuf, gzip', () => new ProtoExporter({ url: agentHttp, compression: CompressionAlgorithm.GZIP })],
    ['HTTP JSON', () => new JsonExporter({ url: agentHttp })],
    ['HTTP JSON, gzip', () => new JsonExporter({ url: agentHttp, compression: CompressionAlgorithm.GZIP })],
    ['gRPC', () => new GrpcExporter({ url: agentGrpc })],
    ['gRPC, gzip', () => new GrpcExporter({ url: agentGrpc, compression: CompressionAlgorithm.GZIP })],
  ];
  for (const [name, make] of clients) {
    it(`${name}: every span arrives at the backend, equal at the message level`, async () => {
      backend.received = [];
      const exporter = new ResultObserver(make());
      const spans = await sendThroughSdk(exporter, 60, 16);
      assert.ok(exporter.results.length > 0 && exporter.results.every((r) => r.code === 0), JSON.stringify(exporter.results));
      const expected = expectedFromSdk(spans);
      await waitFor(() => backend.spans >= countSpans(expected), `${countSpans(expected)} spans at the backend (${backend.spans} so far)`, 30_000);
      assert.equal(diffReceived(expected, backend.received), undefined);
    });
  }

  it('the TracezipExporter sends straight to the gateway: every span arrives', async () => {
    backend.received = [];
    const exporter = new ResultObserver(new TracezipExporter({ url: `http://127.0.0.1:${gateway.address.port}` }));
    const spans = await sendThroughSdk(exporter, 60, 16);
    assert.ok(exporter.results.every((r) => r.code === 0));
    const expected = expectedFromSdk(spans);
    await waitFor(() => backend.spans >= countSpans(expected), 'spans at the backend', 30_000);
    assert.equal(diffReceived(expected, backend.received), undefined);
  });

  it('metrics: spans in and out, wire bytes and the compression ratio, scraped in the Prometheus format', async () => {
    const agentText = await (await fetch(`http://127.0.0.1:${agent.addresses.http.port}/metrics`)).text();
    const gatewayText = await (await fetch(`http://127.0.0.1:${gateway.address.port}/metrics`)).text();
    const value = (text: string, metric: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(metric));
      assert.ok(line, `${metric} is exported`);
      return Number(line.split(' ').pop());
    };
    assert.ok(value(agentText, 'slimtrace_receiver_accepted_spans_total{receiver="otlp-grpc"') > 0);
    assert.ok(value(agentText, 'slimtrace_receiver_accepted_spans_total{receiver="otlp-http"') > 0);
    assert.ok(value(agentText, 'slimtrace_exporter_sent_spans_total{exporter="tracezip"') > 0);
    assert.ok(value(agentText, 'tracezip_compression_ratio') > 1);
    assert.ok(value(agentText, 'tracezip_compression_duration_seconds_count') > 0);
    assert.ok(value(gatewayText, 'tracezip_decompression_duration_seconds_count') > 0);
    assert.ok(value(gatewayText, 'slimtrace_exporter_sent_spans_total{exporter="otlp-http"') > 0);
    assert.equal(value(gatewayText, 'slimtrace_queue_size_records'), 0);
    const health = (await (await fetch(`http://127.0.0.1:${gateway.address.port}/healthz`)).json()) as { status: string };
    assert.equal(health.status, 'ok');
  });
});

describe('Autoscope in the agent keeps exactly what `slimtrace sample` keeps on the same input', { timeout: 240_000 }, () => {
  it('same kept spans, same re-parenting, same summaries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slimtrace-e2e-sampling-'));
    const batches = [...trafficData({ seed: 21, traces: 300, batchSpans: 200 })];
    // The offline reference, as `slimtrace sample` runs it: every trace decided at the end, in the
    // order of its last activity (a decision wait longer than the input).
    const reference = new StreamingSampler({ strategy: createStrategy('autoscope', { targetReduction: 0.8 }), decisionWaitMs: 3_600_000, reduce: { summaries: true } });
    for (const b of batches) reference.push(b, 0);
    const expected = reference.flush()!;

    const backend = await new Backend().start();
    const overrides = (o: ConfigOverrides): ConfigOverrides => ({ listen: '127.0.0.1:0', ...o });
    const gateway = await Gateway.start(resolveServeConfig({}, overrides({ role: 'gateway', 'backend.url': backend.url, 'queue.dir': join(dir, 'gq') })), { log: quiet });
    const agent = await Agent.start(
      resolveServeConfig({}, overrides({ role: 'agent', 'grpc.enabled': false, gateways: `http://127.0.0.1:${gateway.address.port}`, 'queue.dir': join(dir, 'aq'), 'sampling.strategy': 'autoscope', 'sampling.target_reduction': 0.8, 'sampling.decision_wait': '1h' })),
      { log: quiet },
    );
    try {
      for (const b of batches) {
        const res = await fetch(`http://127.0.0.1:${agent.addresses.http.port}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: encodeTracesData(b) });
        assert.equal(res.status, 200);
      }
      // Wait until the agent has read everything, then stop it: the stop decides what the sampler holds.
      await waitFor(() => agent.queue.stats().inFlight === batches.length || agent.queue.stats().depthRecords === 0, 'the agent to read its queue', 30_000);
      await agent.stop();
      await waitFor(() => backend.spans >= countSpans(expected), `${countSpans(expected)} kept spans at the backend (${backend.spans})`, 30_000);
      const want = new Map([...locatedSpans(expected)].map((l) => [bytesToHex(l.span.spanId), l.span]));
      const got = new Map(backend.received.flatMap((d) => [...locatedSpans(d)]).map((l) => [bytesToHex(l.span.spanId), l.span]));
      assert.equal(got.size, want.size, 'the same number of kept spans');
      for (const [id, span] of want) {
        const g = got.get(id);
        assert.ok(g, `kept span ${span.name} arrived`);
        const d = diffTracesData({ resourceSpans: [{ resource: undefined, scopeSpans: [{ scope: undefined, spans: [span], schemaUrl: '' }], schemaUrl: '' }] }, { resourceSpans: [{ resource: undefined, scopeSpans: [{ scope: undefined, spans: [g], schemaUrl: '' }], schemaUrl: '' }] });
        assert.equal(d, undefined, `span ${span.name}`);
      }
      assert.ok(want.size < batches.reduce((n, b) => n + countSpans(b), 0), 'sampling dropped spans');
    } finally {
      await agent.stop();
      await gateway.stop();
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Generated traffic (seed 22) through a real agent with Autoscope priced in Tracezip bytes and a
 * gateway, to a protobufjs backend: the input's OTLP bytes, the Tracezip bytes the agent sent, the
 * traces its sampler kept (its metrics), and what arrived, once every kept trace is at the backend.
 */
async function throughPricedAgent(traces: number, sampling: ConfigOverrides): Promise<{ input: number; wire: number; kept: number; batches: TracesData[]; received: TracesData[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'slimtrace-e2e-price-'));
  const batches = [...trafficData({ seed: 22, traces, batchSpans: 256 })];
  const backend = await new Backend().start();
  const overrides = (o: ConfigOverrides): ConfigOverrides => ({ listen: '127.0.0.1:0', ...o });
  const gateway = await Gateway.start(resolveServeConfig({}, overrides({ role: 'gateway', 'backend.url': backend.url, 'queue.dir': join(dir, 'gq') })), { log: quiet });
  const agent = await Agent.start(
    resolveServeConfig(
      {},
      overrides({ role: 'agent', 'grpc.enabled': false, gateways: `http://127.0.0.1:${gateway.address.port}`, 'queue.dir': join(dir, 'aq'), 'sampling.strategy': 'autoscope', 'sampling.decision_wait': '200ms', 'sampling.price': 'tracezip', ...sampling }),
    ),
    { log: quiet },
  );
  let input = 0;
  try {
    // Sent over a few seconds, so traces are decided and their frames sent (and measured) as they go.
    for (const b of batches) {
      const body = encodeTracesData(b);
      input += body.length;
      const res = await fetch(`http://127.0.0.1:${agent.addresses.http.port}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
      assert.equal(res.status, 200);
      await new Promise((ok) => setTimeout(ok, 20));
    }
    await waitFor(() => agent.queue.stats().depthRecords === 0, 'the agent to read its queue', 30_000);
    await agent.stop();
    const wire = (await agent.metrics.wireBytes.get()).values.filter((v) => v.labels.direction === 'sent' && v.labels.stage === 'tracezip').reduce((a, v) => a + v.value, 0);
    const kept = (await agent.metrics.samplingTraces.get()).values.filter((v) => v.labels.decision === 'kept').reduce((a, v) => a + v.value, 0);
    await waitFor(() => traceIdsOf(backend.received).size === kept, `the ${kept} kept traces at the backend`, 30_000);
    return { input, wire, kept, batches, received: backend.received };
  } finally {
    await agent.stop();
    await gateway.stop();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const traceIdsOf = (data: readonly TracesData[]): Set<string> => new Set(data.flatMap((d) => [...locatedSpans(d)].map((l) => bytesToHex(l.span.traceId))));

describe('Autoscope in the agent priced in Tracezip bytes meets its target on the frames it sends', { timeout: 240_000 }, () => {
  it('the wire bytes are within 1.5 points of the target, every trace kept', async () => {
    const r = await throughPricedAgent(1200, { 'sampling.target_reduction': 0.95 });
    assert.equal(r.kept, 1200);
    const achieved = 1 - r.wire / r.input;
    assert.ok(Math.abs(achieved - 0.95) <= 0.015, `Tracezip reduction on the wire ${achieved} (${r.wire} of ${r.input} bytes)`);
  });

  it('with sampling.drop_quiet_traces past what every root costs, quiet traces go whole and every trace with an error arrives', async () => {
    const r = await throughPricedAgent(600, { 'sampling.target_reduction': 0.99, 'sampling.drop_quiet_traces': true });
    assert.ok(r.kept < 600, `${r.kept} of 600 traces kept`);
    const arrived = traceIdsOf(r.received);
    const errorTraces = new Set(r.batches.flatMap((d) => [...locatedSpans(d)].filter((l) => l.span.status?.code === 2).map((l) => bytesToHex(l.span.traceId))));
    assert.ok(errorTraces.size > 0);
    for (const t of errorTraces) assert.ok(arrived.has(t), `error trace ${t} arrived`);
  });
});
