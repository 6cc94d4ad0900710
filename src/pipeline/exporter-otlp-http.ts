// The gateway's way out: standard OTLP/HTTP protobuf (gzip by default) to any OTLP endpoint (an
// OpenTelemetry Collector, Jaeger, Tempo), with the specification's retry rules. `send` is one
// attempt; `deliver` retries until the backend takes the request or refuses it for good, so a caller
// holding the request in a disk queue acknowledges it only on one of those two outcomes.
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { decodeTraceResponse } from '../otlp/index.js';
import { ProtobufReader } from '../otlp/wire.js';
import { HttpPoster, type HttpTarget } from './http-client.js';
import { Backoff, DEFAULT_RETRY_POLICY, sleep, type RetryPolicy } from './retry.js';

const gzip = promisify(gzipCallback);

export interface OtlpHttpExporterOptions extends HttpTarget {
  /** Body compression (default 'gzip'). */
  compression?: 'gzip' | 'none';
  retry?: Partial<RetryPolicy>;
}

export type ExportOutcome =
  /** The backend took the request; it may have rejected some spans for good (partial success). */
  | { kind: 'delivered'; attempts: number; rejectedSpans: bigint; errorMessage: string }
  /** The backend refused the request for good (a non-retryable status): not sent again. */
  | { kind: 'refused'; attempts: number; status: number; message: string };

export interface DeliveryObserver {
  /** Called before each wait between attempts, with the reason of the failure. */
  onRetry?(reason: string, delayMs: number): void;
}

export class OtlpHttpExporter {
  private readonly poster: HttpPoster;
  private readonly compression: 'gzip' | 'none';
  private readonly policy: RetryPolicy;

  constructor(options: OtlpHttpExporterOptions) {
    this.poster = new HttpPoster(options);
    this.compression = options.compression ?? 'gzip';
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  }

  get url(): string {
    return this.poster.url.href;
  }

  /**
   * Sends one ExportTraceServiceRequest (OTLP protobuf bytes) until the backend takes it or refuses it
   * for good. Rejects only when `signal` aborts (shutdown): the request was then not delivered and
   * stays with the caller.
   */
  async deliver(request: Uint8Array, signal?: AbortSignal, observer?: DeliveryObserver): Promise<ExportOutcome> {
    const body = this.compression === 'gzip' ? await gzip(request) : request;
    const headers: Record<string, string> = { 'content-type': 'application/x-protobuf' };
    if (this.compression === 'gzip') headers['content-encoding'] = 'gzip';
    const backoff = new Backoff(this.policy);
    for (let attempts = 1; ; attempts++) {
      signal?.throwIfAborted();
      const o = await this.poster.post(body, headers, signal);
      if (o.kind === 'ok') {
        let rejectedSpans = 0n;
        let errorMessage = '';
        try {
          const resp = decodeTraceResponse(o.body);
          rejectedSpans = resp.partialSuccess?.rejectedSpans ?? 0n;
          errorMessage = resp.partialSuccess?.errorMessage ?? '';
        } catch {
          // A 2xx whose body is not an ExportTraceServiceResponse (some backends answer JSON or
          // nothing): the request was taken; there is no partial success to report.
        }
        return { kind: 'delivered', attempts, rejectedSpans, errorMessage };
      }
      if (o.kind === 'rejected') return { kind: 'refused', attempts, status: o.status, message: statusMessage(o.body) };
      signal?.throwIfAborted();
      const delay = backoff.next(o.retryAfterMs);
      if (delay === undefined) return { kind: 'refused', attempts, status: o.status ?? 0, message: `gave up after ${attempts} attempts: ${o.reason}` };
      observer?.onRetry?.(o.reason, delay);
      await sleep(delay, signal);
    }
  }

  close(): void {
    this.poster.close();
  }
}

/** The message of a google.rpc.Status body (field 2), or the body's first bytes as text. */
function statusMessage(body: Buffer): string {
  // google.rpc.Status: 1 code int32, 2 message string, 3 details Any.
  try {
    const r = new ProtobufReader(body);
    while (r.pos < body.length) {
      const tag = r.readVarint32(body.length);
      if (tag === 0x12) return r.readString(body.length);
      r.skipField(tag & 7, tag >>> 3, body.length);
    }
  } catch {
    // not a Status (a proxy's HTML page, say): fall through to the text
  }
  return body.subarray(0, 200).toString('utf8').replace(/[^\x20-\x7e]+/g, ' ').trim();
}
