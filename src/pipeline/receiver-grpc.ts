// The OTLP/gRPC trace receiver (opentelemetry-proto docs/specification.md, "OTLP/gRPC"): the unary
// method opentelemetry.proto.collector.trace.v1.TraceService/Export on @grpc/grpc-js, with
// slimtrace's own protobuf codec in a hand-written service definition (no .proto loaded at run
// time). Each decoded request goes to a TraceSink and is acknowledged only once the sink's promise
// resolves. Refusals use the codes the specification tells clients how to read: INVALID_ARGUMENT
// (never retried) for bad data, UNAVAILABLE with a RetryInfo (retried after its delay) for
// backpressure, RESOURCE_EXHAUSTED without RetryInfo (never retried) above the message size limit.
import * as grpc from '@grpc/grpc-js';
import type { AddressInfo } from 'node:net';
import type { ExportTraceServiceResponse } from '../model/index.js';
import { InputError } from '../model/errors.js';
import { decodeTraceResponse, encodeTraceResponse, validateTracesData, type DecodeOptions } from '../otlp/protobuf.js';
import { encodeStatus, makeStatus, type StatusDetails } from './otlp-status.js';
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
import { DEFAULT_MAX_CONCURRENT_REQUESTS, DEFAULT_MAX_REQUEST_BYTES, DEFAULT_OVERLOAD_RETRY_AFTER_SECONDS, DEFAULT_CLOSE_TIMEOUT_MS } from './receiver-http.js';
import type { TraceSink } from './sink.js';

/** The OTLP/gRPC default port (specification, "OTLP/gRPC Default Port"). */
export const DEFAULT_OTLP_GRPC_PORT = 4317;
export const TRACE_SERVICE_EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

/**
 * TraceService as grpc-js takes it. Requests travel as their protobuf bytes both ways: the handler
 * decodes them itself, because a throwing requestDeserialize makes grpc-js answer INTERNAL where the
 * specification asks for INVALID_ARGUMENT, and because the sink then gets the bytes it may store
 * without re-encoding them. Clients built from this definition send bytes they encoded.
 */
export const traceServiceDefinition = {
  Export: {
    path: TRACE_SERVICE_EXPORT_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: (request: Uint8Array): Buffer => asBuffer(request),
    requestDeserialize: (bytes: Buffer): Buffer => bytes,
    responseSerialize: (response: ExportTraceServiceResponse): Buffer => asBuffer(encodeTraceResponse(response)),
    responseDeserialize: (bytes: Buffer): ExportTraceServiceResponse => decodeTraceResponse(bytes),
    originalName: 'export',
  },
} satisfies grpc.ServiceDefinition;

/** The Status detail grpc-js sends as the `grpc-status-details-bin` trailer (google.rpc.Status). */
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';
/** gRPC's own retry throttle hint (gRFC A6), which grpc-js clients with a retry policy honour. */
export const RETRY_PUSHBACK_KEY = 'grpc-retry-pushback-ms';

export interface OtlpGrpcReceiverOptions {
  sink: TraceSink;
  /** Interface to listen on; default 'localhost' (see OtlpHttpReceiverOptions.host). */
  host?: string;
  /** Default 4317; 0 picks a free port (start() says which). */
  port?: number;
  /**
   * Largest request message, after decompression (grpc-js checks both). Default 64 MiB, the HTTP
   * receiver's limit, rather than the 4 MiB of most gRPC servers: the same client batch must not be
   * taken over one transport and refused for good over the other. Above it grpc-js answers
   * RESOURCE_EXHAUSTED, which clients must not retry.
   */
  maxReceiveMessageBytes?: number;
  /** Requests handled at once (and HTTP/2 streams per connection); beyond it UNAVAILABLE + RetryInfo. */
  maxConcurrentRequests?: number;
  overloadRetryAfterSeconds?: number;
  /** The decoder's limits, which validateTracesData applies as decodeTracesData would. */
  decodeOptions?: DecodeOptions;
  /** TLS with these PEM files; insecure (plaintext HTTP/2) without. */
  tls?: ReceiverTlsOptions;
  metrics?: ReceiverMetrics;
  log?: ReceiverLog;
}

const RECEIVER = 'otlp-grpc';
const EMPTY_RESPONSE: ExportTraceServiceResponse = { partialSuccess: undefined, unknownFields: undefined };

type ExportCall = grpc.ServerUnaryCall<Buffer, ExportTraceServiceResponse>;
type ExportCallback = grpc.sendUnaryData<ExportTraceServiceResponse>;

/** One call from the handler to its answer; `force` is close()'s way to answer it at the deadline. */
class GrpcExchange {
  answered = false;
  spans = 0;
  force: (() => void) | undefined;

  constructor(
    private readonly callback: ExportCallback,
    readonly bodyBytes: number,
    private readonly metrics: ReceiverMetrics | undefined,
  ) {}

  ok(response: ExportTraceServiceResponse, outcome: ReceiverOutcome, accepted: number, refused: number): void {
    if (this.answered) return;
    this.answered = true;
    this.report(outcome, accepted, refused);
    this.callback(null, response);
  }

  /** An error status, with a google.rpc.Status carrying `details` in the trailers. */
  fail(code: grpc.status, message: string, outcome: ReceiverOutcome, details?: StatusDetails): void {
    if (this.answered) return;
    this.answered = true;
    this.report(outcome, 0, this.spans);
    const metadata = new grpc.Metadata();
    if (details) {
      metadata.set(STATUS_DETAILS_KEY, asBuffer(encodeStatus(makeStatus(code, message, details))));
      if (details.retryDelaySeconds !== undefined) metadata.set(RETRY_PUSHBACK_KEY, String(Math.round(details.retryDelaySeconds * 1000)));
    }
    this.callback({ code, details: message, metadata });
  }

  private report(outcome: ReceiverOutcome, acceptedSpans: number, refusedSpans: number): void {
    this.metrics?.request({ receiver: RECEIVER, outcome, acceptedSpans, refusedSpans, bodyBytes: this.bodyBytes });
  }
}

export class OtlpGrpcReceiver {
  private readonly sink: TraceSink;
  private readonly host: string;
  private readonly port: number;
  private readonly maxMessageBytes: number;
  private readonly maxConcurrent: number;
  private readonly overloadRetryAfter: number;
  private readonly decodeOptions: DecodeOptions | undefined;
  private readonly tls: ReceiverTlsOptions | undefined;
  private readonly metrics: ReceiverMetrics | undefined;
  private readonly log: ReceiverLog;
  private server: grpc.Server | undefined;
  private closing = false;
  private readonly inFlight = new InFlight<GrpcExchange>();

  constructor(options: OtlpGrpcReceiverOptions) {
    this.sink = options.sink;
    this.host = options.host ?? 'localhost';
    this.port = options.port ?? DEFAULT_OTLP_GRPC_PORT;
    this.maxMessageBytes = positiveOption(options.maxReceiveMessageBytes, DEFAULT_MAX_REQUEST_BYTES, 'OtlpGrpcReceiver.maxReceiveMessageBytes');
    this.maxConcurrent = positiveOption(options.maxConcurrentRequests, DEFAULT_MAX_CONCURRENT_REQUESTS, 'OtlpGrpcReceiver.maxConcurrentRequests');
    this.overloadRetryAfter = options.overloadRetryAfterSeconds ?? DEFAULT_OVERLOAD_RETRY_AFTER_SECONDS;
    this.decodeOptions = options.decodeOptions;
    this.tls = options.tls;
    this.metrics = options.metrics;
    this.log = options.log ?? defaultLog;
  }

  get requestsInFlight(): number {
    return this.inFlight.size;
  }

  /** Listens; resolves with the bound address (the port chosen when `port` was 0). */
  async start(): Promise<AddressInfo> {
    if (this.server) throw new Error('OtlpGrpcReceiver already started');
    const server = new grpc.Server({
      'grpc.max_receive_message_length': this.maxMessageBytes,
      'grpc.max_concurrent_streams': this.maxConcurrent,
      interceptors: [this.refusalObserver()],
    });
    server.addService(traceServiceDefinition, { Export: (call: ExportCall, callback: ExportCallback) => void this.export(call, callback) });
    let creds = grpc.ServerCredentials.createInsecure();
    if (this.tls) {
      const { cert, key } = await readTlsFiles(this.tls);
      creds = grpc.ServerCredentials.createSsl(null, [{ cert_chain: cert, private_key: key }], false);
    }
    const host = this.host.includes(':') && !this.host.startsWith('[') ? `[${this.host}]` : this.host;
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${host}:${this.port}`, creds, (err, bound) => (err ? reject(err) : resolve(bound)));
    });
    this.server = server;
    return { address: this.host, family: this.host.includes(':') ? 'IPv6' : 'IPv4', port };
  }

  /**
   * Stops accepting calls, lets calls in flight finish for up to `timeoutMs`, then answers those
   * still waiting UNAVAILABLE (the client retries) and closes every connection.
   */
  async close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    const server = this.server;
    if (!server || this.closing) return;
    this.closing = true;
    const shutdown = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    await this.inFlight.settle(timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    // tryShutdown waits for the answers just given to be sent; a client that never reads them is cut.
    await Promise.race([shutdown, new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)))]);
    clearTimeout(timer);
    server.forceShutdown();
  }

  private async export(call: ExportCall, callback: ExportCallback): Promise<void> {
    const bytes = call.request;
    const ex = new GrpcExchange(callback, bytes.length, this.metrics);
    if (this.closing) return this.overloaded(ex, 'the receiver is shutting down');
    if (this.inFlight.size >= this.maxConcurrent) return this.overloaded(ex, `too many concurrent requests (limit ${this.maxConcurrent}); retry later`);
    this.inFlight.add(ex);
    ex.force = () => this.overloaded(ex, 'the receiver is shutting down');
    try {
      await this.handle(ex, bytes);
    } catch (e) {
      this.internal(ex, e, 'handling a request');
    } finally {
      this.inFlight.delete(ex);
    }
  }

  private async handle(ex: GrpcExchange, bytes: Buffer): Promise<void> {
    let spans: number;
    try {
      spans = validateTracesData(bytes, this.decodeOptions); // refuses what decodeTracesData refuses; builds nothing
    } catch (e) {
      if (!(e instanceof InputError)) return this.internal(ex, e, 'decoding a request');
      const message = `malformed OTLP protobuf request: ${e.message}`;
      return ex.fail(grpc.status.INVALID_ARGUMENT, message, 'invalid', { badRequest: { description: message } });
    }
    ex.spans = spans;
    if (spans === 0) return ex.ok(EMPTY_RESPONSE, 'accepted', 0, 0);
    const answer = await offerToSink(this.sink, protobufRequest(bytes, spans, RECEIVER, this.decodeOptions));
    switch (answer.kind) {
      case 'accepted': {
        const { rejectedSpans, errorMessage } = answer;
        const response =
          rejectedSpans > 0 || errorMessage !== ''
            ? { partialSuccess: { rejectedSpans: BigInt(rejectedSpans), errorMessage, unknownFields: undefined }, unknownFields: undefined }
            : EMPTY_RESPONSE;
        return ex.ok(response, rejectedSpans > 0 ? 'partial' : 'accepted', spans - rejectedSpans, rejectedSpans);
      }
      case 'backpressure':
        // UNAVAILABLE, not RESOURCE_EXHAUSTED: the specification's throttling signal, retried by
        // every client whether or not it reads the RetryInfo that says how long to wait.
        return ex.fail(grpc.status.UNAVAILABLE, answer.message, 'refused', { retryDelaySeconds: answer.retryAfterSeconds });
      case 'invalid':
        return ex.fail(grpc.status.INVALID_ARGUMENT, answer.message, 'invalid', { badRequest: { description: answer.message } });
      case 'error':
        return this.internal(ex, answer.error, 'in the sink');
    }
  }

  private overloaded(ex: GrpcExchange, message: string): void {
    ex.fail(grpc.status.UNAVAILABLE, message, 'overloaded', { retryDelaySeconds: this.overloadRetryAfter });
  }

  private internal(ex: GrpcExchange, error: unknown, where: string): void {
    // INTERNAL is not retried, so the client drops the request: the log must say why.
    this.log(`otlp-grpc receiver: internal error ${where} (INTERNAL, the client drops the request): ${describeError(error)}`);
    ex.fail(grpc.status.INTERNAL, 'internal error in the receiver; see its log', 'error');
  }

  /**
   * Counts the calls grpc-js refuses before the handler sees a message: above the size limit
   * (RESOURCE_EXHAUSTED), an undecompressable message (INTERNAL), an unknown compression
   * (UNIMPLEMENTED). grpc-js sends those statuses from inside the call, past any interceptor's
   * responder, so the call's own sendStatus is wrapped (test/pipeline/receiver-grpc.test.ts checks
   * that this still sees them).
   */
  private refusalObserver(): grpc.ServerInterceptor {
    return (_method, call) => {
      let delivered = false;
      const send = call.sendStatus.bind(call);
      call.sendStatus = (status) => {
        if (!delivered && status.code !== undefined && status.code !== grpc.status.OK) {
          const code = status.code;
          const outcome: ReceiverOutcome =
            code === grpc.status.RESOURCE_EXHAUSTED ? 'too-large' : code === grpc.status.UNIMPLEMENTED ? 'unsupported' : code === grpc.status.CANCELLED || code === grpc.status.DEADLINE_EXCEEDED ? 'aborted' : 'invalid';
          this.metrics?.request({ receiver: RECEIVER, outcome, acceptedSpans: 0, refusedSpans: 0, bodyBytes: 0 });
        }
        send(status);
      };
      return new grpc.ServerInterceptingCall(call, {
        start: (next) =>
          next({
            onReceiveMessage: (message, nextMessage) => {
              delivered = true;
              nextMessage(message);
            },
          }),
      });
    };
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

