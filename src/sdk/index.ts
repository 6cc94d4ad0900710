// Public surface of the OpenTelemetry JS SDK adapters. IMPORTANT: exports added here are public API of slimtrace.
export { toReadableSpans, toAttributes, toHrTime } from './readable.js';
