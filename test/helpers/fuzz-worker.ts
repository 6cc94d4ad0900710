// Worker thread for test/otlp/fuzz.test.ts: runs one shard of the fuzz cases through
// decodeTracesData and reports back. Before each case it publishes (strategy, index) in shared
// memory, so the test can name the input if this thread ever hangs and has to be terminated.
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { decodeTracesData, encodeTracesData, ProtobufDecodeError } from '../../src/otlp/index.js';
import { InputError, bytesEqual, bytesToHex, diffTracesData, type TracesData } from '../../src/model/index.js';
import { STRATEGIES, buildCorpus, caseCounts, makeCase } from './mutate.js';
import { wireProblem } from './wire.js';

export interface FuzzWorkerInput {
  shard: number;
  shards: number;
  /** Int32Array view: [0] heartbeat counter, [1] strategy, [2] index. */
  shared: SharedArrayBuffer;
}

export interface FuzzFailure {
  strategy: string;
  index: number;
  problem: string;
  inputHex: string;
  inputLength: number;
}

export interface StrategyStats {
  name: string;
  cases: number;
  decoded: number;
  errors: Record<string, number>;
  maxCaseMs: number;
}

export interface FuzzWorkerResult {
  shard: number;
  stats: StrategyStats[];
  failures: FuzzFailure[];
  totalFailures: number;
  /** All failures by problem, numbers masked (e.g. "length N at N exceeds ..."). */
  problems: Record<string, number>;
  ms: number;
}

export const KNOWN_KINDS = new Set(['truncated', 'varint', 'field-zero', 'wire-type', 'depth', 'utf8', 'length', 'limit']);

/** Checks one input; returns a problem description, or undefined when the decoder behaved. */
export function checkInput(bytes: Uint8Array, stats?: StrategyStats): string | undefined {
  let decoded: TracesData;
  try {
    decoded = decodeTracesData(bytes);
  } catch (e) {
    if (!(e instanceof ProtobufDecodeError)) return `threw ${describe(e)} instead of ProtobufDecodeError`;
    if (!(e instanceof InputError)) return 'ProtobufDecodeError is not an InputError';
    if (!KNOWN_KINDS.has(e.kind)) return `unknown error kind ${JSON.stringify(e.kind)}`;
    if (!Number.isInteger(e.offset) || e.offset < 0 || e.offset > bytes.length) return `offset ${e.offset} outside the input of ${bytes.length} bytes (${e.message})`;
    if (stats) stats.errors[e.kind] = (stats.errors[e.kind] ?? 0) + 1;
    return undefined;
  }
  if (stats) stats.decoded++;
  // Accepted input must be well-formed protobuf by the reference rules (C++ protobuf's): a decoder
  // may be stricter, never more lenient (that would give garbage a meaning).
  const malformed = wireProblem(bytes, 'TracesData');
  if (malformed) return `accepted an input that is not well-formed protobuf: ${malformed}`;
  // Accepted input: encode -> decode must give the same message, and encoding must be stable.
  let b1: Uint8Array;
  let again: TracesData;
  try {
    b1 = encodeTracesData(decoded);
  } catch (e) {
    return `decoded, but encoding the result threw ${describe(e)}`;
  }
  try {
    again = decodeTracesData(b1);
  } catch (e) {
    return `decoded, but our own re-encoding does not decode: ${describe(e)}`;
  }
  const d = diffTracesData(decoded, again);
  if (d) return `encode->decode changed the message: ${d}`;
  const b2 = encodeTracesData(again);
  if (!bytesEqual(b1, b2)) return `encode(decode(encode(x))) differs from encode(x) (${b1.length} vs ${b2.length} bytes)`;
  return undefined;
}

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.constructor.name}: ${e.message.slice(0, 300)}`;
  return String(e);
}

function run(input: FuzzWorkerInput): FuzzWorkerResult {
  const t0 = performance.now();
  const shared = new Int32Array(input.shared);
  const corpus = buildCorpus(encodeTracesData);
  const counts = caseCounts(corpus);
  const failures: FuzzFailure[] = [];
  let totalFailures = 0;
  const problems: Record<string, number> = {};
  const stats: StrategyStats[] = [];
  let global = 0;
  for (let s = 0; s < STRATEGIES.length; s++) {
    const st: StrategyStats = { name: STRATEGIES[s]!.name, cases: 0, decoded: 0, errors: {}, maxCaseMs: 0 };
    stats.push(st);
    for (let i = 0; i < counts[s]!; i++, global++) {
      if (global % input.shards !== input.shard) continue;
      Atomics.store(shared, 1, s);
      Atomics.store(shared, 2, i);
      Atomics.add(shared, 0, 1);
      const bytes = makeCase(corpus, s, i);
      const c0 = performance.now();
      const problem = checkInput(bytes, st);
      const dt = performance.now() - c0;
      if (dt > st.maxCaseMs) st.maxCaseMs = dt;
      st.cases++;
      if (problem) {
        totalFailures++;
        const key = problem.replace(/\d+/g, 'N').slice(0, 140);
        problems[key] = (problems[key] ?? 0) + 1;
        if (failures.length < 40) failures.push({ strategy: st.name, index: i, problem, inputHex: bytesToHex(bytes.subarray(0, 160)), inputLength: bytes.length });
      }
    }
  }
  return { shard: input.shard, stats, failures, totalFailures, problems, ms: performance.now() - t0 };
}

if (parentPort && workerData) {
  parentPort.postMessage(run(workerData as FuzzWorkerInput));
}
