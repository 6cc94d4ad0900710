// Robustness of decodeTracesData against malformed input: well over 100,000 seeded cases (see
// test/helpers/mutate.ts for the strategies). Every input must either decode or throw
// ProtobufDecodeError (an InputError with a known kind and an offset inside the input); nothing
// else may escape (no RangeError from the stack or an allocation, no TypeError), and no input may
// hang. An input that decodes must re-encode to bytes that decode to the same message, stably.
//
// The cases run in two worker threads (this machine has 2 cores). Each worker publishes the case
// it is on in shared memory; a watchdog terminates a worker that stops making progress and the test
// fails naming the input, so a hang is a failure instead of a stuck CI job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { encodeTracesData } from '../../src/otlp/index.js';
import { bytesToHex } from '../../src/model/index.js';
import { STRATEGIES, buildCorpus, caseCounts, makeCase } from '../helpers/mutate.js';
import type { FuzzWorkerInput, FuzzWorkerResult } from '../helpers/fuzz-worker.js';
import { runWatchedWorker } from '../helpers/watched-worker.js';

const SHARDS = 2;
/** A worker whose heartbeat does not move for this long is considered hung. */
const STALL_MS = 10_000;
/** Hard budget for the whole run. */
const BUDGET_MS = 50_000;

interface ShardOutcome {
  result?: FuzzWorkerResult;
  hung?: { strategy: number; index: number };
  crashed?: string;
}

async function runShard(shard: number): Promise<ShardOutcome> {
  const input: FuzzWorkerInput = { shard, shards: SHARDS, shared: new SharedArrayBuffer(3 * 4) };
  const o = await runWatchedWorker<FuzzWorkerResult>(new URL('../helpers/fuzz-worker.ts', import.meta.url), input, { stallMs: STALL_MS, budgetMs: BUDGET_MS });
  return { result: o.result, hung: o.hung && { strategy: o.hung.slot1, index: o.hung.slot2 }, crashed: o.crashed };
}

test('fuzz: >= 100,000 malformed inputs either decode or throw ProtobufDecodeError, never hang, and accepted ones re-encode stably', { timeout: 120_000 }, async () => {
  const t0 = performance.now();
  const outcomes = await Promise.all(Array.from({ length: SHARDS }, (_, i) => runShard(i)));
  const wall = performance.now() - t0;

  for (const o of outcomes) {
    if (o.hung) {
      const corpus = buildCorpus(encodeTracesData);
      const bytes = makeCase(corpus, o.hung.strategy, o.hung.index);
      assert.fail(
        `decoder made no progress for ${STALL_MS} ms (or the run exceeded ${BUDGET_MS} ms) on ` +
          `strategy "${STRATEGIES[o.hung.strategy]!.name}" case ${o.hung.index}: ${bytes.length} bytes, starting ${bytesToHex(bytes.subarray(0, 64))}`,
      );
    }
    assert.equal(o.crashed, undefined, `fuzz worker crashed: ${o.crashed}`);
  }
  const results = outcomes.map((o) => o.result!);

  // Merge the shards' statistics and print them (the numbers go into reviews of the codec).
  const merged = STRATEGIES.map((s, i) => {
    const per = results.map((r) => r.stats[i]!);
    const errors: Record<string, number> = {};
    for (const p of per) for (const [k, v] of Object.entries(p.errors)) errors[k] = (errors[k] ?? 0) + v;
    return {
      name: s.name,
      cases: per.reduce((n, p) => n + p.cases, 0),
      decoded: per.reduce((n, p) => n + p.decoded, 0),
      errors,
      maxCaseMs: Math.max(...per.map((p) => p.maxCaseMs)),
    };
  });
  const total = merged.reduce((n, s) => n + s.cases, 0);
  for (const s of merged) {
    const errs = Object.entries(s.errors)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    console.log(`  ${s.name}: ${s.cases} cases, ${s.decoded} decoded; errors: ${errs || 'none'}; slowest case ${s.maxCaseMs.toFixed(1)} ms`);
  }
  console.log(`  total ${total} cases in ${(wall / 1000).toFixed(1)} s wall (${results.map((r) => (r.ms / 1000).toFixed(1) + ' s').join(' + ')} per worker)`);

  const expectedTotal = caseCounts(buildCorpus(encodeTracesData)).reduce((a, b) => a + b, 0);
  assert.equal(total, expectedTotal, 'every generated case ran exactly once');
  assert.ok(total >= 100_000, `only ${total} cases`);
  for (const s of merged) assert.ok(s.cases > 0, `strategy ${s.name} produced no cases`);
  // The mutations must exercise both outcomes, or the fuzzer is not reaching the decoder's depths.
  assert.ok(merged.reduce((n, s) => n + s.decoded, 0) > 5_000, 'too few mutated inputs decoded: the idempotency check is not exercised');

  const failures = results.flatMap((r) => r.failures);
  const totalFailures = results.reduce((n, r) => n + r.totalFailures, 0);
  if (totalFailures > 0) {
    const byProblem = new Map<string, number>();
    for (const r of results) for (const [k, v] of Object.entries(r.problems)) byProblem.set(k, (byProblem.get(k) ?? 0) + v);
    const lines = failures
      .slice(0, 12)
      .map((f) => `  [${f.strategy} #${f.index}] ${f.problem}\n    input (${f.inputLength} bytes): ${f.inputHex}${f.inputLength > 160 ? '…' : ''}`);
    assert.fail(`${totalFailures} of ${total} inputs misbehaved; kinds of problem: ${[...byProblem.entries()].map(([k, v]) => `${v}× ${k}`).join('; ')}\n${lines.join('\n')}`);
  }
  assert.ok(wall < 60_000, `fuzzing took ${(wall / 1000).toFixed(1)} s; keep it well under a minute`);
});
