// Robustness of TracezipDecoder.decode against damaged input: over 100,000 seeded cases (see
// test/helpers/tracezip-fuzz.ts for the corpus and strategies), most with the CRC-32C recomputed
// after the damage so they reach the codec's structural checks. Every input must give a
// TracezipFrameError of a known kind or a typed result (data, duplicate, resync-needed); nothing
// else may escape, and no input may hang. Damage the checksum must catch must be refused. A data
// result is either the original batch or an altered message that is well-formed (undetectable by
// design with the CRC patched: a flipped bit of an id or a time); refused inputs leave the stream's
// state as it was (the real frame still decodes exactly afterwards).
//
// The cases run in two worker threads (this machine has 2 cores). Each worker publishes the case
// it is on in shared memory; a watchdog terminates a worker that stops making progress and the test
// fails naming the input, so a hang is a failure instead of a stuck run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { TZ_STRATEGIES, buildTzCorpus, hexPrefix, makeTzCase, tzTotalCases } from '../helpers/tracezip-fuzz.js';
import type { TzFuzzWorkerInput, TzFuzzWorkerResult } from '../helpers/tracezip-fuzz-worker.js';
import { runWatchedWorker } from '../helpers/watched-worker.js';

const SHARDS = 2;
/** A worker whose heartbeat does not move for this long is considered hung. */
const STALL_MS = 10_000;
/** Hard budget for the whole run. */
const BUDGET_MS = 60_000;

interface ShardOutcome {
  result?: TzFuzzWorkerResult;
  hung?: { group: number; index: number; budget: boolean };
  crashed?: string;
}

async function runShard(shard: number): Promise<ShardOutcome> {
  const input: TzFuzzWorkerInput = { shard, shards: SHARDS, shared: new SharedArrayBuffer(3 * 4) };
  const o = await runWatchedWorker<TzFuzzWorkerResult>(new URL('../helpers/tracezip-fuzz-worker.ts', import.meta.url), input, {
    stallMs: STALL_MS,
    budgetMs: BUDGET_MS,
  });
  return { result: o.result, hung: o.hung && { group: o.hung.slot1, index: o.hung.slot2, budget: o.hung.budget }, crashed: o.crashed };
}

test('fuzz: >= 100,000 damaged frames (mostly past the checksum) give a typed error or result, never another exception, never a hang, never a silent state change', { timeout: 120_000 }, async () => {
  const t0 = performance.now();
  const outcomes = await Promise.all(Array.from({ length: SHARDS }, (_, i) => runShard(i)));
  const wall = performance.now() - t0;

  for (const o of outcomes) {
    if (o.hung) {
      const c = makeTzCase(buildTzCorpus(), o.hung.index);
      assert.fail(
        `${o.hung.budget ? `the run exceeded ${BUDGET_MS} ms` : `the decoder made no progress for ${STALL_MS} ms`} at case ${o.hung.index} ` +
          `(strategy "${TZ_STRATEGIES[c.strategy]!.name}", scenario ${c.s}, frame ${c.k}): ${c.bytes.length} bytes, ${hexPrefix(c.bytes)}`,
      );
    }
    assert.equal(o.crashed, undefined, `fuzz worker crashed: ${o.crashed}`);
  }
  const results = outcomes.map((o) => o.result!);

  const merged = TZ_STRATEGIES.map((s, i) => {
    const per = results.map((r) => r.stats[i]!);
    const outcomesBy: Record<string, number> = {};
    for (const p of per) for (const [k, v] of Object.entries(p.outcomes)) outcomesBy[k] = (outcomesBy[k] ?? 0) + v;
    return { name: s.name, cases: per.reduce((n, p) => n + p.cases, 0), outcomes: outcomesBy, maxCaseMs: Math.max(...per.map((p) => p.maxCaseMs)) };
  });
  const total = merged.reduce((n, s) => n + s.cases, 0);
  const all: Record<string, number> = {};
  for (const s of merged) {
    for (const [k, v] of Object.entries(s.outcomes)) all[k] = (all[k] ?? 0) + v;
    const line = Object.entries(s.outcomes)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    console.log(`  ${s.name}: ${s.cases} cases; ${line}; slowest ${s.maxCaseMs.toFixed(1)} ms`);
  }
  console.log(`  total ${total} cases in ${(wall / 1000).toFixed(1)} s wall (${results.map((r) => `${(r.ms / 1000).toFixed(1)} s`).join(' + ')} per worker)`);

  assert.equal(total, tzTotalCases(), 'every generated case ran exactly once');
  assert.ok(total >= 100_000, `only ${total} cases`);
  for (const s of merged) assert.ok(s.cases > 0, `strategy ${s.name} produced no cases`);
  // The damage must reach every kind of answer, or the fuzzer is not exercising the decoder.
  for (const k of ['error:malformed', 'error:checksum', 'resync:unknown-reference', 'data (altered, well-formed)', 'data (exact)']) {
    assert.ok((all[k] ?? 0) > 0, `no case ended as ${k}`);
  }

  const totalFailures = results.reduce((n, r) => n + r.totalFailures, 0);
  if (totalFailures > 0) {
    const byProblem = new Map<string, number>();
    for (const r of results) for (const [k, v] of Object.entries(r.problems)) byProblem.set(k, (byProblem.get(k) ?? 0) + v);
    const lines = results
      .flatMap((r) => r.failures)
      .slice(0, 12)
      .map((f) => `  [case ${f.case}: ${f.strategy}; ${f.scenario} frame ${f.frame}] ${f.problem}\n    input (${f.inputLength} bytes): ${f.inputHex}`);
    assert.fail(`${totalFailures} of ${total} inputs misbehaved; kinds of problem:\n  ${[...byProblem.entries()].map(([k, v]) => `${v}x ${k}`).join('\n  ')}\n${lines.join('\n')}`);
  }
  assert.ok(wall < 45_000, `fuzzing took ${(wall / 1000).toFixed(1)} s; keep it well under a minute`);
});
