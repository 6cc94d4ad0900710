// Shared by the receiver tests: a sink that records what it acknowledged and can refuse on cue, a
// real TracerProvider whose spans the stock exporters send, the independent expectation (the SDK's
// ProtobufTraceSerializer bytes decoded by protobufjs), span-by-span comparison at the message level,
// a google.rpc.Status decoder built with protobufjs (not slimtrace's), raw HTTP requests, and a
// self-signed certificate made with openssl at test time.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { SpanKind as ApiSpanKind, SpanStatusCode, ROOT_CONTEXT, trace as apiTrace, type HrTime } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { bytesToHex, diffTracesData, type TracesData } from '../../src/model/index.js';
import type { ReceivedRequest, SinkResult, TraceSink } from '../../src/pipeline/index.js';
import type { ReceiverMetrics, ReceiverRequestEvent } from '../../src/pipeline/receiver-common.js';
import { pbjsDecodeTraces } from '../helpers/protobufjs-oracle.js';

/** Decides the answer to the n-th call (0-based); returning normally accepts. */
export type SinkBehaviour = (request: ReceivedRequest, call: number) => Promise<SinkResult | void> | SinkResult | void;

/** Records every request it acknowledged (resolved), in order; `calls` counts refusals too. */
export class RecordingSink implements TraceSink {
  readonly accepted: ReceivedRequest[] = [];
  calls = 0;
  constructor(public behaviour?: SinkBehaviour) {}

  async accept(request: ReceivedRequest): Promise<SinkResult | void> {
    const n = this.calls++;
    const result = await this.behaviour?.(request, n);
    this.accepted.push(request);
    return result;
  }

  spans(): number {
    return this.accepted.reduce((n, r) => n + r.spans, 0);
  }
}

export class RecordingMetrics implements ReceiverMetrics {
  readonly events: ReceiverRequestEvent[] = [];
  request(event: ReceiverRequestEvent): void {
    this.events.push(event);
  }
  outcomes(): string[] {
    return this.events.map((e) => e.outcome);
  }
}

/** A promise with its resolve, for sinks that wait on the test. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves once `condition` holds; fails the test after `ms` instead of hanging the suite. */
export async function waitFor(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Wraps a stock exporter to see the result codes it reports (the processor hides them). */
export class ResultObserver implements SpanExporter {
  readonly results: { code: number; error?: Error }[] = [];
  constructor(readonly inner: SpanExporter) {}
  export(spans: ReadableSpan[], done: (r: { code: number; error?: Error }) => void): void {
    this.inner.export(spans, (r) => {
      this.results.push(r);
      done(r);
    });
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/**
 * Makes `count` spans (plus a few of every kind) through a real TracerProvider that sends them with
 * `exporter` in batches of `batch`, and returns the spans as the SDK finished them.
 */
export async function sendThroughSdk(exporter: SpanExporter, count = 40, batch = 16): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'receiver-test', 'service.instance.id': 'ïnstance-😀', 'host.cpu.count': 2, 'deployment.canary': true, 'host.tags': ['a', 'b'] }),
    spanProcessors: [
      new SimpleSpanProcessor({ exporter: memory }),
      new BatchSpanProcessor({ exporter, maxExportBatchSize: batch, scheduledDelayMillis: 10, maxQueueSize: 10_000 }),
    ],
  });
  const a = provider.getTracer('@slimtrace/receiver-test', '1.2.3', { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' });
  const b = provider.getTracer('second-scope');
  const t0: HrTime = [1_700_000_000, 0];
  const at = (ms: number): HrTime => [t0[0] + Math.floor(ms / 1000), (ms % 1000) * 1e6];
  for (let i = 0; i < count; i++) {
    const root = a.startSpan(`GET /item/${i}`, { kind: ApiSpanKind.SERVER, startTime: at(i), attributes: { 'http.status_code': 200 + (i % 3), ratio: i / 7, ok: i % 2 === 0, tags: ['x', `y${i}`] } });
    root.addEvent('cache miss', { key: `k${i}` }, at(i + 1));
    const ctx = apiTrace.setSpan(ROOT_CONTEXT, root);
    const child = b.startSpan('SELECT', { kind: i % 2 ? ApiSpanKind.CLIENT : ApiSpanKind.PRODUCER, startTime: at(i + 1), links: [{ context: root.spanContext(), attributes: { why: 'test' } }] }, ctx);
    if (i % 5 === 0) child.setStatus({ code: SpanStatusCode.ERROR, message: `failure ${i}` });
    child.end(at(i + 2));
    root.end(at(i + 3));
  }
  // A failed export rejects forceFlush; the tests read export results from a ResultObserver instead.
  await provider.forceFlush().catch(() => {});
  const finished = memory.getFinishedSpans() as ReadableSpan[]; // shutdown() empties the memory exporter
  await provider.shutdown();
  return finished;
}

/** What the SDK exported, decoded independently: the serializer's bytes through protobufjs. */
export function expectedFromSdk(spans: ReadableSpan[]): TracesData {
  const bytes = ProtobufTraceSerializer.serializeRequest(spans);
  if (!bytes) throw new Error('ProtobufTraceSerializer produced nothing');
  return pbjsDecodeTraces(bytes);
}

/** Each span as a one-span TracesData with its resource and scope, keyed by span id. */
export function spansById(batches: TracesData[]): Map<string, TracesData> {
  const out = new Map<string, TracesData>();
  for (const data of batches)
    for (const rs of data.resourceSpans)
      for (const ss of rs.scopeSpans)
        for (const span of ss.spans) {
          const key = bytesToHex(span.spanId);
          if (out.has(key)) throw new Error(`span ${key} received twice`);
          out.set(key, { resourceSpans: [{ ...rs, scopeSpans: [{ ...ss, spans: [span] }] }], unknownFields: undefined });
        }
  return out;
}

/** The first difference between what was sent and what arrived, span by span; undefined when equal. */
export function diffReceived(expected: TracesData, received: TracesData[]): string | undefined {
  const want = spansById([expected]);
  const got = spansById(received);
  if (want.size !== got.size) return `expected ${want.size} spans, received ${got.size}`;
  for (const [id, w] of want) {
    const g = got.get(id);
    if (!g) return `span ${id} did not arrive`;
    const d = diffTracesData(w, g);
    if (d) return `span ${id}: ${d}`;
  }
  return undefined;
}

// ---- google.rpc.Status through protobufjs ---------------------------------------------------------

const statusRoot = protobuf.Root.fromJSON({
  nested: {
    google: {
      nested: {
        rpc: {
          nested: {
            Status: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 }, details: { rule: 'repeated', type: 'Any', id: 3 } } },
            Any: { fields: { typeUrl: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
            RetryInfo: { fields: { retryDelay: { type: 'Duration', id: 1 } } },
            Duration: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
            BadRequest: { fields: { fieldViolations: { rule: 'repeated', type: 'FieldViolation', id: 1 } } },
            FieldViolation: { fields: { field: { type: 'string', id: 1 }, description: { type: 'string', id: 2 } } },
          },
        },
      },
    },
  },
});
const StatusType = statusRoot.lookupType('google.rpc.Status');
const RetryInfoType = statusRoot.lookupType('google.rpc.RetryInfo');
const BadRequestType = statusRoot.lookupType('google.rpc.BadRequest');

export interface OracleStatus {
  code: number;
  message: string;
  retryDelaySeconds?: number;
  badRequest?: { field: string; description: string }[];
  detailTypes: string[];
}

/** A protobuf google.rpc.Status decoded by protobufjs, its known details unpacked. */
export function oracleDecodeStatus(bytes: Uint8Array): OracleStatus {
  const m = StatusType.toObject(StatusType.decode(bytes), { longs: Number, defaults: true }) as {
    code: number;
    message: string;
    details: { typeUrl: string; value: Uint8Array }[];
  };
  const out: OracleStatus = { code: m.code, message: m.message, detailTypes: m.details.map((d) => d.typeUrl) };
  for (const d of m.details) {
    if (d.typeUrl === 'type.googleapis.com/google.rpc.RetryInfo') {
      const r = RetryInfoType.toObject(RetryInfoType.decode(d.value), { longs: Number, defaults: true }) as { retryDelay?: { seconds: number; nanos: number } };
      out.retryDelaySeconds = (r.retryDelay?.seconds ?? 0) + (r.retryDelay?.nanos ?? 0) / 1e9;
    } else if (d.typeUrl === 'type.googleapis.com/google.rpc.BadRequest') {
      const b = BadRequestType.toObject(BadRequestType.decode(d.value), { defaults: true }) as { fieldViolations: { field: string; description: string }[] };
      out.badRequest = b.fieldViolations;
    }
  }
  return out;
}

// ---- raw HTTP ---------------------------------------------------------------------------------------

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  reusedSocket: boolean;
}

/** One HTTP request with exactly these headers and body (written in `chunks` when given). */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string | number>; body?: Uint8Array | string; chunks?: (Uint8Array | string)[]; agent?: http.Agent } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'POST', headers: options.headers, agent: options.agent ?? false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), reusedSocket: req.reusedSocket }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.chunks) {
      for (const c of options.chunks) req.write(c);
      req.end();
    } else req.end(options.body);
  });
}

// ---- TLS --------------------------------------------------------------------------------------------

/** A self-signed certificate for localhost / 127.0.0.1 made by openssl; undefined when openssl is missing. */
export function selfSignedCertificate(): { dir: string; certFile: string; keyFile: string; cert: Buffer; cleanup: () => void } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'slimtrace-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const config = join(dir, 'openssl.cnf');
  writeFileSync(
    config,
    ['[req]', 'distinguished_name = dn', 'x509_extensions = ext', 'prompt = no', '[dn]', 'CN = localhost', '[ext]', 'subjectAltName = DNS:localhost, IP:127.0.0.1', 'basicConstraints = critical, CA:true', ''].join('\n'),
  );
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-keyout', keyFile, '-out', certFile, '-config', config], { stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return { dir, certFile, keyFile, cert: readFileSync(certFile), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
