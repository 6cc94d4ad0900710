// What the sampler learns from analysis.json (the analyzer's output): for a span, identified by its
// service and operation name, the functions that produce it and whether the code between that span
// and the next span-producing code has a branch point. A span whose code cannot branch implies its
// children: they form one Dominant Span Set (DSS) with it. Reads the JSON defensively: a document of
// another format or version is a clear error, not a silent "no knowledge".
import { readFile } from 'node:fs/promises';
import { InputError } from '../model/index.js';

/** Everything the sampler needs about one (service, span name). */
export interface CodeSpanInfo {
  /** Ids of the producing functions. */
  functions: string[];
  /** True when some producing function (or code it reaches before another span starts) can branch. */
  branching: boolean;
  /** The `via` values of the mappings, e.g. `controller`, `route`, `sql`. */
  via: string[];
}

export class CodeKnowledge {
  private readonly bySpan = new Map<string, CodeSpanInfo>();
  readonly functionCount: number;

  constructor(bySpan: Map<string, CodeSpanInfo>, functionCount: number) {
    this.bySpan = bySpan;
    this.functionCount = functionCount;
  }

  get spanCount(): number {
    return this.bySpan.size;
  }

  lookup(service: string, spanName: string): CodeSpanInfo | undefined {
    return this.bySpan.get(service + '\u0000' + spanName);
  }
}

const BRANCH_KINDS = new Set(['if', 'switch', 'loop', 'catch']);

interface RawFunction {
  id: string;
  nodes: { id: number; kind: string; branch?: string }[];
  branchPoints: number[];
}
interface RawSpan {
  spanName: string;
  service: string;
  function?: string;
  handlerFunction?: string;
  via: string;
  kind?: string;
}
interface RawCall {
  from: string;
  to: string;
}

function fail(source: string, what: string): never {
  throw new InputError(`not a usable analysis document: ${what}`, source);
}

/** Builds the sampler's code knowledge from a parsed analysis.json document. */
export function codeKnowledgeFromAnalysis(doc: unknown, source = 'analysis.json'): CodeKnowledge {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) fail(source, 'expected a JSON object');
  const d = doc as Record<string, unknown>;
  if (d.format !== 'slimtrace-analysis') fail(source, `format is ${JSON.stringify(d.format)}, expected "slimtrace-analysis" (write one with \`slimtrace analyze\`)`);
  if (d.version !== 1) fail(source, `version ${JSON.stringify(d.version)} is not supported (this slimtrace reads version 1)`);
  if (!Array.isArray(d.functions)) fail(source, '`functions` is not an array');
  if (!Array.isArray(d.spans)) fail(source, '`spans` is not an array');
  const functions = d.functions as RawFunction[];
  const spans = d.spans as RawSpan[];
  const calls = Array.isArray(d.calls) ? (d.calls as RawCall[]) : [];

  // A function branches locally when one of its branch points is a real decision (if, switch, loop,
  // catch); a call inside a try body is a branch point too in the CSCFG (it may throw), but errors
  // are kept by their own rule, so it does not make the function's children path-revealing.
  const localBranching = new Map<string, boolean>();
  for (const [i, f] of functions.entries()) {
    if (!f || typeof f.id !== 'string' || !Array.isArray(f.nodes) || !Array.isArray(f.branchPoints)) fail(source, `functions[${i}] lacks id, nodes or branchPoints`);
    const byId = new Map(f.nodes.map((n) => [n.id, n]));
    let branching = false;
    for (const b of f.branchPoints) {
      const node = byId.get(b);
      if (node && node.kind === 'branch' && node.branch !== undefined && BRANCH_KINDS.has(node.branch)) {
        branching = true;
        break;
      }
    }
    localBranching.set(f.id, branching);
  }
  // Functions that produce a span of their own start a new span: the reach of a span's code stops there.
  const spanFunctions = new Set<string>();
  for (const s of spans) if (s.function && (s.via === 'controller' || s.via === 'repository' || s.via === 'with-span' || s.via === 'manual-span')) spanFunctions.add(s.function);
  const callees = new Map<string, string[]>();
  for (const c of calls) {
    if (typeof c?.from !== 'string' || typeof c.to !== 'string') continue;
    let list = callees.get(c.from);
    if (!list) callees.set(c.from, (list = []));
    list.push(c.to);
  }
  const reachBranching = new Map<string, boolean>();
  const branchingFrom = (start: string): boolean => {
    const known = reachBranching.get(start);
    if (known !== undefined) return known;
    const seen = new Set<string>([start]);
    const stack = [start];
    let result = false;
    while (stack.length > 0 && !result) {
      const f = stack.pop()!;
      if (localBranching.get(f)) result = true;
      for (const g of callees.get(f) ?? []) {
        if (seen.has(g) || spanFunctions.has(g)) continue;
        seen.add(g);
        stack.push(g);
      }
    }
    reachBranching.set(start, result);
    return result;
  };

  const bySpan = new Map<string, CodeSpanInfo>();
  for (const [i, s] of spans.entries()) {
    if (!s || typeof s.spanName !== 'string' || typeof s.service !== 'string') fail(source, `spans[${i}] lacks spanName or service`);
    const key = s.service + '\u0000' + s.spanName;
    let info = bySpan.get(key);
    if (!info) bySpan.set(key, (info = { functions: [], branching: false, via: [] }));
    if (!info.via.includes(s.via)) info.via.push(s.via);
    // A call-site span (client, SQL) is produced by the call itself: nothing of the caller's code
    // runs under it, so it branches only if its own children vary (left to the mined knowledge).
    // gRPC stub calls and database/cache commands (analysis via `grpc` CLIENT, `database`) alike.
    const callSite = s.via === 'http-client' || s.via === 'sql' || s.via === 'inherited-repository' || s.via === 'database' || (s.via === 'grpc' && s.kind === 'client');
    const fn = s.via === 'route' ? (s.handlerFunction ?? s.function) : s.function;
    if (!fn || callSite) continue;
    if (!info.functions.includes(fn)) info.functions.push(fn);
    if (branchingFrom(fn)) info.branching = true;
  }
  return new CodeKnowledge(bySpan, functions.length);
}

/** Reads and checks analysis.json; errors name the file. */
export async function readCodeKnowledge(file: string): Promise<CodeKnowledge> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read the analysis: ${(err as Error).message}`, file);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError(`the analysis is not valid JSON: ${(err as Error).message}`, file);
  }
  return codeKnowledgeFromAnalysis(doc, file);
}
