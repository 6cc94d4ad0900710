// The TypeScript/JavaScript front end of the CSCFG: finds the functions of a file in its
// tree-sitter tree (typescript, tsx and javascript grammars share these node types) and turns each
// body into the structured statements that cscfg.ts builds the graph from.
import type { Node } from 'web-tree-sitter';
import { buildCscfg, type CallSite, type FunctionCscfg, type Stmt, type SwitchCase } from './cscfg.js';
import { languageForPath, withSyntaxTree, type AnalyzerLanguage } from './languages.js';
import { concatOperands, forEachFunctionNode, unwrapParens } from './syntax.js';

/** A place where the parser could not read the file; the rest of the file is still analyzed. */
export interface SyntaxProblem {
  line: number;
  column: number;
  message: string;
}

export interface AnalyzedFunction extends FunctionCscfg {
  /** The class a method or field function belongs to. */
  className?: string;
  /** `module` is the pseudo-function of a file's top-level statements. */
  form: 'function' | 'method' | 'arrow' | 'function-expression' | 'module';
}

export interface FileCscfg {
  file: string;
  language: AnalyzerLanguage;
  functions: AnalyzedFunction[];
  syntaxErrors: SyntaxProblem[];
}

/**
 * A binding a file imports from another module: `import { a as b } from './x'` is
 * `{ local: 'b', imported: 'a', from: './x' }`; a default import has `imported: 'default'`, a
 * namespace import (`import * as ns`, `const ns = require('./x')`) `imported: '*'`.
 */
export interface ScriptImport {
  local: string;
  imported: string;
  from: string;
}

export interface ScriptFileCscfg extends FileCscfg {
  imports: ScriptImport[];
  /** The name of what `export default` exports, when it is a named function, class or identifier. */
  defaultExport?: string;
}

/** The name the pseudo-function of a file's top-level code gets. */
export const MODULE_FUNCTION = '<module>';

const FUNCTION_TYPES = new Set([
  'function_declaration',
  'generator_function_declaration',
  'function_expression',
  'function', // older javascript grammars
  'generator_function',
  'arrow_function',
  'method_definition',
]);

/** Declarations whose bodies are not executed where they stand (or are types only). */
const SKIPPED_STATEMENTS = new Set([
  'function_declaration',
  'generator_function_declaration',
  'class_declaration',
  'abstract_class_declaration',
  'interface_declaration',
  'type_alias_declaration',
  'ambient_declaration',
  'import_statement',
  'empty_statement',
  'comment',
  'debugger_statement',
]);

const CLASS_TYPES = new Set(['class_declaration', 'abstract_class_declaration', 'class']);

const line = (n: Node): number => n.startPosition.row + 1;
const collapse = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** Translates statements and expressions of one function body into `Stmt`s. */
class Translator {
  /**
   * Inside a function, a callback passed inline runs where the call is (startActiveSpan, Promise
   * executors, array callbacks), so its body joins the caller's graph. At module level a callback
   * (a route handler, say) runs later, so it is a function of its own.
   */
  constructor(private readonly inlineCallbacks: boolean) {}

  statements(nodes: readonly Node[]): Stmt[] {
    const out: Stmt[] = [];
    for (const n of nodes) out.push(...this.statement(n));
    return out;
  }

  /** A function's body: a block, or the expression of a concise arrow function. */
  functionBody(fn: Node): Stmt[] {
    const body = fn.childForFieldName('body');
    if (!body) return [];
    return body.type === 'statement_block' ? this.statement(body) : this.expr(body);
  }

  statement(n: Node | null): Stmt[] {
    if (!n) return [];
    if (SKIPPED_STATEMENTS.has(n.type)) return [];
    switch (n.type) {
      case 'program':
      case 'statement_block':
        return this.statements(n.namedChildren);
      case 'expression_statement':
      case 'lexical_declaration':
      case 'variable_declaration':
        return this.expr(n);
      case 'export_statement': {
        const decl = n.childForFieldName('declaration');
        if (decl) return this.statement(decl);
        return this.expr(n);
      }
      case 'if_statement': {
        const alt = n.childForFieldName('alternative');
        const s: Stmt = {
          kind: 'if',
          line: line(n),
          cond: this.expr(n.childForFieldName('condition')),
          then: this.statement(n.childForFieldName('consequence')),
        };
        // `else_clause` wraps the else statement; an `else if` is an if statement inside it.
        if (alt) s.else = this.statements(alt.namedChildren);
        return [s];
      }
      case 'switch_statement': {
        const cases: SwitchCase[] = [];
        for (const c of n.childForFieldName('body')?.namedChildren ?? []) {
          if (c.type !== 'switch_case' && c.type !== 'switch_default') continue;
          const value = c.childForFieldName('value');
          const body = this.statements(c.childrenForFieldName('body'));
          cases.push(c.type === 'switch_default' || !value ? { body } : { label: collapse(value.text), body });
        }
        return [{ kind: 'switch', line: line(n), discriminant: this.expr(n.childForFieldName('value')), cases }];
      }
      case 'for_statement':
        return [
          {
            kind: 'loop',
            line: line(n),
            init: this.statement(n.childForFieldName('initializer')),
            cond: this.expr(n.childForFieldName('condition')),
            update: this.expr(n.childForFieldName('increment')),
            body: this.statement(n.childForFieldName('body')),
          },
        ];
      case 'for_in_statement':
        // for-of and for-in: the iterable is evaluated once, then one decision per element.
        return [
          { kind: 'loop', line: line(n), init: this.expr(n.childForFieldName('right')), cond: [], update: [], body: this.statement(n.childForFieldName('body')) },
        ];
      case 'while_statement':
        return [
          { kind: 'loop', line: line(n), init: [], cond: this.expr(n.childForFieldName('condition')), update: [], body: this.statement(n.childForFieldName('body')) },
        ];
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
      case 'try_statement': {
        const handler = n.childForFieldName('handler');
        const finalizer = n.childForFieldName('finalizer');
        const s: Stmt = { kind: 'try', line: line(n), body: this.statement(n.childForFieldName('body')) };
        if (handler) s.catch = { line: line(handler), body: this.statement(handler.childForFieldName('body')) };
        if (finalizer) s.finally = this.statement(finalizer.childForFieldName('body'));
        return [s];
      }
      case 'return_statement':
        return [{ kind: 'return', value: this.exprChildren(n) }];
      case 'throw_statement':
        return [{ kind: 'throw', value: this.exprChildren(n) }];
      case 'break_statement': {
        const label = n.childForFieldName('label');
        return [label ? { kind: 'break', label: label.text } : { kind: 'break' }];
      }
      case 'continue_statement': {
        const label = n.childForFieldName('label');
        return [label ? { kind: 'continue', label: label.text } : { kind: 'continue' }];
      }
      case 'labeled_statement':
        return [{ kind: 'labeled', label: n.childForFieldName('label')?.text ?? '', body: this.statement(n.childForFieldName('body')) }];
      default:
        // Anything else (class static blocks, ERROR nodes, ...) contributes the calls it makes.
        return this.expr(n);
    }
  }

  private exprChildren(n: Node): Stmt[] {
    const out: Stmt[] = [];
    for (const c of n.namedChildren) out.push(...this.expr(c));
    return out;
  }

  /** The calls an expression makes, in evaluation order; nested function bodies are not run here. */
  expr(n: Node | null): Stmt[] {
    if (!n) return [];
    if (FUNCTION_TYPES.has(n.type) || CLASS_TYPES.has(n.type) || n.type === 'comment') return [];
    if (n.type === 'call_expression' || n.type === 'new_expression') return this.call(n);
    return this.exprChildren(n);
  }

  private call(n: Node): Stmt[] {
    const isNew = n.type === 'new_expression';
    const fn = n.childForFieldName(isNew ? 'constructor' : 'function');
    const args = n.childForFieldName('arguments');
    const out: Stmt[] = [];
    const inline: Stmt[] = [];
    const target = fn ? unwrapParens(fn) : undefined;
    if (target && FUNCTION_TYPES.has(target.type)) {
      // An immediately invoked function expression runs its body right here.
      if (this.inlineCallbacks) inline.push({ kind: 'inline', body: this.functionBody(target) });
    } else {
      out.push(...this.expr(fn)); // calls in the callee's object (`a.b().c()`) come first
    }
    const argNodes = args ? args.namedChildren.filter((a) => a.type !== 'comment') : [];
    for (const a of argNodes) {
      if (FUNCTION_TYPES.has(a.type)) {
        if (this.inlineCallbacks) inline.push({ kind: 'inline', body: this.functionBody(a) });
      } else {
        out.push(...this.expr(a));
      }
    }
    const site: CallSite = {
      callee: collapse(fn?.text ?? ''),
      line: line(n),
      column: n.startPosition.column,
    };
    const first = argNodes[0];
    if (first?.type === 'string') {
      site.firstArg = first.text.slice(1, -1);
      site.firstArgKind = 'string';
    } else if (first?.type === 'template_string') {
      site.firstArg = first.text.slice(1, -1);
      site.firstArgKind = 'template';
    } else if (first?.type === 'binary_expression') {
      // `'http://carts/' + id`: kept as a template when it starts with a string, so the literal prefix stays.
      const ops = concatOperands(first);
      if (ops.length > 1 && ops[0]!.type === 'string') {
        site.firstArg = ops.map((o) => (o.type === 'string' ? o.text.slice(1, -1) : o.type === 'template_string' ? o.text.slice(1, -1) : `\${${collapse(o.text)}}`)).join('');
        site.firstArgKind = 'template';
      }
    }
    if (isNew) site.construct = true;
    out.push({ kind: 'call', ...site }, ...inline);
    return out;
  }
}

/** The name of the class that directly contains `n`, if any. */
function enclosingClass(n: Node): string | undefined {
  for (let p = n.parent; p; p = p.parent) {
    if (CLASS_TYPES.has(p.type)) return p.childForFieldName('name')?.text;
    if (FUNCTION_TYPES.has(p.type)) return undefined;
  }
  return undefined;
}

function functionName(fn: Node): { name: string; className?: string; form: AnalyzedFunction['form'] } {
  const form: AnalyzedFunction['form'] =
    fn.type === 'method_definition' ? 'method' : fn.type === 'arrow_function' ? 'arrow' : fn.type.endsWith('declaration') ? 'function' : 'function-expression';
  const own = fn.childForFieldName('name')?.text;
  const parent = fn.parent;
  const withClass = (name: string): { name: string; className?: string; form: AnalyzedFunction['form'] } => {
    const cls = enclosingClass(fn);
    return cls ? { name: `${cls}.${name}`, className: cls, form } : { name, form };
  };
  if (fn.type === 'method_definition' && own) return withClass(own);
  if (own && fn.type.endsWith('declaration')) return { name: own, form };
  if (parent) {
    switch (parent.type) {
      case 'variable_declarator':
        return { name: parent.childForFieldName('name')?.text ?? own ?? '<anonymous>', form };
      case 'public_field_definition':
      case 'field_definition':
        return withClass(parent.childForFieldName('name')?.text ?? parent.childForFieldName('property')?.text ?? '<anonymous>');
      case 'pair':
        return { name: parent.childForFieldName('key')?.text ?? '<anonymous>', form };
      case 'assignment_expression':
        return { name: collapse(parent.childForFieldName('left')?.text ?? '<anonymous>'), form };
      case 'arguments': {
        const call = parent.parent;
        const callee = call?.childForFieldName('function') ?? call?.childForFieldName('constructor');
        return { name: `<callback of ${collapse(callee?.text ?? '?')}>`, form };
      }
    }
  }
  return { name: own ?? '<anonymous>', form };
}

/** A function passed directly as a call's argument, or called on the spot (an IIFE). */
function isInlineCallback(fn: Node): boolean {
  if (fn.parent?.type === 'arguments') return true;
  let cur: Node = fn;
  while (cur.parent?.type === 'parenthesized_expression') cur = cur.parent;
  const call = cur.parent;
  return call?.type === 'call_expression' && call.childForFieldName('function')?.id === cur.id;
}

/** Every function of a file's tree with its CSCFG, plus the `<module>` pseudo-function. */
export function functionsOfTree(root: Node): AnalyzedFunction[] {
  const out: AnalyzedFunction[] = [];
  const moduleT = new Translator(false);
  out.push({
    ...buildCscfg(MODULE_FUNCTION, moduleT.statement(root), { line: 1, endLine: root.endPosition.row + 1 }),
    form: 'module',
  });
  const inner = new Translator(true);
  // Inline callbacks (and IIFEs) inside a function are part of that function's graph.
  forEachFunctionNode(root, (n) => FUNCTION_TYPES.has(n.type), isInlineCallback, (c) => {
    const { name, className, form } = functionName(c);
    const graph = buildCscfg(name, inner.functionBody(c), { line: line(c), endLine: c.endPosition.row + 1 });
    out.push({ ...graph, ...(className ? { className } : {}), form });
  });
  return out;
}

/** Positions of ERROR and MISSING nodes. */
export function syntaxProblems(root: Node): SyntaxProblem[] {
  const out: SyntaxProblem[] = [];
  const visit = (n: Node): void => {
    if (n.isMissing) {
      out.push({ line: line(n), column: n.startPosition.column, message: `missing ${n.type}` });
      return;
    }
    if (n.isError) {
      out.push({ line: line(n), column: n.startPosition.column, message: `cannot parse ${JSON.stringify(collapse(n.text).slice(0, 40))}` });
    }
    for (const c of n.children) if (c.hasError || c.isMissing) visit(c);
  };
  if (root.hasError) visit(root);
  return out;
}

export type ScriptLanguage = Extract<AnalyzerLanguage, 'typescript' | 'tsx' | 'javascript'>;

/**
 * Parses a TypeScript/TSX/JavaScript source text and builds the CSCFG of every function in it. The
 * language comes from the file name unless given. A file with syntax errors is still analyzed (the
 * tree holds ERROR nodes where it could not parse) and the problems are listed.
 */
export async function analyzeScriptSource(file: string, source: string, language?: ScriptLanguage): Promise<ScriptFileCscfg> {
  const lang = language ?? languageForPath(file) ?? 'typescript';
  if (lang !== 'typescript' && lang !== 'tsx' && lang !== 'javascript') throw new Error(`${file}: not a TypeScript or JavaScript file (${lang})`);
  return withSyntaxTree(lang, file, source, (root) => {
    const { imports, defaultExport } = modulesOfTree(root);
    return { file, language: lang, functions: functionsOfTree(root), syntaxErrors: syntaxProblems(root), imports, ...(defaultExport ? { defaultExport } : {}) };
  });
}

const unquote = (s: string): string => s.replace(/^['"`]|['"`]$/g, '');

/** The top-level imports (ESM and `require`) and the default export's name of a file. */
export function modulesOfTree(root: Node): { imports: ScriptImport[]; defaultExport?: string } {
  const imports: ScriptImport[] = [];
  let defaultExport: string | undefined;
  for (const st of root.namedChildren) {
    if (st.type === 'import_statement') {
      const from = st.childForFieldName('source');
      if (!from) continue;
      const clause = st.namedChildren.find((c) => c.type === 'import_clause');
      for (const c of clause?.namedChildren ?? []) {
        if (c.type === 'identifier') imports.push({ local: c.text, imported: 'default', from: unquote(from.text) });
        else if (c.type === 'namespace_import') {
          const id = c.namedChildren.find((x) => x.type === 'identifier');
          if (id) imports.push({ local: id.text, imported: '*', from: unquote(from.text) });
        } else if (c.type === 'named_imports') {
          for (const spec of c.namedChildren) {
            if (spec.type !== 'import_specifier') continue;
            const name = spec.childForFieldName('name')?.text;
            if (name) imports.push({ local: spec.childForFieldName('alias')?.text ?? name, imported: name, from: unquote(from.text) });
          }
        }
      }
    } else if (st.type === 'lexical_declaration' || st.type === 'variable_declaration') {
      // CommonJS: `const x = require('./x')`, `const { a, b: c } = require('./x')`.
      for (const d of st.namedChildren) {
        if (d.type !== 'variable_declarator') continue;
        const value = d.childForFieldName('value');
        if (value?.type !== 'call_expression' || value.childForFieldName('function')?.text !== 'require') continue;
        const arg = value.childForFieldName('arguments')?.namedChildren[0];
        if (arg?.type !== 'string') continue;
        const from = unquote(arg.text);
        const name = d.childForFieldName('name');
        if (name?.type === 'identifier') imports.push({ local: name.text, imported: '*', from });
        else if (name?.type === 'object_pattern') {
          for (const p of name.namedChildren) {
            if (p.type === 'shorthand_property_identifier_pattern') imports.push({ local: p.text, imported: p.text, from });
            else if (p.type === 'pair_pattern') {
              const key = p.childForFieldName('key')?.text;
              const val = p.childForFieldName('value');
              if (key && val?.type === 'identifier') imports.push({ local: val.text, imported: key, from });
            }
          }
        }
      }
    } else if (st.type === 'export_statement' && st.children.some((c) => c.type === 'default')) {
      const decl = st.childForFieldName('declaration');
      const value = st.childForFieldName('value');
      defaultExport = decl?.childForFieldName('name')?.text ?? (value?.type === 'identifier' ? value.text : undefined) ?? value?.childForFieldName('name')?.text;
    }
  }
  return defaultExport ? { imports, defaultExport } : { imports };
}
