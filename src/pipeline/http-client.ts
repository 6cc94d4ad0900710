// One HTTP POST to the next hop (a gateway, or an OTLP backend), with keep-alive connections, a
// deadline and a cap on the response read, and its outcome classified the OTLP way: delivered,
// worth retrying (429/502/503/504, a network failure or a timeout, with the server's Retry-After),
// or refused for good. Written on node:http rather than fetch so that the socket, the timeout and the
// size of what is read back stay under the sender's control.
import http from 'node:http';
import https from 'node:https';
import { isRetryableNetworkError, isRetryableStatus, parseRetryAfter } from './retry.js';

export interface HttpTarget {
  /** http:// or https:// URL of the endpoint. */
  url: string;
  /** Extra headers on every request (e.g. authorization). */
  headers?: Record<string, string>;
  /** Deadline for one request, connection included (default 10,000 ms, the OTLP exporters' default). */
  timeoutMs?: number;
  /** Trusted CA certificates (PEM) for https, beside the system's. */
  ca?: string | Buffer;
  /** Largest response body read (default 1 MiB): answers are small; a bigger one is cut, not buffered. */
  maxResponseBytes?: number;
}

export type PostOutcome =
  | { kind: 'ok'; status: number; headers: http.IncomingHttpHeaders; body: Buffer }
  | { kind: 'retry'; reason: string; status?: number; retryAfterMs?: number; body?: Buffer }
  | { kind: 'rejected'; status: number; reason: string; headers: http.IncomingHttpHeaders; body: Buffer };

/** A reusable poster for one endpoint: one keep-alive agent, so connections are reused. */
export class HttpPoster {
  readonly url: URL;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;

  constructor(readonly target: HttpTarget) {
    try {
      this.url = new URL(target.url);
    } catch {
      throw new TypeError(`not a URL: '${target.url}'`);
    }
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') throw new TypeError(`not an http(s) URL: '${target.url}'`);
    this.timeoutMs = target.timeoutMs ?? 10_000;
    this.maxResponseBytes = target.maxResponseBytes ?? 1 << 20;
    this.agent =
      this.url.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, maxSockets: 16, ...(target.ca ? { ca: target.ca } : {}) })
        : new http.Agent({ keepAlive: true, maxSockets: 16 });
  }

  /** Posts `body` once and classifies the answer; never throws for network or HTTP failures. */
  post(body: Uint8Array, headers: Record<string, string>, signal?: AbortSignal): Promise<PostOutcome> {
    const client = this.url.protocol === 'https:' ? https : http;
    return new Promise<PostOutcome>((resolve) => {
      let settled = false;
      const done = (o: PostOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(o);
      };
      const req = client.request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { ...this.target.headers, ...headers, 'content-length': String(body.byteLength) },
          ...(signal ? { signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            if (size < this.maxResponseBytes) chunks.push(c.subarray(0, this.maxResponseBytes - size));
            size += c.length;
          });
          res.on('error', (e) => done({ kind: 'retry', reason: `response broke off: ${e.message}` }));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const resBody = Buffer.concat(chunks);
            if (status >= 200 && status < 300) done({ kind: 'ok', status, headers: res.headers, body: resBody });
            else if (isRetryableStatus(status)) {
              const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
              done({ kind: 'retry', reason: `HTTP ${status}`, status, body: resBody, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
            } else done({ kind: 'rejected', status, reason: `HTTP ${status}`, headers: res.headers, body: resBody });
          });
        },
      );
      const timer = setTimeout(() => {
        req.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      }, this.timeoutMs);
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (signal?.aborted) done({ kind: 'retry', reason: 'aborted' });
        else if (isRetryableNetworkError(e)) done({ kind: 'retry', reason: `${e.code}: ${e.message}` });
        // Anything else on the socket (a TLS failure, say) will not fix itself by waiting, but the
        // data must not be dropped for it either: it is retried, and the reason shows in logs and metrics.
        else done({ kind: 'retry', reason: e.message });
      });
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
