// The Call-Site Control Flow Graph (CSCFG) of Autoscope, independent of the source language: one
// graph per function whose nodes are the function's call sites plus the branch statements between
// them, with edges in control-flow order. Language front ends (typescript.ts, ...) translate their
// syntax trees into the small structured-statement form `Stmt`, and `buildCscfg` turns that into
// the graph, so if/switch/loop/try semantics are implemented once for every language.

/** The branch statements the graph keeps as nodes. `catch` is the entry of an exception handler. */
export type BranchKind = 'if' | 'switch' | 'loop' | 'try' | 'catch';

/** A call as written in the source. */
export interface CallSite {
  /** The callee as written, whitespace collapsed: `db.query`, `this.orderRepository.save`, `fetch`. */
  callee: string;
  /** 1-based line of the call expression's start. */
  line: number;
  /** 0-based column of the call expression's start. */
  column: number;
  /**
   * The first argument when it is a string literal (unquoted), a template (source text between the
   * backticks, an f-string's text), or a `+` concatenation starting with a literal (Java, TypeScript,
   * Go: `"http://a/" + id` as the template `http://a/${id}`).
   */
  firstArg?: string;
  firstArgKind?: 'string' | 'template';
  /** `new X(...)`: a constructor call. */
  construct?: boolean;
  /** The number of arguments, where the front end records it (Java, for telling overloads apart). */
  args?: number;
}

export type CscfgNode =
  | { id: number; kind: 'entry' }
  | { id: number; kind: 'exit' }
  | ({ id: number; kind: 'call' } & CallSite)
  | { id: number; kind: 'branch'; branch: BranchKind; line: number };

/**
 * Why control goes from one node to the next. Unlabelled edges are plain sequence. Branch nodes label
 * their out-edges (`then`/`else`, `case <label>`/`default`, `body`/`exit`, `try`/`exception`), loops
 * label the edge back to their head `back`, and a call inside a try body has an extra `exception`
 * edge to the handler (the call may throw). `throw` marks an explicit throw statement's jump.
 */
export interface CscfgEdge {
  from: number;
  to: number;
  label?: string;
}

export interface FunctionCscfg {
  /** `name`, `Class.method`, or `<anonymous>`; the language front end decides. */
  name: string;
  /** 1-based lines of the function's first and last line. */
  line: number;
  endLine: number;
  /** Node 0 is the entry and node 1 the exit. */
  nodes: CscfgNode[];
  edges: CscfgEdge[];
}

export const ENTRY_ID = 0;
export const EXIT_ID = 1;

/**
 * Structured statements, the form every language front end produces. Only what decides the order
 * of call sites is kept: expressions become the calls they make, in evaluation order.
 */
export type Stmt =
  | ({ kind: 'call' } & CallSite)
  | { kind: 'if'; line: number; cond: Stmt[]; then: Stmt[]; else?: Stmt[] }
  | { kind: 'switch'; line: number; discriminant: Stmt[]; cases: SwitchCase[] }
  | {
      kind: 'loop';
      line: number;
      /** Runs once before the loop (a for's initializer, a for-of's iterable). */
      init: Stmt[];
      /** Runs before every decision (while/for condition). */
      cond: Stmt[];
      /** Runs after the body and after `continue` (a for's increment). */
      update: Stmt[];
      body: Stmt[];
      /** do/while: the body runs before the first decision. */
      bodyFirst?: boolean;
    }
  | { kind: 'try'; line: number; body: Stmt[]; catch?: { line: number; body: Stmt[] }; finally?: Stmt[] }
  | { kind: 'return'; value: Stmt[] }
  | { kind: 'throw'; value: Stmt[] }
  | { kind: 'break'; label?: string }
  | { kind: 'continue'; label?: string }
  | { kind: 'labeled'; label: string; body: Stmt[] }
  /**
   * The body of a callback passed inline to a call (`tracer.startActiveSpan('x', async (span) => {...})`):
   * it runs where the call is, so it belongs to the enclosing function's graph, but a `return` in it
   * only leaves the callback.
   */
  | { kind: 'inline'; body: Stmt[] };

export interface SwitchCase {
  /** The case expression's text, or undefined for `default`. */
  label?: string;
  body: Stmt[];
}

/** A node before it has an id (Omit distributed over the union). */
type NewNode = CscfgNode extends infer N ? (N extends CscfgNode ? Omit<N, 'id'> : never) : never;

/** A dangling edge: its source is known, its target is whatever node is added next. */
interface Pending {
  from: number;
  label?: string;
}

/** What a jump (break, continue, return, throw) can meet while it leaves nested statements. */
type Frame =
  | { type: 'function'; inline: boolean; returns: Pending[] }
  | { type: 'loop'; labels: string[]; breaks: Pending[]; continues: Pending[] }
  | { type: 'switch'; labels: string[]; breaks: Pending[] }
  | { type: 'block'; labels: string[]; breaks: Pending[] }
  /** A try body (or a catch body that has a finally): it collects the edges of anything that throws. */
  | { type: 'try'; exceptions: Pending[] }
  /** Jumps that cross it run the finally block first. */
  | { type: 'finally'; body: Stmt[] };

class Builder {
  readonly nodes: CscfgNode[] = [{ id: ENTRY_ID, kind: 'entry' }, { id: EXIT_ID, kind: 'exit' }];
  readonly edges: CscfgEdge[] = [];
  private readonly edgeKeys = new Set<string>();
  private frames: Frame[] = [];
  pending: Pending[] = [{ from: ENTRY_ID }];

  private edge(from: number, to: number, label?: string): void {
    const key = `${from}>${to}>${label ?? ''}`;
    if (this.edgeKeys.has(key)) return;
    this.edgeKeys.add(key);
    this.edges.push(label === undefined ? { from, to } : { from, to, label });
  }

  /** Connects every dangling edge to `to`. */
  connect(pending: readonly Pending[], to: number, relabel?: string): void {
    for (const p of pending) this.edge(p.from, to, p.label ?? relabel);
  }

  private add(node: NewNode): number {
    const id = this.nodes.length;
    this.nodes.push({ ...node, id } as CscfgNode);
    this.connect(this.pending, id);
    this.pending = [{ from: id }];
    return id;
  }

  /** The innermost frame that collects exceptions, unless a (non-inline) function boundary comes first. */
  private handlerFrame(): Extract<Frame, { type: 'try' }> | undefined {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const f = this.frames[i]!;
      if (f.type === 'try') return f;
      if (f.type === 'function' && !f.inline) return undefined;
    }
    return undefined;
  }

  build(stmts: readonly Stmt[]): void {
    for (const s of stmts) this.stmt(s);
  }

  runFunction(body: readonly Stmt[]): void {
    const fn: Frame = { type: 'function', inline: false, returns: [] };
    this.frames.push(fn);
    this.build(body);
    this.frames.pop();
    this.connect([...this.pending, ...fn.returns], EXIT_ID);
    this.pending = [];
  }

  private stmt(s: Stmt): void {
    switch (s.kind) {
      case 'call': {
        const { kind: _kind, ...site } = s;
        const id = this.add({ kind: 'call', ...site });
        // The paper's CSCFG gives a call an exceptional successor only where a handler can catch it;
        // outside a try every call would otherwise become a branch point to the exit.
        this.handlerFrame()?.exceptions.push({ from: id, label: 'exception' });
        return;
      }
      case 'if': {
        this.build(s.cond);
        const node = this.add({ kind: 'branch', branch: 'if', line: s.line });
        this.pending = [{ from: node, label: 'then' }];
        this.build(s.then);
        const afterThen = this.pending;
        this.pending = [{ from: node, label: 'else' }];
        if (s.else) this.build(s.else);
        this.pending = [...afterThen, ...this.pending];
        return;
      }
      case 'switch': {
        // Take the statement's labels before the discriminant, whose callbacks may hold loops of their own.
        const frame: Frame = { type: 'switch', labels: this.takeLabels(), breaks: [] };
        this.build(s.discriminant);
        const node = this.add({ kind: 'branch', branch: 'switch', line: s.line });
        this.frames.push(frame);
        // Cases are laid out in source order; the end of one case falls through into the next
        // unless it broke, returned or threw (then `pending` is empty).
        let fall: Pending[] = [];
        for (const c of s.cases) {
          this.pending = [...fall, { from: node, label: c.label === undefined ? 'default' : `case ${c.label}` }];
          this.build(c.body);
          fall = this.pending;
        }
        this.frames.pop();
        const noDefault = !s.cases.some((c) => c.label === undefined);
        this.pending = [...fall, ...frame.breaks, ...(noDefault ? [{ from: node, label: 'default' }] : [])];
        return;
      }
      case 'loop':
        this.loop(s);
        return;
      case 'try':
        this.tryStmt(s);
        return;
      case 'return':
        this.build(s.value);
        this.jump('return');
        return;
      case 'throw':
        this.build(s.value);
        this.pending = this.pending.map((p) => ({ from: p.from, label: p.label ?? 'throw' }));
        this.jump('throw');
        return;
      case 'break':
        this.jump('break', s.label);
        return;
      case 'continue':
        this.jump('continue', s.label);
        return;
      case 'labeled': {
        this.labels.push(s.label);
        const first = s.body[0];
        // A label on a loop or switch names that statement; on anything else it names a block.
        if (s.body.length === 1 && first && (first.kind === 'loop' || first.kind === 'switch' || first.kind === 'labeled')) {
          this.build(s.body);
          return;
        }
        const frame: Frame = { type: 'block', labels: this.takeLabels(), breaks: [] };
        this.frames.push(frame);
        this.build(s.body);
        this.frames.pop();
        this.pending = [...this.pending, ...frame.breaks];
        return;
      }
      case 'inline': {
        const frame: Frame = { type: 'function', inline: true, returns: [] };
        this.frames.push(frame);
        this.build(s.body);
        this.frames.pop();
        this.pending = [...this.pending, ...frame.returns];
        return;
      }
    }
  }

  /** Labels written just before the statement being built (`outer: for (...)`). */
  private labels: string[] = [];
  private takeLabels(): string[] {
    const l = this.labels;
    this.labels = [];
    return l;
  }

  private loop(s: Extract<Stmt, { kind: 'loop' }>): void {
    const labels = this.takeLabels();
    this.build(s.init);
    const frame: Frame = { type: 'loop', labels, breaks: [], continues: [] };
    const mark = this.nodes.length;
    if (s.bodyFirst) {
      // do { body } while (cond): the body runs first; the decision after cond loops back to the body.
      this.frames.push(frame);
      this.build(s.body);
      this.frames.pop();
      this.pending = [...this.pending, ...frame.continues];
      this.build(s.cond);
      const node = this.add({ kind: 'branch', branch: 'loop', line: s.line });
      const head = node > mark ? mark : node;
      this.connect([{ from: node }], head, 'body');
      this.pending = [{ from: node, label: 'exit' }, ...frame.breaks];
      return;
    }
    // The head is the first node of the condition (evaluated on every iteration) or the decision itself.
    this.build(s.cond);
    const node = this.add({ kind: 'branch', branch: 'loop', line: s.line });
    const head = node > mark ? mark : node;
    this.pending = [{ from: node, label: 'body' }];
    this.frames.push(frame);
    this.build(s.body);
    this.frames.pop();
    this.pending = [...this.pending, ...frame.continues];
    this.build(s.update);
    this.connect(this.pending, head, 'back');
    this.pending = [{ from: node, label: 'exit' }, ...frame.breaks];
  }

  private tryStmt(s: Extract<Stmt, { kind: 'try' }>): void {
    const node = this.add({ kind: 'branch', branch: 'try', line: s.line });
    const fin: Frame | undefined = s.finally ? { type: 'finally', body: s.finally } : undefined;
    if (fin) this.frames.push(fin);
    // The try node's second successor is the handler: the body may fail before any call returns.
    const body: Extract<Frame, { type: 'try' }> = { type: 'try', exceptions: [{ from: node, label: 'exception' }] };
    this.pending = [{ from: node, label: 'try' }];
    this.frames.push(body);
    this.build(s.body);
    this.frames.pop();
    let normal = this.pending;
    let uncaught: Pending[] = body.exceptions;
    if (s.catch) {
      this.pending = body.exceptions;
      this.add({ kind: 'branch', branch: 'catch', line: s.catch.line });
      // With a finally, what the catch body throws still runs the finally on its way out.
      const guard: Extract<Frame, { type: 'try' }> | undefined = fin ? { type: 'try', exceptions: [] } : undefined;
      if (guard) this.frames.push(guard);
      this.build(s.catch.body);
      if (guard) this.frames.pop();
      normal = [...normal, ...this.pending];
      uncaught = guard ? guard.exceptions : [];
    }
    if (fin && s.finally) {
      this.frames.pop();
      if (uncaught.length) {
        // The exceptional copy of the finally block, then the exception continues outward.
        this.pending = uncaught;
        this.build(s.finally);
        this.jump('throw');
      }
      this.pending = normal;
      this.build(s.finally);
    } else {
      this.pending = normal;
    }
  }

  /**
   * Sends the dangling edges to a jump's target: out through every enclosing finally (each crossed
   * finally is built again on this path, so the graph keeps one path per way out), to the loop,
   * switch or block for break/continue, to the function's exit for return, and to the innermost
   * handler (or the exit) for throw.
   */
  private jump(kind: 'break' | 'continue' | 'return' | 'throw', label?: string): void {
    const saved = this.frames;
    try {
      for (let i = this.frames.length - 1; i >= 0; i--) {
        const f = this.frames[i]!;
        if (f.type === 'finally') {
          this.frames = saved.slice(0, i);
          this.build(f.body);
          this.frames = saved;
          continue;
        }
        if (kind === 'throw') {
          if (f.type === 'try') {
            f.exceptions.push(...this.pending);
            return;
          }
          if (f.type === 'function' && !f.inline) break;
          continue;
        }
        if (kind === 'return' && f.type === 'function') {
          f.returns.push(...this.pending);
          return;
        }
        if (f.type === 'function') break; // break/continue never leave a function
        if (kind === 'break' && f.type !== 'try' && (label === undefined ? f.type !== 'block' : f.labels.includes(label))) {
          f.breaks.push(...this.pending);
          return;
        }
        if (kind === 'continue' && f.type === 'loop' && (label === undefined || f.labels.includes(label))) {
          f.continues.push(...this.pending);
          return;
        }
      }
      // An uncaught throw (or a jump whose target was not found) leaves the function.
      this.connect(this.pending, EXIT_ID);
    } finally {
      this.frames = saved;
      this.pending = [];
    }
  }
}

/** Builds one function's CSCFG from its structured statements. */
export function buildCscfg(name: string, body: readonly Stmt[], lines: { line: number; endLine: number }): FunctionCscfg {
  const b = new Builder();
  b.runFunction(body);
  return { name, line: lines.line, endLine: lines.endLine, nodes: b.nodes, edges: b.edges };
}

/** Out-edges of every node, by node id. */
export function successors(graph: FunctionCscfg): CscfgEdge[][] {
  const out: CscfgEdge[][] = graph.nodes.map(() => []);
  for (const e of graph.edges) out[e.from]!.push(e);
  return out;
}

export interface BranchPoint {
  node: CscfgNode;
  /** Out-edges; counted per label, so an `if` whose arms are both empty still has two. */
  successors: CscfgEdge[];
}

/**
 * The paper's branch points: nodes with more than one successor. Branch statements are, and so are
 * calls inside a try body (they can continue or jump to the handler).
 */
export function branchPoints(graph: FunctionCscfg): BranchPoint[] {
  const out = successors(graph);
  return graph.nodes.filter((n) => out[n.id]!.length > 1).map((node) => ({ node, successors: out[node.id]! }));
}

/** Call sites in the order they were laid out (source order along the graph). */
export function callSites(graph: FunctionCscfg): Extract<CscfgNode, { kind: 'call' }>[] {
  return graph.nodes.filter((n): n is Extract<CscfgNode, { kind: 'call' }> => n.kind === 'call');
}
