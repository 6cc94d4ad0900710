// Streaming robust statistics for latency anomaly scores: a sliding window of recent durations
// kept sorted (median in O(1), insert/evict by binary search and one shift of a typed array), and a
// sliding window of absolute deviations from the median for the MAD, as Autoscope's artifact does
// (100 durations, 500 deviations). Hand-written because it runs per span on the sampling hot path.

/** The buffer of a window that holds at most one value: none is allocated until the second. */
const NO_BUFFER = new Float64Array(0);

/** Buffers up to this many values (a window's room up to 64) come from WindowBuffers. */
const POOLED_MAX = 128;
/** Values per slab the pooled buffers are cut from (64 KB). */
const SLAB = 8192;

/**
 * Small window buffers cut from shared slabs, and given back when a window grows or its key is
 * forgotten, so the next window reuses them. A typed array of its own costs V8 an off-heap
 * allocation past 64 bytes (0.5-0.8 us each, measured); a view into a slab costs a tenth of that,
 * and most statistics windows grow through every small size (4 to 128 values) on new trace shapes.
 * One per ScoreTable: the buffers live as long as the table's windows.
 */
export class WindowBuffers {
  /** Free buffers by size class (log2 of their length). */
  private readonly free: Float64Array[][] = [];
  private slab = new Float64Array(0);
  private used = 0;

  /** A buffer of `length` values (a power of two up to POOLED_MAX), its contents undefined. */
  take(length: number): Float64Array {
    const list = this.free[31 - Math.clz32(length)];
    if (list !== undefined && list.length > 0) return list.pop()!;
    if (this.used + length > this.slab.length) {
      this.slab = new Float64Array(SLAB);
      this.used = 0;
    }
    // A view made by the constructor: subarray() looks up the species constructor first (4x slower, measured).
    const b = new Float64Array(this.slab.buffer, this.used * 8, length);
    this.used += length;
    return b;
  }

  give(buf: Float64Array): void {
    const c = 31 - Math.clz32(buf.length);
    (this.free[c] ??= []).push(buf);
  }
}

function checkCapacity(capacity: number): void {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`window capacity must be a positive integer, got ${capacity}`);
}

/** Are buffers of this length pooled (when the window has a pool)? */
const pooled = (length: number): boolean => length > 0 && length <= POOLED_MAX && (length & (length - 1)) === 0;

/** A new buffer of `length` values: from `pool` when it has that size, else of its own. */
function newBuffer(length: number, pool: WindowBuffers | undefined): Float64Array {
  return pool !== undefined && pooled(length) ? pool.take(length) : new Float64Array(length);
}

/**
 * Moves b[from, end) to start at `to` (ranges may overlap), as copyWithin does. Most moves here are
 * a few values (small windows, or neighbouring ranks in a full one), where a loop beats the builtin
 * call; long ones go to copyWithin (memmove).
 */
function shift(b: Float64Array, to: number, from: number, end: number): void {
  const n = end - from;
  if (n > 16) b.copyWithin(to, from, end);
  else if (to < from) for (let k = 0; k < n; k++) b[to + k] = b[from + k]!;
  else for (let k = n - 1; k >= 0; k--) b[to + k] = b[from + k]!;
}

/**
 * A sliding window of the last `capacity` numbers that keeps a sorted copy. Its buffer starts small
 * and doubles up to the capacity: statistics are kept per (trace shape, position), most keys see only
 * a few spans, and a full-size window per key would cost megabytes for nothing. The ring (arrival
 * order) and the sorted copy share one typed array, ring first: one allocation per window, not two,
 * since a key is created for most spans of a new shape. Until a second value arrives the window has
 * no buffer and holds its one value in `single`: on the benchmark's traffic 85% of the (shape,
 * position) keys never see a second span, and allocating typed arrays for them was the costliest
 * line of the statistics.
 */
export class SortedWindow {
  /** ring at [0, room), sorted copy at [room, 2 * room); NO_BUFFER (room 0) until a second value. */
  private buf: Float64Array = NO_BUFFER;
  private room = 0;
  private head = 0;
  private count = 0;
  /** The value while count is 1 and there is no buffer. */
  private single = 0;

  /** Where small buffers come from and go back to (none: each its own typed array). */
  private readonly pool: WindowBuffers | undefined;

  constructor(
    readonly capacity: number,
    pool?: WindowBuffers,
  ) {
    checkCapacity(capacity);
    this.pool = pool;
  }

  /** Gives the buffer back to the pool and empties the window: its key is forgotten. */
  release(): void {
    if (this.pool !== undefined && pooled(this.buf.length)) this.pool.give(this.buf);
    this.buf = NO_BUFFER;
    this.room = 0;
    this.count = 0;
    this.head = 0;
  }

  get size(): number {
    return this.count;
  }

  push(value: number): void {
    if (this.room === 0) {
      if (this.count === 0 && this.capacity > 1) {
        this.single = value;
        this.count = 1;
        this.head = 1;
        return;
      }
      // The first buffer, with the single value (if any) in both the ring and the sorted copy.
      this.room = Math.min(this.capacity, 2);
      this.buf = newBuffer(2 * this.room, this.pool);
      if (this.count === 1) this.buf[0] = this.buf[this.room] = this.single;
    }
    const buf = this.buf;
    if (this.count === this.capacity) {
      // Full: the oldest value leaves as this one enters. One shift of the values between where the
      // old one was and where the new one goes, not a removal and an insertion that each shift half
      // the window (2,000 values per call edge): the sorted copy ends up the same.
      const old = buf[this.head]!;
      const s = this.room;
      const from = this.lowerBound(old);
      // Where value goes once old is out: the values below it, less old when old is one of them.
      const to = this.lowerBound(value) - (old < value ? 1 : 0);
      if (to > from) shift(buf, s + from, s + from + 1, s + to + 1);
      else if (to < from) shift(buf, s + to + 1, s + to, s + from);
      buf[s + to] = value;
      buf[this.head] = value;
      this.head = (this.head + 1) % this.capacity;
      return;
    } else if (this.count === this.room) {
      // Not yet wrapped (the ring only wraps at full capacity), so the ring is in arrival order.
      const room = Math.min(this.capacity, this.room * 2);
      const grown = newBuffer(2 * room, this.pool);
      // By hand: two subarray views per growth were more garbage than the copy is work.
      const count = this.count;
      const from = this.room;
      for (let k = 0; k < count; k++) {
        grown[k] = buf[k]!;
        grown[room + k] = buf[from + k]!;
      }
      if (this.pool !== undefined && pooled(buf.length)) this.pool.give(buf);
      this.buf = grown;
      this.room = room;
    }
    const b = this.buf;
    const s = this.room;
    b[this.head] = value;
    this.head = (this.head + 1) % this.capacity;
    const at = this.lowerBound(value);
    shift(b, s + at + 1, s + at, s + this.count);
    b[s + at] = value;
    this.count++;
  }

  /** Median of the window (NaN when empty). */
  median(): number {
    const n = this.count;
    if (n === 0) return NaN;
    if (this.room === 0) return this.single;
    const m = this.room + (n >> 1);
    return n & 1 ? this.buf[m]! : (this.buf[m - 1]! + this.buf[m]!) / 2;
  }

  /** The q-quantile (0..1) by nearest rank (NaN when empty). */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    if (this.room === 0) return this.single;
    const i = Math.min(this.count - 1, Math.max(0, Math.ceil(q * this.count) - 1));
    return this.buf[this.room + i]!;
  }

  private lowerBound(v: number): number {
    const b = this.buf;
    const s = this.room;
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (b[s + mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export interface RobustScoreOptions {
  /** Durations in the median window (Autoscope: 100). */
  window?: number;
  /** Deviations in the MAD window (Autoscope: 500). */
  deviationWindow?: number;
  /** Where the windows' small buffers come from (a ScoreTable's: see WindowBuffers). */
  buffers?: WindowBuffers;
}

/**
 * (d - median) / MAD over a sliding window of the durations seen at one key. `score` reads the
 * statistics before `observe` adds the value, so a span is never compared with itself.
 *
 * The two windows are made at the second duration: until then the one duration seen (`first`)
 * is the median and the quantiles, and its deviation, 0, the MAD. Most of Autoscope's keys (the
 * positions of a trace shape) never see a second span, and each outlives many collections before
 * it is forgotten: two window objects per key were most of what the statistics kept in memory.
 */
export class RobustScore {
  private values: SortedWindow | undefined = undefined;
  private deviations: SortedWindow | undefined = undefined;
  /** Durations seen while there are no windows: 0, or 1 (then it is `first`). */
  private early = 0;
  private first = 0;
  private readonly options: RobustScoreOptions;

  /** `options` is kept, not copied: one object may serve every score of a table. */
  constructor(options: RobustScoreOptions = {}) {
    checkCapacity(options.window ?? 100);
    checkCapacity(options.deviationWindow ?? 500);
    this.options = options;
  }

  /** Gives the windows' buffers back to their pool (the statistics are forgotten; empty after). */
  release(): void {
    this.values?.release();
    this.deviations?.release();
    this.values = this.deviations = undefined;
    this.early = 0;
  }

  get count(): number {
    return this.values === undefined ? this.early : this.values.size;
  }

  median(): number {
    if (this.values === undefined) return this.early === 0 ? NaN : this.first;
    return this.values.median();
  }

  /** The q-quantile of the duration window (NaN when empty). */
  quantile(q: number): number {
    if (this.values === undefined) return this.early === 0 ? NaN : this.first;
    return this.values.quantile(q);
  }

  mad(): number {
    if (this.deviations === undefined) return this.early === 0 ? NaN : Math.abs(this.first - this.first);
    return this.deviations.median();
  }

  /**
   * The robust z-score of `d`. `madFloor` replaces a MAD below it (Autoscope's artifact returns 0
   * when MAD is 0; with a floor a constant-latency operation that suddenly slows still scores high).
   */
  score(d: number, madFloor = 0): number {
    if (this.count === 0) return 0;
    const med = this.median();
    let mad = this.mad();
    if (mad < madFloor) mad = madFloor;
    if (!(mad > 0)) return 0;
    return (d - med) / mad;
  }

  observe(d: number): void {
    if (this.values === undefined) {
      if (this.early === 0) {
        this.first = d;
        this.early = 1;
        return;
      }
      // The second duration: the windows, holding what observe(first) would have put in them.
      const { window = 100, deviationWindow = 500, buffers } = this.options;
      this.values = new SortedWindow(window, buffers);
      this.deviations = new SortedWindow(deviationWindow, buffers);
      this.values.push(this.first);
      this.deviations.push(Math.abs(this.first - this.first));
    }
    const med = this.values.median();
    this.values.push(d);
    this.deviations!.push(Math.abs(d - med));
  }
}

/**
 * RobustScores by number key in insertion order, the oldest forgotten first: what a
 * `Map<number, RobustScore>` with `delete(keys().next().value)` at a size bound does, hand-written
 * for Autoscope's statistics (a lookup per span for each of two keys, shape x position and call
 * edge). Their keys are integers beyond V8's small integers, so every Map lookup boxed its key into
 * a heap number and hashed it; here a key stays a double in a typed array. Which keys are forgotten
 * at the bound decides later scores, so the order is exactly the Map's (insertion; a `set` of a
 * present key keeps its place). Keys are compared with `===` (finite numbers; NaN is never found).
 */
export class ScoreTable {
  /** The small buffers of this table's windows: a forgotten key's go back here (RobustScoreOptions.buffers). */
  readonly buffers = new WindowBuffers();
  /** Entries in insertion order, a ring from `head` of `count` entries: their keys and values. */
  private entryKey = new Float64Array(16);
  private entryValue: (RobustScore | undefined)[] = new Array<RobustScore | undefined>(16).fill(undefined);
  private head = 0;
  private count = 0;
  /** Open addressing with linear probing: slot -> ring position + 1 (0: empty); twice the ring's size. */
  private slots = new Int32Array(32);

  get size(): number {
    return this.count;
  }

  get(key: number): RobustScore | undefined {
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let h = hashKey(key) & mask; ; h = (h + 1) & mask) {
      const e = slots[h]!;
      if (e === 0) return undefined;
      if (this.entryKey[e - 1] === key) return this.entryValue[e - 1];
    }
  }

  set(key: number, value: RobustScore): void {
    const mask = this.slots.length - 1;
    for (let h = hashKey(key) & mask; ; h = (h + 1) & mask) {
      const e = this.slots[h]!;
      if (e === 0) break;
      if (this.entryKey[e - 1] === key) {
        this.entryValue[e - 1] = value;
        return;
      }
    }
    if (this.count === this.entryKey.length) this.grow();
    const ringMask = this.entryKey.length - 1;
    const at = (this.head + this.count) & ringMask;
    this.entryKey[at] = key;
    this.entryValue[at] = value;
    this.count++;
    this.place(key, at);
  }

  /** Forgets the oldest key (nothing when empty). */
  deleteOldest(): void {
    if (this.count === 0) return;
    const at = this.head;
    const slots = this.slots;
    const mask = slots.length - 1;
    let h = hashKey(this.entryKey[at]!) & mask;
    while (slots[h] !== at + 1) h = (h + 1) & mask;
    // Backward-shift deletion: later entries of the probe run move up into the hole, so lookups
    // never need tombstones.
    for (let next = (h + 1) & mask; slots[next] !== 0; next = (next + 1) & mask) {
      const e = slots[next]!;
      const home = hashKey(this.entryKey[e - 1]!) & mask;
      // The entry may fill the hole when its home is not in (h, next] (cyclically).
      if (h <= next ? home <= h || home > next : home <= h && home > next) {
        slots[h] = e;
        h = next;
      }
    }
    slots[h] = 0;
    this.entryValue[at]!.release();
    this.entryValue[at] = undefined;
    this.head = (at + 1) & (this.entryKey.length - 1);
    this.count--;
  }

  private place(key: number, at: number): void {
    const slots = this.slots;
    const mask = slots.length - 1;
    let h = hashKey(key) & mask;
    while (slots[h] !== 0) h = (h + 1) & mask;
    slots[h] = at + 1;
  }

  /** Doubles the ring (its entries to the front, in order) and rebuilds the slots for it. */
  private grow(): void {
    const n = this.entryKey.length;
    const keys = new Float64Array(2 * n);
    const values = new Array<RobustScore | undefined>(2 * n).fill(undefined);
    for (let k = 0; k < this.count; k++) {
      const from = (this.head + k) & (n - 1);
      keys[k] = this.entryKey[from]!;
      values[k] = this.entryValue[from];
    }
    this.entryKey = keys;
    this.entryValue = values;
    this.head = 0;
    this.slots = new Int32Array(4 * n);
    for (let k = 0; k < this.count; k++) this.place(keys[k]!, k);
  }
}

/** A 32-bit hash of a number key from its low and high 32-bit words (integers up to 2^53 exactly). */
function hashKey(key: number): number {
  const lo = key >>> 0;
  const hi = (key / 4294967296) >>> 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
