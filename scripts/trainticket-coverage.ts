// Measurement for the Autoscope analyzer (issue 5) on the real system behind the datasets: parses
// every Java file of the Augmented-TrainTicket source (brought in outside the repository; never
// committed), builds the Java span mapping (src/analyzer/span-map-java.ts), and reports how many of
// the distinct (service, operation) pairs of nezha-trainticket's spans map: `Class.method` names to a
// mapping of that name, route templates to a controller route, and SQL, Hibernate and HTTP-client
// spans to repository or RestTemplate call sites of the service; with the misses by category.
//
//   node --import tsx scripts/trainticket-coverage.ts SOURCE_DIR [DATASETS_ROOT]
import { join, resolve } from 'node:path';
import { analyzeSources, type AnalysisSpan } from '../src/analyzer/analyze.js';
import { openTraceSource } from '../src/datasets/index.js';

const sourceDir = process.argv[2];
if (!sourceDir) {
  console.error('usage: scripts/trainticket-coverage.ts SOURCE_DIR [DATASETS_ROOT]');
  process.exit(2);
}
const root = resolve(sourceDir);
const datasets = resolve(process.argv[3] ?? process.env.SLIMTRACE_DATASETS ?? join(import.meta.dirname, '../../shared/datasets'));

// The whole analyzer, as `slimtrace analyze --source-dir SOURCE_DIR` runs it (services from the build files).
const doc = await analyzeSources({ sourceDirs: [root] });
const analyzeSeconds = doc.summary.seconds;
const mappings = doc.spans;
const javaFiles = doc.summary.byLanguage.java?.files ?? 0;
const functions = doc.summary.functions;
const syntaxErrors = doc.syntaxErrors.length;
// Class names of the source: `Outer.Inner.method` gives `Inner`.
const classes = new Set(doc.functions.filter((f) => f.language === 'java').map((f) => f.name.split('.').slice(-2)[0]!));

const pct = (a: number, b: number): string => (b === 0 ? '-' : `${((100 * a) / b).toFixed(1)}%`);
const bySvc = new Map<string, AnalysisSpan[]>();
for (const m of mappings) bySvc.set(m.service, [...(bySvc.get(m.service) ?? []), m]);
const viaCounts = new Map<string, number>();
for (const m of mappings) viaCounts.set(m.via, (viaCounts.get(m.via) ?? 0) + 1);

/** A string attribute value, whatever the decoded shape (`{ value: { case, value } }` or plain). */
function stringOf(v: unknown): string {
  let cur: unknown = v;
  for (let i = 0; i < 4 && cur !== null && typeof cur === 'object' && 'value' in cur; i++) cur = (cur as { value: unknown }).value;
  return typeof cur === 'string' ? cur : '?';
}

// Distinct (service, operation) pairs of the dataset.
const pairs = new Map<string, { service: string; op: string }>();
const source = await openTraceSource(join(datasets, 'nezha-trainticket'), { logs: false });
for await (const b of source.batches()) {
  for (const rs of b.resourceSpans) {
    const service = stringOf(rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value);
    for (const ss of rs.scopeSpans) for (const s of ss.spans) pairs.set(`${service}\u0000${s.name}`, { service, op: s.name });
  }
}

type Family = 'Class.method' | 'route' | 'sql' | 'hibernate' | 'http-client' | 'messaging' | 'other';
const familyOf = (op: string): Family =>
  / (process|send|receive|publish)$/.test(op)
    ? 'messaging'
    : /^[A-Z][A-Za-z0-9]*\.[a-z][A-Za-z0-9]*$/.test(op) && !/^(Session|Transaction)\./.test(op)
    ? 'Class.method'
    : /^(Session|Transaction)\./.test(op)
      ? 'hibernate'
      : /^HTTP( [A-Z]+)?$/.test(op)
        ? 'http-client'
        : /^(SELECT|INSERT|UPDATE|DELETE)\b/.test(op)
          ? 'sql'
          : /^([A-Z]+ )?\//.test(op)
            ? 'route'
            : 'other';
const routeOf = (op: string): string => op.replace(/^[A-Z]+ /, '');

interface Tally {
  total: number;
  mapped: number;
  misses: Map<string, string[]>;
}
const tallies = new Map<Family, Tally>();
const trailingSlash: string[] = [];
const miss = (t: Tally, category: string, what: string): void => void t.misses.set(category, [...(t.misses.get(category) ?? []), what]);
for (const { service, op } of [...pairs.values()].sort((a, b) => (a.service + a.op).localeCompare(b.service + b.op))) {
  const family = familyOf(op);
  const t = tallies.get(family) ?? { total: 0, mapped: 0, misses: new Map() };
  tallies.set(family, t);
  t.total++;
  const maps = bySvc.get(service) ?? [];
  const label = `${service}: ${op}`;
  let ok = false;
  switch (family) {
    case 'Class.method': {
      ok = maps.some((m) => m.spanName === op && m.kind === 'internal');
      if (!ok) {
        const cls = op.split('.')[0]!;
        if (!classes.has(cls)) miss(t, 'class not in the source (framework: Spring, Hibernate)', label);
        else if (mappings.some((m) => m.spanName === op)) miss(t, 'mapped in another service only', label);
        else miss(t, 'other', label);
      }
      break;
    }
    case 'route': {
      const r = routeOf(op);
      const isRoute = (m: AnalysisSpan): boolean => m.via === 'route' || (m.via === 'framework' && m.kind === 'server');
      ok = maps.some((m) => isRoute(m) && m.spanName === r);
      // Spring's trailing-slash match: `/a/b/` is served by the route `/a/b`, and the agent names the span by the matched pattern plus `/`.
      if (!ok && r.length > 1 && r.endsWith('/') && maps.some((m) => isRoute(m) && m.spanName === r.slice(0, -1))) {
        ok = true;
        trailingSlash.push(label);
      }
      if (!ok) miss(t, mappings.some((m) => m.via === 'route' && m.spanName === r) ? 'route of another service only' : 'no controller route', label);
      break;
    }
    case 'sql':
      ok = maps.some((m) => m.via === 'sql' && op.startsWith(m.spanName));
      if (!ok) miss(t, maps.some((m) => m.via === 'sql') ? 'statement verb not at any repository call site' : 'no repository call site in the service', label);
      break;
    case 'hibernate':
      // Hibernate's Session/Transaction spans come from the repository calls of the service (JPA).
      ok = maps.some((m) => m.via === 'sql');
      if (!ok) miss(t, 'no JPA repository call site in the service', label);
      break;
    case 'http-client': {
      const verb = op.slice(5);
      ok = maps.some((m) => (m.via === 'http-client' || (m.via === 'framework' && m.kind === 'client')) && (verb === '' || m.httpMethod === verb));
      if (!ok) miss(t, maps.some((m) => m.via === 'http-client') ? 'no RestTemplate call site with this verb' : 'no RestTemplate call site in the service', label);
      break;
    }
    case 'messaging':
      ok = maps.some((m) => m.via === 'messaging' && m.spanName === op);
      if (!ok) miss(t, maps.some((m) => m.via === 'messaging') ? 'no listener or send call site of this name' : 'no messaging code in the service', label);
      break;
    default:
      miss(t, 'not a span family the mapping covers', label);
  }
  if (ok) t.mapped++;
}

console.log(`${doc.services.length} services, ${javaFiles} Java files, ${functions} functions, ${syntaxErrors} syntax errors; analyzed in ${analyzeSeconds.toFixed(1)} s (peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB)`);
const sm = doc.summary;
console.log(`cross-service: ${sm.httpClientCallsMatched} of ${sm.httpClientCalls} RestTemplate calls with a URL match a route of another service (${pct(sm.httpClientCallsMatched, sm.httpClientCalls)}), ${sm.crossServiceEdges} edges`);
const unmatched = doc.spans.filter((c) => c.via === 'http-client' && (c.urlExpanded ?? c.url) !== undefined && !doc.crossServiceEdges.some((e) => e.fromFunction === c.function && e.url === (c.urlExpanded ?? c.url)));
for (const c of unmatched) console.log(`    unmatched: ${c.service} ${c.httpMethod ?? '?'} ${c.urlExpanded ?? c.url}`);
console.log(`calls: ${sm.callSites} call sites, ${sm.callsResolved} resolved, ${sm.callsUnresolved} unresolved, ${sm.callsLibrary} library; ${doc.calls.length} inter-procedural edges`);
console.log(`${mappings.length} span mappings: ${[...viaCounts].map(([v, n]) => `${v} ${n}`).join(', ')}`);
console.log(`nezha-trainticket distinct (service, operation) pairs: ${pairs.size}`);
const cm = tallies.get('Class.method');
const rt = tallies.get('route');
if (cm || rt) {
  const total = (cm?.total ?? 0) + (rt?.total ?? 0);
  const mapped = (cm?.mapped ?? 0) + (rt?.mapped ?? 0);
  console.log(`Class.method names and route templates: ${mapped} of ${total} map (${pct(mapped, total)})`);
}
for (const [family, t] of tallies) {
  console.log(`  ${family}: ${t.mapped} of ${t.total} map (${pct(t.mapped, t.total)})${family === 'route' && trailingSlash.length > 0 ? `; by Spring's trailing-slash match: ${trailingSlash.join(', ')}` : ''}`);
  for (const [category, list] of t.misses) console.log(`    missed, ${category}: ${list.length}: ${list.join(', ')}`);
}
