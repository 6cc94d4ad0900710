// gRPC span mapping (issue 14, item 4): the OpenTelemetry gRPC instrumentations of every language
// name both the SERVER span of a handler and the CLIENT span of a stub call `<package>.<Service>/<Method>`
// (the full proto service name, the method as in the .proto). This module ties those names to code:
//  - SERVER to the handler function: Go methods of the type that embeds `pb.UnimplementedXServer` or
//    is registered with `pb.RegisterXServer(s, &T{})`; Python methods of a class deriving from
//    `x_pb2_grpc.XServicer` (or registered with `add_XServicer_to_server(T(), s)`); Java methods of a
//    class extending `XGrpc.XImplBase` (lowerCamel method names); C# methods of a class deriving from
//    `X.XBase`; Node.js functions bound in `server.addService(<X>.service, { method: handler })`.
//  - CLIENT to the function holding the stub call: calls on a variable or field bound to a stub of X
//    (`pb.NewXClient(conn)`, `x_pb2_grpc.XStub(ch)`, `XGrpc.newBlockingStub(ch)`, `new X.XClient(ch)`,
//    `new proto.pkg.X(addr, creds)`/`new XClient(...)`, or declared with the stub's type), the method
//    as the language spells it (`AddItem`, `addItem`, `AddItemAsync`, `AddItem.future`).
// Bindings are read from the source text with small patterns per language (each fact is one line or
// one call), then checked against the services the .proto files declare, so a pattern that matches
// something else (`new HttpClient()`) binds nothing. A stub whose type cannot be told is not mapped.
import type { CallSite } from './cscfg.js';
import { callSites } from './cscfg.js';
import type { JavaFileCscfg } from './java.js';
import type { ProtoMethod, ProtoService } from './proto.js';
import type { FileCscfg } from './typescript.js';
import { pythonInjection, type PythonInjection } from './span-map-db.js';

/** What one file says about gRPC, read once while the file's source is at hand. */
export interface GrpcFileFacts {
  file: string;
  /** Variable/field names bound to a client stub, -> the proto service's simple name as the code spells it (`CartService`). */
  stubs: Map<string, string>;
  /** Types (class, struct, receiver) implementing a proto service -> its simple name. */
  servers: Map<string, string>;
  /** Node.js `addService` bindings: method key as written -> handler function name; key `*` for a class instance (handler: the class). */
  handlers: { service: string; key: string; handler?: string; line: number }[];
  /** Python: stubs made in wiring code and passed to a servicer's constructor (`self.x = param`). */
  injection?: PythonInjection;
}

export interface GrpcSpan {
  /** `<package>.<Service>/<Method>`. */
  spanName: string;
  /** The language of the file the span is mapped in (the instrumentations' names differ per language; see `instrumentationNames`). */
  language: FileCscfg['language'];
  kind: 'server' | 'client';
  /** The function name (as the front end names it) and its line, for the caller to turn into an id. */
  functionName: string;
  functionLine: number;
  file: string;
  line: number;
  /** The stub call as written (clients) or `Type.method` (servers). */
  target: string;
  rpcService: string;
  rpcMethod: string;
  /** Streaming rpcs: the instrumentations name them the same way; recorded for readers. */
  streaming?: 'client' | 'server' | 'bidi';
}

const lcfirst = (s: string): string => (s ? s[0]!.toLowerCase() + s.slice(1) : s);
const lineAt = (text: string, index: number): number => {
  let n = 1;
  for (let i = 0; i < index && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
};

/** A cheap test before any pattern runs: most files of most services mention nothing gRPC-like. */
const MAYBE_GRPC = /grpc|Grpc|GRPC|_pb2|Servicer|Stub|Client|addService|Unimplemented|Register\w+Server|Base\b/;

/** The text of the call whose `(` is at `open`, up to its closing parenthesis (strings and nesting respected). */
function balanced(text: string, open: number): string {
  let depth = 0;
  let quote: string | undefined;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '(' || c === '{' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === ']') {
      depth--;
      if (depth === 0) return text.slice(open, i + 1);
    }
  }
  return text.slice(open);
}

/** Splits `a, b(c, d), {e}` at its top-level commas; each part with its offset. */
function topLevelParts(text: string): { text: string; at: number }[] {
  const out: { text: string; at: number }[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '(' || c === '{' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 0) {
      out.push({ text: text.slice(start, i), at: start });
      start = i + 1;
    }
  }
  if (text.slice(start).trim() !== '') out.push({ text: text.slice(start), at: start });
  return out;
}

/** The handler a Node.js `addService` entry value names: `addItem`, `unary(addItem)`, `this.addItem.bind(this)`, `impl.addItem`. */
function handlerOf(value: string): string | undefined {
  let v = value.trim().replace(/\.bind\([^)]*\)$/, '');
  // A wrapper call around the handler (`unary(addItem)`, `wrap(handlers.addItem, opts)`): its first argument.
  for (let guard = 0; guard < 4; guard++) {
    const m = /^[\w$.]+\s*\(\s*([\s\S]*)\)$/.exec(v);
    if (!m) break;
    const first = topLevelParts(m[1]!)[0]?.text.trim();
    if (!first) return undefined;
    v = first.replace(/\.bind\([^)]*\)$/, '');
  }
  const id = /^(?:this\.)?(?:[\w$]+\.)*([\w$]+)$/.exec(v);
  return id?.[1];
}

/** Node.js: `server.addService(<service expr>, { key: handler, ... })` (or an object named by a variable of the file). */
function nodeHandlers(source: string): GrpcFileFacts['handlers'] {
  const out: GrpcFileFacts['handlers'] = [];
  for (const m of source.matchAll(/\.addService\s*\(/g)) {
    const open = m.index! + m[0].length - 1;
    const call = balanced(source, open);
    const args = topLevelParts(call.slice(1, -1));
    const svcExpr = args[0]?.text.trim().replace(/\.service$/, '');
    if (!svcExpr || !args[1]) continue;
    let objText = args[1].text;
    let objAt = open + 1 + args[1].at;
    // `server.addService(X.service, new CartServer())`: the class's methods are the handlers.
    const impl = /^\s*new\s+([\w$]+)\s*\(/.exec(objText)?.[1];
    if (impl) {
      out.push({ service: svcExpr, key: '*', handler: impl, line: lineAt(source, objAt) });
      continue;
    }
    const ident = /^\s*([\w$]+)\s*$/.exec(objText)?.[1];
    if (ident) {
      // `server.addService(X.service, handlers)` with `const handlers = { ... }` in the same file.
      const decl = new RegExp(`\\b(?:const|let|var)\\s+${ident.replace(/\$/g, '\\$')}\\s*(?::[^=]+)?=\\s*\\{`).exec(source);
      if (!decl) continue;
      objAt = decl.index + decl[0].length - 1;
      objText = balanced(source, objAt);
    }
    const brace = objText.indexOf('{');
    if (brace < 0) continue;
    const body = balanced(objText, brace);
    for (const part of topLevelParts(body.slice(1, -1))) {
      const at = objAt + brace + 1 + part.at;
      const text = part.text;
      const lead = text.length - text.trimStart().length;
      const entry = text.trim();
      if (entry === '' || entry.startsWith('...')) continue;
      // `key: value`, `'key': value`, shorthand `key`, or a method `key(call, cb) { ... }` / `async key(...) {...}`.
      const kv = /^(?:['"]([\w$]+)['"]|([\w$]+))\s*:\s*([\s\S]+)$/.exec(entry);
      const method = /^(?:async\s+)?([\w$]+)\s*\(/.exec(entry);
      const line = lineAt(source, at + lead);
      if (kv) {
        const key = (kv[1] ?? kv[2])!;
        const value = kv[3]!.trim();
        // An inline function is a function of its own named after the key (typescript.ts names pair values so).
        const inline = /^(?:async\s+)?(?:function\b|\([^)]*\)\s*=>|[\w$]+\s*=>)/.test(value);
        const handler = inline ? key : handlerOf(value);
        out.push({ service: svcExpr, key, ...(handler ? { handler } : {}), line });
      } else if (method) out.push({ service: svcExpr, key: method[1]!, handler: method[1]!, line });
      else if (/^[\w$]+$/.test(entry)) out.push({ service: svcExpr, key: entry, handler: entry, line });
    }
  }
  return out;
}

/** Reads the gRPC bindings of one file (an empty record for files that mention nothing gRPC-like). */
export function grpcFileFacts(fc: FileCscfg, source: string): GrpcFileFacts {
  const facts: GrpcFileFacts = { file: fc.file, stubs: new Map(), servers: new Map(), handlers: [] };
  if (!MAYBE_GRPC.test(source)) return facts;
  const stub = (name: string | undefined, svc: string | undefined): void => {
    if (name && svc) facts.stubs.set(name, svc);
  };
  const server = (type: string | undefined, svc: string | undefined): void => {
    if (type && svc) facts.servers.set(type, svc);
  };
  switch (fc.language) {
    case 'go': {
      // c := pb.NewXClient(conn) / c = ... / field: pb.NewXClient(conn) in a composite literal.
      for (const m of source.matchAll(/\b([A-Za-z_]\w*)\s*(?:,\s*[A-Za-z_]\w*\s*)?(?::=|=|:)\s*(?:[A-Za-z_]\w*\.)?New(\w+)Client\s*\(/g)) stub(m[1], m[2]);
      // Struct fields and parameters declared with the client interface: `cartClient pb.CartServiceClient`.
      for (const m of source.matchAll(/^\s*([A-Za-z_]\w*)\s+\*?[A-Za-z_]\w*\.(\w+)Client\b/gm)) stub(m[1], m[2]);
      for (const m of source.matchAll(/[(,]\s*([A-Za-z_]\w*)\s+\*?[A-Za-z_]\w*\.(\w+)Client\s*[,)]/g)) stub(m[1], m[2]);
      for (const m of source.matchAll(/\btype\s+([A-Za-z_]\w*)\s+struct\s*\{([^}]*)\}/g)) {
        const u = /\bUnimplemented(\w+)Server\b/.exec(m[2]!);
        if (u) server(m[1], u[1]);
      }
      for (const m of source.matchAll(/\bRegister(\w+)Server\s*\(\s*[\w.]+\s*,\s*&?\s*([A-Za-z_]\w*)\s*([{(]?)/g)) {
        if (m[3] === '(') {
          // `pb.RegisterXServer(s, newServer(db))`: the type the constructor function returns.
          const ctor = new RegExp(`\\bfunc\\s+${m[2]}\\s*\\([^)]*\\)\\s*\\*?\\s*([A-Za-z_]\\w*)`).exec(source);
          server(ctor?.[1] ?? m[2], m[1]);
        } else if (m[3]) server(m[2], m[1]);
        else {
          // Registered through a variable: `srv := &cartServer{...}` or `srv := newServer(db)` earlier in the file.
          const v = new RegExp(`\\b${m[2]}\\s*:?=\\s*&?\\s*([A-Za-z_]\\w*)\\s*([{(])`).exec(source);
          const ctor = v?.[2] === '(' ? new RegExp(`\\bfunc\\s+${v[1]}\\s*\\([^)]*\\)\\s*\\*?\\s*([A-Za-z_]\\w*)`).exec(source) : undefined;
          if (v) server(ctor?.[1] ?? v[1], m[1]);
        }
      }
      break;
    }
    case 'python': {
      for (const m of source.matchAll(/(?:\bself\.)?\b([A-Za-z_]\w*)\s*(?::[^=\n]+)?=\s*(?:[\w.]+\.)?(\w+)Stub\s*\(/g)) stub(m[1], m[2]);
      for (const m of source.matchAll(/\b([A-Za-z_]\w*)\s*:\s*(?:[\w.]+\.)?(\w+)Stub\b/g)) stub(m[1], m[2]);
      for (const m of source.matchAll(/^\s*class\s+([A-Za-z_]\w*)\s*\(([^)]*)\)/gm)) {
        const b = /\b(\w+)Servicer\b/.exec(m[2]!);
        if (b) server(m[1], b[1]);
      }
      for (const m of source.matchAll(/\badd_(\w+)Servicer_to_server\s*\(\s*([A-Za-z_]\w*)\s*\(/g)) server(m[2], m[1]);
      facts.injection = pythonInjection(source);
      break;
    }
    case 'java': {
      for (const m of source.matchAll(/\b(\w+)Grpc\.\1(?:Blocking|Future|BlockingV2)?Stub\s+([A-Za-z_]\w*)\b/g)) stub(m[2], m[1]);
      for (const m of source.matchAll(/\b([A-Za-z_]\w*)\s*=\s*(\w+)Grpc\.new(?:Blocking|Future|BlockingV2)?Stub\s*\(/g)) stub(m[1], m[2]);
      for (const c of (fc as JavaFileCscfg).classes) {
        const b = c.superclass ? /(?:^|\.)(\w+)ImplBase$/.exec(c.superclass.replace(/<.*$/s, '')) : null;
        if (b) server(c.name, b[1]);
      }
      break;
    }
    case 'csharp': {
      // `CartService.CartServiceClient _client`, `new CartService.CartServiceClient(channel)`.
      for (const m of source.matchAll(/\b(?:\w+\.)?(\w+)Client\s+([A-Za-z_]\w*)\s*[;=,)]/g)) stub(m[2], m[1]);
      for (const m of source.matchAll(/\b([A-Za-z_]\w*)\s*=\s*new\s+(?:\w+\.)?(\w+)Client\s*\(/g)) stub(m[1], m[2]);
      for (const m of source.matchAll(/\bclass\s+([A-Za-z_]\w*)[^{;]*?:\s*([^{]+)\{/g)) {
        const b = /(?:^|[\s,.])(\w+)Base\b/.exec(m[2]!);
        if (b) server(m[1], b[1]);
      }
      break;
    }
    default: {
      // TypeScript/JavaScript.
      for (const m of source.matchAll(/(?:\b(?:const|let|var)\s+|\bthis\.|^\s*(?:(?:private|public|protected|readonly|static)\s+)*)([\w$]+)\s*(?::[^=\n]+)?=\s*new\s+([\w$.]+)\s*\(/gm)) stub(m[1], m[2]);
      // Declared with a generated client type (constructor parameter properties, fields, parameters): `cart: CartServiceClient`.
      for (const m of source.matchAll(/\b([\w$]+)\s*[?!]?\s*:\s*(?:[\w$]+\.)*(\w+Client)\b/g)) stub(m[1], m[2]);
      facts.handlers = nodeHandlers(source);
    }
  }
  return facts;
}

/** The proto services by the names code spells them with. */
export class ProtoIndex {
  private readonly bySimple = new Map<string, ProtoService[]>();
  private readonly byFull = new Map<string, ProtoService>();

  constructor(readonly services: readonly ProtoService[]) {
    for (const s of services) {
      this.byFull.set(s.fullName, s);
      this.bySimple.set(s.name, [...(this.bySimple.get(s.name) ?? []), s]);
    }
  }

  get size(): number {
    return this.services.length;
  }

  /**
   * The service a code name refers to: a full name (`shop.cart.CartService`), a path ending in one
   * (`proto.shop.cart.CartService`), or a simple name with the suffixes generated code adds
   * (`CartServiceClient`, `CartServiceService`); a simple name two packages share is ambiguous.
   */
  lookup(name: string): ProtoService | undefined {
    const path = name.replace(/\.service$/, '');
    const segs = path.split('.');
    for (let i = 0; i < segs.length; i++) {
      const full = this.byFull.get(segs.slice(i).join('.'));
      if (full) return full;
    }
    const last = segs[segs.length - 1]!;
    for (const cand of [last, last.replace(/Client$/, ''), last.replace(/Service$/, '')]) {
      const found = this.bySimple.get(cand);
      if (found?.length === 1) return found[0];
    }
    return undefined;
  }
}

/** The proto method a code spelling names: `AddItem`, `addItem` (Java, Node.js), `AddItemAsync` (C#). */
function methodNamed(svc: ProtoService, spelled: string, language: FileCscfg['language']): ProtoMethod | undefined {
  const exact = svc.methods.find((m) => m.name === spelled);
  if (exact) return exact;
  if (language === 'csharp' && spelled.endsWith('Async')) return svc.methods.find((m) => m.name === spelled.slice(0, -5));
  if (language === 'java' || language === 'typescript' || language === 'tsx' || language === 'javascript') return svc.methods.find((m) => lcfirst(m.name) === spelled);
  return undefined;
}

function streaming(m: ProtoMethod): GrpcSpan['streaming'] | undefined {
  if (m.clientStreaming && m.serverStreaming) return 'bidi';
  if (m.clientStreaming) return 'client';
  if (m.serverStreaming) return 'server';
  return undefined;
}

/** A stub constructed on the spot and called at once, per language: the service's name as spelled. */
const INLINE_STUBS: Partial<Record<FileCscfg['language'], RegExp>> = {
  go: /\bNew(\w+)Client\s*\([^()]*\)$/,
  python: /(?:^|\.)(\w+)Stub\s*\([^()]*\)$/,
  java: /\b(\w+)Grpc\.new\w*Stub\s*\([^()]*\)$/,
  csharp: /\bnew\s+(?:\w+\.)?(\w+)Client\s*\([^()]*\)$/,
};

/** Python stubs' call forms: `stub.M(req)`, `stub.M.future(req)`, `stub.M.with_call(req)`. */
const PY_CALL_FORMS = new Set(['future', 'with_call']);

/**
 * The stub call a call site makes, if it is one: the receiver's binding (a stub variable or field,
 * or the stub constructed on the spot) and the method.
 */
function stubCall(site: CallSite, language: FileCscfg['language'], stubs: (name: string) => string | undefined, protos: ProtoIndex): { svc: ProtoService; method: ProtoMethod } | undefined {
  let parts = site.callee.split('.');
  if (language === 'python' && parts.length > 2 && PY_CALL_FORMS.has(parts[parts.length - 1]!)) parts = parts.slice(0, -1);
  if (parts.length < 2) return undefined;
  const spelled = parts[parts.length - 1]!;
  const receiverText = parts.slice(0, -1).join('.');
  let bound: string | undefined;
  // A stub constructed on the spot: `pb.NewXClient(conn).M(...)`, `x_pb2_grpc.XStub(ch).M(...)`.
  const inline = receiverText.endsWith(')') ? INLINE_STUBS[language]?.exec(receiverText) : undefined;
  if (inline) bound = inline[1];
  else {
    const receiver = parts[parts.length - 2]!.replace(/\(\)$/, '');
    bound = stubs(receiver);
  }
  if (!bound) return undefined;
  const svc = protos.lookup(bound);
  if (!svc) return undefined;
  const method = methodNamed(svc, spelled, language);
  return method ? { svc, method } : undefined;
}

/**
 * The gRPC SERVER and CLIENT spans of one service's files. `facts` are the files' bindings (a
 * binding made in one file, like an exported client, is seen from the others), `protos` every proto
 * service the analysis read.
 */
export function mapGrpcSpans(files: readonly FileCscfg[], facts: readonly GrpcFileFacts[], protos: ProtoIndex): GrpcSpan[] {
  if (protos.size === 0) return [];
  const out: GrpcSpan[] = [];
  const serviceStubs = new Map<string, string>();
  const serviceServers = new Map<string, string>();
  for (const f of facts) {
    for (const [k, v] of f.stubs) if (protos.lookup(v)) serviceStubs.set(k, v);
    for (const [k, v] of f.servers) if (protos.lookup(v)) serviceServers.set(k, v);
  }
  // Python: `Checkout(cart_stub)` with `self.cart = cart` in `__init__` binds the attribute.
  const params = new Map<string, string[]>();
  const attributes = new Map<string, Map<string, string>>();
  for (const f of facts) {
    for (const [k, v] of f.injection?.params ?? []) params.set(k, v);
    for (const [k, v] of f.injection?.attributes ?? []) attributes.set(k, v);
  }
  for (const f of facts) {
    for (const c of f.injection?.constructions ?? []) {
      const ps = params.get(c.cls);
      const attrs = attributes.get(c.cls);
      c.args.forEach((arg, i) => {
        const svc = f.stubs.get(arg) ?? serviceStubs.get(arg);
        const param = ps?.[i];
        if (!svc || !param || !attrs || !protos.lookup(svc)) return;
        for (const [attr, from] of attrs) if (from === param && !serviceStubs.has(attr)) serviceStubs.set(attr, svc);
      });
    }
  }
  const factsByFile = new Map(facts.map((f) => [f.file, f]));
  const simpleClass = (c: string): string => c.slice(c.lastIndexOf('.') + 1);
  for (const fc of files) {
    const own = factsByFile.get(fc.file);
    const stubs = (name: string): string | undefined => {
      const local = own?.stubs.get(name);
      return local && protos.lookup(local) ? local : serviceStubs.get(name);
    };
    for (const fn of fc.functions) {
      // Servers: a method of a type bound to a proto service, named as a method of that service.
      const cls = fn.className;
      if (cls && fn.form === 'method') {
        const bound = serviceServers.get(cls) ?? serviceServers.get(simpleClass(cls));
        const svc = bound ? protos.lookup(bound) : undefined;
        const spelled = fn.name.slice(cls.length + 1);
        const method = svc ? methodNamed(svc, spelled, fc.language) : undefined;
        if (svc && method) {
          const s = streaming(method);
          out.push({ spanName: `${svc.fullName}/${method.name}`, language: fc.language, kind: 'server', functionName: fn.name, functionLine: fn.line, file: fc.file, line: fn.line, target: fn.name, rpcService: svc.fullName, rpcMethod: method.name, ...(s ? { streaming: s } : {}) });
        }
      }
      for (const site of callSites(fn)) {
        const hit = stubCall(site, fc.language, stubs, protos);
        if (!hit) continue;
        const s = streaming(hit.method);
        out.push({ spanName: `${hit.svc.fullName}/${hit.method.name}`, language: fc.language, kind: 'client', functionName: fn.name, functionLine: fn.line, file: fc.file, line: site.line, target: site.callee, rpcService: hit.svc.fullName, rpcMethod: hit.method.name, ...(s ? { streaming: s } : {}) });
      }
    }
  }
  // Node.js: handlers bound by addService, looked up in the registering file first, then the service.
  for (const f of facts) {
    for (const h of f.handlers) {
      if (h.key === '*') {
        // A class instance: each method named as an rpc (either spelling) is that rpc's handler.
        const svc = protos.lookup(h.service);
        if (!svc || !h.handler) continue;
        for (const fc of files) {
          for (const fn of fc.functions) {
            if (fn.className !== h.handler) continue;
            const method = methodNamed(svc, fn.name.slice(h.handler.length + 1), 'javascript');
            if (!method) continue;
            const s = streaming(method);
            out.push({ spanName: `${svc.fullName}/${method.name}`, language: fc.language, kind: 'server', functionName: fn.name, functionLine: fn.line, file: fc.file, line: fn.line, target: `addService(${h.service}).${method.name}`, rpcService: svc.fullName, rpcMethod: method.name, ...(s ? { streaming: s } : {}) });
          }
        }
        continue;
      }
      const svc = protos.lookup(h.service);
      const method = svc ? methodNamed(svc, h.key, 'javascript') : undefined;
      if (!svc || !method || !h.handler) continue;
      const name = h.handler;
      const candidates = files.flatMap((fc) => fc.functions.filter((fn) => fn.name === name || fn.name.endsWith(`.${name}`)).map((fn) => ({ fc, fn })));
      const found = candidates.find((c) => c.fc.file === f.file && c.fn.line === h.line) ?? candidates.find((c) => c.fc.file === f.file && c.fn.name === name) ?? candidates.find((c) => c.fn.name === name) ?? candidates[0];
      if (!found) continue;
      const s = streaming(method);
      out.push({ spanName: `${svc.fullName}/${method.name}`, language: found.fc.language, kind: 'server', functionName: found.fn.name, functionLine: found.fn.line, file: found.fc.file, line: h.line, target: `addService(${h.service}).${h.key}`, rpcService: svc.fullName, rpcMethod: method.name, ...(s ? { streaming: s } : {}) });
    }
  }
  return out;
}

/**
 * The names the language's own OpenTelemetry gRPC instrumentation gives a method's spans besides
 * `<package>.<Service>/<Method>` (what Go otelgrpc, the Java agent and .NET use): Node.js
 * `@opentelemetry/instrumentation-grpc` prefixes `grpc.`, Python's instrumentation keeps the method
 * path's leading slash.
 */
export function instrumentationNames(spanName: string, language: FileCscfg['language']): string[] {
  if (language === 'typescript' || language === 'tsx' || language === 'javascript') return [`grpc.${spanName}`];
  if (language === 'python') return [`/${spanName}`];
  return [];
}
