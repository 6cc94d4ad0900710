// Early measurement for the Autoscope analyzer (issue 5) on the real system behind the datasets:
// parses every Java file of the Augmented-TrainTicket source (brought in outside the repository;
// never committed) and reports how many of the `Class.method` operation names of
// nezha-trainticket's spans name a method the analyzer found, with the misses by category.
//
//   node --import tsx scripts/trainticket-coverage.ts SOURCE_DIR [DATASETS_ROOT]
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { analyzeJavaSource, walkSourceFiles } from '../src/analyzer/index.js';
import { openTraceSource } from '../src/datasets/index.js';

const sourceDir = process.argv[2];
if (!sourceDir) {
  console.error('usage: scripts/trainticket-coverage.ts SOURCE_DIR [DATASETS_ROOT]');
  process.exit(2);
}
const datasets = resolve(process.argv[3] ?? process.env.SLIMTRACE_DATASETS ?? join(import.meta.dirname, '../../shared/datasets'));

const started = Date.now();
const methods = new Set<string>(); // Class.method, from method bodies and declared (interface) methods
const classes = new Set<string>();
let files = 0;
let functions = 0;
let syntaxErrors = 0;
for await (const f of walkSourceFiles([sourceDir])) {
  if (f.kind !== 'source' || f.language !== 'java') continue;
  const r = await analyzeJavaSource(f.path, await readFile(f.path, 'utf8'));
  files++;
  functions += r.functions.length;
  syntaxErrors += r.syntaxErrors.length;
  for (const fn of r.functions) methods.add(fn.name.split('.').slice(-2).join('.'));
  for (const c of r.classes) {
    classes.add(c.name);
    for (const m of c.methods) methods.add(`${c.name}.${m}`);
  }
}
const analyzeSeconds = (Date.now() - started) / 1000;

const ops = new Set<string>();
const source = await openTraceSource(join(datasets, 'nezha-trainticket'), { logs: false });
for await (const b of source.batches()) for (const rs of b.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) ops.add(s.name);
const classMethod = [...ops].filter((o) => /^[A-Z][A-Za-z0-9]*\.[a-z][A-Za-z0-9]*$/.test(o)).sort();
const misses = classMethod.filter((o) => !methods.has(o));
const byCategory = new Map<string, string[]>();
for (const m of misses) {
  const [cls, method] = m.split('.') as [string, string];
  const category = !classes.has(cls)
    ? 'class not in the source (framework: Spring, Hibernate)'
    : /Repository$/.test(cls) && ['save', 'findAll', 'findById', 'delete', 'deleteById', 'count', 'existsById'].includes(method)
      ? 'inherited Spring Data repository method'
      : 'other';
  byCategory.set(category, [...(byCategory.get(category) ?? []), m]);
}
console.log(`${files} Java files, ${functions} functions, ${syntaxErrors} syntax errors, analyzed in ${analyzeSeconds.toFixed(1)} s (peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB)`);
console.log(`nezha-trainticket Class.method operations: ${classMethod.length}; naming an analyzed method: ${classMethod.length - misses.length} (${((100 * (classMethod.length - misses.length)) / classMethod.length).toFixed(1)}%)`);
for (const [category, list] of byCategory) console.log(`  missed, ${category}: ${list.length}: ${list.join(', ')}`);
