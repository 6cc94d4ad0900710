// Prints the topology's operations as a small TypeScript project, one package per service, so the
// Autoscope analyzer has source whose branch structure is the traffic's: every if/switch/for/try in
// a handler is a branch point of the model and nothing else is (client helpers hide their own
// control flow the way axios or pg do). While printing it records the code model: which function
// and line produce each span, and where each branch point is.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  CODE_MODEL_FORMAT,
  CODE_MODEL_VERSION,
  type CodeModel,
  type CodeModelBranchPoint,
  type CodeModelOperation,
  type CodeModelService,
  type CodeModelSpan,
} from './code-model.js';
import {
  calleeOf,
  entrySpanKind,
  entrySpanName,
  grpcClientVar,
  grpcMethodName,
  grpcStatusFor,
  grpcStubName,
  serviceFiles,
  stepSpan,
} from './naming.js';
import { renderLanguageService, renderProtos } from './languages/index.js';
import { arm, camel, Printer, qualified, sqlParams, type SourceFile } from './printing.js';
import { helperName, languageOf, validateTopology, walkSteps, type InternalStep, type OperationDef, type ServiceDef, type Step, type Topology } from './topology.js';

export type { SourceFile } from './printing.js';

export interface RenderedSources {
  files: SourceFile[];
  model: CodeModel;
}

/** The name of the code model file in an emitted project. */
export const CODE_MODEL_FILE = 'slimtrace-model.json';


type Mode = 'http' | 'grpc' | 'kafka' | 'helper';

/** What printing one function needs and what it records. */
interface FnCtx {
  topology: Topology;
  svc: ServiceDef;
  op: OperationDef;
  fn: string;
  file: string;
  mode: Mode;
  spans: CodeModelSpan[];
  branchPoints: CodeModelBranchPoint[];
  helpers: InternalStep[];
}

const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** A path or key with `:param` / `{field}` placeholders as a string or template literal. */
function templated(text: string, pattern: RegExp): string {
  let dynamic = false;
  const body = text.replace(/`/g, '\\`').replace(pattern, (_m, name: string) => {
    dynamic = true;
    return `\${input.${name}}`;
  });
  return dynamic ? `\`${body}\`` : quote(text);
}



/** The awaited expression of a leaf step, and the text of it that locates the span in the source. */
function leafExpr(ctx: FnCtx, step: Step): { expr: string; anchor: string } {
  switch (step.kind) {
    case 'call': {
      const callee = calleeOf(ctx.topology, step);
      const target = ctx.topology.services.find((s) => s.name === step.service)!;
      if (callee.entry.protocol === 'grpc') {
        const head = `${grpcClientVar(callee.entry.service)}.${grpcMethodName(callee.entry.method)}(`;
        return { expr: `${head}input)`, anchor: head };
      }
      if (callee.entry.protocol !== 'http') throw new Error('unreachable: calls to consumers are rejected by validation');
      const url = templated(`http://${target.name}:${target.port}${callee.entry.route}`, /:([A-Za-z_][A-Za-z0-9_]*)/g);
      const method = callee.entry.method.toLowerCase();
      const withBody = callee.entry.method === 'POST' || callee.entry.method === 'PUT' || callee.entry.method === 'PATCH';
      return { expr: `http.${method}(${url}${withBody ? ', input' : ''})`, anchor: url };
    }
    case 'external': {
      const url = quote(step.url);
      const withBody = step.method === 'POST' || step.method === 'PUT' || step.method === 'PATCH';
      return { expr: `http.${step.method.toLowerCase()}(${url}${withBody ? ', input' : ''})`, anchor: url };
    }
    case 'db': {
      if (ctx.svc.database?.system === 'mongodb') {
        const head = `mongo.collection(${quote(step.table)}).${step.operation}(`;
        let keys: string[] = [];
        try {
          keys = Object.keys(JSON.parse(step.statement) as Record<string, unknown>);
        } catch {
          keys = [];
        }
        const filter = keys.length === 0 ? '{}' : `{ ${keys.map((k) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : quote(k)}: input.${camel(k.replace(/^_/, ''))}`).join(', ')} }`;
        const tail = step.operation === 'find' ? '.toArray()' : '';
        return { expr: `${head}${filter})${tail}`, anchor: head };
      }
      const sql = quote(step.statement);
      const params = sqlParams(step.statement);
      return { expr: `db.query(${sql}${params.length ? `, [${params.join(', ')}]` : ''})`, anchor: sql };
    }
    case 'cache': {
      const key = templated(step.key, /\{([A-Za-z_][A-Za-z0-9_]*)\}/g);
      const head = `redis.${step.command}(${key}`;
      const rest =
        step.command === 'set' ? `, JSON.stringify(input), 'EX', 300)` : step.command === 'hset' ? ', input)' : step.command === 'expire' ? ', 86400)' : ')';
      return { expr: `${head}${rest}`, anchor: head };
    }
    case 'publish': {
      const head = `topic: ${quote(step.topic)}`;
      return { expr: `producer.send({ ${head}, messages: [{ value: JSON.stringify(input) }] })`, anchor: head };
    }
    case 'internal': {
      const fn = helperName(step);
      return { expr: `${fn}(input)`, anchor: `${fn}(input)` };
    }
    default:
      throw new Error(`not a leaf step: ${step.kind}`);
  }
}


function recordSpan(ctx: FnCtx, step: Step, line: number, anchor: string): void {
  const span = stepSpan(ctx.topology, ctx.svc, step);
  if (!span) return;
  if (step.kind === 'internal') {
    ctx.helpers.push(step); // its span is made in the helper, recorded when the helper is printed
    return;
  }
  ctx.spans.push({
    stepId: qualified(ctx, step.id),
    name: span.name,
    kind: span.kind,
    function: ctx.fn,
    file: ctx.file,
    line,
    anchor,
    ...(step.kind === 'call' ? { callee: `${step.service}.${step.operation}` } : {}),
    ...(step.kind === 'publish' ? { topic: step.topic } : {}),
  });
}



function printReturn(p: Printer, ctx: FnCtx, status: number, value: string | undefined, id: string): void {
  switch (ctx.mode) {
    case 'http':
      if (status === 200) p.line(`res.json(${value ?? '{ ok: true }'});`);
      else p.line(`res.status(${status}).json({ error: ${quote(id)} });`);
      p.line('return;');
      return;
    case 'grpc':
      if (status === 200) p.line(`return ${value ?? '{ ok: true }'};`);
      else p.line(`throw new StatusError(${grpcStatusFor(status)}, ${quote(id)});`);
      return;
    case 'kafka':
      p.line('return;');
      return;
    case 'helper':
      p.line('span.end();');
      p.line('return;');
      return;
  }
}

function printSteps(p: Printer, ctx: FnCtx, steps: readonly Step[]): void {
  for (const step of steps) printStep(p, ctx, step);
}

function printStep(p: Printer, ctx: FnCtx, step: Step): void {
  switch (step.kind) {
    case 'call':
    case 'external':
    case 'db':
    case 'cache':
    case 'publish':
    case 'internal': {
      const { expr, anchor } = leafExpr(ctx, step);
      const line = p.line(step.as ? `const ${step.as} = await ${expr};` : `await ${expr};`);
      recordSpan(ctx, step, line, anchor);
      return;
    }
    case 'parallel': {
      const names = step.body.map((s) => s.as ?? '');
      p.line(names.some((n) => n) ? `const [${names.join(', ')}] = await Promise.all([` : 'await Promise.all([');
      p.indent();
      for (const inner of step.body) {
        const { expr, anchor } = leafExpr(ctx, inner);
        recordSpan(ctx, inner, p.line(`${expr},`), anchor);
      }
      p.dedent();
      p.line(']);');
      return;
    }
    case 'branch': {
      const bp: CodeModelBranchPoint = {
        id: qualified(ctx, step.id),
        kind: step.style,
        function: ctx.fn,
        file: ctx.file,
        line: 0,
        ...(step.dependsOn !== undefined ? { dependsOn: qualified(ctx, step.dependsOn) } : {}),
        arms: step.arms.map((a) => arm(ctx, a.label, a.body, a.probability)),
      };
      ctx.branchPoints.push(bp);
      if (step.style === 'if') {
        const [then, otherwise] = step.arms as [(typeof step.arms)[0], (typeof step.arms)[0]];
        // An empty then-arm prints as a negated if, so no empty block hides a branch in the source.
        const negate = then.body.length === 0 && otherwise.body.length > 0;
        bp.line = p.line(negate ? `if (!(${step.condition})) {` : `if (${step.condition}) {`);
        p.indent();
        printSteps(p, ctx, negate ? otherwise.body : then.body);
        p.dedent();
        if (!negate && otherwise.body.length > 0) {
          p.line('} else {');
          p.indent();
          printSteps(p, ctx, otherwise.body);
          p.dedent();
        }
        p.line('}');
      } else {
        bp.line = p.line(`switch (${step.condition}) {`);
        p.indent();
        for (const a of step.arms) {
          p.line(a.label === 'default' ? 'default: {' : `case ${quote(a.label)}: {`);
          p.indent();
          printSteps(p, ctx, a.body);
          if (a.body[a.body.length - 1]?.kind !== 'return') p.line('break;');
          p.dedent();
          p.line('}');
        }
        p.dedent();
        p.line('}');
      }
      return;
    }
    case 'loop': {
      const bp: CodeModelBranchPoint = {
        id: qualified(ctx, step.id),
        kind: 'loop',
        function: ctx.fn,
        file: ctx.file,
        line: 0,
        arms: [arm(ctx, 'body', step.body), arm(ctx, 'exit', [])],
      };
      ctx.branchPoints.push(bp);
      bp.line = p.line(
        step.over !== undefined ? `for (const ${step.item ?? 'item'} of ${step.over}) {` : `for (let i = 0; i < input.count; i++) {`,
      );
      p.indent();
      printSteps(p, ctx, step.body);
      p.dedent();
      p.line('}');
      return;
    }
    case 'try': {
      const bp: CodeModelBranchPoint = {
        id: qualified(ctx, step.id),
        kind: 'try',
        function: ctx.fn,
        file: ctx.file,
        line: 0,
        arms: [arm(ctx, 'try', step.body), arm(ctx, 'catch', step.catch)],
      };
      ctx.branchPoints.push(bp);
      bp.line = p.line('try {');
      p.indent();
      printSteps(p, ctx, step.body);
      p.dedent();
      p.line('} catch {');
      p.indent();
      printSteps(p, ctx, step.catch);
      p.dedent();
      p.line('}');
      return;
    }
    case 'return':
      printReturn(p, ctx, step.status ?? 200, step.value, step.id);
      return;
  }
}

/** Which client objects a service's handlers use, so clients.ts and the imports name only those. */
function usedClients(topology: Topology, svc: ServiceDef): { names: Set<string>; grpc: Set<string> } {
  const names = new Set<string>();
  const grpc = new Set<string>();
  for (const op of svc.operations) {
    if (op.entry.protocol === 'grpc' && hasErrorReturn(op.body)) names.add('StatusError');
    walkSteps(op.body, (s) => {
      switch (s.kind) {
        case 'call': {
          const entry = calleeOf(topology, s).entry;
          if (entry.protocol === 'grpc') grpc.add(entry.service);
          else names.add('http');
          break;
        }
        case 'external':
          names.add('http');
          break;
        case 'db':
          names.add(svc.database?.system === 'mongodb' ? 'mongo' : 'db');
          break;
        case 'cache':
          names.add('redis');
          break;
        case 'publish':
          names.add('producer');
          break;
        case 'internal':
          names.add('tracer');
          break;
        default:
          break;
      }
    });
  }
  for (const g of grpc) names.add(grpcClientVar(g));
  return { names, grpc };
}

function hasErrorReturn(body: readonly Step[]): boolean {
  let found = false;
  walkSteps(body, (s) => {
    if (s.kind === 'return' && (s.status ?? 200) !== 200) found = true;
  });
  return found;
}

function renderHandlers(topology: Topology, svc: ServiceDef): { content: string; ops: CodeModelOperation[] } {
  const files = serviceFiles(svc.name);
  const p = new Printer();
  const { names } = usedClients(topology, svc);
  p.line(`// Request handlers of ${svc.name}, generated by slimtrace from the '${topology.name}' topology.`);
  p.line('// One exported function per operation; its branches, loops and try/catch are the traffic model.');
  if (svc.operations.some((o) => o.entry.protocol === 'http')) p.line("import type { Request, Response } from 'express';");
  if (svc.operations.some((o) => o.entry.protocol === 'kafka')) p.line("import type { KafkaMessage } from 'kafkajs';");
  p.line(`import { ${[...names].sort().join(', ')}${names.size ? ', ' : ''}type Input } from './clients.js';`);
  const ops: CodeModelOperation[] = [];
  for (const op of svc.operations) {
    const ctx: FnCtx = {
      topology,
      svc,
      op,
      fn: op.id,
      file: files.handlers,
      mode: op.entry.protocol,
      spans: [],
      branchPoints: [],
      helpers: [],
    };
    p.line();
    const line =
      op.entry.protocol === 'http'
        ? p.line(`export async function ${op.id}(req: Request, res: Response): Promise<void> {`)
        : op.entry.protocol === 'grpc'
          ? p.line(`export async function ${op.id}(input: Input): Promise<Input> {`)
          : p.line(`export async function ${op.id}(message: KafkaMessage): Promise<void> {`);
    p.indent();
    if (op.entry.protocol === 'http') p.line('const input: Input = { ...req.params, ...req.query, ...req.body };');
    if (op.entry.protocol === 'kafka') p.line('const input: Input = JSON.parse(String(message.value));');
    printSteps(p, ctx, op.body);
    if (op.body[op.body.length - 1]?.kind !== 'return') {
      if (op.entry.protocol === 'http') p.line('res.json({ ok: true });');
      if (op.entry.protocol === 'grpc') p.line('return { ok: true };');
    }
    p.dedent();
    p.line('}');
    // Helpers follow their operation; a helper's body may queue more helpers.
    for (let i = 0; i < ctx.helpers.length; i++) {
      const h = ctx.helpers[i]!;
      const fn = helperName(h);
      const hctx: FnCtx = { ...ctx, fn, mode: 'helper' };
      p.line();
      p.line(`async function ${fn}(input: Input): Promise<void> {`);
      p.indent();
      const spanLine = p.line(`await tracer.startActiveSpan(${quote(h.name)}, async (span) => {`);
      p.indent();
      const attrs = { 'code.function': fn, 'code.namespace': `${svc.name}/handlers`, ...(h.attributes ?? {}) };
      p.line(`span.setAttributes({ ${Object.entries(attrs).map(([k, v]) => `${quote(k)}: ${typeof v === 'string' ? quote(v) : String(v)}`).join(', ')} });`);
      ctx.spans.push({
        stepId: qualified(ctx, h.id),
        name: h.name,
        kind: 'INTERNAL',
        function: fn,
        file: files.handlers,
        line: spanLine,
        anchor: `startActiveSpan(${quote(h.name)}`,
      });
      printSteps(p, hctx, h.body ?? []);
      if (h.body?.[h.body.length - 1]?.kind !== 'return') p.line('span.end();');
      p.dedent();
      p.line('});');
      p.dedent();
      p.line('}');
    }
    ops.push({
      service: svc.name,
      operation: op.id,
      function: op.id,
      file: files.handlers,
      line,
      entry: op.entry,
      spanName: entrySpanName(op.entry),
      spanKind: entrySpanKind(op.entry),
      registration: { file: files.server, line: 0 },
      spans: [
        {
          stepId: `${svc.name}.${op.id}.entry`,
          name: entrySpanName(op.entry),
          kind: entrySpanKind(op.entry),
          function: op.id,
          file: files.handlers,
          line,
          anchor: `function ${op.id}(`,
        },
        ...ctx.spans,
      ],
      branchPoints: ctx.branchPoints,
    });
  }
  return { content: p.text(), ops };
}

function renderServer(svc: ServiceDef, ops: CodeModelOperation[]): string {
  const p = new Printer();
  const http = svc.operations.filter((o) => o.entry.protocol === 'http');
  const grpcOps = svc.operations.filter((o) => o.entry.protocol === 'grpc');
  const kafkaOps = svc.operations.filter((o) => o.entry.protocol === 'kafka');
  const model = new Map(ops.map((o) => [o.operation, o]));
  p.line(`// Entry points of ${svc.name}: every route, gRPC method and Kafka subscription bound to its handler.`);
  if (http.length) p.line("import express from 'express';");
  if (grpcOps.length) p.line("import * as grpc from '@grpc/grpc-js';");
  const grpcServices = [...new Set(grpcOps.map((o) => (o.entry.protocol === 'grpc' ? o.entry.service : '')))];
  if (grpcServices.length) p.line(`import { ${grpcServices.map((s) => `${s.slice(s.lastIndexOf('.') + 1)}Service`).join(', ')} } from '@shop/proto';`);
  const fromClients = [...(grpcOps.length ? ['unary'] : []), ...(kafkaOps.length ? ['kafka'] : [])];
  if (fromClients.length) p.line(`import { ${fromClients.join(', ')} } from './clients.js';`);
  p.line(`import { ${svc.operations.map((o) => o.id).join(', ')} } from './handlers.js';`);
  if (http.length) {
    p.line();
    p.line('const app = express();');
    p.line('app.use(express.json());');
    for (const op of http) {
      if (op.entry.protocol !== 'http') continue;
      model.get(op.id)!.registration.line = p.line(`app.${op.entry.method.toLowerCase()}(${quote(op.entry.route)}, ${op.id});`);
    }
    p.line(`app.listen(${svc.port});`);
  }
  if (grpcOps.length) {
    p.line();
    p.line('const server = new grpc.Server();');
    for (const g of grpcServices) {
      p.line(`server.addService(${g.slice(g.lastIndexOf('.') + 1)}Service, {`);
      p.indent();
      for (const op of grpcOps)
        if (op.entry.protocol === 'grpc' && op.entry.service === g)
          model.get(op.id)!.registration.line = p.line(`${grpcMethodName(op.entry.method)}: unary(${op.id}),`);
      p.dedent();
      p.line('});');
    }
    p.line(`server.bindAsync('0.0.0.0:${svc.port}', grpc.ServerCredentials.createInsecure(), () => server.start());`);
  }
  for (const op of kafkaOps) {
    if (op.entry.protocol !== 'kafka') continue;
    const v = `${op.id}Consumer`;
    p.line();
    p.line(`const ${v} = kafka.consumer({ groupId: ${quote(`${svc.name}.${op.id}`)} });`);
    p.line(`await ${v}.connect();`);
    model.get(op.id)!.registration.line = p.line(`await ${v}.subscribe({ topic: ${quote(op.entry.topic)} });`);
    p.line(`await ${v}.run({ eachMessage: ({ message }) => ${op.id}(message) });`);
  }
  return p.text();
}

function renderClients(topology: Topology, svc: ServiceDef): string {
  const p = new Printer();
  const { names, grpc } = usedClients(topology, svc);
  const consumes = svc.operations.some((o) => o.entry.protocol === 'kafka');
  const serves = svc.operations.some((o) => o.entry.protocol === 'grpc');
  p.line(`// Clients of ${svc.name}, created once at start-up. Their own control flow lives in the libraries.`);
  if (names.has('tracer')) p.line("import { trace } from '@opentelemetry/api';");
  if (names.has('http')) p.line("import axios from 'axios';");
  if (names.has('db')) p.line("import pg from 'pg';");
  if (names.has('mongo')) p.line("import { MongoClient } from 'mongodb';");
  if (names.has('redis')) p.line("import { Redis } from 'ioredis';");
  if (names.has('producer') || consumes) p.line("import { Kafka } from 'kafkajs';");
  if (grpc.size || serves) p.line("import * as grpc from '@grpc/grpc-js';");
  if (grpc.size) p.line(`import { ${[...grpc].map(grpcStubName).join(', ')} } from '@shop/proto';`);
  p.line();
  p.line('export type Input = Record<string, any>;');
  if (names.has('tracer')) p.line(`export const tracer = trace.getTracer(${quote(svc.name)}, ${quote(svc.version)});`);
  if (names.has('http')) p.line('export const http = axios.create({ timeout: 5000 });');
  const dbDef = svc.database;
  if (names.has('db') && dbDef)
    p.line(`export const db = new pg.Pool({ host: ${quote(dbDef.host)}, port: ${dbDef.port}, database: ${quote(dbDef.name)}, max: 10 });`);
  if (names.has('mongo') && dbDef) p.line(`export const mongo = new MongoClient(${quote(`mongodb://${dbDef.host}:${dbDef.port}`)}).db(${quote(dbDef.name)});`);
  if (names.has('redis') && svc.cache) p.line(`export const redis = new Redis({ host: ${quote(svc.cache.host)}, port: ${svc.cache.port} });`);
  if (names.has('producer') || consumes) p.line(`export const kafka = new Kafka({ clientId: ${quote(svc.name)}, brokers: ['kafka:9092'] });`);
  if (names.has('producer')) p.line('export const producer = kafka.producer();');
  for (const g of grpc) {
    const target = topology.services.find((s) => s.operations.some((o) => o.entry.protocol === 'grpc' && o.entry.service === g))!;
    p.line(`export const ${grpcClientVar(g)} = new ${grpcStubName(g)}(${quote(`${target.name}:${target.port}`)}, grpc.credentials.createInsecure());`);
  }
  if (serves) {
    p.line();
    p.line('/** Adapts an async handler to a unary gRPC method. */');
    p.line('export const unary =');
    p.line('  (handler: (input: Input) => Promise<Input>) =>');
    p.line('  (call: grpc.ServerUnaryCall<Input, Input>, callback: grpc.sendUnaryData<Input>): void =>');
    p.line('    void handler(call.request).then((reply) => callback(null, reply), (err: grpc.ServiceError) => callback(err));');
  }
  if (names.has('StatusError')) {
    p.line();
    p.line('/** An error answer of a gRPC method: the status code travels to the caller. */');
    p.line('export class StatusError extends Error {');
    p.line('  constructor(');
    p.line('    readonly code: number,');
    p.line('    message: string,');
    p.line('  ) {');
    p.line('    super(message);');
    p.line('  }');
    p.line('}');
  }
  return p.text();
}

function renderManifest(svc: ServiceDef, topology: Topology): string {
  const { names, grpc } = usedClients(topology, svc);
  const deps: Record<string, string> = { '@opentelemetry/api': '^1.9.0' };
  if (svc.operations.some((o) => o.entry.protocol === 'http')) deps['express'] = '^4.21.2';
  if (names.has('http')) deps['axios'] = '^1.7.9';
  if (names.has('db')) deps['pg'] = '^8.13.1';
  if (names.has('mongo')) deps['mongodb'] = '^6.12.0';
  if (names.has('redis')) deps['ioredis'] = '^5.4.2';
  if (names.has('producer') || svc.operations.some((o) => o.entry.protocol === 'kafka')) deps['kafkajs'] = '^2.2.4';
  if (grpc.size || svc.operations.some((o) => o.entry.protocol === 'grpc')) {
    deps['@grpc/grpc-js'] = '^1.12.5';
    deps['@shop/proto'] = 'workspace:*';
  }
  const sorted = Object.fromEntries(Object.entries(deps).sort(([a], [b]) => a.localeCompare(b)));
  return `${JSON.stringify({ name: svc.name, version: svc.version, private: true, type: 'module', main: 'src/server.ts', dependencies: sorted }, null, 2)}\n`;
}

/** The sources of every service and the code model, without touching the file system. */
export function renderServiceSources(topology: Topology): RenderedSources {
  validateTopology(topology);
  const files: SourceFile[] = [];
  const services: CodeModelService[] = [];
  for (const svc of topology.services) {
    const paths = serviceFiles(svc.name);
    const language = languageOf(svc);
    if (language !== 'typescript') {
      const rendered = renderLanguageService(topology, svc);
      files.push(...rendered.files);
      services.push({ name: svc.name, language, dir: paths.dir, files: rendered.files.map((f) => f.path), operations: rendered.ops });
      continue;
    }
    const handlers = renderHandlers(topology, svc);
    const server = renderServer(svc, handlers.ops);
    files.push(
      { path: paths.manifest, content: renderManifest(svc, topology) },
      { path: paths.server, content: server },
      { path: paths.handlers, content: handlers.content },
      { path: paths.clients, content: renderClients(topology, svc) },
    );
    services.push({ name: svc.name, dir: paths.dir, files: [paths.manifest, paths.server, paths.handlers, paths.clients], operations: handlers.ops });
  }
  const model: CodeModel = { format: CODE_MODEL_FORMAT, version: CODE_MODEL_VERSION, topology: topology.name, services };
  files.unshift(
    {
      path: 'package.json',
      content: `${JSON.stringify({ name: `${topology.name}-services`, private: true, workspaces: ['services/*'] }, null, 2)}\n`,
    },
    {
      path: 'tsconfig.json',
      content: `${JSON.stringify(
        { compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true }, include: ['services/*/src'] },
        null,
        2,
      )}\n`,
    },
  );
  // A polyglot topology's services share their gRPC APIs through proto/*.proto.
  if (topology.services.some((s) => languageOf(s) !== 'typescript')) files.push(...renderProtos(topology));
  files.push({ path: CODE_MODEL_FILE, content: `${JSON.stringify(model, null, 2)}\n` });
  return { files, model };
}

/** The code model alone (what renderServiceSources records while printing). */
export function buildCodeModel(topology: Topology): CodeModel {
  return renderServiceSources(topology).model;
}

/** Writes the services' TypeScript project (and slimtrace-model.json) under `outDir`; returns the model. */
export async function emitServiceSources(topology: Topology, outDir: string): Promise<CodeModel> {
  const { files, model } = renderServiceSources(topology);
  for (const f of files) {
    const path = join(outDir, ...f.path.split('/'));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, f.content);
  }
  return model;
}
