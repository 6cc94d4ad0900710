// Public surface of the pipeline room (agent, gateway, receivers, disk queue, transports, metrics).
// IMPORTANT: exports added here are public API of slimtrace. Nothing below model, otlp, tracezip and
// sampling imports this room.
export { Backpressure, type BackpressureReason, type ReceivedRequest, type SinkResult, type TraceSink } from './sink.js';
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
