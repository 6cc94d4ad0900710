// Worker thread for test/tracezip/fuzz.test.ts: runs one shard of the Tracezip fuzz groups and
// reports back. Before each case it publishes (group, case index) in shared memory, so the test can
// name the input if this thread ever hangs and has to be terminated.
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import {
  GROUP,
  TZ_STRATEGIES,
  buildTzCorpus,
  checkTzCase,
  hexPrefix,
  makeTzCase,
  primeDecoder,
  targetOf,
  tzTotalCases,
  verifyState,
} from './tracezip-fuzz.js';

export interface TzFuzzWorkerInput {
  shard: number;
  shards: number;
  /** Int32Array view: [0] heartbeat counter, [1] group, [2] case index. */
  shared: SharedArrayBuffer;
}

export interface TzFuzzFailure {
  case: number;
  strategy: string;
  scenario: string;
  frame: number;
  problem: string;
  inputHex: string;
  inputLength: number;
}

export interface TzStrategyStats {
  cases: number;
  outcomes: Record<string, number>;
  maxCaseMs: number;
}

export interface TzFuzzWorkerResult {
  shard: number;
  stats: TzStrategyStats[];
  failures: TzFuzzFailure[];
  totalFailures: number;
  problems: Record<string, number>;
  groups: number;
  ms: number;
}

function run(input: TzFuzzWorkerInput): TzFuzzWorkerResult {
  const t0 = performance.now();
  const shared = new Int32Array(input.shared);
  const corpus = buildTzCorpus();
  const total = tzTotalCases();
  const groups = Math.ceil(total / GROUP);
  const stats: TzStrategyStats[] = TZ_STRATEGIES.map(() => ({ cases: 0, outcomes: {}, maxCaseMs: 0 }));
  const failures: TzFuzzFailure[] = [];
  const problems: Record<string, number> = {};
  let totalFailures = 0;
  let ran = 0;
  const fail = (c: number, strategy: number, s: number, k: number, problem: string, bytes: Uint8Array): void => {
    totalFailures++;
    const key = `${TZ_STRATEGIES[strategy]!.name}: ${problem.replace(/\d+/g, 'N').slice(0, 160)}`;
    problems[key] = (problems[key] ?? 0) + 1;
    if (failures.length < 40) {
      failures.push({ case: c, strategy: TZ_STRATEGIES[strategy]!.name, scenario: corpus[s]!.name, frame: k, problem, inputHex: hexPrefix(bytes), inputLength: bytes.length });
    }
  };

  for (let g = input.shard; g < groups; g += input.shards) {
    ran++;
    const { s, k } = targetOf(corpus, g);
    const sc = corpus[s]!;
    let dec = primeDecoder(sc, k);
    const first = g * GROUP;
    const last = Math.min(total, first + GROUP);
    let refused = 0;
    for (let c = first; c < last; c++) {
      Atomics.store(shared, 1, g);
      Atomics.store(shared, 2, c);
      Atomics.add(shared, 0, 1);
      const { strategy, bytes } = makeTzCase(corpus, c);
      const st = stats[strategy]!;
      const c0 = performance.now();
      const v = checkTzCase(sc, k, bytes, TZ_STRATEGIES[strategy]!.mustFail === true, dec);
      const dt = performance.now() - c0;
      if (dt > st.maxCaseMs) st.maxCaseMs = dt;
      st.cases++;
      st.outcomes[v.key] = (st.outcomes[v.key] ?? 0) + 1;
      if (v.problem) fail(c, strategy, s, k, v.problem, bytes);
      if (v.advanced) dec = primeDecoder(sc, k);
      else refused++;
    }
    if (refused === 0) continue;
    // The refused inputs must have left the state alone.
    if (verifyState(sc, k, dec) === undefined) continue;
    // Find which one did not: replay the group one case at a time.
    for (let c = first; c < last; c++) {
      Atomics.add(shared, 0, 1);
      const { strategy, bytes } = makeTzCase(corpus, c);
      const d = primeDecoder(sc, k);
      const v = checkTzCase(sc, k, bytes, false, d);
      if (v.advanced) continue;
      const p = verifyState(sc, k, d);
      if (p) fail(c, strategy, s, k, `after this input was refused (${v.key}), ${p}`, bytes);
    }
  }
  return { shard: input.shard, stats, failures, totalFailures, problems, groups: ran, ms: performance.now() - t0 };
}

if (parentPort && workerData) {
  parentPort.postMessage(run(workerData as TzFuzzWorkerInput));
}
