// Public surface of the dataset readers. IMPORTANT: exports added here are public API of slimtrace.
export {
  openTraceSource,
  openSpanCsvFiles,
  sniffFileFormat,
  type TraceSource,
  type TraceSourceKind,
  type TraceSourceOptions,
  type FileFormat,
} from './source.js';
export { readDataset, DEFAULT_LOG_WINDOW, type DatasetReadOptions } from './dataset.js';
export { detectDatasetLayout, type DatasetKind, type DatasetLayout, type MinuteFiles, type NezhaPart } from './layout.js';
export { readSpanCsvFiles, SPAN_CSV_COLUMNS, SPAN_CSV_OPTIONAL_COLUMNS, type ReadContext } from './span-csv.js';
export {
  classifyOperation,
  serviceOfPod,
  FAMILIES,
  FAMILY,
  JAVA_AGENT_SCOPES,
  type OperationFamily,
  type FamilyInfo,
} from './operations.js';
export {
  forEachLogEvent,
  parseLogLine,
  logEventAttributes,
  LOG_CSV_COLUMNS,
  LOG_RECORD_ORIGINAL,
  LOG_EVENT_NAME,
  type LogBodyMode,
  type ParsedLogLine,
} from './nezha-logs.js';
export {
  readFaultLists,
  readFaultySpans,
  readCodeRegions,
  faultsAt,
  FaultySpans,
  FAULT_WINDOW_NS,
  FAULT_DEFINITIONS,
  type Fault,
  type FaultDefinition,
  type GroundTruth,
} from './ground-truth.js';
export { zipkinToTraces, readZipkinFile, ZIPKIN_ATTR } from './zipkin.js';
export { jaegerToTraces, readJaegerFile, JAEGER_ATTR } from './jaeger.js';
export { WarningLog, formatWarning, type DatasetWarning, type WarningCode, type WarningLogOptions } from './warnings.js';
export { emptyStats, type ReadStats } from './stats.js';
export { parseUnsignedDecimal, parseIsoNanos } from './time.js';
