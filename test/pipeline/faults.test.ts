// The pipeline under faults, with real processes (`slimtrace serve`) killed for real: a gateway
// SIGKILLed and restarted mid-stream, a backend that throttles with 503 + Retry-After, a backend down
// for 30 s, a full agent queue, an agent SIGKILLed with a non-empty queue and with spans still held by
// its sampler, SIGTERM while the backend is down, and three gateways with one killed mid-stream.
// Every time: every span the agent acknowledged reaches the backend (with a sampler, every trace it
// must keep: all of them, or with --drop-quiet-traces every one with an error), duplicates stay within
// the documented bound, and memory stays under the cap.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trafficData } from '../../src/generator/index.js';
import { bytesToHex, forEachSpan, type TracesData } from '../../src/model/index.js';
import { FaultyBackend, LoadClient, startService, stopService, totalSpans, waitUntil, type Service } from './fault-harness.js';

/** Memory cap for an agent or gateway in these runs (the issue asks for memory under the configured cap). */
const MEMORY_CAP_BYTES = 512 * 1024 * 1024;

let dir: string;
const running: Service[] = [];
const backends: FaultyBackend[] = [];

/** A backend that `after` stops even when a scenario fails half-way (an open server would keep the file's process alive). */
function startBackend(): Promise<FaultyBackend> {
  const b = new FaultyBackend();
  backends.push(b);
  return b.start();
}

function fresh(name: string): string {
  const d = join(dir, `${name}-${Math.random().toString(36).slice(2, 8)}`);
  return d;
}

/** A YAML configuration file with quick retries, so outages end in seconds, not the defaults' 30 s. */
function configFile(extra = ''): string {
  const f = join(dir, `config-${Math.random().toString(36).slice(2, 8)}.yaml`);
  writeFileSync(f, `retry: { initial_interval: 100ms, max_interval: 1s }\nshutdown_timeout: 5s\n${extra}`);
  return f;
}

async function gatewayAt(port: number, backend: FaultyBackend, queueDir: string, config = configFile()): Promise<Service> {
  const s = await startService(['--role', 'gateway', '--config', config, '--listen', `127.0.0.1:${port}`, '--backend', backend.url, '--queue-dir', queueDir]);
  running.push(s);
  return s;
}

async function agentAt(port: number, gateways: number[], queueDir: string, extra: string[] = [], config = configFile()): Promise<Service> {
  const s = await startService(['--role', 'agent', '--config', config, '--listen', `127.0.0.1:${port}`, '--no-grpc', ...gateways.flatMap((g) => ['--gateway', `http://127.0.0.1:${g}`]), '--queue-dir', queueDir, ...extra]);
  running.push(s);
  return s;
}

function traffic(seed: number, traces: number): TracesData[] {
  return [...trafficData({ seed, traces, batchSpans: 100 })];
}

/**
 * An agent whose sampler holds every span (a long decision wait: nothing sent, nothing acknowledged in
 * its queue) is sent `traffic(seed, 200)`, SIGKILLed, and restarted on the same port and queue with a
 * short wait: the queue gives everything back, the sampler decides, it goes out.
 */
async function killWhileSamplerHolds(sampling: (decisionWait: string) => string[], seed: number): Promise<{ backend: FaultyBackend; gw: Service; agent: Service; client: LoadClient; batches: TracesData[] }> {
  const backend = await startBackend();
  const gw = await gatewayAt(0, backend, fresh('gq'));
  const aqueue = fresh('aq');
  const first = await agentAt(0, [gw.port], aqueue, sampling('1h'));
  const agentPort = first.port;
  const client = new LoadClient(() => `http://127.0.0.1:${agentPort}/v1/traces`);
  const batches = traffic(seed, 200);
  for (const b of batches) assert.ok(await client.send(b));
  await new Promise((ok) => setTimeout(ok, 500));
  assert.equal(backend.spans, 0, 'nothing has left the sampler yet');
  await stopService(first, 'SIGKILL');
  const agent = await agentAt(agentPort, [gw.port], aqueue, sampling('1s'));
  return { backend, gw, agent, client, batches };
}

/** The checks every scenario ends with. */
async function assertNothingLost(backend: FaultyBackend, client: LoadClient, services: Service[], maxDuplicateSpans: number): Promise<void> {
  await waitUntil(() => backend.missing(client.acknowledged).length === 0, `every acknowledged span at the backend (${backend.missing(client.acknowledged).length} missing)`, 90_000);
  const dup = backend.duplicates();
  assert.ok(dup.spans <= maxDuplicateSpans, `duplicates ${dup.spans} spans (${dup.copies} copies) within the bound ${maxDuplicateSpans}`);
  for (const s of services) assert.ok(s.peakRss() < MEMORY_CAP_BYTES, `peak memory ${s.peakRss()} under the cap`);
}

describe('the pipeline under faults (real processes)', { timeout: 900_000 }, () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'slimtrace-faults-'));
  });
  after(async () => {
    for (const s of running) await stopService(s, 'SIGKILL').catch(() => undefined);
    for (const b of backends) await b.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('gateway SIGKILLed and restarted mid-stream: every acknowledged span arrives', async () => {
    const backend = await startBackend();
    const gqueue = fresh('gq');
    let gw = await gatewayAt(0, backend, gqueue);
    const gwPort = gw.port;
    const agent = await agentAt(0, [gwPort], fresh('aq'));
    const client = new LoadClient(() => `http://127.0.0.1:${agent.port}/v1/traces`);
    const batches = traffic(1, 400);
    for (let i = 0; i < batches.length; i++) {
      if (i === Math.floor(batches.length / 2)) {
        await stopService(gw, 'SIGKILL');
        gw = await gatewayAt(gwPort, backend, gqueue);
      }
      assert.ok(await client.send(batches[i]!));
    }
    assert.equal(client.acknowledged.size, totalSpans(batches));
    // Duplicates: what the gateway had queued but not yet exported when killed, and the frame in flight.
    await assertNothingLost(backend, client, [agent, gw], 2 * 4096 * 100);
    await stopService(agent);
    await stopService(gw);
    await backend.stop();
  });

  it('backend answering 503 with Retry-After, then recovering; then down for 30 s: nothing lost', async () => {
    const backend = await startBackend();
    const gw = await gatewayAt(0, backend, fresh('gq'));
    const agent = await agentAt(0, [gw.port], fresh('aq'));
    const client = new LoadClient(() => `http://127.0.0.1:${agent.port}/v1/traces`);
    const batches = traffic(2, 300);
    const third = Math.floor(batches.length / 3);
    backend.mode = '503';
    for (const b of batches.slice(0, third)) assert.ok(await client.send(b));
    await waitUntil(() => backend.requests >= 3, 'the gateway to be throttled a few times');
    backend.mode = 'ok';
    for (const b of batches.slice(third, 2 * third)) assert.ok(await client.send(b));
    // The backend goes away for 30 s while traffic goes on: it waits in the gateway's queue.
    await backend.stop();
    const downAt = Date.now();
    for (const b of batches.slice(2 * third)) assert.ok(await client.send(b));
    await new Promise((ok) => setTimeout(ok, Math.max(0, 30_000 - (Date.now() - downAt))));
    await backend.start();
    await assertNothingLost(backend, client, [agent, gw], 0);
    await stopService(agent);
    await stopService(gw);
    await backend.stop();
  });

  // With queues this small, one agent batch decodes to more than the gateway's record limit and even
  // its whole queue: the gateway splits it into records, or answers 413 (not 429) so the agent splits
  // the batch, instead of refusing the same frame for ever (it once stalled here).
  it('a full agent queue answers 429 (never drops); the client retries and everything arrives', async () => {
    const backend = await startBackend();
    await backend.stop(); // the backend is down: the gateway's queue fills, then the agent's
    const gw = await gatewayAt(0, backend, fresh('gq'), configFile('queue: { max_bytes: 256KiB }\nlimits: { max_request_bytes: 64KiB }\n'));
    const agent = await agentAt(0, [gw.port], fresh('aq'), [], configFile('queue: { max_bytes: 256KiB }\nlimits: { max_request_bytes: 64KiB }\n'));
    const client = new LoadClient(() => `http://127.0.0.1:${agent.port}/v1/traces`);
    const batches = traffic(3, 600);
    const pending: Promise<boolean>[] = [];
    for (const b of batches) pending.push(client.send(b, Date.now() + 120_000));
    await waitUntil(() => client.throttled > 0, 'the agent to answer 429 or 503 once its queue is full', 60_000);
    await backend.start();
    const results = await Promise.all(pending);
    assert.ok(results.every(Boolean), 'every request was acknowledged in the end');
    assert.equal(client.acknowledged.size, totalSpans(batches));
    await assertNothingLost(backend, client, [agent, gw], 0);
    await stopService(agent);
    await stopService(gw);
    await backend.stop();
  });

  it('agent SIGKILLed with a non-empty queue and with spans held by its sampler, then restarted', async () => {
    const { backend, gw, agent, client } = await killWhileSamplerHolds((wait) => ['--strategy', 'head', '--target-reduction', '0', '--decision-wait', wait], 4);
    await assertNothingLost(backend, client, [agent, gw], 0);
    await stopService(agent);
    await stopService(gw);
    await backend.stop();
  });

  // Autoscope keeps every trace, rooted: every acknowledged root arrives. With --drop-quiet-traces it
  // may drop the traces with nothing anomalous in them, so every root of a trace with an error does.
  // Either way every span that arrives hangs under a span that arrived too (re-parented to its
  // nearest kept ancestor), and none arrives twice.
  for (const quiet of [false, true]) {
    const title = quiet
      ? 'agent SIGKILLed while an Autoscope that may drop quiet traces holds every trace, then restarted: every acknowledged trace with an error arrives, intact'
      : 'agent SIGKILLed while an Autoscope priced in Tracezip bytes holds every trace, then restarted: every acknowledged trace arrives, intact';
    it(title, async () => {
      const sampling = (wait: string): string[] => ['--strategy', 'autoscope', '--price', 'tracezip', '--target-reduction', quiet ? '0.99' : '0.98', '--decision-wait', wait, ...(quiet ? ['--drop-quiet-traces'] : [])];
      const { backend, gw, agent, batches } = await killWhileSamplerHolds(sampling, 7);
      const roots = new Map<string, string>();
      const errorTraces = new Set<string>();
      const sent = new Set<string>();
      for (const b of batches)
        forEachSpan(b, (span) => {
          sent.add(bytesToHex(span.spanId));
          if (span.parentSpanId.length === 0) roots.set(bytesToHex(span.traceId), bytesToHex(span.spanId));
          if (span.status?.code === 2) errorTraces.add(bytesToHex(span.traceId));
        });
      assert.ok(errorTraces.size > 0);
      const expected = new Set([...roots].filter(([trace]) => !quiet || errorTraces.has(trace)).map(([, root]) => root));
      await waitUntil(() => backend.missing(expected).length === 0, `every expected root at the backend (${backend.missing(expected).length} missing)`, 90_000);
      await new Promise((ok) => setTimeout(ok, 1500)); // the last decisions' other spans
      let orphans = 0;
      for (const d of backend.received)
        forEachSpan(d, (span) => {
          assert.ok(sent.has(bytesToHex(span.spanId)), 'only spans that were sent arrive');
          if (span.parentSpanId.length > 0 && !backend.seen.has(bytesToHex(span.parentSpanId))) orphans++;
        });
      assert.equal(orphans, 0, 'no span arrives without its (re-)parent');
      assert.ok(backend.spans < sent.size / 2, `sampled: ${backend.spans} of ${sent.size} spans`);
      assert.equal(backend.duplicates().spans, 0);
      for (const s of [agent, gw]) assert.ok(s.peakRss() < MEMORY_CAP_BYTES);
      await stopService(agent);
      await stopService(gw);
      await backend.stop();
    });
  }

  it('SIGTERM while the backend is down keeps the queue for the next start', async () => {
    const backend = await startBackend();
    await backend.stop();
    const gqueue = fresh('gq');
    let gw = await gatewayAt(0, backend, gqueue);
    const gwPort = gw.port;
    const agent = await agentAt(0, [gwPort], fresh('aq'));
    const client = new LoadClient(() => `http://127.0.0.1:${agent.port}/v1/traces`);
    const batches = traffic(5, 150);
    for (const b of batches) assert.ok(await client.send(b));
    await waitUntil(() => /queue/.test(gw.log()) && agent.log().length > 0, 'logs');
    const code = await stopService(gw, 'SIGTERM');
    assert.equal(code, 0, gw.log());
    assert.match(gw.log(), /left in the queue for the next start/);
    await backend.start();
    gw = await gatewayAt(gwPort, backend, gqueue);
    // A graceful stop answers the frames in flight before it exits (their spans are in its queue, kept
    // for the next start), so the agent sends nothing again: no duplicates.
    await assertNothingLost(backend, client, [agent, gw], 0);
    await stopService(agent);
    await stopService(gw);
    await backend.stop();
  });

  it('three gateways, one SIGKILLed mid-stream: the agents fail over and nothing is lost', async () => {
    const backend = await startBackend();
    const gws = [await gatewayAt(0, backend, fresh('gq')), await gatewayAt(0, backend, fresh('gq')), await gatewayAt(0, backend, fresh('gq'))];
    const ports = gws.map((g) => g.port);
    const agents = [await agentAt(0, ports, fresh('aq')), await agentAt(0, ports, fresh('aq')), await agentAt(0, ports, fresh('aq'))];
    const clients = agents.map((a) => new LoadClient(() => `http://127.0.0.1:${a.port}/v1/traces`));
    const batches = traffic(6, 450);
    const half = Math.floor(batches.length / 2);
    await Promise.all(clients.map(async (c, k) => {
      for (let i = k; i < half; i += 3) assert.ok(await c.send(batches[i]!));
    }));
    await stopService(gws[0]!, 'SIGKILL');
    await Promise.all(clients.map(async (c, k) => {
      for (let i = half + k; i < batches.length; i += 3) assert.ok(await c.send(batches[i]!));
    }));
    const acknowledged = new Set(clients.flatMap((c) => [...c.acknowledged]));
    assert.equal(acknowledged.size, totalSpans(batches));
    // What the killed gateway had queued but not exported is lost with its disk in this test only if it
    // never restarts: restart it on its queue, as an orchestrator would.
    gws[0] = await gatewayAt(ports[0]!, backend, gws[0]!.log().match(/queue (\S+)/)![1]!);
    await assertNothingLost(backend, { acknowledged } as LoadClient, [...agents, ...gws.slice(1)], 3 * 4096 * 100);
    for (const s of [...agents, ...gws]) await stopService(s);
    await backend.stop();
  });
});
