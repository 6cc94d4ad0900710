// What the pipeline's fault tests share: agents and gateways as real processes (`slimtrace serve`,
// so SIGKILL and SIGTERM are real), a load client that behaves like an OTLP exporter (retries 429,
// 503 and dropped connections, and remembers every span it was told was accepted), and a test
// backend that decodes with protobufjs and can be made to throttle, fail or vanish.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { bytesToHex, countSpans, forEachSpan, type TracesData } from '../../src/model/index.js';
import { encodeTracesData } from '../../src/otlp/index.js';
import { pbjsDecodeTraces } from '../helpers/protobufjs-oracle.js';

const root = resolve(import.meta.dirname, '../..');

export interface Service {
  proc: ChildProcess;
  port: number;
  log: () => string;
  /** Peak resident memory (VmHWM) in bytes, read while it runs. */
  peakRss: () => number;
}

/** Starts `slimtrace serve` with `args` and waits for its "listening" line. */
export async function startService(args: string[], timeoutMs = 60_000): Promise<Service> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'serve', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const port = await new Promise<number>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`no "listening" line within ${timeoutMs} ms:\n${log}`)), timeoutMs);
    const check = (): void => {
      const m = /listening for [^\n]*? on [^\s,;]*:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        ok(Number(m[1]));
      }
    };
    proc.stderr!.on('data', check);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`serve exited with ${code} before listening:\n${log}`));
    });
  });
  return {
    proc,
    port,
    log: () => log,
    peakRss: () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
        return m ? Number(m[1]) * 1024 : 0;
      } catch {
        return 0;
      }
    },
  };
}

/** SIGKILLs or SIGTERMs a service and waits for it to be gone. */
export function stopService(s: Service, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<number | null> {
  if (s.proc.exitCode !== null || s.proc.signalCode !== null) return Promise.resolve(s.proc.exitCode);
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`still running ${timeoutMs} ms after ${signal}:\n${s.log()}`)), timeoutMs);
    s.proc.once('exit', (code) => {
      clearTimeout(timer);
      ok(code);
    });
    s.proc.kill(signal);
  });
}

/** Span ids of a request, hex. */
export function spanIds(data: TracesData): string[] {
  const ids: string[] = [];
  forEachSpan(data, (span) => {
    ids.push(bytesToHex(span.spanId));
  });
  return ids;
}

/**
 * Sends OTLP/HTTP protobuf requests like a stock exporter: retries 429/502/503/504 and network
 * failures (honouring Retry-After, capped), and records what was acknowledged with a 200.
 */
export class LoadClient {
  readonly acknowledged = new Set<string>();
  sent = 0;
  retries = 0;
  throttled = 0;

  constructor(private url: () => string) {}

  /** Sends one request until it is acknowledged or `deadline` passes (then it was not acknowledged). */
  async send(data: TracesData, deadline = Date.now() + 60_000): Promise<boolean> {
    const body = encodeTracesData(data);
    for (;;) {
      let status = 0;
      let retryAfter: string | null = null;
      try {
        const res = await fetch(this.url(), { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body, signal: AbortSignal.timeout(10_000) });
        status = res.status;
        retryAfter = res.headers.get('retry-after');
        await res.arrayBuffer();
      } catch {
        status = 0; // connection refused or reset: the agent is down or restarting
      }
      if (status === 200) {
        for (const id of spanIds(data)) this.acknowledged.add(id);
        this.sent++;
        return true;
      }
      if (status !== 0 && status !== 429 && status !== 502 && status !== 503 && status !== 504) throw new Error(`agent answered ${status}`);
      if (status === 429 || status === 503) this.throttled++;
      this.retries++;
      if (Date.now() > deadline) return false;
      const wait = retryAfter !== null && /^\d+$/.test(retryAfter) ? Math.min(Number(retryAfter) * 1000, 2000) : 200;
      await new Promise((ok) => setTimeout(ok, wait));
    }
  }
}

/** A test OTLP backend: decodes with protobufjs, counts every span id it was given, can misbehave. */
export class FaultyBackend {
  /** Span id -> times received. */
  readonly seen = new Map<string, number>();
  /** Every request it took, decoded (for message-level comparisons). */
  readonly received: TracesData[] = [];
  requests = 0;
  mode: 'ok' | '503' | '400' = 'ok';
  retryAfterSeconds = 1;
  private server: Server | undefined;
  private sockets = new Set<Socket>();
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/v1/traces`;
  }

  async start(port = this.port): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests++;
        if (this.mode === '503') return void res.writeHead(503, { 'retry-after': String(this.retryAfterSeconds) }).end();
        if (this.mode === '400') return void res.writeHead(400).end();
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const data = pbjsDecodeTraces(body);
        this.received.push(data);
        for (const id of spanIds(data)) this.seen.set(id, (this.seen.get(id) ?? 0) + 1);
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((ok) => server.listen(port, '127.0.0.1', ok));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Goes away at once (connections cut), like a crashed backend. */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((ok) => s.close(() => ok()));
  }

  /** Spans acknowledged to the client that never reached the backend. */
  missing(acknowledged: Iterable<string>): string[] {
    const out: string[] = [];
    for (const id of acknowledged) if (!this.seen.has(id)) out.push(id);
    return out;
  }

  /** Spans received more than once, and how many extra copies in all. */
  duplicates(): { spans: number; copies: number } {
    let spans = 0;
    let copies = 0;
    for (const n of this.seen.values())
      if (n > 1) {
        spans++;
        copies += n - 1;
      }
    return { spans, copies };
  }

  get spans(): number {
    return this.seen.size;
  }
}

export async function waitUntil(condition: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function totalSpans(batches: TracesData[]): number {
  return batches.reduce((n, b) => n + countSpans(b), 0);
}
