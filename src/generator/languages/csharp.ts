// The C# printer: Grpc.AspNetCore services with Grpc.Net.Client clients, Dapper over Npgsql,
// StackExchange.Redis and HttpClient. A handler overrides the generated `*Base` method (async, with
// Allman braces as .NET code is written); a helper's span is an Activity started in the helper.
import { Printer, sqlParams, type SourceFile } from '../printing.js';
import type { CodeModelOperation } from '../code-model.js';
import { calleeOf, grpcStatusFor, serviceFiles } from '../naming.js';
import type { ServiceDef, Step, Topology } from '../topology.js';
import { grpcShortName, helperMethodName, pascal, protoName, serverTypeName, servedGrpcService } from './profiles.js';
import { grpcCodeName, serviceNeeds } from './project.js';
import { dq, keyParts, printOperations, translateCondition, type LeafCode, type PrintCtx, type Syntax } from './walker.js';

const clientField = (grpcService: string): string => `_${protoName(grpcService)}Client`;
const method = (ctx: PrintCtx): string => (ctx.op.entry.protocol === 'grpc' ? ctx.op.entry.method : '');
const namespaceOf = (grpcService: string): string =>
  grpcService
    .slice(0, grpcService.lastIndexOf('.'))
    .split('.')
    .map(pascal)
    .join('.');

function path(_ctx: PrintCtx, segments: string[]): string {
  const [head, ...fields] = segments as [string, ...string[]];
  return (head === 'input' ? 'request' : head) + fields.map((f) => `.${pascal(f)}`).join('');
}

/** A key placeholder: the loop variable of that name inside its loop, else the request field. */
const field = (ctx: PrintCtx, name: string): string => (ctx.vars.get(name) === 'loop' ? name : path(ctx, ['input', name]));

function key(ctx: PrintCtx, text: string): string {
  const parts = keyParts(text);
  if (parts.every((p) => typeof p === 'string')) return dq(text);
  return `$${dq(parts.map((p) => (typeof p === 'string' ? p.replace(/[{}]/g, '$&$&') : `{${field(ctx, p.field)}}`)).join(''))}`;
}

/** Dapper's named parameters: `$1` -> `@userId`, and the anonymous object that fills them. */
function dapper(ctx: PrintCtx, statement: string): { sql: string; args: string } {
  const params = sqlParams(statement).map((a) => a.slice(a.indexOf('.') + 1));
  const sql = statement.replace(/\$(\d+)/g, (_m, n: string) => `@${params[Number(n) - 1] ?? `p${n}`}`);
  const unique = [...new Set(params)];
  return { sql, args: unique.length ? `, new { ${unique.map((p) => `${p} = ${path(ctx, ['input', p])}`).join(', ')} }` : '' };
}

function leaf(ctx: PrintCtx, step: Step): LeafCode {
  switch (step.kind) {
    case 'call': {
      const entry = calleeOf(ctx.topology, step).entry;
      if (entry.protocol !== 'grpc') throw new Error('unreachable: validation allows only gRPC calls');
      const head = `${clientField(entry.service)}.${entry.method}Async(`;
      return { expr: `${head}new ${entry.method}Request { UserId = request.UserId })`, anchor: head };
    }
    case 'external': {
      const url = dq(step.url);
      return { expr: step.method === 'GET' ? `_http.GetAsync(${url})` : `_http.${pascal(step.method.toLowerCase())}Async(${url}, null)`, anchor: url };
    }
    case 'db': {
      if (ctx.svc.database?.system === 'mongodb') {
        const head = `_mongo.GetCollection<BsonDocument>(${dq(step.table)}).${pascal(step.operation)}Async(`;
        return { expr: `${head}new BsonDocument("_id", request.ProductId))`, anchor: head };
      }
      const { sql, args } = dapper(ctx, step.statement);
      const fn = step.operation !== 'SELECT' ? 'ExecuteAsync' : step.as ? 'QueryFirstOrDefaultAsync' : 'QueryAsync';
      return { expr: `_db.${fn}(${dq(sql)}${args})`, anchor: dq(sql) };
    }
    case 'cache': {
      const call = { get: 'StringGetAsync', set: 'StringSetAsync', del: 'KeyDeleteAsync', hgetall: 'HashGetAllAsync', hset: 'HashSetAsync', expire: 'KeyExpireAsync' }[step.command];
      const head = `_redis.${call}(`;
      const rest = { get: ')', set: ', request.ToString(), TimeSpan.FromMinutes(5))', del: ')', hgetall: ')', hset: ', "quantity", request.Quantity)', expire: ', TimeSpan.FromDays(1))' }[step.command];
      return { expr: `${head}${key(ctx, step.key)}${rest}`, anchor: head };
    }
    case 'internal': {
      const head = `${helperMethodName('csharp', step)}(`;
      return { expr: `${head}request)`, anchor: head };
    }
    default:
      throw new Error(`not a leaf step: ${step.kind}`);
  }
}

const syntax: Syntax = {
  language: 'csharp',
  ifOpen: (c) => [`if (${c})`, '{'],
  elseLines: ['}', 'else', '{'],
  close: ['}'],
  empty: [],
  not: (c) => (/^[A-Za-z0-9_.()]+$/.test(c) ? `!${c}` : `!(${c})`),
  switchOpen: (d) => [`switch (${d})`, '{'],
  caseOpen: (label) => [label === 'default' ? 'default:' : `case ${dq(label)}:`, '{'],
  caseEnd: ['break;'],
  caseClose: ['}'],
  casesIndented: true,
  loopOpen: (ctx, item, over) => [over === undefined ? 'for (var i = 0; i < request.Quantity; i++)' : `foreach (var ${item ?? 'item'} in ${path(ctx, over.split('.'))})`, '{'],
  tryOpen: ['try', '{'],
  // What the body's clients throw: RpcException from a stub, HttpRequestException from HttpClient; else any.
  catchLines: (_ctx, step) => {
    const kinds = new Set(step.body.map((s) => (s.kind === 'call' ? 'RpcException' : s.kind === 'external' ? 'HttpRequestException' : 'Exception')));
    return ['}', kinds.size === 1 ? `catch (${[...kinds][0]})` : 'catch (Exception)', '{'];
  },
  statement: (_ctx, code, as) => (as ? `var ${as} = await ${code.expr};` : `await ${code.expr};`),
  leaf,
  ret(ctx, status, id) {
    if (ctx.helper) return ['return;'];
    if (status === 200) return [`return new ${method(ctx)}Response();`];
    return [`throw new RpcException(new Status(StatusCode.${grpcCodeName(grpcStatusFor(status)).pascal}, ${dq(id)}));`];
  },
  cond: (ctx, expr) =>
    translateCondition(ctx, expr, {
      path,
      // A StackExchange.Redis read is a RedisValue, never null: it says IsNull.
      isNull: (_ctx, p, kind, negated) => (kind === 'cache' ? `${negated ? '!' : ''}${p}.IsNull` : `${p} ${negated ? '!=' : '=='} null`),
      not: (c) => `!${c}`,
      equalsString: (p, lit, negated) => `${p} ${negated ? '!=' : '=='} ${dq(lit)}`,
      eq: '==',
      ne: '!=',
    }),
  handlerOpen(p, ctx) {
    const m = method(ctx);
    const line = p.line(`public override async Task<${m}Response> ${m}(${m}Request request, ServerCallContext context)`);
    p.line('{');
    p.indent();
    return line;
  },
  handlerEnd: (ctx) => [`return new ${method(ctx)}Response();`],
  helperOpen(p, ctx, helper, name) {
    const line = p.line(`private async Task ${name}(${method(ctx)}Request request)`);
    p.line('{');
    p.indent();
    const anchor = `Source.StartActivity(${dq(helper.name)})`;
    const spanLine = p.line(`using var activity = ${anchor};`);
    for (const [k, v] of Object.entries(helper.attributes ?? {})) p.line(`activity?.SetTag(${dq(k)}, ${typeof v === 'string' ? dq(v) : String(v)});`);
    return { line, spanLine, anchor };
  },
  functionClose(p) {
    p.dedent();
    p.line('}');
  },
};

/** The ASP.NET Core project of one service: Services/<Impl>.cs, Program.cs (wiring) and the .csproj. */
export function renderCsharpService(topology: Topology, svc: ServiceDef): { files: SourceFile[]; ops: CodeModelOperation[] } {
  const dir = serviceFiles(svc.name).dir;
  const own = servedGrpcService(svc);
  const cls = serverTypeName('csharp', svc);
  const files = { impl: `${dir}/Services/${cls}.cs`, program: `${dir}/Program.cs`, project: `${dir}/${pascal(protoName(own))}.csproj` };
  const needs = serviceNeeds(topology, svc);
  const protos = [own, ...needs.grpc.map((g) => g.service)];
  const members: [string, string][] = [
    ...(needs.sql ? ([['NpgsqlConnection', '_db']] as [string, string][]) : []),
    ...(needs.mongo ? ([['IMongoDatabase', '_mongo']] as [string, string][]) : []),
    ...(needs.redis ? ([['IDatabase', '_redis']] as [string, string][]) : []),
    ...(needs.http ? ([['HttpClient', '_http']] as [string, string][]) : []),
    ...needs.grpc.map((g): [string, string] => [`${grpcShortName(g.service)}.${grpcShortName(g.service)}Client`, clientField(g.service)]),
  ];
  const p = new Printer('    ');
  p.line(`// ${svc.name}, generated by slimtrace from the '${topology.name}' topology.`);
  p.line("// Its handlers' if/switch/foreach/try statements are the traffic model: every one is a branch point.");
  for (const u of [
    ...(needs.tracer ? ['System.Diagnostics'] : []),
    ...(needs.sql ? ['Dapper', 'Npgsql'] : []),
    'Grpc.Core',
    ...(needs.mongo ? ['MongoDB.Bson', 'MongoDB.Driver'] : []),
    ...(needs.redis ? ['StackExchange.Redis'] : []),
    ...protos.map(namespaceOf),
  ])
    p.line(`using ${u};`);
  p.line();
  p.line(`namespace ${namespaceOf(own)}.Services;`);
  p.line();
  p.line(`public class ${cls} : ${grpcShortName(own)}.${grpcShortName(own)}Base`);
  p.line('{');
  p.indent();
  if (needs.tracer) p.line(`private static readonly ActivitySource Source = new(${dq(svc.name)});`);
  for (const [t, n] of members) p.line(`private readonly ${t} ${n};`);
  p.line();
  p.line(`public ${cls}(${members.map(([t, n]) => `${t} ${n.slice(1)}`).join(', ')})`);
  p.line('{');
  p.indent();
  for (const [, n] of members) p.line(`${n} = ${n.slice(1)};`);
  p.dedent();
  p.line('}');
  p.line();
  const ops = printOperations(p, syntax, topology, svc, files.impl, files.program);
  p.dedent();
  p.line('}');

  const m = new Printer('    ');
  m.line(`// Wiring of ${svc.name}: its clients, and the gRPC service ${cls} mapped.`);
  for (const u of [...(needs.sql ? ['Npgsql'] : []), ...(needs.mongo ? ['MongoDB.Driver'] : []), ...(needs.redis ? ['StackExchange.Redis'] : []), ...new Set(protos.map(namespaceOf)), `${namespaceOf(own)}.Services`])
    m.line(`using ${u};`);
  m.line();
  m.line('var builder = WebApplication.CreateBuilder(args);');
  m.line('builder.Services.AddGrpc();');
  const db = svc.database;
  if (needs.sql && db) m.line(`builder.Services.AddTransient(_ => new NpgsqlConnection(${dq(`Host=${db.host};Port=${db.port};Database=${db.name}`)}));`);
  if (needs.mongo && db) m.line(`builder.Services.AddSingleton(new MongoClient(${dq(`mongodb://${db.host}:${db.port}`)}).GetDatabase(${dq(db.name)}));`);
  if (needs.redis && svc.cache) m.line(`builder.Services.AddSingleton(ConnectionMultiplexer.Connect(${dq(`${svc.cache.host}:${svc.cache.port}`)}).GetDatabase());`);
  if (needs.http) m.line('builder.Services.AddHttpClient();');
  for (const g of needs.grpc) m.line(`builder.Services.AddGrpcClient<${grpcShortName(g.service)}.${grpcShortName(g.service)}Client>(o => o.Address = new Uri(${dq(`http://${g.target}`)}));`);
  m.line();
  m.line('var app = builder.Build();');
  const reg = m.line(`app.MapGrpcService<${cls}>();`);
  m.line(`app.Run(${dq(`http://0.0.0.0:${svc.port}`)});`);
  for (const op of ops) op.registration.line = reg;
  const packages = [
    ['Grpc.AspNetCore', '2.67.0'],
    ['OpenTelemetry.Extensions.Hosting', '1.10.0'],
    ['OpenTelemetry.Instrumentation.AspNetCore', '1.10.1'],
    ...(needs.grpc.length ? [['OpenTelemetry.Instrumentation.GrpcNetClient', '1.10.0-beta.1']] : []),
    ...(needs.sql ? [['Dapper', '2.1.35'], ['Npgsql.OpenTelemetry', '8.0.6']] : []),
    ...(needs.redis ? [['StackExchange.Redis', '2.8.24'], ['OpenTelemetry.Instrumentation.StackExchangeRedis', '1.10.0-beta.1']] : []),
  ];
  const csproj = [
    '<Project Sdk="Microsoft.NET.Sdk.Web">',
    '  <PropertyGroup>',
    '    <TargetFramework>net8.0</TargetFramework>',
    '    <Nullable>enable</Nullable>',
    '    <ImplicitUsings>enable</ImplicitUsings>',
    '  </PropertyGroup>',
    '  <ItemGroup>',
    ...protos.map((g) => `    <Protobuf Include="../../proto/${protoName(g)}.proto" GrpcServices="${g === own ? 'Server' : 'Client'}" />`),
    ...packages.map(([n, v]) => `    <PackageReference Include="${n}" Version="${v}" />`),
    '  </ItemGroup>',
    '</Project>',
  ];
  return {
    files: [
      { path: files.project, content: `${csproj.join('\n')}\n` },
      { path: files.program, content: m.text() },
      { path: files.impl, content: p.text() },
    ],
    ops,
  };
}
