// Trace-mined structure (for spans the code does not explain, or when no source is available):
// learned from traffic, per parent operation, how often each child operation occurs under it. A
// child operation present under (nearly) every instance of its parent is implied by the parent, as
// code without a branch point would imply it; a child that only sometimes occurs reveals a branch.
// Also counts each span's path signature (its children's operations and its log code locations) so a
// rarely seen path of an operation can be told from the usual one.

export interface MinedStructureOptions {
  /** Parent instances needed before a child can be called implied (default 20). */
  minObservations?: number;
  /** Share of parent instances a child must appear under to be implied (default 0.98). */
  impliedShare?: number;
  /** Path signatures remembered per operation (default 256); more are counted as unseen. */
  maxSignatures?: number;
}

interface ParentStats {
  instances: number;
  /** child operation -> parent instances that had it. */
  children: Map<number, number>;
  signatures: Map<number, number>;
}

export class MinedStructure {
  private readonly parents = new Map<number, ParentStats>();
  private readonly minObservations: number;
  private readonly impliedShare: number;
  private readonly maxSignatures: number;

  constructor(options: MinedStructureOptions = {}) {
    this.minObservations = options.minObservations ?? 20;
    this.impliedShare = options.impliedShare ?? 0.98;
    this.maxSignatures = options.maxSignatures ?? 256;
  }

  get operations(): number {
    return this.parents.size;
  }

  /** Is `child` implied by `parent` in what has been seen so far? Unknown (too few observations) is false. */
  implied(parent: number, child: number): boolean {
    const p = this.parents.get(parent);
    if (!p || p.instances < this.minObservations) return false;
    return (p.children.get(child) ?? 0) >= this.impliedShare * p.instances;
  }

  /** Share of the operation's instances with this path signature (1 before `minObservations`). */
  signatureShare(op: number, signature: number): number {
    const p = this.parents.get(op);
    if (!p || p.instances < this.minObservations) return 1;
    return (p.signatures.get(signature) ?? 0) / p.instances;
  }

  /**
   * Records one span instance of `op` with its distinct child operations (`childOps[from..to)`,
   * sorted, duplicates allowed) and its path signature, counted with `signatureWeight` (a path
   * flagged as novel counts less, so a fault that repeats it does not make it usual within minutes).
   */
  observe(op: number, childOps: Int32Array, from: number, to: number, signature: number, signatureWeight = 1): void {
    let p = this.parents.get(op);
    if (!p) this.parents.set(op, (p = { instances: 0, children: new Map(), signatures: new Map() }));
    p.instances++;
    for (let k = from; k < to; k++) {
      const c = childOps[k]!;
      if (k > from && childOps[k - 1] === c) continue;
      p.children.set(c, (p.children.get(c) ?? 0) + 1);
    }
    const s = p.signatures.get(signature);
    if (s !== undefined) p.signatures.set(signature, s + signatureWeight);
    else if (p.signatures.size < this.maxSignatures) p.signatures.set(signature, signatureWeight);
  }
}
