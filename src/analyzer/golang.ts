// The Go front end of the CSCFG: finds the functions and methods of a Go file in its tree-sitter
// tree and turns each body into the structured statements that cscfg.ts builds the graph from.
//
// Go-specific choices:
// - A method is named `Type.Method` after its receiver's type (pointer and type parameters dropped,
//   no package); a function literal passed inline to a call (or called on the spot, `go func(){}()`,
//   `defer func(){}()`) inside a function is folded into that function's graph; other function
//   literals (`h := func(...) {...}`, package-level ones) are functions of their own.
// - switch and type switch cases do not fall through unless the case ends in `fallthrough`; a
//   select is a switch over its communication cases (a select without `default` still gets the
//   builder's `default` edge past it, although a real select blocks).
// - `defer f()` runs at exit: the deferred calls (last deferred first) are laid out before every
//   `return` and `panic` that follows the defer in its block, and at the natural end of the body for
//   defers in the function's top-level block. A defer inside a nested block is not repeated at the
//   function's natural end (whether it ran depends on the path taken).
// - `panic(x)` is a throw (no call node for `panic` itself); `goto` is treated as leaving the function.
// - Package-level `var`/`const` initializers form the `<module>` pseudo-function.
import type { Node } from 'web-tree-sitter';
import { buildCscfg, type CallSite, type CscfgNode, type Stmt, type SwitchCase } from './cscfg.js';
import { withSyntaxTree } from './languages.js';
import { MODULE_FUNCTION, syntaxProblems, type AnalyzedFunction, type FileCscfg } from './typescript.js';
import { concatOperands, forEachFunctionNode, unwrapParens } from './syntax.js';

/** A Go call site: also the second argument when it is a string literal (`tracer.Start(ctx, "span")`). */
export interface GoCallSite extends CallSite {
  secondArg?: string;
  secondArgKind?: 'string';
}

/** A call node of a Go function's graph. */
export type GoCallNode = Extract<CscfgNode, { kind: 'call' }> & GoCallSite;

export interface GoFunction extends AnalyzedFunction {
  /** The receiver's type of a method (also in `className`), e.g. `OrderService` for `func (s *OrderService) Do()`. */
  receiver?: string;
  /** The receiver's variable name (`s` in `func (s *OrderService) Do()`), for resolving `s.Other()`. */
  receiverName?: string;
}

export interface GoFileCscfg extends FileCscfg {
  functions: GoFunction[];
}

const FUNCTION_TYPES = new Set(['function_declaration', 'method_declaration', 'func_literal']);

/** Statements that make no calls where they stand. */
const SKIPPED_STATEMENTS = new Set([
  'function_declaration',
  'method_declaration',
  'type_declaration',
  'import_declaration',
  'package_clause',
  'empty_statement',
  'comment',
  'fallthrough_statement',
]);

const STRING_TYPES = new Set(['interpreted_string_literal', 'raw_string_literal']);

const line = (n: Node): number => n.startPosition.row + 1;
const collapse = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** The callee of `panic(...)` as written, with no package or receiver. */
function isPanic(call: Node): boolean {
  return call.type === 'call_expression' && call.childForFieldName('function')?.text === 'panic';
}

/** Translates statements and expressions of one function body into `Stmt`s. */
class GoTranslator {
  /** Deferred calls active in the enclosing blocks, innermost block last; each block's list in defer order. */
  private defers: Stmt[][][] = [];

  constructor(private readonly inlineCallbacks: boolean) {}

  /** A function's body, with its top-level defers run at the natural end. */
  functionBody(fn: Node): Stmt[] {
    const body = fn.childForFieldName('body');
    if (!body) return [];
    const saved = this.defers;
    this.defers = [];
    try {
      return this.block(body, true);
    } finally {
      this.defers = saved;
    }
  }

  /** The deferred calls to run when leaving the function here, last deferred first. */
  private pendingDefers(): Stmt[] {
    const out: Stmt[] = [];
    for (let i = this.defers.length - 1; i >= 0; i--) {
      const level = this.defers[i]!;
      for (let j = level.length - 1; j >= 0; j--) out.push(...level[j]!);
    }
    return out;
  }

  /** A `block` (or `statement_list`) with its own defer scope. */
  private block(n: Node | null, functionTop = false): Stmt[] {
    if (!n) return [];
    const list = n.type === 'block' ? n.namedChildren.find((c) => c.type === 'statement_list') : n;
    const stmts = list ? list.namedChildren : n.namedChildren.filter((c) => c.type !== 'statement_list');
    this.defers.push([]);
    const out = this.statements(stmts);
    const level = this.defers.pop()!;
    if (functionTop && level.length) {
      const last = out[out.length - 1];
      if (!last || (last.kind !== 'return' && last.kind !== 'throw')) {
        this.defers.push(level);
        out.push(...this.pendingDefers());
        this.defers.pop();
      }
    }
    return out;
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
      case 'source_file':
        return this.statements(n.namedChildren);
      case 'block':
        return this.block(n);
      case 'expression_statement': {
        const e = n.namedChildren[0];
        if (e && isPanic(e)) {
          const value = this.exprChildren(e.childForFieldName('arguments'));
          return [{ kind: 'throw', value: [...value, ...this.pendingDefers()] }];
        }
        return this.expr(n);
      }
      case 'defer_statement': {
        // The deferred call's arguments are evaluated now; the call itself runs at exit.
        const call = n.namedChildren.find((c) => c.type !== 'comment');
        const scope = this.defers[this.defers.length - 1];
        if (call && scope) scope.push(this.expr(call));
        return [];
      }
      case 'if_statement': {
        const alt = n.childForFieldName('alternative');
        const s: Stmt = {
          kind: 'if',
          line: line(n),
          cond: [...this.statement(n.childForFieldName('initializer')), ...this.expr(n.childForFieldName('condition'))],
          then: this.block(n.childForFieldName('consequence')),
        };
        if (alt) s.else = alt.type === 'block' ? this.block(alt) : this.statement(alt);
        return [s];
      }
      case 'expression_switch_statement':
      case 'type_switch_statement': {
        const cases: SwitchCase[] = [];
        for (const c of n.namedChildren) {
          if (c.type !== 'expression_case' && c.type !== 'type_case' && c.type !== 'default_case') continue;
          const labels = (c.type === 'type_case' ? c.childrenForFieldName('type') : c.childrenForFieldName('value')).filter((l) => l.isNamed);
          const body = this.caseBody(c);
          if (c.type === 'default_case') cases.push({ body });
          else cases.push({ label: labels.map((l) => collapse(l.text)).join(', '), body });
        }
        const discriminant = [...this.statement(n.childForFieldName('initializer')), ...this.expr(n.childForFieldName('value'))];
        return [{ kind: 'switch', line: line(n), discriminant, cases }];
      }
      case 'select_statement': {
        const cases: SwitchCase[] = [];
        for (const c of n.namedChildren) {
          if (c.type === 'default_case') cases.push({ body: this.caseBody(c) });
          if (c.type !== 'communication_case') continue;
          const comm = c.childForFieldName('communication');
          cases.push({ label: collapse(comm?.text ?? ''), body: [...this.statement(comm), ...this.caseBody(c)] });
        }
        return [{ kind: 'switch', line: line(n), discriminant: [], cases }];
      }
      case 'for_statement': {
        const body = this.block(n.childForFieldName('body'));
        const clause = n.namedChildren.find((c) => c.type === 'for_clause' || c.type === 'range_clause');
        if (clause?.type === 'for_clause') {
          return [
            {
              kind: 'loop',
              line: line(n),
              init: this.statement(clause.childForFieldName('initializer')),
              cond: this.expr(clause.childForFieldName('condition')),
              update: this.statement(clause.childForFieldName('update')),
              body,
            },
          ];
        }
        if (clause?.type === 'range_clause') {
          // The range expression is evaluated once, then one decision per element.
          return [{ kind: 'loop', line: line(n), init: this.expr(clause.childForFieldName('right')), cond: [], update: [], body }];
        }
        // `for cond {}` or `for {}`: the condition is the only other named child.
        const cond = n.namedChildren.find((c) => c.id !== n.childForFieldName('body')?.id && c.type !== 'comment');
        return [{ kind: 'loop', line: line(n), init: [], cond: this.expr(cond ?? null), update: [], body }];
      }
      case 'return_statement':
        return [{ kind: 'return', value: [...this.exprChildren(n), ...this.pendingDefers()] }];
      case 'goto_statement':
        return [{ kind: 'return', value: this.pendingDefers() }];
      case 'break_statement': {
        const label = n.namedChildren.find((c) => c.type === 'label_name');
        return [label ? { kind: 'break', label: label.text } : { kind: 'break' }];
      }
      case 'continue_statement': {
        const label = n.namedChildren.find((c) => c.type === 'label_name');
        return [label ? { kind: 'continue', label: label.text } : { kind: 'continue' }];
      }
      case 'labeled_statement': {
        const label = n.childForFieldName('label')?.text ?? '';
        const body = n.namedChildren.filter((c) => c.type !== 'label_name' && c.type !== 'comment');
        return [{ kind: 'labeled', label, body: this.statements(body) }];
      }
      case 'go_statement':
        // The goroutine's call is made here; an inline literal's body is folded in like a callback.
        return this.exprChildren(n);
      default:
        // Declarations, assignments, sends, inc/dec, ERROR nodes: the calls they make.
        return this.expr(n);
    }
  }

  /** A case's statements; unless it ends in `fallthrough`, control leaves the switch after it. */
  private caseBody(c: Node): Stmt[] {
    const list = c.namedChildren.find((x) => x.type === 'statement_list');
    const stmts = list ? list.namedChildren : [];
    this.defers.push([]);
    const body = this.statements(stmts);
    this.defers.pop();
    const last = stmts.filter((s) => s.type !== 'comment').at(-1);
    if (last?.type !== 'fallthrough_statement') body.push({ kind: 'break' });
    return body;
  }

  private exprChildren(n: Node | null): Stmt[] {
    if (!n) return [];
    const out: Stmt[] = [];
    for (const c of n.namedChildren) out.push(...this.expr(c));
    return out;
  }

  /** The calls an expression makes, in evaluation order; function literal bodies are not run here. */
  expr(n: Node | null): Stmt[] {
    if (!n) return [];
    if (FUNCTION_TYPES.has(n.type) || n.type === 'comment') return [];
    if (n.type === 'call_expression') return this.call(n);
    return this.exprChildren(n);
  }

  private call(n: Node): Stmt[] {
    const fn = n.childForFieldName('function');
    const args = n.childForFieldName('arguments');
    const out: Stmt[] = [];
    const inline: Stmt[] = [];
    const target = fn ? unwrapParens(fn) : undefined;
    if (target?.type === 'func_literal') {
      if (this.inlineCallbacks) inline.push({ kind: 'inline', body: this.functionBody(target) });
    } else {
      out.push(...this.expr(fn)); // calls in the callee's operand (`a.b().c()`) come first
    }
    const argNodes = args ? args.namedChildren.filter((a) => a.type !== 'comment') : [];
    for (const a of argNodes) {
      if (a.type === 'func_literal') {
        if (this.inlineCallbacks) inline.push({ kind: 'inline', body: this.functionBody(a) });
      } else {
        out.push(...this.expr(a));
      }
    }
    const site: GoCallSite = { callee: collapse(fn?.text ?? ''), line: line(n), column: n.startPosition.column };
    const [first, second] = argNodes;
    if (first && STRING_TYPES.has(first.type)) {
      site.firstArg = first.text.slice(1, -1);
      site.firstArgKind = 'string';
    } else if (first?.type === 'binary_expression') {
      // `"http://a/" + id`: kept as a template when it starts with a string, so the literal prefix stays.
      const ops = concatOperands(first);
      if (ops.length > 1 && STRING_TYPES.has(ops[0]!.type)) {
        site.firstArg = ops.map((o) => (STRING_TYPES.has(o.type) ? o.text.slice(1, -1) : `\${${collapse(o.text)}}`)).join('');
        site.firstArgKind = 'template';
      }
    }
    if (second && STRING_TYPES.has(second.type)) {
      site.secondArg = second.text.slice(1, -1);
      site.secondArgKind = 'string';
    }
    // A function literal called on the spot is no call site of its own: its body is folded in.
    if (target?.type !== 'func_literal') out.push({ kind: 'call', ...site });
    out.push(...inline);
    return out;
  }
}

/** The receiver's variable name: `s` in `func (s *OrderService) Do()`. */
function receiverName(method: Node): string | undefined {
  const param = method.childForFieldName('receiver')?.namedChildren.find((c) => c.type === 'parameter_declaration');
  return param?.childForFieldName('name')?.text;
}

/** The receiver's type name: `*OrderService[T]` -> `OrderService`. */
function receiverType(method: Node): string | undefined {
  const param = method.childForFieldName('receiver')?.namedChildren.find((c) => c.type === 'parameter_declaration');
  const type = param?.childForFieldName('type');
  if (!type) return undefined;
  return type.text.replace(/^[\s*(]+/, '').replace(/[\[)].*$/s, '').trim() || undefined;
}

function functionName(fn: Node): { name: string; receiver?: string; form: AnalyzedFunction['form'] } {
  if (fn.type === 'method_declaration') {
    const own = fn.childForFieldName('name')?.text ?? '<anonymous>';
    const recv = receiverType(fn);
    return recv ? { name: `${recv}.${own}`, receiver: recv, form: 'method' } : { name: own, form: 'method' };
  }
  if (fn.type === 'function_declaration') return { name: fn.childForFieldName('name')?.text ?? '<anonymous>', form: 'function' };
  // A function literal: named after what it is assigned to, or the call it is passed to.
  const form = 'function-expression' as const;
  let cur: Node = fn;
  while (cur.parent?.type === 'parenthesized_expression') cur = cur.parent;
  const parent = cur.parent;
  if (parent?.type === 'expression_list') {
    const holder = parent.parent;
    const index = parent.namedChildren.findIndex((c) => c.id === cur.id);
    if (holder && (holder.type === 'short_var_declaration' || holder.type === 'assignment_statement' || holder.type === 'var_spec')) {
      const lhs = holder.type === 'var_spec' ? holder.childrenForFieldName('name').filter((x) => x.isNamed) : (holder.childForFieldName('left')?.namedChildren ?? []);
      const target = lhs[index];
      if (target) return { name: collapse(target.text), form };
    }
  }
  if (parent?.type === 'keyed_element') {
    const key = parent.namedChildren[0];
    if (key && key.id !== cur.id) return { name: collapse(key.text), form };
  }
  if (parent?.type === 'argument_list') {
    const callee = parent.parent?.childForFieldName('function');
    return { name: `<callback of ${collapse(callee?.text ?? '?')}>`, form };
  }
  return { name: '<anonymous>', form };
}

/** A literal passed directly as a call's argument, or called on the spot. */
function isInlineLiteral(fn: Node): boolean {
  if (fn.type !== 'func_literal') return false;
  if (fn.parent?.type === 'argument_list') return true;
  let cur: Node = fn;
  while (cur.parent?.type === 'parenthesized_expression') cur = cur.parent;
  const call = cur.parent;
  return call?.type === 'call_expression' && call.childForFieldName('function')?.id === cur.id;
}

/** Every function, method and non-inline function literal of a Go file, plus the `<module>` pseudo-function. */
export function goFunctionsOfTree(root: Node): GoFunction[] {
  const out: GoFunction[] = [];
  const moduleT = new GoTranslator(false);
  out.push({ ...buildCscfg(MODULE_FUNCTION, moduleT.statement(root), { line: 1, endLine: root.endPosition.row + 1 }), form: 'module' });
  const inner = new GoTranslator(true);
  forEachFunctionNode(root, (n) => FUNCTION_TYPES.has(n.type), isInlineLiteral, (c) => {
    const { name, receiver, form } = functionName(c);
    const graph = buildCscfg(name, inner.functionBody(c), { line: line(c), endLine: c.endPosition.row + 1 });
    const rname = receiver ? receiverName(c) : undefined;
    out.push({ ...graph, ...(receiver ? { className: receiver, receiver } : {}), ...(rname ? { receiverName: rname } : {}), form });
  });
  return out;
}

/**
 * Parses a Go source text and builds the CSCFG of every function and method in it. A file with
 * syntax errors is still analyzed (the tree holds ERROR nodes where it could not parse) and the
 * problems are listed.
 */
export async function analyzeGoSource(file: string, source: string): Promise<GoFileCscfg> {
  return withSyntaxTree('go', file, source, (root) => ({ file, language: 'go', functions: goFunctionsOfTree(root), syntaxErrors: syntaxProblems(root) }));
}
