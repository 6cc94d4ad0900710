// The C# front end of the CSCFG: finds the methods, constructors, accessors and local functions of a
// C# file in its tree-sitter-c-sharp tree, turns each body into the structured statements that
// cscfg.ts builds the graph from, and records what call resolution and the gRPC/database span
// mapping need: each class's base types and fields, each method's parameter and local types.
//
// C#-specific choices:
// - Methods are `Class.Method` (nested classes dotted through the enclosing ones, no namespace),
//   constructors `Class.<init>` as in Java, property/indexer accessors `Class.Property`, local
//   functions `Class.Method.local`.
// - A lambda or anonymous method passed as an argument is folded into the enclosing function (it
//   runs where the call is: `Task.Run(() => ...)`, LINQ, `ForEach`); other lambdas (assigned to a
//   variable or field) are functions of their own, named after what holds them.
// - `switch` sections never fall through (the language forbids it), so each ends in a break;
//   several `catch` clauses form a switch over the caught types, and without a catch-all an
//   exception no clause takes propagates (as the Python front end does with `except` clauses).
// - `using (...) {}`, `lock`, `checked`, `unsafe`, `fixed` run their block in place; `goto` is
//   treated as leaving the function; `yield return x` evaluates x in place.
// - `await` is transparent: an awaited call is a call site like any other.
import type { Node } from 'web-tree-sitter';
import { buildCscfg, type CallSite, type Stmt, type SwitchCase } from './cscfg.js';
import { withSyntaxTree } from './languages.js';
import { forEachFunctionNode, unwrapParens } from './syntax.js';
import { MODULE_FUNCTION, syntaxProblems, type AnalyzedFunction, type FileCscfg } from './typescript.js';

/** A class, struct, record or interface; nested types are records of their own. */
export interface CSharpClass {
  /** Dotted through the enclosing types: `Outer.Inner`. */
  name: string;
  kind: 'class' | 'struct' | 'record' | 'interface';
  line: number;
  endLine: number;
  /** Base class and interfaces as written (`Cart.CartBase`, `IOrderRepository`), type arguments kept. */
  bases: string[];
  /** Field and property names -> declared types as written (`_redis` -> `IDatabase`). */
  fields: Record<string, string>;
}

export interface CSharpFunction extends AnalyzedFunction {
  /** Declared types of parameters and locals (`var x = new T()` counts as T), for call resolution. */
  variables?: Record<string, string>;
}

export interface CSharpFileCscfg extends FileCscfg {
  language: 'csharp';
  functions: CSharpFunction[];
  classes: CSharpClass[];
}

const line = (n: Node): number => n.startPosition.row + 1;
const collapse = (text: string): string => text.replace(/\s+/g, ' ').trim();

const CLASS_TYPES: Record<string, CSharpClass['kind']> = {
  class_declaration: 'class',
  struct_declaration: 'struct',
  record_declaration: 'record',
  record_struct_declaration: 'record',
  interface_declaration: 'interface',
};

const FUNCTION_TYPES = new Set([
  'method_declaration',
  'constructor_declaration',
  'destructor_declaration',
  'operator_declaration',
  'conversion_operator_declaration',
  'local_function_statement',
  'accessor_declaration',
  'lambda_expression',
  'anonymous_method_expression',
]);

/** Statements whose bodies do not run where they stand, or that make no calls. */
const SKIPPED_STATEMENTS = new Set([
  'local_function_statement',
  'empty_statement',
  'comment',
  'using_directive',
  'extern_alias_directive',
  'class_declaration',
  'struct_declaration',
  'record_declaration',
  'interface_declaration',
  'enum_declaration',
  'delegate_declaration',
]);

const STRING_TYPES = new Set(['string_literal', 'verbatim_string_literal', 'raw_string_literal']);

/** Text of a string literal without its quotes and prefixes. */
function stringText(n: Node): string {
  if (n.type === 'string_literal') return n.namedChildren.filter((c) => c.type === 'string_literal_content' || c.type === 'escape_sequence').map((c) => c.text).join('');
  if (n.type === 'verbatim_string_literal') return n.text.slice(2, -1);
  return n.text.replace(/^"+/, '').replace(/"+$/, '');
}

/** `$"http://a/{id}"`: the text with each interpolation as `${expr}`, the placeholder form used everywhere. */
function interpolatedText(n: Node): string {
  let out = '';
  for (const c of n.namedChildren) {
    if (c.type === 'interpolation') {
      const e = c.namedChildren.find((x) => x.type !== 'interpolation_brace' && x.type !== 'interpolation_alignment_clause' && x.type !== 'interpolation_format_clause');
      out += `\${${collapse(e?.text ?? '')}}`;
    } else if (c.type === 'string_content' || c.type === 'escape_sequence' || c.type === 'string_literal_content') out += c.text;
  }
  return out;
}

/** Translates the statements and expressions of one function body into `Stmt`s. */
class CSharpTranslator {
  constructor(private readonly inlineCallbacks: boolean) {}

  /** A block body, an expression body (`=> expr`), or a lambda's expression. */
  functionBody(fn: Node): Stmt[] {
    const body = fn.childForFieldName('body') ?? fn.namedChildren.find((c) => c.type === 'block' || c.type === 'arrow_expression_clause');
    if (!body) return [];
    if (body.type === 'block') return this.statement(body);
    return this.expr(body);
  }

  statements(nodes: readonly Node[]): Stmt[] {
    const out: Stmt[] = [];
    for (const n of nodes) out.push(...this.statement(n));
    return out;
  }

  statement(n: Node | null): Stmt[] {
    if (!n) return [];
    if (SKIPPED_STATEMENTS.has(n.type)) return [];
    switch (n.type) {
      case 'block':
        return this.statements(n.namedChildren);
      case 'if_statement': {
        const alt = n.childForFieldName('alternative');
        const s: Stmt = { kind: 'if', line: line(n), cond: this.expr(n.childForFieldName('condition')), then: this.statement(n.childForFieldName('consequence')) };
        if (alt) s.else = this.statement(alt);
        return [s];
      }
      case 'switch_statement': {
        const cases: SwitchCase[] = [];
        for (const section of n.childForFieldName('body')?.namedChildren ?? []) {
          if (section.type !== 'switch_section') continue;
          const stmts = section.namedChildren.filter((c) => isStatement(c));
          const labels = section.namedChildren.filter((c) => !isStatement(c) && c.type !== 'comment');
          const isDefault = section.children.some((c) => !c.isNamed && c.type === 'default');
          // Sections never fall through (a trailing break after a return or throw adds no edge); a
          // label with no statements of its own (`case A: case B: ...` as the grammar splits it)
          // shares the next section's.
          const body = stmts.length === 0 ? [] : [...this.statements(stmts), { kind: 'break' } as Stmt];
          cases.push(isDefault ? { body } : { label: labels.map((l) => collapse(l.text)).join(', '), body });
        }
        return [{ kind: 'switch', line: line(n), discriminant: this.expr(n.childForFieldName('value')), cases }];
      }
      case 'for_statement':
        return [
          {
            kind: 'loop',
            line: line(n),
            init: this.exprOrDecl(n.childrenForFieldName('initializer')),
            cond: this.expr(n.childForFieldName('condition')),
            update: this.exprOrDecl(n.childrenForFieldName('update')),
            body: this.statement(n.childForFieldName('body')),
          },
        ];
      case 'foreach_statement':
        return [{ kind: 'loop', line: line(n), init: this.expr(n.childForFieldName('right')), cond: [], update: [], body: this.statement(n.childForFieldName('body')) }];
      case 'while_statement':
        return [{ kind: 'loop', line: line(n), init: [], cond: this.expr(n.childForFieldName('condition')), update: [], body: this.statement(n.childForFieldName('body')) }];
      case 'do_statement':
        return [{ kind: 'loop', line: line(n), init: [], cond: this.expr(n.childForFieldName('condition')), update: [], body: this.statement(n.childForFieldName('body')), bodyFirst: true }];
      case 'try_statement':
        return this.tryStmt(n);
      case 'return_statement':
        return [{ kind: 'return', value: this.exprChildren(n) }];
      case 'throw_statement':
        return [{ kind: 'throw', value: this.exprChildren(n) }];
      case 'goto_statement':
        return [{ kind: 'return', value: [] }];
      case 'break_statement':
        return [{ kind: 'break' }];
      case 'continue_statement':
        return [{ kind: 'continue' }];
      case 'labeled_statement': {
        const label = n.namedChildren.find((c) => c.type === 'identifier')?.text ?? '';
        return [{ kind: 'labeled', label, body: this.statements(n.namedChildren.filter((c) => c.type !== 'identifier')) }];
      }
      case 'using_statement':
      case 'lock_statement':
      case 'fixed_statement':
      case 'checked_statement':
      case 'unsafe_statement': {
        const body = n.childForFieldName('body') ?? n.namedChildren.filter((c) => isStatement(c)).at(-1) ?? null;
        const head = n.namedChildren.filter((c) => c.id !== body?.id);
        return [...this.exprOrDecl(head), ...this.statement(body)];
      }
      default:
        // Expression statements, local declarations, yield, ERROR nodes: the calls they make.
        return this.expr(n);
    }
  }

  private exprOrDecl(nodes: readonly Node[]): Stmt[] {
    const out: Stmt[] = [];
    for (const n of nodes) out.push(...this.expr(n));
    return out;
  }

  private tryStmt(n: Node): Stmt[] {
    const clauses = n.namedChildren.filter((c) => c.type === 'catch_clause');
    const fin = n.namedChildren.find((c) => c.type === 'finally_clause');
    const s: Extract<Stmt, { kind: 'try' }> = { kind: 'try', line: line(n), body: this.statement(n.childForFieldName('body')) };
    const clauseBody = (c: Node): Stmt[] => {
      const filter = c.namedChildren.find((x) => x.type === 'catch_filter_clause');
      return [...this.expr(filter ?? null), ...this.statement(c.childForFieldName('body'))];
    };
    const first = clauses[0];
    if (first && clauses.length === 1) s.catch = { line: line(first), body: clauseBody(first) };
    else if (first) {
      const cases: SwitchCase[] = clauses.map((c) => {
        const decl = c.namedChildren.find((x) => x.type === 'catch_declaration');
        const type = decl?.childForFieldName('type');
        const body = [...clauseBody(c), { kind: 'break' } as Stmt];
        return type ? { label: collapse(type.text), body } : { body };
      });
      if (cases.every((c) => c.label !== undefined)) cases.push({ body: [{ kind: 'throw', value: [] }] });
      s.catch = { line: line(first), body: [{ kind: 'switch', line: line(first), discriminant: [], cases }] };
    }
    if (fin) s.finally = this.statement(fin.namedChildren.find((c) => c.type === 'block') ?? null);
    return [s];
  }

  private exprChildren(n: Node | null): Stmt[] {
    if (!n) return [];
    const out: Stmt[] = [];
    for (const c of n.namedChildren) out.push(...this.expr(c));
    return out;
  }

  /** The calls an expression makes, in evaluation order; lambda bodies are not run here. */
  expr(n: Node | null): Stmt[] {
    if (!n) return [];
    if (n.type === 'comment') return [];
    if (n.type === 'lambda_expression' || n.type === 'anonymous_method_expression') return [];
    if (n.type === 'local_function_statement') return [];
    if (n.type === 'invocation_expression') return this.invocation(n);
    if (n.type === 'object_creation_expression') return this.creation(n);
    if (n.type === 'conditional_expression') {
      // `a ? f() : g()`: only one arm runs.
      const [cond, then, alt] = [n.childForFieldName('condition'), n.childForFieldName('consequence'), n.childForFieldName('alternative')];
      const thenS = this.expr(then);
      const altS = this.expr(alt);
      if (thenS.length === 0 && altS.length === 0) return this.expr(cond);
      return [{ kind: 'if', line: line(n), cond: this.expr(cond), then: thenS, else: altS }];
    }
    if (n.type === 'switch_expression') {
      // `x switch { P => f(), _ => g() }`: one arm runs, like a switch statement's case.
      const [subject, ...rest] = n.namedChildren;
      const cases: SwitchCase[] = [];
      let calls = false;
      for (const arm of rest.filter((a) => a.type === 'switch_expression_arm')) {
        const kids = arm.namedChildren;
        const value = kids[kids.length - 1] ?? null;
        const when = kids.find((k) => k.type === 'when_clause') ?? null;
        const body = [...this.expr(when), ...this.expr(value)];
        if (body.length) calls = true;
        body.push({ kind: 'break' });
        const pattern = kids[0];
        cases.push(pattern?.type === 'discard' && !when ? { body } : { label: collapse(pattern?.text ?? ''), body });
      }
      const discriminant = this.expr(subject ?? null);
      return calls ? [{ kind: 'switch', line: line(n), discriminant, cases }] : discriminant;
    }
    return this.exprChildren(n);
  }

  /** Arguments in order; lambdas passed inline are folded in after the call. */
  private args(args: Node | null, out: Stmt[], inline: Stmt[]): Node[] {
    const list = (args?.namedChildren ?? []).filter((a) => a.type === 'argument');
    for (const a of list) {
      // `name: value` and `out x` keep the value last.
      const value = a.namedChildren.at(-1) ?? null;
      const v = value ? unwrapParens(value) : null;
      if (v && (v.type === 'lambda_expression' || v.type === 'anonymous_method_expression')) {
        if (this.inlineCallbacks) inline.push({ kind: 'inline', body: this.functionBody(v) });
      } else out.push(...this.expr(a));
    }
    return list;
  }

  private invocation(n: Node): Stmt[] {
    const fn = n.childForFieldName('function');
    const out: Stmt[] = [];
    const inline: Stmt[] = [];
    // Calls in the callee's operand (`a.B().C()`) come first.
    if (fn?.type === 'member_access_expression') out.push(...this.expr(fn.childForFieldName('expression')));
    else if (fn?.type === 'conditional_access_expression') out.push(...this.expr(fn.namedChildren[0] ?? null));
    const list = this.args(n.childForFieldName('arguments'), out, inline);
    const site: CallSite = { callee: calleeText(fn), line: line(n), column: n.startPosition.column, args: list.length };
    Object.assign(site, firstArgument(list[0]));
    out.push({ kind: 'call', ...site }, ...inline);
    return out;
  }

  private creation(n: Node): Stmt[] {
    const out: Stmt[] = [];
    const inline: Stmt[] = [];
    const list = this.args(n.childForFieldName('arguments'), out, inline);
    out.push(...this.expr(n.childForFieldName('initializer')));
    const site: CallSite = { callee: typeText(n.childForFieldName('type')), line: line(n), column: n.startPosition.column, construct: true, args: list.length };
    Object.assign(site, firstArgument(list[0]));
    out.push({ kind: 'call', ...site }, ...inline);
    return out;
  }
}

function isStatement(n: Node): boolean {
  return n.type.endsWith('_statement') || n.type === 'block';
}

/** The callee as written, whitespace collapsed and `?.` read as `.`: `_client.AddItemAsync`, `this.Check`. */
function calleeText(fn: Node | null): string {
  return collapse(fn?.text ?? '').replace(/\?\./g, '.').replace(/!\./g, '.');
}

/** A type as written without type arguments: `List<Order>` -> `List`, `Cart.CartClient` stays. */
function typeText(t: Node | null): string {
  return collapse(t?.text ?? '').replace(/<.*>$/s, '').replace(/\?$/, '');
}

function firstArgument(a: Node | undefined): Pick<CallSite, 'firstArg' | 'firstArgKind'> {
  const v = a?.namedChildren.at(-1);
  if (!v) return {};
  if (STRING_TYPES.has(v.type)) return { firstArg: stringText(v), firstArgKind: 'string' };
  if (v.type === 'interpolated_string_expression') return { firstArg: interpolatedText(v), firstArgKind: 'template' };
  return {};
}

/** The types of a function's parameters and locals; `var x = new T(...)` gives T. */
function variableTypes(fn: Node): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of fn.childForFieldName('parameters')?.namedChildren ?? []) {
    const name = p.childForFieldName('name')?.text;
    const type = p.childForFieldName('type');
    if (name && type) out[name] = typeText(type);
  }
  const body = fn.childForFieldName('body');
  if (!body) return out;
  for (const decl of body.descendantsOfType('variable_declaration') as Node[]) {
    const type = decl.childForFieldName('type');
    for (const v of decl.namedChildren.filter((c) => c.type === 'variable_declarator')) {
      const name = v.childForFieldName('name')?.text;
      if (!name) continue;
      if (type && type.type !== 'implicit_type') out[name] = typeText(type);
      else {
        const init = v.namedChildren.find((c) => c.type === 'object_creation_expression');
        if (init) out[name] = typeText(init.childForFieldName('type'));
      }
    }
  }
  return out;
}

/** The name of the type whose body holds `n`, dotted through enclosing types. */
function enclosingClassName(n: Node): string | undefined {
  const names: string[] = [];
  for (let p = n.parent; p; p = p.parent) if (CLASS_TYPES[p.type]) names.unshift(p.childForFieldName('name')?.text ?? '<anonymous>');
  return names.length ? names.join('.') : undefined;
}

/** The nearest enclosing function node (not counting `n`). */
function enclosingFunction(n: Node): Node | undefined {
  for (let p = n.parent; p; p = p.parent) if (FUNCTION_TYPES.has(p.type)) return p;
  return undefined;
}

function ownName(fn: Node): string {
  switch (fn.type) {
    case 'constructor_declaration':
      return '<init>';
    case 'destructor_declaration':
      return '<finalize>';
    case 'operator_declaration':
      return `operator ${fn.childForFieldName('operator')?.text ?? '?'}`;
    case 'conversion_operator_declaration':
      return `operator ${collapse(fn.childForFieldName('type')?.text ?? '?')}`;
    case 'accessor_declaration': {
      // `get`/`set` of a property or indexer: named after the property.
      const holder = fn.parent?.parent;
      const prop = holder?.childForFieldName('name')?.text ?? (holder?.type === 'indexer_declaration' ? 'this[]' : '?');
      const which = fn.children.find((c) => ['get', 'set', 'init', 'add', 'remove'].includes(c.type))?.type;
      return which && which !== 'get' ? `${prop}.${which}` : prop;
    }
    default:
      return fn.childForFieldName('name')?.text ?? '<anonymous>';
  }
}

function functionName(fn: Node): { name: string; className?: string; form: AnalyzedFunction['form'] } {
  const cls = enclosingClassName(fn);
  if (fn.type === 'lambda_expression' || fn.type === 'anonymous_method_expression') {
    const parent = fn.parent;
    const outer = enclosingFunction(fn);
    const prefix = outer ? functionName(outer).name : cls;
    let holder: string | undefined;
    if (parent?.type === 'variable_declarator') holder = parent.childForFieldName('name')?.text;
    else if (parent?.type === 'assignment_expression') holder = collapse(parent.childForFieldName('left')?.text ?? '');
    else if (parent?.type === 'arrow_expression_clause') holder = undefined;
    const own = holder ?? `<lambda@${line(fn)}>`;
    return { name: prefix ? `${prefix}.${own}` : own, ...(cls ? { className: cls } : {}), form: 'arrow' };
  }
  if (fn.type === 'local_function_statement') {
    const outer = enclosingFunction(fn);
    const own = fn.childForFieldName('name')?.text ?? '<anonymous>';
    return { name: outer ? `${functionName(outer).name}.${own}` : own, ...(cls ? { className: cls } : {}), form: 'function' };
  }
  const own = ownName(fn);
  return cls ? { name: `${cls}.${own}`, className: cls, form: 'method' } : { name: own, form: 'function' };
}

/** A lambda passed as an argument inside a function: part of that function's graph. */
function isInlineLambda(fn: Node): boolean {
  if (fn.type !== 'lambda_expression' && fn.type !== 'anonymous_method_expression') return false;
  let cur: Node = fn;
  while (cur.parent?.type === 'parenthesized_expression') cur = cur.parent;
  return cur.parent?.type === 'argument';
}

/** Expression-bodied members (`int Total => Sum();`) and property initializers hold code too. */
function isFunctionNode(n: Node): boolean {
  if (FUNCTION_TYPES.has(n.type)) return true;
  return n.type === 'property_declaration' && n.childForFieldName('value')?.type === 'arrow_expression_clause';
}

function classesOf(root: Node): CSharpClass[] {
  const out: CSharpClass[] = [];
  const visit = (n: Node): void => {
    for (const c of n.namedChildren) {
      const kind = CLASS_TYPES[c.type];
      if (kind) {
        const name = [enclosingClassName(c), c.childForFieldName('name')?.text ?? '<anonymous>'].filter(Boolean).join('.');
        const bases = (c.namedChildren.find((x) => x.type === 'base_list')?.namedChildren ?? []).filter((b) => b.type !== 'comment' && b.type !== 'argument_list').map((b) => collapse(b.text));
        const fields: Record<string, string> = {};
        const body = c.childForFieldName('body') ?? c.namedChildren.find((x) => x.type === 'declaration_list');
        for (const m of body?.namedChildren ?? []) {
          if (m.type === 'field_declaration' || m.type === 'event_field_declaration') {
            const decl = m.namedChildren.find((x) => x.type === 'variable_declaration');
            const type = decl?.childForFieldName('type');
            for (const v of decl?.namedChildren.filter((x) => x.type === 'variable_declarator') ?? []) {
              const fname = v.childForFieldName('name')?.text;
              if (!fname) continue;
              const init = v.namedChildren.find((x) => x.type === 'object_creation_expression');
              fields[fname] = type && type.type !== 'implicit_type' ? typeText(type) : typeText(init?.childForFieldName('type') ?? null);
            }
          } else if (m.type === 'property_declaration') {
            const pname = m.childForFieldName('name')?.text;
            const type = m.childForFieldName('type');
            if (pname && type) fields[pname] = typeText(type);
          }
        }
        // Primary constructor parameters (`class Svc(IDatabase db) : Base`) are fields in effect.
        for (const p of c.namedChildren.find((x) => x.type === 'parameter_list')?.namedChildren ?? []) {
          const pname = p.childForFieldName('name')?.text;
          const type = p.childForFieldName('type');
          if (pname && type) fields[pname] = typeText(type);
        }
        out.push({ name, kind, line: line(c), endLine: c.endPosition.row + 1, bases, fields });
      }
      visit(c);
    }
  };
  visit(root);
  return out;
}

/** Every method, constructor, accessor, local function and non-inline lambda of a C# file, plus `<module>` (top-level statements). */
export function csharpFunctionsOfTree(root: Node): { functions: CSharpFunction[]; classes: CSharpClass[] } {
  const functions: CSharpFunction[] = [];
  // C# 9 top-level statements are the program's entry: the `<module>` pseudo-function.
  const topLevel = root.namedChildren.filter((c) => c.type === 'global_statement').flatMap((g) => g.namedChildren);
  // Callbacks there (`app.MapGet("/x", () => ...)`) run later, per request: functions of their own.
  const moduleT = new CSharpTranslator(false);
  functions.push({ ...buildCscfg(MODULE_FUNCTION, moduleT.statements(topLevel), { line: 1, endLine: root.endPosition.row + 1 }), form: 'module' });
  const inner = new CSharpTranslator(true);
  forEachFunctionNode(root, isFunctionNode, isInlineLambda, (fn) => {
    const { name, className, form } = fn.type === 'property_declaration' ? { name: `${enclosingClassName(fn) ?? ''}.${fn.childForFieldName('name')?.text ?? '?'}`, className: enclosingClassName(fn), form: 'method' as const } : functionName(fn);
    const body = fn.type === 'property_declaration' ? inner.expr(fn.childForFieldName('value')) : inner.functionBody(fn);
    const graph = buildCscfg(name, body, { line: line(fn), endLine: fn.endPosition.row + 1 });
    const variables = fn.type === 'lambda_expression' || fn.type === 'property_declaration' ? {} : variableTypes(fn);
    functions.push({ ...graph, ...(className ? { className } : {}), form, ...(Object.keys(variables).length ? { variables } : {}) });
  });
  return { functions, classes: classesOf(root) };
}

/**
 * Parses a C# source text and builds the CSCFG of every method in it, with its classes' bases and
 * fields. A file with syntax errors is still analyzed (the tree holds ERROR nodes where it could not
 * parse) and the problems are listed.
 */
export async function analyzeCSharpSource(file: string, source: string): Promise<CSharpFileCscfg> {
  return withSyntaxTree('csharp', file, source, (root) => {
    const { functions, classes } = csharpFunctionsOfTree(root);
    return { file, language: 'csharp' as const, functions, classes, syntaxErrors: syntaxProblems(root) };
  });
}
