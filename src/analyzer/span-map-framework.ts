// Framework spans of Java services (issue 5, item 3): spans the OpenTelemetry Java agent produces in
// framework code that is not in the analyzed source, tied to the service by its build file's
// dependencies and to the service's own code where there is one:
//  - Spring Boot's error controller, `BasicErrorController.error` and its route `/error`, in servlet
//    web applications (spring-boot-starter-web, or spring-webmvc), tied to the application's `main`;
//  - Spring Cloud Gateway (spring-cloud-starter-gateway): `FilteringWebHandler.handle`, the route
//    `/*` every request is served under, and the `HTTP <VERB>` client spans of the forwarded
//    requests; a gateway runs on the reactive stack, so it has no servlet error controller;
//  - RabbitMQ (spring-boot-starter-amqp, spring-rabbit): `<queue> process` at each `@RabbitListener`
//    method and `<exchange> send` (`<default>` for the default exchange) at each
//    RabbitTemplate/AmqpTemplate `convertAndSend`/`send` call site; queue and exchange names are
//    string literals or the service's string constants (`Queues.queueName`).
// Build files are read as text: Maven `pom.xml` (its `<dependencies>`, and its parent pom's when the
// parent is the pom one folder up, as Maven's default relativePath has it) and Gradle
// `build.gradle(.kts)` dependency strings `group:artifact[:version]`.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Node } from 'web-tree-sitter';
import { callSites } from './cscfg.js';
import type { JavaAnnotation, JavaClass, JavaFileCscfg, JavaFunction } from './java.js';
import { withSyntaxTree } from './languages.js';
import type { JavaSpanKind } from './span-map-java.js';

/** A dependency of the service's build: the artifact id and where it is declared. */
export interface BuildDependency {
  artifact: string;
  file: string;
  line: number;
}

export interface FrameworkSpan {
  spanName: string;
  kind: JavaSpanKind;
  service: string;
  /** `Class.method` of the tied function: the application's `main`, the listener, the sending caller. */
  function?: string;
  file: string;
  line: number;
  via: 'framework' | 'messaging';
  /** Framework spans: the framework code producing it (`BasicErrorController.error`); messaging: the call or annotation. */
  target?: string;
  /** The build dependency that brings the framework in. */
  dependency: string;
  httpMethod?: string;
  /** Messaging: the queue a listener consumes, or the routing key a send uses (when static). */
  queue?: string;
  /** Messaging sends: the exchange, `''` for the default exchange (which routes to the queue named by the routing key). */
  exchange?: string;
}

const posix = (p: string): string => p.split(path.sep).join('/');

const lineAt = (text: string, index: number): number => text.slice(0, index).split('\n').length;

/** Blanks out `<tag>...</tag>` sections (keeping line numbers) so their contents are not read. */
function blank(text: string, tag: string): string {
  return text.replace(new RegExp(`<${tag}>[\\s\\S]*?</${tag}>`, 'g'), (m) => m.replace(/[^\n]/g, ' '));
}

/** The dependencies a pom declares (not dependencyManagement, not plugins). */
function pomDependencies(text: string, file: string): BuildDependency[] {
  const body = blank(blank(blank(text, 'dependencyManagement'), 'build'), 'parent');
  const out: BuildDependency[] = [];
  for (const block of body.matchAll(/<dependencies>([\s\S]*?)<\/dependencies>/g)) {
    const start = block.index! + '<dependencies>'.length;
    for (const a of block[1]!.matchAll(/<artifactId>\s*([^<\s]+)\s*<\/artifactId>/g)) out.push({ artifact: a[1]!, file, line: lineAt(text, start + a.index!) });
  }
  return out;
}

/** The pom's own artifactId (outside `<parent>`, `<dependencies>`, `<build>`). */
function pomArtifact(text: string): string | undefined {
  const body = blank(blank(blank(blank(text, 'parent'), 'dependencies'), 'build'), 'dependencyManagement');
  return /<artifactId>\s*([^<\s]+)\s*<\/artifactId>/.exec(body)?.[1];
}

const readText = (file: string): Promise<string | undefined> => readFile(file, 'utf8').catch(() => undefined);

/** The build dependencies of the service whose root folder is `dir` (an empty list without a build file). */
export async function readBuildDependencies(dir: string): Promise<BuildDependency[]> {
  const out: BuildDependency[] = [];
  const pomFile = path.join(dir, 'pom.xml');
  const pom = await readText(pomFile);
  if (pom !== undefined) {
    out.push(...pomDependencies(pom, posix(pomFile)));
    const parent = /<parent>([\s\S]*?)<\/parent>/.exec(pom)?.[1];
    const parentArtifact = parent ? /<artifactId>\s*([^<\s]+)\s*<\/artifactId>/.exec(parent)?.[1] : undefined;
    if (parent && parentArtifact) {
      const rel = /<relativePath>\s*([^<\s]*)\s*<\/relativePath>/.exec(parent)?.[1] ?? '../pom.xml';
      if (rel !== '') {
        const parentPom = await readText(path.resolve(dir, rel.endsWith('.xml') ? rel : path.join(rel, 'pom.xml')));
        // Inherited only from the parent the pom names (Maven checks the coordinates too).
        const parentFile = posix(path.join(dir, rel.endsWith('.xml') ? rel : path.join(rel, 'pom.xml')));
        if (parentPom !== undefined && pomArtifact(parentPom) === parentArtifact) out.push(...pomDependencies(parentPom, parentFile));
      }
    }
  }
  for (const name of ['build.gradle', 'build.gradle.kts']) {
    const file = path.join(dir, name);
    const text = await readText(file);
    if (text === undefined) continue;
    for (const m of text.matchAll(/["']([\w.-]+):([\w.-]+)(?::[^"']*)?["']/g)) out.push({ artifact: m[2]!, file: posix(file), line: lineAt(text, m.index!) });
  }
  return out;
}

const annotationName = (a: JavaAnnotation): string => a.name.slice(a.name.lastIndexOf('.') + 1);
const simpleName = (type: string): string => {
  const t = type.replace(/<.*$/s, '').trim();
  return t.slice(t.lastIndexOf('.') + 1);
};
const lastTwo = (name: string): string => name.split('.').slice(-2).join('.');

const SERVLET_WEB = ['spring-boot-starter-web', 'spring-webmvc'];
const GATEWAY = ['spring-cloud-starter-gateway', 'spring-cloud-gateway-server', 'spring-cloud-starter-gateway-server-webflux'];
const RABBIT = ['spring-boot-starter-amqp', 'spring-rabbit', 'spring-amqp'];
const RABBIT_TEMPLATES = new Set(['RabbitTemplate', 'AmqpTemplate', 'RabbitOperations', 'AmqpAdmin', 'RabbitMessagingTemplate']);
const RABBIT_SENDS = new Set(['convertAndSend', 'send', 'convertSendAndReceive', 'sendAndReceive']);
/** The verbs a gateway forwards; the agent names each client span `HTTP <VERB>`. */
const GATEWAY_VERBS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];

export interface FrameworkInput {
  service: string;
  dependencies: readonly BuildDependency[];
  files: readonly JavaFileCscfg[];
  /** Source texts by file, for the arguments of RabbitTemplate calls (files without one are skipped). */
  sources?: ReadonlyMap<string, string>;
}

/** The framework and messaging spans of one Java service. */
export async function mapFrameworkSpans(input: FrameworkInput): Promise<FrameworkSpan[]> {
  const { service, dependencies, files } = input;
  const dep = (names: readonly string[]): BuildDependency | undefined => dependencies.find((d) => names.includes(d.artifact));
  const out: FrameworkSpan[] = [];
  const isTest = (f: string): boolean => /(^|\/)src\/test\//.test(f);
  const main = files.filter((f) => !isTest(f.file)).flatMap((file) => {
    const app = file.classes.find((c) => c.annotations.some((a) => ['SpringBootApplication', 'EnableAutoConfiguration'].includes(annotationName(a))));
    const fn = app && file.functions.find((f) => f.className === app.name && f.name.endsWith('.main') && f.static);
    return app ? [{ file, app, fn }] : [];
  })[0];
  const tie = (d: BuildDependency): Pick<FrameworkSpan, 'function' | 'file' | 'line'> =>
    main?.fn ? { function: lastTwo(main.fn.name), file: main.file.file, line: main.fn.line } : main ? { file: main.file.file, line: main.app.line } : { file: d.file, line: d.line };

  // Web frameworks run only in an application (a library module like a shared `common` has none).
  const gateway = dep(GATEWAY);
  const web = dep(SERVLET_WEB);
  if (main && gateway) {
    const at = tie(gateway);
    out.push({ spanName: 'FilteringWebHandler.handle', kind: 'internal', service, ...at, via: 'framework', target: 'FilteringWebHandler.handle', dependency: gateway.artifact });
    out.push({ spanName: '/*', kind: 'server', service, ...at, via: 'framework', target: 'DispatcherHandler', dependency: gateway.artifact });
    for (const verb of GATEWAY_VERBS) out.push({ spanName: `HTTP ${verb}`, kind: 'client', service, ...at, via: 'framework', target: 'NettyRoutingFilter', dependency: gateway.artifact, httpMethod: verb });
  } else if (main && web) {
    const at = tie(web);
    out.push({ spanName: 'BasicErrorController.error', kind: 'internal', service, ...at, via: 'framework', target: 'BasicErrorController.error', dependency: web.artifact });
    out.push({ spanName: '/error', kind: 'server', service, ...at, via: 'framework', target: 'BasicErrorController.error', dependency: web.artifact });
  }

  const rabbit = dep(RABBIT);
  if (!rabbit) return out;
  const classes = files.flatMap((f) => f.classes);
  /** A queue or exchange name: a string literal, or a string constant `Class.NAME` / `NAME` of the service. */
  const constant = (expr: string, own: JavaClass | undefined): string | undefined => {
    const t = expr.trim();
    const lit = /^"((?:[^"\\]|\\.)*)"$/.exec(t);
    if (lit) return lit[1];
    const m = /^(?:([\w.]+)\.)?([A-Za-z_$][\w$]*)$/.exec(t);
    if (!m) return undefined;
    const owners = m[1] ? classes.filter((c) => c.name.split('.').pop() === simpleName(m[1]!)) : [...(own ? [own] : []), ...classes];
    for (const c of owners) {
      const f = c.fields.find((x) => x.name === m[2] && x.value !== undefined);
      if (f) return f.value;
    }
    return undefined;
  };
  for (const file of files) {
    if (isTest(file.file)) continue;
    const classByName = new Map(file.classes.map((c) => [c.name, c]));
    for (const fn of file.functions as JavaFunction[]) {
      const cls = fn.className ? classByName.get(fn.className) : undefined;
      // `@RabbitListener` on the method, or on the class with `@RabbitHandler` methods.
      const listener =
        fn.annotations.find((a) => annotationName(a) === 'RabbitListener') ??
        (fn.annotations.some((a) => annotationName(a) === 'RabbitHandler') ? cls?.annotations.find((a) => annotationName(a) === 'RabbitListener') : undefined);
      if (!listener || fn.javaKind !== 'method') continue;
      const raw = listener.elements?.queues ?? listener.elements?.value ?? (listener.firstString !== undefined ? JSON.stringify(listener.firstString) : undefined);
      const exprs = raw ? raw.replace(/^\{|\}$/g, '').split(',').filter((x) => x.trim() !== '') : [];
      for (const e of exprs) {
        const queue = constant(e, cls);
        if (queue === undefined) continue;
        out.push({ spanName: `${queue} process`, kind: 'server', service, function: lastTwo(fn.name), file: file.file, line: fn.line, via: 'messaging', target: `@RabbitListener(${e.trim()})`, dependency: rabbit.artifact, queue });
      }
    }
  }
  for (const file of files) {
    if (isTest(file.file)) continue;
    const source = input.sources?.get(file.file);
    let args: Map<string, string[]> | undefined;
    const classByName = new Map(file.classes.map((c) => [c.name, c]));
    for (const fn of file.functions as JavaFunction[]) {
      const cls = fn.className ? classByName.get(fn.className) : undefined;
      for (const site of callSites(fn)) {
        const dot = site.callee.lastIndexOf('.');
        if (dot < 0 || !RABBIT_SENDS.has(site.callee.slice(dot + 1))) continue;
        const receiver = site.callee.slice(0, dot).replace(/^this\./, '');
        const type = fn.variables?.[receiver] ?? cls?.fields.find((f) => f.name === receiver)?.type;
        if (!type || !RABBIT_TEMPLATES.has(simpleName(type))) continue;
        if (source && !args) args = await callArguments(source);
        const a = args?.get(`${site.line}:${site.column}`) ?? [];
        // (exchange, routingKey, message, ...) names the exchange; (routingKey, message) and
        // (message) go through the template's default exchange.
        const argc = site.args ?? a.length;
        const exchange = argc >= 3 && a[0] !== undefined ? constant(a[0], cls) : '';
        if (exchange === undefined) continue;
        // The routing key: the first of (routingKey, message), the second of (exchange, routingKey, message).
        const keyExpr = argc >= 3 ? a[1] : argc === 2 ? a[0] : undefined;
        const routingKey = keyExpr !== undefined ? constant(keyExpr, cls) : undefined;
        out.push({
          spanName: `${exchange === '' ? '<default>' : exchange} send`,
          kind: 'client',
          service,
          function: lastTwo(fn.name.replace(/\.<lambda@\d+>$/, '')),
          file: file.file,
          line: site.line,
          via: 'messaging',
          target: `${simpleName(type)}.${site.callee.slice(dot + 1)}`,
          dependency: rabbit.artifact,
          exchange,
          ...(routingKey !== undefined ? { queue: routingKey } : {}),
        });
      }
    }
  }
  return out;
}

/** Argument texts of every method call in a Java source, by `line:column`. */
async function callArguments(source: string): Promise<Map<string, string[]>> {
  return withSyntaxTree('java', 'source', source, (root) => {
    const out = new Map<string, string[]>();
    for (const n of root.descendantsOfType('method_invocation') as Node[]) {
      const args = (n.childForFieldName('arguments')?.namedChildren ?? []).filter((a) => !a.type.endsWith('comment'));
      out.set(`${n.startPosition.row + 1}:${n.startPosition.column}`, args.map((a) => a.text.replace(/\s+/g, ' ')));
    }
    return out;
  });
}
