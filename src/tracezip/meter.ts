// The bytes a stream of OTLP data takes through one Tracezip stream, cut into frames as a sender
// would cut it: what a sampler that prices kept spans as Tracezip bytes is told it spent.
import { countSpans, type TracesData } from '../model/index.js';
import { TracezipEncoder, type TracezipEncoderOptions } from './encoder.js';
import { splitBatch } from './file.js';

/**
 * Encoder options for measuring: a fixed stream id and first epoch, so the same input takes the same
 * bytes in every run (both are in the frame headers; see TracezipEncoderOptions.firstEpoch).
 */
export const MEASURING_ENCODER: Readonly<TracezipEncoderOptions> = { streamId: 1n, firstEpoch: 1 };

/**
 * A meter over one Tracezip stream: each call encodes `data` in frames of at most `frameSpans` spans
 * (the stream's state carries over from call to call, as a sender's does) and returns their bytes.
 */
export function tracezipByteMeter(frameSpans = 512, options: TracezipEncoderOptions = {}): (data: TracesData) => number {
  if (!(Number.isInteger(frameSpans) && frameSpans >= 1)) throw new RangeError(`frameSpans must be a positive integer, got ${frameSpans}`);
  const encoder = new TracezipEncoder({ ...MEASURING_ENCODER, ...options });
  return (data) => {
    let bytes = 0;
    let rest = data;
    for (let n = countSpans(rest); n > 0; n -= frameSpans) {
      if (n <= frameSpans) {
        bytes += encoder.encode(rest).length;
        break;
      }
      const [first, after] = splitBatch(rest, frameSpans);
      bytes += encoder.encode(first).length;
      rest = after;
    }
    return bytes;
  };
}
