// Injected faults and their ground truth. The kinds and the three definitions of a "faulty span"
// follow the real datasets (see /work/shared/datasets/README.md), so an evaluation computed on
// generated traffic means the same as one computed on TrainTicket: `exact` for code faults (the
// spans that ran the faulty code), `slow` for resource faults (spans the fault made slower, and the
// callers' client spans into the faulty service), `proxy` (every span of the faulty service in the
// window).
import { InputError } from '../model/index.js';
import type { Topology } from './topology.js';

export type FaultType = 'exception' | 'wrong-return' | 'latency-spike' | 'cpu-contention' | 'network-delay';

export const FAULT_TYPES: readonly FaultType[] = ['exception', 'wrong-return', 'latency-spike', 'cpu-contention', 'network-delay'];

export interface FaultSpec {
  type: FaultType;
  service: string;
  /** For code faults (exception, wrong-return, latency-spike): the faulty operation; omitted = every operation of the service. */
  operation?: string;
  /** Only this replica (0-based) of the service, as a fault injected into one pod; omitted = every replica. */
  instance?: number;
  /** Window start, in seconds after the traffic's start time. */
  startOffsetSeconds: number;
  durationSeconds: number;
  /**
   * Strength, default 1. exception, wrong-return: probability that an affected execution misbehaves.
   * latency-spike: +250 ms × intensity on the operation's own time. cpu-contention: the service's own
   * work takes 1 + 4 × intensity times as long. network-delay: +100 ms × intensity on every message
   * leaving the service (responses to callers and its own outgoing requests), as `tc netem` does.
   */
  intensity?: number;
  /** Name used in the ground truth; default F01, F02, ... in the order given. */
  id?: string;
}

export type FaultDefinition = 'exact' | 'slow' | 'proxy';

/** A fault with its window resolved to absolute times. */
export interface ResolvedFault {
  id: string;
  type: FaultType;
  service: string;
  operation?: string;
  instance?: number;
  intensity: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
}

/** One span of the ground truth. A span may appear once per (fault, definition). */
export interface FaultySpan {
  /** Lowercase hex, as the datasets' label files write ids. */
  traceId: string;
  spanId: string;
  faultId: string;
  definition: FaultDefinition;
  /** Service that emitted the span (a caller's client span names the caller). */
  service: string;
  spanName: string;
  /** Why this span is listed, in words. */
  reason: string;
}

export interface GroundTruth {
  faults: ResolvedFault[];
  spans: FaultySpan[];
}

/** The definitions that apply to a fault type: code faults have `exact`, resource faults `slow`. */
export function faultDefinitions(type: FaultType): FaultDefinition[] {
  switch (type) {
    case 'exception':
    case 'wrong-return':
      return ['exact', 'proxy'];
    case 'latency-spike':
      return ['exact', 'slow', 'proxy'];
    case 'cpu-contention':
    case 'network-delay':
      return ['slow', 'proxy'];
  }
}

/** Checks faults against the topology and resolves their windows; throws InputError on a bad fault. */
export function resolveFaults(faults: readonly FaultSpec[], topology: Topology, startTimeUnixNano: bigint): ResolvedFault[] {
  const ids = new Set<string>();
  return faults.map((f, i) => {
    const id = f.id ?? `F${String(i + 1).padStart(2, '0')}`;
    const where = `fault ${id}`;
    if (ids.has(id)) throw new InputError(`duplicate fault id`, where);
    ids.add(id);
    if (!FAULT_TYPES.includes(f.type)) throw new InputError(`unknown fault type ${String(f.type)} (one of ${FAULT_TYPES.join(', ')})`, where);
    const svc = topology.services.find((s) => s.name === f.service);
    if (!svc) throw new InputError(`unknown service ${f.service}`, where);
    if (f.operation !== undefined && !svc.operations.some((o) => o.id === f.operation))
      throw new InputError(`service ${f.service} has no operation ${f.operation}`, where);
    if (f.instance !== undefined && !(Number.isInteger(f.instance) && f.instance >= 0 && f.instance < svc.instances))
      throw new InputError(`service ${f.service} has no instance ${f.instance}`, where);
    if (!(f.startOffsetSeconds >= 0) || !(f.durationSeconds > 0)) throw new InputError('needs startOffsetSeconds >= 0 and durationSeconds > 0', where);
    const intensity = f.intensity ?? 1;
    if (!(intensity > 0)) throw new InputError('intensity must be positive', where);
    const start = startTimeUnixNano + BigInt(Math.round(f.startOffsetSeconds * 1e9));
    return {
      id,
      type: f.type,
      service: f.service,
      operation: f.operation,
      instance: f.instance,
      intensity,
      startTimeUnixNano: start,
      endTimeUnixNano: start + BigInt(Math.round(f.durationSeconds * 1e9)),
    };
  });
}

/**
 * One fault of each type, one after another with quiet time between them, so every fault's window
 * has a baseline before it. Targets the default topology; with another topology pass `targets`.
 */
export function defaultFaultScenario(
  durationSeconds: number,
  targets: Partial<Record<FaultType, { service: string; operation?: string }>> = {},
): FaultSpec[] {
  const defaults: Record<FaultType, { service: string; operation?: string }> = {
    // Propagates: frontend.getProduct and cart.getCart call it outside any try/catch.
    exception: { service: 'catalog-service', operation: 'getProduct' },
    // cart.addItem and order.placeOrder branch on its answer.
    'wrong-return': { service: 'inventory-service', operation: 'checkStock' },
    'latency-spike': { service: 'shipping-service', operation: 'createShipment' },
    'cpu-contention': { service: 'cart-service' },
    'network-delay': { service: 'auth-service' },
  };
  // Five windows in the middle 5/6 of the run, each 1/10 of it long, with quiet time between them.
  const slot = durationSeconds / 6;
  const length = durationSeconds / 10;
  return FAULT_TYPES.map((type, i) => ({
    type,
    ...(targets[type] ?? defaults[type]),
    startOffsetSeconds: slot * (i + 0.5),
    durationSeconds: length,
  }));
}
