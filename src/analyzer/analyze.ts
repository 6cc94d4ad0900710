// `analyzeSources`: the analyzer end to end (issue 5). Finds the services under the source
// directories, reads their files one at a time, builds every function's CSCFG, maps spans to the
// functions that produce them (Java agent conventions, framework and messaging spans, manual spans,
// HTTP routes and clients of the other languages), resolves calls into the inter-procedural graph
// per service, matches HTTP clients to other services' routes, scores every span's code, and returns
// the analysis.json v1 document (docs/analysis-format.md).
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../model/index.js';
import { resolveServiceCalls, type CallEdge, type ServiceFile } from './call-graph.js';
import { crossServiceEdges, messagingEdges, type CrossServiceEdge, type MessagingEdge } from './cross-service.js';
import { DEFAULT_BUSINESS_KEYWORDS, scoreSpans, type SpanFeatures } from './features.js';
import { branchPoints, callSites, type CallSite, type CscfgEdge, type CscfgNode } from './cscfg.js';
import { analyzeCSharpSource, type CSharpFileCscfg, type CSharpFunction } from './csharp.js';
import { analyzeGoSource, type GoCallNode } from './golang.js';
import { analyzeJavaSource, type JavaFileCscfg } from './java.js';
import type { AnalyzerLanguage } from './languages.js';
import { analyzePythonSource, type PythonFileCscfg } from './python.js';
import { DEFAULT_SKIP_DIRS, inventorySourceFiles, readSourceFile, walkSourceFiles } from './source-files.js';
import { mapFrameworkSpans, readBuildDependencies } from './span-map-framework.js';
import { mapJavaSpans, type JavaSpanKind } from './span-map-java.js';
import { grpcFileFacts, instrumentationNames, mapGrpcSpans, ProtoIndex, type GrpcFileFacts } from './span-map-grpc.js';
import { readProtoServices } from './proto.js';
import { dbFileFacts, mapDbSpans, type DbFileFacts } from './span-map-db.js';
import { analyzeScriptSource, type FileCscfg } from './typescript.js';

export const ANALYSIS_FORMAT = 'slimtrace-analysis';
export const ANALYSIS_VERSION = 1;

/** Files whose presence makes a folder a service root. */
export const SERVICE_ROOT_FILES: readonly string[] = ['pom.xml', 'build.gradle', 'build.gradle.kts', 'package.json', 'go.mod', 'pyproject.toml', 'setup.py', 'requirements.txt'];

export type SpanVia = 'controller' | 'repository' | 'inherited-repository' | 'with-span' | 'route' | 'http-client' | 'sql' | 'manual-span' | 'framework' | 'messaging' | 'grpc' | 'database';

export interface AnalysisService {
  name: string;
  dir: string;
  /** Source files per language. */
  languages: Partial<Record<AnalyzerLanguage, number>>;
}

/**
 * A CSCFG node as written to analysis.json: call nodes resolved to functions of the analyzed code
 * carry their ids (one id, or a list when overloads or several implementations leave a choice).
 */
export type AnalysisNode = CscfgNode & { resolved?: string | string[] };

export interface AnalysisFunction {
  /** `<service>:<file>:<name>:<line>`, unique in the document. */
  id: string;
  service: string;
  file: string;
  line: number;
  endLine: number;
  name: string;
  language: AnalyzerLanguage;
  nodes: AnalysisNode[];
  edges: CscfgEdge[];
  /** Ids of the nodes with more than one successor. */
  branchPoints: number[];
}

export interface AnalysisSpan {
  spanName: string;
  kind: JavaSpanKind;
  service: string;
  /** Id of the producing function (for call sites, the caller) when it was found. */
  function?: string;
  file: string;
  line: number;
  via: SpanVia;
  target?: string;
  httpMethod?: string;
  url?: string;
  /** Java HTTP clients, when it differs from `url`: the URL with variables replaced by their last values. */
  urlExpanded?: string;
  /** Routes: the handler as written at the registration (`getOrder`). */
  handler?: string;
  /** Routes: the id of the handler function when a function of that name is in the service. */
  handlerFunction?: string;
  /** Framework and messaging spans: the build dependency (artifact id) that brings the framework in. */
  dependency?: string;
  /** Messaging: the queue a listener consumes, or the routing key a send uses (when static). */
  queue?: string;
  /** Messaging sends: the exchange, `''` for the default exchange. */
  exchange?: string;
  /** gRPC spans: the full proto service name (`shop.cart.CartService`) and the method (`AddItem`). */
  rpcService?: string;
  rpcMethod?: string;
  /**
   * gRPC records under the name a language's own instrumentation uses (Node.js `grpc.<name>`, Python
   * `/<name>`): the `<package>.<Service>/<Method>` record they repeat. Not joined into edges.
   */
  aliasOf?: string;
  /** gRPC spans of streaming rpcs: which side streams. */
  streaming?: 'client' | 'server' | 'bidi';
  /** Database and cache spans: the `db.system` (`postgresql`, `redis`, `mongodb`, ...) and the instrumentation library. */
  dbSystem?: string;
  library?: string;
  /** The code features of the producing code (features.ts). */
  features?: SpanFeatures;
  /** The importance score from the features: +10 error handling, +8 external API, +7 database, +6 business keyword, -3 high frequency. */
  score?: number;
}

export interface Analysis {
  format: typeof ANALYSIS_FORMAT;
  version: typeof ANALYSIS_VERSION;
  generatedAt: string;
  settings: { sourceDirs: string[]; services: Record<string, string>; protoDirs?: string[]; targetReduction?: number; businessKeywords: string[] };
  services: AnalysisService[];
  functions: AnalysisFunction[];
  spans: AnalysisSpan[];
  /** The inter-procedural edges: call node `node` of function `from` reaches function `to`. */
  calls: CallEdge[];
  /** HTTP client calls matched to a route of another analyzed service, gRPC stub calls to the handlers of their method. */
  crossServiceEdges: CrossServiceEdge[];
  /** Message sends matched to the listeners of the queue they reach. */
  messagingEdges: MessagingEdge[];
  unsupported: { path: string; language: string }[];
  syntaxErrors: { file: string; line: number; message: string }[];
  summary: {
    files: number;
    functions: number;
    callSites: number;
    branchPoints: number;
    spansMapped: number;
    /** Call sites resolved to a function of the analyzed code. */
    callsResolved: number;
    /** Call sites not resolved whose called name is the name of a function of the service. */
    callsUnresolved: number;
    /** Call sites whose called name is no function of the service (or whose receiver's type is not the service's code). */
    callsLibrary: number;
    /** HTTP client call sites with a URL, those matched to a route of another service, and the edges (a call may match several routes). */
    httpClientCalls: number;
    httpClientCallsMatched: number;
    /** gRPC stub call sites, and those matched to a handler of the same method. */
    grpcClientCalls: number;
    grpcClientCallsMatched: number;
    crossServiceEdges: number;
    /**
     * Files that use a gRPC library when no `.proto` file was found: their gRPC spans and
     * cross-service edges cannot be mapped (only present when there are some).
     */
    grpcFilesWithoutProto?: number;
    byLanguage: Partial<Record<AnalyzerLanguage, { files: number; functions: number }>>;
    seconds: number;
  };
}

export interface AnalyzeProgress {
  filesDone: number;
  /** Known when onProgress is given (a listing pass runs first). */
  filesTotal: number;
  spans: number;
}

export interface AnalyzeOptions {
  sourceDirs: readonly string[];
  /** Folders named as one service each: NAME -> DIR. */
  services?: Readonly<Record<string, string>>;
  targetReduction?: number;
  /** Directories of gRPC `.proto` files besides the source and service directories (which are searched anyway). */
  protoDirs?: readonly string[];
  /** Keywords that mark business-critical code (default payment, order, checkout, auth, security). */
  businessKeywords?: readonly string[];
  onProgress?: (p: AnalyzeProgress) => void;
}

interface ServiceRoot {
  name: string;
  dir: string;
}

const posix = (p: string): string => p.split(path.sep).join('/');

async function hasBuildFile(dir: string): Promise<boolean> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return false;
  }
  // A .NET project file is named after the project (`Cart.csproj`).
  return names.some((n) => SERVICE_ROOT_FILES.includes(n) || n.endsWith('.csproj'));
}

async function subdirs(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() && !DEFAULT_SKIP_DIRS.has(e.name) && !e.name.startsWith('.'))
      .map((e) => path.join(dir, e.name))
      .sort();
  } catch (err) {
    throw new InputError(`cannot list directory: ${(err as Error).message}`, dir);
  }
}

/** Service roots at or below `dir` (the first folder with a build file on each path), up to `depth` levels. */
async function findRoots(dir: string, depth: number): Promise<string[]> {
  if (await hasBuildFile(dir)) return [dir];
  if (depth === 0) return [];
  const out: string[] = [];
  for (const d of await subdirs(dir)) out.push(...(await findRoots(d, depth - 1)));
  return out;
}

/**
 * The services of one source directory: each top-level folder, or the folders with build files
 * below it; the source directory itself when it has a build file and no folder below does.
 */
export async function discoverServices(sourceDir: string): Promise<ServiceRoot[]> {
  let info;
  try {
    info = await stat(sourceDir);
  } catch (err) {
    throw new InputError(`cannot read source directory: ${(err as Error).message}`, sourceDir);
  }
  if (!info.isDirectory()) throw new InputError('not a directory', sourceDir);
  const out: ServiceRoot[] = [];
  for (const top of await subdirs(sourceDir)) {
    const roots = await findRoots(top, 3);
    if (roots.length === 0) out.push({ name: path.basename(top), dir: top });
    else for (const r of roots) out.push({ name: path.basename(r), dir: r });
  }
  if (await hasBuildFile(sourceDir)) {
    // A project root: the folders with build files below it are its services (a workspace), or
    // else the whole directory is one service.
    const withBuild: ServiceRoot[] = [];
    for (const s of out) if (await hasBuildFile(s.dir)) withBuild.push(s);
    return withBuild.length > 0 ? withBuild : [{ name: path.basename(path.resolve(sourceDir)), dir: sourceDir }];
  }
  return out;
}

const isUnder = (file: string, dir: string): boolean => {
  const rel = path.relative(dir, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

async function analyzeFile(file: string, language: AnalyzerLanguage, source: string): Promise<FileCscfg> {
  switch (language) {
    case 'java':
      return analyzeJavaSource(file, source);
    case 'go':
      return analyzeGoSource(file, source);
    case 'python':
      return analyzePythonSource(file, source);
    case 'csharp':
      return analyzeCSharpSource(file, source);
    default:
      return analyzeScriptSource(file, source, language);
  }
}

const HTTP_VERBS = new Set(['get', 'post', 'put', 'delete', 'patch', 'head', 'options', 'all']);

/** Names bound to `axios.create(...)` in a source text (`export const http = axios.create({...})`). */
function axiosInstances(source: string): string[] {
  return [...source.matchAll(/\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=\s*axios\.create\s*\(/g)].map((m) => m[1]!);
}

/**
 * A fetch/axios call: `fetch(url, { method: 'POST' })`, `axios.get(url)`, `axios(url)`,
 * `http.post(url)` on an axios instance. The verb of fetch and axios(config) comes from a `method:`
 * in the call's first lines, else GET.
 */
function httpClientCall(callee: string, lines: readonly string[], line: number, column: number, clientNames: ReadonlySet<string>): { verb: string } | undefined {
  const dot = callee.lastIndexOf('.');
  const receiver = dot < 0 ? callee : callee.slice(0, dot);
  const member = dot < 0 ? '' : callee.slice(dot + 1);
  const methodOf = (): string => {
    // The call's own text: from the callee to the parenthesis that closes its arguments.
    const text = [lines[line - 1]?.slice(column) ?? '', ...lines.slice(line, line + 10)].join('\n');
    let depth = 0;
    let end = text.length;
    for (let i = 0; i < text.length; i++) {
      if (text[i] === '(') depth++;
      else if (text[i] === ')' && --depth === 0) {
        end = i;
        break;
      }
    }
    return /\bmethod\s*:\s*['"`](\w+)['"`]/.exec(text.slice(0, end))?.[1]?.toUpperCase() ?? 'GET';
  };
  if (callee === 'fetch' || callee === 'globalThis.fetch' || callee === 'window.fetch') return { verb: methodOf() };
  const isClient = (dot < 0 ? callee : receiver) === 'axios' || clientNames.has(dot < 0 ? callee : receiver);
  if (!isClient) return undefined;
  if (dot < 0 || member === 'request') return { verb: methodOf() };
  if (HTTP_VERBS.has(member) && member !== 'all') return { verb: member.toUpperCase() };
  return undefined;
}

/** Manual spans, routes and HTTP clients of a TypeScript/JavaScript, Go or Python file. */
function scriptSpans(service: string, fc: FileCscfg, source: string, idOf: (fnName: string, line: number) => string, clientNames: ReadonlySet<string> = new Set()): AnalysisSpan[] {
  const out: AnalysisSpan[] = [];
  const lines = source.split('\n');
  for (const fn of fc.functions) {
    const id = idOf(fn.name, fn.line);
    for (const c of callSites(fn)) {
      const last = c.callee.slice(c.callee.lastIndexOf('.') + 1);
      const base = { service, function: id, file: fc.file, line: c.line };
      if (fc.language === 'go') {
        const g = c as GoCallNode;
        if (last === 'Start' && g.secondArg !== undefined && g.secondArgKind === 'string')
          out.push({ spanName: g.secondArg, kind: 'internal', ...base, via: 'manual-span', target: c.callee });
        else out.push(...goHttpSpans(g, base, lines));
        continue;
      }
      if (fc.language === 'csharp') {
        out.push(...csharpSpans(c, base, fc as CSharpFileCscfg, fn as CSharpFunction));
        continue;
      }
      if (fc.language !== 'python') {
        const client = httpClientCall(c.callee, lines, c.line, c.column, clientNames);
        if (client) {
          // The OpenTelemetry JS HTTP/undici instrumentations name client spans by the method alone.
          out.push({ spanName: client.verb, kind: 'client', ...base, via: 'http-client', target: c.callee, httpMethod: client.verb, ...(c.firstArg !== undefined ? { url: c.firstArg } : {}) });
          continue;
        }
      }
      if (fc.language === 'python') {
        const verb = pythonClientVerb(c.callee, lines, c.line, c.column);
        if (verb) {
          // f-strings' `{expr}` become `${expr}`, the placeholder form URLs use everywhere else.
          const url = c.firstArg === undefined ? undefined : c.firstArgKind === 'template' ? c.firstArg.replace(/\{([^{}]*)\}/g, '$${$1}') : c.firstArg;
          out.push({ spanName: verb, kind: 'client', ...base, via: 'http-client', target: c.callee, httpMethod: verb, ...(url !== undefined ? { url } : {}) });
          continue;
        }
      }
      if (c.firstArg === undefined || c.firstArgKind !== 'string') continue;
      if (fc.language === 'python') {
        if (last === 'start_as_current_span' || last === 'start_span') out.push({ spanName: c.firstArg, kind: 'internal', ...base, via: 'manual-span', target: c.callee });
        continue;
      }
      if (last === 'startActiveSpan' || last === 'startSpan') {
        out.push({ spanName: c.firstArg, kind: 'internal', ...base, via: 'manual-span', target: c.callee });
        continue;
      }
      if (HTTP_VERBS.has(last) && c.callee.includes('.') && c.firstArg.startsWith('/')) {
        const verb = last === 'all' ? undefined : last.toUpperCase();
        const text = lines[c.line - 1]?.slice(c.column) ?? '';
        const m = /^[\w$.]+\s*\(\s*(['"`])[^'"`]*\1\s*,\s*([\w$.]+)\s*[,)]/.exec(text);
        out.push({
          spanName: verb ? `${verb} ${c.firstArg}` : c.firstArg,
          kind: 'server',
          ...base,
          via: 'route',
          target: c.callee,
          ...(verb ? { httpMethod: verb } : {}),
          ...(m ? { handler: m[2]! } : {}),
        });
      }
    }
  }
  if (fc.language === 'python') {
    // Flask/FastAPI routes: `@app.get("/x")`, `@router.post("/x")`, `@app.route("/x", methods=["POST"])`.
    for (const fn of (fc as PythonFileCscfg).functions) {
      for (const d of fn.decorators ?? []) {
        const last = d.callee.slice(d.callee.lastIndexOf('.') + 1);
        if (!d.call || !d.callee.includes('.') || d.firstArg === undefined || !d.firstArg.startsWith('/')) continue;
        let verbs: (string | undefined)[];
        if (last === 'route' || last === 'api_route') {
          const m = /methods\s*=\s*[[(]([^\])]*)[\])]/.exec(d.text);
          verbs = m ? [...m[1]!.matchAll(/['"](\w+)['"]/g)].map((x) => x[1]!.toUpperCase()) : [last === 'route' ? 'GET' : undefined];
        } else if (HTTP_VERBS.has(last) && last !== 'all') verbs = [last.toUpperCase()];
        else continue;
        const id = idOf(fn.name, fn.line);
        for (const verb of verbs) {
          out.push({
            spanName: verb ? `${verb} ${d.firstArg}` : d.firstArg,
            kind: 'server',
            service,
            function: id,
            file: fc.file,
            line: d.line,
            via: 'route',
            target: d.callee,
            ...(verb ? { httpMethod: verb } : {}),
            handler: fn.name,
            handlerFunction: id,
          });
        }
      }
    }
  }
  return out;
}

/** `requests.get(url)`, `requests.request("POST", url)`, `httpx.post(url)`: the verb of a Python HTTP client call. */
function pythonClientVerb(callee: string, lines: readonly string[], line: number, column: number): string | undefined {
  const m = /^(requests|httpx|session|client|self\.session|self\.client)\.(\w+)$/.exec(callee);
  if (!m) return undefined;
  if (HTTP_VERBS.has(m[2]!) && m[2] !== 'all') return m[2]!.toUpperCase();
  if (m[2] === 'request') return /^\S+\(\s*['"](\w+)['"]/.exec(lines[line - 1]?.slice(column) ?? '')?.[1]?.toUpperCase();
  return undefined;
}

/** The text of the call whose `(` is at `open` (strings and nesting respected), up to its `)`. */
function callText(text: string, open: number): string {
  let depth = 0;
  let quote: string | undefined;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '(' || c === '{' || c === '[') depth++;
    else if ((c === ')' || c === '}' || c === ']') && --depth === 0) return text.slice(open, i + 1);
  }
  return text.slice(open);
}

/**
 * kafkajs (TypeScript/JavaScript): `send <topic>` (CLIENT, the producer side) at each
 * `producer.send({ topic: 'T', ... })` on a variable made by `kafka.producer()`, and `process <topic>`
 * (SERVER, the consumer side) on the handler of `consumer.run({ eachMessage })` for the topics the
 * same consumer subscribes to (`subscribe({ topic: 'T' })` / `{ topics: [...] }`): the function the
 * eachMessage callback calls when it is a one-call arrow (`({ message }) => reserveStock(message)`),
 * a named function (`eachMessage: handle`), else the callback itself. Names as the OpenTelemetry
 * kafkajs instrumentation gives them; `queue` is the topic, which joins sends to consumers.
 */
function kafkaSpans(service: string, scripts: readonly { fc: FileCscfg; source: string; idOf: (name: string, line: number) => string }[], functions: readonly AnalysisFunction[]): AnalysisSpan[] {
  const out: AnalysisSpan[] = [];
  const producers = new Set<string>();
  for (const { source } of scripts) for (const m of source.matchAll(/\b(?:const|let|var)\s+([\w$]+)\s*(?::[^=\n]+)?=\s*(?:await\s+)?[\w$.]+\.producer\s*\(/g)) producers.add(m[1]!);
  for (const { fc, source, idOf } of scripts) {
    const lines = source.split('\n');
    for (const fn of fc.functions) {
      for (const c of callSites(fn)) {
        const m = /^(?:this\.)?([\w$]+)\.send$/.exec(c.callee);
        if (!m || !producers.has(m[1]!)) continue;
        const text = [lines[c.line - 1]?.slice(c.column) ?? '', ...lines.slice(c.line, c.line + 6)].join('\n');
        const topic = /\btopic\s*:\s*['"`]([^'"`$]+)['"`]/.exec(text)?.[1];
        if (topic === undefined) continue;
        out.push({ spanName: `send ${topic}`, kind: 'client', service, function: idOf(fn.name, fn.line), file: fc.file, line: c.line, via: 'messaging', target: c.callee, queue: topic });
      }
    }
    for (const m of source.matchAll(/\b([\w$]+)\.run\s*\(/g)) {
      const consumer = m[1]!;
      const subscribed: string[] = [];
      for (const sub of source.matchAll(new RegExp(`\\b${consumer.replace(/\$/g, '\\$')}\\.subscribe\\s*\\(`, 'g'))) {
        const text = callText(source, sub.index! + sub[0].length - 1);
        const one = /\btopic\s*:\s*['"`]([^'"`$]+)['"`]/.exec(text)?.[1];
        if (one) subscribed.push(one);
        const many = /\btopics\s*:\s*\[([^\]]*)\]/.exec(text)?.[1];
        if (many) for (const t of many.matchAll(/['"`]([^'"`$]+)['"`]/g)) subscribed.push(t[1]!);
      }
      if (subscribed.length === 0) continue;
      const text = callText(source, m.index! + m[0].length - 1);
      const each = /\beachMessage\s*:\s*([\s\S]*)$/.exec(text.slice(1, -1))?.[1]?.trim();
      if (!each) continue;
      const line = source.slice(0, m.index!).split('\n').length;
      // `({ message }) => handle(message)` / `async (p) => { await handle(p); }`: the one function it calls.
      const oneCall = /^(?:async\s*)?(?:\([^)]*\)|[\w$]+)\s*=>\s*\{?\s*(?:return\s+)?(?:await\s+)?(?:this\.)?([\w$]+)\s*\([^()]*\)\s*;?\s*\}?\s*,?\s*\}?\s*$/.exec(each)?.[1];
      const named = /^(?:this\.)?([\w$]+)\s*,?\s*\}?\s*$/.exec(each)?.[1];
      const handlerName = oneCall ?? named;
      const own = functions.filter((f) => f.service === service);
      const handler =
        (handlerName ? own.find((f) => f.file === fc.file && f.name === handlerName) ?? own.find((f) => f.name === handlerName || f.name.endsWith(`.${handlerName}`)) : undefined) ??
        own.find((f) => f.file === fc.file && f.name === 'eachMessage' && f.line >= line);
      for (const topic of subscribed) {
        out.push({
          spanName: `process ${topic}`,
          kind: 'server',
          service,
          ...(handler ? { function: handler.id, handlerFunction: handler.id, handler: handler.name } : {}),
          file: fc.file,
          line,
          via: 'messaging',
          target: `${consumer}.run`,
          queue: topic,
        });
      }
    }
  }
  return out;
}

/** The database names of `jdbc:<driver>://host/<db>` URLs in a Spring service's `src/main/resources/application*.properties|yml`. */
async function springDatabaseFacts(dir: string): Promise<DbFileFacts[]> {
  const resources = path.join(dir, 'src', 'main', 'resources');
  const names = await readdir(resources).catch(() => [] as string[]);
  const out: DbFileFacts[] = [];
  for (const n of names.sort()) {
    if (!/^application.*\.(properties|ya?ml)$/.test(n)) continue;
    const text = await readSourceFile(path.join(resources, n));
    const databases = [...text.matchAll(/jdbc:\w+:\/\/[^/\s"']+\/(\w+)/g)].map((m) => m[1]!);
    if (databases.length > 0) out.push({ file: posix(path.join(resources, n)), bindings: new Map(), databases });
  }
  return out;
}

/** C# HttpClient methods and the verb of the request each sends. */
const CSHARP_HTTP_METHODS: ReadonlyMap<string, string> = new Map([
  ['GetAsync', 'GET'],
  ['GetStringAsync', 'GET'],
  ['GetStreamAsync', 'GET'],
  ['GetByteArrayAsync', 'GET'],
  ['GetFromJsonAsync', 'GET'],
  ['PostAsync', 'POST'],
  ['PostAsJsonAsync', 'POST'],
  ['PutAsync', 'PUT'],
  ['PutAsJsonAsync', 'PUT'],
  ['PatchAsync', 'PATCH'],
  ['DeleteAsync', 'DELETE'],
]);

/**
 * C# manual spans (`activitySource.StartActivity("x")`, `tracer.StartActiveSpan("x")`), minimal-API
 * routes (`app.MapGet("/x", ...)`), and HttpClient calls on a receiver declared as an HttpClient
 * (span name `<VERB>`, as the .NET HttpClient instrumentation names client spans under the stable
 * HTTP semantic conventions).
 */
function csharpSpans(c: CallSite, base: { service: string; function: string; file: string; line: number }, fc: CSharpFileCscfg, fn: CSharpFunction): AnalysisSpan[] {
  const dot = c.callee.lastIndexOf('.');
  const last = c.callee.slice(dot + 1).replace(/<.*$/, '');
  const literal = c.firstArgKind === 'string' ? c.firstArg : undefined;
  if ((last === 'StartActivity' || last === 'StartActiveSpan' || last === 'StartSpan' || last === 'StartRootSpan') && literal !== undefined)
    return [{ spanName: literal, kind: 'internal', ...base, via: 'manual-span', target: c.callee }];
  const route = /^Map(Get|Post|Put|Delete|Patch)$/.exec(last);
  if (route && dot > 0 && literal?.startsWith('/')) {
    const verb = route[1]!.toUpperCase();
    return [{ spanName: `${verb} ${literal}`, kind: 'server', ...base, via: 'route', target: c.callee, httpMethod: verb }];
  }
  const verb = CSHARP_HTTP_METHODS.get(last);
  if (verb && dot > 0) {
    const receiver = c.callee.slice(0, dot).replace(/^this\./, '');
    const cls = fn.className ? fc.classes.find((k) => k.name === fn.className) : undefined;
    const type = fn.variables?.[receiver] ?? cls?.fields[receiver];
    if (type && /(^|\.)HttpClient$/.test(type))
      return [{ spanName: verb, kind: 'client', ...base, via: 'http-client', target: c.callee, httpMethod: verb, ...(c.firstArg !== undefined ? { url: c.firstArg } : {}) }];
  }
  return [];
}

/**
 * Java manual spans (`tracer.spanBuilder("x")`, the first argument a string literal), and Java's own
 * HTTP client (java.net.http): `send`/`sendAsync` on a field, parameter or local declared
 * as an `HttpClient`, the verb from the request built in the call (`.POST(...)`, `.method("PATCH", ...)`,
 * else GET) and the URL from its `URI.create("...")`. The OpenTelemetry Java agent (2.x, stable HTTP
 * semantic conventions) names the client span by the verb alone.
 */
function javaHttpClientSpans(service: string, fc: JavaFileCscfg, source: string, idOf: (fnName: string, line: number) => string): AnalysisSpan[] {
  const out: AnalysisSpan[] = [];
  const lines = source.split('\n');
  for (const fn of fc.functions) {
    const cls = fn.className ? fc.classes.find((c) => c.name === fn.className) : undefined;
    for (const c of callSites(fn)) {
      // Manual spans: `tracer.spanBuilder("name")...startSpan()`.
      if (c.callee.endsWith('.spanBuilder') && c.firstArgKind === 'string' && c.firstArg !== undefined) {
        out.push({ spanName: c.firstArg, kind: 'internal', service, function: idOf(fn.name, fn.line), file: fc.file, line: c.line, via: 'manual-span', target: c.callee });
        continue;
      }
      const m = /^(?:this\.)?([A-Za-z_$][\w$]*)\.(send|sendAsync)$/.exec(c.callee);
      if (!m) continue;
      const type = fn.variables?.[m[1]!] ?? cls?.fields.find((f) => f.name === m[1])?.type;
      if (!type || !/(^|\.)HttpClient$/.test(type)) continue;
      const text = [lines[c.line - 1]?.slice(c.column) ?? '', ...lines.slice(c.line, c.line + 8)].join('\n');
      const verb = (/\.(GET|POST|PUT|DELETE|HEAD)\s*\(/.exec(text)?.[1] ?? /\.method\s*\(\s*"(\w+)"/.exec(text)?.[1] ?? 'GET').toUpperCase();
      const url = /URI\.create\s*\(\s*"([^"]*)"/.exec(text)?.[1];
      out.push({ spanName: verb, kind: 'client', service, function: idOf(fn.name, fn.line), file: fc.file, line: c.line, via: 'http-client', target: `HttpClient.${m[2]}`, httpMethod: verb, ...(url !== undefined ? { url } : {}) });
    }
  }
  return out;
}

const GO_ROUTE_VERBS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'Get', 'Post', 'Put', 'Delete', 'Patch', 'Head', 'Options']);

/**
 * Go HTTP routes and clients: `http.HandleFunc("/x", h)` and `mux.Handle(...)` (a Go 1.22 pattern
 * `"GET /x"` gives the verb), gin/echo/chi `r.GET("/x", h)`/`r.Get(...)`; clients `http.Get(url)`,
 * `http.Post(url, ...)`, `http.NewRequest("GET", url, ...)` (span name `<VERB>`, as otelhttp's
 * client spans are named by the method).
 */
function goHttpSpans(c: GoCallNode, base: { service: string; function: string; file: string; line: number }, lines: readonly string[]): AnalysisSpan[] {
  const dot = c.callee.lastIndexOf('.');
  if (dot < 0) return [];
  const receiver = c.callee.slice(0, dot);
  const last = c.callee.slice(dot + 1);
  if (receiver === 'http' && (last === 'Get' || last === 'Post' || last === 'Head' || last === 'PostForm')) {
    const verb = last === 'PostForm' ? 'POST' : last.toUpperCase();
    return [{ spanName: verb, kind: 'client', ...base, via: 'http-client', target: c.callee, httpMethod: verb, ...(c.firstArg !== undefined ? { url: c.firstArg } : {}) }];
  }
  if (receiver === 'http' && last === 'NewRequest' && c.firstArgKind === 'string' && c.firstArg) {
    const verb = c.firstArg.toUpperCase();
    return [{ spanName: verb, kind: 'client', ...base, via: 'http-client', target: c.callee, httpMethod: verb, ...(c.secondArg !== undefined ? { url: c.secondArg } : {}) }];
  }
  if (c.firstArgKind !== 'string' || c.firstArg === undefined) return [];
  const text = lines[c.line - 1]?.slice(c.column) ?? '';
  const handler = /^[\w$.]+\s*\(\s*(["`])[^"`]*\1\s*,\s*([\w$.]+)\s*[,)]/.exec(text)?.[2];
  const route = (spanName: string, verb?: string): AnalysisSpan[] => [
    { spanName, kind: 'server', ...base, via: 'route', target: c.callee, ...(verb ? { httpMethod: verb } : {}), ...(handler ? { handler } : {}) },
  ];
  if (last === 'HandleFunc' || last === 'Handle') {
    const m = /^(?:([A-Z]+)\s+)?(\/\S*)$/.exec(c.firstArg);
    if (!m) return [];
    return m[1] ? route(`${m[1]} ${m[2]}`, m[1]) : route(m[2]!);
  }
  if (GO_ROUTE_VERBS.has(last) && receiver !== 'http' && c.firstArg.startsWith('/')) return route(`${last.toUpperCase()} ${c.firstArg}`, last.toUpperCase());
  return [];
}

/**
 * An import of a gRPC library, in any analyzed language (Go, Node.js, Python, Java, C#): without the
 * services' .proto files such code is analyzed, but its gRPC spans and edges cannot be named.
 */
const GRPC_LIBRARY_USE = /google\.golang\.org\/grpc|@grpc\/grpc-js|^\s*(?:import grpc\b|from grpc\b)|\bimport io\.grpc\.|^\s*using Grpc\.(?:Core|Net)\b/m;

/** Analyzes the services under the source directories (and the named ones) into an analysis.json v1 document. */
export async function analyzeSources(options: AnalyzeOptions): Promise<Analysis> {
  const started = performance.now();
  const explicit = Object.entries(options.services ?? {}).map(([name, dir]) => ({ name, dir }));
  const roots: ServiceRoot[] = [...explicit];
  for (const d of explicit) {
    const info = await stat(d.dir).catch((err: Error) => {
      throw new InputError(`cannot read service directory: ${err.message}`, d.dir);
    });
    if (!info.isDirectory()) throw new InputError('not a directory', d.dir);
  }
  for (const dir of options.sourceDirs) {
    for (const s of await discoverServices(dir)) if (!explicit.some((e) => isUnder(s.dir, e.dir) || isUnder(e.dir, s.dir))) roots.push(s);
  }
  // Unique names: a repeated folder name gets its parent's name as a prefix.
  const seen = new Map<string, number>();
  for (const r of roots) {
    const n = seen.get(r.name) ?? 0;
    seen.set(r.name, n + 1);
    if (n > 0) r.name = `${path.basename(path.dirname(r.dir))}-${r.name}`;
  }

  // gRPC service definitions anywhere under the source and service directories (a shared `proto/`
  // folder or copies per service): span names carry the full proto service name.
  for (const d of options.protoDirs ?? []) {
    const info = await stat(d).catch((err: Error) => {
      throw new InputError(`cannot read proto directory: ${err.message}`, d);
    });
    if (!info.isDirectory()) throw new InputError('not a directory', d);
  }
  const protos = new ProtoIndex(await readProtoServices([...options.sourceDirs, ...explicit.map((e) => e.dir), ...(options.protoDirs ?? [])]));

  let filesTotal = 0;
  if (options.onProgress) {
    for (const r of roots) {
      const inv = await inventorySourceFiles(r.dir);
      filesTotal += Object.values(inv.counts).reduce((a, b) => a + (b ?? 0), 0);
    }
    options.onProgress({ filesDone: 0, filesTotal, spans: 0 });
  }

  const doc: Analysis = {
    format: ANALYSIS_FORMAT,
    version: ANALYSIS_VERSION,
    generatedAt: new Date().toISOString(),
    settings: {
      sourceDirs: options.sourceDirs.map(posix),
      services: Object.fromEntries(explicit.map((e) => [e.name, posix(e.dir)])),
      ...(options.protoDirs?.length ? { protoDirs: options.protoDirs.map(posix) } : {}),
      ...(options.targetReduction !== undefined ? { targetReduction: options.targetReduction } : {}),
      businessKeywords: [...(options.businessKeywords ?? DEFAULT_BUSINESS_KEYWORDS)],
    },
    services: [],
    functions: [],
    spans: [],
    calls: [],
    crossServiceEdges: [],
    messagingEdges: [],
    unsupported: [],
    syntaxErrors: [],
    summary: { files: 0, functions: 0, callSites: 0, branchPoints: 0, spansMapped: 0, callsResolved: 0, callsUnresolved: 0, callsLibrary: 0, httpClientCalls: 0, httpClientCallsMatched: 0, grpcClientCalls: 0, grpcClientCallsMatched: 0, crossServiceEdges: 0, byLanguage: {}, seconds: 0 },
  };
  const s = doc.summary;

  for (const root of roots) {
    const svc: AnalysisService = { name: root.name, dir: posix(root.dir), languages: {} };
    doc.services.push(svc);
    // Service roots nested inside this one (a top-level folder holding other roots) are skipped.
    const nested = roots.filter((r) => r !== root && isUnder(r.dir, root.dir) && r.dir !== root.dir);
    const javaFiles: JavaFileCscfg[] = [];
    const javaSources = new Map<string, string>();
    const fnIds = new Map<string, string>(); // `${file}\0${name}\0${line}` -> id
    const svcFunctions: AnalysisFunction[] = [];
    const svcSpans: AnalysisSpan[] = [];
    const svcFiles: ServiceFile[] = [];
    const axiosNames = new Set<string>();
    const scripts: { fc: FileCscfg; source: string; idOf: (name: string, line: number) => string }[] = [];
    const grpcFacts: GrpcFileFacts[] = [];
    const dbFacts: DbFileFacts[] = [];
    const csharpSources = new Map<string, string>();
    for await (const entry of walkSourceFiles(root.dir)) {
      if (nested.some((r) => isUnder(entry.path, r.dir))) continue;
      const file = posix(entry.path);
      if (entry.kind === 'unsupported') {
        doc.unsupported.push({ path: file, language: entry.language });
        continue;
      }
      const source = await readSourceFile(entry.path);
      const fc = await analyzeFile(file, entry.language, source);
      s.files++;
      svc.languages[entry.language] = (svc.languages[entry.language] ?? 0) + 1;
      const lang = (s.byLanguage[entry.language] ??= { files: 0, functions: 0 });
      lang.files++;
      for (const e of fc.syntaxErrors) doc.syntaxErrors.push({ file, line: e.line, message: e.message });
      const idOf = (name: string, line: number): string => fnIds.get(`${file}\0${name}\0${line}`) ?? `${root.name}:${file}:${name}:${line}`;
      const ids: string[] = [];
      svcFiles.push({ fc, ids });
      for (const fn of fc.functions) {
        const id = `${root.name}:${file}:${fn.name}:${fn.line}`;
        ids.push(id);
        fnIds.set(`${file}\0${fn.name}\0${fn.line}`, id);
        const bps = branchPoints(fn).map((b) => b.node.id);
        svcFunctions.push({ id, service: root.name, file, line: fn.line, endLine: fn.endLine, name: fn.name, language: entry.language, nodes: fn.nodes, edges: fn.edges, branchPoints: bps });
        s.functions++;
        lang.functions++;
        s.callSites += fn.nodes.filter((n) => n.kind === 'call').length;
        s.branchPoints += bps.length;
      }
      if (protos.size > 0) grpcFacts.push(grpcFileFacts(fc, source));
      else if (GRPC_LIBRARY_USE.test(source)) s.grpcFilesWithoutProto = (s.grpcFilesWithoutProto ?? 0) + 1;
      dbFacts.push(dbFileFacts(fc, source));
      if (fc.language === 'csharp' && /Command\b/.test(source)) csharpSources.set(file, source);
      if (entry.language === 'java') {
        javaFiles.push(fc as JavaFileCscfg);
        if (/resttemplate|rabbit|amqp/i.test(source)) javaSources.set(file, source);
        if (/java\.net\.http|spanBuilder/.test(source)) svcSpans.push(...javaHttpClientSpans(root.name, fc as JavaFileCscfg, source, idOf));
      } else {
        if (fc.language === 'go' || fc.language === 'python' || fc.language === 'csharp') svcSpans.push(...scriptSpans(root.name, fc, source, idOf));
        else {
          // After the walk: an axios instance may be created in a file not read yet.
          for (const n of axiosInstances(source)) axiosNames.add(n);
          scripts.push({ fc, source, idOf });
        }
      }
      options.onProgress?.({ filesDone: s.files, filesTotal, spans: doc.spans.length + svcSpans.length });
    }
    for (const sc of scripts) svcSpans.push(...scriptSpans(root.name, sc.fc, sc.source, sc.idOf, axiosNames));
    if (scripts.some((sc) => /\bkafkajs\b|\.producer\s*\(|\.consumer\s*\(/.test(sc.source))) svcSpans.push(...kafkaSpans(root.name, scripts, svcFunctions));
    if (javaFiles.length > 0) {
      const mapped = [
        ...(await mapJavaSpans([{ service: root.name, files: javaFiles }], { sources: javaSources })),
        ...(await mapFrameworkSpans({ service: root.name, dependencies: await readBuildDependencies(root.dir), files: javaFiles, sources: javaSources })),
      ];
      for (const m of mapped) {
        const fn =
          svcFunctions.find((f) => f.file === m.file && f.name === m.function && f.line <= m.line && m.line <= f.endLine) ??
          svcFunctions.find((f) => f.file === m.file && f.name === m.function);
        const { function: _fname, ...rest } = m;
        svcSpans.push({ ...rest, ...(fn && m.function !== undefined ? { function: fn.id } : {}) });
      }
    }
    for (const g of mapGrpcSpans(svcFiles.map((f) => f.fc), grpcFacts, protos)) {
      const id = fnIds.get(`${g.file}\0${g.functionName}\0${g.functionLine}`);
      const record: AnalysisSpan = {
        spanName: g.spanName,
        kind: g.kind,
        service: root.name,
        ...(id ? { function: id } : {}),
        file: g.file,
        line: g.line,
        via: 'grpc',
        target: g.target,
        ...(g.kind === 'server' && id ? { handler: g.functionName, handlerFunction: id } : {}),
        rpcService: g.rpcService,
        rpcMethod: g.rpcMethod,
        ...(g.streaming ? { streaming: g.streaming } : {}),
      };
      svcSpans.push(record);
      // The same mapping under the name the language's own instrumentation gives the span.
      for (const alias of instrumentationNames(g.spanName, g.language)) svcSpans.push({ ...record, spanName: alias, aliasOf: g.spanName });
    }
    // Spring services configure the JDBC URL (whose path names the database) in their resources.
    if (javaFiles.length > 0) dbFacts.push(...(await springDatabaseFacts(root.dir)));
    for (const d of mapDbSpans(svcFiles.map((f) => f.fc), dbFacts, csharpSources)) {
      const id = fnIds.get(`${d.file}\0${d.functionName}\0${d.functionLine}`);
      svcSpans.push({ spanName: d.spanName, kind: 'client', service: root.name, ...(id ? { function: id } : {}), file: d.file, line: d.line, via: 'database', target: d.target, dbSystem: d.dbSystem, library: d.library });
    }
    // Routes registered with a named handler point at that function.
    for (const sp of svcSpans) {
      if (sp.via !== 'route' || !sp.handler) continue;
      const short = sp.handler.slice(sp.handler.lastIndexOf('.') + 1);
      const fn = svcFunctions.find((f) => f.name === sp.handler || f.name === short || f.name.endsWith(`.${short}`));
      if (fn) sp.handlerFunction = fn.id;
    }
    const resolved = resolveServiceCalls(svcFiles);
    for (const f of svcFunctions) {
      const targets = resolved.targets.get(f.id);
      if (!targets || targets.size === 0) continue;
      // Fresh node objects: the front ends' graphs stay as they were built.
      f.nodes = f.nodes.map((n) => {
        const t = targets.get(n.id);
        return t ? { ...n, resolved: t.length === 1 ? t[0]! : t } : n;
      });
    }
    doc.calls.push(...resolved.edges);
    s.callsResolved += resolved.counts.resolved;
    s.callsUnresolved += resolved.counts.unresolved;
    s.callsLibrary += resolved.counts.library;
    doc.functions.push(...svcFunctions);
    doc.spans.push(...svcSpans);
  }
  const cross = crossServiceEdges(doc.spans, doc.functions);
  doc.crossServiceEdges = cross.edges;
  s.httpClientCalls = cross.clientCalls;
  s.httpClientCallsMatched = cross.matched;
  s.grpcClientCalls = cross.grpcClientCalls;
  s.grpcClientCallsMatched = cross.grpcMatched;
  s.crossServiceEdges = cross.edges.length;
  doc.messagingEdges = messagingEdges(doc.spans, doc.functions);
  const scored = scoreSpans({ functions: doc.functions, spans: doc.spans, calls: doc.calls, businessKeywords: doc.settings.businessKeywords });
  doc.spans.forEach((sp, i) => Object.assign(sp, scored[i]!));
  s.spansMapped = doc.spans.length;
  s.seconds = Math.round((performance.now() - started) / 10) / 100;
  return doc;
}
