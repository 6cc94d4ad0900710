// The one step walker behind the Go, Python, Java and C# printers. It prints an operation's step
// program through a language's syntax table (how an if, a switch, a loop, a try, a call, a query or
// a return is written) and records the code model exactly as the TypeScript printer does: the line
// and function of every span site, and every branch point with the spans on its arms. The syntax
// tables stay small because everything here (order, nesting, what is a branch point) is shared.
import type { CodeModelBranchPoint, CodeModelOperation, CodeModelSpan } from '../code-model.js';
import { arm, qualified, type Printer } from '../printing.js';
import { entrySpanKind, entrySpanName, stepSpan } from '../naming.js';
import { languageOf, walkSteps, type InternalStep, type Language, type OperationDef, type ServiceDef, type Step, type Topology, type TryStep } from '../topology.js';
import { helperMethodName, methodName, qualifiedFunction } from './profiles.js';

export type PolyglotLanguage = Exclude<Language, 'typescript'>;

/** A leaf step as code: the expression, and the text of it that locates the span. */
export interface LeafCode {
  expr: string;
  anchor: string;
  /** Go: the call returns (value, error), so a kept result is `x, _ :=`. */
  pair?: boolean;
}

/** What printing one function needs and records. */
export interface PrintCtx {
  topology: Topology;
  svc: ServiceDef;
  op: OperationDef;
  /** Qualified function (`Type.method`), as the model names it. */
  fn: string;
  file: string;
  /** Inside a helper: a return leaves the helper, not the operation. */
  helper: boolean;
  spans: CodeModelSpan[];
  branchPoints: CodeModelBranchPoint[];
  helpers: InternalStep[];
  /** The kind of step each `as` variable holds (a cache read is a string, a call a message). */
  vars: Map<string, Step['kind']>;
}

/** How one language writes each construct. Block openers leave the printer indented for the body. */
export interface Syntax {
  language: PolyglotLanguage;
  /** Lines that open an if (the first is the branch point's line). */
  ifOpen(cond: string): string[];
  /** Printed at the if's depth between the arms. */
  elseLines: string[];
  /** Printed at the block's depth to close it. */
  close: string[];
  /** The body of a block with no statement (Python's `pass`). */
  empty: string[];
  not(cond: string): string;
  switchOpen(discriminant: string): string[];
  caseOpen(label: string): string[];
  /** Statements ending a case body that does not return (Java and C#: `break;`). */
  caseEnd: string[];
  caseClose: string[];
  /** Go's gofmt puts `case` at the switch's depth; the others indent it. */
  casesIndented: boolean;
  loopOpen(ctx: PrintCtx, item: string | undefined, over: string | undefined): string[];
  tryOpen: string[];
  /** Printed at the try's depth between the body and the handler of what the body's calls throw. */
  catchLines(ctx: PrintCtx, step: TryStep): string[];
  /** A leaf step as a statement; `as` keeps its result. */
  statement(ctx: PrintCtx, code: LeafCode, as: string | undefined): string;
  leaf(ctx: PrintCtx, step: Step): LeafCode;
  /** A return: `status` is HTTP-style (200 = success). */
  ret(ctx: PrintCtx, status: number, id: string): string[];
  /** A condition or switch discriminant written in the topology's TypeScript form, in this language. */
  cond(ctx: PrintCtx, expr: string): string;
  /** The handler's declaration; returns its line. The body follows at one more depth. */
  handlerOpen(p: Printer, ctx: PrintCtx): number;
  /** The success answer at a handler's end (when it does not end in a return). */
  handlerEnd(ctx: PrintCtx): string[];
  /** A helper's declaration and span; returns the declaration's and the span's lines. */
  helperOpen(p: Printer, ctx: PrintCtx, helper: InternalStep, name: string): { line: number; spanLine: number; anchor: string };
  /** Closes what handlerOpen/helperOpen opened (helperOpen may open two blocks). */
  functionClose(p: Printer, helper: boolean): void;
  /** A try whose language has no exceptions (Go) prints itself. */
  printTry?(p: Printer, ctx: PrintCtx, step: TryStep, walk: Walker): number;
}

export interface Walker {
  steps(p: Printer, ctx: PrintCtx, steps: readonly Step[]): void;
  /** Records a leaf step's span at `line` (helpers are queued and recorded when printed). */
  record(ctx: PrintCtx, step: Step, line: number, anchor: string): void;
}

function block(p: Printer, syn: Syntax, walk: Walker, ctx: PrintCtx, steps: readonly Step[]): void {
  p.indent();
  if (steps.length === 0) for (const l of syn.empty) p.line(l);
  walk.steps(p, ctx, steps);
  p.dedent();
}

/** Prints the opener lines; the first is the statement's line. */
function open(p: Printer, lines: readonly string[]): number {
  let first = 0;
  lines.forEach((l, i) => {
    const n = p.line(l);
    if (i === 0) first = n;
  });
  return first;
}

export function makeWalker(syn: Syntax): Walker {
  const walk: Walker = {
    steps(p, ctx, steps) {
      for (const step of steps) printStep(p, ctx, step);
    },
    record(ctx, step, line, anchor) {
      const span = stepSpan(ctx.topology, ctx.svc, step);
      if (!span) return;
      if (step.kind === 'internal') {
        ctx.helpers.push(step);
        return;
      }
      ctx.spans.push({
        stepId: qualified(ctx, step.id),
        name: span.name,
        kind: span.kind,
        function: ctx.fn,
        file: ctx.file,
        line,
        anchor,
        ...(step.kind === 'call' ? { callee: `${step.service}.${step.operation}` } : {}),
      });
    },
  };

  function branchPoint(ctx: PrintCtx, bp: Omit<CodeModelBranchPoint, 'function' | 'file' | 'line'>): CodeModelBranchPoint {
    const full: CodeModelBranchPoint = { ...bp, function: ctx.fn, file: ctx.file, line: 0 };
    ctx.branchPoints.push(full);
    return full;
  }

  function printStep(p: Printer, ctx: PrintCtx, step: Step): void {
    switch (step.kind) {
      case 'call':
      case 'external':
      case 'db':
      case 'cache':
      case 'internal': {
        const code = syn.leaf(ctx, step);
        if (step.as) ctx.vars.set(step.as, step.kind);
        walk.record(ctx, step, p.line(syn.statement(ctx, code, step.as)), code.anchor);
        return;
      }
      case 'publish':
      case 'parallel':
        throw new Error(`unreachable: validation keeps ${step.kind} steps out of ${syn.language} services`);
      case 'branch': {
        const bp = branchPoint(ctx, {
          id: qualified(ctx, step.id),
          kind: step.style,
          ...(step.dependsOn !== undefined ? { dependsOn: qualified(ctx, step.dependsOn) } : {}),
          arms: step.arms.map((a) => arm(ctx, a.label, a.body, a.probability)),
        });
        if (step.style === 'if') {
          const [then, otherwise] = step.arms as [(typeof step.arms)[0], (typeof step.arms)[0]];
          // An empty then-arm prints as a negated if, as in the TypeScript printer.
          const negate = then.body.length === 0 && otherwise.body.length > 0;
          const negated = negate ? negateCondition(step.condition) : step.condition;
          bp.line = open(p, syn.ifOpen(negated === undefined ? syn.not(syn.cond(ctx, step.condition)) : syn.cond(ctx, negated)));
          block(p, syn, walk, ctx, negate ? otherwise.body : then.body);
          if (!negate && otherwise.body.length > 0) {
            for (const l of syn.elseLines) p.line(l);
            block(p, syn, walk, ctx, otherwise.body);
          }
          for (const l of syn.close) p.line(l);
        } else {
          bp.line = open(p, syn.switchOpen(syn.cond(ctx, step.condition)));
          if (syn.casesIndented) p.indent();
          for (const a of step.arms) {
            open(p, syn.caseOpen(a.label));
            p.indent();
            if (a.body.length === 0 && syn.caseEnd.length === 0) for (const l of syn.empty) p.line(l);
            walk.steps(p, ctx, a.body);
            if (a.body[a.body.length - 1]?.kind !== 'return') for (const l of syn.caseEnd) p.line(l);
            p.dedent();
            for (const l of syn.caseClose) p.line(l);
          }
          if (syn.casesIndented) p.dedent();
          for (const l of syn.close) p.line(l);
        }
        return;
      }
      case 'loop': {
        const bp = branchPoint(ctx, { id: qualified(ctx, step.id), kind: 'loop', arms: [arm(ctx, 'body', step.body), arm(ctx, 'exit', [])] });
        bp.line = open(p, syn.loopOpen(ctx, step.item, step.over));
        // Inside the loop a key's `{item}` placeholder is the loop variable, not a request field.
        const item = step.item ?? 'item';
        const shadowed = ctx.vars.get(item);
        ctx.vars.set(item, 'loop');
        block(p, syn, walk, ctx, step.body);
        if (shadowed === undefined) ctx.vars.delete(item);
        else ctx.vars.set(item, shadowed);
        for (const l of syn.close) p.line(l);
        return;
      }
      case 'try': {
        const bp = branchPoint(ctx, { id: qualified(ctx, step.id), kind: 'try', arms: [arm(ctx, 'try', step.body), arm(ctx, 'catch', step.catch)] });
        if (syn.printTry) {
          bp.line = syn.printTry(p, ctx, step, walk);
          return;
        }
        bp.line = open(p, syn.tryOpen);
        block(p, syn, walk, ctx, step.body);
        for (const l of syn.catchLines(ctx, step)) p.line(l);
        block(p, syn, walk, ctx, step.catch);
        for (const l of syn.close) p.line(l);
        return;
      }
      case 'return':
        for (const l of syn.ret(ctx, step.status ?? 200, step.id)) p.line(l);
        return;
    }
  }
  return walk;
}

/** Every step's `as` variable and its kind, so conditions know what they test before the step prints. */
function variables(op: OperationDef): Map<string, Step['kind']> {
  const vars = new Map<string, Step['kind']>();
  walkSteps(op.body, (s) => {
    if (s.as) vars.set(s.as, s.kind);
  });
  return vars;
}

/**
 * Prints every operation of a service as a method of its server type, each followed by its helpers,
 * and returns their code model (registration lines are filled in by the caller).
 */
export function printOperations(p: Printer, syn: Syntax, topology: Topology, svc: ServiceDef, file: string, registrationFile: string): CodeModelOperation[] {
  const walk = makeWalker(syn);
  const lang = languageOf(svc);
  const ops: CodeModelOperation[] = [];
  svc.operations.forEach((op, i) => {
    if (op.entry.protocol !== 'grpc') throw new Error('unreachable: validation allows only gRPC entries');
    const fn = qualifiedFunction(lang, svc, methodName(lang, op.entry.method));
    const ctx: PrintCtx = { topology, svc, op, fn, file, helper: false, spans: [], branchPoints: [], helpers: [], vars: variables(op) };
    if (i > 0) p.line();
    const line = syn.handlerOpen(p, ctx);
    walk.steps(p, ctx, op.body);
    if (op.body[op.body.length - 1]?.kind !== 'return') for (const l of syn.handlerEnd(ctx)) p.line(l);
    syn.functionClose(p, false);
    for (let h = 0; h < ctx.helpers.length; h++) {
      const helper = ctx.helpers[h]!;
      const name = helperMethodName(lang, helper);
      const hctx: PrintCtx = { ...ctx, fn: qualifiedFunction(lang, svc, name), helper: true };
      p.line();
      const at = syn.helperOpen(p, hctx, helper, name);
      ctx.spans.push({ stepId: qualified(ctx, helper.id), name: helper.name, kind: 'INTERNAL', function: hctx.fn, file, line: at.spanLine, anchor: at.anchor });
      walk.steps(p, hctx, helper.body ?? []);
      if ((helper.body ?? []).length === 0 && Object.keys(helper.attributes ?? {}).length === 0) for (const l of syn.empty) p.line(l);
      syn.functionClose(p, true);
    }
    ops.push({
      service: svc.name,
      operation: op.id,
      function: fn,
      file,
      line,
      entry: op.entry,
      spanName: entrySpanName(op.entry),
      spanKind: entrySpanKind(op.entry),
      registration: { file: registrationFile, line: 0 },
      spans: [
        { stepId: `${svc.name}.${op.id}.entry`, name: entrySpanName(op.entry), kind: entrySpanKind(op.entry), function: fn, file, line, anchor: fn.slice(fn.indexOf('.') + 1) },
        ...ctx.spans,
      ],
      branchPoints: ctx.branchPoints,
    });
  });
  return ops;
}

// ---- conditions ----

/**
 * The topology writes conditions in TypeScript. The other printers accept a small form of it and
 * translate: `a.b.c` paths (the first name is `input` or a step's `as` variable), `!x`,
 * `x === null` / `x !== null`, and comparisons of a path with a number or a quoted string.
 */
export interface ConditionStyle {
  /** `input` -> the request parameter; later names are message fields (`available` -> `GetAvailable()`). */
  path(ctx: PrintCtx, segments: string[]): string;
  isNull(ctx: PrintCtx, path: string, variableKind: Step['kind'] | undefined, negated: boolean): string;
  not(cond: string): string;
  /** `===` of a path and a string literal. */
  equalsString(path: string, literal: string, negated: boolean): string;
  eq: string;
  ne: string;
}

const FLIP: Record<string, string> = { '===': '!==', '!==': '===', '>': '<=', '<': '>=', '>=': '<', '<=': '>' };

/** The opposite condition in the same TypeScript form (`a !== null` -> `a === null`), or undefined. */
export function negateCondition(expr: string): string | undefined {
  const text = expr.trim();
  if (PATH.test(text)) return `!${text}`;
  const neg = /^!\s*(.+)$/.exec(text);
  if (neg && PATH.test(neg[1]!.trim())) return neg[1]!.trim();
  const m = /^(.+?)\s*(===|!==|>=|<=|>|<)\s*(.+)$/.exec(text);
  return m ? `${m[1]} ${FLIP[m[2]!]} ${m[3]}` : undefined;
}

const PATH = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;

export function translateCondition(ctx: PrintCtx, expr: string, style: ConditionStyle): string {
  const text = expr.trim();
  const fail = (): never => {
    throw new Error(`${ctx.svc.name}.${ctx.op.id}: condition '${expr}' is outside the form the ${languageOf(ctx.svc)} printer translates`);
  };
  const path = (t: string): string => (PATH.test(t) ? style.path(ctx, t.split('.')) : fail());
  if (PATH.test(text)) return path(text);
  const neg = /^!\s*(.+)$/.exec(text);
  if (neg) return style.not(path(neg[1]!.trim()));
  const m = /^(.+?)\s*(===|!==|>=|<=|>|<)\s*(.+)$/.exec(text);
  if (!m) return fail();
  const [, left, op, right] = m as unknown as [string, string, string, string];
  if (!PATH.test(left)) return fail();
  if (right === 'null') return style.isNull(ctx, path(left), ctx.vars.get(left.split('.')[0]!), op === '!==');
  const str = /^'([^'\\]*)'$/.exec(right);
  if (str && (op === '===' || op === '!==')) return style.equalsString(path(left), str[1]!, op === '!==');
  if (!/^-?[0-9]+(?:\.[0-9]+)?$/.test(right)) return fail();
  const o = op === '===' ? style.eq : op === '!==' ? style.ne : op;
  return `${path(left)} ${o} ${right}`;
}

/** Fills `{field}` placeholders of a cache key: each language's string building. */
export function keyParts(key: string): (string | { field: string })[] {
  const out: (string | { field: string })[] = [];
  let last = 0;
  for (const m of key.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
    if (m.index! > last) out.push(key.slice(last, m.index));
    out.push({ field: m[1]! });
    last = m.index! + m[0].length;
  }
  if (last < key.length) out.push(key.slice(last));
  return out;
}

/** A double-quoted string literal (Go, Java, C#, Python all read this form). */
export const dq = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
