// A hash table keyed by pairs of 32-bit integers, emptied in O(1) and reused from trace to trace:
// Autoscope's per-trace lookups ((parent DSS, operation) -> DSS, the summaries the controller has
// priced) were a Map or Set per trace, whose tables were reallocated as they grew (and again at each
// clear()), a good part of the decision's garbage. Open addressing with linear probing; a slot
// belongs to the current use when its stamp is the current generation.

export class PairTable {
  private first = new Int32Array(64);
  private second = new Int32Array(64);
  private values = new Int32Array(64);
  /** Slot -> the generation that filled it; other generations' slots are empty. */
  private stamps = new Uint32Array(64);
  private generation = 1;
  private count = 0;

  /** Empties the table (its memory is kept). */
  clear(): void {
    this.count = 0;
    if (++this.generation === 0xffffffff) {
      this.stamps.fill(0);
      this.generation = 1;
    }
  }

  /** The value of (x, y), or -1 when absent. */
  get(x: number, y: number): number {
    const mask = this.stamps.length - 1;
    for (let h = hashPair(x, y) & mask; ; h = (h + 1) & mask) {
      if (this.stamps[h] !== this.generation) return -1;
      if (this.first[h] === x && this.second[h] === y) return this.values[h]!;
    }
  }

  /** Sets (x, y) to `value` (a non-negative int32: -1 means absent to get). */
  set(x: number, y: number, value: number): void {
    const mask = this.stamps.length - 1;
    let h = hashPair(x, y) & mask;
    for (; this.stamps[h] === this.generation; h = (h + 1) & mask) {
      if (this.first[h] === x && this.second[h] === y) {
        this.values[h] = value;
        return;
      }
    }
    this.stamps[h] = this.generation;
    this.first[h] = x;
    this.second[h] = y;
    this.values[h] = value;
    // At most half full, so probe runs stay short and a lookup always meets an empty slot.
    if (++this.count * 2 > this.stamps.length) this.grow();
  }

  /** Adds (x, y) (value 0); true when it was absent, as `Set.add` after `Set.has` would tell. */
  add(x: number, y: number): boolean {
    if (this.get(x, y) >= 0) return false;
    this.set(x, y, 0);
    return true;
  }

  private grow(): void {
    const { first, second, values, stamps, generation } = this;
    const size = 2 * stamps.length;
    this.first = new Int32Array(size);
    this.second = new Int32Array(size);
    this.values = new Int32Array(size);
    this.stamps = new Uint32Array(size);
    this.generation = 1;
    const mask = size - 1;
    for (let s = 0; s < stamps.length; s++) {
      if (stamps[s] !== generation) continue;
      let h = hashPair(first[s]!, second[s]!) & mask;
      while (this.stamps[h] === 1) h = (h + 1) & mask;
      this.stamps[h] = 1;
      this.first[h] = first[s]!;
      this.second[h] = second[s]!;
      this.values[h] = values[s]!;
    }
  }
}

function hashPair(x: number, y: number): number {
  let h = Math.imul(x ^ Math.imul(y, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
