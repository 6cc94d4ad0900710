// Code features and the importance score of span-producing code (issue 5, item 4), the seed's rules:
// error handling +10, external API calls +8, database operations +7, business-critical names +6,
// high frequency (called in a loop) -3. Features are read off the analysis document itself: the
// producing function's CSCFG (try/catch nodes, throw edges, its call sites), the span records of
// that function (HTTP-client, SQL and repository mappings), and the inter-procedural edges (whether
// some resolved caller calls it inside a loop).
import type { AnalysisFunction, AnalysisSpan } from './analyze.js';
import type { CallEdge } from './call-graph.js';

export const DEFAULT_BUSINESS_KEYWORDS: readonly string[] = ['payment', 'order', 'checkout', 'auth', 'security'];

export const SCORE_WEIGHTS = { errorHandling: 10, externalApi: 8, database: 7, businessKeyword: 6, highFrequency: -3 } as const;

export interface SpanFeatures {
  /** try/catch or throw in the producing function, or error logging (`log.error`, `console.error`, `logging.exception`, Go `errors.New`). */
  errorHandling: boolean;
  /** The function makes HTTP or gRPC client calls. */
  externalApi: boolean;
  /** The function makes database or cache calls (repositories, JDBC/JPA, Mongo, SQL, Redis clients). */
  database: boolean;
  /** A business keyword in the function's, its class's or the span's name (case-insensitive). */
  businessKeyword: boolean;
  /** Some resolved caller calls the function inside a loop, or the span's own call site is inside a loop. */
  highFrequency: boolean;
}

type Fn = AnalysisFunction;

/** Error logging and error construction calls. */
const ERROR_CALL = /(^|\.)(error|exception|fatal|critical|Fatal|Fatalf|Errorf?|Panicf?)$/;
const LOGGER = /(^|\.)(log|logger|logging|console|slog|zap|sugar)$/i;
const GO_ERRORS = /^(errors\.New|fmt\.Errorf)$/;

/** HTTP and gRPC clients by callee: RestTemplate/WebClient/Feign-style fields, fetch, axios, requests, net/http. */
const HTTP_CLIENT = /^(fetch|globalThis\.fetch|axios(\.\w+)?|requests\.\w+|httpx\.\w+|urllib\.request\.urlopen|http\.(Get|Post|Head|PostForm|NewRequest\w*)|\w*[cC]lient\.Do)$/;
const HTTP_RECEIVER = /(restTemplate|webClient|httpClient|feign|okHttp|grpc|Stub|BlockingStub)$/i;

/** Receivers of database and cache calls. */
const DB_RECEIVER = /(repositor(y|ies)|repo|dao|jdbc\w*|entityManager|mongo\w*|redis\w*|jedis|^db|database|^pool|knex|prisma|sequelize|collection|cursor|^conn(ection)?|^sql|^tx|^session)$/i;
const DB_CALL = /^(\w+\.)?(query|execute|exec|QueryContext|ExecContext|QueryRowContext|Query|Exec|QueryRow)$/;

/** Node ids on a cycle of the function's graph (inside a loop): the nodes of its non-trivial strongly connected components. */
export function loopNodes(fn: Pick<Fn, 'nodes' | 'edges'>): Set<number> {
  const succ = new Map<number, number[]>();
  for (const e of fn.edges) succ.set(e.from, [...(succ.get(e.from) ?? []), e.to]);
  const index = new Map<number, number>();
  const low = new Map<number, number>();
  const stack: number[] = [];
  const onStack = new Set<number>();
  const out = new Set<number>();
  let next = 0;
  // Iterative Tarjan: graphs with finally blocks copied on every way out can be deep.
  for (const root of fn.nodes.map((n) => n.id)) {
    if (index.has(root)) continue;
    const work: { v: number; i: number }[] = [{ v: root, i: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const ws = succ.get(top.v) ?? [];
      if (top.i < ws.length) {
        const w = ws[top.i++]!;
        if (!index.has(w)) {
          index.set(w, next);
          low.set(w, next++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.v, Math.min(low.get(parent.v)!, low.get(top.v)!));
      if (low.get(top.v) === index.get(top.v)) {
        const comp: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
        } while (w !== top.v);
        const selfLoop = (succ.get(top.v) ?? []).includes(top.v);
        if (comp.length > 1 || selfLoop) for (const c of comp) out.add(c);
      }
    }
  }
  return out;
}

const receiverOf = (callee: string): string => {
  const parts = callee.split('.');
  return parts.length > 1 ? parts[parts.length - 2]!.replace(/\(.*$/, '') : '';
};

export interface ScoreInput {
  functions: readonly Fn[];
  spans: readonly AnalysisSpan[];
  calls: readonly CallEdge[];
  businessKeywords?: readonly string[];
}

/** Features and score for every span record, in `spans` order. */
export function scoreSpans(input: ScoreInput): { features: SpanFeatures; score: number }[] {
  const keywords = (input.businessKeywords ?? DEFAULT_BUSINESS_KEYWORDS).map((k) => k.toLowerCase()).filter((k) => k !== '');
  const fnById = new Map(input.functions.map((f) => [f.id, f]));
  const spansOf = new Map<string, AnalysisSpan[]>();
  for (const s of input.spans) if (s.function) spansOf.set(s.function, [...(spansOf.get(s.function) ?? []), s]);
  const loops = new Map<string, Set<number>>();
  const loopsOf = (f: Fn): Set<number> => {
    let l = loops.get(f.id);
    if (!l) loops.set(f.id, (l = loopNodes(f)));
    return l;
  };
  // Functions some resolved caller calls from inside a loop.
  const calledInLoop = new Set<string>();
  for (const e of input.calls) {
    const caller = fnById.get(e.from);
    if (caller && loopsOf(caller).has(e.node)) calledInLoop.add(e.to);
  }
  const perFunction = new Map<string, Omit<SpanFeatures, 'businessKeyword' | 'highFrequency'>>();
  const functionFeatures = (f: Fn): Omit<SpanFeatures, 'businessKeyword' | 'highFrequency'> => {
    const known = perFunction.get(f.id);
    if (known) return known;
    const calls = f.nodes.filter((n): n is Extract<Fn['nodes'][number], { kind: 'call' }> => n.kind === 'call');
    const own = spansOf.get(f.id) ?? [];
    const r = {
      errorHandling:
        f.nodes.some((n) => n.kind === 'branch' && (n.branch === 'try' || n.branch === 'catch')) ||
        f.edges.some((e) => e.label === 'throw') ||
        calls.some((c) => (ERROR_CALL.test(c.callee) && LOGGER.test(receiverOf(c.callee))) || GO_ERRORS.test(c.callee)),
      externalApi:
        own.some((s) => s.via === 'http-client' || (s.via === 'grpc' && s.kind === 'client') || (s.via === 'framework' && s.kind === 'client')) ||
        calls.some((c) => HTTP_CLIENT.test(c.callee) || HTTP_RECEIVER.test(receiverOf(c.callee))),
      database:
        own.some((s) => s.via === 'sql' || s.via === 'database' || s.via === 'inherited-repository' || s.via === 'repository') ||
        calls.some((c) => DB_RECEIVER.test(receiverOf(c.callee).replace(/^this$/, '')) || DB_CALL.test(c.callee)),
    };
    perFunction.set(f.id, r);
    return r;
  };
  return input.spans.map((s) => {
    const f = s.function ? fnById.get(s.function) : undefined;
    const base = f ? functionFeatures(f) : { errorHandling: false, externalApi: false, database: false };
    // A call-site record (an HTTP client, SQL, a repository call, a send) is itself such a call.
    const externalApi = base.externalApi || s.via === 'http-client' || (s.via === 'grpc' && s.kind === 'client');
    const database = base.database || s.via === 'sql' || s.via === 'database' || s.via === 'inherited-repository' || s.via === 'repository';
    const names = [s.spanName, f?.name ?? '', s.target ?? ''].join(' ').toLowerCase();
    const businessKeyword = keywords.some((k) => names.includes(k));
    let highFrequency = f ? calledInLoop.has(f.id) : false;
    if (f && !highFrequency && s.line !== f.line) {
      // Call-site records: is the call at the record's line inside a loop of the caller?
      const l = loopsOf(f);
      highFrequency = f.nodes.some((n) => n.kind === 'call' && n.line === s.line && l.has(n.id));
    }
    const features: SpanFeatures = { errorHandling: base.errorHandling, externalApi, database, businessKeyword, highFrequency };
    const score =
      (features.errorHandling ? SCORE_WEIGHTS.errorHandling : 0) +
      (features.externalApi ? SCORE_WEIGHTS.externalApi : 0) +
      (features.database ? SCORE_WEIGHTS.database : 0) +
      (features.businessKeyword ? SCORE_WEIGHTS.businessKeyword : 0) +
      (features.highFrequency ? SCORE_WEIGHTS.highFrequency : 0);
    return { features, score };
  });
}
