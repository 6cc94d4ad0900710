// Pools the root-cause localisation of several `slimtrace evaluate --rca --json` runs (seeds of
// generated traffic, runs at different budgets) into the tables docs/evaluation.md shows: AC@1,
// AC@3 and Avg@5 of both rankings on the full data, per strategy and budget, and random chance,
// overall and AC@1 per fault type. Cases are pooled, not runs averaged: a run with more faults
// weighs more.
//
//   node --import tsx scripts/rca-table.ts [LABEL=]run1.json [[LABEL=]run2.json ...]
//
// A reduced row is named `strategy @ LABEL`, LABEL defaulting to the run's target reduction; runs
// with the same label pool (the seeds of one setting). The full data's cases are taken once per
// distinct input (runs of the same input at other budgets repeat them).
import { readFileSync } from 'node:fs';
import { scoreCases, type RcaCase, type RcaResult } from '../src/eval/index.js';

interface Run {
  targetReduction: number;
  results: { strategy: string; reduction: number; rca?: { full: RcaResult; reduced: RcaResult } }[];
}

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: rca-table.ts evaluate.json [more.json ...]\n');
  process.exit(2);
}
const runs = files.map((arg) => {
  const eq = arg.indexOf('=');
  const file = eq > 0 ? arg.slice(eq + 1) : arg;
  return { label: eq > 0 ? arg.slice(0, eq) : undefined, run: JSON.parse(readFileSync(file, 'utf8')) as Run };
});

// The full data is the same for every strategy of a run: take it once per run.
const full: RcaCase[] = [];
const seen = new Set<string>();
const reduced = new Map<string, { cases: RcaCase[]; reductions: number[] }>();
for (const { label, run } of runs) {
  const withRca = run.results.filter((r) => r.rca);
  if (withRca.length === 0) continue;
  for (const c of withRca[0]!.rca!.full.cases) {
    const key = JSON.stringify([c.fault, c.type, c.service, c.traces, c.spans, c.candidates]);
    if (seen.has(key)) continue;
    seen.add(key);
    full.push(c);
  }
  for (const r of withRca) {
    const key = `${r.strategy} @ ${label ?? `target ${(run.targetReduction * 100).toFixed(1)}%`}`;
    let entry = reduced.get(key);
    if (!entry) reduced.set(key, (entry = { cases: [], reductions: [] }));
    entry.cases.push(...r.rca!.reduced.cases);
    entry.reductions.push(r.reduction);
  }
}
const f2 = (x: number): string => x.toFixed(2);
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const fullScore = scoreCases(full);
const row = (label: string, reduction: string, s: ReturnType<typeof scoreCases>): string =>
  `| ${label} | ${reduction} | ${[s.methods.traceRca, s.methods.microRank].flatMap((m) => [f2(m.ac[0]!), f2(m.ac[2]!), f2(m.avg5)]).join(' | ')} |`;
const lines = [
  `${fullScore.faults} fault cases, ${runs.length} run(s)`,
  '',
  '| data | reduction | TraceRCA AC@1 | AC@3 | Avg@5 | MicroRank AC@1 | AC@3 | Avg@5 |',
  '|---|---|---|---|---|---|---|---|',
  row('full data', '0%', fullScore),
];
for (const [key, e] of reduced) {
  const mean = e.reductions.reduce((a, b) => a + b, 0) / e.reductions.length;
  lines.push(row(key, pct(mean), scoreCases(e.cases)));
}
const c = fullScore.chance;
lines.push(`| random chance | - | ${[c.ac[0]!, c.ac[2]!, c.avg5, c.ac[0]!, c.ac[2]!, c.avg5].map(f2).join(' | ')} |`);

// AC@1 per fault type and per root-cause service: TraceRCA / MicroRank.
const types = [...new Set(full.map((x) => x.type))];
const byType = (cases: readonly RcaCase[]): string[] =>
  types.map((t) => {
    const s = scoreCases(cases.filter((x) => x.type === t));
    return `${f2(s.methods.traceRca.ac[0]!)} / ${f2(s.methods.microRank.ac[0]!)}`;
  });
lines.push('', `AC@1 per fault type (TraceRCA / MicroRank; cases: ${types.map((t) => `${t} ${full.filter((x) => x.type === t).length}`).join(', ')})`, '');
lines.push(`| data | ${types.join(' | ')} |`, `|---|${types.map(() => '---').join('|')}|`);
lines.push(`| full data | ${byType(full).join(' | ')} |`);
for (const [key, e] of reduced) lines.push(`| ${key} | ${byType(e.cases).join(' | ')} |`);
process.stdout.write(lines.join('\n') + '\n');

// AC@1 per root-cause service (rows) and setting (columns), TraceRCA / MicroRank.
const services = [...new Set(full.map((x) => x.service))].sort();
const settings: [string, RcaCase[]][] = [['full data', full], ...[...reduced].map(([k, e]) => [k, e.cases] as [string, RcaCase[]])];
const out = ['', 'AC@1 per root-cause service (TraceRCA / MicroRank)', ''];
out.push(`| service (cases) | ${settings.map(([k]) => k).join(' | ')} |`, `|---|${settings.map(() => '---').join('|')}|`);
for (const svc of services) {
  const cells = settings.map(([, cases]) => {
    const s = scoreCases(cases.filter((x) => x.service === svc));
    return `${f2(s.methods.traceRca.ac[0]!)} / ${f2(s.methods.microRank.ac[0]!)}`;
  });
  out.push(`| ${svc} (${full.filter((x) => x.service === svc).length}) | ${cells.join(' | ')} |`);
}
process.stdout.write(out.join('\n') + '\n');
