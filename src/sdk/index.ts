// Public surface of the OpenTelemetry JS SDK adapters. IMPORTANT: exports added here are public API of slimtrace.
export { toReadableSpans, toAttributes, toHrTime } from './readable.js';
export { SamplingSpanProcessor, StrategySampler, type SamplingSpanProcessorOptions, type SamplingSpanProcessorCounters, type TraceIdStrategy } from './autoscope-processor.js';
export { ReadableSpanConverter, fromAttributes, fromHrTime } from './from-readable.js';
export { TracezipExporter, type TracezipExporterOptions, type TracezipExporterStats } from './tracezip-exporter.js';
