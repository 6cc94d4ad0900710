// The embedded topologies by name, with where the default fault scenario hits each: what the CLI's
// `--topology` chooses between (`default`: the TypeScript online shop; `grpc`: the polyglot shop).
import { InputError } from '../model/index.js';
import { defaultTopology } from './default-topology.js';
import { defaultFaultScenario, type FaultSpec, type FaultType } from './faults.js';
import { GRPC_FAULT_TARGETS, grpcTopology } from './grpc-topology.js';
import type { Topology } from './topology.js';

export type EmbeddedTopologyName = 'default' | 'grpc';

export const EMBEDDED_TOPOLOGIES: readonly EmbeddedTopologyName[] = ['default', 'grpc'];

export interface EmbeddedTopology {
  name: EmbeddedTopologyName;
  topology: Topology;
  /** One fault of each type, spread over a run of `durationSeconds`. */
  faultScenario(durationSeconds: number): FaultSpec[];
}

const TARGETS: Record<EmbeddedTopologyName, Partial<Record<FaultType, { service: string; operation?: string }>>> = {
  default: {},
  grpc: GRPC_FAULT_TARGETS,
};

/** An embedded topology by name; an unknown name is an InputError listing the known ones. */
export function embeddedTopology(name: string): EmbeddedTopology {
  if (!(EMBEDDED_TOPOLOGIES as readonly string[]).includes(name))
    throw new InputError(`unknown topology '${name}' (one of ${EMBEDDED_TOPOLOGIES.join(', ')})`, 'topology');
  const n = name as EmbeddedTopologyName;
  return {
    name: n,
    topology: n === 'grpc' ? grpcTopology() : defaultTopology(),
    faultScenario: (durationSeconds) => defaultFaultScenario(durationSeconds, TARGETS[n]),
  };
}
