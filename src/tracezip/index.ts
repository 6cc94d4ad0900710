// Public surface of Tracezip, slimtrace's lossless trace compression. IMPORTANT: exports added here
// are public API of slimtrace. No network code lives here: frames are transport-independent bytes.
export { TracezipEncoder, DEFAULT_MAX_STATE_BYTES, type TracezipEncoderOptions } from './encoder.js';
export { TracezipDecoder, type DecodeResult, type ResyncReason, type TracezipDecoderOptions } from './decoder.js';
export { TracezipFrameError, type TracezipFrameErrorKind } from './errors.js';
export { type Compression, defaultCompression } from './compression.js';
export { FORMAT_VERSION, readFrameHeader, type FrameHeader } from './format.js';
export { readTracezipFile, TracezipFileWriter, frameLength, looksLikeTracezip, splitBatch, type TracezipFileReadOptions, type TracezipFileWriterOptions } from './file.js';
export { DEFAULT_LIMITS, decodedSizeOf, type TracezipLimits, type TracezipFileLimits } from './limits.js';
export { encodeSimpleBatch, decodeSimpleBatch } from './baseline.js';
export { MEASURING_ENCODER, tracezipByteMeter } from './meter.js';
