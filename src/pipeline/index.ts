// Public surface of the pipeline room (agent, gateway, receivers, disk queue, transports, metrics).
// IMPORTANT: exports added here are public API of slimtrace. Nothing below model, otlp, tracezip and
// sampling imports this room.
export { Backpressure, RequestTooLargeError, type BackpressureReason, type ReceivedRequest, type SinkResult, type TraceSink } from './sink.js';
export {
  DiskQueue,
  QueueClosedError,
  QueueFailedError,
  RecordTooLargeError,
  DEFAULT_QUEUE_MAX_BYTES,
  DEFAULT_QUEUE_MAX_RECORD_BYTES,
  DEFAULT_QUEUE_SEGMENT_BYTES,
  DEFAULT_QUEUE_MAX_IN_FLIGHT,
  DEFAULT_QUEUE_CURSOR_DELAY_MS,
  type DiskQueueOptions,
  type QueueRecord,
  type QueueStats,
  type QueueWarning,
} from './queue.js';
export { QueueLockedError, DEFAULT_LOCK_REFRESH_MS, DEFAULT_LOCK_STALE_MS } from './queue-lock.js';
export {
  OtlpHttpReceiver,
  type OtlpHttpReceiverOptions,
  DEFAULT_OTLP_HTTP_PORT,
  DEFAULT_OTLP_TRACES_PATH,
  DEFAULT_MAX_REQUEST_BYTES,
  DEFAULT_MAX_CONCURRENT_REQUESTS,
  backpressureStatus,
} from './receiver-http.js';
export {
  type ReceiverMetrics,
  type ReceiverRequestEvent,
  type ReceiverOutcome,
  type ReceiverLog,
  type ReceiverTlsOptions,
} from './receiver-common.js';
export {
  RpcCode,
  type RpcStatus,
  type AnyMessage,
  type StatusDetails,
  makeStatus,
  encodeStatus,
  encodeStatusJson,
  decodeStatus,
  retryDelayOf,
  BAD_REQUEST_TYPE_URL,
  RETRY_INFO_TYPE_URL,
} from './otlp-status.js';
export {
  OtlpGrpcReceiver,
  type OtlpGrpcReceiverOptions,
  DEFAULT_OTLP_GRPC_PORT,
  TRACE_SERVICE_EXPORT_PATH,
  traceServiceDefinition,
} from './receiver-grpc.js';
export { Agent, type ServiceAddresses, type ServiceOptions } from './agent.js';
export { Gateway } from './gateway.js';
export { loadServeConfig, resolveServeConfig, ConfigError, type ServeConfig, type ConfigOverrides, type Role } from './config.js';
export { PipelineMetrics } from './metrics.js';
export { OtlpHttpExporter, type OtlpHttpExporterOptions, type ExportOutcome } from './exporter-otlp-http.js';
export { GatewayLink, type GatewayLinkOptions, type GatewayLinkObserver } from './gateway-link.js';
export { FrameHandler, FrameSender, TRACEZIP_PATH, TRACEZIP_CONTENT_TYPE, type FrameAnswer, type SendOutcome } from './tracezip-transport.js';
export { JETSTREAM_DEFAULTS, type JetStreamOptions, type ResyncRequest } from './jetstream.js';
export { JetStreamLink, type JetStreamLinkOptions, type JetStreamLinkObserver } from './jetstream-link.js';
export { JetStreamFrameConsumer, type FrameConsumerObserver } from './jetstream-consumer.js';
