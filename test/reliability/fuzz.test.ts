// The short fuzz run of `npm test`: a few thousand inputs through the same harness as `npm run fuzz`
// (fuzz-core.ts: corpora from the generator, the mutator, child processes under a watchdog), and
// the Tracezip bombs of issue 15. Every input must decode or throw one of the project's typed
// errors, none may hang, and Tracezip never outputs what differs from its input without an error.
// No wall-clock asserts: the watchdog's hang threshold is generous, the full figures come from
// `npm run fuzz` (docs/reliability.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DECODERS, fuzzBombs, fuzzDecoder, table, type RowStats } from './fuzz-core.js';

const options = { seed: 20261205, inputs: 600, shards: 1, hangMs: 20_000, maxHeapMb: 1024 };

test('short fuzz: 600 mutated inputs per decoder give a result or a typed error, never another exception or a hang', { timeout: 180_000 }, async () => {
  const rows: RowStats[] = [];
  for (const d of DECODERS) rows.push(await fuzzDecoder(d, options));
  console.log(table(rows));
  for (const r of rows) {
    assert.equal(r.ok + r.typed + r.other, r.inputs, `${r.decoder}: every input counted once`);
    assert.equal(r.other, 0, `${r.decoder}: ${r.failures.join('\n')}`);
    assert.equal(r.hangs, 0, `${r.decoder}: ${r.failures.join('\n')}`);
    assert.ok(r.typed > 0 && r.ok > 0, `${r.decoder}: the mutations reach both outcomes`);
  }
});

test('the Tracezip bombs of issue 15 are refused with a typed error, in a child that stays small', { timeout: 120_000 }, async () => {
  const { rows, bombs } = await fuzzBombs(options, 'tracezip-frame');
  for (const b of bombs) assert.equal(b.verdict, 'typed', `${b.name}: ${b.verdict}`);
  const row = rows[0]!;
  assert.equal(row.inputs, bombs.length);
  assert.ok(row.peakRssMb < 256, `peak RSS ${row.peakRssMb.toFixed(0)} MB`);
});
