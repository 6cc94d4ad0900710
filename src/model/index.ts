// Public surface of the trace model. IMPORTANT: exports added here are public API of slimtrace.
export * from './types.js';
export {
  EMPTY_BYTES,
  makeSpan,
  makeEvent,
  makeLink,
  makeStatus,
  makeResource,
  makeEntityRef,
  makeScope,
  makeScopeSpans,
  makeResourceSpans,
  makeTracesData,
  kv,
  attributes,
  getAttribute,
} from './build.js';
export { bytesToHex, hexToBytes, hexToIdBytes, bytesEqual, isZeroId } from './ids.js';
export { diffTracesData, tracesDataEqual, diffSpan, diffAnyValue } from './equal.js';
export {
  countSpans,
  forEachSpan,
  locatedSpans,
  groupByTrace,
  buildSpanTree,
  spanDurationNanos,
  type LocatedSpan,
  type Trace,
  type SpanTree,
} from './traces.js';
export { serviceName, ATTR } from './semconv.js';
export { InputError } from './errors.js';
export { SpanBatcher, rebatch } from './batch.js';
