// The OTLP/HTTP exporter against a real HTTP server on loopback that answers as backends do:
// throttling with Retry-After, transient 502/503/504, permanent 400/500 with a google.rpc.Status,
// partial success, silence, and a backend that is down and then comes up. Plus the backoff rules.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { encodeTraceResponse, encodeTracesData, decodeTracesData } from '../../src/otlp/index.js';
import { tracesDataEqual } from '../../src/model/index.js';
import { trafficData } from '../../src/generator/index.js';
import { OtlpHttpExporter } from '../../src/pipeline/exporter-otlp-http.js';
import { Backoff, DEFAULT_RETRY_POLICY, isRetryableStatus, parseRetryAfter } from '../../src/pipeline/retry.js';

type Handler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void;

async function backend(handler: Handler, port = 0): Promise<{ server: Server; url: string; requests: Buffer[] }> {
  const requests: Buffer[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      requests.push(body);
      handler(req, body, res);
    });
  });
  await new Promise<void>((ok) => server.listen(port, '127.0.0.1', ok));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, requests };
}

const close = (s: Server): Promise<void> => new Promise((ok) => s.close(() => ok()));
const FAST = { initialIntervalMs: 5, maxIntervalMs: 20, randomizationFactor: 0 };

/** google.rpc.Status { code, message } as protobuf. */
function status(code: number, message: string): Buffer {
  const m = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from([0x08, code, 0x12, m.length]), m]);
}

const request = encodeTracesData([...trafficData({ seed: 3, traces: 5 })][0]!);

describe('OtlpHttpExporter', () => {
  it('delivers gzip-compressed OTLP protobuf that the backend decodes to the same request', async () => {
    const b = await backend((_req, _body, res) => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
    const exporter = new OtlpHttpExporter({ url: b.url, retry: FAST });
    try {
      const out = await exporter.deliver(request);
      assert.deepEqual(out, { kind: 'delivered', attempts: 1, rejectedSpans: 0n, errorMessage: '' });
      assert.equal(b.requests.length, 1);
      assert.ok(tracesDataEqual(decodeTracesData(b.requests[0]!), decodeTracesData(request)));
    } finally {
      exporter.close();
      await close(b.server);
    }
  });

  it('retries 503, 429, 502 and 504 (honouring Retry-After), then delivers', async () => {
    const answers = [503, 429, 502, 504, 200];
    const b = await backend((_req, _body, res) => {
      const code = answers.shift()!;
      res.writeHead(code, code === 503 || code === 429 ? { 'retry-after': '0' } : {}).end();
    });
    const exporter = new OtlpHttpExporter({ url: b.url, retry: FAST });
    const retries: string[] = [];
    try {
      const out = await exporter.deliver(request, undefined, { onRetry: (reason, delay) => retries.push(`${reason}/${delay}`) });
      assert.equal(out.kind, 'delivered');
      assert.equal(out.attempts, 5);
      assert.deepEqual(retries, ['HTTP 503/0', 'HTTP 429/0', 'HTTP 502/11', 'HTTP 504/17']);
    } finally {
      exporter.close();
      await close(b.server);
    }
  });

  it('does not retry 400 or 500: refused with the Status message, sent once', async () => {
    for (const code of [400, 500, 404]) {
      const b = await backend((_req, _body, res) => res.writeHead(code, { 'content-type': 'application/x-protobuf' }).end(status(3, 'span has no trace id')));
      const exporter = new OtlpHttpExporter({ url: b.url, retry: FAST });
      try {
        const out = await exporter.deliver(request);
        assert.deepEqual(out, { kind: 'refused', attempts: 1, status: code, message: 'span has no trace id' });
        assert.equal(b.requests.length, 1);
      } finally {
        exporter.close();
        await close(b.server);
      }
    }
  });

  it('reports a partial success', async () => {
    const body = encodeTraceResponse({ partialSuccess: { rejectedSpans: 3n, errorMessage: 'too old', unknownFields: undefined }, unknownFields: undefined });
    const b = await backend((_req, _body, res) => res.writeHead(200).end(body));
    const exporter = new OtlpHttpExporter({ url: b.url, retry: FAST });
    try {
      assert.deepEqual(await exporter.deliver(request), { kind: 'delivered', attempts: 1, rejectedSpans: 3n, errorMessage: 'too old' });
    } finally {
      exporter.close();
      await close(b.server);
    }
  });

  it('keeps trying while the backend is down and delivers once it is up', async () => {
    const probe = await backend(() => {});
    const port = (probe.server.address() as AddressInfo).port;
    await close(probe.server);
    const exporter = new OtlpHttpExporter({ url: `http://127.0.0.1:${port}/v1/traces`, retry: FAST });
    let up: Awaited<ReturnType<typeof backend>> | undefined;
    let refused = 0;
    try {
      const delivered = exporter.deliver(request, undefined, {
        onRetry: (reason) => {
          if (reason.startsWith('ECONNREFUSED')) refused++;
          if (refused === 3 && !up) void backend((_r, _b, res) => res.writeHead(200).end(), port).then((b) => (up = b));
        },
      });
      const out = await delivered;
      assert.equal(out.kind, 'delivered');
      assert.ok(refused >= 3, `connection refused ${refused} times first`);
      assert.equal(up!.requests.length, 1);
    } finally {
      exporter.close();
      if (up) await close(up.server);
    }
  });

  it('times out a backend that never answers and retries', async () => {
    let calls = 0;
    const b = await backend((_req, _body, res) => {
      if (++calls === 2) res.writeHead(200).end();
      // the first request is never answered
    });
    const exporter = new OtlpHttpExporter({ url: b.url, timeoutMs: 100, retry: FAST });
    try {
      const out = await exporter.deliver(request);
      assert.equal(out.kind, 'delivered');
      assert.equal(out.attempts, 2);
    } finally {
      exporter.close();
      b.server.closeAllConnections();
      await close(b.server);
    }
  });

  it('stops when aborted (shutdown): the request stays with the caller', async () => {
    const b = await backend((_req, _body, res) => res.writeHead(503, { 'retry-after': '30' }).end());
    const exporter = new OtlpHttpExporter({ url: b.url, retry: FAST });
    const ac = new AbortController();
    try {
      const p = exporter.deliver(request, ac.signal);
      setTimeout(() => ac.abort(new Error('shutting down')), 50);
      await assert.rejects(p, /shutting down/);
    } finally {
      exporter.close();
      await close(b.server);
    }
  });

  it('refuses a URL that is not http(s)', () => {
    assert.throws(() => new OtlpHttpExporter({ url: 'ftp://x/v1/traces' }), /not an http\(s\) URL/);
    assert.throws(() => new OtlpHttpExporter({ url: 'localhost:4318' }), /not an http\(s\) URL|not a URL/);
  });
});

describe('retry rules', () => {
  it('retries exactly 429, 502, 503 and 504', () => {
    const retryable = [];
    for (let s = 100; s < 600; s++) if (isRetryableStatus(s)) retryable.push(s);
    assert.deepEqual(retryable, [429, 502, 503, 504]);
  });

  it('reads Retry-After as seconds or an HTTP date; ignores garbage', () => {
    assert.equal(parseRetryAfter('7'), 7000);
    assert.equal(parseRetryAfter(['2', '9']), 2000);
    const now = Date.parse('2026-12-04T10:00:00Z');
    assert.equal(parseRetryAfter('Fri, 04 Dec 2026 10:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Fri, 04 Dec 2026 09:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter('-3'), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
  });

  it('backs off exponentially within the jitter band, up to the cap; Retry-After wins up to its own cap', () => {
    let r = 0;
    const randoms = [0, 1, 0.5, 0.5, 0.5, 0.5, 0.5];
    const b = new Backoff(DEFAULT_RETRY_POLICY, () => randoms[r++]!, 0);
    assert.equal(b.next(undefined, 0), 2500); // 5 s x (1 - 0.5)
    assert.equal(b.next(undefined, 0), 11250); // 7.5 s x 1.5
    assert.equal(b.next(undefined, 0), 11250); // 11.25 s
    assert.equal(b.next(undefined, 0), 16875);
    assert.equal(b.next(undefined, 0), 25313);
    assert.equal(b.next(undefined, 0), 30000); // capped
    assert.equal(b.next(45_000, 0), 45_000, 'a server may ask for longer than the cap');
    assert.equal(b.next(3_600_000, 0), 600_000, 'but not for an hour');
    assert.equal(b.failures, 8);
  });

  it('gives up only when a time limit is set', () => {
    const b = new Backoff({ ...DEFAULT_RETRY_POLICY, maxElapsedMs: 10_000, randomizationFactor: 0 }, Math.random, 0);
    assert.equal(b.next(undefined, 0), 5000);
    assert.equal(b.next(undefined, 5000), undefined, '5 s + 7.5 s is past 10 s');
  });
});
