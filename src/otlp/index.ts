// Public surface of the OTLP codecs. IMPORTANT: exports added here are public API of slimtrace.
export { decodeTracesData, encodeTracesData, encodedSpanSize, encodedTracesDataSize, decodeTraceResponse, encodeTraceResponse, type DecodeOptions } from './protobuf.js';
export { ProtobufDecodeError, type ProtobufDecodeErrorKind, MAX_DEPTH } from './wire.js';
export {
  encodeTracesJson,
  decodeTracesJson,
  decodeTracesJsonValue,
  decodeTracesJsonLines,
  encodeTraceResponseJson,
  decodeTraceResponseJson,
} from './json.js';
export {
  type OtlpFileFormat,
  MAX_MESSAGE_BYTES,
  detectOtlpFileFormat,
  readOtlpFile,
  readOtlpProtoFile,
  readOtlpJsonFile,
  OtlpFileWriter,
  type OtlpReadOptions,
} from './files.js';
export { type ReadLimits, DEFAULT_READ_LIMITS, ReadLimitError, emptyFileError } from './compressed.js';
export { AtomicFile, AtomicDirectory, OutputError, removeUnfinishedOutputs, type ByteSink, type Output } from './output.js';
export { type DecodeLimits, type DecodeLimitName, DEFAULT_DECODE_LIMITS, DecodeLimitError } from './limits.js';
