// Measurement for the Autoscope analyzer on generated source (issue 14, item 4): runs `analyzeSources`
// over a directory the traffic generator emitted (`slimtrace generate --source-dir DIR`, any
// topology), reads the generator's answer key (DIR/slimtrace-model.json: every span name with the
// file and function that produce it) and reports how many of the distinct span names, and of the
// distinct (service, kind, span name) sites, the analysis maps to the right function, and how many of
// the key's branch points it finds, with the misses.
//
//   node --import tsx scripts/generated-coverage.ts DIR [--json]
//
// A site is mapped right when the analysis has a span of that name and kind in that service whose
// function (for routes, the handler) is the key's function in the key's file; a span name is mapped right when all its sites
// are (a gRPC method's name has a SERVER site in the serving service and a CLIENT site per caller).
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { analyzeSources } from '../src/analyzer/analyze.js';

interface KeySpan {
  name: string;
  kind: string;
  function: string;
  file: string;
  line: number;
}
interface KeyBranchPoint {
  id: string;
  kind: string;
  function: string;
  file: string;
  line: number;
}
interface KeyService {
  name: string;
  language?: string;
  dir: string;
  operations: { spans: KeySpan[]; branchPoints?: KeyBranchPoint[] }[];
}

export interface GeneratedCoverage {
  topology: string;
  distinctSpanNames: number;
  spanNamesMapped: number;
  sites: number;
  sitesMapped: number;
  perLanguage: Record<string, string>;
  analyzerSeconds: number;
  grpcStubCallsMatched: string;
  syntaxErrors: number;
  branchPoints: string;
  misses: string[];
  branchPointMisses: string[];
}

/** Analyzes DIR (a generator's --source-dir output) and measures the analysis against its answer key. */
export async function measureGeneratedCoverage(dirArg: string): Promise<GeneratedCoverage> {
  const dir = resolve(dirArg);
  const model = JSON.parse(await readFile(join(dir, 'slimtrace-model.json'), 'utf8')) as { topology: string; services: KeyService[] };
  const doc = await analyzeSources({ sourceDirs: [dir] });
  const posix = (p: string): string => p.split('\\').join('/');
  const svcByDir = new Map(doc.services.map((s) => [posix(resolve(s.dir)), s.name]));
  const fnById = new Map(doc.functions.map((f) => [f.id, f]));

  interface Site {
    service: string;
    language: string;
    kind: string;
    name: string;
    wanted: Set<string>; // `file\0function`
  }
  const sites = new Map<string, Site>();
  for (const svc of model.services) {
    for (const op of svc.operations) {
      for (const sp of op.spans) {
        const key = `${svc.name}\0${sp.kind}\0${sp.name}`;
        const site = sites.get(key) ?? { service: svc.name, language: svc.language ?? 'typescript', kind: sp.kind, name: sp.name, wanted: new Set<string>() };
        site.wanted.add(`${posix(join(dir, sp.file))}\0${sp.function}`);
        sites.set(key, site);
      }
    }
  }

  const serviceDir = new Map(model.services.map((s) => [s.name, posix(resolve(dir, s.dir))]));
  const misses: string[] = [];
  const okByName = new Map<string, boolean>();
  const perLanguage = new Map<string, { ok: number; all: number }>();
  let okSites = 0;
  for (const site of sites.values()) {
    const analyzed = svcByDir.get(serviceDir.get(site.service)!);
    // analysis.json kinds are server/internal/client: a consumer is a server, a producer a client there.
    const kind = site.kind === 'CONSUMER' ? 'server' : site.kind === 'PRODUCER' ? 'client' : site.kind.toLowerCase();
    const found = doc.spans.filter((s) => s.service === analyzed && s.spanName === site.name && s.kind === kind);
    const got = new Set(found.flatMap((s) => {
      // A route is produced by its handler; the record's own `function` is where it is registered.
      const id = s.via === 'route' || (s.via === 'messaging' && s.kind === 'server') ? (s.handlerFunction ?? s.function) : s.function;
      const f = id ? fnById.get(id) : undefined;
      return f ? [`${posix(resolve(f.file))}\0${f.name}`] : [];
    }));
    const missing = [...site.wanted].filter((w) => !got.has(w));
    const ok = missing.length === 0;
    if (ok) okSites++;
    else misses.push(`${site.service} (${site.language}) ${site.kind} ${JSON.stringify(site.name)}: wanted ${missing.map((m) => m.split('\0')[1]).join(', ')}; got ${[...got].map((g) => g.split('\0')[1]).join(', ') || 'nothing'}`);
    okByName.set(site.name, (okByName.get(site.name) ?? true) && ok);
    const l = perLanguage.get(site.language) ?? { ok: 0, all: 0 };
    l.all++;
    if (ok) l.ok++;
    perLanguage.set(site.language, l);
  }
  // Branch points: the key's (function, line, kind) has a branch node of that kind on that line of
  // the analysis' function (Go prints a try as an `if err != nil`, so a Go try may be an if).
  const bpMisses: string[] = [];
  let bpAll = 0;
  let bpOk = 0;
  const seenBp = new Set<string>();
  for (const svc of model.services) {
    for (const op of svc.operations) {
      for (const bp of op.branchPoints ?? []) {
        if (seenBp.has(bp.id)) continue;
        seenBp.add(bp.id);
        bpAll++;
        const file = posix(join(dir, bp.file));
        const fn = doc.functions.find((f) => posix(resolve(f.file)) === file && f.name === bp.function);
        const kinds = bp.kind === 'try' && svc.language === 'go' ? ['try', 'if'] : [bp.kind];
        const hit = fn?.nodes.some((n) => n.kind === 'branch' && n.line === bp.line && kinds.includes(n.branch));
        if (hit) bpOk++;
        else bpMisses.push(`${svc.name} ${bp.kind} at ${bp.file}:${bp.line} in ${bp.function}${fn ? '' : ' (function not found)'}`);
      }
    }
  }
  const okNames = [...okByName.values()].filter(Boolean).length;
  return {
    topology: model.topology,
    distinctSpanNames: okByName.size,
    spanNamesMapped: okNames,
    sites: sites.size,
    sitesMapped: okSites,
    perLanguage: Object.fromEntries([...perLanguage].map(([k, v]) => [k, `${v.ok}/${v.all}`])),
    analyzerSeconds: doc.summary.seconds,
    grpcStubCallsMatched: `${doc.summary.grpcClientCallsMatched}/${doc.summary.grpcClientCalls}`,
    syntaxErrors: doc.syntaxErrors.length,
    branchPoints: `${bpOk}/${bpAll}`,
    misses,
    branchPointMisses: bpMisses,
  };
}

const pct = (a: number, b: number): string => (b === 0 ? '-' : `${((100 * a) / b).toFixed(1)}%`);

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const dirArg = process.argv[2];
  if (!dirArg) {
    console.error('usage: scripts/generated-coverage.ts DIR [--json]');
    process.exit(2);
  }
  const result = await measureGeneratedCoverage(dirArg);
  const okNames = result.spanNamesMapped;
  if (process.argv.includes('--json')) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(`topology ${result.topology}: ${okNames} of ${result.distinctSpanNames} distinct span names mapped to the right function (${pct(okNames, result.distinctSpanNames)})`);
    console.log(`(service, kind, name) sites: ${result.sitesMapped} of ${result.sites} (${pct(result.sitesMapped, result.sites)}); per language ${JSON.stringify(result.perLanguage)}`);
    console.log(`gRPC stub calls joined to handlers: ${result.grpcStubCallsMatched}; syntax errors: ${result.syntaxErrors}; analysis ${result.analyzerSeconds} s`);
    console.log(`branch points of the key found (function, line, kind): ${result.branchPoints}`);
    for (const m of result.misses) console.log(`  miss: ${m}`);
    for (const m of result.branchPointMisses) console.log(`  branch point miss: ${m}`);
  }
}
