// The demo's live pipeline: an agent (Autoscope sampling, Tracezip to the gateway) and a gateway on
// loopback, in this process, in front of a small OTLP/HTTP backend that counts what arrives. The
// generated traffic is posted to the agent as an SDK would (512 spans a request); the figures are
// the bytes the agent received, the bytes it put on the wire, and the spans the backend got.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { countSpans, rebatch, type TracesData } from '../model/index.js';
import { decodeTracesData, encodeTracesData } from '../otlp/index.js';
import { Agent, Gateway, resolveServeConfig, type PipelineMetrics } from '../pipeline/index.js';
import type { PipelineFigures } from '../eval/index.js';

const quiet = (): void => {};

async function counterValue(metrics: PipelineMetrics, name: 'wireBytes' | 'sentSpans' | 'samplingTraces', labels: Record<string, string> = {}): Promise<number> {
  const got = await metrics[name].get();
  return got.values.filter((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, string | number | undefined>)[k] === l)).reduce((n, v) => n + v.value, 0);
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  return check();
}

export async function runLoopbackPipeline(batches: readonly TracesData[], setup: { analysis?: unknown; targetReduction: number }): Promise<PipelineFigures> {
  const t0 = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'slimtrace-demo-pipeline-'));
  let spansAtBackend = 0;
  let otlpBytesAtBackend = 0;
  const backend: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        spansAtBackend += countSpans(decodeTracesData(body));
        otlpBytesAtBackend += body.length;
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((ok) => backend.listen(0, '127.0.0.1', ok));
  // The agent reads the analysis as a server does, from a file.
  const analysisFile = setup.analysis === undefined ? undefined : join(dir, 'analysis.json');
  if (analysisFile) await writeFile(analysisFile, JSON.stringify(setup.analysis));
  let gateway: Gateway | undefined;
  let agent: Agent | undefined;
  try {
    const backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}/v1/traces`;
    gateway = await Gateway.start(resolveServeConfig({}, { role: 'gateway', listen: '127.0.0.1:0', 'backend.url': backendUrl, 'queue.dir': join(dir, 'gateway-queue') }), { log: quiet });
    agent = await Agent.start(
      resolveServeConfig({}, {
        role: 'agent',
        listen: '127.0.0.1:0',
        'grpc.enabled': false,
        gateways: `http://127.0.0.1:${gateway.address.port}`,
        'queue.dir': join(dir, 'agent-queue'),
        'batch.linger': '50ms',
        // Wall time here: a trace is decided one second after its last span arrived.
        'sampling.strategy': 'autoscope',
        'sampling.decision_wait': '1s',
        'sampling.target_reduction': setup.targetReduction,
        ...(analysisFile ? { 'sampling.analysis': analysisFile } : {}),
      }),
      { log: quiet },
    );
    const url = `http://127.0.0.1:${agent.addresses.http.port}/v1/traces`;
    let spansIn = 0;
    let otlpBytesIn = 0;
    let traces = new Set<string>();
    for await (const request of rebatch(batches, 512)) {
      const body = encodeTracesData(request);
      for (const rs of request.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) traces.add(Buffer.from(s.traceId).toString('hex'));
      const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } });
      if (!res.ok) throw new Error(`the demo's agent refused a request: HTTP ${res.status}`);
      await res.arrayBuffer();
      spansIn += countSpans(request);
      otlpBytesIn += body.length;
    }
    const a = agent;
    const decided = traces.size;
    traces = new Set();
    // Every trace decided, and every kept span acknowledged by the gateway and at the backend.
    await until(async () => (await counterValue(a.metrics, 'samplingTraces')) >= decided, 30_000);
    // Decided is not sent: kept spans still wait in the batcher. A queued request leaves the agent's
    // queue only once all it carried is acknowledged by the gateway, so an empty queue means all sent.
    await until(async () => a.queue.stats().depthRecords === 0, 30_000);
    await until(async () => {
      const sent = await counterValue(a.metrics, 'sentSpans', { exporter: 'tracezip' });
      return sent > 0 && spansAtBackend >= sent;
    }, 30_000);
    return {
      description: `OTLP/HTTP protobuf -> agent (autoscope${analysisFile ? ' with the analysis' : ', no code knowledge'}, 1 s decision wait) -> Tracezip over HTTP -> gateway -> OTLP/HTTP backend`,
      spansIn,
      spansAtBackend,
      otlpBytesAtBackend,
      otlpBytesIn,
      wireBytes: await counterValue(a.metrics, 'wireBytes', { direction: 'sent', stage: 'tracezip' }),
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await agent?.stop();
    await gateway?.stop();
    await new Promise<void>((ok) => backend.close(() => ok()));
    await rm(dir, { recursive: true, force: true });
  }
}
