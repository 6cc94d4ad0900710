// Cutting a batch of spans into smaller batches: the agent halves a batch its gateway refused as too
// large (413), and a queue sink cuts a request that decodes to more than one queue record holds. Spans
// keep their resource and scope (the envelopes are repeated in each part) and their order.
import { countSpans, locatedSpans, type TracesData } from '../model/index.js';
import { encodeTracesData } from '../otlp/index.js';
import { toTracesData } from '../sampling/index.js';
import { RequestTooLargeError } from './sink.js';

/** Two halves of a batch by span count (resource and scope envelopes repeated as needed). */
export function splitBatch(batch: TracesData): [TracesData, TracesData] {
  const all = [...locatedSpans(batch)];
  const half = all.length >> 1;
  return [toTracesData(all.slice(0, half)), toTracesData(all.slice(half))];
}

/**
 * The batch as OTLP protobuf requests of at most `limit` bytes each, in span order, halving until each
 * part fits. Throws RequestTooLargeError when a single span (with its envelopes) is over the limit.
 */
export function encodeWithin(batch: TracesData, limit: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const pending: TracesData[] = [batch];
  while (pending.length > 0) {
    const part = pending.shift()!;
    const bytes = encodeTracesData(part);
    if (bytes.length <= limit) {
      out.push(bytes);
      continue;
    }
    if (countSpans(part) <= 1) throw new RequestTooLargeError(bytes.length, limit, `a single span takes ${bytes.length} bytes, over the limit of ${limit} bytes per request`);
    pending.unshift(...splitBatch(part));
  }
  return out;
}
