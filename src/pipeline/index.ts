// Public surface of the pipeline room (agent, gateway, receivers, disk queue, transports, metrics).
// IMPORTANT: exports added here are public API of slimtrace. Nothing below model, otlp, tracezip and
// sampling imports this room.
export { Backpressure, type BackpressureReason, type ReceivedRequest, type SinkResult, type TraceSink } from './sink.js';
