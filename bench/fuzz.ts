// `npm run fuzz`: at least 100k deterministic mutated inputs per decoder (OTLP protobuf, OTLP/JSON,
// Tracezip frames and streams, span CSV) plus the bombs of issue 15, each decoder's inputs in
// worker threads under a watchdog (test/reliability/fuzz-core.ts). Prints the table that
// docs/reliability.md records, and exits 1 when any input threw an untyped error, hung, took over
// 1 s, or the process passed 256 MB.
//   node --import tsx bench/fuzz.ts [--inputs N] [--seed S] [--only DECODER|bombs] [--shards K]
import { DECODERS, fuzzBombs, fuzzDecoder, table, type DecoderName, type RowStats } from '../test/reliability/fuzz-core.js';

const MEMORY_LIMIT_MB = 256;

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const inputs = Number(flag('--inputs') ?? 100_000);
const seed = Number(flag('--seed') ?? 1);
const shards = Number(flag('--shards') ?? 2);
const only = flag('--only');
if (!Number.isInteger(inputs) || inputs < 1 || !Number.isInteger(seed) || !Number.isInteger(shards) || shards < 1) {
  console.error('usage: node --import tsx bench/fuzz.ts [--inputs N] [--seed S] [--only DECODER|bombs] [--shards K]');
  process.exit(2);
}
if (only !== undefined && only !== 'bombs' && !(DECODERS as readonly string[]).includes(only)) {
  console.error(`--only must be one of ${DECODERS.join(', ')}, bombs`);
  process.exit(2);
}

const options = { seed, inputs, shards, hangMs: 5_000, maxHeapMb: 1024 };
const rows: RowStats[] = [];
const started = Date.now();
console.log(`slimtrace fuzz: ${inputs} inputs per decoder, seed ${seed}, ${shards} workers, node ${process.version}, ${new Date().toISOString()}`);
for (const d of DECODERS) {
  if (only !== undefined && only !== d) continue;
  const t0 = Date.now();
  const row = await fuzzDecoder(d as DecoderName, options);
  rows.push(row);
  console.log(`  ${d}: ${row.inputs} inputs, ${row.typed} typed errors, ${row.other} other, ${row.hangs} hangs, max ${row.maxMs.toFixed(1)} ms, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  for (const f of row.failures.slice(0, 10)) console.log(`    ${f}`);
}
if (only === undefined || only === 'bombs') {
  const b = await fuzzBombs(options);
  rows.push(...b.rows);
  console.log('  bombs:');
  for (const x of b.bombs) console.log(`    ${x.name}: ${x.verdict} (${Number.isNaN(x.ms) ? '-' : `${x.ms.toFixed(0)} ms`})`);
  for (const r of b.rows) for (const f of r.failures) console.log(`    ${f}`);
}
console.log('');
console.log(table(rows));
console.log(`\n${((Date.now() - started) / 1000).toFixed(0)} s in all`);
const bad = rows.filter((r) => r.other > 0 || r.hangs > 0 || r.slow > 0 || r.peakRssMb > MEMORY_LIMIT_MB);
if (bad.length > 0) {
  console.log(`FAILED: ${bad.map((r) => r.decoder).join(', ')} (untyped errors, hangs, inputs over 1 s or RSS over ${MEMORY_LIMIT_MB} MB)`);
  process.exitCode = 1;
}
