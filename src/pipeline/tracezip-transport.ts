// Tracezip frames between an agent and a gateway over HTTP: `POST /v1/tracezip`, one frame per
// request (the frame names its stream, epoch and sequence number and carries its own CRC), and a
// small JSON answer that tells the agent what to do next:
//
//   200 {"result":"applied","spans":N}     the frame's spans are durable at the gateway: acknowledge
//   200 {"result":"duplicate"}             already applied (an answer was lost): acknowledge
//   409 {"result":"resync","reason":R}     the gateway lacks the state (restart, eviction, gap):
//                                           start a new epoch and send again from full state
//   400 {"result":"malformed","error":E}   not a valid frame (corrupted in transit, or a bug)
//   401 {"result":"unauthorized"}          missing or wrong bearer token
//   405/415 {"result":"unsupported"}       not a POST, or not Content-Type application/x-tracezip
//                                           (a frame carries its own compression: no Content-Encoding)
//   413 {"result":"too-large"}             over the gateway's frame size limit, or the spans it
//                                           decodes to are over its request limit: the agent
//                                           splits the batch (a smaller one fits)
//   429/503 {"result":"busy"} Retry-After  the gateway cannot take it now: the same frame again later
//
// The gateway applies a frame to its decoder before it knows the sink can take the spans; when the
// sink refuses (backpressure) or fails, the stream's state is dropped, so the agent's retry of the
// same frame meets `resync` instead of `duplicate`: a frame is acknowledged only with its spans.
import { TracezipDecoder, TracezipFrameError, type ResyncReason } from '../tracezip/index.js';
import { countSpans, InputError } from '../model/index.js';
import { Backpressure, RequestTooLargeError, type TraceSink } from './sink.js';
import { HttpPoster, type HttpTarget } from './http-client.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';

export const TRACEZIP_PATH = '/v1/tracezip';
export const TRACEZIP_CONTENT_TYPE = 'application/x-tracezip';

/** The gateway's answer to one frame. */
export type FrameAnswer =
  | { result: 'applied'; spans: number }
  | { result: 'duplicate' }
  | { result: 'resync'; reason: ResyncReason | 'sink-failed' }
  | { result: 'malformed'; error: string }
  | { result: 'unauthorized' }
  | { result: 'unsupported'; error: string; status: 405 | 415 }
  | { result: 'too-large'; limit: number; decodedBytes?: number }
  | { result: 'busy'; reason: string; retryAfterSeconds: number };

export function answerStatus(a: FrameAnswer): number {
  switch (a.result) {
    case 'applied':
    case 'duplicate':
      return 200;
    case 'resync':
      return 409;
    case 'malformed':
      return 400;
    case 'unauthorized':
      return 401;
    case 'unsupported':
      return a.status;
    case 'too-large':
      return 413;
    case 'busy':
      // 429 when the gateway is throttling (queue full), 503 when it is going away.
      return a.reason === 'shutting-down' ? 503 : 429;
  }
}

/**
 * The gateway side: decodes frames of many streams with one decoder and hands the spans to a sink.
 * Frames of one stream are applied one at a time, in arrival order; streams do not wait for each other.
 */
export class FrameHandler {
  private readonly chains = new Map<bigint, Promise<unknown>>();

  constructor(
    readonly decoder: TracezipDecoder,
    private readonly sink: TraceSink,
    private readonly observer: { onFrame?(answer: FrameAnswer, bytes: number, seconds: number): void } = {},
  ) {}

  /**
   * Handles one frame; never throws. With `waiting` (a sender that cannot split or hold a frame:
   * JetStream), spans the sink cannot take now go in part by part as room frees, `waiting` called
   * meanwhile, instead of the answers `too-large` or `busy` (queue full).
   */
  handle(frame: Uint8Array, waiting?: () => void): Promise<FrameAnswer> {
    let streamId: bigint;
    try {
      streamId = frameStreamId(frame);
    } catch (e) {
      return Promise.resolve(this.observed({ result: 'malformed', error: (e as Error).message }, frame.length, 0));
    }
    const previous = this.chains.get(streamId) ?? Promise.resolve();
    const next = previous.then(() => this.apply(streamId, frame, waiting));
    const tail = next.catch(() => undefined);
    this.chains.set(streamId, tail);
    void tail.then(() => {
      if (this.chains.get(streamId) === tail) this.chains.delete(streamId);
    });
    return next;
  }

  private async apply(streamId: bigint, frame: Uint8Array, waiting?: () => void): Promise<FrameAnswer> {
    const t0 = process.hrtime.bigint();
    let decoded;
    try {
      decoded = this.decoder.decode(frame);
    } catch (e) {
      // The decoder has already dropped a stream whose state a failed frame could have touched.
      if (e instanceof TracezipFrameError || e instanceof InputError) return this.observed({ result: 'malformed', error: e.message }, frame.length, 0);
      this.decoder.dropStream(streamId);
      return this.observed({ result: 'malformed', error: `frame could not be decoded: ${(e as Error).message}` }, frame.length, 0);
    }
    const decodeSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (decoded.kind === 'duplicate') return this.observed({ result: 'duplicate' }, frame.length, decodeSeconds);
    if (decoded.kind === 'resync-needed') return this.observed({ result: 'resync', reason: decoded.reason }, frame.length, decodeSeconds);
    const spans = countSpans(decoded.data);
    try {
      const request = { data: decoded.data, spans, receiver: 'tracezip' };
      try {
        await this.sink.accept(request);
      } catch (e) {
        // A sender that cannot take the frame back waits here for room (the frame is already durable
        // upstream): giving it back would drop the stream's state and cost a replay of its epoch.
        const wait = e instanceof RequestTooLargeError || (e instanceof Backpressure && e.reason === 'queue-full');
        if (!(wait && waiting && this.sink.acceptInParts)) throw e;
        await this.sink.acceptInParts(request, waiting);
      }
    } catch (e) {
      // The decoder moved on but the spans did not: forget the stream so the retry resyncs.
      this.decoder.dropStream(streamId);
      if (e instanceof Backpressure) return this.observed({ result: 'busy', reason: e.reason, retryAfterSeconds: e.retryAfterSeconds }, frame.length, decodeSeconds);
      // A small frame can decode to more than the gateway keeps per request (its queue's record
      // limit): the same frame would meet the same refusal for ever, a resync included; a smaller
      // batch fits, so this is 413 and the agent splits.
      if (e instanceof RequestTooLargeError) return this.observed({ result: 'too-large', limit: e.limit, decodedBytes: e.bytes }, frame.length, decodeSeconds);
      return this.observed({ result: 'resync', reason: 'sink-failed' }, frame.length, decodeSeconds);
    }
    return this.observed({ result: 'applied', spans }, frame.length, decodeSeconds);
  }

  /** `decodeSeconds` is the decoder's time alone (0 when the frame did not decode), not the sink's. */
  private observed(answer: FrameAnswer, bytes: number, decodeSeconds: number): FrameAnswer {
    this.observer.onFrame?.(answer, bytes, decodeSeconds);
    return answer;
  }
}

export interface FrameEndpointOptions {
  /** Largest frame accepted (default 64 MiB, the OTLP receivers' body limit). */
  maxFrameBytes?: number;
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  bearerToken?: string;
}

export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

/**
 * Serves one `POST /v1/tracezip` request on a node:http server: checks the token and the size
 * (before buffering a body that is too large), hands the frame to the handler, writes the answer.
 */
export async function serveFrameRequest(handler: FrameHandler, req: IncomingMessage, res: ServerResponse, options: FrameEndpointOptions = {}): Promise<void> {
  const limit = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const reply = (a: FrameAnswer, headers: Record<string, string> = {}): void => {
    if (a.result === 'busy') headers['retry-after'] = String(Math.max(0, Math.ceil(a.retryAfterSeconds)));
    res.writeHead(answerStatus(a), { 'content-type': 'application/json', ...headers }).end(JSON.stringify(a));
  };
  if (options.bearerToken !== undefined && !bearerMatches(req.headers.authorization, options.bearerToken)) {
    req.resume();
    reply({ result: 'unauthorized' }, { 'www-authenticate': 'Bearer' });
    return;
  }
  if (req.method !== 'POST') {
    req.resume();
    reply({ result: 'unsupported', status: 405, error: `method ${req.method} not allowed on ${TRACEZIP_PATH} (POST)` }, { allow: 'POST' });
    return;
  }
  const media = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (media !== TRACEZIP_CONTENT_TYPE) {
    req.resume();
    reply({ result: 'unsupported', status: 415, error: `Content-Type must be ${TRACEZIP_CONTENT_TYPE}, got ${JSON.stringify(req.headers['content-type'] ?? '')} (OTLP requests go to /v1/traces)` });
    return;
  }
  const coding = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (coding !== '' && coding !== 'identity') {
    req.resume();
    reply({ result: 'unsupported', status: 415, error: `Content-Encoding ${JSON.stringify(coding)} is not taken: a Tracezip frame carries its own compression` });
    return;
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) {
    req.resume();
    reply({ result: 'too-large', limit }, { connection: 'close' });
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        reply({ result: 'too-large', limit }, { connection: 'close' });
        req.destroy();
        return;
      }
      chunks.push(chunk);
    }
  } catch {
    return; // the client went away mid-body: nothing was applied, nothing to answer
  }
  reply(await handler.handle(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
}

function bearerMatches(header: string | undefined, token: string): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice(7).trim(), 'utf8');
  const wanted = Buffer.from(token, 'utf8');
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** The stream id of a frame (header bytes 4..12, little-endian u64), checked against the header's shape. */
function frameStreamId(frame: Uint8Array): bigint {
  if (frame.length < 12 || frame[0] !== 0x54 || frame[1] !== 0x5a) throw new TracezipFrameError('malformed', 'not a Tracezip frame (bad magic)');
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getBigUint64(4, true);
}

/** What an agent does after posting a frame. */
export type SendOutcome =
  | { kind: 'acknowledged'; duplicate: boolean; spans: number }
  | { kind: 'resync'; reason: string }
  | { kind: 'malformed'; error: string }
  | { kind: 'retry'; reason: string; retryAfterMs?: number }
  | { kind: 'refused'; status: number; reason: string };

/** The agent side: posts frames to one gateway. */
export class FrameSender {
  private readonly poster: HttpPoster;

  constructor(target: HttpTarget) {
    this.poster = new HttpPoster({ ...target, url: new URL(TRACEZIP_PATH, withTrailingSlash(target.url)).href });
  }

  get url(): string {
    return this.poster.url.href;
  }

  async send(frame: Uint8Array, signal?: AbortSignal): Promise<SendOutcome> {
    const o = await this.poster.post(frame, { 'content-type': TRACEZIP_CONTENT_TYPE }, signal);
    if (o.kind === 'retry') return { kind: 'retry', reason: o.reason, ...(o.retryAfterMs !== undefined ? { retryAfterMs: o.retryAfterMs } : {}) };
    const answer = parseAnswer(o.body);
    if (o.kind === 'ok') {
      if (answer?.result === 'applied') return { kind: 'acknowledged', duplicate: false, spans: answer.spans };
      if (answer?.result === 'duplicate') return { kind: 'acknowledged', duplicate: true, spans: 0 };
      // A 2xx that is not a gateway's answer: something else is listening at that URL.
      return { kind: 'refused', status: o.status, reason: `not a slimtrace gateway's answer: ${o.body.subarray(0, 100).toString('utf8')}` };
    }
    if (o.status === 409 && answer?.result === 'resync') return { kind: 'resync', reason: answer.reason };
    if (o.status === 400 && answer?.result === 'malformed') return { kind: 'malformed', error: answer.error };
    const hint = o.status === 401 ? ' (the bearer token does not match the gateway\'s: auth.bearer_token)' : '';
    return { kind: 'refused', status: o.status, reason: `HTTP ${o.status}${answer ? ` ${JSON.stringify(answer)}` : ''}${hint}` };
  }

  close(): void {
    this.poster.close();
  }
}

function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

function parseAnswer(body: Buffer): FrameAnswer | undefined {
  try {
    const v = JSON.parse(body.toString('utf8')) as FrameAnswer;
    return typeof v === 'object' && v !== null && typeof v.result === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}
