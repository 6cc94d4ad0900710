// The machine-readable "generator model": which function in which emitted file produces each span,
// and where the branch points are with the spans on each arm. It is the answer key an analyzer of
// the emitted TypeScript is checked against, so it is plain JSON (no bigint, no classes).
import type { Entry, Language } from './topology.js';
import type { SpanKindName } from './naming.js';

export const CODE_MODEL_FORMAT = 'slimtrace-generator-model';
export const CODE_MODEL_VERSION = 1;

export interface CodeModel {
  format: typeof CODE_MODEL_FORMAT;
  version: typeof CODE_MODEL_VERSION;
  topology: string;
  services: CodeModelService[];
}

export interface CodeModelService {
  name: string;
  /** Absent for TypeScript (the only language before polyglot topologies). */
  language?: Language;
  /** Folder of the service's package, relative to the output directory. */
  dir: string;
  files: string[];
  operations: CodeModelOperation[];
}

/** A place in the emitted source: file relative to the output directory, 1-based line. */
export interface CodeLocation {
  function: string;
  file: string;
  line: number;
}

export interface CodeModelOperation extends CodeLocation {
  service: string;
  /** Operation id in the topology, also the handler function's name. */
  operation: string;
  entry: Entry;
  /** Name and kind of the operation's entry span (SERVER or CONSUMER). */
  spanName: string;
  spanKind: SpanKindName;
  /** Where the entry is bound to the handler (route registration, gRPC service, Kafka subscription). */
  registration: { file: string; line: number };
  /** Every span this operation's own code (handler and helpers) can emit: the entry span first, then in source order. */
  spans: CodeModelSpan[];
  /** Branch points of the handler and of the helpers it calls, in source order. */
  branchPoints: CodeModelBranchPoint[];
}

export interface CodeModelSpan extends CodeLocation {
  /** `<service>.<operation>.<step id>`; the entry span's step is `entry`. */
  stepId: string;
  name: string;
  kind: SpanKindName;
  /** Source text at `line` that makes the span: a URL, an SQL literal, `startActiveSpan('name'`, a route. */
  anchor: string;
  /** For calls: the callee operation as `<service>.<operation>`. */
  callee?: string;
  /** For publishes: the topic, whose consumers continue the trace. */
  topic?: string;
}

export type BranchPointKind = 'if' | 'switch' | 'loop' | 'try';

export interface CodeModelBranchPoint extends CodeLocation {
  /** `<service>.<operation>.<step id>`. */
  id: string;
  kind: BranchPointKind;
  /** The call step whose answer decides the branch (`<service>.<operation>.<step id>`). */
  dependsOn?: string;
  /**
   * if: then and else; switch: one arm per case; loop: `body` and `exit`; try: `try` and `catch`.
   * `spanNames` are the names of the spans this service emits inside the arm (nested constructs and
   * helpers included, callee spans not); `returns` says the arm always leaves the function.
   */
  arms: CodeModelArm[];
}

export interface CodeModelArm {
  label: string;
  probability?: number;
  spanNames: string[];
  stepIds: string[];
  returns: boolean;
}
