// The traces a stream remembers across frames, identically on both sides: a move-to-front list of
// recent trace ids (a span names its trace by its position in the list, so the common case, the
// trace of the previous span, costs one byte), and per trace the most recent span ids with their
// start times (so a parent sent in an earlier frame is a short reference and a time base).
import { TRACE_RING_SIZE } from './format.js';

export interface KeptSpan {
  /** The span id as a map key (the encoder's; the decoder leaves it empty). */
  key: string;
  start: bigint;
  /** The span id itself (the decoder gives it to children in later frames). */
  id: Uint8Array;
}

export interface TraceEntry {
  key: string;
  traceId: Uint8Array;
  /** Decoder only: spans of earlier frames, oldest first (at most TRACE_SPANS_KEPT). */
  kept: KeptSpan[];
  /** Encoder only: the same spans, kept compactly, and their ids' ordinals. */
  spans: EncoderSpans | undefined;
  /** Indexes (into the current frame's span list) of this trace's spans in the current frame. */
  frameSpans: number[];
  /** The trace id in lower-case hex, made on first need (residual strings refer to it). */
  hex: string | undefined;
}

/**
 * An id as a map key: one UTF-16 unit per two bytes (cheaper than hex; lone surrogates are fine in
 * a key). The usual lengths (8 and 16 bytes) give 4 and 8 units; any other length ends with a unit
 * holding the length, padded so that it never has 4 or 8 units: keys of different ids never collide.
 */
export function idKey(id: Uint8Array): string {
  if (id.length === 8) return String.fromCharCode(id[0]! | (id[1]! << 8), id[2]! | (id[3]! << 8), id[4]! | (id[5]! << 8), id[6]! | (id[7]! << 8));
  if (id.length === 16) {
    return String.fromCharCode(
      id[0]! | (id[1]! << 8),
      id[2]! | (id[3]! << 8),
      id[4]! | (id[5]! << 8),
      id[6]! | (id[7]! << 8),
      id[8]! | (id[9]! << 8),
      id[10]! | (id[11]! << 8),
      id[12]! | (id[13]! << 8),
      id[14]! | (id[15]! << 8),
    );
  }
  let s = '';
  for (let i = 0; i < id.length; i += 2) s += String.fromCharCode(id[i]! | ((id[i + 1] ?? 0) << 8));
  if (s.length + 1 === 4 || s.length + 1 === 8) s += '\uffff';
  return s + String.fromCharCode(id.length);
}

const NO_ID = new Uint8Array(0);

/**
 * 30 bits of an 8-byte id, from all of its bytes (a small integer: a map key that costs no
 * allocation). Ids that share them are told apart by comparing all 8 bytes.
 */
export function idHash(id: Uint8Array, at = 0): number {
  const lo = id[at]! | (id[at + 1]! << 8) | (id[at + 2]! << 16) | (id[at + 3]! << 24);
  const hi = id[at + 4]! | (id[at + 5]! << 8) | (id[at + 6]! << 16) | (id[at + 7]! << 24);
  return (lo ^ Math.imul(hi, 0x9e3779b1)) & 0x3fffffff;
}

/**
 * The encoder's memory of one trace's spans: the start times and ids of the spans of earlier
 * frames (at most TRACE_SPANS_KEPT, oldest first), the current frame's, and the ordinal of each id
 * (its span's position among all the trace's spans; the newest span wins when ids repeat). Ids are
 * found by 30 of their bits and then compared in full; ids of a length other than 8 are found by
 * their key instead. Nothing here is an object per span: this is
 * what the encoder keeps for every span it sends, and it is what the garbage collector copies.
 */
export class EncoderSpans {
  /** Start times of the kept spans, oldest first. */
  readonly starts: bigint[] = [];
  /** Their ids, 8 bytes each (zeros for ids of other lengths, which `byKey` finds). */
  private ids = new Uint8Array(128);
  /** Spans dropped from the front so far: ordinal = trimmed + position. */
  trimmed = 0;
  /** This frame's spans of the trace, in frame order (reset by `commit`). */
  readonly frameIds: Uint8Array[] = [];
  readonly frameStarts: bigint[] = [];
  frameCount = 0;
  /**
   * The ordinal of each 8-byte id, by open addressing on 30 bits of it: pairs (hash, ordinal),
   * hash -1 for an empty slot, at most half full. A typed array rather than a Map: it grows by
   * doubling without a table object per step, and this is set for every span the encoder sends.
   */
  private slots = new Int32Array(32).fill(-1);
  private slotsUsed = 0;
  /** Ids of other lengths, by key. */
  private byKey: Map<string, number> | undefined;
  /** Kept ordinals whose id is not 8 bytes long, with its key (for forgetting them). */
  private oddKeys: Map<number, string> | undefined;

  /** Adds a span of the current frame (its ordinal is `trimmed + starts.length + frameCount`). */
  addFrameSpan(id: Uint8Array, start: bigint): void {
    this.frameIds[this.frameCount] = id;
    this.frameStarts[this.frameCount] = start;
    this.frameCount++;
  }

  /** True when the span at `ordinal` (kept or of this frame) has this 8-byte id. */
  private hasId(ordinal: number, id: Uint8Array): boolean {
    const p = ordinal - this.trimmed;
    const n = this.starts.length;
    if (p >= n) {
      const f = this.frameIds[p - n]!;
      if (f.length !== 8) return false;
      for (let j = 0; j < 8; j++) if (f[j] !== id[j]) return false;
      return true;
    }
    if (this.oddKeys?.has(ordinal)) return false;
    const ids = this.ids;
    const o = p * 8;
    for (let j = 0; j < 8; j++) if (ids[o + j] !== id[j]) return false;
    return true;
  }

  /** Records that `id` is now at `ordinal` (call in ordinal order: the newest span wins). */
  set(id: Uint8Array, ordinal: number): void {
    if (id.length !== 8) {
      (this.byKey ??= new Map()).set(idKey(id), ordinal);
      return;
    }
    const h = idHash(id);
    const i = this.slotOf(h, id);
    const slots = this.slots;
    slots[2 * i + 1] = ordinal;
    if (slots[2 * i] === -1) {
      slots[2 * i] = h;
      if (++this.slotsUsed * 2 > slots.length >> 1) this.growSlots();
    }
  }

  /** The ordinal of the newest span with this id, or undefined. */
  get(id: Uint8Array): number | undefined {
    if (id.length !== 8) return this.byKey?.get(idKey(id));
    const i = this.slotOf(idHash(id), id);
    return this.slots[2 * i] === -1 ? undefined : this.slots[2 * i + 1]!;
  }

  /** The slot holding this 8-byte id (hash `h`), or the empty slot where it would go. */
  private slotOf(h: number, id: Uint8Array): number {
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const sh = slots[2 * i]!;
      if (sh === -1 || (sh === h && this.hasId(slots[2 * i + 1]!, id))) return i;
    }
  }

  private growSlots(): void {
    const old = this.slots;
    const slots = new Int32Array(old.length * 2).fill(-1);
    const mask = (slots.length >> 1) - 1;
    for (let k = 0; k < old.length; k += 2) {
      const h = old[k]!;
      if (h === -1) continue;
      let i = h & mask;
      while (slots[2 * i] !== -1) i = (i + 1) & mask;
      slots[2 * i] = h;
      slots[2 * i + 1] = old[k + 1]!;
    }
    this.slots = slots;
  }

  /** Forgets the mapping (hash, ordinal) if the id still maps to that ordinal. */
  private unsetSlot(h: number, ordinal: number): void {
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    let i = h & mask;
    for (; ; i = (i + 1) & mask) {
      const sh = slots[2 * i]!;
      if (sh === -1) return;
      if (sh === h && slots[2 * i + 1] === ordinal) break;
    }
    // Deletion by moving later entries of the probe run back (no tombstones).
    this.slotsUsed--;
    for (;;) {
      slots[2 * i] = -1;
      let j = i;
      for (;;) {
        j = (j + 1) & mask;
        const sh = slots[2 * j]!;
        if (sh === -1) return;
        const home = sh & mask;
        // The entry at j stays when its home slot lies cyclically in (i, j].
        if (i <= j ? i < home && home <= j : i < home || home <= j) continue;
        slots[2 * i] = sh;
        slots[2 * i + 1] = slots[2 * j + 1]!;
        i = j;
        break;
      }
    }
  }

  /** Moves this frame's spans to the kept ones, then forgets the oldest beyond `max`. */
  commit(max: number): void {
    const n0 = this.starts.length;
    const add = this.frameCount;
    if ((n0 + add) * 8 > this.ids.length) {
      const bigger = new Uint8Array(Math.max((n0 + add) * 8, 2 * this.ids.length));
      bigger.set(this.ids.subarray(0, n0 * 8));
      this.ids = bigger;
    }
    for (let k = 0; k < add; k++) {
      const id = this.frameIds[k]!;
      this.starts.push(this.frameStarts[k]!);
      if (id.length === 8) this.ids.set(id, (n0 + k) * 8);
      else {
        this.ids.fill(0, (n0 + k) * 8, (n0 + k) * 8 + 8);
        (this.oddKeys ??= new Map()).set(this.trimmed + n0 + k, idKey(id));
      }
      this.frameIds[k] = NO_ID; // the caller's ids are not kept alive
    }
    this.frameCount = 0;
    const n = this.starts.length;
    if (n <= max) return;
    const drop = n - max;
    for (let k = 0; k < drop; k++) {
      const ordinal = this.trimmed + k;
      // A later span with the same id keeps its own ordinal: only a mapping to this one goes.
      const odd = this.oddKeys?.get(ordinal);
      if (odd !== undefined) {
        this.oddKeys!.delete(ordinal);
        if (this.byKey?.get(odd) === ordinal) this.byKey.delete(odd);
        continue;
      }
      this.unsetSlot(idHash(this.ids, k * 8), ordinal);
    }
    this.starts.splice(0, drop);
    this.ids.copyWithin(0, drop * 8, n * 8);
    this.trimmed += drop;
  }
}

export class TraceRing {
  private readonly list: TraceEntry[] = [];
  // A Map, not an object: trace keys are arbitrary byte strings.
  private readonly byKey = new Map<string, TraceEntry>();

  get size(): number {
    return this.list.length;
  }

  get(key: string): TraceEntry | undefined {
    return this.byKey.get(key);
  }

  /** The entry at a move-to-front position (0 = most recent), or undefined. */
  at(index: number): TraceEntry | undefined {
    return this.list[index];
  }

  /** Moves an entry to the front; returns the position it had. */
  touch(entry: TraceEntry): number {
    const list = this.list;
    if (list[0] === entry) return 0;
    const i = list.indexOf(entry);
    for (let k = i; k > 0; k--) list[k] = list[k - 1]!;
    list[0] = entry;
    this.journal?.push({ touched: i, added: undefined, replaced: undefined, popped: undefined, poppedMapped: false });
    return i;
  }

  /** Adds a new trace at the front, forgetting the least recent one when full. */
  add(key: string, traceId: Uint8Array): TraceEntry {
    const entry: TraceEntry = { key, traceId, kept: [], spans: undefined, frameSpans: [], hex: undefined };
    const replaced = this.byKey.get(key);
    this.list.unshift(entry);
    this.byKey.set(key, entry);
    let popped: TraceEntry | undefined;
    let poppedMapped = false;
    if (this.list.length > TRACE_RING_SIZE) {
      popped = this.list.pop()!;
      poppedMapped = this.byKey.get(popped.key) === popped;
      if (poppedMapped) this.byKey.delete(popped.key);
    }
    this.journal?.push({ touched: -1, added: entry, replaced, popped, poppedMapped });
    return entry;
  }

  /**
   * Starts recording changes, so that a frame that fails half way can be undone (`rollback`) at
   * the cost of what it changed, not of copying the ring. Entries' span lists are not recorded:
   * they change only once a frame can no longer fail.
   */
  begin(): void {
    this.journal = [];
  }

  commit(): void {
    this.journal = undefined;
  }

  rollback(): void {
    const journal = this.journal;
    this.journal = undefined;
    if (!journal) return;
    const list = this.list;
    for (let j = journal.length - 1; j >= 0; j--) {
      const op = journal[j]!;
      if (op.added === undefined) {
        const entry = list[0]!;
        for (let k = 0; k < op.touched; k++) list[k] = list[k + 1]!;
        list[op.touched] = entry;
      } else {
        list.shift();
        if (op.replaced !== undefined) this.byKey.set(op.added.key, op.replaced);
        else this.byKey.delete(op.added.key);
        if (op.popped !== undefined) {
          list.push(op.popped);
          if (op.poppedMapped) this.byKey.set(op.popped.key, op.popped);
        }
      }
    }
  }

  private journal: RingChange[] | undefined;
}

interface RingChange {
  /** A touch: the position the entry came from (added is undefined). */
  touched: number;
  /** An add: the new entry, the entry its key mapped to before, and what fell off the end. */
  added: TraceEntry | undefined;
  replaced: TraceEntry | undefined;
  popped: TraceEntry | undefined;
  poppedMapped: boolean;
}

let visitState = new Uint8Array(1024);
const visitStack: number[] = [];

/**
 * Visits the spans of a frame so that a span's parent in the same frame is visited before it (a
 * child's start is coded against its parent's, and an SDK exports children first). `parentOf(i)`
 * gives the frame index of span i's parent when it is in the frame, else -1; `visit(i, cycle)` is
 * called once per span, with `cycle` true when its parent cannot come first (its parent is itself
 * or one of its descendants). Encoder and decoder share it, so both order spans the same way.
 */
export function visitParentsFirst(n: number, parentOf: (i: number) => number, visit: (i: number, cycle: boolean) => void): void {
  // 0 todo, 1 waiting for its parent, 2 done (one array for every frame: calls never nest)
  if (visitState.length < n) visitState = new Uint8Array(Math.max(n, 2 * visitState.length));
  const state = visitState;
  state.fill(0, 0, n);
  const stack = visitStack;
  stack.length = 0;
  for (let i0 = 0; i0 < n; i0++) {
    if (state[i0] === 2) continue;
    stack.push(i0);
    while (stack.length > 0) {
      const i = stack[stack.length - 1]!;
      if (state[i] === 2) {
        stack.pop();
        continue;
      }
      const p = parentOf(i);
      if (p >= 0 && p !== i && state[p] === 0) {
        state[i] = 1;
        stack.push(p);
        continue;
      }
      visit(i, p >= 0 && (p === i || state[p] === 1));
      state[i] = 2;
      stack.pop();
    }
  }
}
