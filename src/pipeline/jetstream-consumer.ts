// The gateway's side of the JetStream transport: the gateway replicas share one durable pull
// consumer (work sharing), and each frame a replica is handed goes to the same FrameHandler as an
// HTTP frame (decoder, then the gateway's fsync'd disk queue). The JetStream message is acknowledged
// only once the handler says the spans are in that queue; until then JetStream redelivers it.
//
// Work sharing means a replica is often handed a frame whose predecessors went to another replica,
// or a frame it already decoded (a redelivery after a lost acknowledgement), or one of an epoch it has
// left. None of these can be answered by a resync as over HTTP: the agent treated the frame as
// delivered once JetStream stored it. So the replica rebuilds the stream's state from the stream
// itself: it reads the subject's earlier frames of the same epoch out of JetStream (direct get, from
// its own last position or from the epoch's first frame, whose sequence each frame carries), decodes
// them without exporting their spans (whoever was handed them exports those), and then applies the
// frame. Every span is rebuilt from the exact bytes the agent encoded, so the result is the agent's
// spans or nothing, never a wrong span. A frame handed out twice is exported twice at most (the
// documented duplicate bound). Only when the state cannot be rebuilt (the epoch's first frame has
// left the stream by its limits, a damaged frame, the decoder's state caps) is the frame given up:
// counted, logged, terminated, and a resync request published on `<prefix>.control.<id>` so the
// agent's next frame starts a new epoch.
import type { NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, JetStreamApiError, type ConsumerMessages, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { readFrameHeader, type FrameHeader, type TracezipDecoder } from '../tracezip/index.js';
import type { FrameAnswer, FrameHandler } from './tracezip-transport.js';
import { connectNats, controlSubject, ensureStream, EPOCH_START_HEADER, frameSubject, jetstreamManager, type JetStreamOptions, type ResyncRequest } from './jetstream.js';

export interface FrameConsumerObserver {
  /** A frame the consumer was handed again (JetStream redelivered it). */
  onRedelivered?(): void;
  /** Frames decoded only to rebuild a stream's state (another replica exports their spans). */
  onReplayed?(frames: number): void;
  /** A copy JetStream stored twice (republished after the duplicate window): acknowledged, not exported again. */
  onStoredDuplicate?(): void;
  /** A frame that could not be decoded here or anywhere: dropped, and the agent asked to resync. */
  onGivenUp?(reason: string, detail: string): void;
  onResyncRequested?(reason: string): void;
}

/** Where a replica's decoder is in one stream, and the stream sequence of that frame. */
interface Position {
  epoch: number;
  seq: number;
  streamSeq: number;
}

const ms = (n: number): number => n * 1_000_000;

/**
 * Streams a replica keeps its position and broken epochs for (agents that restart start new streams,
 * so the maps would otherwise grow without end). Forgetting one costs at most a read-back from its
 * epoch's first frame.
 */
const MAX_REMEMBERED_STREAMS = 65_536;

export class JetStreamFrameConsumer {
  private messages: ConsumerMessages | undefined;
  private running: Promise<void> | undefined;
  private readonly positions = new Map<bigint, Position>();
  /** The last (epoch) a resync was requested for, per stream: one request per broken epoch. */
  private readonly requested = new Map<bigint, number>();
  private stopping = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly options: JetStreamOptions,
    private readonly handler: FrameHandler,
    private readonly decoder: TracezipDecoder,
    private readonly observer: FrameConsumerObserver,
  ) {}

  /** Connects, declares the stream and the shared durable consumer, and starts taking frames. */
  static async start(options: JetStreamOptions, handler: FrameHandler, observer: FrameConsumerObserver = {}): Promise<JetStreamFrameConsumer> {
    const nc = await connectNats(options, 'slimtrace-gateway');
    try {
      const jsm = await jetstreamManager(nc);
      await ensureStream(jsm, options);
      const c = new JetStreamFrameConsumer(nc, jsm, options, handler, handler.decoder, observer);
      c.messages = await c.subscribe();
      c.running = c.run();
      return c;
    } catch (e) {
      await nc.close().catch(() => undefined);
      throw e;
    }
  }

  /** Declares the shared durable consumer (again after an operator deleted it). */
  private async ensureConsumer(): Promise<void> {
    const { jsm, options } = this;
    const config = {
      durable_name: options.consumer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: `${options.subjectPrefix}.frames.>`,
      ack_wait: ms(options.ackWaitMs),
      max_ack_pending: options.maxAckPending,
      max_deliver: -1,
    };
    try {
      await jsm.consumers.add(options.stream, config);
    } catch (e) {
      // It exists with other settings (an operator's, or an older gateway's): use it as it is.
      if (!(e instanceof JetStreamApiError)) throw e;
      await jsm.consumers.info(options.stream, options.consumer);
    }
  }

  private async subscribe(): Promise<ConsumerMessages> {
    await this.ensureConsumer();
    const consumer = await jetstream(this.nc).consumers.get(this.options.stream, this.options.consumer);
    // A few frames at a time: a replica holds no more than it is working on, so its peers get the rest.
    return consumer.consume({ max_messages: 16 });
  }

  /** Takes frames until stopped; if the subscription itself ends (consumer deleted, bus gone for good), starts it again. */
  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        this.messages ??= await this.subscribe();
        await this.loop(this.messages);
      } catch (e) {
        if (this.stopping) return;
        this.observer.onGivenUp?.('retry', `consuming stopped (${(e as Error).message}); starting again`);
      }
      this.messages = undefined;
      if (!this.stopping) await new Promise((ok) => setTimeout(ok, 1000));
    }
  }

  private async loop(messages: ConsumerMessages): Promise<void> {
    for await (const m of messages) {
      if (this.stopping) {
        m.nak(); // not ours any more: JetStream hands it to another replica at once
        continue;
      }
      try {
        await this.process(m);
      } catch (e) {
        // A failure of the bus itself (a direct get during a restart): JetStream redelivers the frame.
        m.nak(1000);
        this.observer.onGivenUp?.('retry', `frame will be retried: ${(e as Error).message}`);
      }
    }
  }

  /** Notes where this replica is in a stream; the longest-unused streams are forgotten past a bound. */
  private remember(streamId: bigint, pos: Position): void {
    this.positions.delete(streamId);
    this.positions.set(streamId, pos);
    if (this.positions.size > MAX_REMEMBERED_STREAMS) this.positions.delete(this.positions.keys().next().value!);
  }

  /** One frame, start to finish: acknowledged, naked (later again), or terminated (given up). */
  private async process(m: JsMsg): Promise<void> {
    if (m.redelivered) this.observer.onRedelivered?.();
    const frame = m.data;
    let h: FrameHeader;
    try {
      h = readFrameHeader(frame);
    } catch (e) {
      m.term();
      this.observer.onGivenUp?.('malformed', (e as Error).message);
      return;
    }
    if (m.subject !== frameSubject(this.options, h.streamId)) {
      // A frame on another stream's subject would make the replay read the wrong frames.
      m.term();
      this.observer.onGivenUp?.('malformed', `frame of stream ${h.streamId} on subject ${m.subject}`);
      return;
    }
    let answer = await this.handler.handle(frame, () => m.working());
    let rebuilt = false;
    if (needsState(answer)) {
      // An epoch already found broken stays broken: no use reading it back again for each frame.
      if (this.requested.get(h.streamId) === h.epoch) return this.giveUp(m, h, 'epoch-broken');
      const replay = await this.rebuild(h, m, answer.result === 'resync' && answer.reason === 'gap');
      if (replay !== 'ok') return this.giveUp(m, h, replay);
      rebuilt = true;
      answer = await this.handler.handle(frame, () => m.working());
    }
    switch (answer.result) {
      case 'applied':
        this.remember(h.streamId, { epoch: h.epoch, seq: h.seq, streamSeq: m.seq });
        m.ack();
        return;
      case 'duplicate':
        if (rebuilt) {
          // Right after the state was rebuilt from every earlier frame: a second stored copy.
          this.observer.onStoredDuplicate?.();
          m.ack();
          return;
        }
        return this.giveUp(m, h, 'duplicate');
      case 'busy':
        // The gateway is stopping (a full queue is waited for in the handler): JetStream keeps the
        // frame and hands it out again later (at most 5 s: the frame is not waiting for a client).
        m.nak(Math.min(5, Math.max(1, answer.retryAfterSeconds)) * 1000);
        return;
      case 'resync':
        // The sink failed after the decoder moved on (the handler dropped the state): retry later.
        if (answer.reason === 'sink-failed') return void m.nak(1000);
        return this.giveUp(m, h, answer.reason);
      default:
        return this.giveUp(m, h, answer.result === 'malformed' ? `malformed: ${answer.error}` : answer.result);
    }
  }

  /**
   * Decodes the stream's frames before `m` that this replica lacks, from JetStream, without exporting
   * them. From the replica's own position when the frame is just ahead of it in the same epoch, else
   * from the epoch's first frame with the stream's state dropped.
   */
  private async rebuild(h: FrameHeader, m: JsMsg, gap: boolean): Promise<'ok' | string> {
    const pos = this.positions.get(h.streamId);
    if (gap && pos && pos.epoch === h.epoch && pos.seq < h.seq) {
      const r = await this.replay(h, m, pos.streamSeq + 1);
      if (r === 'ok') return r;
    }
    this.decoder.dropStream(h.streamId);
    this.positions.delete(h.streamId);
    if (h.epochStart) return 'ok'; // nothing before it matters
    const start = Number(m.headers?.get(EPOCH_START_HEADER) ?? NaN);
    if (!Number.isSafeInteger(start) || start <= 0) return 'no-epoch-start';
    return this.replay(h, m, start);
  }

  /**
   * Decodes the frames of `h`'s epoch stored on its subject from stream sequence `from` up to `h`
   * (a stored copy of `h` itself included: then `h` turns out to be a duplicate of it).
   */
  private async replay(h: FrameHeader, m: JsMsg, from: number): Promise<'ok' | string> {
    let frames = 0;
    let seen = false;
    let skipped = 0;
    try {
      for (let at = from; at < m.seq; ) {
        const stored = await this.jsm.direct.getMessage(this.options.stream, { seq: at, next_by_subj: m.subject });
        if (!stored || stored.seq >= m.seq) break;
        at = stored.seq + 1;
        let sh: FrameHeader;
        try {
          sh = readFrameHeader(stored.data);
        } catch (e) {
          return `replay-malformed: ${(e as Error).message}`;
        }
        // An agent publishes its epochs one after the other, so another epoch's frame after some of
        // h's means h's epoch is over; before any of h's (its first frame gone), the read is bounded.
        if (sh.epoch !== h.epoch) {
          if (seen || ++skipped > this.options.maxEpochFrames) break;
          continue;
        }
        seen = true;
        if (sh.seq > h.seq) break;
        let r;
        try {
          r = this.decoder.decode(stored.data);
        } catch (e) {
          return `replay-malformed: ${(e as Error).message}`;
        }
        frames++;
        if (r.kind === 'resync-needed') return `replay-${r.reason}`;
        if (r.kind === 'data') this.remember(h.streamId, { epoch: r.epoch, seq: r.seq, streamSeq: stored.seq });
      }
    } finally {
      if (frames > 0) this.observer.onReplayed?.(frames);
    }
    // The frame must now be next in its epoch (or a copy of the last one), else the epoch's first frame is gone.
    const pos = this.positions.get(h.streamId);
    return pos && pos.epoch === h.epoch && pos.seq + 1 >= h.seq ? 'ok' : 'epoch-start-gone';
  }

  /** The frame cannot be decoded: drop it (counted by the observer) and ask the agent for a new epoch. */
  private giveUp(m: JsMsg, h: FrameHeader, reason: string): void {
    m.term(); // (a reason with +TERM needs nats-server 2.10)
    this.observer.onGivenUp?.(reason.split(':')[0]!, `frame ${h.epoch}/${h.seq} of stream ${h.streamId}: ${reason}`);
    this.decoder.dropStream(h.streamId);
    this.positions.delete(h.streamId);
    if (this.requested.get(h.streamId) === h.epoch) return;
    this.requested.set(h.streamId, h.epoch);
    if (this.requested.size > MAX_REMEMBERED_STREAMS) this.requested.delete(this.requested.keys().next().value!);
    const req: ResyncRequest = { epoch: h.epoch, reason: reason.split(':')[0]! };
    this.nc.publish(controlSubject(this.options, h.streamId), JSON.stringify(req));
    this.observer.onResyncRequested?.(req.reason);
  }

  /** Stops taking frames; those handed out but not acknowledged go back to JetStream for a peer. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.messages?.close().catch(() => undefined);
    await this.running?.catch(() => undefined);
    await this.nc.drain().catch(() => this.nc.close());
  }
}

function needsState(a: FrameAnswer): boolean {
  if (a.result === 'duplicate') return true;
  return a.result === 'resync' && a.reason !== 'sink-failed' && a.reason !== 'state-limit';
}
