// Public surface of the traffic generator. IMPORTANT: exports added here are public API of slimtrace.
export {
  generateTraffic,
  generateTrafficAsync,
  trafficData,
  collectTraffic,
  DEFAULT_START_TIME_UNIX_NANO,
  DEFAULT_RATE,
  DEFAULT_BATCH_SPANS,
  DEFAULT_TRACES,
  type TrafficOptions,
  type TrafficBatch,
  type TrafficSummary,
} from './traffic.js';
export {
  defaultFaultScenario,
  resolveFaults,
  faultDefinitions,
  FAULT_TYPES,
  type FaultType,
  type FaultSpec,
  type FaultDefinition,
  type ResolvedFault,
  type FaultySpan,
  type GroundTruth,
} from './faults.js';
export { defaultTopology } from './default-topology.js';
export { grpcTopology, GRPC_FAULT_TARGETS } from './grpc-topology.js';
export { embeddedTopology, EMBEDDED_TOPOLOGIES, type EmbeddedTopology, type EmbeddedTopologyName } from './embedded.js';
export {
  validateTopology,
  walkSteps,
  LANGUAGES,
  type Language,
  entryKey,
  type Topology,
  type ServiceDef,
  type DatabaseDef,
  type OperationDef,
  type EntryPoint,
  type Entry,
  type HttpMethod,
  type Latency,
  type Step,
  type CallStep,
  type ExternalStep,
  type DbStep,
  type CacheStep,
  type CacheCommand,
  type PublishStep,
  type InternalStep,
  type BranchStep,
  type BranchArm,
  type LoopStep,
  type TryStep,
  type ParallelStep,
  type ReturnStep,
} from './topology.js';
export { emitServiceSources, renderServiceSources, buildCodeModel, CODE_MODEL_FILE, type SourceFile, type RenderedSources } from './emit.js';
export {
  CODE_MODEL_FORMAT,
  CODE_MODEL_VERSION,
  type CodeModel,
  type CodeModelService,
  type CodeModelOperation,
  type CodeModelSpan,
  type CodeModelBranchPoint,
  type CodeModelArm,
  type CodeLocation,
  type BranchPointKind,
} from './code-model.js';
export type { SpanKindName } from './naming.js';
export { Prng } from './prng.js';
