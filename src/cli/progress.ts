// A progress bar for long inputs, drawn on stderr only when both stdout and stderr are terminals so
// that logs, pipes and CI output stay plain.
import cliProgress from 'cli-progress';

export interface Progress {
  /** Sets the known total (units of work, e.g. files or bytes). */
  setTotal(total: number): void;
  update(done: number, spans: number): void;
  stop(): void;
}

const silent: Progress = { setTotal() {}, update() {}, stop() {} };

export function createProgress(label: string, enabled = process.stdout.isTTY === true && process.stderr.isTTY === true): Progress {
  if (!enabled) return silent;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} | {spans} spans | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    setTotal(total) {
      if (!started) {
        bar.start(total, 0, { spans: 0 });
        started = true;
      } else bar.setTotal(total);
    },
    update(done, spans) {
      if (started) bar.update(done, { spans });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
