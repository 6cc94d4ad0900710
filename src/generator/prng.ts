// The generator's seeded random numbers. Math.random cannot be seeded, and the generator's promise is
// "same seed, byte-identical spans", so every draw goes through this xoshiro128** (32-bit words, so it
// runs on Math.imul without BigInt), seeded through splitmix32 so that nearby seeds give unrelated
// streams. Hot path: several draws per span.

/** FNV-1a of a string, so a seed may be a word ("demo") as well as a number. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  // Box-Muller makes normals in pairs; the second waits here for the next call.
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number | string) {
    // Fold every bit of a number seed (beyond 32 bits too) into two words before expanding them.
    let lo: number;
    let hi: number;
    if (typeof seed === 'string') {
      lo = hashString(seed);
      hi = hashString(`${seed}#`);
    } else {
      const n = Number.isFinite(seed) ? Math.trunc(seed) : 0;
      lo = n >>> 0;
      hi = Math.floor(n / 4294967296) >>> 0;
    }
    let x = (lo ^ Math.imul(hi, 0x9e3779b1)) >>> 0;
    const next = (): number => {
      // splitmix32
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next() ^ hi;
    // An all-zero state would stay zero forever.
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** A uniform 32-bit unsigned integer (xoshiro128**). */
  nextU32(): number {
    const b = this.b;
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    this.c ^= this.a;
    this.d ^= b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  float(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [min, max], both ends included. */
  intBetween(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** Standard normal deviate. */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const u = 1 - this.float(); // (0, 1]: log(0) would be -Infinity
    const v = this.float();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    this.hasSpare = true;
    return r * Math.cos(2 * Math.PI * v);
  }

  /** exp(mu + sigma·N(0,1)): a log-normal deviate whose median is exp(mu). */
  logNormal(mu: number, sigma: number): number {
    return Math.exp(mu + sigma * this.normal());
  }

  /** Exponential deviate with the given mean (Poisson-process inter-arrival times). */
  exponential(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }

  /** Fills `out` with random bytes, four per draw. */
  fill(out: Uint8Array): Uint8Array {
    let i = 0;
    for (; i + 4 <= out.length; i += 4) {
      const r = this.nextU32();
      out[i] = r >>> 24;
      out[i + 1] = r >>> 16;
      out[i + 2] = r >>> 8;
      out[i + 3] = r;
    }
    if (i < out.length) {
      let r = this.nextU32();
      for (; i < out.length; i++, r >>>= 8) out[i] = r;
    }
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A seed derived from a base seed and a label, for independent sub-streams. */
export function deriveSeed(seed: number | string, label: string): string {
  return `${typeof seed === 'string' ? seed : String(seed)}/${label}`;
}
