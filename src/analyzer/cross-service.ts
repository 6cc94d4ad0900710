// Cross-service edges (issue 5, item 3): HTTP client calls of one service matched to the routes of
// another analyzed service, where the URL is static enough. A client's URL (`urlExpanded`, else
// `url`) is split into a host part and a path: `http://ts-order-service:12031/api/...` names the
// host literally; a leading `${expr}` names it when the expression holds a string literal that is a
// service's name (`${getServiceUrl("ts-station-service")}`), else the host is unknown and every
// other service's routes are candidates. Paths match route templates segment by segment: a route's
// `{var}` (Spring, FastAPI), `:var` (Express) or `<var>` (Flask) matches any segment, the URL's `${expr}` any text within a segment; the query string and
// a trailing slash are ignored; the HTTP methods must agree when both are known. When several
// routes match, the best fitting win (`matchRoute`'s score); a tie keeps them all.
// gRPC stub calls match the handlers of the same full method name (span-map-grpc.ts maps both); the
// edge building (the caller's call node, the handler function) is shared by both protocols.
import type { AnalysisFunction, AnalysisSpan } from './analyze.js';

export interface CrossServiceEdge {
  fromService: string;
  /** The calling function's id. */
  fromFunction?: string;
  /** The id of the client call's node in the calling function's CSCFG. */
  callNode?: number;
  /** `grpc` for a stub call matched to a gRPC handler; absent for HTTP. */
  protocol?: 'grpc';
  httpMethod?: string;
  /** HTTP: the URL the match used (`urlExpanded` when the client has one). */
  url?: string;
  toService: string;
  /** HTTP: the route template matched; gRPC: the full method name `<package>.<Service>/<Method>`. */
  route: string;
  /** The route handler's function id. */
  toFunction?: string;
}

/** Placeholder for a `${expr}` while a URL is cut into segments (it may itself contain `/`). */
const HOLE = '\u0000';

/** `${...}` expressions with balanced braces replaced by HOLE; their texts returned in order. */
function holes(url: string): { text: string; exprs: string[] } {
  let text = '';
  const exprs: string[] = [];
  for (let i = 0; i < url.length; i++) {
    if (url[i] === '$' && url[i + 1] === '{') {
      let depth = 0;
      let j = i + 1;
      for (; j < url.length; j++) {
        if (url[j] === '{') depth++;
        else if (url[j] === '}' && --depth === 0) break;
      }
      exprs.push(url.slice(i + 2, j));
      text += HOLE;
      i = j;
    } else text += url[i];
  }
  return { text, exprs };
}

export interface ParsedUrl {
  /** The service name the host part gives, when it gives one. */
  host?: string;
  /** The literal host, when written literally (`ts-order-service`, `rest-service-external`). */
  literalHost?: string;
  /** Path segments; HOLE stands for a `${expr}`. Undefined when the URL has no static path. */
  segments?: string[];
}

/** Splits a client URL template into its host and path segments; `services` are the known service names. */
export function parseClientUrl(url: string, services: ReadonlySet<string>): ParsedUrl {
  const { text, exprs } = holes(url.trim());
  let rest = text;
  const out: ParsedUrl = {};
  const scheme = /^[a-z]+:\/\/([^/?#]*)/i.exec(rest);
  if (scheme) {
    const host = scheme[1]!.replace(/:\d+$/, '');
    if (!host.includes(HOLE)) {
      out.literalHost = host;
      if (services.has(host)) out.host = host;
    }
    rest = rest.slice(scheme[0].length);
  } else if (rest.startsWith(HOLE)) {
    // A leading expression is the base URL; a service name among its string literals names the host.
    const expr = exprs[0]!;
    for (const lit of expr.matchAll(/"([^"]*)"|'([^']*)'/g)) {
      const v = (lit[1] ?? lit[2] ?? '').replace(/^[a-z]+:\/\//i, '').replace(/[:/].*$/, '');
      if (services.has(v)) out.host = v;
    }
    rest = rest.slice(1);
  }
  rest = rest.replace(/[?#].*$/, '');
  if (!rest.startsWith('/')) return out;
  out.segments = rest.split('/').filter((s) => s !== '');
  return out;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Whether URL segments fit a route template's: -1 if not, else a score of how well, 2 per literal
 * segment equal on both sides and 1 per `${expr}` against a `{var}` (a variable sent where the route
 * takes one fits better than a variable that happens to cover a literal segment like `welcome`).
 */
export function matchRoute(segments: readonly string[], route: string): number {
  const r = route.split('/').filter((s) => s !== '');
  if (r.length !== segments.length) return -1;
  let literal = 0;
  for (let i = 0; i < r.length; i++) {
    const rs = r[i]!;
    const us = segments[i]!;
    if (/^(\{[^}]*\}|:[A-Za-z_$][\w$]*\??|<[^>]*>)$/.test(rs)) {
      if (us.includes(HOLE)) literal++;
      continue;
    }
    if (us.includes(HOLE)) {
      const re = new RegExp(`^${us.split(HOLE).map(escape).join('.*')}$`);
      if (!re.test(rs)) return -1;
      continue;
    }
    if (rs.includes('{')) {
      const re = new RegExp(`^${rs.split(/\{[^}]*\}/).map(escape).join('[^/]+')}$`);
      if (!re.test(us)) return -1;
      continue;
    }
    if (rs !== us) return -1;
    literal += 2;
  }
  return literal;
}

/** The path of a route span: Java's span name, a TypeScript/Python/Go route's name without its verb. */
const routePath = (s: AnalysisSpan): string => s.spanName.replace(/^[A-Z]+ (?=\/)/, '');

/** The candidates with the best score (all of them on a tie). */
function best<T>(scored: readonly { item: T; score: number }[]): T[] {
  let top = -Infinity;
  for (const s of scored) top = Math.max(top, s.score);
  return scored.filter((s) => s.score === top).map((s) => s.item);
}

/**
 * The edges from one client span to the server spans it reaches, the part HTTP and gRPC share: the
 * calling function's node for the call (same line, same method), then one edge per server span, to
 * the handler function where known.
 */
function edgesTo(c: AnalysisSpan, servers: readonly AnalysisSpan[], fnById: ReadonlyMap<string, AnalysisFunction>, fields: (server: AnalysisSpan) => Omit<CrossServiceEdge, 'fromService' | 'fromFunction' | 'callNode' | 'toService' | 'toFunction'>): CrossServiceEdge[] {
  const caller = c.function ? fnById.get(c.function) : undefined;
  const method = c.target?.slice(c.target.lastIndexOf('.') + 1);
  const node = caller?.nodes.find((n) => n.kind === 'call' && n.line === c.line && (method === undefined || n.callee === method || n.callee.endsWith(`.${method}`)));
  return servers.map((server) => {
    const target = server.handlerFunction ?? server.function;
    return {
      fromService: c.service,
      ...(c.function ? { fromFunction: c.function } : {}),
      ...(node ? { callNode: node.id } : {}),
      ...fields(server),
      toService: server.service,
      ...(target ? { toFunction: target } : {}),
    };
  });
}

/**
 * Matches every HTTP client span with a URL to the routes of the other services, and every gRPC
 * client span to the handlers of the same `<package>.<Service>/<Method>` (in another service when
 * one serves it, else in its own). Returns the edges and how many client calls of each protocol
 * there were (HTTP: those with a URL) and how many of those matched.
 */
export function crossServiceEdges(
  spans: readonly AnalysisSpan[],
  functions: readonly AnalysisFunction[],
): { edges: CrossServiceEdge[]; clientCalls: number; matched: number; grpcClientCalls: number; grpcMatched: number } {
  const routes = spans.filter((s) => s.via === 'route' && s.kind === 'server');
  const services = new Set(spans.map((s) => s.service));
  for (const f of functions) services.add(f.service);
  const fnById = new Map(functions.map((f) => [f.id, f]));
  const edges: CrossServiceEdge[] = [];
  let clientCalls = 0;
  let matched = 0;
  for (const c of spans) {
    if (c.via !== 'http-client' || c.kind !== 'client') continue;
    const url = c.urlExpanded ?? c.url;
    if (url === undefined) continue;
    clientCalls++;
    const parsed = parseClientUrl(url, services);
    if (!parsed.segments) continue;
    // A literal host that is no analyzed service is outside the system.
    if (parsed.literalHost !== undefined && parsed.host === undefined) continue;
    const scored: { item: AnalysisSpan; score: number }[] = [];
    for (const r of routes) {
      if (parsed.host ? r.service !== parsed.host : r.service === c.service) continue;
      if (c.httpMethod && r.httpMethod && c.httpMethod !== r.httpMethod) continue;
      const score = matchRoute(parsed.segments, routePath(r));
      if (score >= 0) scored.push({ item: r, score });
    }
    const found = best(scored);
    if (found.length === 0) continue;
    matched++;
    edges.push(...edgesTo(c, found, fnById, (route) => ({ ...(c.httpMethod ? { httpMethod: c.httpMethod } : {}), url, route: routePath(route) })));
  }
  // gRPC: the span name is the full method name on both sides, so it is the match key.
  const handlers = new Map<string, AnalysisSpan[]>();
  for (const s of spans) if (s.via === 'grpc' && s.kind === 'server' && s.aliasOf === undefined) handlers.set(s.spanName, [...(handlers.get(s.spanName) ?? []), s]);
  let grpcClientCalls = 0;
  let grpcMatched = 0;
  for (const c of spans) {
    if (c.via !== 'grpc' || c.kind !== 'client' || c.aliasOf !== undefined) continue;
    grpcClientCalls++;
    const all = handlers.get(c.spanName) ?? [];
    const found = best(all.map((h) => ({ item: h, score: h.service === c.service ? 0 : 1 })));
    if (found.length === 0) continue;
    grpcMatched++;
    edges.push(...edgesTo(c, found, fnById, () => ({ protocol: 'grpc' as const, route: c.spanName })));
  }
  return { edges, clientCalls, matched, grpcClientCalls, grpcMatched };
}

export interface MessagingEdge {
  fromService: string;
  fromFunction?: string;
  /** The id of the send call's node in the sending function's CSCFG. */
  callNode?: number;
  /** The queue the message reaches. */
  queue: string;
  toService: string;
  /** The listener method's function id. */
  toFunction?: string;
}

/**
 * Sends through the default exchange (whose routing key is the queue's name) matched to the
 * listeners of that queue in any analyzed service. Sends to named exchanges reach queues through
 * bindings declared at run time or in configuration, which are not read.
 */
export function messagingEdges(spans: readonly AnalysisSpan[], functions: readonly AnalysisFunction[]): MessagingEdge[] {
  const listeners = spans.filter((s) => s.via === 'messaging' && s.kind === 'server' && s.queue !== undefined);
  const fnById = new Map(functions.map((f) => [f.id, f]));
  const out: MessagingEdge[] = [];
  for (const send of spans) {
    // RabbitMQ sends through the default exchange, and Kafka sends (no exchange: the topic is the queue).
    if (send.via !== 'messaging' || send.kind !== 'client' || (send.exchange !== undefined && send.exchange !== '') || send.queue === undefined) continue;
    const caller = send.function ? fnById.get(send.function) : undefined;
    const method = send.target?.slice(send.target.lastIndexOf('.') + 1);
    const node = caller?.nodes.find((n) => n.kind === 'call' && n.line === send.line && (method === undefined || n.callee.endsWith(`.${method}`)));
    for (const l of listeners) {
      if (l.queue !== send.queue) continue;
      out.push({
        fromService: send.service,
        ...(send.function ? { fromFunction: send.function } : {}),
        ...(node ? { callNode: node.id } : {}),
        queue: send.queue,
        toService: l.service,
        ...(l.function ? { toFunction: l.function } : {}),
      });
    }
  }
  return out;
}
