// The JetStream transport with a real nats-server (started here; skipped with a message when the
// binary is absent) and nothing mocked in the path: OTLP requests -> agent -> Tracezip frames in a
// JetStream stream -> gateway(s) sharing a durable consumer -> an OTLP/HTTP backend that decodes with
// protobufjs. Every span arrives equal to what was sent; two gateways share the work (and one stopping
// mid-stream hands its frames to the other); nats-server SIGKILLed and restarted on the same store
// loses no acknowledged span; a frame stored twice is not exported twice; a frame that cannot be
// decoded (its epoch's first frame gone) is met by a resync request and a new epoch, never a wrong span.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { connect, headers } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { bytesToHex, countSpans, diffTracesData, type TracesData } from '../../src/model/index.js';
import { encodeTracesData } from '../../src/otlp/index.js';
import { trafficData } from '../../src/generator/index.js';
import { Agent, Gateway, loadServeConfig, resolveServeConfig, type ConfigOverrides, type PipelineMetrics } from '../../src/pipeline/index.js';
import { EPOCH_START_HEADER } from '../../src/pipeline/jetstream.js';
import { pbjsDecodeTraces } from '../helpers/protobufjs-oracle.js';
import { waitFor } from './receiver-helpers.js';
import { NatsServer, natsServerMissing } from './nats-harness.js';

/** An OTLP/HTTP backend decoding with protobufjs; it keeps every request (duplicates included). */
class Backend {
  received: TracesData[] = [];
  /** How long each answer waits (a slow backend fills the gateway's queue). */
  delayMs = 0;
  server!: Server;
  url = '';
  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        setTimeout(() => {
          this.received.push(pbjsDecodeTraces(body));
          res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        }, this.delayMs);
      });
    });
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/traces`;
    return this;
  }
  close(): Promise<void> {
    return new Promise((ok) => this.server.close(() => ok()));
  }
}

/** Each span as a one-span TracesData with its resource and scope. */
function eachSpan(batches: TracesData[], visit: (id: string, one: TracesData) => void): void {
  for (const data of batches)
    for (const rs of data.resourceSpans)
      for (const ss of rs.scopeSpans) for (const span of ss.spans) visit(bytesToHex(span.spanId), { resourceSpans: [{ ...rs, scopeSpans: [{ ...ss, spans: [span] }] }], unknownFields: undefined });
}

/**
 * What arrived against what was sent: every received span must be one that was sent, equal at the
 * message level (no wrong span); returns how many sent spans arrived and how many arrived twice.
 */
function compare(sent: TracesData[], received: TracesData[]): { arrived: number; missing: number; duplicates: number } {
  const want = new Map<string, TracesData>();
  eachSpan(sent, (id, one) => want.set(id, one));
  const seen = new Map<string, number>();
  eachSpan(received, (id, one) => {
    const w = want.get(id);
    assert.ok(w, `span ${id} arrived but was never sent`);
    const d = diffTracesData(w, one);
    assert.equal(d, undefined, `span ${id} differs from what was sent`);
    seen.set(id, (seen.get(id) ?? 0) + 1);
  });
  let duplicates = 0;
  for (const n of seen.values()) duplicates += n - 1;
  return { arrived: seen.size, missing: want.size - seen.size, duplicates };
}

async function counter(metrics: PipelineMetrics, name: keyof PipelineMetrics, labels: Record<string, string> = {}): Promise<number> {
  const c = metrics[name] as unknown as { get(): Promise<{ values: { value: number; labels: Record<string, string | number> }[] }> };
  const { values } = await c.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => String(v.labels[k]) === x)).reduce((n, v) => n + v.value, 0);
}

async function eventually(condition: () => Promise<boolean>, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

const quiet = process.env.SLIMTRACE_TEST_LOG ? (l: string): void => void process.stderr.write(`${l}\n`) : (): void => {};
const missing = natsServerMissing();
if (missing) process.stderr.write(`${missing}\n`);

describe('Tracezip over NATS JetStream', { skip: missing, timeout: 120_000 }, () => {
  let dir: string;
  let nats: NatsServer;
  let backend: Backend;
  let n = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'slimtrace-jetstream-'));
    nats = await new NatsServer(join(dir, 'nats')).start();
    backend = await new Backend().start();
  });
  after(async () => {
    await nats?.stop();
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Each test its own JetStream stream, subject prefix and consumer, so they do not see each other's frames. */
  function transport(test: string, extra: ConfigOverrides = {}): ConfigOverrides {
    return {
      'transport.jetstream.servers': [nats.url],
      'transport.jetstream.stream': `T_${test}`,
      'transport.jetstream.subject_prefix': `t.${test}`,
      'transport.jetstream.consumer': `gw_${test}`,
      'transport.jetstream.ack_wait': '2s',
      'transport.jetstream.max_epoch_frames': 8,
      // Each stream's max_bytes is reserved from the server's store: keep the tests' streams small.
      'transport.jetstream.max_bytes': '64MiB',
      ...extra,
    };
  }
  const startAgent = (t: ConfigOverrides): Promise<Agent> =>
    Agent.start(resolveServeConfig({}, { role: 'agent', listen: '127.0.0.1:0', 'grpc.enabled': false, 'queue.dir': join(dir, `aq${n++}`), 'batch.max_spans': 60, 'batch.linger': '10ms', 'retry.max_interval': '500ms', ...t }), { log: quiet });
  const startGateway = (t: ConfigOverrides): Promise<Gateway> =>
    Gateway.start(resolveServeConfig({}, { role: 'gateway', listen: '127.0.0.1:0', 'backend.url': backend.url, 'queue.dir': join(dir, `gq${n++}`), 'retry.max_interval': '500ms', ...t }), { log: quiet });

  /** Posts each batch until the agent answers 200 (acknowledged: it must arrive). */
  async function post(agent: Agent, batches: TracesData[]): Promise<void> {
    for (const b of batches) {
      for (let i = 0; ; i++) {
        const res = await fetch(`http://127.0.0.1:${agent.addresses.http.port}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: encodeTracesData(b) });
        await res.arrayBuffer();
        if (res.status === 200) break;
        assert.ok(i < 50, `agent kept answering ${res.status}`);
        await new Promise((ok) => setTimeout(ok, 100));
      }
    }
  }
  const spansIn = (batches: TracesData[]): number => batches.reduce((s, b) => s + countSpans(b), 0);
  const arrivedCount = (sent: TracesData[]): number => compare(sent, backend.received).arrived;

  it('agent -> JetStream -> gateway -> backend: every span arrives, equal at the message level', async () => {
    backend.received = [];
    const t = transport('one');
    const gateway = await startGateway(t);
    const agent = await startAgent(t);
    try {
      const batches = [...trafficData({ seed: 31, traces: 150, batchSpans: 40 })];
      await post(agent, batches);
      await waitFor(() => arrivedCount(batches) === spansIn(batches), `${spansIn(batches)} spans at the backend`, 30_000);
      const r = compare(batches, backend.received);
      assert.deepEqual(r, { arrived: spansIn(batches), missing: 0, duplicates: 0 });
      assert.ok((await counter(agent.metrics, 'jetstreamPublished', { duplicate: 'false' })) > 8, 'several frames, more than one epoch');
      assert.equal(await counter(agent.metrics, 'sentSpans', { exporter: 'jetstream' }), spansIn(batches));
      assert.equal(await counter(gateway.metrics, 'receivedSpans', { receiver: 'jetstream' }), spansIn(batches));
      assert.equal(await counter(gateway.metrics, 'jetstreamLostFrames'), 0);
    } finally {
      await agent.stop();
      await gateway.stop();
    }
  });

  it('two gateways share the work; one stopping mid-stream hands its frames to the other', async () => {
    backend.received = [];
    const t = transport('two');
    const g1 = await startGateway(t);
    const g2 = await startGateway(t);
    const agents = [await startAgent(t), await startAgent(t)];
    let g1Stopped = false;
    try {
      const batches = [...trafficData({ seed: 32, traces: 300, batchSpans: 40 })];
      const half = batches.length >> 1;
      await Promise.all(agents.map((a, i) => post(a, batches.slice(0, half).filter((_, j) => j % 2 === i))));
      await waitFor(() => arrivedCount(batches) >= spansIn(batches.slice(0, half)), 'the first half at the backend', 30_000);
      const first = await counter(g1.metrics, 'receivedSpans', { receiver: 'jetstream' });
      const second = await counter(g2.metrics, 'receivedSpans', { receiver: 'jetstream' });
      assert.ok(first > 0 && second > 0, `both gateways took frames (${first} and ${second} spans)`);
      // g1 leaves; what it was handed but had not acknowledged goes to g2 after the ack wait.
      await g1.stop();
      g1Stopped = true;
      await Promise.all(agents.map((a, i) => post(a, batches.slice(half).filter((_, j) => j % 2 === i))));
      await waitFor(() => arrivedCount(batches) === spansIn(batches), `${spansIn(batches)} spans at the backend`, 40_000);
      const r = compare(batches, backend.received);
      assert.equal(r.missing, 0);
      assert.equal(await counter(g2.metrics, 'jetstreamLostFrames'), 0);
    } finally {
      for (const a of agents) await a.stop();
      if (!g1Stopped) await g1.stop();
      await g2.stop();
    }
  });

  it('nats-server SIGKILLed and restarted on the same store mid-stream: no acknowledged span lost, every span correct', async () => {
    backend.received = [];
    const t = transport('restart');
    const gateway = await startGateway(t);
    const agent = await startAgent(t);
    try {
      const batches = [...trafficData({ seed: 33, traces: 240, batchSpans: 40 })];
      const third = Math.floor(batches.length / 3);
      await post(agent, batches.slice(0, third));
      await nats.kill();
      // The agent keeps accepting into its disk queue while the bus is down.
      await post(agent, batches.slice(third, 2 * third));
      await new Promise((ok) => setTimeout(ok, 500));
      await nats.start();
      await post(agent, batches.slice(2 * third));
      await waitFor(() => arrivedCount(batches) === spansIn(batches), `${spansIn(batches)} spans at the backend (${arrivedCount(batches)} so far)`, 45_000);
      const r = compare(batches, backend.received);
      assert.equal(r.missing, 0);
      assert.equal(await counter(gateway.metrics, 'jetstreamLostFrames'), 0);
    } finally {
      await agent.stop();
      await gateway.stop();
    }
  });

  it('a frame stored twice (republished after the duplicate window) is not exported twice, and no span is wrong', async () => {
    backend.received = [];
    const t = transport('dup');
    const gateway = await startGateway(t);
    const agent = await startAgent(t);
    const nc = await connect({ servers: nats.url });
    try {
      const batches = [...trafficData({ seed: 34, traces: 120, batchSpans: 40 })];
      const half = batches.length >> 1;
      await post(agent, batches.slice(0, half));
      await waitFor(() => arrivedCount(batches) === spansIn(batches.slice(0, half)), 'the first half at the backend', 30_000);
      // A copy of a mid-epoch frame stored again, as a republish outside the duplicate window would be.
      const jsm = await jetstreamManager(nc);
      let copied = 0;
      for (let seq = 1; copied === 0; seq++) {
        const m = await jsm.direct.getMessage('T_dup', { seq });
        assert.ok(m, 'a frame to copy');
        if (!m.header.has(EPOCH_START_HEADER)) continue;
        const h = headers();
        h.set(EPOCH_START_HEADER, m.header.get(EPOCH_START_HEADER));
        await jetstream(nc).publish(m.subject, m.data, { headers: h });
        copied++;
      }
      await post(agent, batches.slice(half));
      await waitFor(() => arrivedCount(batches) === spansIn(batches), `${spansIn(batches)} spans at the backend`, 30_000);
      await waitFor(() => gateway.queue.stats().depthRecords === 0, 'the gateway queue to drain', 10_000);
      const r = compare(batches, backend.received);
      assert.deepEqual(r, { arrived: spansIn(batches), missing: 0, duplicates: 0 });
      assert.equal(await counter(gateway.metrics, 'jetstreamStoredDuplicates'), 1);
      assert.ok((await counter(gateway.metrics, 'jetstreamReplayed')) > 0, 'the gateway rebuilt the state from the stream');
    } finally {
      await nc.close();
      await agent.stop();
      await gateway.stop();
    }
  });

  it("a frame whose epoch's first frame left the stream: resync request, new epoch, later spans arrive, none wrong", async () => {
    backend.received = [];
    const t = transport('resync', { 'transport.jetstream.max_epoch_frames': 1000 });
    const agent = await startAgent(t);
    const nc = await connect({ servers: nats.url });
    let gateway: Gateway | undefined;
    try {
      const batches = [...trafficData({ seed: 35, traces: 120, batchSpans: 40 })];
      const half = batches.length >> 1;
      await post(agent, batches.slice(0, half));
      // Frames stored before any gateway runs; then the epoch's first frame is removed from the stream.
      const jsm = await jetstreamManager(nc);
      await waitFor(() => agent.queue.stats().depthRecords === 0, 'the agent to publish the first half', 20_000);
      assert.equal(await jsm.streams.deleteMessage('T_resync', 1), true);
      gateway = await startGateway(t);
      const gw = gateway;
      await eventually(async () => (await counter(gw.metrics, 'jetstreamLostFrames')) > 0, 'the gateway to give up the undecodable frames', 20_000);
      const later = batches.slice(half);
      await post(agent, later);
      await eventually(async () => (await counter(agent.metrics, 'resyncs')) > 0, 'the agent to start a new epoch on the request', 10_000);
      await waitFor(() => arrivedCount(later) === spansIn(later), `the later ${spansIn(later)} spans at the backend`, 30_000);
      compare(batches, backend.received); // every span that arrived is one that was sent, equal
      assert.ok((await counter(agent.metrics, 'resyncs')) > 0, 'the agent started a new epoch on the request');
      assert.ok((await counter(gateway.metrics, 'resyncs')) > 0, 'the gateway asked for it');
    } finally {
      await nc.close();
      await agent.stop();
      await gateway?.stop();
    }
  });

  it('a gateway whose queue is full holds the frame until the queue drains (not handed back): every span arrives, none wrong', async () => {
    backend.received = [];
    backend.delayMs = 150;
    const t = transport('full');
    // A queue of a few records in front of a slow backend.
    const gateway = await startGateway({ ...t, 'limits.max_request_bytes': '64KiB', 'queue.max_bytes': '160KiB', 'backend.concurrency': 1 });
    const agent = await startAgent(t);
    try {
      const batches = [...trafficData({ seed: 36, traces: 150, batchSpans: 40 })];
      await post(agent, batches);
      await waitFor(() => arrivedCount(batches) === spansIn(batches), `${spansIn(batches)} spans at the backend (${arrivedCount(batches)} so far)`, 45_000);
      const r = compare(batches, backend.received);
      assert.equal(r.missing, 0);
      assert.ok(gateway.queue.stats().rejectedFull > 0, 'the queue was full at times');
      // The frame waited at the gateway (the message kept in progress), not handed back: handing it
      // back drops the stream's state, and the next frame costs a replay of the epoch.
      assert.equal(await counter(gateway.metrics, 'requests', { receiver: 'jetstream', outcome: 'busy' }), 0);
      assert.equal(await counter(gateway.metrics, 'jetstreamLostFrames'), 0);
    } finally {
      backend.delayMs = 0;
      await agent.stop();
      await gateway.stop();
    }
  });

  it("a frame decoding to more than the gateway's whole queue goes in part by part as the queue drains: every span arrives, none lost", async () => {
    backend.received = [];
    backend.delayMs = 20;
    const t = transport('big');
    // 2,000-span frames decode to about 600 KiB of OTLP; the gateway's whole queue holds 256 KiB.
    const gateway = await startGateway({ ...t, 'limits.max_request_bytes': '32KiB', 'queue.max_bytes': '256KiB', 'backend.concurrency': 1 });
    const agent = await Agent.start(
      resolveServeConfig({}, { role: 'agent', listen: '127.0.0.1:0', 'grpc.enabled': false, 'queue.dir': join(dir, `aq${n++}`), 'batch.max_spans': 2000, 'batch.linger': '50ms', 'retry.max_interval': '500ms', ...t }),
      { log: quiet },
    );
    try {
      const batches = [...trafficData({ seed: 37, traces: 400, batchSpans: 500 })];
      assert.ok(spansIn(batches) > 4000);
      await post(agent, batches);
      await waitFor(() => arrivedCount(batches) === spansIn(batches), `${spansIn(batches)} spans at the backend (${arrivedCount(batches)} so far)`, 60_000);
      const r = compare(batches, backend.received);
      assert.equal(r.missing, 0);
      assert.equal(await counter(gateway.metrics, 'jetstreamLostFrames'), 0);
      assert.ok((await counter(gateway.metrics, 'receivedSpans', { receiver: 'jetstream' })) >= spansIn(batches));
    } finally {
      backend.delayMs = 0;
      await agent.stop();
      await gateway.stop();
    }
  });

  it('NATS credentials from files: the right password connects, a wrong one is one clear error', async () => {
    const secured = await new NatsServer(join(dir, 'nats-auth'), ['--user', 'slim', '--pass', 's3cret']).start();
    try {
      writeFileSync(join(dir, 'nats-pass'), 's3cret\n');
      writeFileSync(join(dir, 'nats-wrong'), 'guess\n');
      const t = (file: string): ConfigOverrides => ({ ...transport('auth'), 'transport.jetstream.servers': [secured.url], 'transport.jetstream.user': 'slim', 'transport.jetstream.password_file': join(dir, file) });
      const config = await loadServeConfig(undefined, { role: 'agent', listen: '127.0.0.1:0', 'grpc.enabled': false, 'queue.dir': join(dir, `aq${n++}`), ...t('nats-pass') });
      assert.equal(config.transport.jetstream?.password, 's3cret');
      const agent = await Agent.start(config, { log: quiet });
      await agent.stop();
      const wrong = await loadServeConfig(undefined, { role: 'agent', listen: '127.0.0.1:0', 'grpc.enabled': false, 'queue.dir': join(dir, `aq${n++}`), ...t('nats-wrong') });
      await assert.rejects(Agent.start(wrong, { log: quiet }), /cannot reach JetStream at nats:\/\/127\.0\.0\.1:\d+: Authorization Violation/);
    } finally {
      await secured.stop();
    }
  });
});
