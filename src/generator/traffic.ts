// The traffic generator: runs the topology's operation programs request by request and records the
// spans an OpenTelemetry JS deployment would export, with injected faults and their ground truth.
// Hot path (it is the CLI's default input and feeds the benchmarks): no closures or tuples per span,
// one Frame object per operation run, shared Resource/Scope/constant-attribute objects, and every
// random draw from one seeded Prng in a fixed order, so the same seed gives byte-identical output.
//
// Objects shared between spans (treat them as immutable): Resources, InstrumentationScopes,
// attribute KeyValues with constant values, and the UNSET Status.
import {
  EMPTY_BYTES,
  InputError,
  bytesToHex,
  kv,
  makeResourceSpans,
  makeScopeSpans,
  makeStatus,
  makeTracesData,
  type KeyValue,
  type ResourceSpans,
  type ScopeSpans,
  type Span,
  type SpanEvent,
  type Status,
  type TracesData,
} from '../model/index.js';
import type { CodeModel } from './code-model.js';
import {
  compileTopology,
  P_CATEGORY,
  P_ORDER,
  P_TOKEN,
  P_USER,
  S_BRANCH,
  S_CACHE,
  S_CALL,
  S_DB,
  S_EXTERNAL,
  S_INTERNAL,
  S_LOOP,
  S_PARALLEL,
  S_PUBLISH,
  S_RETURN,
  S_TRY,
  type CInstance,
  type COp,
  type CompiledTopology,
  type CStep,
  type Template,
} from './compile.js';
import { defaultTopology } from './default-topology.js';
import { resolveFaults, type FaultDefinition, type FaultSpec, type FaultySpan, type GroundTruth, type ResolvedFault } from './faults.js';
import { grpcStatusFor } from './naming.js';
import { Prng } from './prng.js';
import type { Topology } from './topology.js';

export interface TrafficOptions {
  /** Same seed, same topology and options: byte-identical spans. */
  seed: number | string;
  /** Stop after this many traces. Default 1000 when durationSeconds is not given either. */
  traces?: number;
  /** Stop when the next trace would start this many seconds after the start time. */
  durationSeconds?: number;
  /** Mean traces per second (Poisson arrivals). Default 100. */
  rate?: number;
  /** Default: defaultTopology(). */
  topology?: Topology;
  faults?: FaultSpec[];
  /** Default 2025-06-01T00:00:00Z. */
  startTimeUnixNano?: bigint;
  /** A batch is yielded once it holds at least this many spans (whole traces only). Default 4096. */
  batchSpans?: number;
}

export interface TrafficBatch {
  data: TracesData;
  traces: number;
  spans: number;
  /** Ground truth for the spans of this batch. */
  faultySpans: FaultySpan[];
}

/** The generator's return value, once every batch has been taken. */
export interface TrafficSummary {
  traces: number;
  spans: number;
  faults: ResolvedFault[];
  model: CodeModel;
  /** Start time of the last trace. */
  lastTraceStartUnixNano: bigint;
}

export const DEFAULT_START_TIME_UNIX_NANO = 1748736000000000000n; // 2025-06-01T00:00:00Z
export const DEFAULT_RATE = 100;
export const DEFAULT_BATCH_SPANS = 4096;
export const DEFAULT_TRACES = 1000;

const FLAGS_LOCAL = 0x101; // sampled, parent known to be local (or no parent), as the JS SDK exports
const FLAGS_REMOTE = 0x301; // sampled, parent came over the wire

const KIND_CLIENT = 3;
const KIND_PRODUCER = 4;

const STATUS_UNSET: Status = makeStatus(0, '');
const STATUS_ERROR: Status = makeStatus(2, '');
const KV_UA_AXIOS = kv('user_agent.original', 'axios/1.7.9');
const KV_ERROR_500 = kv('error.type', '500');
const KV_ERROR_503 = kv('error.type', '503');
const KV_ERROR_RESET = kv('error.type', 'ECONNRESET');
const CATEGORIES = ['shoes', 'jackets', 'electronics', 'books', 'kitchen', 'toys', 'garden', 'sports', 'beauty', 'grocery'];

/** Network time of one in-cluster message leg: log-normal, median 0.25 ms. */
const NET_MU = Math.log(0.25e6);
const NET_SIGMA = 0.35;
/** Queueing between a Kafka send and its consumption: median 4 ms. */
const QUEUE_MU = Math.log(4e6);
/** A span counts as slowed by a fault when the fault added at least 1 ms and 20% of its fault-free duration. */
const SLOW_MIN_NS = 1e6;
const SLOW_MIN_FRACTION = 0.2;

const F_EXCEPTION = 0;
const F_WRONG = 1;
const F_SPIKE = 2;
const F_CPU = 3;
const F_NETWORK = 4;
const FAULT_TYPE_NUMBER = { exception: F_EXCEPTION, 'wrong-return': F_WRONG, 'latency-spike': F_SPIKE, 'cpu-contention': F_CPU, 'network-delay': F_NETWORK } as const;

class CFault {
  readonly type: number;
  /** Window in ns after the traffic's start time. */
  readonly start: number;
  readonly end: number;
  /** -1 = every instance. */
  readonly instance: number;
  readonly cpuFactor: number;
  readonly spikeNs: number;
  readonly netNs: number;
  readonly reasonProxy: string;
  readonly reasonExact: string;
  readonly reasonSlow: string;
  readonly reasonSlowClient: string;
  constructor(
    readonly spec: ResolvedFault,
    readonly op: COp | null,
    base: bigint,
  ) {
    this.type = FAULT_TYPE_NUMBER[spec.type];
    this.start = Number(spec.startTimeUnixNano - base);
    this.end = Number(spec.endTimeUnixNano - base);
    this.instance = spec.instance ?? -1;
    this.cpuFactor = 1 + 4 * spec.intensity;
    this.spikeNs = 250e6 * spec.intensity;
    this.netNs = 100e6 * spec.intensity;
    const target = spec.operation ? `${spec.service}.${spec.operation}` : spec.service;
    this.reasonProxy = `span of ${spec.service} started in the window of ${spec.id} (${spec.type})`;
    this.reasonExact =
      this.type === F_EXCEPTION
        ? `ran ${target} while ${spec.id} made it throw`
        : this.type === F_WRONG
          ? `ran ${target} while ${spec.id} made it return a wrong value`
          : `ran ${target} while ${spec.id} inflated its own time`;
    this.reasonSlow = `${spec.type} ${spec.id} on ${spec.service} made this span slower`;
    this.reasonSlowClient = `client span into ${spec.service}, made slower by ${spec.type} ${spec.id}`;
  }

  covers(t: number, inst: CInstance): boolean {
    return t >= this.start && t < this.end && (this.instance < 0 || this.instance === inst.local);
  }
}

const NO_FAULTS: CFault[] = [];

/** One operation run: the handler's span and what its steps need. */
class Frame {
  constructor(
    readonly op: COp,
    readonly inst: CInstance,
    readonly spanId: Uint8Array,
    /** Handler time spent before each step. */
    readonly gap: number,
    /** cpu-contention factor on this run (1 = none). */
    readonly cpu: number,
    /** network-delay added to every message this run sends (ns). */
    readonly netOut: number,
    /** wrongStack length at the start: entries above it are wrong answers this run received. */
    readonly mark: number,
    /** Faults of this service covering this run (at its start). */
    readonly active: CFault[],
    /** Every fault of this service (for proxy, which is decided per span start). */
    readonly faults: CFault[],
  ) {}
}

function isSlow(extra: number, duration: number): boolean {
  return extra >= SLOW_MIN_NS && extra >= SLOW_MIN_FRACTION * (duration - extra);
}

class Engine {
  private traceId: Uint8Array = EMPTY_BYTES;
  private traceHex = '';
  private userId = '';
  private orderId = '';
  private token = '';
  /** url.path of the request being made (set by the caller just before execOp). */
  private reqPath = '';
  private rootClient: KeyValue;
  private rootAgent: KeyValue;
  // Control flow signals, as the code would see them.
  private throwing = false;
  private returned = false;
  private retStatus = 200;
  // What the last execOp answered, read by its caller.
  private lastStatus = 200;
  private lastWrong = false;
  private lastActive: CFault[] = NO_FAULTS;
  private lastNetOut = 0;
  private readonly wrongStack: CStep[] = [];
  /** Total ns that faults have added so far: the difference across a span is its fault-induced extra time. */
  private faultDelay = 0;
  private kafkaOffset = 0;
  // The batch being built.
  private resourceSpans: ResourceSpans[] = [];
  private readonly rsByInstance: (ResourceSpans | undefined)[];
  private readonly slots: (ScopeSpans | undefined)[];
  private readonly touched: number[] = [];
  private readonly nScopes: number;
  batchSpans = 0;
  batchTraces = 0;
  totalSpans = 0;
  private faulty: FaultySpan[] = [];
  private readonly faultsBySvc: CFault[][];

  constructor(
    private readonly c: CompiledTopology,
    private readonly rng: Prng,
    private readonly base: bigint,
    faults: ResolvedFault[],
  ) {
    this.nScopes = c.scopes.length;
    this.rsByInstance = new Array<ResourceSpans | undefined>(c.instances.length).fill(undefined);
    this.slots = new Array<ScopeSpans | undefined>(c.instances.length * this.nScopes).fill(undefined);
    this.faultsBySvc = c.services.map(() => []);
    for (const f of faults) {
      const svc = c.services.find((s) => s.def.name === f.service)!;
      const op = f.operation !== undefined && f.type !== 'cpu-contention' && f.type !== 'network-delay' ? svc.ops.get(f.operation)! : null;
      this.faultsBySvc[svc.index]!.push(new CFault(f, op, base));
    }
    for (let i = 0; i < this.faultsBySvc.length; i++) if (this.faultsBySvc[i]!.length === 0) this.faultsBySvc[i] = NO_FAULTS;
    this.rootClient = c.kvClientIps[0]!;
    this.rootAgent = c.kvUserAgents[0]!;
  }

  // ---- ids, times, batching ----

  private newSpanId(): Uint8Array {
    const id = new Uint8Array(8);
    let a = this.rng.nextU32();
    const b = this.rng.nextU32();
    if ((a | b) === 0) a = 1; // an all-zero id is invalid
    id[0] = a >>> 24;
    id[1] = a >>> 16;
    id[2] = a >>> 8;
    id[3] = a;
    id[4] = b >>> 24;
    id[5] = b >>> 16;
    id[6] = b >>> 8;
    id[7] = b;
    return id;
  }

  private ns(t: number): bigint {
    return this.base + BigInt(Math.round(t));
  }

  private emit(inst: CInstance, scope: number, span: Span): void {
    const slot = inst.gi * this.nScopes + scope;
    let ss = this.slots[slot];
    if (ss === undefined) {
      let rs = this.rsByInstance[inst.gi];
      if (rs === undefined) {
        rs = makeResourceSpans({ resource: inst.resource });
        this.rsByInstance[inst.gi] = rs;
        this.resourceSpans.push(rs);
      }
      ss = makeScopeSpans({ scope: this.c.scopes[scope] });
      rs.scopeSpans.push(ss);
      this.slots[slot] = ss;
      this.touched.push(slot);
    }
    ss.spans.push(span);
    this.batchSpans++;
    this.totalSpans++;
  }

  take(): TrafficBatch {
    const batch: TrafficBatch = { data: makeTracesData(this.resourceSpans), traces: this.batchTraces, spans: this.batchSpans, faultySpans: this.faulty };
    this.resourceSpans = [];
    for (const slot of this.touched) this.slots[slot] = undefined;
    this.touched.length = 0;
    this.rsByInstance.fill(undefined);
    this.faulty = [];
    this.batchSpans = 0;
    this.batchTraces = 0;
    return batch;
  }

  private record(span: Span, service: string, f: CFault, definition: FaultDefinition, reason: string): void {
    if (this.traceHex === '') this.traceHex = bytesToHex(this.traceId);
    this.faulty.push({
      traceId: this.traceHex,
      spanId: bytesToHex(span.spanId),
      faultId: f.spec.id,
      definition,
      service,
      spanName: span.name,
      reason,
    });
  }

  /** Ground truth of a span the frame's service emitted: proxy by its start, slow by the extra time faults gave it. */
  private truth(fr: Frame, span: Span, start: number, extra: number, duration: number, isEntry: boolean): void {
    const faults = fr.faults;
    for (let i = 0; i < faults.length; i++) {
      const f = faults[i]!;
      if (f.covers(start, fr.inst)) this.record(span, fr.op.svc.def.name, f, 'proxy', f.reasonProxy);
    }
    if (extra > 0 && isSlow(extra, duration)) {
      const active = fr.active;
      for (let i = 0; i < active.length; i++) {
        const f = active[i]!;
        // A latency spike slows the operation's own span; cpu and network slow everything it does.
        if (f.type === F_CPU || f.type === F_NETWORK || (f.type === F_SPIKE && isEntry && (f.op === null || f.op === fr.op)))
          this.record(span, fr.op.svc.def.name, f, 'slow', f.reasonSlow);
      }
    }
  }

  private fill(template: Template): string {
    let s = template[0] as string;
    for (let i = 1; i < template.length; i += 2) {
      const p = template[i] as number;
      s +=
        p === P_USER
          ? this.userId
          : p === P_ORDER
            ? this.orderId
            : p === P_TOKEN
              ? this.token
              : p === P_CATEGORY
                ? CATEGORIES[this.rng.int(CATEGORIES.length)]!
                : String(this.rng.intBetween(1, 20000));
      s += template[i + 1] as string;
    }
    return s;
  }

  // ---- traces ----

  /** Generates one trace whose root starts at `t` (ns after the start time). */
  trace(t: number): void {
    const rng = this.rng;
    const c = this.c;
    const traceId = rng.fill(new Uint8Array(16));
    if (traceId[0] === 0 && traceId[15] === 0) traceId[15] = 1; // never all-zero
    this.traceId = traceId;
    this.traceHex = '';
    this.userId = String(rng.intBetween(1, 250000));
    this.orderId = String(rng.intBetween(1000000, 9999999));
    this.token = rng.nextU32().toString(16).padStart(8, '0');
    this.rootClient = c.kvClientIps[rng.int(c.kvClientIps.length)]!;
    this.rootAgent = c.kvUserAgents[rng.int(c.kvUserAgents.length)]!;
    const u = rng.float();
    let e = 0;
    while (u >= c.entryCum[e]!) e++;
    const op = c.entryOps[e]!;
    const inst = op.svc.instances[op.svc.instances.length === 1 ? 0 : rng.int(op.svc.instances.length)]!;
    this.reqPath = op.protocol === 0 ? this.fill(op.template) : '';
    this.execOp(op, inst, EMPTY_BYTES, t, null);
    this.throwing = false;
    this.returned = false;
    this.batchTraces++;
  }

  /** Runs an operation (its entry span, then its body); returns its end time and leaves the answer in last*. */
  private execOp(op: COp, inst: CInstance, parent: Uint8Array, t0: number, caller: CInstance | null): number {
    const rng = this.rng;
    const path = this.reqPath;
    const spanId = this.newSpanId();
    const faults = this.faultsBySvc[op.svc.index]!;
    let active = NO_FAULTS;
    let cpu = 1;
    let spike = 0;
    let netOut = 0;
    let throwFault: CFault | null = null;
    let wrongFault: CFault | null = null;
    let spikeFault: CFault | null = null;
    if (faults.length !== 0) {
      for (let i = 0; i < faults.length; i++) {
        const f = faults[i]!;
        if (!f.covers(t0, inst)) continue;
        if (active === NO_FAULTS) active = [];
        active.push(f);
        const mine = f.op === null || f.op === op;
        switch (f.type) {
          case F_CPU:
            cpu *= f.cpuFactor;
            break;
          case F_NETWORK:
            netOut += f.netNs * (0.9 + 0.2 * rng.float());
            break;
          case F_SPIKE:
            if (mine) {
              spike += f.spikeNs * rng.logNormal(0, 0.2);
              spikeFault = f;
            }
            break;
          case F_EXCEPTION:
            if (mine && (f.spec.intensity >= 1 || rng.chance(f.spec.intensity))) throwFault = f;
            break;
          case F_WRONG:
            if (mine && (f.spec.intensity >= 1 || rng.chance(f.spec.intensity))) wrongFault = f;
            break;
        }
      }
    }
    const delayAtStart = this.faultDelay;
    const base = rng.logNormal(op.mu, op.sigma);
    const self = base * cpu;
    this.faultDelay += self - base + spike;
    const frame = new Frame(op, inst, spanId, (self * 0.4) / op.gapDivisor, cpu, netOut, this.wrongStack.length, active, faults);

    let t = t0 + self * 0.35;
    let status = 200;
    let failed = false;
    let origin: CFault | null = null; // the injected exception, when this run threw it
    let natural = false;
    const throwAt = t;
    if (throwFault !== null) {
      failed = true;
      origin = throwFault;
    } else if (op.errorRate > 0 && rng.chance(op.errorRate)) {
      failed = true;
      natural = true;
    } else {
      t = this.execSteps(op.body, frame, spanId, t);
      if (this.throwing) {
        this.throwing = false;
        failed = true;
      } else if (this.returned) {
        status = this.retStatus;
      }
      this.returned = false;
    }
    if (failed) status = 500;
    const wrong = !failed && status < 400 && wrongFault !== null;
    const end = t + self * op.tailShare + spike;

    // The entry span.
    let attrs: KeyValue[];
    let spanStatus = STATUS_UNSET;
    const c = op.consts;
    const c2 = this.c;
    if (op.protocol === 0) {
      // A wrong answer is an empty body; an error answer a short JSON error.
      const size = wrong ? 2 : status >= 400 ? 24 + rng.int(40) : Math.round(rng.logNormal(op.respMu, 0.3));
      attrs = [
        c[0]!,
        c[1]!,
        c[2]!,
        kv('url.path', path),
        c[3]!,
        c[4]!,
        caller === null ? this.rootClient : caller.kvClient,
        caller === null ? this.rootAgent : KV_UA_AXIOS,
        c[5]!,
        c2.kvStatus.get(status) ?? kv('http.response.status_code', BigInt(status)),
        kv('http.response.body.size', BigInt(size)),
      ];
      if (status >= 500) {
        attrs.push(KV_ERROR_500);
        spanStatus = origin !== null ? makeStatus(2, op.faultMessage) : natural ? makeStatus(2, op.naturalMessage) : STATUS_ERROR;
      }
    } else if (op.protocol === 1) {
      const code = failed ? 2 : grpcStatusFor(status);
      attrs = [c[0]!, c[1]!, c[2]!, c[3]!, caller === null ? this.rootClient : caller.kvPeer, c2.kvGrpcStatus[code]!];
      if (code === 2 || code === 13 || code === 14) spanStatus = origin !== null ? makeStatus(2, op.faultMessage) : natural ? makeStatus(2, op.naturalMessage) : STATUS_ERROR;
    } else {
      attrs = [c[0]!, c[1]!, c[2]!, c[3]!, c2.kvPartitions[rng.int(c2.kvPartitions.length)]!, kv('messaging.kafka.offset', BigInt(++this.kafkaOffset))];
      if (failed) spanStatus = origin !== null ? makeStatus(2, op.faultMessage) : natural ? makeStatus(2, op.naturalMessage) : STATUS_ERROR;
    }
    let events: SpanEvent[] = [];
    if (origin !== null || natural) {
      events = [
        {
          timeUnixNano: this.ns(throwAt),
          name: 'exception',
          attributes: (origin !== null ? op.faultException : op.naturalException).slice(),
          droppedAttributesCount: 0,
          unknownFields: undefined,
        },
      ];
    }
    const span = newSpan(this.traceId, spanId, parent, parent.length === 0 ? FLAGS_LOCAL : FLAGS_REMOTE, op.name, op.kind, this.ns(t0), this.ns(end), attrs, events, spanStatus);
    this.emit(inst, op.scope, span);
    if (faults.length !== 0) {
      this.truth(frame, span, t0, this.faultDelay - delayAtStart, end - t0, true);
      if (origin !== null) this.record(span, op.svc.def.name, origin, 'exact', origin.reasonExact);
      if (wrong) this.record(span, op.svc.def.name, wrongFault!, 'exact', wrongFault!.reasonExact);
      if (spikeFault !== null) this.record(span, op.svc.def.name, spikeFault, 'exact', spikeFault.reasonExact);
    }
    this.wrongStack.length = frame.mark;
    this.lastStatus = status;
    this.lastWrong = wrong;
    this.lastActive = active;
    this.lastNetOut = netOut;
    return end;
  }

  private execSteps(steps: CStep[], fr: Frame, parent: Uint8Array, t: number): number {
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i]!;
      // Handler time passes before each span-making step; control flow itself takes none.
      t = this.execStep(s, fr, parent, s.kind !== 0 ? t + fr.gap : t);
      if (this.throwing || this.returned) break;
    }
    return t;
  }

  private execStep(s: CStep, fr: Frame, parent: Uint8Array, t: number): number {
    switch (s.t) {
      case S_CALL:
        return this.call(s, fr, parent, t);
      case S_EXTERNAL:
      case S_DB:
      case S_CACHE:
        return this.leaf(s, fr, parent, t);
      case S_PUBLISH:
        return this.publish(s, fr, parent, t);
      case S_INTERNAL:
        return this.internal(s, fr, parent, t);
      case S_BRANCH: {
        let arm = 0;
        if (s.dependsOn !== null && this.receivedWrong(fr.mark, s.dependsOn)) arm = s.wrongArm;
        else {
          const u = this.rng.float();
          while (u >= s.cum[arm]!) arm++;
        }
        return this.execSteps(s.arms[arm]!, fr, parent, t);
      }
      case S_LOOP: {
        const n = s.min === s.max ? s.min : this.rng.intBetween(s.min, s.max);
        for (let i = 0; i < n; i++) {
          t = this.execSteps(s.body, fr, parent, t);
          if (this.throwing || this.returned) break;
        }
        return t;
      }
      case S_TRY:
        t = this.execSteps(s.body, fr, parent, t);
        if (this.throwing) {
          this.throwing = false;
          t = this.execSteps(s.arms[0]!, fr, parent, t);
        }
        return t;
      case S_PARALLEL: {
        // Promise.all: every call starts (a few µs apart), the step ends with the slowest, and
        // fails if any failed. Fault-added time is that of the slowest path, not the sum.
        const delay0 = this.faultDelay;
        let maxDelay = 0;
        let end = t;
        let failed = false;
        for (let i = 0; i < s.body.length; i++) {
          this.faultDelay = delay0;
          const e = this.execStep(s.body[i]!, fr, parent, t + i * 15e3);
          if (this.throwing) failed = true;
          this.throwing = false;
          if (e > end) end = e;
          if (this.faultDelay - delay0 > maxDelay) maxDelay = this.faultDelay - delay0;
        }
        this.faultDelay = delay0 + maxDelay;
        this.throwing = failed;
        return end;
      }
      case S_RETURN:
        this.returned = true;
        this.retStatus = s.status;
        return t;
      default:
        return t;
    }
  }

  private receivedWrong(mark: number, step: CStep): boolean {
    for (let i = mark; i < this.wrongStack.length; i++) if (this.wrongStack[i] === step) return true;
    return false;
  }

  /** A call to another service: CLIENT span here around the callee's SERVER span. */
  private call(s: CStep, fr: Frame, parent: Uint8Array, t: number): number {
    const rng = this.rng;
    const callee = s.callee!;
    const svc = callee.svc;
    const inst = svc.instances[svc.instances.length === 1 ? 0 : rng.int(svc.instances.length)]!;
    const clientId = this.newSpanId();
    const delay0 = this.faultDelay;
    let url = '';
    if (callee.protocol === 0) {
      this.reqPath = this.fill(s.template);
      url = s.urlPrefix + this.reqPath;
    }
    let reqLeg = rng.logNormal(NET_MU, NET_SIGMA);
    if (fr.netOut !== 0) {
      reqLeg += fr.netOut;
      this.faultDelay += fr.netOut;
    }
    const calleeEnd = this.execOp(callee, inst, clientId, t + reqLeg, fr.inst);
    const status = this.lastStatus;
    const wrong = this.lastWrong;
    const calleeActive = this.lastActive;
    let respLeg = rng.logNormal(NET_MU, NET_SIGMA);
    if (this.lastNetOut !== 0) {
      respLeg += this.lastNetOut;
      this.faultDelay += this.lastNetOut;
    }
    const end = calleeEnd + respLeg;
    const c = s.consts;
    let attrs: KeyValue[];
    let spanStatus = STATUS_UNSET;
    if (callee.protocol === 0) {
      attrs = [c[0]!, kv('url.full', url), c[1]!, c[2]!, inst.kvPeer, c[3]!, this.c.kvStatus.get(status) ?? kv('http.response.status_code', BigInt(status))];
      if (status >= 400) {
        attrs.push(status >= 500 ? KV_ERROR_500 : kv('error.type', String(status)));
        spanStatus = STATUS_ERROR;
      }
    } else {
      const code = status >= 500 ? 2 : grpcStatusFor(status);
      attrs = [c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, inst.kvPeer, this.c.kvGrpcStatus[code]!];
      if (code !== 0) spanStatus = STATUS_ERROR;
    }
    const span = newSpan(this.traceId, clientId, parent, FLAGS_LOCAL, s.name, KIND_CLIENT, this.ns(t), this.ns(end), attrs, [], spanStatus);
    this.emit(fr.inst, s.scope, span);
    const extra = this.faultDelay - delay0;
    if (fr.faults.length !== 0) this.truth(fr, span, t, extra, end - t, false);
    // The caller's client span into a service that a resource fault (or a spike) slowed.
    if (calleeActive.length !== 0 && extra > 0 && isSlow(extra, end - t)) {
      for (let i = 0; i < calleeActive.length; i++) {
        const f = calleeActive[i]!;
        if (f.type === F_CPU || f.type === F_NETWORK || (f.type === F_SPIKE && (f.op === null || f.op === callee))) this.record(span, fr.op.svc.def.name, f, 'slow', f.reasonSlowClient);
      }
    }
    if (status >= 400) this.throwing = true;
    // A condition reads the latest answer of its call (a loop calls again): keep only that one.
    const ws = this.wrongStack;
    for (let i = fr.mark; i < ws.length; i++)
      if (ws[i] === s) {
        ws.splice(i, 1);
        break;
      }
    if (wrong) ws.push(s);
    return end;
  }

  /** A database query, cache command or external HTTP call: one CLIENT span. */
  private leaf(s: CStep, fr: Frame, parent: Uint8Array, t: number): number {
    const rng = this.rng;
    const base = rng.logNormal(s.mu, s.sigma);
    let extra = fr.netOut;
    if (fr.cpu !== 1) extra += base * (fr.cpu - 1) * 0.5; // the driver's share of the time runs on the starved CPU
    const duration = base + extra;
    this.faultDelay += extra;
    const id = this.newSpanId();
    const c = s.consts;
    let attrs: KeyValue[];
    let spanStatus = STATUS_UNSET;
    if (s.t === S_CACHE) {
      attrs = [c[0]!, kv('db.statement', `${s.name} ${this.fill(s.template)}${s.tail}`), c[1]!, c[2]!];
    } else if (s.t === S_DB) {
      attrs = c.slice();
    } else {
      attrs = c.slice();
      if (s.errorRate > 0 && rng.chance(s.errorRate)) {
        if (rng.chance(0.6)) {
          attrs.push(this.c.kvStatus.get(503)!, KV_ERROR_503);
          spanStatus = STATUS_ERROR;
        } else {
          attrs.push(KV_ERROR_RESET);
          spanStatus = makeStatus(2, 'socket hang up');
        }
        this.throwing = true;
      } else {
        attrs.push(this.c.kvStatus.get(200)!);
      }
    }
    const span = newSpan(this.traceId, id, parent, FLAGS_LOCAL, s.name, s.kind, this.ns(t), this.ns(t + duration), attrs, [], spanStatus);
    this.emit(fr.inst, s.scope, span);
    if (fr.faults.length !== 0) this.truth(fr, span, t, extra, duration, false);
    return t + duration;
  }

  /** A Kafka send: PRODUCER span here; each consuming operation continues the trace after a queueing delay. */
  private publish(s: CStep, fr: Frame, parent: Uint8Array, t: number): number {
    const rng = this.rng;
    const base = rng.logNormal(s.mu, s.sigma);
    let extra = fr.netOut;
    if (fr.cpu !== 1) extra += base * (fr.cpu - 1) * 0.5;
    const duration = base + extra;
    this.faultDelay += extra;
    const id = this.newSpanId();
    const c = s.consts;
    const attrs = [c[0]!, c[1]!, c[2]!, kv('messaging.kafka.message.key', this.orderId)];
    const span = newSpan(this.traceId, id, parent, FLAGS_LOCAL, s.name, KIND_PRODUCER, this.ns(t), this.ns(t + duration), attrs, [], STATUS_UNSET);
    this.emit(fr.inst, s.scope, span);
    if (fr.faults.length !== 0) this.truth(fr, span, t, extra, duration, false);
    // Consumers run on their own; nothing they do reaches back into this request.
    const delay0 = this.faultDelay;
    for (let i = 0; i < s.consumers.length; i++) {
      const op = s.consumers[i]!;
      const inst = op.svc.instances[op.svc.instances.length === 1 ? 0 : rng.int(op.svc.instances.length)]!;
      this.execOp(op, inst, id, t + duration * 0.5 + rng.logNormal(QUEUE_MU, 0.6), null);
    }
    this.faultDelay = delay0;
    this.throwing = false;
    this.returned = false;
    return t + duration;
  }

  /** A manual span around a helper function; a return inside the helper leaves only the helper. */
  private internal(s: CStep, fr: Frame, parent: Uint8Array, t: number): number {
    const rng = this.rng;
    const base = rng.logNormal(s.mu, s.sigma);
    const self = base * fr.cpu;
    const delay0 = this.faultDelay;
    this.faultDelay += self - base;
    const id = this.newSpanId();
    let end = t + self * 0.5;
    if (s.body.length !== 0) end = this.execSteps(s.body, fr, id, end);
    this.returned = false;
    end += self * 0.5;
    const span = newSpan(this.traceId, id, parent, FLAGS_LOCAL, s.name, s.kind, this.ns(t), this.ns(end), s.consts.slice(), [], this.throwing ? STATUS_ERROR : STATUS_UNSET);
    this.emit(fr.inst, s.scope, span);
    if (fr.faults.length !== 0) this.truth(fr, span, t, this.faultDelay - delay0, end - t, false);
    return end;
  }
}

/** A span literal with every field in makeSpan's order, so all generated spans share one shape. */
function newSpan(
  traceId: Uint8Array,
  spanId: Uint8Array,
  parentSpanId: Uint8Array,
  flags: number,
  name: string,
  kind: number,
  startTimeUnixNano: bigint,
  endTimeUnixNano: bigint,
  attributes: KeyValue[],
  events: SpanEvent[],
  status: Status,
): Span {
  return {
    traceId,
    spanId,
    traceState: '',
    parentSpanId,
    flags,
    name,
    kind,
    startTimeUnixNano,
    endTimeUnixNano,
    attributes,
    droppedAttributesCount: 0,
    events,
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status,
    unknownFields: undefined,
  };
}

interface Resolved {
  topology: Topology;
  seed: number | string;
  maxTraces: number;
  limitNs: number;
  meanGapNs: number;
  base: bigint;
  batchSpans: number;
  faults: FaultSpec[];
}

function resolveOptions(options: TrafficOptions): Resolved {
  const bad = (msg: string): never => {
    throw new InputError(msg, 'traffic options');
  };
  if (typeof options.seed !== 'number' && typeof options.seed !== 'string') bad('seed must be a number or a string');
  const rate = options.rate ?? DEFAULT_RATE;
  if (!(rate > 0 && Number.isFinite(rate))) bad(`rate must be a positive number of traces per second, not ${rate}`);
  if (options.traces !== undefined && !(Number.isInteger(options.traces) && options.traces >= 0)) bad(`traces must be a whole number, not ${options.traces}`);
  if (options.durationSeconds !== undefined && !(options.durationSeconds >= 0 && Number.isFinite(options.durationSeconds)))
    bad(`durationSeconds must be a non-negative number, not ${options.durationSeconds}`);
  const batchSpans = options.batchSpans ?? DEFAULT_BATCH_SPANS;
  if (!(batchSpans >= 1)) bad(`batchSpans must be at least 1, not ${batchSpans}`);
  return {
    topology: options.topology ?? defaultTopology(),
    seed: options.seed,
    maxTraces: options.traces ?? (options.durationSeconds === undefined ? DEFAULT_TRACES : Infinity),
    limitNs: options.durationSeconds === undefined ? Infinity : options.durationSeconds * 1e9,
    meanGapNs: 1e9 / rate,
    base: options.startTimeUnixNano ?? DEFAULT_START_TIME_UNIX_NANO,
    batchSpans,
    faults: options.faults ?? [],
  };
}

/**
 * Seeded microservice traffic: yields batches of whole traces (each batch at least `batchSpans`
 * spans, except the last) with the ground truth of their faulty spans, and returns a summary.
 * Options and the topology are checked before the first batch is asked for (InputError).
 */
export function generateTraffic(options: TrafficOptions): Generator<TrafficBatch, TrafficSummary, undefined> {
  const r = resolveOptions(options);
  const compiled = compileTopology(r.topology);
  const faults = resolveFaults(r.faults, r.topology, r.base);
  return run(r, compiled, faults);
}

function* run(r: Resolved, compiled: CompiledTopology, faults: ResolvedFault[]): Generator<TrafficBatch, TrafficSummary, undefined> {
  // Arrivals draw from their own stream, so the request contents of trace k do not depend on rate.
  const arrivals = new Prng(`${typeof r.seed === 'string' ? r.seed : String(r.seed)}/arrivals`);
  const engine = new Engine(compiled, new Prng(r.seed), r.base, faults);
  let t = 0;
  let last = 0;
  let n = 0;
  while (n < r.maxTraces) {
    t += arrivals.exponential(r.meanGapNs);
    if (t >= r.limitNs) break;
    engine.trace(t);
    last = t;
    n++;
    if (engine.batchSpans >= r.batchSpans) yield engine.take();
  }
  if (engine.batchSpans > 0) yield engine.take();
  return { traces: n, spans: engine.totalSpans, faults, model: compiled.model, lastTraceStartUnixNano: r.base + BigInt(Math.round(last)) };
}

/** generateTraffic for async consumers: gives the event loop a turn between batches. */
export async function* generateTrafficAsync(options: TrafficOptions): AsyncGenerator<TrafficBatch, TrafficSummary, undefined> {
  const gen = generateTraffic(options);
  for (;;) {
    const step = gen.next();
    if (step.done) return step.value;
    yield step.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Only the trace data, for consumers that need no ground truth (the CLI's default input). */
export function trafficData(options: TrafficOptions): Generator<TracesData, void, undefined> {
  const gen = generateTraffic(options);
  return (function* () {
    for (const batch of gen) yield batch.data;
  })();
}

/** Everything in memory: batches, the full ground truth and the code model. For tests and small runs. */
export function collectTraffic(options: TrafficOptions): {
  batches: TracesData[];
  groundTruth: GroundTruth;
  traces: number;
  spans: number;
  model: CodeModel;
} {
  const gen = generateTraffic(options);
  const batches: TracesData[] = [];
  const spans: FaultySpan[] = [];
  for (;;) {
    const step = gen.next();
    if (step.done) {
      const s = step.value;
      return { batches, groundTruth: { faults: s.faults, spans }, traces: s.traces, spans: s.spans, model: s.model };
    }
    batches.push(step.value.data);
    for (const f of step.value.faultySpans) spans.push(f);
  }
}
