// The agent's loop from its disk queue to its gateway: takes queued requests in order, optionally runs
// them through the streaming sampler, batches what comes out, and hands each batch to the gateway
// link. A queued request is acknowledged (and may leave the queue) only when nothing of it is left to
// deliver: every trace it touched has been decided and the batch carrying the outcome has been
// acknowledged by a gateway (or the outcome was to drop). So a crash at any point loses nothing that
// was acknowledged to a client: the unacknowledged requests are read again at the next start, at the
// cost of duplicates bounded by what was in flight (docs/deployment.md).
import { bytesEqual, bytesToHex, countSpans, forEachSpan, type ResourceSpans, type TracesData } from '../model/index.js';
import { decodeTracesData } from '../otlp/index.js';
import type { StreamingSampler } from '../sampling/index.js';

export interface QueuedRecord {
  seq: number;
  payload: Uint8Array;
}

/** The consumer side of the agent's disk queue. */
export interface RecordSource {
  /** The next record in order; waits until one is there. Rejects when `signal` aborts. */
  next(signal?: AbortSignal): Promise<QueuedRecord>;
  /** Marks a record done (any order); the queue may then forget it. */
  ack(seq: number): void;
}

/** What the link to the gateway does: deliver one batch (rejects only on abort). */
export interface BatchSink {
  /**
   * `batch` may be a factory, called whenever the link needs the batch (again after a resync): the
   * forwarder's decodes its records again, so the decoded batch need not outlive its encoding.
   * `otlpBytes` is the batch's size as OTLP protobuf when the caller knows it without sizing the
   * spans (the queued requests it was made of), for the compression figure.
   */
  deliver(batch: TracesData | (() => TracesData), signal?: AbortSignal, otlpBytes?: number): Promise<void>;
}

export interface ForwarderOptions {
  source: RecordSource;
  link: BatchSink;
  /** Span-level sampling before the wire (its decision wait is in wall-clock ms). */
  sampler?: StreamingSampler;
  /** Spans per batch (frame) at most, before sampling (default 2048). */
  batchSpans?: number;
  /** How long to wait for more requests before sending a batch that is not full (default 200 ms). */
  lingerMs?: number;
  /** How often the sampler is asked for decided traces when no request arrives (default 500 ms). */
  pollMs?: number;
  clock?: () => number;
  /** A queued record that does not decode (cannot happen unless the queue file was tampered with). */
  onUndecodable?(seq: number, error: Error): void;
  /** A batch was delivered: spans out, queued requests acknowledged. */
  onDelivered?(spans: number, records: number): void;
}

export class Forwarder {
  private readonly batchSpans: number;
  private readonly lingerMs: number;
  private readonly pollMs: number;
  private readonly clock: () => number;
  /** Per queued record: its traces still open in the sampler. */
  private readonly openTraces = new Map<number, number>();
  /** Per open trace: the records waiting for its decision. */
  private readonly waiting = new Map<string, number[]>();
  /** Records with nothing left but the delivery of what is already in the sampler's output. */
  private completed: number[] = [];
  /** A record taken from the source but not yet ingested (the batch was full). */
  private carried: QueuedRecord | undefined;

  constructor(private readonly options: ForwarderOptions) {
    this.batchSpans = options.batchSpans ?? 2048;
    this.lingerMs = options.lingerMs ?? 200;
    this.pollMs = options.pollMs ?? 500;
    this.clock = options.clock ?? Date.now;
  }

  /** Records whose traces are still being decided. */
  get recordsInSampler(): number {
    return this.openTraces.size;
  }

  /** Called by the sampler for every decided trace (wire it as the sampler's onDecision). */
  traceDecided(traceIdHex: string): void {
    const seqs = this.waiting.get(traceIdHex);
    if (!seqs) return;
    this.waiting.delete(traceIdHex);
    for (const seq of seqs) {
      const left = this.openTraces.get(seq)! - 1;
      if (left === 0) {
        this.openTraces.delete(seq);
        this.completed.push(seq);
      } else this.openTraces.set(seq, left);
    }
  }

  /**
   * Runs until `signal` aborts. On abort (shutdown) it returns; call `drain` to flush what the
   * sampler holds within a deadline.
   */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        this.gathered = await this.gather(signal);
      } catch (e) {
        if (signal.aborted) return;
        throw e;
      }
      try {
        await this.sendGathered(signal);
      } catch (e) {
        if (signal.aborted) return;
        throw e;
      }
    }
  }

  /** Decides every trace the sampler holds and delivers the outcome (shutdown); rejects on abort. */
  async drain(signal: AbortSignal): Promise<void> {
    const { sampler } = this.options;
    if (!sampler) return;
    await this.send(sampler.flush(), signal);
  }

  /** Takes requests until a batch is full or the linger time passed; returns what is ready to send. */
  private async gather(signal: AbortSignal): Promise<TracesData | undefined> {
    const { sampler, source } = this.options;
    const parts: ResourceSpans[] = [];
    const payloads: Uint8Array[] = [];
    this.gatheredPayloads = payloads;
    let spans = 0;
    let deadline = Infinity;
    for (;;) {
      let record = this.carried;
      this.carried = undefined;
      if (!record) {
        const wait = Math.min(deadline === Infinity ? this.pollMs : deadline - this.clock(), this.pollMs);
        if (wait <= 0) break;
        record = await nextWithin(source, wait, signal);
        if (!record) break;
      }
      let data: TracesData;
      try {
        data = decodeTracesData(record.payload);
      } catch (e) {
        this.options.onUndecodable?.(record.seq, e as Error);
        source.ack(record.seq);
        continue;
      }
      const n = countSpans(data);
      if (spans > 0 && spans + n > this.batchSpans) {
        this.carried = record;
        break;
      }
      spans += n;
      if (sampler) this.ingest(record.seq, data, sampler);
      else {
        for (const rs of data.resourceSpans) parts.push(rs);
        payloads.push(record.payload);
        this.completed.push(record.seq);
      }
      if (spans >= this.batchSpans) break;
      if (deadline === Infinity) deadline = this.clock() + this.lingerMs;
    }
    if (sampler) return sampler.poll(this.clock());
    return parts.length > 0 ? { resourceSpans: parts } : undefined;
  }

  private ingest(seq: number, data: TracesData, sampler: StreamingSampler): void {
    // Which traces of this request will be held open: those not decided before it arrives.
    const traces = new Set<string>();
    let last: Uint8Array | undefined;
    forEachSpan(data, (span) => {
      // Spans of one trace usually arrive side by side: one hex string per run, not per span.
      if (last === undefined || !bytesEqual(span.traceId, last)) traces.add(bytesToHex((last = span.traceId)));
    });
    let open = 0;
    for (const t of traces) {
      if (sampler.traceState(t) === 'decided') continue; // its late spans are output at once
      let seqs = this.waiting.get(t);
      if (!seqs) this.waiting.set(t, (seqs = []));
      seqs.push(seq);
      open++;
    }
    if (open === 0) this.completed.push(seq);
    else this.openTraces.set(seq, open);
    sampler.push(data, this.clock()); // may decide traces early (caps): traceDecided runs inside
  }

  /** What gather() returned, until sendGathered() takes it (so that run() holds no reference). */
  private gathered: TracesData | undefined;
  /** The records (payloads) whose requests make up the batch gather() built without a sampler. */
  private gatheredPayloads: Uint8Array[] | undefined;

  /**
   * Sends what gather() built. Without a sampler the batch goes to the link as a factory that
   * hands over the decoded batch once and decodes the records again if it is asked again (resync):
   * the decoded batch is then garbage as soon as it is encoded, instead of living through the round
   * trip to the gateway, where the scavenger would copy and promote it (the agent's garbage
   * collection, a sixth of its time on generated traffic).
   */
  private async sendGathered(signal: AbortSignal): Promise<void> {
    const batch = this.gathered;
    const payloads = this.gatheredPayloads;
    this.gathered = undefined;
    this.gatheredPayloads = undefined;
    if (batch === undefined || payloads === undefined || this.options.sampler) return this.send(batch, signal);
    const spans = countSpans(batch);
    // The queued requests, concatenated, are this batch as one OTLP request (protobuf merges the
    // repeated resource_spans of concatenated messages), so their bytes are its OTLP size.
    let otlpBytes = 0;
    for (const p of payloads) otlpBytes += p.length;
    let first: TracesData | undefined = batch;
    return this.send(
      () => {
        const data = first ?? decodeRecords(payloads);
        first = undefined;
        return data;
      },
      signal,
      spans,
      otlpBytes,
    );
  }

  /** Delivers a batch (if any), then acknowledges every record completed before it was built. */
  private async send(batch: TracesData | (() => TracesData) | undefined, signal: AbortSignal, spans = batch === undefined || typeof batch === 'function' ? 0 : countSpans(batch), otlpBytes?: number): Promise<void> {
    const done = this.completed;
    this.completed = [];
    try {
      if (batch) await this.options.link.deliver(batch, signal, otlpBytes);
    } catch (e) {
      this.completed = done.concat(this.completed); // not delivered: they stay unacknowledged
      throw e;
    }
    for (const seq of done) this.options.source.ack(seq);
    if (batch) this.options.onDelivered?.(spans, done.length);
  }
}

/** The next record, or undefined when none comes within `ms`. */
async function nextWithin(source: RecordSource, ms: number, signal: AbortSignal): Promise<QueuedRecord | undefined> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new Error('no record yet')), ms);
  try {
    return await source.next(AbortSignal.any([signal, timeout.signal]));
  } catch (e) {
    if (signal.aborted) throw e;
    if (timeout.signal.aborted) return undefined;
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** The requests of queued records as one batch, as gather() puts them together. */
function decodeRecords(payloads: readonly Uint8Array[]): TracesData {
  const resourceSpans: ResourceSpans[] = [];
  for (const p of payloads) for (const rs of decodeTracesData(p).resourceSpans) resourceSpans.push(rs);
  return { resourceSpans };
}
