// The traces a stream remembers across frames, identically on both sides: a move-to-front list of
// recent trace ids (a span names its trace by its position in the list, so the common case, the
// trace of the previous span, costs one byte), and per trace the most recent span ids with their
// start times (so a parent sent in an earlier frame is a short reference and a time base).
import { TRACE_RING_SIZE } from './format.js';

export interface KeptSpan {
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
    return i;
  }

  /**
   * What `restore` needs to undo a frame that failed half way: the list order. The key map is
   * rebuilt from it, and entries' span lists are only changed once a frame can no longer fail.
   */
  snapshot(): TraceEntry[] {
    return this.list.slice();
  }

  restore(list: TraceEntry[]): void {
    this.list.length = 0;
    this.list.push(...list);
    this.byKey.clear();
    for (let i = list.length - 1; i >= 0; i--) this.byKey.set(list[i]!.key, list[i]!);
  }

  /** Adds a new trace at the front, forgetting the least recent one when full. */
  add(key: string, traceId: Uint8Array): TraceEntry {
    const entry: TraceEntry = { key, traceId, kept: [], positions: undefined, trimmed: 0, frameSpans: [] };
    this.list.unshift(entry);
    this.byKey.set(key, entry);
    if (this.list.length > TRACE_RING_SIZE) {
      const gone = this.list.pop()!;
      if (this.byKey.get(gone.key) === gone) this.byKey.delete(gone.key);
    }
    return entry;
  }
}

/**
 * Visits the spans of a frame so that a span's parent in the same frame is visited before it (a
 * child's start is coded against its parent's, and an SDK exports children first). `parentOf(i)`
 * gives the frame index of span i's parent when it is in the frame, else -1; `visit(i, cycle)` is
 * called once per span, with `cycle` true when its parent cannot come first (its parent is itself
 * or one of its descendants). Encoder and decoder share it, so both order spans the same way.
 */
export function visitParentsFirst(n: number, parentOf: (i: number) => number, visit: (i: number, cycle: boolean) => void): void {
  const state = new Uint8Array(n); // 0 todo, 1 waiting for its parent, 2 done
  const stack: number[] = [];
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
