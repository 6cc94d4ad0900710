// Public surface of the OTLP codecs. IMPORTANT: exports added here are public API of slimtrace.
export { decodeTracesData, encodeTracesData, decodeTraceResponse, encodeTraceResponse } from './protobuf.js';
export { ProtobufDecodeError, type ProtobufDecodeErrorKind, MAX_DEPTH } from './wire.js';
