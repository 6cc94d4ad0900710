// What the OTLP/HTTP and OTLP/gRPC receivers share: the metrics hook (one event per request, so the
// lead's Prometheus wiring counts requests and spans per receiver and outcome without the receivers
// knowing prom-client), the reading of a sink's answer, and the TLS files.
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InputError } from '../model/errors.js';
import type { TracesData } from '../model/types.js';
import { decodeTracesData, type DecodeOptions } from '../otlp/protobuf.js';
import { Backpressure, type BackpressureReason, type ReceivedRequest, type TraceSink } from './sink.js';

/** How a request ended, from the receiver's point of view. */
export type ReceiverOutcome =
  /** Every span taken (HTTP 200, gRPC OK). */
  | 'accepted'
  /** Taken but for spans the sink rejected for good: 200 / OK with partial_success. */
  | 'partial'
  /** The sink answered Backpressure: HTTP 429/503, gRPC UNAVAILABLE; the client retries. */
  | 'refused'
  /** The receiver's own cap on concurrent requests, or shutting down: 503 / UNAVAILABLE; retried. */
  | 'overloaded'
  /** Malformed body or the sink's InputError: 400 / INVALID_ARGUMENT; never retried. */
  | 'invalid'
  /** Above the size limit: 413 / RESOURCE_EXHAUSTED; never retried. */
  | 'too-large'
  /** Wrong path, method, content type or encoding: 404, 405, 415. */
  | 'unsupported'
  /** The body did not arrive in time: 408. */
  | 'timeout'
  /** The client went away before the request was complete (nothing to answer). */
  | 'aborted'
  /** A bug or an unexpected failure: 500 / INTERNAL (logged; clients do not retry it). */
  | 'error';

export interface ReceiverRequestEvent {
  /** 'otlp-http' or 'otlp-grpc'. */
  receiver: string;
  outcome: ReceiverOutcome;
  /** Spans the sink took: all of the request's, less a partial success's rejected ones. */
  acceptedSpans: number;
  /**
   * Spans refused: a partial success's rejected spans, or every span of a decoded request that was
   * refused as a whole (Backpressure, InputError, error). 0 when the request never decoded.
   */
  refusedSpans: number;
  /** Request body bytes after decompression (0 when it was never read). */
  bodyBytes: number;
  /** Body bytes as they came over the wire, when the receiver sees them (HTTP; grpc-js inflates first). */
  wireBytes?: number;
}

/** The receivers' metrics hook, called once per request when its answer is decided. */
export interface ReceiverMetrics {
  request(event: ReceiverRequestEvent): void;
}

/** Where receivers write what an operator must see (500s, which clients never retry). */
export type ReceiverLog = (line: string) => void;

export const defaultLog: ReceiverLog = (line) => {
  process.stderr.write(`${line}\n`);
};

/** TLS for a receiver: PEM files read at start(). */
export interface ReceiverTlsOptions {
  certFile: string;
  keyFile: string;
}

export async function readTlsFiles(tls: ReceiverTlsOptions): Promise<{ cert: Buffer; key: Buffer }> {
  const read = async (file: string, what: string): Promise<Buffer> => {
    try {
      return await readFile(file);
    } catch (e) {
      throw new InputError(`cannot read the TLS ${what}: ${(e as Error).message}`, file);
    }
  };
  return { cert: await read(tls.certFile, 'certificate'), key: await read(tls.keyFile, 'private key') };
}

/** The sink's answer to one request, as both receivers need it. */
export type SinkAnswer =
  | { kind: 'accepted'; rejectedSpans: number; errorMessage: string }
  | { kind: 'backpressure'; reason: BackpressureReason; retryAfterSeconds: number; message: string }
  | { kind: 'invalid'; message: string }
  | { kind: 'error'; error: unknown };

/**
 * A request that came as OTLP protobuf, for the sink, without its decoded form: the receiver
 * validates and counts it (validateTracesData, which refuses what the decoder refuses without
 * building anything), and `data` decodes the bytes (once) only if the sink asks for it (the disk
 * queue stores the bytes and never does). Holding the decoded request
 * through the queue's fsync made the scavenger copy and promote all of it: garbage collection was
 * the agent's largest cost after decoding (docs/benchmarks.md).
 */
export function protobufRequest(protobuf: Uint8Array, spans: number, receiver: string, decodeOptions: DecodeOptions | undefined): ReceivedRequest {
  let data: TracesData | undefined;
  return {
    get data(): TracesData {
      return (data ??= decodeTracesData(protobuf, decodeOptions));
    },
    spans,
    protobuf,
    receiver,
  };
}

/** Offers a request to the sink and reads its answer; never throws. */
export async function offerToSink(sink: TraceSink, request: ReceivedRequest): Promise<SinkAnswer> {
  try {
    const result = await sink.accept(request);
    const rejected = Math.floor(Number(result?.rejectedSpans ?? 0));
    // A sink cannot reject more spans than it was given; clamp rather than tell the client nonsense.
    const rejectedSpans = Number.isFinite(rejected) ? Math.min(Math.max(rejected, 0), request.spans) : 0;
    return { kind: 'accepted', rejectedSpans, errorMessage: result?.errorMessage ?? '' };
  } catch (e) {
    if (e instanceof Backpressure) {
      const s = Number.isFinite(e.retryAfterSeconds) ? Math.max(0, e.retryAfterSeconds) : 1;
      return { kind: 'backpressure', reason: e.reason, retryAfterSeconds: s, message: e.message };
    }
    if (e instanceof InputError) return { kind: 'invalid', message: e.message };
    return { kind: 'error', error: e };
  }
}

/** One line for the log about an unexpected failure, with the stack when there is one. */
export function describeError(e: unknown): string {
  return e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e);
}

/** A positive number option, or its default; anything else is a programming error. */
export function positiveOption(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}

/** Requests being handled, which close() waits for and then answers itself. */
export class InFlight<T extends { force: (() => void) | undefined }> {
  private readonly items = new Set<T>();
  private waiters: (() => void)[] = [];

  get size(): number {
    return this.items.size;
  }

  add(item: T): void {
    this.items.add(item);
  }

  delete(item: T): void {
    this.items.delete(item);
    if (this.items.size > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  values(): T[] {
    return [...this.items];
  }

  /** Waits until nothing is in flight or `timeoutMs` passed, then forces an answer on what is left. */
  async settle(timeoutMs: number): Promise<void> {
    if (this.items.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.waiters.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
    }
    for (const item of this.values()) item.force?.();
  }
}

/**
 * A read-only route (/metrics, /healthz): GET and HEAD are served; any other method is 405 with a
 * line saying so, its body drained unread, so a stray POST is answered rather than treated as a read.
 */
export function readOnlyRoute(path: string, serve: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>): (req: IncomingMessage, res: ServerResponse) => void | Promise<void> {
  return (req, res) => {
    if (req.method === 'GET' || req.method === 'HEAD') return serve(req, res);
    req.resume();
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end(`method ${req.method} not allowed on ${path} (GET)\n`);
  };
}
