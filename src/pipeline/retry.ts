// When to send again, per the OTLP specification: only throttling and transient failures are retried
// (HTTP 429, 502, 503, 504 and a dropped or refused connection; everything else, 500 included, is
// final), a server's Retry-After wins over the computed delay, and otherwise the delay grows
// exponentially with jitter so that many agents recovering at once do not arrive in step. The
// defaults are the Collector's exporterhelper's (5 s initial, x1.5, +-50% jitter, 30 s cap); unlike
// it, slimtrace gives up on no time limit by default: a request behind a disk queue is kept until the
// next hop takes it or refuses it for good, so nothing acknowledged is dropped for being slow.

export interface RetryPolicy {
  /** First delay (default 5,000 ms). */
  initialIntervalMs: number;
  /** Cap on the computed delay (default 30,000 ms); a server's Retry-After may ask for longer. */
  maxIntervalMs: number;
  /** Growth per attempt (default 1.5). */
  multiplier: number;
  /** Jitter: the delay is drawn from [d(1-r), d(1+r)] (default 0.5). */
  randomizationFactor: number;
  /** Give up after this long since the first attempt; 0 = never (default 0). */
  maxElapsedMs: number;
  /** Longest Retry-After honoured (default 600,000 ms: a misconfigured server cannot park a sender for a day). */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  initialIntervalMs: 5_000,
  maxIntervalMs: 30_000,
  multiplier: 1.5,
  randomizationFactor: 0.5,
  maxElapsedMs: 0,
  maxRetryAfterMs: 600_000,
});

/** The HTTP statuses the OTLP specification makes retryable. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}

/** Network errors that mean "the peer did not get it or did not answer": retryable. */
const RETRYABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'UND_ERR_SOCKET']);

export function isRetryableNetworkError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && RETRYABLE_ERRNO.has(code);
}

/**
 * A Retry-After header in milliseconds: delay-seconds or an HTTP-date (RFC 9110 §10.2.3); undefined
 * when absent or unreadable (the caller then uses its backoff).
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const text = v.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP-date names its day and month in letters; a bare number that is not delay-seconds ("-3")
  // is garbage, not a year for Date.parse.
  const at = /[a-z]/i.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** The backoff of one sequence of attempts. */
export class Backoff {
  private attempt = 0;
  private readonly startedMs: number;

  constructor(
    private readonly policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    private readonly random: () => number = Math.random,
    nowMs = Date.now(),
  ) {
    this.startedMs = nowMs;
  }

  /** Attempts that failed so far. */
  get failures(): number {
    return this.attempt;
  }

  /**
   * The delay before the next attempt, given the server's Retry-After if any; undefined when the
   * policy's elapsed-time limit says to give up.
   */
  next(retryAfterMs?: number, nowMs = Date.now()): number | undefined {
    const p = this.policy;
    const base = Math.min(p.maxIntervalMs, p.initialIntervalMs * p.multiplier ** this.attempt);
    this.attempt++;
    const delay = retryAfterMs !== undefined ? Math.min(retryAfterMs, p.maxRetryAfterMs) : base * (1 - p.randomizationFactor + 2 * p.randomizationFactor * this.random());
    if (p.maxElapsedMs > 0 && nowMs + delay - this.startedMs > p.maxElapsedMs) return undefined;
    return Math.round(delay);
  }
}

/** A promise that resolves after `ms`, or early (rejecting) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
