// The seam between the pipeline's stages: a receiver (OTLP/HTTP, OTLP/gRPC, Tracezip frames) hands
// each decoded request to a TraceSink and acknowledges its client only when the sink's promise
// resolves, which a sink does once the request is durable (in the fsync'd disk queue) or delivered.
// A sink that cannot take a request now says so with Backpressure, which receivers turn into the
// protocol's retryable answer (HTTP 429/503 with Retry-After, gRPC UNAVAILABLE), so nothing a client
// was told is accepted is ever dropped, and nothing dropped is ever acknowledged.
import { InputError, type TracesData } from '../model/index.js';

/** One request as a receiver accepted it. */
export interface ReceivedRequest {
  data: TracesData;
  /** Spans in `data` (counted once by the receiver, for metrics and partial-success arithmetic). */
  spans: number;
  /**
   * The request as OTLP protobuf bytes when the receiver already has them (a protobuf body after
   * decompression), so a disk queue stores them without re-encoding; absent for JSON bodies.
   */
  protobuf?: Uint8Array;
  /** Which receiver took it, for metrics: 'otlp-http', 'otlp-grpc', 'tracezip'. */
  receiver: string;
}

/** What a sink took: everything, or all but some spans it rejected for good (never retried). */
export interface SinkResult {
  /** Spans rejected permanently (OTLP partial success); 0 or absent when all were accepted. */
  rejectedSpans?: number;
  /** Why, for the partial-success message. */
  errorMessage?: string;
}

export interface TraceSink {
  /**
   * Takes a request. Resolves once it is durable or delivered (the receiver may then acknowledge);
   * rejects with Backpressure when it cannot take it now (the client should retry later), or with
   * an InputError when the request itself is unacceptable (the client must not retry).
   */
  accept(request: ReceivedRequest): Promise<SinkResult | void>;
  /**
   * Takes a request larger than the sink can hold at once, part by part as room frees, for a sender
   * that cannot split it (a frame already acknowledged to its agent by JetStream). Calls `waiting`
   * while it waits for room. Parts taken before a failure stay taken: the caller's retry repeats them.
   */
  acceptInParts?(request: ReceivedRequest, waiting: () => void): Promise<void>;
}

export type BackpressureReason = 'queue-full' | 'memory' | 'shutting-down' | 'unavailable';

/** The sink cannot take the request now; the client should retry after `retryAfterSeconds`. */
export class Backpressure extends Error {
  override name = 'Backpressure';
  constructor(
    readonly reason: BackpressureReason,
    readonly retryAfterSeconds: number,
    detail?: string,
  ) {
    super(detail ?? `cannot accept the request now (${reason}); retry after ${retryAfterSeconds} s`);
  }
}

/**
 * The request is larger than the sink takes (the disk queue's record limit, which is the configured
 * max_request_bytes): retrying the same request cannot help, a smaller one can. The Tracezip frame
 * endpoint answers it 413 so the agent splits its batch; OTLP receivers answer it 400 (final).
 */
export class RequestTooLargeError extends InputError {
  override name = 'RequestTooLargeError';
  constructor(
    readonly bytes: number,
    readonly limit: number,
    message: string,
    source?: string,
  ) {
    super(message, source);
  }
}
