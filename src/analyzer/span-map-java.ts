// Span mapping for Java services (issue 5, item 3): which functions of the analyzed Java code produce
// which spans of the OpenTelemetry Java agent, and how each mapping was found.
//
//  - `Class.method` INTERNAL spans of Spring `@RestController`/`@Controller` methods (via `controller`),
//    of Spring Data repository interfaces' declared methods (via `repository`) and of the inherited
//    CrudRepository/JpaRepository methods at the call sites that invoke them (via
//    `inherited-repository`), and of `@WithSpan` methods (via `with-span`);
//  - HTTP route templates of SERVER spans: class `@RequestMapping` path + method mapping path (via `route`);
//  - `HTTP <VERB>` CLIENT spans at RestTemplate call sites, with the URL as written (via `http-client`);
//  - SQL CLIENT spans at repository call sites, named by the statement verb only (via `sql`).
//
// One record per mapping. Call-site records name the calling function in `function` and the line of
// the call; `target` names what is called (`OrderRepository.save`, `RestTemplate.exchange`).
import { relative, sep } from 'node:path';
import type { Node } from 'web-tree-sitter';
import type { JavaAnnotation, JavaClass, JavaFileCscfg, JavaFunction } from './java.js';
import { callSites } from './cscfg.js';
import { withSyntaxTree } from './languages.js';

export type JavaSpanKind = 'server' | 'internal' | 'client';
export type JavaSpanVia = 'controller' | 'repository' | 'inherited-repository' | 'with-span' | 'route' | 'http-client' | 'sql';

export interface JavaSpanMapping {
  /** `OrderController.getOrder`, `/api/v1/orderservice/order/{orderId}`, `HTTP POST`, `SELECT`. */
  spanName: string;
  kind: JavaSpanKind;
  service: string;
  /** The producing function as `Class.method` (nested classes by their simple name); for call sites, the caller. */
  function: string;
  file: string;
  line: number;
  via: JavaSpanVia;
  /** Call-site mappings: what is called, `OrderRepository.save`, `RestTemplate.exchange`. */
  target?: string;
  /** Routes and HTTP clients: the HTTP method (`GET`, ...); absent when a route accepts any method or a client's verb is not static. */
  httpMethod?: string;
  /** HTTP clients: the URL argument as written; literals kept, other operands as `${expr}`. */
  url?: string;
  /**
   * HTTP clients, when it differs from `url`: the URL with variables replaced by what the method (or
   * the class, for fields) last assigned to them before the call, up to three levels
   * (`${stations}` becomes `${station_service_url}/api/v1/stationservice/stations`).
   */
  urlExpanded?: string;
}

/** The analyzed files of one service. */
export interface JavaServiceFiles {
  service: string;
  files: readonly JavaFileCscfg[];
}

export interface JavaSpanMapOptions {
  /**
   * Source texts by file path (as in `JavaFileCscfg.file`). With them, RestTemplate calls get their
   * `HttpMethod.X` argument and URLs that do not start with a literal; without, the verb comes from
   * the method name only (`getForObject` is GET, `exchange` stays unknown).
   */
  sources?: ReadonlyMap<string, string>;
  /** Files under `src/test/` (unit tests, mocks) are skipped unless this is set. */
  includeTests?: boolean;
}

/** Spring Data base interfaces whose extension makes a repository. */
export const SPRING_DATA_BASES: ReadonlySet<string> = new Set([
  'Repository',
  'CrudRepository',
  'ListCrudRepository',
  'PagingAndSortingRepository',
  'ListPagingAndSortingRepository',
  'JpaRepository',
  'MongoRepository',
  'ReactiveCrudRepository',
  'ReactiveMongoRepository',
]);

/** Methods repositories inherit from CrudRepository/JpaRepository/MongoRepository. */
export const INHERITED_REPOSITORY_METHODS: ReadonlySet<string> = new Set([
  'save',
  'saveAll',
  'saveAndFlush',
  'findById',
  'findAll',
  'findAllById',
  'findOne',
  'getOne',
  'getById',
  'getReferenceById',
  'delete',
  'deleteById',
  'deleteAll',
  'deleteAllById',
  'deleteInBatch',
  'deleteAllInBatch',
  'count',
  'existsById',
  'exists',
  'flush',
  'insert',
]);

const MAPPING_VERBS: Record<string, string | undefined> = {
  GetMapping: 'GET',
  PostMapping: 'POST',
  PutMapping: 'PUT',
  DeleteMapping: 'DELETE',
  PatchMapping: 'PATCH',
  RequestMapping: undefined,
};

/** RestTemplate methods and the verb they send (`exchange`/`execute` take it as an argument). */
const REST_TEMPLATE_VERBS: Record<string, string | undefined> = {
  getForObject: 'GET',
  getForEntity: 'GET',
  postForObject: 'POST',
  postForEntity: 'POST',
  postForLocation: 'POST',
  put: 'PUT',
  delete: 'DELETE',
  patchForObject: 'PATCH',
  headForHeaders: 'HEAD',
  optionsForAllow: 'OPTIONS',
  exchange: undefined,
  execute: undefined,
};

/** The simple name of a type as written: `org.x.JpaRepository<Order, String>` is `JpaRepository`. */
export function simpleTypeName(type: string): string {
  const noArgs = type.replace(/<.*$/s, '').trim();
  return noArgs.slice(noArgs.lastIndexOf('.') + 1);
}

const annotationName = (a: JavaAnnotation): string => a.name.slice(a.name.lastIndexOf('.') + 1);
const hasAnnotation = (anns: readonly JavaAnnotation[], ...names: string[]): JavaAnnotation | undefined =>
  anns.find((a) => names.includes(annotationName(a)));
/** `Outer.Inner.method` is `Inner.method`: the agent names spans by the simple class name. */
const lastTwo = (name: string): string => name.split('.').slice(-2).join('.');

/** All string literals of an annotation element's source text (`{"/a", "/b"}` gives both). */
function stringsOf(text: string | undefined): string[] {
  if (!text) return [];
  return [...text.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
}

/** The paths of a mapping annotation: `value`/`path` elements, else its first string, else `''`. */
function mappingPaths(a: JavaAnnotation): string[] {
  const fromElements = [...stringsOf(a.elements?.value), ...stringsOf(a.elements?.path)];
  if (fromElements.length > 0) return fromElements;
  if (a.firstString !== undefined && !a.elements?.value && !a.elements?.path) return [a.firstString];
  return a.firstString !== undefined ? [a.firstString] : [''];
}

/** Joins route parts with exactly one `/` between them and a leading `/`; `{var}` templates stay. */
export function joinRoute(...parts: string[]): string {
  const segs = parts.map((p) => p.trim().replace(/^\/+|\/+$/g, '')).filter((p) => p !== '');
  return '/' + segs.join('/');
}

function mappingVerbs(a: JavaAnnotation): (string | undefined)[] {
  const n = annotationName(a);
  const fixed = MAPPING_VERBS[n];
  if (fixed) return [fixed];
  const m = a.elements?.method;
  if (!m) return [undefined];
  const verbs = [...m.matchAll(/\b(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS|TRACE)\b/g)].map((x) => x[1]!);
  return verbs.length > 0 ? verbs : [undefined];
}

/** The service of a file: the first path segment below `root` (`ts-order-service`). */
export function serviceOfPath(file: string, root: string): string {
  const rel = relative(root, file);
  const first = rel.split(sep)[0] ?? rel;
  return first === '' || first.startsWith('..') ? root : first;
}

/** Groups analyzed files by the top-level folder below `root` they are in. */
export function groupByService(files: readonly JavaFileCscfg[], root: string): JavaServiceFiles[] {
  const by = new Map<string, JavaFileCscfg[]>();
  for (const f of files) {
    const s = serviceOfPath(f.file, root);
    by.set(s, [...(by.get(s) ?? []), f]);
  }
  return [...by].map(([service, fs]) => ({ service, files: fs }));
}

const isTestFile = (file: string): boolean => /(^|[\\/])src[\\/]test[\\/]/.test(file);

interface ClassInfo {
  cls: JavaClass;
  file: JavaFileCscfg;
}

/** Calls' argument details from the source: key `line:column:method`. */
interface CallArgs {
  verb?: string;
  url?: string;
  urlExpanded?: string;
}

function unwrap(n: Node): Node {
  let cur = n;
  while (cur.type === 'parenthesized_expression' && cur.namedChildren[0]) cur = cur.namedChildren[0];
  return cur;
}

function concatParts(n: Node): Node[] {
  const u = unwrap(n);
  if (u.type === 'binary_expression' && u.childForFieldName('operator')?.text === '+') {
    const l = u.childForFieldName('left');
    const r = u.childForFieldName('right');
    if (l && r) return [...concatParts(l), ...concatParts(r)];
  }
  return [u];
}

/** A URL expression as a template: literals as written, other operands `${expr}`. */
function urlTemplate(n: Node): string {
  return concatParts(n)
    .map((o) => (o.type === 'string_literal' ? o.text.slice(1, -1) : `\${${o.text.replace(/\s+/g, ' ').trim()}}`))
    .join('');
}

const SCOPES = new Set(['method_declaration', 'constructor_declaration', 'lambda_expression', 'class_body']);

/**
 * The value last given to variable `name` before `before` (a local declaration or assignment in the
 * enclosing method, else a field initializer of the enclosing class).
 */
function lastValue(name: string, before: Node): Node | undefined {
  for (let scope = before.parent; scope; scope = scope.parent) {
    if (!SCOPES.has(scope.type)) continue;
    let best: Node | undefined;
    const kinds = scope.type === 'class_body' ? ['field_declaration'] : ['local_variable_declaration', 'assignment_expression'];
    for (const d of scope.descendantsOfType(kinds)) {
      if (!d || d.startIndex >= before.startIndex) continue;
      if (d.type === 'assignment_expression') {
        if (d.childForFieldName('left')?.text === name && d.childForFieldName('operator')?.text === '=') best = d.childForFieldName('right') ?? best;
        continue;
      }
      for (const decl of d.childrenForFieldName('declarator')) if (decl.childForFieldName('name')?.text === name && decl.childForFieldName('value')) best = decl.childForFieldName('value')!;
    }
    if (best) return best;
    if (scope.type === 'class_body') return undefined;
  }
  return undefined;
}

/** `urlTemplate` with identifiers replaced by the values they were last given (three levels deep). */
function expandedTemplate(n: Node, at: Node, depth = 0): string {
  return concatParts(n)
    .map((o) => {
      if (o.type === 'string_literal') return o.text.slice(1, -1);
      if (depth < 3 && (o.type === 'identifier' || (o.type === 'field_access' && o.childForFieldName('object')?.type === 'this'))) {
        const name = o.type === 'identifier' ? o.text : o.childForFieldName('field')!.text;
        const v = lastValue(name, at);
        if (v) return expandedTemplate(v, v, depth + 1);
      }
      return `\${${o.text.replace(/\s+/g, ' ').trim()}}`;
    })
    .join('');
}

async function restTemplateArgs(source: string): Promise<Map<string, CallArgs>> {
  // The shared Java parser: one per process, not one per file.
  return withSyntaxTree('java', 'source', source, (root) => {
    const out = new Map<string, CallArgs>();
    for (const n of root.descendantsOfType('method_invocation')) {
      const name = n.childForFieldName('name')?.text;
      if (!name || !(name in REST_TEMPLATE_VERBS)) continue;
      const args = (n.childForFieldName('arguments')?.namedChildren ?? []).filter((a) => !a.type.endsWith('comment'));
      const info: CallArgs = {};
      if (args[0]) {
        info.url = urlTemplate(args[0]);
        const expanded = expandedTemplate(args[0], n);
        if (expanded !== info.url) info.urlExpanded = expanded;
      }
      if ((name === 'exchange' || name === 'execute') && args[1]) {
        const m = /\b(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS|TRACE)$/.exec(args[1].text.trim());
        if (m) info.verb = m[1];
      }
      out.set(`${n.startPosition.row + 1}:${n.startPosition.column}:${name}`, info);
    }
    return out;
  });
}

/**
 * SQL statement verbs a repository method issues, by its name (Spring Data's query derivation). JPA's
 * `save` of an entity with an assigned id merges (a SELECT, then INSERT or UPDATE), and `delete*`
 * loads before it removes (SELECT, DELETE).
 */
export function sqlVerbsOf(method: string): string[] {
  if (/^(save|insert)/.test(method)) return ['SELECT', 'INSERT', 'UPDATE'];
  if (/^(delete|remove)/.test(method)) return ['SELECT', 'DELETE'];
  if (/^(update|modify)/.test(method)) return ['UPDATE'];
  if (method === 'flush') return [];
  return ['SELECT'];
}

/**
 * The span-name -> producing-function map of Java services. `input` is the analyzed files grouped
 * by service (see `groupByService`); a repository field's type is resolved among the classes of the
 * same service first, then of all services.
 */
export async function mapJavaSpans(input: readonly JavaServiceFiles[], options: JavaSpanMapOptions = {}): Promise<JavaSpanMapping[]> {
  const out: JavaSpanMapping[] = [];
  const groups = input.map((g) => ({ service: g.service, files: g.files.filter((f) => options.includeTests || !isTestFile(f.file)) }));

  // Classes by simple name, per service and overall.
  const classesOf = (files: readonly JavaFileCscfg[]): Map<string, ClassInfo> => {
    const m = new Map<string, ClassInfo>();
    for (const file of files) for (const cls of file.classes) m.set(lastTwo(cls.name).split('.').pop()!, { cls, file });
    return m;
  };
  const allClasses = classesOf(groups.flatMap((g) => g.files));

  const repoMemo = new Map<JavaClass, boolean>();
  const isRepository = (cls: JavaClass, lookup: Map<string, ClassInfo>, depth = 0): boolean => {
    const known = repoMemo.get(cls);
    if (known !== undefined) return known;
    let r = false;
    if (hasAnnotation(cls.annotations, 'Repository', 'RepositoryDefinition')) r = true;
    else if (depth < 8) {
      for (const base of [...cls.interfaces, ...(cls.superclass ? [cls.superclass] : [])]) {
        const s = simpleTypeName(base);
        const local = lookup.get(s) ?? allClasses.get(s);
        if (local && local.cls !== cls ? isRepository(local.cls, lookup, depth + 1) : SPRING_DATA_BASES.has(s)) {
          r = true;
          break;
        }
      }
    }
    repoMemo.set(cls, r);
    return r;
  };
  const isMongo = (cls: JavaClass): boolean => cls.interfaces.some((i) => /Mongo/.test(simpleTypeName(i)));

  for (const { service, files } of groups) {
    const lookup = classesOf(files);
    const resolve = (type: string): ClassInfo | undefined => {
      const s = simpleTypeName(type);
      return lookup.get(s) ?? allClasses.get(s);
    };

    // Declared repository methods and controller/with-span/route mappings.
    for (const file of files) {
      for (const cls of file.classes) {
        if ((cls.kind === 'interface' || cls.kind === 'class') && isRepository(cls, lookup)) {
          const simple = cls.name.split('.').pop()!;
          for (const m of new Set(cls.methods)) {
            out.push({ spanName: `${simple}.${m}`, kind: 'internal', service, function: `${simple}.${m}`, file: file.file, line: cls.line, via: 'repository' });
          }
        }
      }
      const classByName = new Map(file.classes.map((c) => [c.name, c]));
      for (const fn of file.functions) {
        if (fn.javaKind !== 'method') continue;
        const cls = fn.className ? classByName.get(fn.className) : undefined;
        const name = lastTwo(fn.name);
        if (cls && hasAnnotation(cls.annotations, 'RestController', 'Controller') && !fn.static) {
          out.push({ spanName: name, kind: 'internal', service, function: name, file: file.file, line: fn.line, via: 'controller' });
          const mapping = fn.annotations.find((a) => annotationName(a) in MAPPING_VERBS);
          if (mapping) {
            const classMapping = hasAnnotation(cls.annotations, 'RequestMapping');
            const prefixes = classMapping ? mappingPaths(classMapping) : [''];
            for (const prefix of prefixes) {
              for (const path of mappingPaths(mapping)) {
                for (const verb of mappingVerbs(mapping)) {
                  const rec: JavaSpanMapping = { spanName: joinRoute(prefix, path), kind: 'server', service, function: name, file: file.file, line: fn.line, via: 'route' };
                  if (verb) rec.httpMethod = verb;
                  out.push(rec);
                }
              }
            }
          }
        }
        const withSpan = hasAnnotation(fn.annotations, 'WithSpan');
        if (withSpan) {
          const k = /SpanKind\.(SERVER|CLIENT|PRODUCER|CONSUMER)/.exec(withSpan.elements?.kind ?? '')?.[1];
          const kind: JavaSpanKind = k === 'SERVER' || k === 'CONSUMER' ? 'server' : k === 'CLIENT' || k === 'PRODUCER' ? 'client' : 'internal';
          const spanName = withSpan.firstString && withSpan.firstString !== '' ? withSpan.firstString : name;
          out.push({ spanName, kind, service, function: name, file: file.file, line: fn.line, via: 'with-span' });
        }
      }
    }

    // Call sites: repository calls and RestTemplate calls.
    for (const file of files) {
      const classByName = new Map(file.classes.map((c) => [c.name, c]));
      let args: Map<string, CallArgs> | undefined;
      const source = options.sources?.get(file.file);
      for (const fn of file.functions as JavaFunction[]) {
        const cls = fn.className ? classByName.get(fn.className) : undefined;
        const caller = lastTwo(fn.name.replace(/\.<lambda@\d+>$/, ''));
        for (const site of callSites(fn)) {
          if (site.construct) continue;
          const dot = site.callee.lastIndexOf('.');
          if (dot < 0) continue;
          const method = site.callee.slice(dot + 1);
          const receiver = site.callee.slice(0, dot).replace(/^this\./, '');
          if (!/^[A-Za-z_$][\w$]*$/.test(receiver)) continue;
          const fieldType = fieldTypeOf(cls, receiver, file, resolve);
          const typeInfo = fieldType ? resolve(fieldType) : undefined;

          if (typeInfo && isRepository(typeInfo.cls, lookup)) {
            const repo = typeInfo.cls.name.split('.').pop()!;
            const declared = typeInfo.cls.methods.includes(method);
            const inherited = !declared && INHERITED_REPOSITORY_METHODS.has(method);
            if (!declared && !inherited) continue;
            const target = `${repo}.${method}`;
            if (inherited) {
              out.push({ spanName: target, kind: 'internal', service, function: caller, file: file.file, line: site.line, via: 'inherited-repository', target });
            }
            if (!isMongo(typeInfo.cls)) {
              for (const verb of sqlVerbsOf(method)) {
                out.push({ spanName: verb, kind: 'client', service, function: caller, file: file.file, line: site.line, via: 'sql', target });
              }
            }
            continue;
          }

          if (method in REST_TEMPLATE_VERBS) {
            const isRest = fieldType ? simpleTypeName(fieldType) === 'RestTemplate' : /restTemplate$/i.test(receiver);
            if (!isRest) continue;
            if (source && !args) args = await restTemplateArgs(source);
            const found = args?.get(`${site.line}:${site.column}:${method}`);
            const verb = REST_TEMPLATE_VERBS[method] ?? found?.verb;
            const rec: JavaSpanMapping = {
              spanName: verb ? `HTTP ${verb}` : 'HTTP',
              kind: 'client',
              service,
              function: caller,
              file: file.file,
              line: site.line,
              via: 'http-client',
              target: `RestTemplate.${method}`,
            };
            if (verb) rec.httpMethod = verb;
            const url = found?.url ?? site.firstArg;
            if (url !== undefined) rec.url = url;
            if (found?.urlExpanded !== undefined) rec.urlExpanded = found.urlExpanded;
            out.push(rec);
          }
        }
      }
    }
  }
  return out;
}

/** The declared type of field `name` of `cls` or of its analyzed superclasses. */
function fieldTypeOf(
  cls: JavaClass | undefined,
  name: string,
  file: JavaFileCscfg,
  resolve: (type: string) => ClassInfo | undefined,
): string | undefined {
  let cur = cls;
  for (let depth = 0; cur && depth < 8; depth++) {
    const f = cur.fields.find((x) => x.name === name);
    if (f) return f.type;
    // Enclosing class for nested/anonymous classes.
    const outer = cur.name.includes('.') ? file.classes.find((c) => c.name === cur!.name.slice(0, cur!.name.lastIndexOf('.'))) : undefined;
    const outerField = outer?.fields.find((x) => x.name === name);
    if (outerField) return outerField.type;
    cur = cur.superclass ? resolve(cur.superclass)?.cls : undefined;
  }
  return undefined;
}
