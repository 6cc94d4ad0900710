// The agent's one Tracezip stream to its gateways: encodes a batch into the next frame and does not
// return until a gateway has acknowledged it (or the agent shuts down). What it does with each answer:
// - a network failure or busy gateway: the same frame again after a backoff (the gateway answers
//   `duplicate` if it had applied it); after a few failures in a row, the next gateway URL
//   (failover), which answers resync because it has no state for the stream;
// - resync: a new epoch, and the batch encoded again from full state;
// - malformed (a frame damaged on the way, or a bug): a new epoch; if a fresh epoch's frame is also
//   refused, the batch goes as plain OTLP protobuf to the gateway's /v1/traces instead;
// - 413 (over the gateway's frame limit): the batch is split in two and each half sent, and later
//   batches are split before they are sent to at most half the refused span count, so one refusal
//   does not cost every later batch a refused frame and a resync;
// - any other refusal (401 after a token change, a proxy's 404): logged and retried with backoff,
//   never dropped: the data waits in the agent's queue until the configuration is fixed.
import { encodeTracesData } from '../otlp/index.js';
import { countSpans, type TracesData } from '../model/index.js';
import { TracezipEncoder, type TracezipEncoderOptions } from '../tracezip/index.js';
import { HttpPoster, type HttpTarget } from './http-client.js';
import { Backoff, DEFAULT_RETRY_POLICY, sleep, type RetryPolicy } from './retry.js';
import { splitBatch } from './split.js';
import { FrameSender, type SendOutcome } from './tracezip-transport.js';

export { splitBatch };

export interface GatewayLinkOptions {
  /**
   * Gateway base URLs (e.g. http://gw-0:4319). The stream starts at the one its id picks and stays
   * there until it fails `failoverAfter` times in a row, then moves to the next.
   */
  gateways: string[];
  /** Headers, timeout and CA shared by every gateway (the bearer token goes in headers). */
  http?: Omit<HttpTarget, 'url'>;
  encoder?: TracezipEncoderOptions;
  retry?: Partial<RetryPolicy>;
  /** Consecutive failures before moving to the next gateway (default 3). */
  failoverAfter?: number;
}

export interface GatewayLinkObserver {
  /**
   * A frame was encoded from `batch` (first try, or again after a resync) in `seconds`; `otlpBytes`
   * is the batch's OTLP protobuf size when the deliverer knew it (undefined: size it if needed).
   */
  onEncoded?(batch: TracesData, frameBytes: number, seconds: number, otlpBytes: number | undefined): void;
  onFrame?(outcome: SendOutcome, frameBytes: number, spans: number): void;
  onResync?(reason: string): void;
  onFailover?(from: string, to: string): void;
  onRetry?(reason: string, delayMs: number): void;
  /** A batch went as plain OTLP because Tracezip frames kept being refused as malformed. */
  onFallback?(spans: number, bytes: number): void;
  /** A single span larger than every gateway accepts: it cannot be delivered (logged and counted). */
  onUndeliverable?(spans: number, reason: string): void;
}

/** Agent-side defaults: quicker than a backend exporter's, since the next hop is our own gateway. */
const LINK_RETRY: Partial<RetryPolicy> = { initialIntervalMs: 250, maxIntervalMs: 10_000 };

export class GatewayLink {
  readonly encoder: TracezipEncoder;
  private readonly senders: FrameSender[];
  private readonly fallback: HttpPoster[];
  private current = 0;
  private readonly policy: RetryPolicy;
  private readonly failoverAfter: number;
  /** Spans per frame this link has learnt its gateways take (from 413 answers); unbounded until one. */
  private maxFrameSpans = Infinity;

  constructor(
    options: GatewayLinkOptions,
    private readonly observer: GatewayLinkObserver = {},
  ) {
    if (options.gateways.length === 0) throw new TypeError('a gateway link needs at least one gateway URL');
    this.encoder = new TracezipEncoder(options.encoder);
    this.senders = options.gateways.map((url) => new FrameSender({ ...options.http, url }));
    this.fallback = options.gateways.map((url) => new HttpPoster({ ...options.http, url: new URL('v1/traces', url.endsWith('/') ? url : `${url}/`).href }));
    this.policy = { ...DEFAULT_RETRY_POLICY, ...LINK_RETRY, ...options.retry };
    // Streams spread over the gateways by their id, and each keeps to its gateway (its state lives
    // there) until that gateway fails: many agents given the same list do not all land on the first.
    this.current = Number(this.encoder.streamId % BigInt(this.senders.length));
    this.failoverAfter = options.failoverAfter ?? 3;
  }

  /** The gateway frames go to now. */
  get gateway(): string {
    return this.senders[this.current]!.url;
  }

  /**
   * Sends `batch` until a gateway acknowledges it. Rejects only when `signal` aborts; the batch is
   * then not known to be delivered (its records stay in the agent's queue). `otlpBytes`, the
   * batch's OTLP protobuf size if the caller knows it, is handed to the observer (not to halves).
   */
  async deliver(source: TracesData | (() => TracesData), signal?: AbortSignal, otlpBytes?: number): Promise<void> {
    // A factory (the TracezipExporter's: it converts the SDK's spans again) is called whenever the
    // batch is needed (first encoding, resync, split, plain-OTLP fallback), so the batch is not kept
    // alive across the gateway's round trip: objects that outlive a scavenge are copied and
    // promoted, which made garbage collection a third of the exporter's CPU. Each call must give
    // an equal batch.
    const make = typeof source === 'function' ? source : (): TracesData => source;
    let held: TracesData | undefined = make();
    const spans = countSpans(held);
    if (spans === 0) return;
    if (spans > this.maxFrameSpans) {
      const [a, b] = splitBatch(held);
      held = undefined;
      await this.deliver(a, signal);
      await this.deliver(b, signal);
      return;
    }
    let frame = this.encode(held, otlpBytes);
    if (typeof source === 'function') held = undefined; // from here on, made again when needed
    const batch = (): TracesData => held ?? make();
    const backoff = new Backoff(this.policy);
    let failures = 0;
    let resyncs = 0;
    let malformed = 0;
    for (;;) {
      signal?.throwIfAborted();
      const out = await this.senders[this.current]!.send(frame, signal);
      signal?.throwIfAborted();
      this.observer.onFrame?.(out, frame.length, spans);
      switch (out.kind) {
        case 'acknowledged':
          return;
        case 'resync':
          this.observer.onResync?.(out.reason);
          this.encoder.resync();
          frame = this.encode(batch(), otlpBytes);
          // A gateway that keeps asking for state it was just sent is unwell: slow down.
          if (++resyncs > 2) await this.wait(backoff, `resync loop (${out.reason})`, undefined, signal);
          continue;
        case 'malformed':
          if (++malformed >= 2) {
            await this.deliverAsOtlp(batch(), spans, signal);
            this.encoder.resync();
            return;
          }
          this.observer.onResync?.('malformed');
          this.encoder.resync();
          frame = this.encode(batch(), otlpBytes);
          continue;
        case 'refused':
          if (out.status === 413) {
            // The gateway never applied the frame: a new epoch keeps the halves' frames in order.
            this.encoder.resync();
            if (spans === 1) {
              this.observer.onUndeliverable?.(1, `a single span's frame of ${frame.length} bytes is over the gateway's limit`);
              return;
            }
            this.maxFrameSpans = Math.min(this.maxFrameSpans, Math.max(1, spans >> 1));
            const [a, b] = splitBatch(batch());
            await this.deliver(a, signal);
            await this.deliver(b, signal);
            return;
          }
          await this.wait(backoff, `gateway refused the frame: ${out.reason}`, undefined, signal);
          continue;
        case 'retry':
          if (++failures >= this.failoverAfter && this.senders.length > 1) {
            const from = this.gateway;
            this.current = (this.current + 1) % this.senders.length;
            failures = 0;
            this.observer.onFailover?.(from, this.gateway);
            continue; // the new gateway answers resync; no wait
          }
          await this.wait(backoff, out.reason, out.retryAfterMs, signal);
          continue;
      }
    }
  }

  private encode(batch: TracesData, otlpBytes: number | undefined): Uint8Array {
    const t0 = process.hrtime.bigint();
    const frame = this.encoder.encode(batch);
    this.observer.onEncoded?.(batch, frame.length, Number(process.hrtime.bigint() - t0) / 1e9, otlpBytes);
    return frame;
  }

  private async wait(backoff: Backoff, reason: string, retryAfterMs: number | undefined, signal?: AbortSignal): Promise<void> {
    const delay = backoff.next(retryAfterMs) ?? this.policy.maxIntervalMs;
    this.observer.onRetry?.(reason, delay);
    await sleep(delay, signal);
  }

  /** Plain OTLP protobuf to the current gateway's /v1/traces, retried like frames. */
  private async deliverAsOtlp(batch: TracesData, spans: number, signal?: AbortSignal): Promise<void> {
    const body = encodeTracesData(batch);
    const backoff = new Backoff(this.policy);
    for (;;) {
      signal?.throwIfAborted();
      const out = await this.fallback[this.current]!.post(body, { 'content-type': 'application/x-protobuf' }, signal);
      if (out.kind === 'ok') {
        this.observer.onFallback?.(spans, body.length);
        return;
      }
      await this.wait(backoff, `OTLP fallback: ${out.reason}`, out.kind === 'retry' ? out.retryAfterMs : undefined, signal);
    }
  }

  close(): void {
    for (const s of this.senders) s.close();
    for (const p of this.fallback) p.close();
  }
}
