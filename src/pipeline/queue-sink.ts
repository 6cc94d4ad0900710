// Where both the agent's and the gateway's receivers put what they accept: the disk queue. A request
// is acknowledged to its client when its append is fsync'd; a full queue answers Backpressure, so the
// client retries instead of being told a lie. A request larger than one record (a gateway's frame can
// decode to many times its own size) goes in as several records, all or none. Also the queue's
// consumer side as the forwarder reads it.
import { encodeTracesData } from '../otlp/index.js';
import type { DiskQueue } from './queue.js';
import type { QueuedRecord, RecordSource } from './forwarder.js';
import type { ReceivedRequest, TraceSink } from './sink.js';
import { encodeWithin } from './split.js';
import { Backpressure } from './sink.js';

/** A part of a request taken whole may fill at most this share of the queue, so it gets in as the queue drains. */
const PART_SHARE = 4;
/** Longest wait between tries for room, however far the queue's Retry-After estimate is. */
const PART_WAIT_MS = 1000;

export class QueueSink implements TraceSink {
  constructor(private readonly queue: DiskQueue) {}

  async accept(request: ReceivedRequest): Promise<void> {
    // A protobuf body is stored as it came (already validated by decoding); JSON is stored as protobuf.
    const payload = request.protobuf ?? encodeTracesData(request.data);
    if (payload.length <= this.queue.recordLimit) {
      await this.queue.append(payload);
      return;
    }
    await this.queue.appendAll(encodeWithin(request.data, this.queue.recordLimit));
  }

  async acceptInParts(request: ReceivedRequest, waiting: () => void): Promise<void> {
    const records = encodeWithin(request.data, this.queue.recordLimit);
    const partBytes = Math.max(this.queue.recordLimit, Math.floor(this.queue.capacity / PART_SHARE));
    for (let i = 0; i < records.length; ) {
      waiting();
      let j = i + 1;
      for (let bytes = records[i]!.length; j < records.length && bytes + records[j]!.length <= partBytes; j++) bytes += records[j]!.length;
      for (;;) {
        try {
          await this.queue.appendAll(records.slice(i, j));
          break;
        } catch (e) {
          // Only a full queue is worth waiting for; shutting down or a failed queue ends the request.
          if (!(e instanceof Backpressure) || e.reason !== 'queue-full') throw e;
          waiting();
          await new Promise((ok) => setTimeout(ok, Math.min(PART_WAIT_MS, e.retryAfterSeconds * 1000)));
        }
      }
      i = j;
    }
  }
}

/** The disk queue as the forwarder's record source: a closing queue ends the wait like an abort. */
export function queueSource(queue: DiskQueue): RecordSource {
  return {
    async next(signal?: AbortSignal): Promise<QueuedRecord> {
      const r = await queue.next(signal);
      if (!r) throw new Error(`disk queue ${queue.dir} is closing`);
      return r;
    },
    ack: (seq) => queue.ack(seq),
  };
}
