// The package's root entry (`import ... from 'slimtrace'`): the trace model, the OTLP codecs,
// Tracezip and the sampling strategies, which need nothing beyond Node.js. The OpenTelemetry SDK
// adapters (`slimtrace/sdk`, which need the SDK as a peer) and the source analyzer
// (`slimtrace/analyzer`, which loads tree-sitter grammars) have entries of their own so that
// importing the root never loads either. IMPORTANT: exports added here are public API of slimtrace.
export * from './model/index.js';
export * from './otlp/index.js';
export * from './tracezip/index.js';
export * from './sampling/index.js';
