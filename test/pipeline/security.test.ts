// Agent -> gateway over TLS with a bearer token, end to end (a certificate made with openssl at test
// time; skipped with a message when openssl is missing): every span arrives, equal at the message
// level. And a token that does not match: the gateway answers 401, the agent keeps the spans in its
// queue, backs off instead of hammering, says what is wrong in its log and /healthz, and once it is
// restarted with the right token on the same queue, everything it acknowledged arrives.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TracesData } from '../../src/model/index.js';
import { encodeTracesData } from '../../src/otlp/index.js';
import { trafficData } from '../../src/generator/index.js';
import { Agent, Gateway, resolveServeConfig } from '../../src/pipeline/index.js';
import { FaultyBackend, spanIds, waitUntil } from './fault-harness.js';
import { diffReceived, rawRequest, selfSignedCertificate } from './receiver-helpers.js';

const PROTO = { 'content-type': 'application/x-protobuf' };
const RETRY = { retry: { initial_interval: '50ms', max_interval: '400ms' } };
const tls = selfSignedCertificate();

describe('agent -> gateway security', { timeout: 120_000 }, () => {
  let dir: string;
  let backend: FaultyBackend;
  let gateway: Gateway;
  let gatewayUrl: string;
  const agents: Agent[] = [];
  const batches: TracesData[] = [...trafficData({ seed: 31, traces: 80, batchSpans: 40 })];

  before(async () => {
    if (!tls) return;
    dir = mkdtempSync(join(tmpdir(), 'slimtrace-security-'));
    backend = await new FaultyBackend().start();
    const doc = { ...RETRY, auth: { bearer_token: 'right-token' }, tls: { cert_file: tls.certFile, key_file: tls.keyFile } };
    gateway = await Gateway.start(resolveServeConfig(doc, { role: 'gateway', listen: '127.0.0.1:0', 'backend.url': backend.url, 'queue.dir': join(dir, 'gq') }), { log: () => {} });
    gatewayUrl = `https://localhost:${gateway.address.port}`;
  });
  after(async () => {
    for (const a of agents) await a.stop();
    await gateway?.stop();
    await backend?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    tls?.cleanup();
  });

  async function agentWith(token: string, queue: string, log: string[]): Promise<Agent> {
    const doc = { ...RETRY, auth: { bearer_token: token }, tls: { ca_file: tls!.certFile } };
    const a = await Agent.start(resolveServeConfig(doc, { role: 'agent', listen: '127.0.0.1:0', 'grpc.enabled': false, gateways: gatewayUrl, 'queue.dir': queue, 'batch.linger': '20ms' }), { log: (l) => log.push(l) });
    agents.push(a);
    return a;
  }

  async function send(a: Agent, list: TracesData[]): Promise<void> {
    for (const b of list) assert.equal((await rawRequest(`http://127.0.0.1:${a.addresses.http.port}/v1/traces`, { headers: PROTO, body: encodeTracesData(b) })).status, 200);
  }

  it('TLS with the right token: every span arrives, equal at the message level', { skip: tls ? false : 'openssl is not installed: no certificate to test TLS with' }, async () => {
    const agent = await agentWith('right-token', join(dir, 'aq-right'), []);
    const list = batches.slice(0, 10);
    await send(agent, list);
    const ids = list.flatMap(spanIds);
    await waitUntil(() => backend.missing(ids).length === 0, 'every span at the backend over TLS', 30_000);
    assert.equal(diffReceived({ resourceSpans: list.flatMap((b) => b.resourceSpans) }, backend.received), undefined);
    const wire = await (await fetch(`http://127.0.0.1:${agent.addresses.http.port}/metrics`)).text();
    assert.match(wire, /slimtrace_wire_bytes_total\{[^}]*direction="sent"[^}]*stage="tracezip"[^}]*\} [1-9]/);
  });

  it('a wrong token: 401, no data lost, backoff, said in the log and /healthz; fixed by a restart with the right token', { skip: tls ? false : 'openssl is not installed: no certificate to test TLS with' }, async () => {
    const queue = join(dir, 'aq-wrong');
    const log: string[] = [];
    const wrong = await agentWith('wrong-token', queue, log);
    const list = batches.slice(10, 20);
    await send(wrong, list);
    await waitUntil(() => log.some((l) => /HTTP 401/.test(l)), 'the agent to log the 401', 30_000);
    const line = log.find((l) => /HTTP 401/.test(l))!;
    assert.match(line, /bearer token/);
    assert.match(line, /wait in the queue/);
    const health = JSON.parse((await rawRequest(`http://127.0.0.1:${wrong.addresses.http.port}/healthz`, { method: 'GET' })).body.toString()) as { problem?: string; queue: { records: number } };
    assert.match(health.problem ?? '', /401/);
    assert.ok(health.queue.records > 0, 'the spans wait in the queue');
    // Backoff, not a busy loop: over a second, a handful of attempts at most (max_interval 400 ms).
    const before = await refusedRetries(wrong);
    assert.ok(before > 0, 'the refusals are counted as retries');
    await new Promise((ok) => setTimeout(ok, 1000));
    const during = (await refusedRetries(wrong)) - before;
    assert.ok(during <= 10, `${during} refused frames in a second`);
    assert.equal(log.filter((l) => /HTTP 401/.test(l)).length, 1, 'logged once, not per attempt');
    const ids = list.flatMap(spanIds);
    assert.equal(ids.filter((id) => backend.seen.has(id)).length, 0, 'nothing got past the gateway');
    // The operator fixes the token and restarts the agent on the same queue.
    await wrong.stop();
    agents.splice(agents.indexOf(wrong), 1);
    const fixed = await agentWith('right-token', queue, []);
    await waitUntil(() => backend.missing(ids).length === 0, 'every acknowledged span after the fix', 30_000);
    await waitUntil(() => fixed.queue.stats().depthRecords === 0, 'the queue to empty');
  });

  /** Frames the agent had refused and retried, from its /metrics. */
  async function refusedRetries(a: Agent): Promise<number> {
    const text = (await rawRequest(`http://127.0.0.1:${a.addresses.http.port}/metrics`, { method: 'GET' })).body.toString();
    const m = /slimtrace_exporter_retries_total\{[^}]*reason="gateway refused the frame"[^}]*\} (\d+)/.exec(text);
    return m ? Number(m[1]) : 0;
  }
});
