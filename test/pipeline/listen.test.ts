// An agent or a gateway asked to listen where something already listens: a clear error that says
// what to change, and nothing left open (the same queue directory takes a new start at once, so its
// lock was released; the process is not kept alive by a half-started server).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/model/index.js';
import { Agent, Gateway, resolveServeConfig } from '../../src/pipeline/index.js';

const quiet = (): void => {};

async function occupied(): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => res.end());
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, port: (server.address() as AddressInfo).port };
}

test('a port in use: agent and gateway fail with a clear error, release their queue, and start on another port', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slimtrace-listen-'));
  const busy = await occupied();
  try {
    const gatewayConfig = (listen: string) => resolveServeConfig({}, { role: 'gateway', listen, 'grpc.enabled': false, 'backend.url': 'http://127.0.0.1:9/v1/traces', 'queue.dir': join(dir, 'gq') });
    await assert.rejects(Gateway.start(gatewayConfig(`127.0.0.1:${busy.port}`), { log: quiet }), (e: Error) => e instanceof InputError && /address is in use.*--listen/.test(e.message));
    const gateway = await Gateway.start(gatewayConfig('127.0.0.1:0'), { log: quiet });

    const agentConfig = (listen: string) =>
      resolveServeConfig({}, { role: 'agent', listen, 'grpc.enabled': false, gateways: `http://127.0.0.1:${gateway.addresses.http.port}`, 'queue.dir': join(dir, 'aq') });
    await assert.rejects(Agent.start(agentConfig(`127.0.0.1:${busy.port}`), { log: quiet }), (e: Error) => e instanceof InputError && /address is in use/.test(e.message));
    const agent = await Agent.start(agentConfig('127.0.0.1:0'), { log: quiet });
    assert.notEqual(agent.addresses.http.port, busy.port);
    await agent.stop();
    await gateway.stop();
  } finally {
    await new Promise((ok) => busy.server.close(ok));
    rmSync(dir, { recursive: true, force: true });
  }
});
