// The Tracezip stream decoder (backend side): keeps a mirror of each stream's state (dictionary
// strings, envelopes, Span Retrieval Tree nodes, recent traces), applies each frame's updates and
// rebuilds every span exactly. HOT PATH on the backend.
//
// Sync never guesses: a frame is applied only when it is the next one of the stream's current
// epoch (or starts a new epoch). A gap, a reorder, a stale or unknown epoch, an unknown stream
// (decoder restart or eviction) or a reference to state the decoder does not have answers
// `resync-needed`; a frame already applied answers `duplicate` and changes nothing. A frame is
// applied all or nothing: any failure rolls the stream's state back to where it was.
import {
  type AnyValue,
  type InstrumentationScope,
  type KeyValue,
  type Resource,
  type ResourceSpans,
  type ScopeSpans,
  type Span,
  type SpanEvent,
  type Status,
  type TracesData,
} from '../model/index.js';
import { decodeTracesData } from '../otlp/index.js';
import { ProtobufReader } from '../otlp/wire.js';
import { ByteReader } from './bytes.js';
import { decompressPayload, ZSTD_STREAM_STATE_BYTES, ZstdStreamDecompressor } from './compression.js';
import {
  CLASS_TEMPLATE,
  EDGE_EVENT_HEAD,
  EDGE_SPAN_HEAD,
  EDGE_VALUE,
  PARENT_EXPLICIT,
  PARENT_RELATIVE_BASE,
  SHELL_RESOURCE,
  SHELL_SCOPE,
  TRACE_SPANS_KEPT,
  V_ANY,
  V_BOOL,
  V_BYTES,
  V_DOUBLE,
  V_INT,
  V_STRING,
  nodeStateBytes,
  readFrameHeader,
} from './format.js';
import { TracezipFrameError } from './errors.js';
import { idKey, TraceRing, visitParentsFirst, type TraceEntry } from './traces.js';
import { expand, hex, IdHexContext, type StringContext } from './context.js';
import {
  EVENT_FIXED,
  SPAN_FIXED,
  STATUS_FIXED,
  checkDeclaredPayload,
  keySize,
  limitError,
  resolveLimits,
  resourceEnvelopeSize,
  scopeEnvelopeSize,
  spanSize,
  valueSize,
  type TracezipLimits,
} from './limits.js';

export type ResyncReason =
  | 'unknown-stream' // no state for this stream: the decoder restarted or evicted it
  | 'gap' // a frame of the epoch is missing (lost or reordered)
  | 'stale-epoch' // the frame belongs to an epoch the stream has left
  | 'epoch-mismatch' // the frame belongs to an epoch the decoder never saw start
  | 'unknown-reference' // the frame refers to state the decoder does not have
  | 'state-limit'; // the stream's state would exceed the decoder's cap

export type DecodeResult =
  | { kind: 'data'; data: TracesData; streamId: bigint; epoch: number; seq: number }
  | { kind: 'duplicate'; streamId: bigint; epoch: number; seq: number }
  | { kind: 'resync-needed'; reason: ResyncReason; streamId: bigint; epoch: number; seq: number };

/**
 * The decoder's caps: on state (per stream, in all, streams kept) and on what one frame may hold
 * (`TracezipLimits`: payload, expansion ratio, spans, decoded size; defaults in limits.ts). A
 * frame past a frame limit is refused with a TracezipFrameError of kind 'limit' naming the limit.
 */
export interface TracezipDecoderOptions extends TracezipLimits {
  /** Cap on one stream's state; a stream past it is dropped and asked to resync. Default 64 MiB. */
  maxStreamStateBytes?: number;
  /** Cap on all streams together; the least recently used streams are evicted. Default 1 GiB. */
  maxTotalStateBytes?: number;
  /** Most streams kept at once; the least recently used are evicted. Default 10,000. */
  maxStreams?: number;
}

/** Thrown inside a frame's application when it refers to state that does not exist. */
class UnknownReference extends Error {}

interface SpanHead {
  name: string;
  kind: number;
  flags: number;
  traceState: string;
  status: { code: number; message: string } | undefined;
  droppedAttributesCount: number;
  droppedEventsCount: number;
  droppedLinksCount: number;
}

interface DecNode {
  isEvent: boolean;
  span: SpanHead | undefined;
  eventName: string;
  eventDropped: number;
  keys: string[];
  /** The dictionary id of each key (residual columns are found by key id and class). */
  keyIds: number[];
  classes: number[];
  /** Template values by position (shared KeyValue objects); undefined for residual or not yet set. */
  values: (KeyValue | undefined)[];
  /** Decoded size (limits.ts) of what the node gives every span or event: head, keys, template values. */
  size: number;
  /** Templated positions that have no value on this node yet; a template must have none. */
  missing: number;
  /** The residual column of each residual position in the frame `colsFrame` (found once per frame). */
  cols: (ByteReader | undefined)[] | undefined;
  colsFrame: number;
}

const ROOT: DecNode = { isEvent: false, span: undefined, eventName: '', eventDropped: 0, keys: [], keyIds: [], classes: [], values: [], size: 0, missing: 0, cols: undefined, colsFrame: -1 };

interface ResourceShell {
  resource: Resource | undefined;
  schemaUrl: string;
  unknownFields: Uint8Array | undefined;
  /** Decoded size each use adds (a frame may wrap any number of groups in one envelope). */
  size: number;
}
interface ScopeShell {
  scope: InstrumentationScope | undefined;
  schemaUrl: string;
  unknownFields: Uint8Array | undefined;
  size: number;
}

/** The mirror of one stream's encoder state. */
class StreamState {
  strings: string[] = [];
  resources: ResourceShell[] = [];
  scopes: ScopeShell[] = [];
  nodes: DecNode[] = [ROOT];
  ring = new TraceRing();
  bytes = 0;
  epoch = 0;
  nextSeq = 0;
  lastUsed = 0;
  /** Epochs this stream has left, so a late or repeated frame of one is never applied again. */
  retired = new Set<number>();
  retiredOrder: number[] = [];
  /** The epoch's zstd stream, when its frames use one, and what its window holds (counted in the
   * decoder's total, not in the per-stream cap, which mirrors the encoder's estimate). */
  zstd: ZstdStreamDecompressor | undefined;
  zstdBytes = 0;
  /** CRC of each recently applied frame by sequence number: a duplicate must be the same frame. */
  crcs = new Map<number, number>();
  /** CRC of the epoch's first frame, kept for the epoch's life: its copies are duplicates. */
  startCrc = -1;

  retire(epoch: number): void {
    this.retired.add(epoch);
    this.retiredOrder.push(epoch);
    if (this.retiredOrder.length > RETIRED_EPOCHS_KEPT) this.retired.delete(this.retiredOrder.shift()!);
  }

  applied(seq: number, crc: number): void {
    this.crcs.set(seq, crc);
    this.crcs.delete(seq - RECENT_CRCS_KEPT);
  }
}

/** Epochs remembered per stream as left (a few KiB per stream). */
const RETIRED_EPOCHS_KEPT = 1024;
/** Applied frames remembered per stream for duplicate detection. */
const RECENT_CRCS_KEPT = 64;

export class TracezipDecoder {
  private readonly streams = new Map<bigint, StreamState>();
  private readonly maxStreamBytes: number;
  private readonly maxTotalBytes: number;
  private readonly maxStreams: number;
  private readonly limits: Required<TracezipLimits>;
  private clock = 0;
  /** Decoded size (limits.ts) of the last frame that gave data: what a file reader adds up. */
  lastDecodedBytes = 0;

  constructor(options: TracezipDecoderOptions = {}) {
    this.maxStreamBytes = options.maxStreamStateBytes ?? 64 * 1024 * 1024;
    this.maxTotalBytes = options.maxTotalStateBytes ?? 1024 * 1024 * 1024;
    this.maxStreams = options.maxStreams ?? 10_000;
    this.limits = resolveLimits(options);
  }

  /** Streams with state, and the estimated bytes they hold. */
  get streamCount(): number {
    return this.streams.size;
  }
  get stateBytes(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.bytes + s.zstdBytes;
    return n;
  }

  /** Forgets a stream (its next frame will be answered with resync-needed). */
  dropStream(streamId: bigint): void {
    this.streams.delete(streamId);
  }

  /**
   * Decodes one frame. Throws TracezipFrameError when the bytes are not a valid frame (corrupt,
   * truncated, unknown version); returns `resync-needed` or `duplicate` when they are valid but
   * cannot or need not be applied.
   */
  decode(frame: Uint8Array): DecodeResult {
    const h = readFrameHeader(frame);
    const believed = checkDeclaredPayload(h.payloadLength, h.bodyLength, this.limits);
    frameLimits = this.limits;
    frameDecoded = 0;
    const streamed = h.compression === 'zstd-stream';
    const body = frame.subarray(h.bodyStart, h.bodyStart + h.bodyLength);
    const meta = { streamId: h.streamId, epoch: h.epoch, seq: h.seq };
    if (h.stateless) {
      const data = applyFrame(new StreamState(), decompressPayload(body, h.compression, h.payloadLength, believed));
      if (data instanceof UnknownReference) return { kind: 'resync-needed', reason: 'unknown-reference', ...meta };
      this.lastDecodedBytes = frameDecoded;
      return { kind: 'data', data, ...meta };
    }
    const st = this.streams.get(h.streamId);
    if (h.epochStart) {
      if (h.seq !== 0) throw new TracezipFrameError('malformed', `epoch start with sequence number ${h.seq}`);
      if (st && h.epoch === st.epoch && st.nextSeq > 0 && st.startCrc === h.crc) return { kind: 'duplicate', ...meta };
      if (st && st.retired.has(h.epoch)) return { kind: 'resync-needed', reason: 'stale-epoch', ...meta };
      // Any other epoch start is a new epoch, or a restarted encoder (whose epochs start at random;
      // one that drew the current epoch differs from its first frame, so it is not a duplicate).
      const fresh = new StreamState();
      fresh.epoch = h.epoch;
      if (st) {
        fresh.retired = st.retired;
        fresh.retiredOrder = st.retiredOrder;
        if (st.epoch !== h.epoch) fresh.retire(st.epoch);
      }
      if (streamed) {
        fresh.zstd = new ZstdStreamDecompressor();
        fresh.zstdBytes = ZSTD_STREAM_STATE_BYTES;
      }
      const payload = streamed ? fresh.zstd!.decompressFrame(body, h.payloadLength, believed) : decompressPayload(body, h.compression, h.payloadLength, believed);
      const data = applyFrame(fresh, payload);
      if (data instanceof UnknownReference) return { kind: 'resync-needed', reason: 'unknown-reference', ...meta };
      fresh.nextSeq = 1;
      fresh.startCrc = h.crc;
      fresh.applied(0, h.crc);
      this.install(h.streamId, fresh);
      if (fresh.bytes > this.maxStreamBytes) {
        this.streams.delete(h.streamId);
        return { kind: 'resync-needed', reason: 'state-limit', ...meta };
      }
      this.lastDecodedBytes = frameDecoded;
      return { kind: 'data', data, ...meta };
    }
    if (!st) return { kind: 'resync-needed', reason: 'unknown-stream', ...meta };
    if (h.epoch !== st.epoch) return { kind: 'resync-needed', reason: st.retired.has(h.epoch) ? 'stale-epoch' : 'epoch-mismatch', ...meta };
    if (h.seq < st.nextSeq) {
      const crc = st.crcs.get(h.seq);
      // Same numbers, different bytes: another encoder is using this stream's numbers.
      if (crc !== undefined && crc !== h.crc) return { kind: 'resync-needed', reason: 'epoch-mismatch', ...meta };
      return { kind: 'duplicate', ...meta };
    }
    if (h.seq > st.nextSeq) return { kind: 'resync-needed', reason: 'gap', ...meta };
    let data: TracesData | UnknownReference;
    if (streamed || st.zstd) {
      // The zstd stream has consumed this frame whatever happens next: a frame that fails from here
      // on leaves the two sides' streams apart, so the stream is dropped and must resync.
      if (!streamed || !st.zstd) return { kind: 'resync-needed', reason: 'epoch-mismatch', ...meta };
      try {
        data = applyFrame(st, st.zstd.decompressFrame(body, h.payloadLength, believed));
      } catch (e) {
        this.streams.delete(h.streamId);
        throw e;
      }
      if (data instanceof UnknownReference) {
        this.streams.delete(h.streamId);
        return { kind: 'resync-needed', reason: 'unknown-reference', ...meta };
      }
    } else data = applyFrame(st, decompressPayload(body, h.compression, h.payloadLength, believed));
    if (data instanceof UnknownReference) return { kind: 'resync-needed', reason: 'unknown-reference', ...meta };
    st.applied(h.seq, h.crc);
    st.nextSeq++;
    st.lastUsed = ++this.clock;
    if (st.bytes > this.maxStreamBytes) {
      this.streams.delete(h.streamId);
      this.lastDecodedBytes = frameDecoded;
      return { kind: 'data', data, ...meta }; // applied; the next frame will be asked to resync
    }
    this.enforceTotal(h.streamId);
    this.lastDecodedBytes = frameDecoded;
    return { kind: 'data', data, ...meta };
  }

  private install(id: bigint, st: StreamState): void {
    st.lastUsed = ++this.clock;
    this.streams.set(id, st);
    this.enforceTotal(id);
  }

  /** Evicts the least recently used streams (never `keep`) until the caps hold. */
  private enforceTotal(keep: bigint): void {
    if (this.streams.size <= this.maxStreams && this.stateBytes <= this.maxTotalBytes) return;
    const byAge = [...this.streams.entries()].filter(([id]) => id !== keep).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    let total = this.stateBytes;
    for (const [id, s] of byAge) {
      if (this.streams.size <= this.maxStreams && total <= this.maxTotalBytes) break;
      this.streams.delete(id);
      total -= s.bytes + s.zstdBytes;
    }
  }
}

// ================================================================================================
// Applying one frame's payload to a stream state (all or nothing)
// ================================================================================================

// The limits of the decode in progress and the decoded size counted so far (decoding is synchronous
// and never nests, so one set serves every decoder).
let frameLimits: Required<TracezipLimits> = resolveLimits();
let frameDecoded = 0;

/** Adds to the frame's decoded size; refuses the frame once it passes maxFrameDecodedBytes. */
function countDecoded(n: number): void {
  frameDecoded += n;
  if (frameDecoded > frameLimits.maxFrameDecodedBytes) throw limitError('maxFrameDecodedBytes', `frame decodes to more than ${frameDecoded} bytes`, frameLimits.maxFrameDecodedBytes);
}

function applyFrame(st: StreamState, payload: Uint8Array): TracesData | UnknownReference {
  // Nothing decoded keeps a view into the payload (ids and bytes are copied out): an uncompressed
  // payload is the caller's buffer, and a zstd stream decompresses every frame into one buffer.
  const marks = { strings: st.strings.length, resources: st.resources.length, scopes: st.scopes.length, nodes: st.nodes.length, bytes: st.bytes };
  st.ring.begin();
  try {
    const data = decodePayload(st, new ByteReader(payload));
    st.ring.commit();
    return data;
  } catch (e) {
    st.strings.length = marks.strings;
    st.resources.length = marks.resources;
    st.scopes.length = marks.scopes;
    st.nodes.length = marks.nodes;
    st.bytes = marks.bytes;
    st.ring.rollback();
    if (e instanceof UnknownReference) return e;
    if (e instanceof TracezipFrameError) throw e;
    if (e instanceof RangeError) throw new TracezipFrameError('malformed', e.message);
    throw e;
  }
}

function otlp(bytes: Uint8Array, what: string): TracesData {
  try {
    return decodeTracesData(bytes, { copyBytes: true }); // no views into the payload (applyFrame)
  } catch (e) {
    throw new TracezipFrameError('malformed', `${what}: ${(e as Error).message}`);
  }
}

function str(st: StreamState, id: number): string {
  const s = st.strings[id];
  if (s === undefined) throw new UnknownReference(`string ${id}`);
  return s;
}

function readTemplateValue(r: ByteReader, st: StreamState): AnyValue {
  const t = r.uvar();
  if (t === V_STRING) return str(st, r.uvar());
  return readInlineValue(r, t);
}

function readInlineValue(r: ByteReader, t: number): AnyValue {
  switch (t) {
    case V_STRING:
      return r.string();
    case V_BOOL: {
      const b = r.byte();
      if (b > 1) r.fail(`bool value ${b}`);
      return b === 1;
    }
    case V_INT: {
      const v = r.svarBig();
      if (v < -(1n << 63n) || v >= 1n << 63n) r.fail('int value beyond 64 bits');
      return v;
    }
    case V_DOUBLE:
      return r.f64();
    case V_BYTES:
      return r.bytes();
    case V_ANY: {
      const data = otlp(r.raw(r.uvar()), 'composite value');
      const kv = data.resourceSpans[0]?.resource?.attributes[0];
      if (!kv || kv.key !== '' || data.resourceSpans.length !== 1) r.fail('composite value is not a single value');
      return kv.value;
    }
    default:
      return r.fail(`unknown value type ${t}`);
  }
}

function readShape(r: ByteReader, st: StreamState, node: DecNode): void {
  const n = r.uvar();
  if (n > r.remaining) r.fail(`${n} attributes cannot fit`);
  node.keys = new Array(n);
  node.keyIds = new Array(n);
  node.classes = new Array(n);
  node.values = new Array(n);
  node.missing = 0;
  for (let i = 0; i < n; i++) {
    const keyId = r.uvar();
    node.keys[i] = str(st, keyId);
    node.keyIds[i] = keyId;
    node.size += keySize(node.keys[i]!);
    const cls = r.uvar();
    if (cls > V_ANY) r.fail(`unknown attribute class ${cls}`);
    node.classes[i] = cls;
    if (cls === CLASS_TEMPLATE) node.missing++;
  }
}

function readNode(r: ByteReader, st: StreamState): void {
  const parentId = r.uvar();
  const parent = st.nodes[parentId];
  if (parent === undefined) throw new UnknownReference(`tree node ${parentId}`);
  const edge = r.uvar();
  let node: DecNode;
  if (edge === EDGE_SPAN_HEAD || edge === EDGE_EVENT_HEAD) {
    if (parent !== ROOT) r.fail('a head edge below the root');
    node = { isEvent: edge === EDGE_EVENT_HEAD, span: undefined, eventName: '', eventDropped: 0, keys: [], keyIds: [], classes: [], values: [], size: 0, missing: 0, cols: undefined, colsFrame: -1 };
    if (edge === EDGE_SPAN_HEAD) {
      const name = str(st, r.uvar());
      const kind = r.svar();
      const flags = r.uvar();
      const traceState = str(st, r.uvar());
      const hasStatus = r.uvar();
      let status: SpanHead['status'];
      if (hasStatus === 1) {
        const code = r.svar();
        if (code < -0x80000000 || code > 0x7fffffff) r.fail('status code beyond int32');
        status = { code, message: str(st, r.uvar()) };
      } else if (hasStatus !== 0) r.fail(`status marker ${hasStatus}`);
      if (flags > 0xffffffff || kind < -0x80000000 || kind > 0x7fffffff) r.fail('kind or flags out of range');
      node.span = {
        name,
        kind,
        flags,
        traceState,
        status,
        droppedAttributesCount: uint32(r),
        droppedEventsCount: uint32(r),
        droppedLinksCount: uint32(r),
      };
      node.size = name.length + traceState.length + (status ? STATUS_FIXED + status.message.length : 0);
    } else {
      node.eventName = str(st, r.uvar());
      node.eventDropped = uint32(r);
      node.size = node.eventName.length;
    }
    readShape(r, st, node);
  } else if (edge === EDGE_VALUE) {
    if (parent === ROOT) r.fail('a value edge at the root');
    const pos = r.uvar();
    if (pos >= parent.keys.length || parent.classes[pos] !== CLASS_TEMPLATE || parent.values[pos] !== undefined) r.fail(`value edge for position ${pos} that takes none`);
    const value = readTemplateValue(r, st);
    const values = parent.values.slice();
    values[pos] = { key: parent.keys[pos]!, value, unknownFields: undefined };
    node = { ...parent, values, size: parent.size + valueSize(value), missing: parent.missing - 1, cols: undefined, colsFrame: -1 };
  } else return r.fail(`unknown edge type ${edge}`);
  st.nodes.push(node);
  st.bytes += nodeStateBytes(node.keys.length);
}

function uint32(r: ByteReader): number {
  const v = r.uvar();
  if (v > 0xffffffff) r.fail('count beyond 32 bits');
  return v;
}

function template(st: StreamState, id: number, isEvent: boolean): DecNode {
  const node = st.nodes[id];
  if (node === undefined || node === ROOT) throw new UnknownReference(`template ${id}`);
  if (node.isEvent !== isEvent || node.missing !== 0) throw new TracezipFrameError('malformed', `node ${id} is not a complete ${isEvent ? 'event' : 'span'} template`);
  return node;
}

/** Residual column cursors by columnKey(key id, class). */
type Residuals = Map<number, ByteReader>;

/** The map key of the residual column of (key id, class); classes are below 8. */
function columnKey(keyId: number, cls: number): number {
  return keyId * 8 + cls;
}

// The string context of the span being decoded, made only when a residual string needs it (no
// closure per span: this runs for every span on the backend).
let contextEntry: TraceEntry | undefined;
let contextSpan: Uint8Array = new Uint8Array(0);
let contextValueEntry: TraceEntry | undefined;
let contextValueSpan: Uint8Array | undefined;
let contextValue: StringContext | undefined;
function currentContext(): StringContext {
  const entry = contextEntry!;
  if (contextValueEntry !== entry || contextValueSpan !== contextSpan || contextValue === undefined) {
    contextValueEntry = entry;
    contextValueSpan = contextSpan;
    contextValue = new IdHexContext((entry.hex ??= hex(entry.traceId)), hex(contextSpan));
  }
  return contextValue;
}

/** Numbers each payload decoded (in any stream), so a node knows whether its columns are this frame's. */
let frameNumber = 0;

/** The residual column of each residual position of a node, in the current frame. */
function nodeColumns(node: DecNode, residuals: Residuals): (ByteReader | undefined)[] {
  const n = node.keys.length;
  const cols = node.cols ?? new Array<ByteReader | undefined>(n);
  for (let i = 0; i < n; i++) {
    const cls = node.classes[i]!;
    if (cls === CLASS_TEMPLATE) continue;
    const key = node.keys[i]!;
    const col = residuals.get(columnKey(node.keyIds[i]!, cls));
    if (col === undefined) throw new TracezipFrameError('malformed', `no residual column for ${key}`);
    cols[i] = col;
  }
  node.cols = cols;
  node.colsFrame = frameNumber;
  return cols;
}

/**
 * The attributes of a node with their residual values read from the columns. An event's strings are
 * left as sent (they may refer to the event's time, known only once its span's start is): their
 * references are resolved by `expandEventStrings`, and `eventNeedsExpansion` says whether any has one.
 */
function residualAttributes(node: DecNode, residuals: Residuals, entry: TraceEntry, spanId: Uint8Array, isEvent: boolean): KeyValue[] {
  const n = node.keys.length;
  const out: KeyValue[] = new Array(n);
  let earlier: string[] | undefined;
  let cols = node.cols;
  for (let i = 0; i < n; i++) {
    const cls = node.classes[i]!;
    if (cls === CLASS_TEMPLATE) out[i] = node.values[i]!;
    else {
      const key = node.keys[i]!;
      if (node.colsFrame !== frameNumber || cols === undefined) cols = nodeColumns(node, residuals);
      const col = cols[i]!;
      let value: AnyValue;
      if (cls === V_STRING) {
        const sent = col.string();
        if (isEvent) {
          if (sent.includes('\u0000')) eventNeedsExpansion = true;
          value = sent;
        } else value = expandResidual(sent, key, entry, spanId, (earlier ??= []), undefined);
      } else value = readInlineValue(col, cls);
      countDecoded(valueSize(value));
      out[i] = { key, value, unknownFields: undefined };
    }
  }
  return out;
}

/** Set by `residualAttributes` when an event's strings hold references. */
let eventNeedsExpansion = false;

/** Resolves the references in an event's residual strings, once the event's time is known. */
function expandEventStrings(node: DecNode, attrs: KeyValue[], entry: TraceEntry, spanId: Uint8Array, time: bigint): void {
  const earlier: string[] = [];
  for (let i = 0; i < attrs.length; i++) {
    if (node.classes[i] !== V_STRING) continue;
    const kv = attrs[i]!;
    const sent = kv.value as string;
    kv.value = expandResidual(sent, kv.key, entry, spanId, earlier, time);
    countDecoded((kv.value as string).length - sent.length);
  }
}

/** A residual string as sent, its references resolved; appended to `earlier` (the list's values so far). */
function expandResidual(sent: string, key: string, entry: TraceEntry, spanId: Uint8Array, earlier: string[], eventTime: bigint | undefined): string {
  contextEntry = entry;
  contextSpan = spanId;
  // A reference repeats an earlier value, which may itself repeat earlier ones: what one string may
  // grow to is what is left of the frame's decoded size.
  const s = expand(sent, currentContext, earlier, eventTime, frameLimits.maxFrameDecodedBytes - frameDecoded);
  if (s === undefined) throw new TracezipFrameError('malformed', `a reference in the value of ${key} points nowhere`);
  earlier.push(s);
  return s;
}

// The events of a frame whose strings wait for their time: span index, event index, event node.
const pendingSpan: number[] = [];
const pendingEvent: number[] = [];
const pendingNode: DecNode[] = [];

function decodePayload(st: StreamState, r: ByteReader): TracesData {
  frameNumber++;
  // 1. State updates.
  const nStrings = r.uvar();
  if (nStrings > r.remaining) r.fail(`${nStrings} strings cannot fit`);
  for (let i = 0; i < nStrings; i++) {
    const s = r.string();
    st.strings.push(s);
    st.bytes += 48 + 2 * s.length;
  }
  const nShells = r.uvar();
  if (nShells > r.remaining) r.fail(`${nShells} envelopes cannot fit`);
  for (let i = 0; i < nShells; i++) {
    const kind = r.uvar();
    const bytes = r.raw(r.uvar());
    const data = otlp(bytes, 'envelope');
    const rs = data.resourceSpans[0];
    if (data.resourceSpans.length !== 1 || !rs) r.fail('envelope must hold one ResourceSpans');
    if (kind === SHELL_RESOURCE) {
      if (rs.scopeSpans.length !== 0) r.fail('resource envelope with scopes');
      st.resources.push({ resource: rs.resource, schemaUrl: rs.schemaUrl, unknownFields: rs.unknownFields, size: resourceEnvelopeSize(rs.resource, rs.schemaUrl, rs.unknownFields) });
    } else if (kind === SHELL_SCOPE) {
      const ss = rs.scopeSpans[0];
      if (rs.scopeSpans.length !== 1 || !ss || ss.spans.length !== 0) r.fail('scope envelope must hold one empty ScopeSpans');
      st.scopes.push({ scope: ss.scope, schemaUrl: ss.schemaUrl, unknownFields: ss.unknownFields, size: scopeEnvelopeSize(ss.scope, ss.schemaUrl, ss.unknownFields) });
    } else r.fail(`unknown envelope kind ${kind}`);
    st.bytes += 64 + 2 * bytes.length;
  }
  const nNodes = r.uvar();
  if (nNodes > r.remaining) r.fail(`${nNodes} tree nodes cannot fit`);
  for (let i = 0; i < nNodes; i++) readNode(r, st);

  // 2. Envelope.
  const base = r.u64le();
  const unknownLen = r.uvar();
  const requestUnknown = unknownLen === 0 ? undefined : r.copy(unknownLen);
  if (requestUnknown && !wellFormedFields(requestUnknown)) r.fail('request unknown fields are not protobuf fields');
  if (requestUnknown) countDecoded(requestUnknown.length);
  const groups: { shell: ResourceShell; scopes: { shell: ScopeShell; count: number }[] }[] = [];
  let total = 0;
  const nGroups = r.uvar();
  if (nGroups > r.remaining) r.fail(`${nGroups} resource groups cannot fit`);
  for (let g = 0; g < nGroups; g++) {
    const rid = r.uvar();
    const shell = st.resources[rid];
    if (!shell) throw new UnknownReference(`resource envelope ${rid}`);
    countDecoded(shell.size);
    const nScopes = r.uvar();
    if (nScopes > r.remaining) r.fail(`${nScopes} scope groups cannot fit`);
    const scopes: { shell: ScopeShell; count: number }[] = [];
    for (let k = 0; k < nScopes; k++) {
      const sid = r.uvar();
      const sshell = st.scopes[sid];
      if (!sshell) throw new UnknownReference(`scope envelope ${sid}`);
      const count = r.uvar();
      countDecoded(sshell.size);
      total += count;
      if (total > frameLimits.maxFrameSpans) throw limitError('maxFrameSpans', `frame declares ${total} spans or more`, frameLimits.maxFrameSpans);
      scopes.push({ shell: sshell, count });
    }
    groups.push({ shell, scopes });
  }

  // 3. Columns.
  const cTemplate = r.section(r.uvar());
  const cTrace = r.section(r.uvar());
  const cTraceId = r.section(r.uvar());
  // Span and parent ids become views of one copy of their columns (the payload is not kept).
  const cSpanId = owned(r.section(r.uvar()));
  const cParent = r.section(r.uvar());
  const cParentId = owned(r.section(r.uvar()));
  const cStart = r.section(r.uvar());
  const cDuration = r.section(r.uvar());
  const cEvents = r.section(r.uvar());
  const cEvent = r.section(r.uvar());
  const cRaw = r.section(r.uvar());
  const residuals: Residuals = new Map();
  const keyIds = new Map<string, number>();
  const nResiduals = r.uvar();
  if (nResiduals > r.remaining) r.fail(`${nResiduals} residual columns cannot fit`);
  for (let i = 0; i < nResiduals; i++) {
    const keyId = r.uvar();
    const cls = r.uvar();
    const key = str(st, keyId);
    const prev = keyIds.get(key);
    if (prev !== undefined && prev !== keyId) r.fail(`two ids for attribute key ${key}`);
    keyIds.set(key, keyId);
    residuals.set(columnKey(keyId, cls), r.section(r.uvar()));
  }
  if (r.remaining !== 0) r.fail(`${r.remaining} bytes after the last section`);
  if (total > cTemplate.remaining) r.fail(`${total} spans but only ${cTemplate.remaining} template bytes`);

  // 4. Spans, phase A: everything but parents and times.
  const spans: Span[] = new Array(total);
  const entryOf: TraceEntry[] = new Array(total);
  if (scratchPos.length < total) growScratch(total);
  const posOf = scratchPos;
  const parentCode = scratchCode; // -1 for raw spans
  const startDelta: bigint[] = new Array(total);
  const eventDeltas: bigint[][] = new Array(total);
  const touched: TraceEntry[] = [];
  const ring = st.ring;
  try {
    for (let i = 0; i < total; i++) {
      const tmpl = cTemplate.uvar();
      const mtf = cTrace.uvar();
      let entry: TraceEntry;
      if (mtf === 0) {
        const traceId = cTraceId.bytes();
        entry = ring.add(idKey(traceId), traceId);
      } else {
        const e = ring.at(mtf - 1);
        if (!e) throw new UnknownReference(`trace ${mtf}`);
        ring.touch(e);
        entry = e;
      }
      if (entry.frameSpans.length === 0) touched.push(entry);
      posOf[i] = entry.kept.length + entry.frameSpans.length;
      entry.frameSpans.push(i);
      entryOf[i] = entry;
      if (tmpl === 0) {
        const data = otlp(cRaw.raw(cRaw.uvar()), 'raw span');
        const raw = data.resourceSpans[0]?.scopeSpans[0]?.spans[0];
        if (!raw || data.resourceSpans.length !== 1 || data.resourceSpans[0]!.scopeSpans.length !== 1 || data.resourceSpans[0]!.scopeSpans[0]!.spans.length !== 1) {
          r.fail('raw span must hold exactly one span');
        }
        countDecoded(spanSize(raw));
        spans[i] = raw;
        parentCode[i] = -1;
        continue;
      }
      const node = template(st, tmpl, false);
      const head = node.span!;
      const code = cParent.uvar();
      parentCode[i] = code;
      let parentSpanId: Uint8Array = EMPTY;
      if (code === PARENT_EXPLICIT) parentSpanId = cParentId.raw(8);
      startDelta[i] = cStart.svarBig();
      const duration = cDuration.svarBig();
      const spanId = cSpanId.raw(8);
      countDecoded(SPAN_FIXED + entry.traceId.length + 8 + parentSpanId.length + node.size);
      const attributes = residualAttributes(node, residuals, entry, spanId, false);
      const nEvents = cEvents.uvar();
      if (nEvents > cEvent.remaining) r.fail(`${nEvents} events cannot fit`);
      const events: SpanEvent[] = new Array(nEvents);
      const deltas: bigint[] = new Array(nEvents);
      for (let k = 0; k < nEvents; k++) {
        const enode = template(st, cEvent.uvar(), true);
        countDecoded(EVENT_FIXED + enode.size);
        deltas[k] = cEvent.svarBig();
        eventNeedsExpansion = false;
        events[k] = {
          timeUnixNano: 0n,
          name: enode.eventName,
          attributes: residualAttributes(enode, residuals, entry, spanId, true),
          droppedAttributesCount: enode.eventDropped,
          unknownFields: undefined,
        };
        if (eventNeedsExpansion) {
          pendingSpan.push(i);
          pendingEvent.push(k);
          pendingNode.push(enode);
        }
      }
      eventDeltas[i] = deltas;
      const status: Status | undefined = head.status && { message: head.status.message, code: head.status.code, unknownFields: undefined };
      spans[i] = {
        traceId: entry.traceId,
        spanId,
        traceState: head.traceState,
        parentSpanId,
        flags: head.flags,
        name: head.name,
        kind: head.kind,
        startTimeUnixNano: 0n,
        endTimeUnixNano: duration, // the duration until phase B adds the start
        attributes,
        droppedAttributesCount: head.droppedAttributesCount,
        events,
        droppedEventsCount: head.droppedEventsCount,
        links: [],
        droppedLinksCount: head.droppedLinksCount,
        status,
        unknownFields: undefined,
      };
    }
    for (const c of [cTemplate, cTrace, cTraceId, cSpanId, cParent, cParentId, cStart, cDuration, cEvents, cEvent, cRaw]) {
      if (c.remaining !== 0) r.fail('a column has bytes left over');
    }
    for (const c of residuals.values()) if (c.remaining !== 0) r.fail('a residual column has bytes left over');

    // Phase B: parents and times, parents first (a parent may come later in the frame).
    const parentPos = scratchParentPos;
    parentPos.fill(-1, 0, total);
    for (let i = 0; i < total; i++) {
      const code = parentCode[i]!;
      if (code < PARENT_RELATIVE_BASE) continue;
      const entry = entryOf[i]!;
      const u = code - PARENT_RELATIVE_BASE;
      const ppos = posOf[i]! - (u % 2 === 0 ? u / 2 : -(u + 1) / 2);
      if (ppos < 0 || ppos >= entry.kept.length + entry.frameSpans.length) throw new UnknownReference(`parent position ${ppos}`);
      parentPos[i] = ppos;
    }
    visitParentsFirst(
      total,
      (i) => {
        const ppos = parentPos[i]!;
        const entry = entryOf[i]!;
        return ppos >= entry.kept.length ? entry.frameSpans[ppos - entry.kept.length]! : -1;
      },
      (i, cycle) => {
        if (cycle) r.fail('parent references form a cycle');
        const span = spans[i]!;
        const code = parentCode[i]!;
        const ppos = parentPos[i]!;
        if (code === -1) return; // raw: its times travel inside
        if (ppos < 0) {
          finishSpan(span, base + startDelta[i]!, eventDeltas[i]!); // no parent, or an explicit one
          return;
        }
        const entry = entryOf[i]!;
        if (ppos < entry.kept.length) {
          const kept = entry.kept[ppos]!;
          span.parentSpanId = kept.id;
          countDecoded(kept.id.length);
          finishSpan(span, kept.start + startDelta[i]!, eventDeltas[i]!);
        } else {
          const parent = spans[entry.frameSpans[ppos - entry.kept.length]!]!;
          span.parentSpanId = parent.spanId;
          countDecoded(parent.spanId.length);
          finishSpan(span, parent.startTimeUnixNano + startDelta[i]!, eventDeltas[i]!);
        }
      },
    );

    // Event strings that refer to their event's time (or anything else), now that times are known.
    for (let p = 0; p < pendingSpan.length; p++) {
      const i = pendingSpan[p]!;
      const span = spans[i]!;
      const event = span.events[pendingEvent[p]!]!;
      expandEventStrings(pendingNode[p]!, event.attributes, entryOf[i]!, span.spanId, event.timeUnixNano);
    }

    // Commit: remember this frame's spans per trace.
    for (const entry of touched) {
      for (const i of entry.frameSpans) {
        const s = spans[i]!;
        entry.kept.push({ key: '', start: s.startTimeUnixNano, id: s.spanId }); // keys are the encoder's
      }
      if (entry.kept.length > TRACE_SPANS_KEPT) entry.kept.splice(0, entry.kept.length - TRACE_SPANS_KEPT);
      st.bytes += entry.frameSpans.length * 56;
      entry.frameSpans.length = 0;
    }
  } catch (e) {
    for (const entry of touched) entry.frameSpans.length = 0;
    throw e;
  } finally {
    pendingSpan.length = 0;
    pendingEvent.length = 0;
    pendingNode.length = 0;
  }

  // 5. Envelopes around the spans, in message order.
  const resourceSpans: ResourceSpans[] = new Array(groups.length);
  let next = 0;
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g]!;
    const scopeSpans: ScopeSpans[] = new Array(group.scopes.length);
    for (let k = 0; k < group.scopes.length; k++) {
      const { shell, count } = group.scopes[k]!;
      scopeSpans[k] = { scope: shell.scope, spans: spans.slice(next, next + count), schemaUrl: shell.schemaUrl, unknownFields: shell.unknownFields };
      next += count;
    }
    resourceSpans[g] = { resource: group.shell.resource, scopeSpans, schemaUrl: group.shell.schemaUrl, unknownFields: group.shell.unknownFields };
  }
  return { resourceSpans, unknownFields: requestUnknown };
}

const EMPTY = new Uint8Array(0);

/** A reader over a copy of what `section` holds. */
function owned(section: ByteReader): ByteReader {
  return section.remaining === 0 ? section : new ByteReader(section.copy(section.remaining));
}

// Per-span numbers of a frame, reused by every frame (decoding never nests; grown to the largest frame).
let scratchPos = new Int32Array(0);
let scratchCode = new Float64Array(0);
let scratchParentPos = new Float64Array(0);
function growScratch(n: number): void {
  const size = Math.max(n, 64);
  scratchPos = new Int32Array(size);
  scratchCode = new Float64Array(size);
  scratchParentPos = new Float64Array(size);
}

/** True when the bytes are a sequence of complete protobuf fields (what unknown fields must be). */
function wellFormedFields(bytes: Uint8Array): boolean {
  const r = new ProtobufReader(bytes);
  try {
    while (r.pos < bytes.length) {
      const tag = r.readVarint32(bytes.length);
      if (tag >>> 3 === 0) return false;
      r.skipField(tag & 7, tag >>> 3, bytes.length);
    }
    return true;
  } catch {
    return false;
  }
}

function finishSpan(span: Span, start: bigint, eventDeltas: bigint[]): void {
  if (start < 0n || start >= 1n << 64n) throw new TracezipFrameError('malformed', 'start time out of range');
  const end = start + span.endTimeUnixNano;
  if (end < 0n || end >= 1n << 64n) throw new TracezipFrameError('malformed', 'end time out of range');
  span.startTimeUnixNano = start;
  span.endTimeUnixNano = end;
  for (let k = 0; k < eventDeltas.length; k++) {
    const t = start + eventDeltas[k]!;
    if (t < 0n || t >= 1n << 64n) throw new TracezipFrameError('malformed', 'event time out of range');
    span.events[k]!.timeUnixNano = t;
  }
}

