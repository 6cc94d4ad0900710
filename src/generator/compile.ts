// Turns a topology into the structures the traffic engine runs: resolved callees, precomputed
// log-normal parameters, span names, scopes, shared Resource and InstrumentationScope objects, and
// attribute KeyValues whose value never changes (shared by every span that carries them; treat
// generated attributes as immutable). Done once per run so the per-span path only draws numbers.
import { makeResource, makeScope, kv, type InstrumentationScope, type KeyValue, type Resource } from '../model/index.js';
import type { CodeModel } from './code-model.js';
import { renderServiceSources } from './emit.js';
import { exceptionOf, helperMethodName, RUNTIMES, serverTypeName } from './languages/profiles.js';
import { entryScope, entrySpanKind, entrySpanName, SCOPES, SPAN_KIND_NUMBER, stepSpan, type ScopeKey } from './naming.js';
import { Prng } from './prng.js';
import { helperName, languageOf, type DatabaseDef, type DbStep, type Language, type Latency, type OperationDef, type ServiceDef, type Step, type Topology } from './topology.js';

/** SDK that the resources claim: the version this project's own @opentelemetry/sdk-trace pins. */
const SDK_VERSION = '2.12.1';
const NODE_VERSION = '20.20.0';

export const S_CALL = 0;
export const S_EXTERNAL = 1;
export const S_DB = 2;
export const S_CACHE = 3;
export const S_PUBLISH = 4;
export const S_INTERNAL = 5;
export const S_BRANCH = 6;
export const S_LOOP = 7;
export const S_TRY = 8;
export const S_PARALLEL = 9;
export const S_RETURN = 10;

/** What a `:param` or `{param}` placeholder is filled with. */
export const P_USER = 0;
export const P_ORDER = 1;
export const P_TOKEN = 2;
export const P_CATEGORY = 3;
export const P_PRODUCT = 4;

/** Literal text and placeholders of a route or cache key, alternating; placeholders are P_* numbers. */
export type Template = (string | number)[];

export class CInstance {
  /** Resource attributes are shared by every span of the instance, batch after batch. */
  constructor(
    readonly gi: number,
    readonly local: number,
    readonly svc: CService,
    readonly resource: Resource,
    readonly ip: string,
    /** network.peer.address / client.address naming this instance. */
    readonly kvPeer: KeyValue,
    readonly kvClient: KeyValue,
  ) {}
}

export class CService {
  instances: CInstance[] = [];
  ops = new Map<string, COp>();
  constructor(
    readonly index: number,
    readonly def: ServiceDef,
    readonly manualScope: number,
  ) {}
}

/** A compiled step. One class for every kind keeps the engine's objects monomorphic. */
export class CStep {
  name = '';
  kind = 0;
  scope = 0;
  mu = 0;
  sigma = 0;
  errorRate = 0;
  callee: COp | null = null;
  /** Attributes with constant values, in the order they appear on the span. */
  consts: KeyValue[] = [];
  /** http calls: path template of the callee's route; cache: key template. */
  template: Template = [];
  /** http calls: scheme://host:port prefix of url.full. */
  urlPrefix = '';
  body: CStep[] = [];
  arms: CStep[][] = [];
  /** Cumulative arm probabilities. */
  cum: number[] = [];
  dependsOn: CStep | null = null;
  wrongArm = -1;
  min = 0;
  max = 0;
  status = 200;
  consumers: COp[] = [];
  /** Redis commands: the arguments after the key, as the statement serializer prints them. */
  tail = '';
  constructor(
    readonly t: number,
    readonly def: Step,
  ) {}
}

export class COp {
  name = '';
  kind = 0;
  scope = 0;
  /** 0 http, 1 grpc, 2 kafka. */
  protocol = 0;
  mu = 0;
  sigma = 0;
  errorRate = 0;
  respMu = 0;
  body: CStep[] = [];
  /**
   * The handler's own time is split: 35% before the first step, 40% spread over the gaps before its
   * leaf steps (so an early return also saves handler time), 25% after; a handler without leaf
   * steps spends it all before and after.
   */
  gapDivisor = 1;
  tailShare = 0.25;
  consts: KeyValue[] = [];
  template: Template = [];
  /** Exception event attributes of a background (non-injected) failure and of an injected exception. */
  naturalException: KeyValue[] = [];
  faultException: KeyValue[] = [];
  naturalMessage = '';
  faultMessage = '';
  constructor(
    readonly svc: CService,
    readonly def: OperationDef,
  ) {}
}

export interface CompiledTopology {
  topology: Topology;
  model: CodeModel;
  services: CService[];
  instances: CInstance[];
  scopes: InstrumentationScope[];
  entryOps: COp[];
  entryCum: number[];
  /** Shared KeyValues for frequent varying values. */
  kvStatus: Map<number, KeyValue>;
  kvGrpcStatus: KeyValue[];
  kvUserAgents: KeyValue[];
  kvClientIps: KeyValue[];
  kvPartitions: KeyValue[];
}

const SCOPE_ORDER: readonly (keyof typeof SCOPES)[] = ['http', 'grpc', 'pg', 'mongodb', 'ioredis', 'kafkajs'];

export function logParams(l: Latency): { mu: number; sigma: number } {
  return { mu: Math.log(l.medianMs * 1e6), sigma: l.sigma ?? 0.5 };
}

const K8S_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
function k8sSuffix(rng: Prng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += K8S_ALPHABET[rng.int(K8S_ALPHABET.length)];
  return s;
}
function uuid(rng: Prng): string {
  const b = rng.fill(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The placeholders of a route (`:id`) or key (`{id}`) and what fills each. */
export function compileTemplate(text: string, pattern: RegExp): Template {
  const out: Template = [];
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    const before = text.slice(last, m.index);
    out.push(before);
    out.push(paramKind(m[1]!, before));
    last = m.index! + m[0].length;
  }
  out.push(text.slice(last));
  return out;
}

function paramKind(name: string, before: string): number {
  if (/user/i.test(name)) return P_USER;
  if (/order/i.test(name)) return P_ORDER;
  if (/token|session/i.test(name)) return P_TOKEN;
  if (/categor/i.test(name)) return P_CATEGORY;
  if (name === 'id' && /(orders|shipments)\/$/.test(before)) return P_ORDER;
  return P_PRODUCT;
}

/** Stack frames naming the emitted handler, so an exception points at the code model's function and line. */
function stacktrace(type: string, message: string, model: CodeModel, svc: string, op: string): string {
  const mo = model.services.find((s) => s.name === svc)?.operations.find((o) => o.operation === op);
  const file = mo ? `/app/${mo.file.replace(/^services\/[^/]+\//, '')}` : '/app/src/handlers.ts';
  const line = mo ? mo.line + 2 : 1;
  const caller =
    mo?.entry.protocol === 'http'
      ? '    at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)'
      : mo?.entry.protocol === 'grpc'
        ? '    at /app/src/clients.ts:14:10'
        : '    at Runner.processEachMessage (/app/node_modules/kafkajs/src/consumer/runner.js:231:20)';
  return `${type}: ${message}\n    at ${op} (${file}:${line}:17)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n${caller}`;
}

function exceptionAttrs(type: string, message: string, stack: string): KeyValue[] {
  return [kv('exception.type', type), kv('exception.message', message), kv('exception.stacktrace', stack)];
}

/** A non-TypeScript operation's exception (message and event attributes), thrown in its handler. */
function languageException(language: Exclude<Language, 'typescript'>, cause: 'natural' | 'fault', model: CodeModel, def: ServiceDef, op: string): { message: string; attrs: KeyValue[] } {
  const svc = def.name;
  const mo = model.services.find((s) => s.name === svc)?.operations.find((o) => o.operation === op);
  const file = mo ? `/app/${mo.file.replace(/^services\/[^/]+\//, '')}` : '/app/server';
  const grpcService = mo?.entry.protocol === 'grpc' ? mo.entry.service : '';
  const e = exceptionOf(language, cause, { function: mo?.function ?? `${svc}.${op}`, grpcService, sql: def.database?.system === 'postgresql', file, line: mo?.line ?? 1 });
  return { message: e.message, attrs: exceptionAttrs(e.type, e.message, e.stacktrace) };
}

/**
 * Attributes of a database client span as each language's instrumentation sets them (constant per
 * step): the Node.js and Java ones with table and operation, otelsql and psycopg with the statement.
 */
function dbAttributes(language: Language, db: DatabaseDef, svc: ServiceDef, s: DbStep): KeyValue[] {
  const user = svc.name.replace(/-service$/, '');
  if (db.system === 'mongodb') {
    return [
      kv('db.system', 'mongodb'),
      kv('db.name', db.name),
      kv('db.operation', language === 'typescript' ? s.operation : s.operation.replace(/One$|Many$/, '')),
      kv('db.mongodb.collection', s.table),
      kv('db.statement', s.statement),
      kv(language === 'python' || language === 'csharp' ? 'net.peer.name' : 'server.address', db.host),
      kv(language === 'python' || language === 'csharp' ? 'net.peer.port' : 'server.port', BigInt(db.port)),
    ];
  }
  switch (language) {
    case 'typescript':
      return [
        kv('db.system', 'postgresql'),
        kv('db.name', db.name),
        kv('db.user', user),
        kv('db.operation', s.operation),
        kv('db.sql.table', s.table),
        kv('db.statement', s.statement),
        kv('server.address', db.host),
        kv('server.port', BigInt(db.port)),
      ];
    case 'go':
      return [kv('db.system', 'postgresql'), kv('db.statement', s.statement)];
    case 'python':
      return [kv('db.system', 'postgresql'), kv('db.name', db.name), kv('db.statement', s.statement), kv('db.user', user), kv('net.peer.name', db.host), kv('net.peer.port', BigInt(db.port))];
    case 'java':
      return [
        kv('db.system', 'postgresql'),
        kv('db.connection_string', `postgresql://${db.host}:${db.port}`),
        kv('db.name', db.name),
        kv('db.user', user),
        kv('db.statement', s.statement.replace(/\$\d+/g, '?')),
        kv('db.operation', s.operation),
        kv('db.sql.table', s.table),
        kv('server.address', db.host),
        kv('server.port', BigInt(db.port)),
      ];
    case 'csharp':
      return [
        kv('db.system', 'postgresql'),
        kv('db.connection_string', `Host=${db.host};Port=${db.port};Database=${db.name};Username=${user}`),
        kv('db.user', user),
        kv('db.name', db.name),
        kv('db.statement', s.statement),
        kv('net.peer.name', db.host),
        kv('net.peer.port', BigInt(db.port)),
        kv('net.transport', 'ip_tcp'),
      ];
  }
}

export function compileTopology(topology: Topology): CompiledTopology {
  const { model } = renderServiceSources(topology); // validates the topology too
  // Pod names and ids are a property of the deployment, not of the traffic seed: fixed per topology.
  const infra = new Prng(`${topology.name}/infrastructure`);
  const scopes: InstrumentationScope[] = SCOPE_ORDER.map((k) => makeScope({ name: SCOPES[k].name, version: SCOPES[k].version }));
  // Other languages' scopes are added when first used, after the services' own (so a TypeScript-only
  // topology has exactly the scopes it always had).
  const extraScopes = new Map<ScopeKey, number>();
  const scopeIndex = (key: ScopeKey, svc: CService): number => {
    if (key === 'manual') return svc.manualScope;
    const fixed = SCOPE_ORDER.indexOf(key as (typeof SCOPE_ORDER)[number]);
    if (fixed >= 0) return fixed;
    let i = extraScopes.get(key);
    if (i === undefined) {
      scopes.push(makeScope({ name: SCOPES[key].name, version: SCOPES[key].version }));
      extraScopes.set(key, (i = scopes.length - 1));
    }
    return i;
  };
  const services: CService[] = [];
  const instances: CInstance[] = [];
  topology.services.forEach((def, index) => {
    scopes.push(makeScope({ name: def.name, version: def.version }));
    const svc = new CService(index, def, scopes.length - 1);
    services.push(svc);
    const rs = k8sSuffix(infra, 10);
    const node = `ip-10-0-${infra.intBetween(1, 3) * 16}-${infra.intBetween(10, 250)}.ec2.internal`;
    const language = languageOf(def);
    const rt = language === 'typescript' ? undefined : RUNTIMES[language];
    for (let i = 0; i < def.instances; i++) {
      const pod = `${def.name}-${rs}-${k8sSuffix(infra, 5)}`;
      const ip = `10.42.${infra.intBetween(0, 15)}.${infra.intBetween(2, 254)}`;
      const resource = makeResource({
        attributes: [
          kv('service.name', def.name),
          kv('service.namespace', topology.namespace),
          kv('service.version', def.version),
          kv('service.instance.id', uuid(infra)),
          kv('deployment.environment.name', 'production'),
          kv('host.name', pod),
          kv('host.arch', 'amd64'),
          kv('os.type', 'linux'),
          kv('process.pid', BigInt(infra.intBetween(1, 64))),
          kv('process.executable.name', rt?.executable ?? 'node'),
          kv('process.runtime.name', rt?.runtimeName ?? 'nodejs'),
          kv('process.runtime.version', rt?.runtimeVersion ?? NODE_VERSION),
          kv('process.runtime.description', rt?.runtimeDescription ?? 'Node.js'),
          kv('k8s.namespace.name', topology.namespace),
          kv('k8s.deployment.name', def.name),
          kv('k8s.pod.name', pod),
          kv('k8s.node.name', node),
          kv('telemetry.sdk.language', rt?.sdkLanguage ?? 'nodejs'),
          kv('telemetry.sdk.name', 'opentelemetry'),
          kv('telemetry.sdk.version', rt?.sdkVersion ?? SDK_VERSION),
        ],
      });
      const inst = new CInstance(instances.length, i, svc, resource, ip, kv('network.peer.address', ip), kv('client.address', ip));
      svc.instances.push(inst);
      instances.push(inst);
    }
    for (const op of def.operations) svc.ops.set(op.id, new COp(svc, op));
  });
  const byName = new Map(services.map((s) => [s.def.name, s]));
  const consumers = new Map<string, COp[]>();
  for (const svc of services)
    for (const op of svc.ops.values())
      if (op.def.entry.protocol === 'kafka') {
        const list = consumers.get(op.def.entry.topic) ?? [];
        list.push(op);
        consumers.set(op.def.entry.topic, list);
      }

  const kvStatus = new Map<number, KeyValue>();
  for (const code of [200, 201, 204, 400, 401, 402, 403, 404, 409, 429, 500, 502, 503]) kvStatus.set(code, kv('http.response.status_code', BigInt(code)));
  const kvGrpcStatus: KeyValue[] = [];
  for (let c = 0; c <= 16; c++) kvGrpcStatus.push(kv('rpc.grpc.status_code', BigInt(c)));

  for (const svc of services) {
    const def = svc.def;
    const language = languageOf(def);
    for (const op of svc.ops.values()) {
      const entry = op.def.entry;
      op.name = entrySpanName(entry);
      op.kind = SPAN_KIND_NUMBER[entrySpanKind(entry)];
      op.scope = entry.protocol === 'http' ? 0 : entry.protocol === 'grpc' ? scopeIndex(entryScope(entry, language), svc) : 5;
      op.protocol = entry.protocol === 'http' ? 0 : entry.protocol === 'grpc' ? 1 : 2;
      ({ mu: op.mu, sigma: op.sigma } = logParams(op.def.latency));
      op.errorRate = op.def.errorRate ?? 0;
      op.respMu = Math.log(op.def.responseBytes ?? 512);
      if (entry.protocol === 'http') {
        op.template = compileTemplate(entry.route, /:([A-Za-z_][A-Za-z0-9_]*)/g);
        op.consts = [
          kv('http.request.method', entry.method),
          kv('http.route', entry.route),
          kv('url.scheme', 'http'),
          kv('server.address', def.name),
          kv('server.port', BigInt(def.port)),
          kv('network.protocol.version', '1.1'),
        ];
      } else if (entry.protocol === 'grpc') {
        op.consts = [kv('rpc.system', 'grpc'), kv('rpc.service', entry.service), kv('rpc.method', entry.method), kv('server.port', BigInt(def.port))];
      } else {
        op.consts = [
          kv('messaging.system', 'kafka'),
          kv('messaging.destination.name', entry.topic),
          kv('messaging.operation.type', 'process'),
          kv('messaging.consumer.group.name', `${def.name}.${op.def.id}`),
        ];
      }
      if (language === 'typescript') {
        op.naturalMessage = entry.protocol === 'kafka' ? 'Connection terminated unexpectedly' : `Request failed with status code 503`;
        op.naturalException = exceptionAttrs('Error', op.naturalMessage, stacktrace('Error', op.naturalMessage, model, def.name, op.def.id));
        op.faultMessage = "Cannot read properties of undefined (reading 'id')";
        op.faultException = exceptionAttrs('TypeError', op.faultMessage, stacktrace('TypeError', op.faultMessage, model, def.name, op.def.id));
      } else {
        ({ message: op.naturalMessage, attrs: op.naturalException } = languageException(language, 'natural', model, def, op.def.id));
        ({ message: op.faultMessage, attrs: op.faultException } = languageException(language, 'fault', model, def, op.def.id));
      }
      let leaves = 0;
      const compileSteps = (steps: readonly Step[], local: Map<string, CStep>): CStep[] =>
        steps.map((s) => {
          const c = compileStep(s, local);
          local.set(s.id, c);
          return c;
        });
      const compileStep = (s: Step, local: Map<string, CStep>): CStep => {
        const span = stepSpan(topology, def, s);
        const c = new CStep(stepType(s), s);
        if (span) {
          leaves++;
          c.name = span.name;
          c.kind = SPAN_KIND_NUMBER[span.kind];
          c.scope = scopeIndex(span.scope, svc);
        }
        switch (s.kind) {
          case 'call': {
            const target = byName.get(s.service)!;
            const callee = target.ops.get(s.operation)!;
            c.callee = callee;
            const e = callee.def.entry;
            if (e.protocol === 'http') {
              c.template = compileTemplate(e.route, /:([A-Za-z_][A-Za-z0-9_]*)/g);
              c.urlPrefix = `http://${target.def.name}:${target.def.port}`;
              c.consts = [kv('http.request.method', e.method), kv('server.address', target.def.name), kv('server.port', BigInt(target.def.port)), kv('network.protocol.version', '1.1')];
            } else if (e.protocol === 'grpc') {
              c.consts = [kv('rpc.system', 'grpc'), kv('rpc.service', e.service), kv('rpc.method', e.method), kv('server.address', target.def.name), kv('server.port', BigInt(target.def.port))];
            }
            break;
          }
          case 'external': {
            const url = new URL(s.url);
            ({ mu: c.mu, sigma: c.sigma } = logParams(s.latency));
            c.errorRate = s.errorRate ?? 0;
            c.consts = [
              kv('http.request.method', s.method),
              kv('url.full', s.url),
              kv('server.address', url.hostname),
              kv('server.port', BigInt(url.port || (url.protocol === 'https:' ? 443 : 80))),
              kv('network.protocol.version', '1.1'),
            ];
            break;
          }
          case 'db': {
            ({ mu: c.mu, sigma: c.sigma } = logParams(s.latency));
            c.consts = dbAttributes(language, def.database!, def, s);
            break;
          }
          case 'cache': {
            ({ mu: c.mu, sigma: c.sigma } = logParams(s.latency ?? { medianMs: 0.25, sigma: 0.4 }));
            c.template = compileTemplate(s.key, /\{([A-Za-z_][A-Za-z0-9_]*)\}/g);
            c.tail = s.command === 'set' ? ' ? ? ?' : s.command === 'hset' ? ' ? ?' : s.command === 'expire' ? ' ?' : '';
            c.consts = [kv('db.system', 'redis'), kv('server.address', def.cache!.host), kv('server.port', BigInt(def.cache!.port))];
            break;
          }
          case 'publish':
            ({ mu: c.mu, sigma: c.sigma } = logParams(s.latency ?? { medianMs: 1.5, sigma: 0.4 }));
            c.consts = [kv('messaging.system', 'kafka'), kv('messaging.destination.name', s.topic), kv('messaging.operation.type', 'send')];
            c.consumers = consumers.get(s.topic) ?? [];
            break;
          case 'internal': {
            ({ mu: c.mu, sigma: c.sigma } = logParams(s.latency));
            // code.function names the helper as the emitted source defines it (Type.method outside TypeScript).
            const attrs: KeyValue[] =
              language === 'typescript'
                ? [kv('code.function', helperName(s)), kv('code.namespace', `${def.name}/handlers`)]
                : [kv('code.function', helperMethodName(language, s)), kv('code.namespace', serverTypeName(language, def))];
            for (const [k, v] of Object.entries(s.attributes ?? {})) attrs.push(kv(k, typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : v));
            c.consts = attrs;
            c.body = compileSteps(s.body ?? [], local);
            break;
          }
          case 'branch': {
            c.arms = s.arms.map((a) => compileSteps(a.body, local));
            let acc = 0;
            c.cum = s.arms.map((a) => (acc += a.probability));
            c.cum[c.cum.length - 1] = Infinity; // rounding never falls off the end
            c.wrongArm = s.onWrongReturn === undefined ? -1 : s.arms.findIndex((a) => a.label === s.onWrongReturn);
            break;
          }
          case 'loop':
            c.min = s.count.min;
            c.max = s.count.max;
            c.body = compileSteps(s.body, local);
            break;
          case 'try':
            c.body = compileSteps(s.body, local);
            c.arms = [compileSteps(s.catch, local)];
            break;
          case 'parallel':
            c.body = compileSteps(s.body, local);
            break;
          case 'return':
            c.status = s.status ?? 200;
            break;
        }
        return c;
      };
      const local = new Map<string, CStep>();
      op.body = compileSteps(op.def.body, local);
      // dependsOn resolves once every step of the operation is compiled.
      const link = (steps: CStep[]): void => {
        for (const c of steps) {
          if (c.def.kind === 'branch' && c.def.dependsOn !== undefined) c.dependsOn = local.get(c.def.dependsOn) ?? null;
          link(c.body);
          for (const a of c.arms) link(a);
        }
      };
      link(op.body);
      op.gapDivisor = Math.max(1, leaves);
      op.tailShare = leaves === 0 ? 0.65 : 0.25;
    }
  }

  const entryOps: COp[] = [];
  const entryCum: number[] = [];
  let total = 0;
  for (const ep of topology.entryPoints) total += ep.weight;
  let acc = 0;
  for (const ep of topology.entryPoints) {
    entryOps.push(byName.get(ep.service)!.ops.get(ep.operation)!);
    entryCum.push((acc += ep.weight / total));
  }
  entryCum[entryCum.length - 1] = Infinity;

  const clientRng = new Prng(`${topology.name}/clients`);
  const kvClientIps: KeyValue[] = [];
  for (let i = 0; i < 64; i++)
    kvClientIps.push(kv('client.address', `${clientRng.intBetween(24, 223)}.${clientRng.intBetween(0, 255)}.${clientRng.intBetween(0, 255)}.${clientRng.intBetween(1, 254)}`));
  const kvUserAgents = [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
    'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
    'ShopApp/3.14.0 (iOS 18.2; iPhone15,3)',
  ].map((ua) => kv('user_agent.original', ua));
  const kvPartitions: KeyValue[] = [];
  for (let p = 0; p < 12; p++) kvPartitions.push(kv('messaging.destination.partition.id', String(p)));
  return { topology, model, services, instances, scopes, entryOps, entryCum, kvStatus, kvGrpcStatus, kvUserAgents, kvClientIps, kvPartitions };
}

function stepType(s: Step): number {
  switch (s.kind) {
    case 'call':
      return S_CALL;
    case 'external':
      return S_EXTERNAL;
    case 'db':
      return S_DB;
    case 'cache':
      return S_CACHE;
    case 'publish':
      return S_PUBLISH;
    case 'internal':
      return S_INTERNAL;
    case 'branch':
      return S_BRANCH;
    case 'loop':
      return S_LOOP;
    case 'try':
      return S_TRY;
    case 'parallel':
      return S_PARALLEL;
    case 'return':
      return S_RETURN;
  }
}
