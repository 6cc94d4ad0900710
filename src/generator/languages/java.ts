// The Java printer: grpc-java service implementations with blocking stubs, Spring's JdbcTemplate,
// Jedis and java.net.http, instrumented by the OpenTelemetry Java agent. A handler is the
// lowerCamel method of the `*ImplBase` subclass; a helper's span is `@WithSpan` on the helper.
import { Printer, sqlParams, type SourceFile } from '../printing.js';
import type { CodeModelOperation } from '../code-model.js';
import { calleeOf, grpcStatusFor, serviceFiles } from '../naming.js';
import type { ServiceDef, Step, Topology } from '../topology.js';
import { grpcShortName, helperMethodName, lowerFirst, pascal, protoName, serverTypeName, servedGrpcService } from './profiles.js';
import { grpcCodeName, serviceNeeds } from './project.js';
import { dq, keyParts, printOperations, translateCondition, type LeafCode, type PrintCtx, type Syntax } from './walker.js';

const stubField = (grpcService: string): string => `${protoName(grpcService)}Stub`;
const method = (ctx: PrintCtx): string => (ctx.op.entry.protocol === 'grpc' ? ctx.op.entry.method : '');
const javaPackage = (svc: ServiceDef): string => servedGrpcService(svc).slice(0, servedGrpcService(svc).lastIndexOf('.'));

function path(_ctx: PrintCtx, segments: string[]): string {
  const [head, ...fields] = segments as [string, ...string[]];
  return (head === 'input' ? 'request' : head) + fields.map((f) => `.get${pascal(f)}()`).join('');
}

/** A key placeholder: the loop variable of that name inside its loop, else the request field. */
const field = (ctx: PrintCtx, name: string): string => (ctx.vars.get(name) === 'loop' ? name : path(ctx, ['input', name]));

function key(ctx: PrintCtx, text: string): string {
  return keyParts(text)
    .map((p) => (typeof p === 'string' ? dq(p) : field(ctx, p.field)))
    .join(' + ');
}

function leaf(ctx: PrintCtx, step: Step): LeafCode {
  switch (step.kind) {
    case 'call': {
      const entry = calleeOf(ctx.topology, step).entry;
      if (entry.protocol !== 'grpc') throw new Error('unreachable: validation allows only gRPC calls');
      const head = `${stubField(entry.service)}.${lowerFirst(entry.method)}(`;
      return { expr: `${head}${entry.method}Request.newBuilder().setUserId(request.getUserId()).build())`, anchor: head };
    }
    case 'external': {
      const url = dq(step.url);
      const body = step.method === 'GET' ? 'GET()' : `${step.method}(BodyPublishers.noBody())`;
      return { expr: `http.send(HttpRequest.newBuilder(URI.create(${url})).${body}.build(), BodyHandlers.ofString())`, anchor: url };
    }
    case 'db': {
      if (ctx.svc.database?.system === 'mongodb') {
        const head = `mongo.getCollection(${dq(step.table)}).${step.operation.replace(/One$/, '')}(`;
        return { expr: `${head}eq("_id", request.getProductId()))`, anchor: head };
      }
      const sql = dq(step.statement.replace(/\$\d+/g, '?'));
      const args = sqlParams(step.statement).map((a) => path(ctx, a.split('.')));
      const fn = step.operation === 'SELECT' ? 'queryForList' : 'update';
      return { expr: `jdbc.${fn}(${[sql, ...args].join(', ')})`, anchor: sql };
    }
    case 'cache': {
      const call = { get: 'get', set: 'set', del: 'del', hgetall: 'hgetAll', hset: 'hset', expire: 'expire' }[step.command];
      const head = `jedis.${call}(`;
      const rest = { get: ')', set: ', request.toString())', del: ')', hgetall: ')', hset: ', "quantity", String.valueOf(request.getQuantity()))', expire: ', 86400)' }[step.command];
      return { expr: `${head}${key(ctx, step.key)}${rest}`, anchor: head };
    }
    case 'internal': {
      const head = `${helperMethodName('java', step)}(`;
      return { expr: `${head}request)`, anchor: head };
    }
    default:
      throw new Error(`not a leaf step: ${step.kind}`);
  }
}

const syntax: Syntax = {
  language: 'java',
  ifOpen: (c) => [`if (${c}) {`],
  elseLines: ['} else {'],
  close: ['}'],
  empty: [],
  not: (c) => (/^[A-Za-z0-9_.()]+$/.test(c) ? `!${c}` : `!(${c})`),
  switchOpen: (d) => [`switch (${d}) {`],
  caseOpen: (label) => [label === 'default' ? 'default: {' : `case ${dq(label)}: {`],
  caseEnd: ['break;'],
  caseClose: ['}'],
  casesIndented: true,
  // A repeated field's getter is `get<Field>List()`.
  loopOpen: (ctx, item, over) => [over === undefined ? 'for (long i = 0; i < request.getQuantity(); i++) {' : `for (var ${item ?? 'item'} : ${path(ctx, over.split('.')).replace(/\(\)$/, 'List()')}) {`],
  tryOpen: ['try {'],
  // What the body's clients throw: a stub StatusRuntimeException, HttpClient IOException; JDBC and Jedis unchecked ones.
  catchLines: (_ctx, step) => {
    const calls = step.body.some((s) => s.kind === 'call');
    const http = step.body.some((s) => s.kind === 'external');
    const other = step.body.some((s) => s.kind === 'db' || s.kind === 'cache' || s.kind === 'internal');
    const types = other ? ['RuntimeException'] : calls ? ['StatusRuntimeException'] : [];
    if (http) types.push('IOException', 'InterruptedException');
    return [`} catch (${types.join(' | ')} e) {`];
  },
  statement: (_ctx, code, as) => (as ? `var ${as} = ${code.expr};` : `${code.expr};`),
  leaf,
  ret(ctx, status, id) {
    if (ctx.helper) return ['return;'];
    if (status === 200) return [`responseObserver.onNext(${method(ctx)}Response.getDefaultInstance());`, 'responseObserver.onCompleted();', 'return;'];
    return [`responseObserver.onError(Status.${grpcCodeName(grpcStatusFor(status)).upper}.withDescription(${dq(id)}).asRuntimeException());`, 'return;'];
  },
  cond: (ctx, expr) =>
    translateCondition(ctx, expr, {
      path,
      isNull: (_ctx, p, _kind, negated) => `${p} ${negated ? '!=' : '=='} null`,
      not: (c) => `!${c}`,
      equalsString: (p, lit, negated) => `${negated ? '!' : ''}${dq(lit)}.equals(${p})`,
      eq: '==',
      ne: '!=',
    }),
  handlerOpen(p, ctx) {
    const m = method(ctx);
    p.line('@Override');
    const line = p.line(`public void ${lowerFirst(m)}(${m}Request request, StreamObserver<${m}Response> responseObserver) {`);
    p.indent();
    return line;
  },
  handlerEnd: (ctx) => [`responseObserver.onNext(${method(ctx)}Response.getDefaultInstance());`, 'responseObserver.onCompleted();'],
  helperOpen(p, ctx, helper, name) {
    const anchor = `@WithSpan(${dq(helper.name)})`;
    const spanLine = p.line(anchor);
    const line = p.line(`void ${name}(${method(ctx)}Request request) {`);
    p.indent();
    for (const [k, v] of Object.entries(helper.attributes ?? {})) p.line(`Span.current().setAttribute(${dq(k)}, ${typeof v === 'string' ? dq(v) : typeof v === 'number' ? `${v}L` : String(v)});`);
    return { line, spanLine, anchor };
  },
  functionClose(p) {
    p.dedent();
    p.line('}');
  },
};

/** The Maven-layout module of one service: the `*Impl` class, Main (wiring) and build.gradle. */
export function renderJavaService(topology: Topology, svc: ServiceDef): { files: SourceFile[]; ops: CodeModelOperation[] } {
  const dir = serviceFiles(svc.name).dir;
  const pkg = javaPackage(svc);
  const src = `${dir}/src/main/java/${pkg.replace(/\./g, '/')}`;
  const own = servedGrpcService(svc);
  const cls = serverTypeName('java', svc);
  const files = { impl: `${src}/${cls}.java`, main: `${src}/Main.java`, build: `${dir}/build.gradle` };
  const needs = serviceNeeds(topology, svc);
  const protos = [own, ...needs.grpc.map((g) => g.service)];
  const members: [string, string][] = [
    ...(needs.sql ? ([['JdbcTemplate', 'jdbc']] as [string, string][]) : []),
    ...(needs.mongo ? ([['MongoDatabase', 'mongo']] as [string, string][]) : []),
    ...(needs.redis ? ([['JedisPooled', 'jedis']] as [string, string][]) : []),
    ...(needs.http ? ([['HttpClient', 'http']] as [string, string][]) : []),
    ...needs.grpc.map((g): [string, string] => [`${grpcShortName(g.service)}Grpc.${grpcShortName(g.service)}BlockingStub`, stubField(g.service)]),
  ];
  const p = new Printer('    ');
  p.line(`// ${svc.name}, generated by slimtrace from the '${topology.name}' topology.`);
  p.line("// Its handlers' if/switch/for/try statements are the traffic model: every one is a branch point.");
  p.line(`package ${pkg};`);
  p.line();
  for (const imp of [
    'io.grpc.Status',
    'io.grpc.StatusRuntimeException',
    'io.grpc.stub.StreamObserver',
    ...(needs.tracer ? ['io.opentelemetry.api.trace.Span', 'io.opentelemetry.instrumentation.annotations.WithSpan'] : []),
    ...(needs.http ? ['java.io.IOException', 'java.net.URI', 'java.net.http.HttpClient', 'java.net.http.HttpRequest', 'java.net.http.HttpRequest.BodyPublishers', 'java.net.http.HttpResponse.BodyHandlers'] : []),
    ...(needs.sql ? ['org.springframework.jdbc.core.JdbcTemplate'] : []),
    ...(needs.mongo ? ['com.mongodb.client.MongoDatabase'] : []),
    ...(needs.redis ? ['redis.clients.jedis.JedisPooled'] : []),
    ...protos.map((g) => `${g.slice(0, g.lastIndexOf('.'))}.v1.*`),
  ])
    p.line(`import ${imp};`);
  if (needs.mongo) p.line('import static com.mongodb.client.model.Filters.eq;');
  p.line();
  p.line(`public class ${cls} extends ${grpcShortName(own)}Grpc.${grpcShortName(own)}ImplBase {`);
  p.indent();
  for (const [t, n] of members) p.line(`private final ${t} ${n};`);
  p.line();
  p.line(`public ${cls}(${members.map(([t, n]) => `${t} ${n}`).join(', ')}) {`);
  p.indent();
  for (const [, n] of members) p.line(`this.${n} = ${n};`);
  p.dedent();
  p.line('}');
  p.line();
  const ops = printOperations(p, syntax, topology, svc, files.impl, files.main);
  p.dedent();
  p.line('}');

  const m = new Printer('    ');
  m.line(`// Wiring of ${svc.name}: its clients, and the gRPC server with ${cls} registered.`);
  m.line(`package ${pkg};`);
  m.line();
  for (const imp of [
    'io.grpc.ManagedChannelBuilder',
    'io.grpc.ServerBuilder',
    ...(needs.http ? ['java.net.http.HttpClient'] : []),
    ...(needs.sql ? ['org.springframework.jdbc.core.JdbcTemplate', 'org.springframework.jdbc.datasource.DriverManagerDataSource'] : []),
    ...(needs.mongo ? ['com.mongodb.client.MongoClients'] : []),
    ...(needs.redis ? ['redis.clients.jedis.JedisPooled'] : []),
    ...needs.grpc.map((g) => `${g.service.slice(0, g.service.lastIndexOf('.'))}.v1.${grpcShortName(g.service)}Grpc`),
  ])
    m.line(`import ${imp};`);
  m.line();
  m.line('public final class Main {');
  m.indent();
  m.line('public static void main(String[] args) throws Exception {');
  m.indent();
  const args: string[] = [];
  const db = svc.database;
  if (needs.sql && db) {
    m.line(`var jdbc = new JdbcTemplate(new DriverManagerDataSource(${dq(`jdbc:postgresql://${db.host}:${db.port}/${db.name}`)}));`);
    args.push('jdbc');
  }
  if (needs.mongo && db) {
    m.line(`var mongo = MongoClients.create(${dq(`mongodb://${db.host}:${db.port}`)}).getDatabase(${dq(db.name)});`);
    args.push('mongo');
  }
  if (needs.redis && svc.cache) {
    m.line(`var jedis = new JedisPooled(${dq(svc.cache.host)}, ${svc.cache.port});`);
    args.push('jedis');
  }
  if (needs.http) args.push('HttpClient.newHttpClient()');
  for (const g of needs.grpc) {
    m.line(`var ${stubField(g.service)} = ${grpcShortName(g.service)}Grpc.newBlockingStub(ManagedChannelBuilder.forTarget(${dq(g.target)}).usePlaintext().build());`);
    args.push(stubField(g.service));
  }
  m.line(`var server = ServerBuilder.forPort(${svc.port})`);
  m.indent();
  m.indent();
  const reg = m.line(`.addService(new ${cls}(${args.join(', ')}))`);
  m.line('.build()');
  m.line('.start();');
  m.dedent();
  m.dedent();
  m.line('server.awaitTermination();');
  m.dedent();
  m.line('}');
  m.dedent();
  m.line('}');
  for (const op of ops) op.registration.line = reg;
  const build = [
    "plugins { id 'application' }",
    '',
    'dependencies {',
    "  implementation 'io.grpc:grpc-netty-shaded:1.69.0'",
    "  implementation 'io.grpc:grpc-stub:1.69.0'",
    "  implementation 'io.opentelemetry.instrumentation:opentelemetry-instrumentation-annotations:2.11.0'",
    ...(needs.sql ? ["  implementation 'org.springframework:spring-jdbc:6.2.1'", "  runtimeOnly 'org.postgresql:postgresql:42.7.4'"] : []),
    ...(needs.redis ? ["  implementation 'redis.clients:jedis:5.2.0'"] : []),
    '}',
    '',
    `application { mainClass = '${pkg}.Main' }`,
  ];
  return {
    files: [
      { path: files.build, content: `${build.join('\n')}\n` },
      { path: files.main, content: m.text() },
      { path: files.impl, content: p.text() },
    ],
    ops,
  };
}
