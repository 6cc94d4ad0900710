// Tracezip's typed failures. A frame that cannot be read at all (corrupt, truncated, wrong magic or
// version, bad checksum) is a TracezipFrameError; the decoder's state is never touched by one.
// Loss of sync (a gap, a reorder, lost state) is not an error: the decoder answers with a
// `resync-needed` result and the encoder starts a new epoch.
import { InputError } from '../model/errors.js';

export type TracezipFrameErrorKind =
  | 'magic' // not a Tracezip frame
  | 'version' // a format version this build cannot read
  | 'checksum' // the CRC-32C does not match: bytes were corrupted
  | 'truncated' // shorter than its header says
  | 'malformed' // a section does not parse, or refers to what it cannot
  | 'limit' // declares more than the decoder accepts (size caps)
  | 'compression'; // the payload does not decompress

export class TracezipFrameError extends InputError {
  override name = 'TracezipFrameError';
  constructor(
    readonly kind: TracezipFrameErrorKind,
    detail: string,
  ) {
    super(`invalid Tracezip frame (${kind}): ${detail}`);
  }
}
