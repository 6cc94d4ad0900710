// Public surface of the report room: the self-contained HTML evaluation report (inline SVG charts,
// trace waterfalls) and its JSON results. IMPORTANT: exports added here are public API of slimtrace.
export { renderReport, combinedFigures, type RenderOptions } from './html.js';
export { writeReport, REPORT_HTML, REPORT_JSON, type WrittenReport } from './write.js';
export { esc } from './escape.js';
export { MAX_WATERFALL_ROWS } from './waterfall.js';
export type * from '../eval/results.js';
export { EVALUATION_REPORT_FORMAT, EVALUATION_REPORT_VERSION } from '../eval/results.js';
