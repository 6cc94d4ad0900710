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
export {
  ENTRY_ID,
  EXIT_ID,
  branchPoints,
  buildCscfg,
  callSites,
  successors,
  type BranchKind,
  type BranchPoint,
  type CallSite,
  type CscfgEdge,
  type CscfgNode,
  type FunctionCscfg,
  type Stmt,
  type SwitchCase,
} from './cscfg.js';
export {
  MODULE_FUNCTION,
  analyzeScriptSource,
  functionsOfTree,
  syntaxProblems,
  type AnalyzedFunction,
  type FileCscfg,
  modulesOfTree,
  type ScriptFileCscfg,
  type ScriptImport,
  type ScriptLanguage,
  type SyntaxProblem,
} from './typescript.js';
export {
  analyzeGoSource,
  goFunctionsOfTree,
  type GoCallNode,
  type GoCallSite,
  type GoFileCscfg,
  type GoFunction,
} from './golang.js';
export { analyzeCSharpSource, csharpFunctionsOfTree, type CSharpClass, type CSharpFileCscfg, type CSharpFunction } from './csharp.js';
export { findProtoFiles, parseProto, readProtoServices, type ProtoMethod, type ProtoService } from './proto.js';
export { analyzeJavaSource, javaDeclarationsOfTree, type JavaAnnotation, type JavaClass, type JavaField, type JavaFileCscfg, type JavaFunction } from './java.js';
export {
  analyzePythonSource,
  pythonFunctionsOfTree,
  type PythonDecorator,
  type PythonFileCscfg,
  type PythonFunction,
} from './python.js';
export { INHERITED_REPOSITORY_METHODS, SPRING_DATA_BASES, groupByService, joinRoute, mapJavaSpans, serviceOfPath, simpleTypeName, sqlVerbsOf, type JavaServiceFiles, type JavaSpanKind, type JavaSpanMapOptions, type JavaSpanMapping, type JavaSpanVia } from './span-map-java.js';
export { resolveServiceCalls, shortName, type CallClass, type CallEdge, type ServiceCalls, type ServiceFile } from './call-graph.js';
export { mapFrameworkSpans, readBuildDependencies, type BuildDependency, type FrameworkInput, type FrameworkSpan } from './span-map-framework.js';
export { crossServiceEdges, matchRoute, messagingEdges, parseClientUrl, type CrossServiceEdge, type MessagingEdge, type ParsedUrl } from './cross-service.js';
export { DEFAULT_BUSINESS_KEYWORDS, SCORE_WEIGHTS, loopNodes, scoreSpans, type ScoreInput, type SpanFeatures } from './features.js';
