// The Java front end of the CSCFG: finds the methods, constructors and initializers of a file in its
// tree-sitter-java tree, turns each body into the structured statements that cscfg.ts builds the
// graph from, and records the annotations of methods and classes (Spring routes, stereotypes,
// @WithSpan, ...) that the span mapping needs. Lambdas passed inline to a call are folded into the
// enclosing method, as the TypeScript front end does with callbacks.
import type { Node } from 'web-tree-sitter';
import { buildCscfg, type CallSite, type Stmt, type SwitchCase } from './cscfg.js';
import { withSyntaxTree } from './languages.js';
import { syntaxProblems, type AnalyzedFunction, type FileCscfg } from './typescript.js';
import { concatOperands, unwrapParens } from './syntax.js';

/** An annotation as written: `@GetMapping("/x/{id}")`, `@RequestMapping(value = "/a", method = RequestMethod.POST)`. */
export interface JavaAnnotation {
  /** The name as written, without the `@`: `GetMapping`, `org.springframework.web.bind.annotation.GetMapping`. */
  name: string;
  line: number;
  /**
   * The first string argument: a positional string (or the first string of a positional array), else
   * the first `key = "..."` (or `key = {"...", ...}`) element. Unquoted, escapes left as written.
   */
  firstString?: string;
  /** Named elements (`method = RequestMethod.GET`) with their values' source text, whitespace collapsed. */
  elements?: Record<string, string>;
}

export interface JavaField {
  name: string;
  /** The declared type as written, whitespace collapsed: `OrderRepository`, `List<Order>`. */
  type: string;
  annotations: JavaAnnotation[];
  static?: true;
  /** A string constant's value (`static final String QUEUE = "food_delivery"`): literals and their `+` concatenations. */
  value?: string;
}

/** A class, interface, enum, record or annotation type; nested types are records of their own. */
export interface JavaClass {
  /** Dotted through the enclosing types: `Outer.Inner`; anonymous classes are `Outer.<anonymous Foo>` (no type arguments). */
  name: string;
  kind: 'class' | 'interface' | 'enum' | 'record' | 'annotation' | 'anonymous';
  line: number;
  endLine: number;
  annotations: JavaAnnotation[];
  /** `extends` of a class (as written, type arguments kept). */
  superclass?: string;
  /** `implements` of a class or enum, `extends` of an interface. */
  interfaces: string[];
  fields: JavaField[];
  /** Names of the methods declared here, bodiless (abstract, interface) ones included, in source order. */
  methods: string[];
}

export interface JavaFunction extends AnalyzedFunction {
  /**
   * `Class.method`, `Outer.Inner.method`; constructors are `Class.<init>`, static initializers
   * `Class.<clinit>`, lambdas not passed inline `Class.method.<lambda@line>` or `Class.field`.
   */
  name: string;
  /** Methods and constructors are `method`; lambdas that are functions of their own are `arrow`. */
  form: 'method' | 'arrow';
  javaKind: 'method' | 'constructor' | 'initializer' | 'lambda';
  annotations: JavaAnnotation[];
  /** Parameter types as written, for telling overloads apart. */
  parameters: string[];
  /**
   * Declared types of the parameters and local variables (`var` skipped), name -> type as written,
   * for resolving calls on them (call-graph.ts). Not written to analysis.json.
   */
  variables?: Record<string, string>;
  static?: true;
}

export interface JavaFileCscfg extends FileCscfg {
  language: 'java';
  functions: JavaFunction[];
  classes: JavaClass[];
  package?: string;
  /** Import declarations as written, without `import`/`;`: `com.x.Foo`, `static org.Y.z`, `java.util.*`. */
  imports: string[];
}

const line = (n: Node): number => n.startPosition.row + 1;
const collapse = (text: string): string => text.replace(/\s+/g, ' ').trim();

const TYPE_DECLARATIONS: Record<string, JavaClass['kind']> = {
  class_declaration: 'class',
  interface_declaration: 'interface',
  enum_declaration: 'enum',
  record_declaration: 'record',
  annotation_type_declaration: 'annotation',
};

const CALLABLE_TYPES = new Set(['method_declaration', 'constructor_declaration', 'compact_constructor_declaration', 'static_initializer']);

/** Declarations whose bodies do not run where they stand. */
const SKIPPED_STATEMENTS = new Set([
  'class_declaration',
  'interface_declaration',
  'enum_declaration',
  'record_declaration',
  'annotation_type_declaration',
  'local_class_declaration',
  'line_comment',
  'block_comment',
  'import_declaration',
  'package_declaration',
]);

const CALL_TYPES = new Set(['method_invocation', 'object_creation_expression', 'explicit_constructor_invocation']);

/** A type without its type arguments: `ResponseEntity<>` and `Map<K, V>` are `ResponseEntity` and `Map`. */
function typeName(t: Node | null): string {
  if (!t) return '?';
  if (t.type === 'generic_type') return typeName(t.namedChildren.find((c) => c.type !== 'type_arguments') ?? null);
  return collapse(t.text);
}

/** Text of a string literal without its quotes (text blocks lose their `"""`). */
function stringText(n: Node): string {
  const t = n.text;
  if (t.startsWith('"""')) return t.slice(3, -3).replace(/^[ \t]*\r?\n/, '');
  return t.slice(1, -1);
}

/**
 * A first argument worth keeping: a string literal, or a concatenation that starts with one, shown as
 * a template (`"http://a/b/" + id` becomes `http://a/b/${id}`) so the literal prefix stays.
 */
function firstArgument(a: Node | undefined): Pick<CallSite, 'firstArg' | 'firstArgKind'> {
  if (!a) return {};
  const u = unwrapParens(a);
  if (u.type === 'string_literal') return { firstArg: stringText(u), firstArgKind: 'string' };
  const ops = concatOperands(u);
  if (ops.length > 1 && ops[0]!.type === 'string_literal') {
    const text = ops.map((o) => (o.type === 'string_literal' ? stringText(o) : `\${${collapse(o.text)}}`)).join('');
    return { firstArg: text, firstArgKind: 'template' };
  }
  return {};
}

/** The text of a `switch_label`: its values, or undefined for `default`. */
function caseLabel(label: Node): string | undefined {
  const values = label.namedChildren.filter((c) => c.type !== 'line_comment' && c.type !== 'block_comment');
  if (label.text.trim().startsWith('default') || values.length === 0) return undefined;
  // `case null, default ->` is the default case too.
  if (label.children.some((c) => c.type === 'default')) return undefined;
  return values.map((v) => collapse(v.text)).join(', ');
}

/** Translates the statements and expressions of one body into `Stmt`s. */
class Translator {
  statements(nodes: readonly Node[]): Stmt[] {
    const out: Stmt[] = [];
    for (const n of nodes) out.push(...this.statement(n));
    return out;
  }

  /** A method's, constructor's or lambda's body. */
  body(fn: Node): Stmt[] {
    if (fn.type === 'static_initializer') return this.statements(fn.namedChildren);
    const body = fn.childForFieldName('body');
    if (!body) return [];
    return body.type === 'block' || body.type === 'constructor_body' ? this.statement(body) : this.expr(body);
  }

  statement(n: Node | null): Stmt[] {
    if (!n) return [];
    if (SKIPPED_STATEMENTS.has(n.type)) return [];
    switch (n.type) {
      case 'block':
      case 'constructor_body':
        return this.statements(n.namedChildren);
      case 'synchronized_statement':
        // The lock expression, then the body as a plain block.
        return [...this.exprChildren(n, (c) => c.type !== 'block'), ...this.statement(n.childForFieldName('body'))];
      case 'if_statement': {
        const alt = n.childForFieldName('alternative');
        const s: Stmt = {
          kind: 'if',
          line: line(n),
          cond: this.expr(n.childForFieldName('condition')),
          then: this.statement(n.childForFieldName('consequence')),
        };
        // Java has no else_clause node: the alternative is the else statement (an if_statement for `else if`).
        if (alt) s.else = this.statement(alt);
        return [s];
      }
      case 'switch_expression':
        return [this.switch(n)];
      case 'for_statement':
        return [
          {
            kind: 'loop',
            line: line(n),
            init: n.childrenForFieldName('init').flatMap((c) => this.statement(c)),
            cond: this.expr(n.childForFieldName('condition')),
            update: n.childrenForFieldName('update').flatMap((c) => this.expr(c)),
            body: this.statement(n.childForFieldName('body')),
          },
        ];
      case 'enhanced_for_statement':
        // The iterable is evaluated once, then one decision per element.
        return [{ kind: 'loop', line: line(n), init: this.expr(n.childForFieldName('value')), cond: [], update: [], body: this.statement(n.childForFieldName('body')) }];
      case 'while_statement':
        return [{ kind: 'loop', line: line(n), init: [], cond: this.expr(n.childForFieldName('condition')), update: [], body: this.statement(n.childForFieldName('body')) }];
      case 'do_statement':
        return [
          {
            kind: 'loop',
            line: line(n),
            init: [],
            cond: this.expr(n.childForFieldName('condition')),
            update: [],
            body: this.statement(n.childForFieldName('body')),
            bodyFirst: true,
          },
        ];
      case 'try_statement':
      case 'try_with_resources_statement':
        return this.tryStmt(n);
      case 'return_statement':
        return [{ kind: 'return', value: this.exprChildren(n) }];
      case 'throw_statement':
        return [{ kind: 'throw', value: this.exprChildren(n) }];
      case 'yield_statement':
        // `yield v;` leaves the enclosing switch expression with a value.
        return [...this.exprChildren(n), { kind: 'break' }];
      case 'break_statement': {
        const label = n.namedChildren.find((c) => c.type === 'identifier');
        return [label ? { kind: 'break', label: label.text } : { kind: 'break' }];
      }
      case 'continue_statement': {
        const label = n.namedChildren.find((c) => c.type === 'identifier');
        return [label ? { kind: 'continue', label: label.text } : { kind: 'continue' }];
      }
      case 'labeled_statement': {
        const [label, ...rest] = n.namedChildren;
        return [{ kind: 'labeled', label: label?.text ?? '', body: this.statements(rest) }];
      }
      default:
        // expression_statement, local_variable_declaration, assert_statement, ERROR nodes, ...:
        // the calls they make.
        return this.expr(n);
    }
  }

  private tryStmt(n: Node): Stmt[] {
    const out: Stmt[] = [];
    // try-with-resources: the resources are opened (their calls made) before the body; their
    // failures are caught by the statement's own catch clauses, so they belong to the try body.
    const resources = n.childForFieldName('resources');
    const body = [...(resources ? resources.namedChildren.flatMap((r) => this.exprChildren(r)) : []), ...this.statement(n.childForFieldName('body'))];
    const catches = n.namedChildren.filter((c) => c.type === 'catch_clause');
    const finalizer = n.namedChildren.find((c) => c.type === 'finally_clause');
    if (!catches.length && !finalizer) {
      // A try-with-resources with neither: the resources close on every way out, which is no branch.
      return body;
    }
    const s: Stmt = { kind: 'try', line: line(n), body };
    const first = catches[0];
    if (first) {
      if (catches.length === 1) {
        s.catch = { line: line(first), body: this.statement(first.childForFieldName('body')) };
      } else {
        // Several catch clauses: the handler chooses one by the exception's type, and an exception
        // none of them matches goes on outward.
        const cases: SwitchCase[] = catches.map((c) => ({
          label: collapse(c.namedChildren.find((p) => p.type === 'catch_formal_parameter')?.namedChildren.find((p) => p.type === 'catch_type')?.text ?? '?'),
          body: [...this.statement(c.childForFieldName('body')), { kind: 'break' }],
        }));
        cases.push({ body: [{ kind: 'throw', value: [] }] });
        s.catch = { line: line(first), body: [{ kind: 'switch', line: line(first), discriminant: [], cases }] };
      }
    }
    if (finalizer) s.finally = this.statements(finalizer.namedChildren);
    out.push(s);
    return out;
  }

  /** Statement and expression switches: old `case X:` groups fall through, `case X ->` rules never do. */
  private switch(n: Node): Stmt {
    const cases: SwitchCase[] = [];
    for (const c of n.childForFieldName('body')?.namedChildren ?? []) {
      if (c.type !== 'switch_block_statement_group' && c.type !== 'switch_rule') continue;
      const labels = c.namedChildren.filter((x) => x.type === 'switch_label');
      const rest = c.namedChildren.filter((x) => x.type !== 'switch_label');
      let body: Stmt[];
      if (c.type === 'switch_rule') {
        const [only] = rest;
        // `case X -> expr;` (an expression_statement), `-> { ... }` or `-> throw ...;`.
        body = [...(only ? this.statement(only) : []), { kind: 'break' }];
      } else {
        body = this.statements(rest);
      }
      // A group with several labels (`case 1: case 2:`) is one case per label, the earlier ones empty.
      labels.forEach((l, i) => cases.push({ ...(caseLabel(l) !== undefined ? { label: caseLabel(l)! } : {}), body: i === labels.length - 1 ? body : [] }));
    }
    return { kind: 'switch', line: line(n), discriminant: this.expr(n.childForFieldName('condition')), cases };
  }

  private exprChildren(n: Node, keep: (c: Node) => boolean = () => true): Stmt[] {
    const out: Stmt[] = [];
    for (const c of n.namedChildren) if (keep(c)) out.push(...this.expr(c));
    return out;
  }

  /** The calls an expression makes, in evaluation order; bodies of lambdas and classes are not run here. */
  expr(n: Node | null): Stmt[] {
    if (!n) return [];
    switch (n.type) {
      case 'lambda_expression':
      case 'class_body':
      case 'line_comment':
      case 'block_comment':
        return [];
      case 'switch_expression':
        return [this.switch(n)];
      case 'method_invocation':
      case 'object_creation_expression':
      case 'explicit_constructor_invocation':
        return this.call(n);
      default:
        return this.exprChildren(n);
    }
  }

  private call(n: Node): Stmt[] {
    const out: Stmt[] = [];
    const inline: Stmt[] = [];
    let callee: string;
    if (n.type === 'method_invocation') {
      const obj = n.childForFieldName('object');
      out.push(...this.expr(obj)); // calls in the receiver (`a.b().c()`) come first
      const name = n.childForFieldName('name')?.text ?? '?';
      callee = obj ? `${collapse(obj.text)}.${name}` : name;
    } else if (n.type === 'object_creation_expression') {
      // `outer.new Inner()`: the outer object is evaluated first.
      const outer = n.namedChildren.find((c) => c.id !== n.childForFieldName('type')?.id && c.type !== 'argument_list' && c.type !== 'class_body' && c.type !== 'type_arguments');
      if (outer) out.push(...this.expr(outer));
      callee = typeName(n.childForFieldName('type'));
    } else {
      // this(...) / super(...) in a constructor.
      const obj = n.childForFieldName('object');
      if (obj) out.push(...this.expr(obj));
      callee = collapse(n.childForFieldName('constructor')?.text ?? '?');
    }
    const args = (n.childForFieldName('arguments')?.namedChildren ?? []).filter((a) => a.type !== 'line_comment' && a.type !== 'block_comment');
    for (const a of args) {
      if (a.type === 'lambda_expression') inline.push({ kind: 'inline', body: this.body(a) });
      else out.push(...this.expr(a));
    }
    const site: CallSite = { callee, line: line(n), column: n.startPosition.column, ...firstArgument(args[0]), args: args.length };
    if (n.type === 'object_creation_expression') site.construct = true;
    out.push({ kind: 'call', ...site }, ...inline);
    return out;
  }
}

/** Annotations among a declaration's modifiers. */
function annotationsOf(decl: Node): JavaAnnotation[] {
  const mods = decl.namedChildren.find((c) => c.type === 'modifiers');
  if (!mods) return [];
  return mods.namedChildren.filter((m) => m.type === 'annotation' || m.type === 'marker_annotation').map(annotation);
}

function isStatic(decl: Node): boolean {
  const mods = decl.namedChildren.find((c) => c.type === 'modifiers');
  return !!mods && mods.children.some((c) => c.type === 'static');
}

/** The first string of an element value: a literal, or the first literal of `{ ... }`. */
function firstStringOf(v: Node): string | undefined {
  const u = unwrapParens(v);
  if (u.type === 'string_literal') return stringText(u);
  if (u.type === 'element_value_array_initializer') {
    for (const e of u.namedChildren) {
      const s = firstStringOf(e);
      if (s !== undefined) return s;
    }
  }
  return undefined;
}

function annotation(a: Node): JavaAnnotation {
  const out: JavaAnnotation = { name: collapse(a.childForFieldName('name')?.text ?? '?'), line: line(a) };
  const args = a.childForFieldName('arguments')?.namedChildren.filter((c) => c.type !== 'line_comment' && c.type !== 'block_comment') ?? [];
  const elements: Record<string, string> = {};
  let firstNamed: string | undefined;
  for (const arg of args) {
    if (arg.type === 'element_value_pair') {
      const key = arg.childForFieldName('key')?.text ?? '?';
      const value = arg.childForFieldName('value');
      if (!value) continue;
      elements[key] = collapse(value.text);
      firstNamed ??= firstStringOf(value);
    } else if (out.firstString === undefined) {
      const s = firstStringOf(arg);
      if (s !== undefined) out.firstString = s;
    }
  }
  if (out.firstString === undefined && firstNamed !== undefined) out.firstString = firstNamed;
  if (Object.keys(elements).length) out.elements = elements;
  return out;
}

/** The dotted name of the type that declares `n` (a member or nested type), or undefined at top level. */
function enclosingTypeName(n: Node): string | undefined {
  const parts: string[] = [];
  for (let p = n.parent; p; p = p.parent) {
    if (TYPE_DECLARATIONS[p.type]) parts.unshift(p.childForFieldName('name')?.text ?? '?');
    else if (p.type === 'class_body' && p.parent?.type === 'object_creation_expression') {
      parts.unshift(`<anonymous ${typeName(p.parent.childForFieldName('type'))}>`);
    }
  }
  return parts.length ? parts.join('.') : undefined;
}

/** A lambda passed directly as an argument of a call: it runs where the call is. */
function isInlineLambda(n: Node): boolean {
  return n.parent?.type === 'argument_list' && !!n.parent.parent && CALL_TYPES.has(n.parent.parent.type);
}

function parameterTypes(fn: Node): string[] {
  const params = fn.childForFieldName('parameters');
  if (!params) return [];
  return params.namedChildren
    .filter((p) => p.type === 'formal_parameter' || p.type === 'spread_parameter')
    .map((p) => {
      const t = p.childForFieldName('type') ?? p.namedChildren.find((c) => c.type !== 'modifiers' && c.type !== 'variable_declarator');
      return collapse(t?.text ?? '?') + (p.type === 'spread_parameter' ? '...' : '');
    });
}

/** A string literal or a `+` chain of literals, as its value; anything else is not a constant we can read. */
function constantString(v: Node | null): string | undefined {
  if (!v) return undefined;
  const ops = concatOperands(v);
  return ops.every((o) => o.type === 'string_literal') ? ops.map(stringText).join('') : undefined;
}

/**
 * Parameter and local variable types of a callable, name -> type as written (type arguments
 * dropped). Nested lambdas and local classes are included: their names rarely clash, and a call on
 * a lambda's parameter resolves better with a type than without.
 */
function variableTypes(fn: Node): Record<string, string> {
  const out: Record<string, string> = {};
  const params = fn.childForFieldName('parameters');
  for (const p of params?.namedChildren ?? []) {
    if (p.type !== 'formal_parameter' && p.type !== 'spread_parameter') continue;
    const t = p.childForFieldName('type') ?? p.namedChildren.find((c) => c.type !== 'modifiers' && c.type !== 'variable_declarator');
    const n = p.childForFieldName('name') ?? p.namedChildren.find((c) => c.type === 'variable_declarator')?.childForFieldName('name');
    if (t && n) out[n.text] = typeName(t);
  }
  const body = fn.childForFieldName('body');
  for (const d of body ? body.descendantsOfType(['local_variable_declaration', 'catch_formal_parameter', 'enhanced_for_statement']) : []) {
    if (!d) continue;
    const t = d.childForFieldName('type') ?? d.namedChildren.find((c) => c.type === 'catch_type');
    if (!t || t.text === 'var') continue;
    if (d.type === 'enhanced_for_statement' || d.type === 'catch_formal_parameter') {
      const n = d.childForFieldName('name');
      if (n) out[n.text] = typeName(t);
      continue;
    }
    for (const decl of d.childrenForFieldName('declarator')) {
      const n = decl.childForFieldName('name');
      if (n) out[n.text] = typeName(t);
    }
  }
  return out;
}

function classRecord(decl: Node, name: string): JavaClass {
  const kind: JavaClass['kind'] = TYPE_DECLARATIONS[decl.type] ?? 'anonymous';
  const rec: JavaClass = {
    name,
    kind,
    line: line(decl),
    endLine: decl.endPosition.row + 1,
    annotations: kind === 'anonymous' ? [] : annotationsOf(decl),
    interfaces: [],
    fields: [],
    methods: [],
  };
  const superclass = decl.childForFieldName('superclass');
  if (superclass) rec.superclass = collapse(superclass.namedChildren[0]?.text ?? superclass.text.replace(/^extends\s+/, ''));
  if (kind === 'anonymous') {
    const t = decl.childForFieldName('type');
    if (t) rec.superclass = collapse(t.text);
  }
  const ifaces = decl.childForFieldName('interfaces') ?? decl.namedChildren.find((c) => c.type === 'extends_interfaces');
  const list = ifaces?.namedChildren.find((c) => c.type === 'type_list');
  if (list) rec.interfaces = list.namedChildren.map((t) => collapse(t.text));
  const body = kind === 'anonymous' ? decl.namedChildren.find((c) => c.type === 'class_body') : decl.childForFieldName('body');
  const members = (body?.namedChildren ?? []).flatMap((m) => (m.type === 'enum_body_declarations' ? m.namedChildren : [m]));
  for (const m of members) {
    if (m.type === 'method_declaration') rec.methods.push(m.childForFieldName('name')?.text ?? '?');
    if (m.type === 'field_declaration' || m.type === 'constant_declaration') {
      const type = collapse(m.childForFieldName('type')?.text ?? '?');
      const annotations = annotationsOf(m);
      for (const d of m.childrenForFieldName('declarator')) {
        const f: JavaField = { name: d.childForFieldName('name')?.text ?? '?', type, annotations };
        if (isStatic(m) || m.type === 'constant_declaration') f.static = true;
        const value = constantString(d.childForFieldName('value'));
        if (value !== undefined) f.value = value;
        rec.fields.push(f);
      }
    }
  }
  return rec;
}

/** Every type, method, constructor, initializer and non-inline lambda of a Java tree. */
export function javaDeclarationsOfTree(root: Node): { functions: JavaFunction[]; classes: JavaClass[] } {
  const functions: JavaFunction[] = [];
  const classes: JavaClass[] = [];
  const t = new Translator();
  const add = (n: Node, name: string, className: string | undefined, extra: Pick<JavaFunction, 'form' | 'javaKind' | 'annotations' | 'parameters'>): void => {
    const graph = buildCscfg(name, t.body(n), { line: line(n), endLine: n.endPosition.row + 1 });
    const f: JavaFunction = { ...graph, ...(className ? { className } : {}), ...extra };
    if (extra.javaKind !== 'initializer') f.variables = variableTypes(n);
    if (n.type === 'static_initializer' || (extra.javaKind !== 'lambda' && isStatic(n))) f.static = true;
    functions.push(f);
  };
  /** `fn` is the name of the innermost function being visited, for naming lambdas of their own. */
  const visit = (n: Node, fn: string | undefined): void => {
    for (const c of n.namedChildren) {
      const kind = TYPE_DECLARATIONS[c.type];
      if (kind) {
        const outer = enclosingTypeName(c);
        const own = c.childForFieldName('name')?.text ?? '?';
        classes.push(classRecord(c, outer ? `${outer}.${own}` : own));
        visit(c, undefined);
        continue;
      }
      if (c.type === 'class_body' && n.type === 'object_creation_expression') {
        const outer = enclosingTypeName(c);
        const own = `<anonymous ${typeName(n.childForFieldName('type'))}>`;
        classes.push({ ...classRecord(n, outer ? `${outer}.${own}` : own), line: line(c), endLine: c.endPosition.row + 1 });
        visit(c, undefined);
        continue;
      }
      if (CALLABLE_TYPES.has(c.type)) {
        const cls = enclosingTypeName(c);
        const own =
          c.type === 'static_initializer' ? '<clinit>' : c.type === 'method_declaration' ? (c.childForFieldName('name')?.text ?? '?') : '<init>';
        const name = cls ? `${cls}.${own}` : own;
        const javaKind: JavaFunction['javaKind'] = c.type === 'static_initializer' ? 'initializer' : c.type === 'method_declaration' ? 'method' : 'constructor';
        // Abstract and interface methods have no body and so no graph; the class record lists them.
        if (c.childForFieldName('body') || c.type === 'static_initializer') {
          add(c, name, cls, { form: 'method', javaKind, annotations: annotationsOf(c), parameters: parameterTypes(c) });
        }
        visit(c, name);
        continue;
      }
      if (c.type === 'lambda_expression') {
        if (!(fn && isInlineLambda(c))) {
          const cls = enclosingTypeName(c);
          const declarator = c.parent?.type === 'variable_declarator' ? c.parent.childForFieldName('name')?.text : undefined;
          // A field's lambda is named after the field; one inside a method after the method and line.
          const name = fn ? `${fn}.<lambda@${line(c)}>` : `${cls ? `${cls}.` : ''}${declarator ?? `<lambda@${line(c)}>`}`;
          add(c, name, cls, { form: 'arrow', javaKind: 'lambda', annotations: [], parameters: [] });
          visit(c, name);
        } else {
          visit(c, fn);
        }
        continue;
      }
      visit(c, fn);
    }
  };
  visit(root, undefined);
  return { functions, classes };
}

/**
 * Parses a Java source text and builds the CSCFG of every method, constructor and initializer in it,
 * with the annotations of methods and classes. A file with syntax errors is still analyzed (the tree
 * holds ERROR nodes where it could not parse) and the problems are listed.
 */
export async function analyzeJavaSource(file: string, source: string): Promise<JavaFileCscfg> {
  return withSyntaxTree('java', file, source, (root) => {
    const { functions, classes } = javaDeclarationsOfTree(root);
    const out: JavaFileCscfg = { file, language: 'java', functions, classes, imports: [], syntaxErrors: syntaxProblems(root) };
    for (const c of root.namedChildren) {
      if (c.type === 'package_declaration') {
        const name = c.namedChildren.find((x) => x.type !== 'modifiers' && !x.type.endsWith('annotation'));
        if (name) out.package = collapse(name.text);
      } else if (c.type === 'import_declaration') {
        out.imports.push(collapse(c.text.replace(/^import\s+/, '').replace(/;\s*$/, '')));
      }
    }
    return out;
  });
}
