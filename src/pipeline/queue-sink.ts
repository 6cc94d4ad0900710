// Where both the agent's and the gateway's receivers put what they accept: the disk queue. A request
// is acknowledged to its client when its append is fsync'd; a full queue answers Backpressure, so the
// client retries instead of being told a lie. A request larger than one record (a gateway's frame can
// decode to many times its own size) goes in as several records, all or none. Also the queue's
// consumer side as the forwarder reads it, with the decoded requests handed over in memory.
import { encodeTracesData } from '../otlp/index.js';
import type { TracesData } from '../model/index.js';
import type { DiskQueue } from './queue.js';
import type { QueuedRecord, RecordSource } from './forwarder.js';
import type { ReceivedRequest, TraceSink } from './sink.js';
import { encodeWithin } from './split.js';

/**
 * Requests the receiver has already decoded, by queue sequence number, for the forwarder to take
 * instead of decoding the record again (on generated traffic the second decode was a sixth of the
 * agent's CPU). Only a shortcut: the record on disk stays the truth, a miss (evicted, restarted,
 * redelivered) decodes it, and each entry is taken once, so no one else ever sees the object.
 * Bounded by payload bytes and entries (a full map keeps no more), so a backlog costs no memory here.
 */
export class DecodedRequests {
  private readonly bySeq = new Map<number, { data: TracesData; payload: Uint8Array }>();
  private bytes = 0;
  /** Highest sequence handed to the forwarder: a later `keep` of an older one is already useless. */
  private taken = -1;

  constructor(
    private readonly maxBytes = 16 * 1024 * 1024,
    private readonly maxEntries = 512,
  ) {}

  /** `payload`: the bytes queued for `data`; `take` hands `data` out only for those very bytes. */
  keep(seq: number, data: TracesData, payload: Uint8Array): void {
    if (seq <= this.taken) return;
    // Full: the newest is not kept. The forwarder takes records oldest first, so what is kept is
    // used soon; under a backlog, evicting the oldest instead would throw away every entry unused.
    if (this.bytes + payload.length > this.maxBytes || this.bySeq.size >= this.maxEntries) return;
    this.bySeq.set(seq, { data, payload });
    this.bytes += payload.length;
  }

  /** The decoded request for the record `seq` read back as `payload`, if kept and the bytes agree. */
  take(seq: number, payload: Uint8Array): TracesData | undefined {
    if (seq > this.taken) this.taken = seq;
    const e = this.bySeq.get(seq);
    if (!e) return undefined;
    this.bySeq.delete(seq);
    this.bytes -= e.payload.length;
    // A memcmp (a few µs per request) against a decode: the shortcut can never hand out other spans.
    return Buffer.from(e.payload.buffer, e.payload.byteOffset, e.payload.length).equals(payload) ? e.data : undefined;
  }

  get size(): number {
    return this.bySeq.size;
  }
}

export class QueueSink implements TraceSink {
  constructor(
    private readonly queue: DiskQueue,
    /** The agent's forwarder takes the decoded requests from here (the gateway has no use for them). */
    private readonly decoded?: DecodedRequests,
  ) {}

  async accept(request: ReceivedRequest): Promise<void> {
    // A protobuf body is stored as it came (already validated by decoding); JSON is stored as protobuf.
    const payload = request.protobuf ?? encodeTracesData(request.data);
    if (payload.length <= this.queue.recordLimit) {
      // Kept when the seq is given, before the write: the forwarder may read the record at once.
      const decoded = this.decoded;
      await this.queue.append(payload, decoded ? (seq) => decoded.keep(seq, request.data, payload) : undefined);
      return;
    }
    await this.queue.appendAll(encodeWithin(request.data, this.queue.recordLimit));
  }
}

/** The disk queue as the forwarder's record source: a closing queue ends the wait like an abort. */
export function queueSource(queue: DiskQueue, decoded?: DecodedRequests): RecordSource {
  return {
    async next(signal?: AbortSignal): Promise<QueuedRecord> {
      const r = await queue.next(signal);
      if (!r) throw new Error(`disk queue ${queue.dir} is closing`);
      // Only a first delivery: a redelivered record may have been half-used by the sampler before.
      const data = r.deliveries === 1 ? decoded?.take(r.seq, r.payload) : undefined;
      return data ? { ...r, data } : r;
    },
    ack: (seq) => queue.ack(seq),
  };
}
