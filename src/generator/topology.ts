// The service topology model: services, their operations, and each operation's body as a small
// program of steps. One model, two outputs: the traffic generator executes these programs to make
// spans, and the source emitter prints them as TypeScript, so traffic and code cannot drift apart.
// Everything here is plain JSON-shaped data, so a topology can also be read from a file.
import { InputError } from '../model/index.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** How an operation is entered, which decides its entry span (SERVER or CONSUMER) and its call sites. */
export type Entry =
  | { protocol: 'http'; method: HttpMethod; route: string }
  /** `service` is the fully qualified gRPC service (shop.PaymentService), `method` its RPC (Charge). */
  | { protocol: 'grpc'; service: string; method: string }
  /** A Kafka consumer of `topic` (consumer group = the service name). */
  | { protocol: 'kafka'; topic: string };

/** A log-normal duration: half the draws are below `medianMs`; `sigma` is the log-space spread. */
export interface Latency {
  medianMs: number;
  /** Default 0.5: p99 ≈ 3.2 × median, the shape real service latencies tend to have. */
  sigma?: number;
}

interface StepBase {
  /** Unique within the operation; branch points are named `<service>.<operation>.<id>` in the code model. */
  id: string;
  /** Name of the variable the step's result is kept in, when later code (a condition) reads it. */
  as?: string;
}

/** A call to another service's operation: CLIENT span here, SERVER/CONSUMER span there. */
export interface CallStep extends StepBase {
  kind: 'call';
  service: string;
  operation: string;
}

/** An HTTP call to something outside the topology (a payment provider): a CLIENT span only. */
export interface ExternalStep extends StepBase {
  kind: 'external';
  method: HttpMethod;
  url: string;
  latency: Latency;
  /** Probability that the call fails on its own (timeout, 5xx): not an injected fault. */
  errorRate?: number;
}

/** A database query on the service's database. */
export interface DbStep extends StepBase {
  kind: 'db';
  /** SQL verb (SELECT, INSERT, UPDATE, DELETE) or MongoDB method (find, findOne, insertOne, updateOne). */
  operation: string;
  /** Table or collection. */
  table: string;
  /** Sanitized statement as instrumentation records it: SQL with $n placeholders, or a MongoDB filter as JSON. */
  statement: string;
  latency: Latency;
}

export type CacheCommand = 'get' | 'set' | 'del' | 'hgetall' | 'hset' | 'expire';

/** A Redis command on the service's cache. */
export interface CacheStep extends StepBase {
  kind: 'cache';
  command: CacheCommand;
  /** Key pattern with `{field}` placeholders filled from the request: `product:{id}`. */
  key: string;
  latency?: Latency;
}

/** A Kafka publish: PRODUCER span here; every operation consuming the topic runs as a CONSUMER child. */
export interface PublishStep extends StepBase {
  kind: 'publish';
  topic: string;
  latency?: Latency;
}

/** A manual span around a helper function of the service (`tracer.startActiveSpan(name, ...)`). */
export interface InternalStep extends StepBase {
  kind: 'internal';
  /** Span name. */
  name: string;
  /** Helper function name in the emitted source; defaults to `name` as an identifier. Unique per service. */
  function?: string;
  latency: Latency;
  body?: Step[];
  /** Constant attributes the code sets on the span. */
  attributes?: Record<string, string | number | boolean>;
}

export interface BranchArm {
  /** For a switch: the case value ('default' prints as `default:`). For an if: a name for the arm. */
  label: string;
  probability: number;
  body: Step[];
}

/** A decision: `if (condition) arms[0] else arms[1]`, or `switch (condition) { case label: ... }`. */
export interface BranchStep extends StepBase {
  kind: 'branch';
  style: 'if' | 'switch';
  /** The TypeScript condition (if) or discriminant (switch) as printed in the source. */
  condition: string;
  arms: BranchArm[];
  /** Id of a call step (earlier in the same operation) whose result decides this branch. */
  dependsOn?: string;
  /** Label of the arm taken when that call returned a wrong value (a wrong-return fault). */
  onWrongReturn?: string;
}

/** A loop repeating its body a uniform number of times in [min, max]. */
export interface LoopStep extends StepBase {
  kind: 'loop';
  count: { min: number; max: number };
  /** Printed as `for (const <item> of <over>)`; without `over`, a counted `for`. */
  over?: string;
  item?: string;
  body: Step[];
}

/** try { body } catch { catch }: an error thrown in the body runs the fallback instead of failing the operation. */
export interface TryStep extends StepBase {
  kind: 'try';
  body: Step[];
  catch: Step[];
}

/** Steps started together and awaited with Promise.all. Only leaf steps (no branches, loops or returns). */
export interface ParallelStep extends StepBase {
  kind: 'parallel';
  body: Step[];
}

/** An early return (or the error response of an operation, when status >= 400). */
export interface ReturnStep extends StepBase {
  kind: 'return';
  /** HTTP-style status; default 200. */
  status?: number;
  /** Expression returned with a 200 (`cached`). */
  value?: string;
}

export type Step =
  | CallStep
  | ExternalStep
  | DbStep
  | CacheStep
  | PublishStep
  | InternalStep
  | BranchStep
  | LoopStep
  | TryStep
  | ParallelStep
  | ReturnStep;

export interface OperationDef {
  /** Also the handler's function name in the emitted source: a TypeScript identifier. */
  id: string;
  entry: Entry;
  /** The handler's own (self) time, outside its child spans. */
  latency: Latency;
  /** Probability that the handler throws on its own: background errors, not injected faults. */
  errorRate?: number;
  /** Median response size in bytes (http.response.body.size of HTTP server spans). */
  responseBytes?: number;
  body: Step[];
}

export interface DatabaseDef {
  system: 'postgresql' | 'mongodb';
  /** Database name (db.name). */
  name: string;
  host: string;
  port: number;
}

/**
 * The language a service is written in: it decides the emitted source (and its layout), the span
 * names of its database and cache clients, its instrumentation scopes and its resource attributes.
 */
export type Language = 'typescript' | 'go' | 'python' | 'java' | 'csharp';

export const LANGUAGES: readonly Language[] = ['typescript', 'go', 'python', 'java', 'csharp'];

export interface ServiceDef {
  /** service.name, the k8s deployment and the emitted package name. */
  name: string;
  /** Default typescript (Node.js): the only language with HTTP entries, Kafka and parallel steps. */
  language?: Language;
  version: string;
  /** Replicas; each is its own Resource (pod). */
  instances: number;
  /** Port of its HTTP or gRPC server. */
  port: number;
  database?: DatabaseDef;
  /** Redis host, when the service uses a cache. */
  cache?: { host: string; port: number };
  operations: OperationDef[];
}

export interface EntryPoint {
  service: string;
  operation: string;
  /** Relative share of the traces that start here. */
  weight: number;
}

export interface Topology {
  name: string;
  /** k8s.namespace.name and service.namespace. */
  namespace: string;
  services: ServiceDef[];
  /** Where traces start (the operations the outside world calls). */
  entryPoints: EntryPoint[];
}

/** Steps nested directly in a step (arms, loop and try bodies), for walkers. */
export function childBodies(step: Step): Step[][] {
  switch (step.kind) {
    case 'branch':
      return step.arms.map((a) => a.body);
    case 'loop':
    case 'parallel':
      return [step.body];
    case 'try':
      return [step.body, step.catch];
    case 'internal':
      return step.body ? [step.body] : [];
    default:
      return [];
  }
}

/** Calls `visit` for every step of a body, depth first in program order. */
export function walkSteps(body: readonly Step[], visit: (step: Step) => void): void {
  for (const step of body) {
    visit(step);
    for (const inner of childBodies(step)) walkSteps(inner, visit);
  }
}

/** The language of a service (typescript when the topology does not say). */
export function languageOf(svc: ServiceDef): Language {
  return svc.language ?? 'typescript';
}

/** The helper function an internal step prints as. */
export function helperName(step: InternalStep): string {
  return step.function ?? identifier(step.name);
}

/** A TypeScript identifier from free text: `compute totals` -> `computeTotals`. */
export function identifier(text: string): string {
  const words = text.split(/[^A-Za-z0-9]+/).filter((w) => w.length > 0);
  let id = words.map((w, i) => (i === 0 ? w[0]!.toLowerCase() + w.slice(1) : w[0]!.toUpperCase() + w.slice(1))).join('');
  if (id.length === 0 || /^[0-9]/.test(id)) id = `_${id}`;
  return id;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const RESERVED_STEP_IDS = new Set(['entry']);

/**
 * Checks a topology before anything runs it: names resolve, ids are unique, probabilities are sane,
 * and the call graph has no cycle (a cycle would recurse forever). Throws InputError naming the place.
 */
export function validateTopology(topology: Topology): void {
  const fail = (where: string, msg: string): never => {
    throw new InputError(`${where}: ${msg}`, `topology ${topology.name}`);
  };
  const services = new Map<string, ServiceDef>();
  const grpcPackages = new Map<string, string>();
  // A polyglot topology prints one .proto file per gRPC package; a TypeScript-only one prints none.
  const polyglot = topology.services.some((s) => s.language !== undefined && s.language !== 'typescript');
  for (const svc of topology.services) {
    if (services.has(svc.name)) fail(svc.name, 'duplicate service name');
    if (svc.language !== undefined && !LANGUAGES.includes(svc.language)) fail(svc.name, `unknown language ${String(svc.language)} (one of ${LANGUAGES.join(', ')})`);
    validateLanguage(svc, fail);
    for (const op of svc.operations) {
      if (!polyglot || op.entry.protocol !== 'grpc') continue;
      // One .proto file per package: two services may not both claim it.
      const pkg = op.entry.service.slice(0, Math.max(0, op.entry.service.lastIndexOf('.')));
      const owner = grpcPackages.get(pkg);
      if (owner !== undefined && owner !== svc.name) fail(`${svc.name}.${op.id}`, `gRPC package ${pkg} is already served by ${owner}`);
      grpcPackages.set(pkg, svc.name);
    }
    if (!(svc.instances >= 1)) fail(svc.name, 'instances must be at least 1');
    services.set(svc.name, svc);
  }
  const opOf = (service: string, operation: string): OperationDef | undefined =>
    services.get(service)?.operations.find((o) => o.id === operation);
  const consumers = new Map<string, string[]>();
  for (const svc of topology.services) {
    const helpers = new Set<string>();
    const opIds = new Set<string>();
    const routes = new Set<string>();
    for (const op of svc.operations) {
      const where = `${svc.name}.${op.id}`;
      if (!IDENT.test(op.id)) fail(where, 'operation id must be a TypeScript identifier');
      if (opIds.has(op.id)) fail(where, 'duplicate operation id');
      opIds.add(op.id);
      const key = entryKey(op.entry);
      if (routes.has(key)) fail(where, `duplicate entry ${key}`);
      routes.add(key);
      if (op.entry.protocol === 'kafka') {
        const list = consumers.get(op.entry.topic) ?? [];
        list.push(where);
        consumers.set(op.entry.topic, list);
      }
      if (!(op.latency.medianMs > 0)) fail(where, 'latency.medianMs must be positive');
      const stepIds = new Set<string>();
      const callIds = new Set<string>();
      walkSteps(op.body, (step) => {
        const at = `${where}.${step.id}`;
        if (!step.id || RESERVED_STEP_IDS.has(step.id)) fail(at, 'missing or reserved step id');
        if (stepIds.has(step.id)) fail(at, 'duplicate step id');
        stepIds.add(step.id);
        if (step.as !== undefined && !IDENT.test(step.as)) fail(at, '`as` must be an identifier');
        switch (step.kind) {
          case 'call': {
            if (!opOf(step.service, step.operation)) fail(at, `calls unknown ${step.service}.${step.operation}`);
            if (opOf(step.service, step.operation)!.entry.protocol === 'kafka') fail(at, 'cannot call a Kafka consumer; publish to its topic');
            if (languageOf(svc) !== 'typescript' && opOf(step.service, step.operation)!.entry.protocol !== 'grpc')
              fail(at, `a ${languageOf(svc)} service calls other services through gRPC only`);
            callIds.add(step.id);
            break;
          }
          case 'db':
            if (!svc.database) fail(at, 'db step on a service without a database');
            break;
          case 'cache':
            if (!svc.cache) fail(at, 'cache step on a service without a cache');
            break;
          case 'internal': {
            const fn = helperName(step);
            if (!IDENT.test(fn)) fail(at, `helper function ${fn} is not an identifier`);
            if (helpers.has(fn) || svc.operations.some((o) => o.id === fn)) fail(at, `helper function ${fn} is defined twice`);
            helpers.add(fn);
            break;
          }
          case 'branch': {
            if (step.style === 'if' && step.arms.length !== 2) fail(at, 'an if branch has exactly two arms (then, else)');
            if (step.style === 'switch' && step.arms.length < 2) fail(at, 'a switch has at least two arms');
            let sum = 0;
            for (const arm of step.arms) {
              if (!(arm.probability >= 0)) fail(at, `arm ${arm.label}: probability must be >= 0`);
              sum += arm.probability;
            }
            if (Math.abs(sum - 1) > 1e-6) fail(at, `arm probabilities sum to ${sum}, not 1`);
            if (new Set(step.arms.map((a) => a.label)).size !== step.arms.length) fail(at, 'duplicate arm label');
            if (step.onWrongReturn !== undefined && !step.arms.some((a) => a.label === step.onWrongReturn))
              fail(at, `onWrongReturn names no arm: ${step.onWrongReturn}`);
            if ((step.onWrongReturn === undefined) !== (step.dependsOn === undefined)) fail(at, 'dependsOn and onWrongReturn go together');
            break;
          }
          case 'loop':
            if (!(step.count.min >= 0 && step.count.max >= step.count.min)) fail(at, 'loop count needs 0 <= min <= max');
            break;
          case 'parallel':
            for (const inner of step.body)
              if (!['call', 'external', 'db', 'cache', 'publish', 'internal'].includes(inner.kind))
                fail(`${where}.${inner.id}`, 'only calls, queries, cache commands, publishes and helpers run in parallel');
            break;
          default:
            break;
        }
      });
      // dependsOn must name a call step of this operation (checked once all ids are known).
      walkSteps(op.body, (step) => {
        if (step.kind === 'branch' && step.dependsOn !== undefined && !callIds.has(step.dependsOn))
          fail(`${where}.${step.id}`, `dependsOn names no call step: ${step.dependsOn}`);
      });
    }
  }
  for (const ep of topology.entryPoints) {
    const op = opOf(ep.service, ep.operation);
    if (!op) fail('entryPoints', `unknown ${ep.service}.${ep.operation}`);
    if (op!.entry.protocol === 'kafka') fail('entryPoints', `${ep.service}.${ep.operation} is a consumer`);
    if (!(ep.weight > 0)) fail('entryPoints', `${ep.service}.${ep.operation}: weight must be positive`);
  }
  if (topology.entryPoints.length === 0) fail('entryPoints', 'no entry point');
  // Cycle check over call and publish->consume edges.
  const state = new Map<string, number>(); // 1 = on stack, 2 = done
  const visit = (svc: ServiceDef, op: OperationDef, path: string[]): void => {
    const key = `${svc.name}.${op.id}`;
    const s = state.get(key);
    if (s === 2) return;
    if (s === 1) fail(key, `call cycle: ${[...path, key].join(' -> ')}`);
    state.set(key, 1);
    walkSteps(op.body, (step) => {
      if (step.kind === 'call') visit(services.get(step.service)!, opOf(step.service, step.operation)!, [...path, key]);
      if (step.kind === 'publish')
        for (const c of consumers.get(step.topic) ?? []) {
          const [cs, co] = splitOpKey(c);
          visit(services.get(cs)!, opOf(cs, co)!, [...path, key]);
        }
    });
    state.set(key, 2);
  };
  for (const svc of topology.services) for (const op of svc.operations) visit(svc, op, []);
}

/**
 * What the non-TypeScript printers support: gRPC servers with one gRPC service each, gRPC calls,
 * databases, caches, external HTTP calls and helpers, and the control flow around them (no HTTP
 * routes, Kafka or Promise.all-style parallel steps).
 */
function validateLanguage(svc: ServiceDef, fail: (where: string, msg: string) => never): void {
  const lang = languageOf(svc);
  if (lang === 'typescript') return;
  const grpcServices = new Set<string>();
  for (const op of svc.operations) {
    const where = `${svc.name}.${op.id}`;
    if (op.entry.protocol !== 'grpc') fail(where, `a ${lang} service is entered through gRPC only`);
    else {
      if (!/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+\.[A-Z][A-Za-z0-9]*$/.test(op.entry.service)) fail(where, `gRPC service ${op.entry.service} must be <lower.case.package>.<PascalName>`);
      if (!/^[A-Z][A-Za-z0-9]*$/.test(op.entry.method)) fail(where, `gRPC method ${op.entry.method} must be PascalCase`);
      grpcServices.add(op.entry.service);
    }
    walkSteps(op.body, (step) => {
      if (step.kind === 'publish' || step.kind === 'parallel') fail(`${where}.${step.id}`, `${step.kind} steps print only in typescript services`);
    });
  }
  if (grpcServices.size > 1) fail(svc.name, `a ${lang} service serves one gRPC service, not ${[...grpcServices].join(', ')}`);
}

function splitOpKey(key: string): [string, string] {
  const dot = key.lastIndexOf('.');
  return [key.slice(0, dot), key.slice(dot + 1)];
}

/** A readable key of an entry: `GET /api/orders/:id`, `shop.PaymentService/Charge`, `kafka order-events`. */
export function entryKey(entry: Entry): string {
  switch (entry.protocol) {
    case 'http':
      return `${entry.method} ${entry.route}`;
    case 'grpc':
      return `${entry.service}/${entry.method}`;
    case 'kafka':
      return `kafka ${entry.topic}`;
  }
}

/** The operation of a service, or undefined. */
export function findOperation(topology: Topology, service: string, operation: string): OperationDef | undefined {
  return topology.services.find((s) => s.name === service)?.operations.find((o) => o.id === operation);
}
