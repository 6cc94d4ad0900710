// bench/jetstream: agent -> gateway throughput over the HTTP frame transport beside the NATS
// JetStream transport (one gateway, and two gateway replicas sharing the consumer), all in one
// process on loopback with a real nats-server, and what work sharing costs the gateways (frames
// read back from the stream to rebuild state, per frame taken).
//
//   node --import tsx bench/jetstream.ts [--spans 60000] [--batch 500]
//
// Generated traffic is posted as OTLP protobuf to the agent (4 requests in flight); the clock stops
// when a counting backend has every span. Agent, gateways and backend share the process and its
// cores, so the figures compare the transports with each other, not with a deployment.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { countSpans, type TracesData } from '../src/model/index.js';
import { decodeTracesData, encodeTracesData } from '../src/otlp/index.js';
import { trafficData } from '../src/generator/index.js';
import { Agent, Gateway, resolveServeConfig, type ConfigOverrides, type PipelineMetrics } from '../src/pipeline/index.js';
import { NatsServer, natsServerMissing } from '../test/pipeline/nats-harness.js';

const { values } = parseArgs({ options: { spans: { type: 'string', default: '60000' }, batch: { type: 'string', default: '500' } } });
const wantSpans = Number(values.spans);
const batchSpans = Number(values.batch);

const missing = natsServerMissing();
if (missing) {
  process.stderr.write(`${missing}\n`);
  process.exit(1);
}

let received = 0;
const backend: Server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    received += countSpans(decodeTracesData(req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body));
    res.writeHead(200).end();
  });
});

async function counter(m: PipelineMetrics, name: keyof PipelineMetrics, labels: Record<string, string> = {}): Promise<number> {
  const c = m[name] as unknown as { get(): Promise<{ values: { value: number; labels: Record<string, string | number> }[] }> };
  return (await c.get()).values.filter((v) => Object.entries(labels).every(([k, x]) => String(v.labels[k]) === x)).reduce((n, v) => n + v.value, 0);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'slimtrace-bench-js-'));
  const nats = await new NatsServer(join(dir, 'nats')).start();
  await new Promise<void>((ok) => backend.listen(0, '127.0.0.1', ok));
  const backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}/v1/traces`;
  const batches: Uint8Array[] = [];
  let total = 0;
  for (const b of trafficData({ seed: 5, traces: Math.ceil(wantSpans / 8), batchSpans }) as Generator<TracesData>) {
    if (total >= wantSpans) break;
    batches.push(encodeTracesData(b));
    total += countSpans(b);
  }
  const quiet = (): void => {};
  let n = 0;
  const rows: string[] = [];
  for (const [name, gateways, transport] of [
    ['http, 1 gateway', 1, 'http'],
    ['jetstream, 1 gateway', 1, 'jetstream'],
    ['jetstream, 2 gateways', 2, 'jetstream'],
  ] as const) {
    received = 0;
    const js: ConfigOverrides = transport === 'jetstream' ? { 'transport.jetstream.servers': [nats.url], 'transport.jetstream.stream': `B${n}`, 'transport.jetstream.subject_prefix': `b${n}`, 'transport.jetstream.consumer': `g${n}` } : {};
    const gws: Gateway[] = [];
    for (let i = 0; i < gateways; i++) gws.push(await Gateway.start(resolveServeConfig({}, { role: 'gateway', listen: '127.0.0.1:0', 'backend.url': backendUrl, 'queue.dir': join(dir, `g${n++}`), ...js }), { log: quiet }));
    const agent = await Agent.start(
      resolveServeConfig({}, { role: 'agent', listen: '127.0.0.1:0', 'grpc.enabled': false, 'queue.dir': join(dir, `a${n++}`), ...(transport === 'http' ? { gateways: `http://127.0.0.1:${gws[0]!.address.port}` } : js) }),
      { log: quiet },
    );
    const url = `http://127.0.0.1:${agent.addresses.http.port}/v1/traces`;
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < batches.length) {
          const body = batches[next++]!;
          for (;;) {
            const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
            await r.arrayBuffer();
            if (r.status === 200) break;
            await new Promise((ok) => setTimeout(ok, 50));
          }
        }
      }),
    );
    while (received < total) await new Promise((ok) => setTimeout(ok, 10));
    const seconds = (performance.now() - t0) / 1000;
    const wire = (await counter(agent.metrics, 'wireBytes', { direction: 'sent' })) / total;
    let frames = 0;
    let replayed = 0;
    for (const g of gws) {
      frames += await counter(g.metrics, 'requests', { receiver: transport === 'http' ? 'tracezip' : 'jetstream', outcome: 'applied' });
      replayed += await counter(g.metrics, 'jetstreamReplayed');
    }
    rows.push(`| ${name} | ${Math.round(total / seconds)} | ${wire.toFixed(1)} | ${frames} | ${transport === 'http' ? '-' : (replayed / Math.max(1, frames)).toFixed(2)} |`);
    await agent.stop();
    for (const g of gws) await g.stop();
  }
  console.log(`${total} spans in ${batches.length} requests of ${batchSpans}`);
  console.log('| transport | spans/s end to end | wire bytes per span (agent out) | frames applied | frames read back per frame |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  await nats.stop();
  await new Promise<void>((ok) => backend.close(() => ok()));
  rmSync(dir, { recursive: true, force: true });
}

await main();
