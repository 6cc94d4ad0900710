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
  /** Spans of earlier frames, oldest first (at most TRACE_SPANS_KEPT). */
  kept: KeptSpan[];
  /** Encoder only: span id key -> position (ordinal among the trace's spans, minus `trimmed`). */
  positions: Map<string, number> | undefined;
  /** Spans dropped from the front of `kept` so far: positions are ordinals minus this. */
  trimmed: number;
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
    const entry: TraceEntry = { key, traceId, kept: [], positions: undefined, trimmed: 0, frameSpans: [], hex: undefined };
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
