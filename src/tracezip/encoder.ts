// The Tracezip stream encoder (service or agent side). HOT PATH: it runs for every span shipped.
//
// Each span becomes a reference to a node of the Span Retrieval Tree plus its residual values:
// - the tree's first edge below the root is the span's head (name, kind, flags, status, trace
//   state, dropped counts, and its attribute keys in their original order, each marked as part of
//   the template or residual with a type); the edges below it fix the values of the template
//   attributes, lowest cardinality first, so common prefixes are shared; the node reached is the
//   span's template. Events get templates the same way, under event heads.
// - attributes whose (span name, key) has shown more than `templateValueLimit` distinct values stay
//   out of the tree: their values go to per-key residual columns.
// - ids: trace ids through a move-to-front list of recent traces, span ids raw, parents as a
//   relative position among the spans of the same trace (in this frame or remembered from earlier
//   frames), explicit only when unknown.
// - times: start as a delta from the parent's start when the parent is known, else from the frame
//   base; then the duration. Event times from their span's start.
// - anything the structured form does not cover (links, unknown fields, ids of unusual length)
//   makes the span "raw": it travels as OTLP protobuf bytes, so nothing is ever lost.
// A frame carries only the dictionary strings, envelopes and tree nodes the decoder does not have
// yet, then the columns, then whole-frame compression and a checksum (format.ts).
// Speed: what a span repeats is looked up once per head, not per attribute (a head keeps its keys'
// statistics and a plan its residual columns), plain envelopes equal to one seen before are not
// encoded again, and a span of the previous span's trace skips the trace lookup.
import { randomBytes } from 'node:crypto';
import {
  InputError,
  type AnyValue,
  type KeyValue,
  type ResourceSpans,
  type ScopeSpans,
  type Span,
  type SpanEvent,
  type TracesData,
} from '../model/index.js';
import { decodeTracesData, encodeTracesData } from '../otlp/index.js';
import { ByteWriter } from './bytes.js';
import { compressPayload, defaultCompression, ZstdStreamCompressor, type Compression } from './compression.js';
import {
  CLASS_TEMPLATE,
  EDGE_EVENT_HEAD,
  EDGE_SPAN_HEAD,
  EDGE_VALUE,
  PARENT_EXPLICIT,
  PARENT_NONE,
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
  writeFrame,
} from './format.js';
import { EncoderSpans, idKey, TraceRing, visitParentsFirst, type TraceEntry } from './traces.js';
import { escapeNuls, hex, RepeatSearch, substituteInto } from './context.js';

export interface TracezipEncoderOptions {
  /** Stream id (u64); random by default. One encoder = one stream. */
  streamId?: bigint;
  /**
   * The first epoch, in [0, 2^31) (default random, so that a restarted encoder with the same stream
   * id never reuses one). A measurement fixes it: the epoch is a varint in every frame header, so a
   * random one changes a frame's size by a byte from run to run, and a budget fed those sizes
   * decides differently (nezha at 0.98 priced in Tracezip bytes: 6,903 or 6,905 traces kept).
   */
  firstEpoch?: number;
  /** Whole-frame compression: zstd (default when available), gzip, or none. */
  compression?: Compression;
  /**
   * zstd level. Default 1 for a zstd stream: each frame is a flushed block, and at level 1 zstd's
   * match table (64 KiB) stays in cache between a stream's small frames while the stream's window
   * still finds the repeats across frames; level 3 takes nearly twice zstd's time at 16 spans a
   * frame for 7% fewer bytes (docs/benchmarks.md, bench/tracezip-zstd.ts). Default 3 for
   * self-contained zstd frames.
   */
  zstdLevel?: number;
  /**
   * A zstd stream's literals: 'raw' or 'huffman'. Default 'raw' at levels up to 3 (the fast levels,
   * where building a Huffman table per frame is most of zstd's time: raw halves it at 16 spans a
   * frame for about 1% more bytes, see ZstdStreamCompressor), 'huffman' above (asked-for ratio).
   */
  zstdLiterals?: 'raw' | 'huffman';
  /** Cap on the state both sides keep for this stream; past it the encoder starts a new epoch. Default 32 MiB. */
  maxStateBytes?: number;
  /** Every frame self-contained (files): no state carried between frames. */
  stateless?: boolean;
  /** Distinct values a (span name, attribute key) may show before its values become residuals. Default 64. */
  templateValueLimit?: number;
}

export const DEFAULT_MAX_STATE_BYTES = 32 * 1024 * 1024;
const DEFAULT_TEMPLATE_VALUE_LIMIT = 64;

/** Distinct-value tracking for one (span or event name, attribute key). */
interface KeyStats {
  values: Set<string> | null; // null once over the limit
  /** Occurrences seen; past STABLE_AFTER with few values the key is taken as settled and no longer counted. */
  seen: number;
}

/** A key seen this often without passing the limit is settled low-cardinality: stop paying for stats. */
const STABLE_AFTER = 4096;

/** Encoder-side tree node: children by label key. */
interface EncNode {
  id: number;
  children: Map<string, number>;
  /** Value edges by position (an array: one map lookup per value), then by the value itself for strings, booleans and ints (no key to build). */
  valueChildren: (Map<string | boolean | bigint, number> | undefined)[] | undefined;
}

/** Per-attribute plan of a head: which positions are templated, and in which order they are walked. */
interface HeadPlan {
  node: number;
  /** Positions whose values are template values, in walk order (ascending cardinality). */
  templated: number[];
  /** Residual class (value type) per position, CLASS_TEMPLATE for templated ones. */
  classes: number[];
  /** The residual column of each residual position (plans and columns live as long as the epoch). */
  cols: (ResidualColumn | undefined)[];
}

/** One residual column of a frame: the values of one (attribute key, class). */
interface ResidualColumn {
  keyId: number;
  cls: number;
  w: ByteWriter;
  /** Which repeats the column's strings are searched for. */
  search: RepeatSearch;
}

/**
 * An envelope (resource or scope) whose content is plain (string, bool and int attribute values,
 * no unknown fields, no entity refs), as it was when it got its id: an envelope equal to it field by
 * field encodes to the same bytes, so it takes the same id without being encoded again.
 */
interface ShellSnap {
  id: number;
  schemaUrl: string;
  /** Whether the resource or scope message is present at all. */
  present: boolean;
  name: string;
  version: string;
  dropped: number;
  /** Attribute keys and values, alternating. */
  kv: (string | boolean | bigint)[];
}

/** Plain attributes as a snapshot's key/value list, or undefined when one is not plain. */
function plainKv(attrs: readonly KeyValue[]): (string | boolean | bigint)[] | undefined {
  const out: (string | boolean | bigint)[] = new Array(attrs.length * 2);
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i]!;
    const v = kv.value;
    if (kv.unknownFields !== undefined || (typeof v !== 'string' && typeof v !== 'boolean' && typeof v !== 'bigint')) return undefined;
    out[2 * i] = kv.key;
    out[2 * i + 1] = v;
  }
  return out;
}

function sameKv(kv: readonly (string | boolean | bigint)[], attrs: readonly KeyValue[]): boolean {
  if (kv.length !== attrs.length * 2) return false;
  for (let i = 0; i < attrs.length; i++) {
    const a = attrs[i]!;
    // A value of another type (or a composite one) is never === a plain snapshot value.
    if (a.key !== kv[2 * i] || a.value !== kv[2 * i + 1] || a.unknownFields !== undefined) return false;
  }
  return true;
}

const NO_ATTRS: KeyValue[] = [];
/** Snapshots kept per discriminating string (first resource attribute value, scope name). */
const SNAPS_PER_KEY = 8;

const EMPTY_U8 = new Uint8Array(0);

export class TracezipEncoder {
  readonly streamId: bigint;
  readonly compression: Compression;
  private readonly zstdLevel: number;
  private readonly zstdRawLiterals: boolean;
  private readonly maxStateBytes: number;
  private readonly stateless: boolean;
  private readonly valueLimit: number;

  /** Starts at random so that a restarted encoder with the same stream id never reuses an epoch. */
  private epochValue = randomBytes(4).readUInt32LE(0) >>> 1;
  private seqValue = 0;
  private needEpochStart = true;
  private zstdStream: ZstdStreamCompressor | undefined;

  // ---- mirrored state (the decoder keeps the same) ----
  private strings = new Map<string, number>();
  private resourceShells = new Map<string, number>();
  private scopeShells = new Map<string, number>();
  private nodes: EncNode[] = [];
  private ring = new TraceRing();
  private stateBytes = 0;
  // ---- encoder-only ----
  private stats = new Map<string, Map<string, KeyStats>>();
  private headPlans = new Map<string, HeadPlan>();
  /** @internal Recent span heads per span name, for the allocation-free lookup. */
  headsByName = new Map<string, HeadCandidate[]>();
  /** @internal The last event head per event name (events of a name rarely change shape). */
  lastEventHead = new Map<string, EventHead>();
  private eventScopes = new Map<string, string>();
  private resourceSnaps = new Map<string, ShellSnap[]>();
  private scopeSnaps = new Map<string, ShellSnap[]>();

  /** @internal The statistics scope of an event name (kept apart from span names). */
  eventScope(name: string): string {
    let s = this.eventScopes.get(name);
    if (s === undefined) {
      s = '\u0001' + name;
      if (this.eventScopes.size >= 4096) this.eventScopes.clear(); // many distinct event names: stay bounded
      this.eventScopes.set(name, s);
    }
    return s;
  }
  /** Reused for every frame: its column buffers keep their capacity. */
  private readonly builder: FrameBuilder = new FrameBuilder(this);

  constructor(options: TracezipEncoderOptions = {}) {
    this.streamId = options.streamId ?? randomBytes(8).readBigUInt64LE(0);
    if (options.firstEpoch !== undefined) {
      if (!(Number.isInteger(options.firstEpoch) && options.firstEpoch >= 0 && options.firstEpoch < 0x80000000)) throw new InputError(`firstEpoch must be an integer in [0, 2^31), got ${options.firstEpoch}`);
      this.epochValue = options.firstEpoch;
    }
    this.stateless = options.stateless ?? false;
    this.compression = options.compression ?? defaultCompression(!this.stateless);
    if (this.stateless && this.compression === 'zstd-stream') throw new InputError('zstd-stream needs a stateful stream; stateless frames use zstd');
    this.zstdLevel = options.zstdLevel ?? (this.compression === 'zstd-stream' ? 1 : 3);
    if (options.zstdLiterals !== undefined && options.zstdLiterals !== 'raw' && options.zstdLiterals !== 'huffman') {
      throw new InputError(`zstdLiterals must be 'raw' or 'huffman', got ${JSON.stringify(options.zstdLiterals)}`);
    }
    this.zstdRawLiterals = (options.zstdLiterals ?? (this.zstdLevel <= 3 ? 'raw' : 'huffman')) === 'raw';
    this.maxStateBytes = options.maxStateBytes ?? DEFAULT_MAX_STATE_BYTES;
    this.valueLimit = options.templateValueLimit ?? DEFAULT_TEMPLATE_VALUE_LIMIT;
    this.resetState();
  }

  get epoch(): number {
    return this.epochValue;
  }
  get seq(): number {
    return this.seqValue;
  }
  /** Estimated bytes of the state the decoder mirrors for this stream. */
  get stateSize(): number {
    return this.stateBytes;
  }

  /** Starts a new epoch with empty state on the next frame (after the decoder asked for a resync). */
  resync(): void {
    this.needEpochStart = true;
  }

  /** @internal Changes whenever the mirrored state is reset (new epoch, or every stateless frame). */
  epochKey = 0;

  private resetState(): void {
    this.epochKey++;
    this.strings = new Map();
    this.resourceShells = new Map();
    this.scopeShells = new Map();
    this.nodes = [{ id: 0, children: new Map(), valueChildren: undefined }];
    this.ring = new TraceRing();
    this.stats = new Map();
    this.headPlans = new Map();
    this.headsByName = new Map();
    this.lastEventHead = new Map();
    this.resourceSnaps = new Map();
    this.scopeSnaps = new Map();
    this.stateBytes = 0;
  }

  /** Encodes one batch as one frame. */
  encode(data: TracesData): Uint8Array {
    let epochStart = false;
    if (this.stateless) {
      this.resetState();
    } else if (this.needEpochStart || this.stateBytes > this.maxStateBytes) {
      if (this.seqValue > 0 || !this.needEpochStart) this.epochValue = (this.epochValue + 1) % 0x80000000;
      this.seqValue = 0;
      this.resetState();
      this.needEpochStart = false;
      epochStart = true;
    }
    let payload: Uint8Array;
    try {
      payload = this.builder.build(data);
    } catch (e) {
      // The state may hold part of a frame that was never sent: start the next one afresh.
      this.needEpochStart = true;
      throw e;
    }
    let body: Uint8Array;
    if (this.compression === 'zstd-stream') {
      // One zstd stream per epoch: a new epoch starts a new stream, as the decoder does.
      if (epochStart || !this.zstdStream) this.zstdStream = new ZstdStreamCompressor(this.zstdLevel, this.zstdRawLiterals);
      body = this.zstdStream.compressFrame(payload);
    } else body = compressPayload(payload, this.compression, this.zstdLevel);
    const frame = writeFrame(
      {
        compression: this.compression,
        epochStart,
        stateless: this.stateless,
        streamId: this.streamId,
        epoch: this.stateless ? 0 : this.epochValue,
        seq: this.stateless ? 0 : this.seqValue,
        payloadLength: payload.length,
      },
      body,
    );
    if (!this.stateless) this.seqValue++;
    return frame;
  }

  // ---- state access for the frame builder ----

  /** @internal */
  stringId(s: string, fb: FrameBuilder): number {
    let id = this.strings.get(s);
    if (id === undefined) {
      id = this.strings.size;
      this.strings.set(s, id);
      fb.newStrings.string(s);
      fb.newStringCount++;
      this.stateBytes += 48 + 2 * s.length;
    }
    return id;
  }

  /**
   * @internal Envelope id, by the envelope's OTLP bytes. They are encoded for every frame: an
   * identity cache would send a resource changed in place (even deep inside) stale.
   */
  shellId(kind: number, bytes: Uint8Array, fb: FrameBuilder): number {
    const key = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
    const table = kind === SHELL_RESOURCE ? this.resourceShells : this.scopeShells;
    let id = table.get(key);
    if (id === undefined) {
      id = table.size;
      table.set(key, id);
      readable(bytes, kind === SHELL_RESOURCE ? 'a resource' : 'a scope');
      fb.newShells.uvar(kind);
      fb.newShells.bytes(bytes);
      fb.newShellCount++;
      this.stateBytes += 64 + 2 * bytes.length;
    }
    return id;
  }

  /** @internal The id of a resource envelope: a plain one equal to one seen before without encoding it. */
  resourceShellId(rs: ResourceSpans, fb: FrameBuilder): number {
    const r = rs.resource;
    const plain = rs.unknownFields === undefined && (r === undefined || (r.unknownFields === undefined && r.entityRefs.length === 0));
    const attrs = r?.attributes ?? NO_ATTRS;
    const first = attrs.length > 0 && typeof attrs[0]!.value === 'string' ? attrs[0]!.value : '';
    let list: ShellSnap[] | undefined;
    if (plain) {
      list = this.resourceSnaps.get(first);
      if (list !== undefined) {
        const dropped = r?.droppedAttributesCount ?? 0;
        for (let k = 0; k < list.length; k++) {
          const snap = list[k]!;
          if (snap.present === (r !== undefined) && snap.schemaUrl === rs.schemaUrl && snap.dropped === dropped && sameKv(snap.kv, attrs)) return snap.id;
        }
      }
    }
    const id = this.shellId(SHELL_RESOURCE, resourceShellBytes(rs), fb);
    const kv = plain ? plainKv(attrs) : undefined;
    if (kv !== undefined) {
      if (list === undefined) this.resourceSnaps.set(first, (list = []));
      if (list.length >= SNAPS_PER_KEY) list.shift();
      list.push({ id, schemaUrl: rs.schemaUrl, present: r !== undefined, name: '', version: '', dropped: r?.droppedAttributesCount ?? 0, kv });
    }
    return id;
  }

  /** @internal The id of a scope envelope, as `resourceShellId` does for resources. */
  scopeShellId(ss: ScopeSpans, fb: FrameBuilder): number {
    const sc = ss.scope;
    const plain = ss.unknownFields === undefined && (sc === undefined || sc.unknownFields === undefined);
    const attrs = sc?.attributes ?? NO_ATTRS;
    const name = sc?.name ?? '';
    let list: ShellSnap[] | undefined;
    if (plain) {
      list = this.scopeSnaps.get(name);
      if (list !== undefined) {
        for (let k = 0; k < list.length; k++) {
          const snap = list[k]!;
          if (
            snap.present === (sc !== undefined) &&
            snap.schemaUrl === ss.schemaUrl &&
            (sc === undefined || (snap.version === sc.version && snap.dropped === sc.droppedAttributesCount && sameKv(snap.kv, attrs)))
          ) {
            return snap.id;
          }
        }
      }
    }
    const id = this.shellId(SHELL_SCOPE, scopeShellBytes(ss), fb);
    const kv = plain ? plainKv(attrs) : undefined;
    if (kv !== undefined) {
      if (list === undefined) this.scopeSnaps.set(name, (list = []));
      if (list.length >= SNAPS_PER_KEY) list.shift();
      list.push({ id, schemaUrl: ss.schemaUrl, present: sc !== undefined, name, version: sc?.version ?? '', dropped: sc?.droppedAttributesCount ?? 0, kv });
    }
    return id;
  }

  /** @internal Child of `parent` along the edge whose lookup key is `key`; creates it (writing `label`) when new. */
  child(parent: number, key: string, label: () => void, fb: FrameBuilder, width: number, created?: (id: number) => void): number {
    const node = this.nodes[parent]!;
    let id = node.children.get(key);
    if (id === undefined) {
      id = this.nodes.length;
      this.nodes.push({ id, children: new Map(), valueChildren: undefined });
      node.children.set(key, id);
      fb.newNodes.uvar(parent);
      label();
      fb.newNodeCount++;
      this.stateBytes += nodeStateBytes(width);
    }
    created?.(id);
    return id;
  }

  /** @internal */
  valueChild(parent: number, position: number, v: string | boolean | bigint): number | undefined {
    return this.nodes[parent]!.valueChildren?.[position]?.get(v);
  }

  /** @internal */
  setValueChild(parent: number, position: number, v: string | boolean | bigint, id: number): void {
    const node = this.nodes[parent]!;
    node.valueChildren ??= [];
    let byValue = node.valueChildren[position];
    if (!byValue) {
      byValue = new Map();
      node.valueChildren[position] = byValue;
    }
    byValue.set(v, id);
  }

  /** @internal */
  keyStats(scope: string, key: string): KeyStats {
    let byKey = this.stats.get(scope);
    if (!byKey) {
      byKey = new Map();
      this.stats.set(scope, byKey);
    }
    let s = byKey.get(key);
    if (!s) {
      s = { values: new Set(), seen: 0 };
      byKey.set(key, s);
    }
    return s;
  }

  /** @internal Records a value for cardinality; false once the key has too many distinct values. */
  observe(stats: KeyStats, valueKey: string): void {
    if (stats.values === null) return;
    if (stats.values.size < this.valueLimit || stats.values.has(valueKey)) stats.values.add(valueKey);
    else stats.values = null;
  }

  /** @internal */
  get traceRing(): TraceRing {
    return this.ring;
  }
  /** @internal */
  get plans(): Map<string, HeadPlan> {
    return this.headPlans;
  }
  /** @internal */
  addStateBytes(n: number): void {
    this.stateBytes += n;
  }
}

/** An event head as the fast path compares it. */
interface EventHead {
  plan: HeadPlan;
  dropped: number;
  keys: string[];
  stats: KeyStats[];
}

/** A span head as the fast path compares it. */
interface HeadCandidate {
  plan: HeadPlan;
  kind: number;
  flags: number;
  traceState: string;
  statusCode: number; // NaN when absent
  statusMessage: string;
  droppedAttributesCount: number;
  droppedEventsCount: number;
  droppedLinksCount: number;
  keys: string[];
  /** The statistics of each attribute (KeyStats objects live as long as the epoch, as heads do). */
  stats: KeyStats[];
}

function headOf(span: Span, plan: HeadPlan, enc: TracezipEncoder): HeadCandidate {
  return {
    plan,
    kind: span.kind,
    flags: span.flags,
    traceState: span.traceState,
    statusCode: span.status === undefined ? NaN : span.status.code,
    statusMessage: span.status?.message ?? '',
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
    keys: span.attributes.map((kv) => kv.key),
    stats: span.attributes.map((kv) => enc.keyStats(span.name, kv.key)),
  };
}

/** True when the span has this head, including each attribute's class as the statistics now say. */
function sameHead(h: HeadCandidate, span: Span): boolean {
  if (h.kind !== span.kind || h.flags !== span.flags || h.traceState !== span.traceState) return false;
  if (h.droppedAttributesCount !== span.droppedAttributesCount || h.droppedEventsCount !== span.droppedEventsCount || h.droppedLinksCount !== span.droppedLinksCount) {
    return false;
  }
  const st = span.status;
  if (st === undefined ? !Number.isNaN(h.statusCode) : h.statusCode !== st.code || h.statusMessage !== st.message) return false;
  return sameShape(h.keys, h.plan.classes, h.stats, span.attributes);
}

/**
 * True when the attributes have these keys in this order, each of the class the statistics now
 * give; `stats` are the keys' statistics (in the head's scope).
 */
function sameShape(keys: readonly string[], classes: readonly number[], stats: readonly KeyStats[], attrs: readonly KeyValue[]): boolean {
  if (keys.length !== attrs.length) return false;
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i]!;
    if (keys[i] !== kv.key) return false;
    const cls = stats[i]!.values === null ? valueType(kv.value) : CLASS_TEMPLATE;
    if (classes[i] !== cls) return false;
  }
  return true;
}

/** True when the attributes have exactly these keys in this order. */
function sameKeys(keys: readonly string[], attrs: readonly KeyValue[]): boolean {
  if (keys.length !== attrs.length) return false;
  for (let i = 0; i < attrs.length; i++) if (keys[i] !== attrs[i]!.key) return false;
  return true;
}

/** A stable text key for a value, telling apart what message equality tells apart. */
function valueKey(v: AnyValue): string | undefined {
  switch (typeof v) {
    case 'string':
      return 's' + v;
    case 'boolean':
      return v ? 't' : 'f';
    case 'bigint':
      return 'i' + v.toString();
    case 'number':
      return Object.is(v, -0) ? 'd-0' : 'd' + String(v);
    default:
      break;
  }
  if (v instanceof Uint8Array) return 'b' + Buffer.from(v.buffer, v.byteOffset, v.length).toString('latin1');
  return undefined; // composite values are always residual (V_ANY)
}

function valueType(v: AnyValue): number {
  switch (typeof v) {
    case 'string':
      return V_STRING;
    case 'boolean':
      return V_BOOL;
    case 'bigint':
      return V_INT;
    case 'number':
      return V_DOUBLE;
    default:
      return v instanceof Uint8Array ? V_BYTES : V_ANY;
  }
}

/** OTLP bytes of a single AnyValue (as the value of a resource attribute of an otherwise empty request). */
function anyValueBytes(v: AnyValue): Uint8Array {
  return readable(encodeTracesData({
    resourceSpans: [{ resource: { attributes: [{ key: '', value: v, unknownFields: undefined }], droppedAttributesCount: 0, entityRefs: [] }, scopeSpans: [], schemaUrl: '' }],
  }), 'an attribute value');
}

/**
 * OTLP bytes the decoder will be able to read: the model can hold what the OTLP decoder refuses
 * (values nested deeper than its limit), and such input is refused here, when it is sent, rather
 * than discovered by the backend. Only rare parts (composite values, raw spans, envelopes) pay.
 */
function readable(bytes: Uint8Array, what: string): Uint8Array {
  try {
    decodeTracesData(bytes);
  } catch (e) {
    throw new InputError(`${what} cannot be carried losslessly: ${(e as Error).message}`);
  }
  return bytes;
}

/** A span the structured form cannot carry exactly travels raw. */
function needsRaw(span: Span): boolean {
  if (span.traceId.length !== 16 || span.spanId.length !== 8) return true;
  if (span.parentSpanId.length !== 0 && span.parentSpanId.length !== 8) return true;
  if (span.links.length > 0 || span.unknownFields !== undefined) return true;
  if (span.status !== undefined && span.status.unknownFields !== undefined) return true;
  if (span.kind < -0x80000000 || span.kind > 0x7fffffff) return true;
  if (hasUnknownKv(span.attributes)) return true;
  for (const e of span.events) if (e.unknownFields !== undefined || hasUnknownKv(e.attributes)) return true;
  return false;
}

function hasUnknownKv(attrs: readonly KeyValue[]): boolean {
  for (let i = 0; i < attrs.length; i++) if (attrs[i]!.unknownFields !== undefined) return true;
  return false;
}

/** Builds one frame's payload; holds the frame's sections and columns while spans are added. */
export class FrameBuilder {
  newStrings = new ByteWriter(256);
  newStringCount = 0;
  newShells = new ByteWriter(64);
  newShellCount = 0;
  newNodes = new ByteWriter(256);
  newNodeCount = 0;

  private readonly envelope = new ByteWriter(64);
  private readonly cTemplate = new ByteWriter(1024);
  private readonly cTrace = new ByteWriter(1024);
  private readonly cTraceId = new ByteWriter(1024);
  private readonly cSpanId = new ByteWriter(4096);
  private readonly cParent = new ByteWriter(1024);
  private readonly cParentId = new ByteWriter(256);
  private readonly cStart = new ByteWriter(4096);
  private readonly cDuration = new ByteWriter(4096);
  private readonly cEvents = new ByteWriter(512);
  private readonly cEvent = new ByteWriter(256);
  private readonly cRaw = new ByteWriter(256);
  private readonly residuals = new Map<string, ResidualColumn>();
  /** The same columns in the order the frame lists them (by key id, then class). */
  private readonly residualList: ResidualColumn[] = [];
  /** The fixed columns in frame order. */
  private readonly columns: readonly ByteWriter[] = [
    this.cTemplate,
    this.cTrace,
    this.cTraceId,
    this.cSpanId,
    this.cParent,
    this.cParentId,
    this.cStart,
    this.cDuration,
    this.cEvents,
    this.cEvent,
    this.cRaw,
  ];

  constructor(private readonly enc: TracezipEncoder) {}

  private reset(): void {
    this.newStrings.reset();
    this.newShells.reset();
    this.newNodes.reset();
    this.envelope.reset();
    for (let c = 0; c < this.columns.length; c++) this.columns[c]!.reset();
    this.newStringCount = 0;
    this.newShellCount = 0;
    this.newNodeCount = 0;
    // Residual columns keep their buffers across frames (emptied); a new epoch starts afresh
    // because key ids restart.
    if (this.residualEpoch !== this.enc.epochKey) {
      this.residuals.clear();
      this.residualList.length = 0;
      this.residualEpoch = this.enc.epochKey;
    } else for (let c = 0; c < this.residualList.length; c++) this.residualList[c]!.w.reset();
  }
  private residualEpoch = -1;
  private readonly payload = new ByteWriter(4096);
  /** Earlier residual string values of the attribute list being written (one array, reused). */
  private readonly earlier: string[] = [];

  build(data: TracesData): Uint8Array {
    this.reset();
    const enc = this.enc;
    // Pass 1: cardinality statistics of the whole frame first, so the first frame already orders
    // template keys well.
    let hinted = 0;
    let eventsHinted = 0;
    for (const rs of data.resourceSpans)
      for (const ss of rs.scopeSpans)
        for (const span of ss.spans) {
          this.headHint[hinted++] = this.observeSpan(span);
          const events = span.events;
          for (let k = 0; k < events.length; k++) this.eventHint[eventsHinted++] = this.observeEvent(events[k]!);
        }

    // Envelope and the frame's span list (in message order; the per-span lists are the builder's,
    // reused by every frame and emptied of the caller's objects at the end).
    const spans = this.spanList;
    let n = 0;
    let base = -1n;
    this.envelope.bytes(data.unknownFields ?? EMPTY_U8);
    this.envelope.uvar(data.resourceSpans.length);
    for (const rs of data.resourceSpans) {
      this.envelope.uvar(enc.resourceShellId(rs, this));
      this.envelope.uvar(rs.scopeSpans.length);
      for (const ss of rs.scopeSpans) {
        this.envelope.uvar(enc.scopeShellId(ss, this));
        this.envelope.uvar(ss.spans.length);
        for (const span of ss.spans) {
          spans[n++] = span;
          if (base < 0n || span.startTimeUnixNano < base) base = span.startTimeUnixNano;
        }
      }
    }
    if (base < 0n) base = 0n;

    // Traces of the frame: ring entries in first-seen order, and each span's position in its trace list.
    const ring = enc.traceRing;
    if (this.posScratch.length < n) this.growScratch(n);
    const entryOf = this.entryList;
    const posOf = this.posScratch;
    const frameTraces: TraceEntry[] = [];
    let prev: TraceEntry | undefined;
    let prevTraceId: Uint8Array = EMPTY_U8;
    for (let i = 0; i < n; i++) {
      const span = spans[i]!;
      let entry: TraceEntry | undefined;
      if (prev !== undefined && sameBytes(span.traceId, prevTraceId)) {
        // The trace of the previous span (the usual case: spans come grouped by trace) is at the
        // front of the ring already: no key to build.
        entry = prev;
        this.cTrace.uvar(1);
      } else {
        const key = idKey(span.traceId);
        entry = ring.get(key);
        const mtf = entry === undefined ? 0 : ring.touch(entry) + 1;
        this.cTrace.uvar(mtf);
        if (entry === undefined) {
          this.cTraceId.bytes(span.traceId);
          entry = ring.add(key, span.traceId);
        }
      }
      prev = entry;
      prevTraceId = span.traceId;
      if (entry.frameSpans.length === 0) frameTraces.push(entry);
      const kept = (entry.spans ??= new EncoderSpans());
      posOf[i] = kept.starts.length + entry.frameSpans.length;
      entry.frameSpans.push(i);
      kept.addFrameSpan(span.spanId, span.startTimeUnixNano);
      entryOf[i] = entry;
    }
    // Span id -> ordinal, per trace, for parent references: kept spans are already in the trace's
    // map; this frame's spans are added now, so a child can refer to a parent that comes later.
    for (let t = 0; t < frameTraces.length; t++) {
      const entry = frameTraces[t]!;
      const kept = entry.spans!;
      const first = kept.trimmed + kept.starts.length;
      for (let k = 0; k < entry.frameSpans.length; k++) kept.set(spans[entry.frameSpans[k]!]!.spanId, first + k);
    }

    // Parents: a position reference when the parent is known, resolved parents-first exactly as the
    // decoder will, so a reference that would close a cycle (corrupt data: duplicate ids, a span
    // that is its own ancestor) is sent explicitly instead.
    const parentRef = this.refScratch; // -1 explicit, -2 none, else the parent's position
    const parentPos = this.parentPosScratch; // position of a known parent, -1 when unknown
    parentPos.fill(-1, 0, n);
    const startBase = this.startBaseList;
    for (let i = 0; i < n; i++) {
      const span = spans[i]!;
      if (span.parentSpanId.length === 0) continue;
      const kept = entryOf[i]!.spans!;
      const ord = kept.get(span.parentSpanId);
      if (ord !== undefined) parentPos[i] = ord - kept.trimmed;
    }
    resolveParents(n, spans, entryOf, parentPos, parentRef, startBase, base);

    // Per span: template, ids, parent, times, residuals, events.
    let eventIndex = 0; // into eventHint, which pass 1 filled in the same order
    for (let i = 0; i < n; i++) {
      const span = spans[i]!;
      if (needsRaw(span)) {
        eventIndex += span.events.length;
        this.cTemplate.uvar(0);
        this.cRaw.bytes(rawSpanBytes(span));
        continue;
      }
      const plan = this.headPlan(span, this.headHint[i]);
      this.spanEntry = entryOf[i]!;
      let node = plan.node;
      const attrs = span.attributes;
      for (let t = 0; t < plan.templated.length; t++) {
        const p = plan.templated[t]!;
        node = this.valueEdge(node, p, attrs[p]!.value, attrs.length);
      }
      this.cTemplate.uvar(node);
      this.writeResiduals(plan, attrs, span, undefined);
      this.cSpanId.raw(span.spanId);
      // Parent and start.
      const ref = parentRef[i]!;
      if (ref === -2) this.cParent.uvar(PARENT_NONE);
      else if (ref === -1) {
        this.cParent.uvar(PARENT_EXPLICIT);
        this.cParentId.raw(span.parentSpanId);
      } else this.cParent.uvar(PARENT_RELATIVE_BASE + zigzag(posOf[i]! - ref));
      this.cStart.svarBig(span.startTimeUnixNano - startBase[i]!);
      this.cDuration.svarBig(span.endTimeUnixNano - span.startTimeUnixNano);
      // Events.
      this.cEvents.uvar(span.events.length);
      const events = span.events;
      for (let k = 0; k < events.length; k++) this.writeEvent(events[k]!, span, this.eventHint[eventIndex++]);
    }

    // Remember this frame's spans per trace for later frames (the decoder does the same).
    for (let t = 0; t < frameTraces.length; t++) {
      const entry = frameTraces[t]!;
      entry.spans!.commit(TRACE_SPANS_KEPT);
      // An estimate that only grows: what the ring forgets is not subtracted, so the cap errs safe.
      enc.addStateBytes(entry.frameSpans.length * 56);
      entry.frameSpans.length = 0;
    }

    spans.fill(undefined, 0, n);
    entryOf.fill(undefined, 0, n);
    return this.assemble(base);
  }

  // The statistics of a span's or event's attributes come from a head already seen with the same
  // keys when there is one (its KeyStats objects), which spares two map lookups per attribute.
  // Per-span numbers of a frame, reused by every frame (grown to the largest frame).
  private posScratch = new Int32Array(0);
  private refScratch = new Float64Array(0);
  private parentPosScratch = new Float64Array(0);
  private growScratch(n: number): void {
    const size = Math.max(n, 64);
    this.posScratch = new Int32Array(size);
    this.refScratch = new Float64Array(size);
    this.parentPosScratch = new Float64Array(size);
  }

  /** Observes a span's attributes; returns the head seen before with the same keys, if any (a hint for headPlan). */
  private observeSpan(span: Span): HeadCandidate | undefined {
    const attrs = span.attributes;
    const candidates = this.enc.headsByName.get(span.name);
    if (candidates !== undefined) {
      for (let c = candidates.length - 1; c >= 0; c--) {
        const h = candidates[c]!;
        if (sameKeys(h.keys, attrs)) {
          this.observeWith(h.stats, attrs);
          return h;
        }
      }
    }
    this.observeAttrs(span.name, attrs);
    return undefined;
  }

  private readonly spanList: (Span | undefined)[] = [];
  private readonly entryList: (TraceEntry | undefined)[] = [];
  private readonly startBaseList: bigint[] = [];
  /** Per span of the frame: the head pass 1 found for it (checked again in full before use). */
  private readonly headHint: (HeadCandidate | undefined)[] = [];

  /** Observes an event's attributes; returns its name's last head when the keys are the same (a hint for eventPlan). */
  private observeEvent(e: SpanEvent): EventHead | undefined {
    const last = this.enc.lastEventHead.get(e.name);
    if (last !== undefined && sameKeys(last.keys, e.attributes)) {
      this.observeWith(last.stats, e.attributes);
      return last;
    }
    this.observeAttrs(this.enc.eventScope(e.name), e.attributes);
    return undefined;
  }

  /** Per event of the frame, in frame order: the head pass 1 found for it. */
  private readonly eventHint: (EventHead | undefined)[] = [];

  private observeAttrs(scope: string, attrs: readonly KeyValue[]): void {
    for (let i = 0; i < attrs.length; i++) this.observeOne(this.enc.keyStats(scope, attrs[i]!.key), attrs[i]!.value);
  }

  private observeWith(stats: readonly KeyStats[], attrs: readonly KeyValue[]): void {
    for (let i = 0; i < attrs.length; i++) this.observeOne(stats[i]!, attrs[i]!.value);
  }

  private observeOne(st: KeyStats, value: AnyValue): void {
    if (st.values === null || st.seen > STABLE_AFTER) return; // residual, or settled: no need to look at the value
    st.seen++;
    const vk = valueKey(value);
    if (vk === undefined) st.values = null;
    else this.enc.observe(st, vk);
  }

  /** The head node of a span (name, kind, flags, status, trace state, dropped counts, attribute shape). */
  private headPlan(span: Span, hint: HeadCandidate | undefined): HeadPlan {
    if (hint !== undefined && sameHead(hint, span)) return hint.plan;
    // Fast path: the span heads seen under this name, compared field by field (no key to build).
    const candidates = this.enc.headsByName.get(span.name);
    if (candidates !== undefined) {
      for (let c = 0; c < candidates.length; c++) {
        const h = candidates[c]!;
        if (sameHead(h, span)) return h.plan;
      }
    }
    const plan = this.headPlanSlow(span);
    let list = candidates;
    if (list === undefined) {
      list = [];
      this.enc.headsByName.set(span.name, list);
    }
    // A few recent heads per name are enough to hit almost always; the slow path is still exact.
    if (list.length >= 8) list.shift();
    list.push(headOf(span, plan, this.enc));
    return plan;
  }

  private headPlanSlow(span: Span): HeadPlan {
    const st = span.status;
    // Strings are length-prefixed in the key, so no content can make two heads collide.
    const head = `${span.name.length}:${span.name}${span.kind}:${span.flags}:${span.traceState.length}:${span.traceState}${st === undefined ? '-' : `${st.code}:${st.message.length}:${st.message}`}:${span.droppedAttributesCount}:${span.droppedEventsCount}:${span.droppedLinksCount}`;
    return this.planOf(head, span.name, span.attributes, span, undefined);
  }

  /**
   * The plan of a span head or (`span` undefined) an event head: `head` is everything its edge
   * carries, as text; each attribute's class comes from the key statistics of `scope`; the lookup key
   * is the head and the shape; the tree node is made on first sight.
   */
  private planOf(head: string, scope: string, attrs: readonly KeyValue[], span: Span | undefined, event: SpanEvent | undefined): HeadPlan {
    const enc = this.enc;
    let key = head;
    const classes: number[] = new Array(attrs.length);
    for (let i = 0; i < attrs.length; i++) {
      const kv = attrs[i]!;
      const stats = enc.keyStats(scope, kv.key);
      classes[i] = stats.values === null ? valueType(kv.value) : CLASS_TEMPLATE;
      key += `|${kv.key.length}:${kv.key}${classes[i]}`;
    }
    let plan = enc.plans.get(key);
    if (plan === undefined) {
      const node = enc.child(
        0,
        key,
        () => {
          if (span !== undefined) this.writeSpanEdge(span);
          else this.writeEventEdge(event!);
          this.writeShape(attrs, classes);
        },
        this,
        attrs.length,
      );
      plan = { node, templated: this.templatedOrder(scope, attrs, classes), classes, cols: this.residualColumns(attrs, classes) };
      enc.plans.set(key, plan);
    }
    return plan;
  }

  private writeSpanEdge(span: Span): void {
    const enc = this.enc;
    const w = this.newNodes;
    const st = span.status;
    w.uvar(EDGE_SPAN_HEAD);
    w.uvar(enc.stringId(span.name, this));
    w.svar(span.kind);
    w.uvar(span.flags >>> 0);
    w.uvar(enc.stringId(span.traceState, this));
    if (st === undefined) w.uvar(0);
    else {
      w.uvar(1);
      w.svar(st.code | 0);
      w.uvar(enc.stringId(st.message, this));
    }
    w.uvar(span.droppedAttributesCount);
    w.uvar(span.droppedEventsCount);
    w.uvar(span.droppedLinksCount);
  }

  private writeEventEdge(e: SpanEvent): void {
    const w = this.newNodes;
    w.uvar(EDGE_EVENT_HEAD);
    w.uvar(this.enc.stringId(e.name, this));
    w.uvar(e.droppedAttributesCount);
  }

  private writeShape(attrs: readonly KeyValue[], classes: number[]): void {
    const w = this.newNodes;
    w.uvar(attrs.length);
    for (let i = 0; i < attrs.length; i++) {
      w.uvar(this.enc.stringId(attrs[i]!.key, this));
      w.uvar(classes[i]!);
    }
  }

  /** Templated positions, lowest cardinality first, so the tree shares the longest prefixes. */
  private templatedOrder(scope: string, attrs: readonly KeyValue[], classes: number[]): number[] {
    const out: number[] = [];
    const card: number[] = [];
    for (let i = 0; i < attrs.length; i++) {
      if (classes[i] !== CLASS_TEMPLATE) continue;
      out.push(i);
      card[i] = this.enc.keyStats(scope, attrs[i]!.key).values?.size ?? Infinity;
    }
    out.sort((a, b) => card[a]! - card[b]! || a - b);
    return out;
  }

  // The lookup is kept apart from the creation of a node: a function that makes closures allocates
  // their context on every call, and this one runs for every template value of every span.
  private valueEdge(parent: number, position: number, v: AnyValue, width: number): number {
    if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'bigint') {
      const hit = this.enc.valueChild(parent, position, v);
      if (hit !== undefined) return hit;
    }
    return this.valueEdgeSlow(parent, position, v, width);
  }

  private valueEdgeSlow(parent: number, position: number, v: AnyValue, width: number): number {
    const direct = typeof v === 'string' || typeof v === 'boolean' || typeof v === 'bigint';
    const vk = valueKey(v)!;
    return this.enc.child(
      parent,
      `${position}\u0000${vk}`,
      () => {
        const sid = typeof v === 'string' ? this.enc.stringId(v, this) : 0;
        const w = this.newNodes;
        w.uvar(EDGE_VALUE);
        w.uvar(position);
        writeTypedValue(w, v, sid);
      },
      this,
      width,
      direct ? (id) => this.enc.setValueChild(parent, position, v, id) : undefined,
    );
  }

  /** The residual column of each residual position of a new plan (its keys are in the dictionary by now). */
  private residualColumns(attrs: readonly KeyValue[], classes: readonly number[]): (ResidualColumn | undefined)[] {
    const cols: (ResidualColumn | undefined)[] = new Array(classes.length);
    for (let i = 0; i < classes.length; i++) {
      const cls = classes[i]!;
      if (cls === CLASS_TEMPLATE) continue;
      const keyId = this.enc.stringId(attrs[i]!.key, this);
      const k = `${keyId}:${cls}`;
      let c = this.residuals.get(k);
      if (!c) {
        c = { keyId, cls, w: new ByteWriter(256), search: new RepeatSearch() };
        this.residuals.set(k, c);
        const list = this.residualList;
        let j = list.length;
        list.push(c);
        for (; j > 0 && (list[j - 1]!.keyId > keyId || (list[j - 1]!.keyId === keyId && list[j - 1]!.cls > cls)); j--) list[j] = list[j - 1]!;
        list[j] = c;
      }
      cols[i] = c;
    }
    return cols;
  }

  /**
   * Residual values of one attribute list; strings go through the span-context substitution (and,
   * for an event's attributes, the event's time).
   */
  private writeResiduals(plan: HeadPlan, attrs: readonly KeyValue[], span: Span, eventTime: bigint | undefined): void {
    const classes = plan.classes;
    const earlier = this.earlier;
    let nEarlier = 0;
    for (let i = 0; i < classes.length; i++) {
      const cls = classes[i]!;
      if (cls === CLASS_TEMPLATE) continue;
      const kv = attrs[i]!;
      const col = plan.cols[i]!;
      const w = col.w;
      if (cls === V_STRING) {
        const v = kv.value as string;
        if (v.length < 16) w.string(escapeNuls(v)); // substitution never pays below 16 characters
        else {
          const entry = this.spanEntry!;
          if (this.spanHexOf !== span) {
            this.spanHexOf = span;
            this.spanHex = hex(span.spanId);
          }
          substituteInto(w, v, (entry.hex ??= hex(entry.traceId)), this.spanHex, earlier, nEarlier, eventTime, col.search);
        }
        earlier[nEarlier++] = v;
      } else writeResidualValue(w, cls, kv.value);
    }
  }

  /** The trace entry of the span being written (its trace id's hex is kept there). */
  private spanEntry: TraceEntry | undefined;
  /** The hex of the span id of `spanHexOf`, made when a residual string first needs it. */
  private spanHexOf: Span | undefined;
  private spanHex = '';

  private writeEvent(e: SpanEvent, span: Span, hint: EventHead | undefined): void {
    const plan =
      hint !== undefined && hint.dropped === e.droppedAttributesCount && sameShape(hint.keys, hint.plan.classes, hint.stats, e.attributes) ? hint.plan : this.eventPlan(e);
    const attrs = e.attributes;
    let node = plan.node;
    for (let t = 0; t < plan.templated.length; t++) {
      const p = plan.templated[t]!;
      node = this.valueEdge(node, p, attrs[p]!.value, attrs.length);
    }
    this.cEvent.uvar(node);
    this.cEvent.svarBig(e.timeUnixNano - span.startTimeUnixNano);
    this.writeResiduals(plan, attrs, span, e.timeUnixNano);
  }

  /** The event head's plan: the last one seen for this event name when it still fits, else looked up. */
  private eventPlan(e: SpanEvent): HeadPlan {
    const last = this.enc.lastEventHead.get(e.name);
    if (last !== undefined && last.dropped === e.droppedAttributesCount && sameShape(last.keys, last.plan.classes, last.stats, e.attributes)) return last.plan;
    return this.eventPlanMiss(e, this.enc.eventScope(e.name));
  }

  /** The plan of an event that does not fit its name's last head (apart: it makes closures). */
  private eventPlanMiss(e: SpanEvent, scope: string): HeadPlan {
    const enc = this.enc;
    const plan = this.eventPlanSlow(e, scope);
    enc.lastEventHead.set(e.name, {
      plan,
      dropped: e.droppedAttributesCount,
      keys: e.attributes.map((kv) => kv.key),
      stats: e.attributes.map((kv) => enc.keyStats(scope, kv.key)),
    });
    return plan;
  }

  private eventPlanSlow(e: SpanEvent, scope: string): HeadPlan {
    return this.planOf(`E${e.name.length}:${e.name}${e.droppedAttributesCount}`, scope, e.attributes, undefined, e);
  }

  private assemble(base: bigint): Uint8Array {
    const residuals = this.residualList;
    let used = 0;
    // Sized once for all of it (10 bytes per length prefix and count at most).
    let size = 64 + this.newStrings.pos + this.newShells.pos + this.newNodes.pos + this.envelope.pos;
    for (let c = 0; c < this.columns.length; c++) size += 10 + this.columns[c]!.pos;
    for (let c = 0; c < residuals.length; c++) {
      const r = residuals[c]!;
      if (r.w.pos > 0) {
        size += 30 + r.w.pos;
        used++;
      }
    }
    // One payload writer for every frame: the payload is compressed or copied into the frame before
    // encode() returns, so nothing holds it afterwards.
    const out = this.payload;
    out.reset();
    out.ensure(size);
    // State updates.
    out.uvar(this.newStringCount);
    out.append(this.newStrings);
    out.uvar(this.newShellCount);
    out.append(this.newShells);
    out.uvar(this.newNodeCount);
    out.append(this.newNodes);
    // Envelope and base time.
    out.u64le(base);
    out.append(this.envelope);
    // Columns, each length-prefixed; then the residual columns this frame used.
    for (let c = 0; c < this.columns.length; c++) {
      const col = this.columns[c]!;
      out.uvar(col.pos);
      out.append(col);
    }
    out.uvar(used);
    for (let c = 0; c < residuals.length; c++) {
      const r = residuals[c]!;
      if (r.w.pos === 0) continue;
      out.uvar(r.keyId);
      out.uvar(r.cls);
      out.uvar(r.w.pos);
      out.append(r.w);
    }
    return out.finish();
  }
}

/**
 * Parent references and start bases of a frame's spans, parents first (visitParentsFirst). Apart
 * from build(): the closures would otherwise move build's per-span arrays into a heap context.
 */
function resolveParents(
  n: number,
  spans: readonly (Span | undefined)[],
  entryOf: readonly (TraceEntry | undefined)[],
  parentPos: Float64Array,
  parentRef: Float64Array,
  startBase: bigint[],
  base: bigint,
): void {
  visitParentsFirst(
    n,
    (i) => {
      const ppos = parentPos[i]!;
      const entry = entryOf[i]!;
      const nKept = entry.spans!.starts.length;
      return ppos >= nKept ? entry.frameSpans[ppos - nKept]! : -1;
    },
    (i, cycle) => {
      const span = spans[i]!;
      const entry = entryOf[i]!;
      const ppos = parentPos[i]!;
      if (span.parentSpanId.length === 0) {
        parentRef[i] = -2;
        startBase[i] = base;
      } else if (ppos < 0 || cycle) {
        parentRef[i] = -1; // unknown, or would close a cycle (duplicate ids): sent explicitly
        startBase[i] = base;
      } else {
        parentRef[i] = ppos;
        const starts = entry.spans!.starts;
        startBase[i] = ppos < starts.length ? starts[ppos]! : spans[entry.frameSpans[ppos - starts.length]!]!.startTimeUnixNano;
      }
    },
  );
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

/** A template value: type, then the value (strings by dictionary id). */
function writeTypedValue(w: ByteWriter, v: AnyValue, stringId: number): void {
  const t = valueType(v);
  w.uvar(t);
  switch (t) {
    case V_STRING:
      w.uvar(stringId);
      return;
    default:
      writeResidualValue(w, t, v);
  }
}

/** A value of a known type, inline (residual columns, and non-string template values). */
function writeResidualValue(w: ByteWriter, t: number, v: AnyValue): void {
  switch (t) {
    case V_STRING:
      w.string(v as string);
      return;
    case V_BOOL:
      w.byte(v ? 1 : 0);
      return;
    case V_INT:
      w.svarBig(v as bigint);
      return;
    case V_DOUBLE:
      w.f64(v as number);
      return;
    case V_BYTES:
      w.bytes(v as Uint8Array);
      return;
    default:
      w.bytes(anyValueBytes(v));
  }
}

function resourceShellBytes(rs: ResourceSpans): Uint8Array {
  return encodeTracesData({ resourceSpans: [{ resource: rs.resource, scopeSpans: [], schemaUrl: rs.schemaUrl, unknownFields: rs.unknownFields }] });
}

function scopeShellBytes(ss: ScopeSpans): Uint8Array {
  return encodeTracesData({
    resourceSpans: [{ resource: undefined, scopeSpans: [{ scope: ss.scope, spans: [], schemaUrl: ss.schemaUrl, unknownFields: ss.unknownFields }], schemaUrl: '' }],
  });
}

function rawSpanBytes(span: Span): Uint8Array {
  return readable(encodeTracesData({ resourceSpans: [{ resource: undefined, scopeSpans: [{ scope: undefined, spans: [span], schemaUrl: '' }], schemaUrl: '' }] }), 'a span');
}
