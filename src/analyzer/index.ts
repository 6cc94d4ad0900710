// Public surface of the Autoscope analyzer (src/analyzer). IMPORTANT: exports added here are public
// API of slimtrace.
export {
  ANALYZER_LANGUAGES,
  ROOT_NODE_TYPE,
  GrammarLoadError,
  createParser,
  initTreeSitter,
  languageForPath,
  loadLanguage,
  type AnalyzerLanguage,
} from './languages.js';
export {
  DEFAULT_SKIP_DIRS,
  classifyFile,
  inventorySourceFiles,
  readSourceFile,
  walkSourceFiles,
  type SourceEntry,
  type SourceInventory,
  type WalkOptions,
} from './source-files.js';
