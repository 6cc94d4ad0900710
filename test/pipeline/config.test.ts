// `slimtrace serve` configuration: defaults that just work for the two one-flag commands, a YAML file
// with flags on top, and every problem reported at once, one line each, named by its key.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadServeConfig, resolveServeConfig } from '../../src/pipeline/config.js';

function problems(doc: unknown, overrides = {}): string[] {
  try {
    resolveServeConfig(doc, overrides);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('serve configuration', () => {
  it('an agent needs only its gateway', () => {
    const c = resolveServeConfig({}, { role: 'agent', gateways: 'http://gw:4319' });
    assert.equal(c.role, 'agent');
    assert.deepEqual(c.listen, { host: '0.0.0.0', port: 4318 });
    assert.deepEqual(c.grpc, { host: '0.0.0.0', port: 4317 });
    assert.deepEqual(c.gateways, ['http://gw:4319']);
    assert.equal(c.maxRequestBytes, 64 * 1024 * 1024);
    assert.equal(c.queue.maxBytes, 1024 ** 3);
    assert.equal(c.sampling, undefined);
  });

  it('a gateway needs only its backend', () => {
    const c = resolveServeConfig({}, { role: 'gateway', 'backend.url': 'http://collector:4318/v1/traces' });
    assert.deepEqual(c.listen, { host: '0.0.0.0', port: 4319 });
    assert.equal(c.grpc, undefined);
    assert.equal(c.backend?.url, 'http://collector:4318/v1/traces');
    assert.equal(c.backend?.compression, 'gzip');
  });

  it('reads sizes, durations, addresses and sampling from YAML; flags win', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slimtrace-config-'));
    const file = join(dir, 'agent.yaml');
    writeFileSync(
      file,
      `role: agent
listen: 127.0.0.1:14318
gateways: [http://gw-0:4319, https://gw-1:4319]
queue: { dir: /var/lib/slimtrace, max_bytes: 512MiB }
sampling:
  strategy: autoscope
  analysis: analysis.json
  target_reduction: 0.85
  decision_wait: 30s
  price: tracezip
  drop_quiet_traces: true
  debt_limit: 5000
batch: { max_spans: 4096, linger: 250ms }
auth: { bearer_token_file: ${join(dir, 'token')} }
`,
    );
    writeFileSync(join(dir, 'token'), 'tok3n\n');
    const c = await loadServeConfig(file, { listen: ':5000' });
    assert.deepEqual(c.listen, { host: '0.0.0.0', port: 5000 });
    assert.deepEqual(c.gateways, ['http://gw-0:4319', 'https://gw-1:4319']);
    assert.deepEqual(c.queue, { dir: '/var/lib/slimtrace', maxBytes: 512 * 1024 * 1024 });
    assert.deepEqual(c.sampling, { strategy: 'autoscope', analysis: 'analysis.json', targetReduction: 0.85, decisionWaitMs: 30_000, bytesPerSecond: undefined, price: 'tracezip', dropQuietTraces: true, debtLimit: 5000 });
    assert.equal(c.batchSpans, 4096);
    assert.equal(c.lingerMs, 250);
    assert.equal(c.bearerToken, 'tok3n');
  });

  it('reports every problem at once, one line each, with a suggestion for a misspelt key', () => {
    const p = problems({
      role: 'agent',
      listen: 'localhost',
      gateways: ['http://ok:1', 'ftp://nope'],
      queue: { max_bytes: 'lots', dri: '/x' },
      sampling: { target_reduction: 2, price: 'bytes', drop_quiet_traces: 'yes', debt_limit: -1 },
      batch: { linger: 'soon' },
      colour: 'blue',
    });
    assert.deepEqual(p, [
      'listen: expected HOST:PORT (e.g. 0.0.0.0:4318, or :4318), got "localhost"',
      'queue.max_bytes: expected a size such as 512MiB or 1GiB, got "lots"',
      'gateways[1]: expected an http(s) URL, got "ftp://nope"',
      'batch.linger: expected a duration such as 500ms, 10s or 5m, got "soon"',
      'sampling.target_reduction: expected a number from 0 to 0.999, got 2',
      'sampling.drop_quiet_traces: expected true or false, got "yes"',
      'sampling.debt_limit: expected a number from 0 to 1000000000, got -1',
      "sampling.price: must be otlp or tracezip, got 'bytes'",
      'queue.dri: unknown key (did you mean queue.dir?)',
      'colour: unknown key',
    ]);
  });

  it('says what each role is missing or must not have', () => {
    assert.deepEqual(problems({}), ["role: required: 'agent' or 'gateway' (--role)"]);
    assert.deepEqual(problems({ role: 'agent' }), ['gateways: an agent needs at least one gateway URL (--gateway URL)']);
    assert.deepEqual(problems({ role: 'gateway' }), ['backend.url: a gateway needs a backend (--backend URL) or file_output (--file-output FILE)']);
    assert.deepEqual(problems({ role: 'gateway', backend: { url: 'http://b' }, sampling: { strategy: 'head' } }), ['sampling: only an agent has sampling']);
    assert.deepEqual(problems({ role: 'agent', gateways: 'http://g', backend: { url: 'http://b' } }), ['backend: only a gateway exports to a backend; an agent sends to its gateways']);
    assert.deepEqual(problems({ role: 'gateway', backend: { url: 'http://b' }, tls: { cert_file: 'c.pem' } }), ['tls: cert_file and key_file go together']);
    assert.deepEqual(problems({ role: 'router' }), ['role: expected one of agent, gateway, got "router"', "role: required: 'agent' or 'gateway' (--role)"]);
    assert.deepEqual(problems([1, 2]), ['the configuration must be a mapping of keys to values']);
    assert.deepEqual(problems({ role: 'agent', gateways: 'http://g', queue: { max_bytes: '256KiB' } }), [
      'queue.max_bytes (262144 bytes) must be at least twice limits.max_request_bytes (67108864 bytes): raise the one or lower the other',
    ]);
  });

  it('names the file when it cannot be read or parsed', async () => {
    await assert.rejects(loadServeConfig('/nonexistent/slimtrace.yaml', {}), /\/nonexistent\/slimtrace\.yaml: cannot read the configuration/);
    const dir = mkdtempSync(join(tmpdir(), 'slimtrace-config-'));
    writeFileSync(join(dir, 'bad.yaml'), 'role: [agent\n');
    await assert.rejects(loadServeConfig(join(dir, 'bad.yaml'), {}), /bad\.yaml: not valid YAML/);
    writeFileSync(join(dir, 'empty-token'), '\n');
    await assert.rejects(loadServeConfig(undefined, { role: 'agent', gateways: 'http://g', 'auth.bearer_token_file': join(dir, 'empty-token') }), /the bearer token file is empty/);
  });

  it('transport: JetStream from --nats, with its defaults; agents then need no gateway URL', () => {
    const a = resolveServeConfig({}, { role: 'agent', 'transport.jetstream.servers': ['nats://nats:4222'] });
    assert.equal(a.transport.kind, 'jetstream');
    assert.deepEqual(a.transport.jetstream?.servers, ['nats://nats:4222']);
    assert.equal(a.transport.jetstream?.stream, 'SLIMTRACE');
    assert.equal(a.transport.jetstream?.subjectPrefix, 'slimtrace');
    assert.equal(a.transport.jetstream?.discard, 'new');
    const g = resolveServeConfig({ transport: { kind: 'jetstream', jetstream: { servers: 'nats://a:4222,tls://b:4222', consumer: 'gw', ack_wait: '10s', max_epoch_frames: 64 } } }, { role: 'gateway', 'backend.url': 'http://c:4318/v1/traces' });
    assert.deepEqual(g.transport.jetstream?.servers, ['nats://a:4222', 'tls://b:4222']);
    assert.equal(g.transport.jetstream?.consumer, 'gw');
    assert.equal(g.transport.jetstream?.ackWaitMs, 10_000);
    assert.equal(g.transport.jetstream?.maxEpochFrames, 64);
    assert.equal(resolveServeConfig({}, { role: 'agent', gateways: 'http://gw:4319' }).transport.kind, 'http');
  });

  it('transport: every JetStream problem on its own line, with suggestions for misspelt keys', () => {
    const p = problems(
      { transport: { kind: 'jetstream', jetstream: { servers: ['http://nats:4222'], stream: 'a.b', subject_prefix: 'x.*', discard: 'oldest', max_ack_pendng: 5 } } },
      { role: 'agent', gateways: 'http://gw:4319' },
    );
    assert.ok(p.some((l) => l.startsWith('transport.jetstream.servers[0]: expected a NATS URL')), p.join('\n'));
    assert.ok(p.some((l) => l.startsWith('transport.jetstream.stream: expected a name')), p.join('\n'));
    assert.ok(p.some((l) => l.startsWith('transport.jetstream.subject_prefix: expected dot-separated')), p.join('\n'));
    assert.ok(p.some((l) => l.startsWith('transport.jetstream.discard: expected one of new, old')), p.join('\n'));
    assert.ok(p.some((l) => l === 'transport.jetstream.max_ack_pendng: unknown key (did you mean transport.jetstream.max_ack_pending?)'), p.join('\n'));
    assert.ok(p.some((l) => l.startsWith('gateways: with transport.kind jetstream')), p.join('\n'));
    assert.ok(problems({ transport: { kind: 'jetstream' } }, { role: 'agent' }).some((l) => l.startsWith('transport.jetstream.servers: the JetStream transport needs')));
    assert.ok(problems({ transport: { kind: 'http', jetstream: { stream: 'X' } } }, { role: 'agent', gateways: 'http://gw:4319' }).some((l) => l.startsWith("transport.jetstream: set, but transport.kind is 'http'")));
  });
});
