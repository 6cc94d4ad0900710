// Runs a fuzz worker thread under a watchdog, for the fuzz tests of every decoder. The worker
// publishes a heartbeat and what it is working on in shared memory (Int32 slots 0: heartbeat,
// 1 and 2: which case); a worker whose heartbeat stalls, or that overruns the budget, is
// terminated and reported with those slots, so a hang is a failure naming the input, not a stuck job.
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';

export interface WatchedOutcome<R> {
  result?: R;
  /** The case slots when the worker stalled or overran; `budget` says which. */
  hung?: { slot1: number; slot2: number; budget: boolean };
  crashed?: string;
}

/**
 * Starts the TypeScript worker `entry` (a URL) with `workerData` (which must carry the `shared`
 * buffer of at least three Int32 slots) and resolves with its first message, or why there was none.
 */
export function runWatchedWorker<R>(entry: URL, workerData: { shared: SharedArrayBuffer }, limits: { stallMs: number; budgetMs: number }): Promise<WatchedOutcome<R>> {
  const view = new Int32Array(workerData.shared);
  // On Node 20 a worker's entry module is loaded before `--import tsx` hooks apply, so the worker
  // starts from a tiny JS bootstrap that registers tsx and then imports the TypeScript worker.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
  const worker = new Worker(bootstrap, { eval: true, workerData });
  const started = performance.now();
  return new Promise((resolve) => {
    let last = -1;
    let lastChange = performance.now();
    let settled = false;
    const finish = (o: WatchedOutcome<R>): void => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      resolve(o);
    };
    const timer = setInterval(() => {
      const beat = Atomics.load(view, 0);
      const now = performance.now();
      if (beat !== last) {
        last = beat;
        lastChange = now;
      }
      const budget = now - started > limits.budgetMs;
      if (now - lastChange > limits.stallMs || budget) {
        const hung = { slot1: Atomics.load(view, 1), slot2: Atomics.load(view, 2), budget };
        void worker.terminate();
        finish({ hung });
      }
    }, 250);
    worker.on('message', (m: R) => finish({ result: m }));
    worker.on('error', (e) => finish({ crashed: `${e.constructor.name}: ${e.message}\n${e.stack ?? ''}` }));
    worker.on('exit', (code) => finish({ crashed: `worker exited with code ${code} before reporting` }));
  });
}
