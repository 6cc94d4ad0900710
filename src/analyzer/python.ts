// The Python front end of the CSCFG: finds the functions and methods of a Python file in its
// tree-sitter tree, records their decorators, and turns each body into the structured statements
// that cscfg.ts builds the graph from.
//
// Python-specific choices:
// - A method is named `Class.method` after its directly enclosing class; nested functions and
//   classes inside a function are functions of their own under their plain names; a lambda passed
//   inline to a call inside a function is folded into that function's graph, other lambdas are
//   functions of their own (named after the variable they are assigned to, or `<lambda>`).
// - Decorators are recorded on the function (`@app.get("/x")`: callee `app.get`, first argument
//   `/x`), not laid out as calls: they run when the definition is executed, not when it is called.
// - `for`/`while` with `else`: the else block runs when the loop ends without `break`.
// - `try` with several `except` clauses: the handler is a switch over the clauses (label: the
//   exception types as written); without a bare `except:` the switch's default re-raises. A single
//   clause is taken to match. `try ... else` runs the else block only when the body did not raise,
//   outside the handlers.
// - `with` items are evaluated in order (each a call site when it is a call, e.g.
//   `tracer.start_as_current_span("x")`), then the body; `match` is a switch without fall-through
//   (`case _` is the default; a guard's calls start its case's body).
// - `raise` is a throw; module-level statements form the `<module>` pseudo-function; class bodies
//   other than their methods are not laid out.
import type { Node } from 'web-tree-sitter';
import { buildCscfg, type CallSite, type Stmt, type SwitchCase } from './cscfg.js';
import { withSyntaxTree } from './languages.js';
import { MODULE_FUNCTION, syntaxProblems, type AnalyzedFunction, type FileCscfg } from './typescript.js';
import { forEachFunctionNode } from './syntax.js';

/** A decorator as written: `@app.route("/x", methods=["GET"])` -> callee `app.route`, firstArg `/x`. */
export interface PythonDecorator {
  /** The decorator's text without the `@`, whitespace collapsed. */
  text: string;
  /** The decorator expression, or the called expression when it is a call. */
  callee: string;
  /** Whether the decorator is a call (`@app.get("/x")` yes, `@staticmethod` no). */
  call: boolean;
  firstArg?: string;
  firstArgKind?: 'string' | 'template';
  line: number;
}

export interface PythonFunction extends AnalyzedFunction {
  decorators: PythonDecorator[];
  /** `async def`. */
  async?: boolean;
}

export interface PythonFileCscfg extends FileCscfg {
  functions: PythonFunction[];
}

const FUNCTION_TYPES = new Set(['function_definition', 'lambda']);

/** Statements that make no calls where they stand (definitions run later; imports are not calls). */
const SKIPPED_STATEMENTS = new Set([
  'function_definition',
  'class_definition',
  'decorated_definition',
  'import_statement',
  'import_from_statement',
  'future_import_statement',
  'pass_statement',
  'global_statement',
  'nonlocal_statement',
  'comment',
]);

const line = (n: Node): number => n.startPosition.row + 1;
const collapse = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** A string literal's content and kind (an f-string is a template); undefined for anything else. */
function stringValue(n: Node | undefined): { value: string; kind: 'string' | 'template' } | undefined {
  if (n?.type !== 'string') return undefined;
  const start = n.namedChildren.find((c) => c.type === 'string_start');
  const end = n.namedChildren.find((c) => c.type === 'string_end');
  if (!start || !end) return undefined;
  const value = n.text.slice(start.endIndex - n.startIndex, end.startIndex - n.startIndex);
  return { value, kind: /f/i.test(start.text) ? 'template' : 'string' };
}

/** The first positional argument of an argument list. */
function firstPositional(args: Node | null): Node | undefined {
  const first = args?.namedChildren.find((a) => a.type !== 'comment');
  if (!first || first.type === 'keyword_argument' || first.type === 'list_splat' || first.type === 'dictionary_splat') return undefined;
  return first;
}

/** A clause's block: the `body`/`consequence` field, or its first `block` child. */
function clauseBlock(n: Node | null): Node | null {
  if (!n) return null;
  return n.childForFieldName('body') ?? n.childForFieldName('consequence') ?? n.namedChildren.find((c) => c.type === 'block') ?? null;
}

/** Translates statements and expressions of one function body into `Stmt`s. */
class PythonTranslator {
  /** Per enclosing loop (innermost last): the label its `break`s need (a loop with `else`), if any. */
  private loopBreakLabels: (string | undefined)[] = [];
  private labelCount = 0;

  constructor(private readonly inlineCallbacks: boolean) {}

  functionBody(fn: Node): Stmt[] {
    const body = fn.childForFieldName('body');
    if (!body) return [];
    const saved = this.loopBreakLabels;
    this.loopBreakLabels = [];
    try {
      return fn.type === 'lambda' ? this.expr(body) : this.statement(body);
    } finally {
      this.loopBreakLabels = saved;
    }
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
      case 'module':
      case 'block':
        return this.statements(n.namedChildren);
      case 'if_statement':
        return [this.ifChain(n, n.childrenForFieldName('alternative').filter((a) => a.isNamed))];
      case 'for_statement':
        return this.loop(n, { kind: 'loop', line: line(n), init: this.expr(n.childForFieldName('right')), cond: [], update: [], body: [] });
      case 'while_statement':
        return this.loop(n, { kind: 'loop', line: line(n), init: [], cond: this.expr(n.childForFieldName('condition')), update: [], body: [] });
      case 'try_statement':
        return this.tryStmt(n);
      case 'with_statement': {
        const out: Stmt[] = [];
        const clause = n.namedChildren.find((c) => c.type === 'with_clause');
        for (const item of clause?.namedChildren ?? []) if (item.type === 'with_item') out.push(...this.expr(item.childForFieldName('value')));
        out.push(...this.statement(n.childForFieldName('body')));
        return out;
      }
      case 'match_statement': {
        const cases: SwitchCase[] = [];
        const body = n.childForFieldName('body');
        for (const c of body?.namedChildren ?? []) {
          if (c.type !== 'case_clause') continue;
          const patterns = c.namedChildren.filter((p) => p.type === 'case_pattern');
          const guard = c.childForFieldName('guard');
          const stmts = [...this.exprChildren(guard), ...this.statement(c.childForFieldName('consequence')), { kind: 'break' } as Stmt];
          const label = patterns.map((p) => collapse(p.text)).join(', ');
          cases.push(label === '_' && !guard ? { body: stmts } : { label, body: stmts });
        }
        return [{ kind: 'switch', line: line(n), discriminant: this.expr(n.childForFieldName('subject')), cases }];
      }
      case 'return_statement':
        return [{ kind: 'return', value: this.exprChildren(n) }];
      case 'raise_statement':
        return [{ kind: 'throw', value: this.exprChildren(n) }];
      case 'break_statement': {
        const label = this.loopBreakLabels[this.loopBreakLabels.length - 1];
        return [label ? { kind: 'break', label } : { kind: 'break' }];
      }
      case 'continue_statement':
        return [{ kind: 'continue' }];
      default:
        // Expression statements, assignments, assert, del, ERROR nodes: the calls they make.
        return this.expr(n);
    }
  }

  /** `if`/`elif`/`else`: each `elif` is an `if` in the else branch of the one before. */
  private ifChain(n: Node, alternatives: readonly Node[]): Stmt {
    const s: Stmt = {
      kind: 'if',
      line: line(n),
      cond: this.expr(n.childForFieldName('condition')),
      then: this.statement(n.childForFieldName('consequence')),
    };
    const [next, ...rest] = alternatives;
    if (next?.type === 'elif_clause') s.else = [this.ifChain(next, rest)];
    else if (next?.type === 'else_clause') s.else = this.statement(clauseBlock(next));
    return s;
  }

  /** A for/while loop; with an `else` block, `break` jumps past the else to a label around both. */
  private loop(n: Node, head: Extract<Stmt, { kind: 'loop' }>): Stmt[] {
    const alt = n.childForFieldName('alternative');
    const label = alt ? `#loop-else-${++this.labelCount}` : undefined;
    this.loopBreakLabels.push(label);
    head.body = this.statement(n.childForFieldName('body'));
    this.loopBreakLabels.pop();
    if (!alt || !label) return [head];
    const orElse = this.statement(clauseBlock(alt));
    return [{ kind: 'labeled', label, body: [head, ...orElse] }];
  }

  private tryStmt(n: Node): Stmt[] {
    const clauses = n.namedChildren.filter((c) => c.type === 'except_clause' || c.type === 'except_group_clause');
    const elseClause = n.namedChildren.find((c) => c.type === 'else_clause');
    const finallyClause = n.namedChildren.find((c) => c.type === 'finally_clause');
    const body = this.statement(n.childForFieldName('body'));
    let handler: { line: number; body: Stmt[] } | undefined;
    const first = clauses[0];
    if (first && clauses.length === 1) {
      handler = { line: line(first), body: this.statement(clauseBlock(first)) };
    } else if (first) {
      const cases: SwitchCase[] = clauses.map((c) => {
        const type = c.childForFieldName('value') ?? c.namedChildren.find((x) => x.type !== 'block' && x.type !== 'comment');
        const stmts = [...this.statement(clauseBlock(c)), { kind: 'break' } as Stmt];
        return type ? { label: collapse(type.text), body: stmts } : { body: stmts };
      });
      // No bare `except:`: an exception no clause matches propagates.
      if (cases.every((c) => c.label !== undefined)) cases.push({ body: [{ kind: 'throw', value: [] }] });
      handler = { line: line(first), body: [{ kind: 'switch', line: line(first), discriminant: [], cases }] };
    }
    const fin = finallyClause ? this.statement(clauseBlock(finallyClause)) : undefined;
    if (!elseClause) {
      const s: Stmt = { kind: 'try', line: line(n), body };
      if (handler) s.catch = handler;
      if (fin) s.finally = fin;
      return [s];
    }
    // try/except/else: the else block runs after a body that did not raise, outside the handlers;
    // a handler that completes breaks past it.
    const label = `#try-else-${++this.labelCount}`;
    const inner: Stmt = { kind: 'try', line: line(n), body };
    if (handler) inner.catch = { line: handler.line, body: [...handler.body, { kind: 'break', label }] };
    const guarded: Stmt = { kind: 'labeled', label, body: [inner, ...this.statement(clauseBlock(elseClause))] };
    return fin ? [{ kind: 'try', line: line(n), body: [guarded], finally: fin }] : [guarded];
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
    if (FUNCTION_TYPES.has(n.type) || n.type === 'comment' || n.type === 'class_definition') return [];
    if (n.type === 'call') return this.call(n);
    return this.exprChildren(n);
  }

  private call(n: Node): Stmt[] {
    const fn = n.childForFieldName('function');
    const args = n.childForFieldName('arguments');
    const out: Stmt[] = this.expr(fn); // calls in the callee's object (`a.b().c()`) come first
    const inline: Stmt[] = [];
    for (const a of args?.namedChildren ?? []) {
      const value = a.type === 'keyword_argument' ? a.childForFieldName('value') : a;
      if (value?.type === 'lambda') {
        if (this.inlineCallbacks) inline.push({ kind: 'inline', body: this.functionBody(value) });
      } else {
        out.push(...this.expr(a));
      }
    }
    const site: CallSite = { callee: collapse(fn?.text ?? ''), line: line(n), column: n.startPosition.column };
    const first = stringValue(firstPositional(args));
    if (first) {
      site.firstArg = first.value;
      site.firstArgKind = first.kind;
    }
    out.push({ kind: 'call', ...site }, ...inline);
    return out;
  }
}

function decoratorOf(d: Node): PythonDecorator {
  const e = d.namedChildren.find((c) => c.type !== 'comment');
  const out: PythonDecorator = { text: collapse(d.text.replace(/^@/, '')), callee: collapse(e?.text ?? ''), call: false, line: line(d) };
  if (e?.type === 'call') {
    const args = e.childForFieldName('arguments');
    out.callee = collapse(e.childForFieldName('function')?.text ?? '');
    out.call = true;
    const first = stringValue(firstPositional(args));
    if (first) {
      out.firstArg = first.value;
      out.firstArgKind = first.kind;
    }
  }
  return out;
}

/** The name of the class whose body directly holds `fn` (through decorators), if any. */
function enclosingClass(fn: Node): string | undefined {
  for (let p = fn.parent; p; p = p.parent) {
    if (p.type === 'class_definition') return p.childForFieldName('name')?.text;
    if (FUNCTION_TYPES.has(p.type)) return undefined;
  }
  return undefined;
}

function functionName(fn: Node): { name: string; className?: string; form: AnalyzedFunction['form'] } {
  if (fn.type === 'function_definition') {
    const own = fn.childForFieldName('name')?.text ?? '<anonymous>';
    const cls = enclosingClass(fn);
    return cls ? { name: `${cls}.${own}`, className: cls, form: 'method' } : { name: own, form: 'function' };
  }
  const form = 'arrow' as const; // a lambda
  const parent = fn.parent;
  if (parent?.type === 'assignment') return { name: collapse(parent.childForFieldName('left')?.text ?? '<lambda>'), form };
  if (parent?.type === 'keyword_argument') return { name: parent.childForFieldName('name')?.text ?? '<lambda>', form };
  if (parent?.type === 'argument_list') {
    const callee = parent.parent?.childForFieldName('function');
    return { name: `<callback of ${collapse(callee?.text ?? '?')}>`, form };
  }
  return { name: '<lambda>', form };
}

/** A lambda passed directly as a call's (keyword) argument. */
function isInlineLambda(fn: Node): boolean {
  if (fn.type !== 'lambda') return false;
  const p = fn.parent;
  return p?.type === 'argument_list' || (p?.type === 'keyword_argument' && p.parent?.type === 'argument_list');
}

/** Every function, method and non-inline lambda of a Python file, plus the `<module>` pseudo-function. */
export function pythonFunctionsOfTree(root: Node): PythonFunction[] {
  const out: PythonFunction[] = [];
  const moduleT = new PythonTranslator(false);
  out.push({
    ...buildCscfg(MODULE_FUNCTION, moduleT.statement(root), { line: 1, endLine: root.endPosition.row + 1 }),
    form: 'module',
    decorators: [],
  });
  const inner = new PythonTranslator(true);
  forEachFunctionNode(root, (n) => FUNCTION_TYPES.has(n.type), isInlineLambda, (c) => {
    const { name, className, form } = functionName(c);
    const decorated = c.parent?.type === 'decorated_definition' ? c.parent : undefined;
    const decorators = decorated ? decorated.namedChildren.filter((d) => d.type === 'decorator').map(decoratorOf) : [];
    const start = decorated ?? c;
    const graph = buildCscfg(name, inner.functionBody(c), { line: line(start), endLine: c.endPosition.row + 1 });
    const isAsync = c.type === 'function_definition' && c.children.some((t) => t.type === 'async');
    out.push({ ...graph, ...(className ? { className } : {}), form, decorators, ...(isAsync ? { async: true } : {}) });
  });
  return out;
}

/**
 * Parses a Python source text and builds the CSCFG of every function and method in it, with their
 * decorators. A file with syntax errors is still analyzed (the tree holds ERROR nodes where it could
 * not parse) and the problems are listed.
 */
export async function analyzePythonSource(file: string, source: string): Promise<PythonFileCscfg> {
  return withSyntaxTree('python', file, source, (root) => ({
    file,
    language: 'python',
    functions: pythonFunctionsOfTree(root),
    syntaxErrors: syntaxProblems(root),
  }));
}
