// The agent's one Tracezip stream to its gateways over NATS JetStream instead of HTTP: each batch is
// encoded into the next frame and published on the stream's own subject with a message id
// (stream:epoch:seq) and waits for JetStream's publish acknowledgement, which comes only once the
// frame is stored. Only then is the batch delivered (the forwarder acknowledges its queue records),
// so what the agent acknowledged is always on disk somewhere: in its queue or in JetStream.
//
// A publish that fails (server down, stream full, no answer in time) is repeated with the same bytes
// and the same message id after a backoff, so JetStream stores a frame once even when the first
// acknowledgement was lost, and a stream's frames are stored without gaps, in order. The gateways
// cannot answer a frame, so their resync requests come on `<prefix>.control.<id>`: the agent starts a
// new epoch (full state) with its next frame. It also starts one every `maxEpochFrames` frames, which
// bounds how far back a gateway reads to rebuild a stream's state (src/pipeline/jetstream.ts).
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { headers } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { countSpans, type TracesData } from '../model/index.js';
import { readFrameHeader, TracezipEncoder, type TracezipEncoderOptions } from '../tracezip/index.js';
import { splitBatch, type GatewayLinkObserver } from './gateway-link.js';
import { Backoff, DEFAULT_RETRY_POLICY, sleep, type RetryPolicy } from './retry.js';
import { connectNats, controlSubject, ensureStream, EPOCH_START_HEADER, frameMessageId, frameSubject, jetstreamManager, type JetStreamOptions, type ResyncRequest } from './jetstream.js';

export interface JetStreamLinkOptions {
  jetstream: JetStreamOptions;
  encoder?: TracezipEncoderOptions;
  retry?: Partial<RetryPolicy>;
  /** How long to wait for one publish acknowledgement (default 10 s). */
  publishTimeoutMs?: number;
}

export interface JetStreamLinkObserver extends Pick<GatewayLinkObserver, 'onEncoded' | 'onResync' | 'onRetry' | 'onUndeliverable'> {
  /** A frame is stored in JetStream (`duplicate`: it already was, an earlier acknowledgement was lost). */
  onPublished?(frameBytes: number, spans: number, duplicate: boolean): void;
}

const LINK_RETRY: Partial<RetryPolicy> = { initialIntervalMs: 250, maxIntervalMs: 10_000 };

export class JetStreamLink {
  readonly encoder: TracezipEncoder;
  private readonly js: JetStreamClient;
  private readonly control: Subscription;
  private readonly policy: RetryPolicy;
  /** Stream sequence of the current epoch's first frame (sent with every later frame of the epoch). */
  private epochStartSeq = 0;
  private framesInEpoch = 0;
  /** Set by a gateway's resync request (or an abandoned frame): the next frame starts a new epoch. */
  private resyncReason: string | undefined;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly options: JetStreamLinkOptions,
    private readonly observer: JetStreamLinkObserver,
  ) {
    this.encoder = new TracezipEncoder(options.encoder);
    this.js = jetstream(nc);
    this.policy = { ...DEFAULT_RETRY_POLICY, ...LINK_RETRY, ...options.retry };
    this.control = nc.subscribe(controlSubject(options.jetstream, this.encoder.streamId), {
      callback: (err, msg) => {
        if (err) return;
        let req: ResyncRequest;
        try {
          req = msg.json<ResyncRequest>();
        } catch {
          return; // not ours to act on
        }
        // A request about an epoch already left is answered by the epoch the agent is in now.
        if (typeof req.epoch === 'number' && req.epoch === this.encoder.epoch) this.resyncReason ??= typeof req.reason === 'string' ? req.reason : 'requested';
      },
    });
  }

  /** Connects (waiting for the first connection) and declares the stream. */
  static async open(options: JetStreamLinkOptions, observer: JetStreamLinkObserver = {}): Promise<JetStreamLink> {
    const nc = await connectNats(options.jetstream, 'slimtrace-agent');
    try {
      const jsm = await jetstreamManager(nc);
      await ensureStream(jsm, options.jetstream);
      const link = new JetStreamLink(nc, jsm, options, observer);
      await nc.flush(); // the control subscription is in place before the first frame
      return link;
    } catch (e) {
      await nc.close().catch(() => undefined);
      throw e;
    }
  }

  /** Where frames go, for logs and /healthz. */
  get gateway(): string {
    return `jetstream ${this.options.jetstream.stream} ${frameSubject(this.options.jetstream, this.encoder.streamId)} via ${this.options.jetstream.servers.join(',')}`;
  }

  /**
   * Publishes `batch` until JetStream has stored it. Rejects only when `signal` aborts; the batch is
   * then not known to be stored (its records stay in the agent's queue) and the next frame starts a
   * new epoch, so a frame that never reached the stream leaves no gap behind.
   */
  async deliver(source: TracesData | (() => TracesData), signal?: AbortSignal, otlpBytes?: number): Promise<void> {
    const batch = typeof source === 'function' ? source() : source; // kept: a JetStream publish is quick
    const spans = countSpans(batch);
    if (spans === 0) return;
    if (this.resyncReason !== undefined) {
      this.observer.onResync?.(this.resyncReason);
      this.encoder.resync();
      this.resyncReason = undefined;
    } else if (this.framesInEpoch >= this.options.jetstream.maxEpochFrames) this.encoder.resync();
    const t0 = process.hrtime.bigint();
    const frame = this.encoder.encode(batch);
    this.observer.onEncoded?.(batch, frame.length, Number(process.hrtime.bigint() - t0) / 1e9, otlpBytes);
    const h = readFrameHeader(frame);
    if (frame.length > this.nc.info!.max_payload) {
      // Over the server's message limit: this frame is never sent, so the halves start a new epoch.
      this.encoder.resync();
      if (spans === 1) {
        this.observer.onUndeliverable?.(1, `a single span's frame of ${frame.length} bytes is over the NATS server's max_payload (${this.nc.info!.max_payload})`);
        return;
      }
      const [a, b] = splitBatch(batch);
      await this.deliver(a, signal);
      await this.deliver(b, signal);
      return;
    }
    const hdrs = headers();
    if (!h.epochStart) hdrs.set(EPOCH_START_HEADER, String(this.epochStartSeq));
    const msgID = frameMessageId(h.streamId, h.epoch, h.seq);
    const subject = frameSubject(this.options.jetstream, h.streamId);
    const backoff = new Backoff(this.policy);
    try {
      for (;;) {
        signal?.throwIfAborted();
        try {
          const ack = await this.js.publish(subject, frame, { msgID, headers: hdrs, timeout: this.options.publishTimeoutMs ?? 10_000 });
          if (h.epochStart) {
            this.epochStartSeq = ack.seq;
            this.framesInEpoch = 0;
          }
          this.framesInEpoch++;
          this.observer.onPublished?.(frame.length, spans, ack.duplicate);
          return;
        } catch (e) {
          const delay = backoff.next() ?? this.policy.maxIntervalMs;
          const reason = `publish failed: ${(e as Error).message}`;
          this.observer.onRetry?.(reason, delay);
          if (/no responders|stream not found/i.test((e as Error).message)) await ensureStream(this.jsm, this.options.jetstream).catch(() => undefined);
          await sleep(delay, signal);
        }
      }
    } catch (e) {
      this.resyncReason ??= 'abandoned-frame';
      throw e;
    }
  }

  async close(): Promise<void> {
    this.control.unsubscribe();
    await this.nc.drain().catch(() => this.nc.close());
  }
}
