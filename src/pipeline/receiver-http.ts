// The OTLP/HTTP trace receiver (opentelemetry-proto docs/specification.md, "OTLP/HTTP"): POST of an
// ExportTraceServiceRequest as binary protobuf or JSON, gzip or deflate bodies inflated as a stream
// under a size limit, each decoded request handed to a TraceSink and acknowledged only once the
// sink's promise resolves. Every refusal is an HTTP status the stock exporters read correctly: 400
// and 413 are final, 429 and 503 (with Retry-After) are retried, and every 4xx/5xx carries a
// google.rpc.Status in the request's encoding. The server guards itself against slow and hostile
// clients: header and body timeouts, a cap on concurrent requests, a cap on the bytes read even
// when they inflate to nothing, and a drain limit for bodies it refuses.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { countSpans, type TracesData } from '../model/index.js';
import { InputError } from '../model/errors.js';
import { encodeTraceResponse, validateTracesData, type DecodeOptions } from '../otlp/protobuf.js';
import { decodeTracesJson, encodeTraceResponseJson } from '../otlp/json.js';
import { encodeStatus, encodeStatusJson, makeStatus, RpcCode, type StatusDetails } from './otlp-status.js';
import {
  defaultLog,
  InFlight,
  positiveOption,
  describeError,
  offerToSink,
  protobufRequest,
  readTlsFiles,
  type ReceiverLog,
  type ReceiverMetrics,
  type ReceiverOutcome,
  type ReceiverTlsOptions,
} from './receiver-common.js';
import type { BackpressureReason, TraceSink } from './sink.js';

/** The OTLP/HTTP default port (specification, "OTLP/HTTP Default Port"). */
export const DEFAULT_OTLP_HTTP_PORT = 4318;
/** The default URL path for trace requests. */
export const DEFAULT_OTLP_TRACES_PATH = '/v1/traces';
/**
 * Largest request body, after decompression, and largest body read off the wire. The specification
 * recommends 20 MiB and allows configuring it; slimtrace takes 64 MiB (issue 12) because an agent
 * also stands behind Collectors whose batches are not capped by default, and a 64 MiB request still
 * decodes in well under a second. Above it: 413, which clients do not retry.
 */
export const DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024;
/**
 * Requests admitted at once (from the headers to the answer, sink included). With the body limit it
 * bounds the memory of bodies held: a stock SDK sends one or a few requests at a time, so 32 serves
 * many processes per node; beyond it: 503 with Retry-After.
 */
export const DEFAULT_MAX_CONCURRENT_REQUESTS = 32;
/** Time for the request line and headers (slowloris). Exporters send them in one write. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/**
 * Time for the body once the headers are in: 64 MiB at 2.2 MB/s. The stock exporters give up on a
 * request after 10 s, so only a client that is not an exporter's request meets it.
 */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;
/**
 * Idle time before a kept-alive connection is closed: longer than the exporters' default 5 s batch
 * delay, so a steady client keeps its connection, and closing idle ones first avoids a request racing
 * the server's close (which stock exporters would see as ECONNRESET and retry).
 */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 30_000;
/** Retry-After answered with the receiver's own 503s (concurrency cap, shutting down). */
export const DEFAULT_OVERLOAD_RETRY_AFTER_SECONDS = 1;
/** How long close() waits for requests in flight before answering them 503 and closing. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

export interface OtlpHttpReceiverOptions {
  sink: TraceSink;
  /**
   * Interface to listen on. Default 'localhost', as the Collector does since v0.104, so an endpoint
   * without authentication is not exposed by accident; '0.0.0.0' (or '::') in a container or pod.
   */
  host?: string;
  /** Default 4318; 0 picks a free port (start() says which). */
  port?: number;
  /** Default '/v1/traces'. */
  path?: string;
  /** Limit on the body after decompression and on the bytes read; default 64 MiB. */
  maxRequestBytes?: number;
  maxConcurrentRequests?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  overloadRetryAfterSeconds?: number;
  /** Passed as is to decodeTracesData, and to decodeTracesJson as its limits (see decodeJsonBody). */
  decodeOptions?: DecodeOptions;
  /** Serve HTTPS with these PEM files instead of plain HTTP. */
  tls?: ReceiverTlsOptions;
  metrics?: ReceiverMetrics;
  /** Where 500s are reported (default: stderr). */
  log?: ReceiverLog;
  /**
   * Other endpoints on the same server, by path (the gateway's /v1/tracezip, /metrics, a health
   * check): they get the server's timeouts and keep-alive, answer for themselves, and are neither
   * counted in the concurrency cap; close() waits for their answers (up to its timeout) as for OTLP
   * requests, since an answer can acknowledge work already done.
   */
  routes?: Record<string, (req: IncomingMessage, res: ServerResponse) => void | Promise<void>>;
}

type BodyFormat = 'protobuf' | 'json';
type Coding = 'identity' | 'gzip' | 'deflate';

const CONTENT_TYPE: Record<BodyFormat, string> = { protobuf: 'application/x-protobuf', json: 'application/json' };
const RECEIVER = 'otlp-http';
const EMPTY_RESPONSE = { partialSuccess: undefined, unknownFields: undefined };

/** The body format a Content-Type names, or why it is not one this receiver takes. */
export function parseOtlpContentType(header: string | undefined): { format: BodyFormat } | { problem: string } {
  if (header === undefined || header.trim() === '') return { problem: 'missing Content-Type (application/x-protobuf or application/json)' };
  const [media, ...params] = header.split(';');
  const type = media!.trim().toLowerCase();
  if (type === 'application/x-protobuf') return { format: 'protobuf' };
  if (type !== 'application/json') return { problem: `unsupported Content-Type ${JSON.stringify(header)} (application/x-protobuf or application/json)` };
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq < 0 || p.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    const charset = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') return { problem: `unsupported charset ${JSON.stringify(charset)} for application/json (UTF-8 only)` };
  }
  return { format: 'json' };
}

/**
 * The content coding of a body. identity and gzip (x-gzip, its alias per RFC 9110) are what OTLP
 * requires; deflate (zlib) costs nothing more with node:zlib and is what grpc-js accepts too, so both
 * receivers take the same set. zstd, snappy and lz4, which a Collector's exporter can be set to, are
 * not taken (415): Node 20's zlib has no zstd, and none of them is a default of any OTLP exporter.
 */
export function parseContentEncoding(header: string | undefined): { coding: Coding } | { problem: string } {
  const codings = (header ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  if (codings.length === 0) return { coding: 'identity' };
  if (codings.length > 1) return { problem: `more than one content coding (${JSON.stringify(header)}) is not supported` };
  const c = codings[0]!;
  if (c === 'gzip' || c === 'x-gzip') return { coding: 'gzip' };
  if (c === 'deflate') return { coding: 'deflate' };
  return { problem: `unsupported Content-Encoding ${JSON.stringify(c)} (gzip, deflate or none)` };
}

/** HTTP status for a sink's Backpressure. */
export function backpressureStatus(reason: BackpressureReason): 429 | 503 {
  // 429 when this receiver is full (its queue or memory): the client should slow down. 503 when it
  // cannot serve at all right now (shutting down, its next hop unavailable): proxies and load
  // balancers read 503 as "try another instance". Stock exporters retry both, honouring Retry-After.
  return reason === 'queue-full' || reason === 'memory' ? 429 : 503;
}

type BodyRead =
  | { ok: true; body: Buffer; wireBytes: number }
  | { ok: false; status: 400 | 408 | 413; message: string; wireBytes: number; bodyBytes: number }
  | { ok: false; status: 'aborted'; wireBytes: number; bodyBytes: number };

/**
 * One request from admission to its answer. `answer` sends at most once; `force` is close()'s way to
 * answer a request still in flight at its deadline.
 */
class Exchange {
  answered = false;
  spans = 0;
  bodyBytes = 0;
  wireBytes: number | undefined;
  force: (() => void) | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly format: BodyFormat,
    private readonly metrics: ReceiverMetrics | undefined,
  ) {}

  /** Sends the response and reports the request's outcome; false when it was answered already. */
  answer(
    status: number,
    body: Uint8Array | string,
    outcome: ReceiverOutcome,
    accepted: number,
    refused: number,
    headers: Record<string, string> = {},
  ): boolean {
    if (this.answered) return false;
    this.answered = true;
    this.report(outcome, accepted, refused);
    if (this.res.headersSent || this.res.destroyed) return true;
    this.res.writeHead(status, { 'Content-Type': CONTENT_TYPE[this.format], 'Content-Length': String(Buffer.byteLength(body)), ...headers });
    this.res.end(body);
    return true;
  }

  /** A google.rpc.Status answer in the request's encoding. */
  fail(status: number, code: number, message: string, outcome: ReceiverOutcome, details?: StatusDetails, headers?: Record<string, string>): boolean {
    const body = this.format === 'json' ? encodeStatusJson(code, message, details) : encodeStatus(makeStatus(code, message, details));
    return this.answer(status, body, outcome, 0, this.spans, headers);
  }

  /** The client went away: nothing to answer, only to count. */
  abandon(): void {
    if (this.answered) return;
    this.answered = true;
    this.report('aborted', 0, this.spans);
  }

  private report(outcome: ReceiverOutcome, acceptedSpans: number, refusedSpans: number): void {
    this.metrics?.request({ receiver: RECEIVER, outcome, acceptedSpans, refusedSpans, bodyBytes: this.bodyBytes, wireBytes: this.wireBytes });
  }
}

export class OtlpHttpReceiver {
  private readonly sink: TraceSink;
  private readonly host: string;
  private readonly port: number;
  private readonly path: string;
  private readonly maxRequestBytes: number;
  private readonly maxConcurrent: number;
  private readonly headersTimeoutMs: number;
  private readonly bodyTimeoutMs: number;
  private readonly keepAliveTimeoutMs: number;
  private readonly overloadRetryAfter: number;
  private readonly decodeOptions: DecodeOptions | undefined;
  private readonly tls: ReceiverTlsOptions | undefined;
  private readonly metrics: ReceiverMetrics | undefined;
  private readonly log: ReceiverLog;
  private readonly routes: Map<string, (req: IncomingMessage, res: ServerResponse) => void | Promise<void>>;
  private server: http.Server | undefined;
  private closing = false;
  private readonly inFlight = new InFlight<Exchange>();
  /** Requests to `routes` being served; close() waits for their answers too. */
  private readonly routesInFlight = new Set<Promise<void>>();
  /** Set once close() stopped waiting: a route request after it could not have its answer written. */
  private routesClosed = false;

  constructor(options: OtlpHttpReceiverOptions) {
    this.sink = options.sink;
    this.host = options.host ?? 'localhost';
    this.port = options.port ?? DEFAULT_OTLP_HTTP_PORT;
    this.path = options.path ?? DEFAULT_OTLP_TRACES_PATH;
    this.maxRequestBytes = positiveOption(options.maxRequestBytes, DEFAULT_MAX_REQUEST_BYTES, 'OtlpHttpReceiver.maxRequestBytes');
    this.maxConcurrent = positiveOption(options.maxConcurrentRequests, DEFAULT_MAX_CONCURRENT_REQUESTS, 'OtlpHttpReceiver.maxConcurrentRequests');
    this.headersTimeoutMs = positiveOption(options.headersTimeoutMs, DEFAULT_HEADERS_TIMEOUT_MS, 'OtlpHttpReceiver.headersTimeoutMs');
    this.bodyTimeoutMs = positiveOption(options.bodyTimeoutMs, DEFAULT_BODY_TIMEOUT_MS, 'OtlpHttpReceiver.bodyTimeoutMs');
    this.keepAliveTimeoutMs = positiveOption(options.keepAliveTimeoutMs, DEFAULT_KEEP_ALIVE_TIMEOUT_MS, 'OtlpHttpReceiver.keepAliveTimeoutMs');
    this.overloadRetryAfter = options.overloadRetryAfterSeconds ?? DEFAULT_OVERLOAD_RETRY_AFTER_SECONDS;
    this.decodeOptions = options.decodeOptions;
    this.tls = options.tls;
    this.metrics = options.metrics;
    this.log = options.log ?? defaultLog;
    this.routes = new Map(Object.entries(options.routes ?? {}));
    if (this.routes.has(this.path)) throw new RangeError(`OtlpHttpReceiver: routes must not include the OTLP path ${this.path}`);
  }

  /** Requests admitted and not yet answered. */
  get requestsInFlight(): number {
    return this.inFlight.size;
  }

  /** Listens; resolves with the bound address (the port chosen when `port` was 0). */
  async start(): Promise<AddressInfo> {
    if (this.server) throw new Error('OtlpHttpReceiver already started');
    const serverOptions: http.ServerOptions = {
      headersTimeout: this.headersTimeoutMs,
      // Node's own whole-request limit, a backstop behind the body timer below (which answers with
      // a Status body); Node checks it every connectionsCheckingInterval.
      requestTimeout: this.headersTimeoutMs + this.bodyTimeoutMs + 1000,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, this.headersTimeoutMs / 4)),
      keepAliveTimeout: this.keepAliveTimeoutMs,
    };
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((e) => {
        // handle() answers every failure itself; reaching here is a bug in it.
        this.log(`otlp-http receiver: unexpected failure: ${describeError(e)}`);
        if (!res.headersSent) res.destroy();
      });
    };
    const server = this.tls ? https.createServer({ ...serverOptions, ...(await readTlsFiles(this.tls)) }, handler) : http.createServer(serverOptions, handler);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      server.once('error', onError);
      server.listen(this.port, this.host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    return server.address() as AddressInfo;
  }

  /**
   * Stops accepting connections, lets requests in flight finish for up to `timeoutMs`, then answers
   * those still waiting 503 (the client retries; if the sink took one after all, that is the
   * duplicate OTLP allows) and closes every connection.
   */
  async close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    const server = this.server;
    if (!server || this.closing) return;
    this.closing = true;
    // Answers still to come close their connections, so clients reconnect to whatever replaces us.
    for (const ex of this.inFlight.values()) if (!ex.res.headersSent) ex.res.setHeader('Connection', 'close');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await Promise.all([this.inFlight.settle(timeoutMs), this.settleRoutes(timeoutMs)]);
    this.routesClosed = true;
    // Give the forced answers a moment to be written before the sockets go.
    await new Promise((resolve) => setImmediate(resolve));
    server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const type = parseOtlpContentType(req.headers['content-type']);
    // Answers before the body is read are in the request's encoding when it names one, else protobuf.
    const ex = new Exchange(req, res, 'format' in type ? type.format : 'protobuf', this.metrics);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const route = this.routes.get(path);
    if (route) return this.serveRoute(route, req, res);
    if (path !== this.path) return this.refuseUnread(ex, () => ex.fail(404, RpcCode.NOT_FOUND, `no OTLP endpoint at ${path} (traces are POSTed to ${this.path})`, 'unsupported'));
    if (req.method !== 'POST') {
      return this.refuseUnread(ex, () => ex.fail(405, RpcCode.UNIMPLEMENTED, `method ${req.method} not allowed on ${this.path} (POST)`, 'unsupported', undefined, { Allow: 'POST' }));
    }
    if (this.closing) return this.refuseUnread(ex, () => this.overloaded(ex, 'the receiver is shutting down', true));
    if ('problem' in type) return this.refuseUnread(ex, () => ex.fail(415, RpcCode.INVALID_ARGUMENT, type.problem, 'unsupported'));
    const enc = parseContentEncoding(req.headers['content-encoding']);
    if ('problem' in enc) return this.refuseUnread(ex, () => ex.fail(415, RpcCode.INVALID_ARGUMENT, enc.problem, 'unsupported'));
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > this.maxRequestBytes) {
      return this.refuseUnread(ex, () => this.tooLarge(ex, `request body of ${declared} bytes exceeds the limit of ${this.maxRequestBytes} bytes`));
    }
    if (this.inFlight.size >= this.maxConcurrent) {
      return this.refuseUnread(ex, () => this.overloaded(ex, `too many concurrent requests (limit ${this.maxConcurrent}); retry later`, false));
    }
    this.inFlight.add(ex);
    try {
      await this.exchange(ex, enc.coding);
    } finally {
      // Counted until the sink answered, even if the client left: the cap bounds the sink's work too.
      this.inFlight.delete(ex);
    }
  }

  private async exchange(ex: Exchange, coding: Coding): Promise<void> {
    const { req, res } = ex;

    let abortRead: (() => void) | undefined;
    ex.force = () => {
      abortRead?.();
      this.overloaded(ex, 'the receiver is shutting down', true);
    };
    const read = await this.readBody(req, coding, (abort) => (abortRead = abort));
    ex.wireBytes = read.wireBytes;
    if (!read.ok) {
      ex.bodyBytes = read.bodyBytes;
      if (read.status === 'aborted') return ex.abandon();
      if (read.status === 413) this.tooLarge(ex, read.message);
      else if (read.status === 408) {
        res.setHeader('Connection', 'close');
        res.once('finish', () => req.socket.destroy());
        ex.fail(408, RpcCode.DEADLINE_EXCEEDED, read.message, 'timeout');
      } else ex.fail(400, RpcCode.INVALID_ARGUMENT, read.message, 'invalid', { badRequest: { description: read.message } });
      return;
    }
    if (ex.answered) return;
    ex.bodyBytes = read.body.length;

    let data: TracesData | undefined;
    let spans: number;
    try {
      // A protobuf body goes on as bytes (protobufRequest): it is only validated and counted here,
      // by a pass that refuses exactly what decodeTracesData refuses without building the objects.
      if (ex.format === 'json') spans = countSpans((data = decodeJsonBody(read.body, this.decodeOptions)));
      else spans = validateTracesData(read.body, this.decodeOptions);
    } catch (e) {
      if (e instanceof InputError) {
        const message = `malformed OTLP ${ex.format === 'json' ? 'JSON' : 'protobuf'} request: ${e.message}`;
        ex.fail(400, RpcCode.INVALID_ARGUMENT, message, 'invalid', { badRequest: { description: message } });
      } else this.internal(ex, e, 'decoding a request');
      return;
    }
    ex.spans = spans;
    // An empty request is a success (specification, "Full Success"); nothing to hand on.
    if (spans === 0) return void this.succeed(ex, 0, '');

    const request = data === undefined ? protobufRequest(read.body, spans, RECEIVER, this.decodeOptions) : { data, spans, receiver: RECEIVER };
    data = undefined;
    const answer = await offerToSink(this.sink, request);
    switch (answer.kind) {
      case 'accepted':
        return void this.succeed(ex, answer.rejectedSpans, answer.errorMessage);
      case 'backpressure': {
        const status = backpressureStatus(answer.reason);
        ex.fail(status, status === 429 ? RpcCode.RESOURCE_EXHAUSTED : RpcCode.UNAVAILABLE, answer.message, 'refused', { retryDelaySeconds: answer.retryAfterSeconds }, retryAfter(answer.retryAfterSeconds));
        return;
      }
      case 'invalid':
        ex.fail(400, RpcCode.INVALID_ARGUMENT, answer.message, 'invalid', { badRequest: { description: answer.message } });
        return;
      case 'error':
        return this.internal(ex, answer.error, 'in the sink');
    }
  }

  private async serveRoute(route: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>, req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A route's answer may acknowledge work already done (the gateway's frame endpoint answers
    // "applied" once the spans are in its queue): close() waits for it to be written, else the
    // sender would retry work that was done, a duplicate. Until it is written, or the client left.
    if (this.routesClosed) {
      // The connections are about to be cut: work started now could be done with its answer lost.
      req.resume();
      res.writeHead(503, { 'Content-Type': 'text/plain', 'Retry-After': String(this.overloadRetryAfter), Connection: 'close' }).end('shutting down; retry later\n');
      return;
    }
    const written = new Promise<void>((resolve) => {
      res.once('finish', resolve);
      res.once('close', resolve);
    });
    const served = (async () => {
      try {
        if (this.closing && !res.headersSent) res.setHeader('Connection', 'close');
        await route(req, res);
      } catch (e) {
        this.log(`otlp-http receiver: the handler of ${req.url} failed: ${describeError(e)}`);
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' }).end('internal error; see the log\n');
        else res.destroy();
      }
      if (res.writableEnded || res.destroyed) await written;
    })();
    this.routesInFlight.add(served);
    try {
      await served;
    } finally {
      this.routesInFlight.delete(served);
    }
  }

  /** Waits for route requests in flight (frames being applied) to be answered, for up to `timeoutMs`. */
  private async settleRoutes(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.routesInFlight.size > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...this.routesInFlight]), new Promise((resolve) => (timer = setTimeout(resolve, deadline - Date.now())))]);
      clearTimeout(timer);
    }
  }

  private succeed(ex: Exchange, rejectedSpans: number, errorMessage: string): void {
    // partial_success is set only when something was rejected or there is a warning to convey;
    // a full success leaves it unset, as the specification requires.
    const resp =
      rejectedSpans > 0 || errorMessage !== ''
        ? { partialSuccess: { rejectedSpans: BigInt(rejectedSpans), errorMessage, unknownFields: undefined }, unknownFields: undefined }
        : EMPTY_RESPONSE;
    const body = ex.format === 'json' ? encodeTraceResponseJson(resp) : encodeTraceResponse(resp);
    ex.answer(200, body, rejectedSpans > 0 ? 'partial' : 'accepted', ex.spans - rejectedSpans, rejectedSpans);
  }

  private tooLarge(ex: Exchange, message: string): void {
    ex.fail(413, RpcCode.RESOURCE_EXHAUSTED, message, 'too-large');
  }

  private overloaded(ex: Exchange, message: string, closeConnection: boolean): void {
    const headers = retryAfter(this.overloadRetryAfter);
    if (closeConnection) headers.Connection = 'close';
    ex.fail(503, RpcCode.UNAVAILABLE, message, 'overloaded', { retryDelaySeconds: this.overloadRetryAfter }, headers);
  }

  private internal(ex: Exchange, error: unknown, where: string): void {
    // Clients never retry a 500, so the data is dropped on their side: the log must say why.
    this.log(`otlp-http receiver: internal error ${where} (HTTP 500, the client drops the request): ${describeError(error)}`);
    ex.fail(500, RpcCode.INTERNAL, 'internal error in the receiver; see its log', 'error');
  }

  /**
   * Answers before reading the body, then reads and discards the body (so a kept-alive connection
   * stays usable and the client gets to read the answer) up to the body limit, beyond which the
   * connection is closed.
   */
  private refuseUnread(ex: Exchange, answer: () => void): void {
    discardBody(ex.req, this.maxRequestBytes);
    answer();
  }

  /** Reads the body, inflating as it arrives, under the size limits and the body timeout. */
  private readBody(req: IncomingMessage, coding: Coding, onAbortable: (abort: () => void) => void): Promise<BodyRead> {
    const limit = this.maxRequestBytes;
    return new Promise<BodyRead>((resolve) => {
      let wire = 0;
      let size = 0;
      let done = false;
      const chunks: Buffer[] = [];
      const inflater = coding === 'identity' ? undefined : coding === 'gzip' ? zlib.createGunzip() : zlib.createInflate();
      const finish = (result: BodyRead): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (inflater) {
          inflater.removeAllListeners('data');
          inflater.destroy();
        }
        if (!result.ok) {
          chunks.length = 0;
          // Whatever is still coming is read and dropped, up to the limit (see refuseUnread).
          if (result.status !== 'aborted') discardBody(req, limit);
        }
        req.resume();
        resolve(result);
      };
      const fail = (status: 400 | 408 | 413, message: string): void => finish({ ok: false, status, message, wireBytes: wire, bodyBytes: size });
      onAbortable(() => finish({ ok: false, status: 'aborted', wireBytes: wire, bodyBytes: size }));
      const timer = setTimeout(() => fail(408, `request body not received within ${this.bodyTimeoutMs} ms`), this.bodyTimeoutMs);
      const add = (chunk: Buffer): void => {
        if (done) return;
        size += chunk.length;
        // Checked per inflated chunk (16 KiB), so a gzip bomb stops one chunk past the limit.
        if (size > limit) return fail(413, `request body exceeds the limit of ${limit} bytes after decompression`);
        chunks.push(chunk);
      };
      const complete = (): void => {
        if (done) return;
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
        finish({ ok: true, body, wireBytes: wire });
      };
      req.on('data', (chunk: Buffer) => {
        if (done) return;
        wire += chunk.length;
        // A deflate stream of empty blocks inflates to nothing forever: the bytes read are capped too.
        if (wire > limit) return fail(413, `request body exceeds the limit of ${limit} bytes`);
        if (!inflater) return add(chunk);
        if (!inflater.write(chunk)) {
          req.pause();
          inflater.once('drain', () => {
            if (!done) req.resume();
          });
        }
      });
      req.on('end', () => {
        if (done) return;
        if (inflater) inflater.end();
        else complete();
      });
      req.on('error', () => finish({ ok: false, status: 'aborted', wireBytes: wire, bodyBytes: size }));
      req.on('close', () => {
        if (!req.complete) finish({ ok: false, status: 'aborted', wireBytes: wire, bodyBytes: size });
      });
      if (inflater) {
        inflater.on('data', add);
        inflater.on('end', complete);
        inflater.on('error', (e) => fail(400, `invalid ${coding} body: ${e.message}`));
      }
    });
  }
}

/** Reads and drops what remains of a body; past `limit` bytes the connection is closed instead. */
function discardBody(req: IncomingMessage, limit: number): void {
  if (req.complete) return;
  let discarded = 0;
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > limit) req.socket.destroy();
  });
  req.on('error', () => {});
  req.resume();
}

function decodeJsonBody(body: Buffer, options: DecodeOptions | undefined): TracesData {
  let text: string;
  try {
    text = UTF8.decode(body);
  } catch {
    throw new InputError('the body is not valid UTF-8');
  }
  return decodeTracesJson(text, undefined, options);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function retryAfter(seconds: number): Record<string, string> {
  // Retry-After takes whole seconds (RFC 9110); rounding up never asks a client to come back early.
  return { 'Retry-After': String(Math.ceil(Math.max(0, seconds))) };
}
