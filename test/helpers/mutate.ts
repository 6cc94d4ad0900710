// Fuzz inputs for protobuf decoders: a deterministic corpus of small valid OTLP requests and
// strategies that damage them (truncation at every offset, bit flips, byte edits, splices, huge
// lengths, over-long varints, field number 0, wire types 6/7, groups, nesting far beyond any sane
// depth) or make bytes from scratch. Every case is a pure function of (strategy, index), so a
// failing or hanging case can be regenerated from its two numbers.
import type { TracesData } from '../../src/model/index.js';
import { Rng, arbitraryTracesData, mixSeed, type MessageName } from './arbitrary.js';
import { edgeCaseTracesData, unknownFieldsEverywhere } from './edge-cases.js';
import {
  allLenFields,
  concatBytes,
  fieldGroup,
  fieldLen,
  fieldString,
  fieldVarint,
  knownSpec,
  paddedVarintBytes,
  parseRawFields,
  rewriteMessage,
  tagBytes,
  varintBytes,
} from './wire.js';

export const FUZZ_SEED = 0x5eed0001;

/**
 * The corpus: small valid requests in several layouts. `encode` is the encoder to use for the model
 * messages (the codec under test; any correct encoder would do).
 */
export function buildCorpus(encode: (d: TracesData) => Uint8Array): Uint8Array[] {
  const rng = new Rng(FUZZ_SEED);
  const out: Uint8Array[] = [];
  const small = { maxResourceSpans: 2, maxScopeSpans: 2, maxSpans: 2, maxAttributes: 3, maxEvents: 1, maxLinks: 1, maxDepth: 3, unknownFieldRate: 0.25 };
  for (let seed = 1; out.length < 48; seed++) {
    const b = encode(arbitraryTracesData(seed * 7 + 3, small));
    if (b.length < 8 || b.length > 700) continue;
    out.push(b);
    if (seed % 3 === 0) out.push(rewriteMessage(b, 'TracesData', rng, { reorder: true, split: 0.4, decoy: 0.4, explicitDefault: 0.3, pad: 0.3 }));
  }
  out.push(encode(unknownFieldsEverywhere()));
  for (const { name, data } of edgeCaseTracesData()) if (name.startsWith('empty') || name.includes('present but empty')) out.push(encode(data));
  // Hand-made: groups in unknown fields, a known field number arriving as a group.
  const span = (content: Uint8Array): Uint8Array => fieldLen(1, fieldLen(2, fieldLen(2, content)));
  out.push(span(concatBytes(fieldString(5, 'g'), fieldGroup(100, concatBytes(fieldVarint(1, 5), fieldGroup(2, fieldString(3, 'x')))))));
  out.push(span(concatBytes(fieldGroup(9, fieldString(1, 'k')), fieldString(5, 'known-as-group'))));
  return out;
}

export interface FuzzCase {
  strategy: string;
  index: number;
  bytes: Uint8Array;
}

interface Strategy {
  name: string;
  count: (corpus: Uint8Array[]) => number;
  make: (corpus: Uint8Array[], rng: Rng, index: number) => Uint8Array;
}

// ------------------------------------------------------------------------------------------------
// Building blocks
// ------------------------------------------------------------------------------------------------

function copyOf(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

/**
 * Inserts `payload` at a field boundary of a random message inside `bytes` (of type `msg`), fixing
 * the lengths of the enclosing messages so that the payload really sits in that message.
 */
export function injectField(bytes: Uint8Array, msg: MessageName, rng: Rng, payload: Uint8Array): Uint8Array {
  const fields = parseRawFields(bytes);
  if (!fields) return concatBytes(bytes, payload);
  const nested = fields.filter((f) => knownSpec(msg, f)?.type === 'message');
  if (nested.length > 0 && rng.bool(0.65)) {
    const f = rng.pick(nested);
    const spec = knownSpec(msg, f)!;
    const inner = injectField(bytes.subarray(f.valueStart, f.valueEnd), spec.msg!, rng, payload);
    return concatBytes(bytes.subarray(0, f.start), fieldLen(f.no, inner), bytes.subarray(f.end));
  }
  const at = rng.pick([...fields.map((f) => f.start), bytes.length]);
  return concatBytes(bytes.subarray(0, at), payload, bytes.subarray(at));
}

/** An 11-byte varint (one too many), or a 10-byte one whose last byte overflows 64 bits. */
function overlongVarint(rng: Rng): Uint8Array {
  if (rng.bool()) return Uint8Array.of(...new Array(10).fill(0x80 | rng.int(128)), rng.int(128));
  return Uint8Array.of(...new Array(9).fill(0xff), rng.range(2, 127));
}

/** Protobuf-shaped noise: fields with plausible and implausible numbers and wire types. */
function noise(rng: Rng, depth: number, budget: { n: number }): Uint8Array {
  const parts: Uint8Array[] = [];
  const count = rng.int(6);
  for (let i = 0; i < count && budget.n > 0; i++) {
    budget.n--;
    const no = rng.pick([0, 1, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 16, 17, 100, 536870911, 536870912, rng.int(1 << 29)]);
    const wt = rng.bool(0.85) ? rng.pick([0, 1, 2, 2, 2, 5]) : rng.int(8);
    parts.push(varintBytes(BigInt(no) * 8n + BigInt(wt)));
    switch (wt) {
      case 0:
        parts.push(rng.bool(0.9) ? varintBytes(rng.u64() >> BigInt(rng.int(64))) : overlongVarint(rng));
        break;
      case 1:
        parts.push(rng.bytes(rng.bool(0.9) ? 8 : rng.int(8)));
        break;
      case 5:
        parts.push(rng.bytes(rng.bool(0.9) ? 4 : rng.int(4)));
        break;
      case 2: {
        const payload = depth < 8 && rng.bool(0.6) ? noise(rng, depth + 1, budget) : rng.bytes(rng.int(12));
        const len = rng.bool(0.85) ? payload.length : Math.max(0, payload.length + rng.range(-3, 3));
        parts.push(varintBytes(len), payload);
        break;
      }
      case 3:
        if (depth < 8 && rng.bool(0.7)) parts.push(noise(rng, depth + 1, budget), varintBytes(BigInt(no) * 8n + 4n));
        break;
      default:
        parts.push(rng.bytes(rng.int(4)));
    }
  }
  return concatBytes(...parts);
}

/** `AnyValue` content nested `depth` times (arrays, kvlists or alternating) around a leaf. */
export function deepAnyValue(depth: number, shape: 'array' | 'kvlist' | 'mixed', leaf: Uint8Array = fieldString(1, 'leaf')): Uint8Array {
  // Build from the inside out with exact lengths, writing into one buffer back to front.
  const chunks: Uint8Array[] = [leaf];
  let size = leaf.length;
  const prefixes: Uint8Array[] = [];
  for (let i = 0; i < depth; i++) {
    const kind = shape === 'mixed' ? (i % 2 === 0 ? 'array' : 'kvlist') : shape;
    if (kind === 'array') {
      // AnyValue{ array_value(5) { values(1) { <inner AnyValue> } } }
      const v = concatBytes(tagBytes(1, 2), varintBytes(size));
      const arr = concatBytes(tagBytes(5, 2), varintBytes(v.length + size), v);
      prefixes.push(arr);
      size += arr.length;
    } else {
      // AnyValue{ kvlist_value(6) { values(1) { KeyValue{ key(1) "k", value(2) { <inner> } } } } }
      const key = fieldString(1, 'k');
      const val = concatBytes(tagBytes(2, 2), varintBytes(size));
      const kvLen = key.length + val.length + size;
      const kvHead = concatBytes(tagBytes(1, 2), varintBytes(kvLen), key, val);
      const listHead = concatBytes(tagBytes(6, 2), varintBytes(kvHead.length + size));
      const both = concatBytes(listHead, kvHead);
      prefixes.push(both);
      size += both.length;
    }
  }
  const out = new Uint8Array(size);
  let o = 0;
  for (let i = prefixes.length - 1; i >= 0; i--) {
    out.set(prefixes[i]!, o);
    o += prefixes[i]!.length;
  }
  out.set(chunks[0]!, o);
  return out;
}

export function requestWithValue(anyValueContent: Uint8Array): Uint8Array {
  return fieldLen(1, fieldLen(2, fieldLen(2, fieldLen(9, concatBytes(fieldString(1, 'deep'), fieldLen(2, anyValueContent))))));
}

function deepGroups(depth: number, no = 100): Uint8Array {
  const open = tagBytes(no, 3);
  const close = tagBytes(no, 4);
  const out = new Uint8Array(depth * (open.length + close.length));
  for (let i = 0; i < depth; i++) out.set(open, i * open.length);
  for (let i = 0; i < depth; i++) out.set(close, depth * open.length + i * close.length);
  return out;
}

/** Unknown LEN fields nested inside each other (opaque bytes to a decoder: no recursion needed). */
function deepOpaque(depth: number): Uint8Array {
  let b: Uint8Array = fieldVarint(1, 1);
  for (let i = 0; i < depth; i++) b = fieldLen(100, b);
  return b;
}

const DEEP_CASES: Array<() => Uint8Array> = [
  ...[20, 64, 98, 99, 100, 101, 102, 150, 1000, 10_000, 100_000].map((d) => () => requestWithValue(deepAnyValue(d, 'array'))),
  ...[20, 33, 34, 50, 99, 100, 101, 1000, 50_000].map((d) => () => requestWithValue(deepAnyValue(d, 'kvlist'))),
  ...[101, 100_000].map((d) => () => requestWithValue(deepAnyValue(d, 'mixed'))),
  // Deep and then broken: the innermost value is truncated garbage.
  () => requestWithValue(deepAnyValue(10_000, 'array', Uint8Array.of(0x0a, 0x7f))),
  () => requestWithValue(deepAnyValue(50, 'array', Uint8Array.of(0x0a, 0x7f))),
  // Groups nested in an unknown field of a Span, shallow and absurd.
  ...[10, 99, 100, 101, 1000, 100_000].map((d) => () => fieldLen(1, fieldLen(2, fieldLen(2, deepGroups(d))))),
  () => deepGroups(100_000, 7),
  () => concatBytes(...Array.from({ length: 100_000 }, () => tagBytes(100, 3))),
  () => fieldLen(1, fieldLen(2, fieldLen(2, deepOpaque(2000)))),
];

const HUGE_LENGTHS: bigint[] = [2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 32n + 1n, 2n ** 35n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];

// ------------------------------------------------------------------------------------------------
// Strategies
// ------------------------------------------------------------------------------------------------

export const STRATEGIES: Strategy[] = [
  {
    name: 'truncate at every offset',
    count: (c) => c.reduce((n, b) => n + b.length, 0),
    make: (c, _rng, index) => {
      let i = index;
      for (const b of c) {
        if (i < b.length) return b.subarray(0, i);
        i -= b.length;
      }
      throw new Error('index out of range');
    },
  },
  {
    name: 'bit flips',
    count: () => 80_000,
    make: (c, rng) => {
      const b = copyOf(rng.pick(c));
      if (b.length === 0) return b;
      const flips = rng.range(1, 4);
      for (let i = 0; i < flips; i++) {
        const p = rng.int(b.length);
        b[p]! ^= 1 << rng.int(8);
      }
      return b;
    },
  },
  {
    name: 'byte edits (insert, delete, overwrite, duplicate, swap)',
    count: () => 60_000,
    make: (c, rng) => {
      let b = copyOf(rng.pick(c));
      const ops = rng.range(1, 3);
      for (let k = 0; k < ops; k++) {
        const p = rng.int(b.length + 1);
        switch (rng.int(5)) {
          case 0:
            b = concatBytes(b.subarray(0, p), rng.bytes(rng.range(1, 4)), b.subarray(p));
            break;
          case 1:
            b = concatBytes(b.subarray(0, p), b.subarray(Math.min(b.length, p + rng.range(1, 8))));
            break;
          case 2:
            if (p < b.length) b[p] = rng.pick([0x00, 0xff, 0x80, 0x7f, 0x01, 0x0a, 0x12, 0x08, rng.int(256)]);
            break;
          case 3: {
            const q = rng.int(b.length + 1);
            const [lo, hi] = p < q ? [p, q] : [q, p];
            b = concatBytes(b.subarray(0, hi), b.subarray(lo, Math.min(hi, lo + 64)), b.subarray(hi));
            break;
          }
          default: {
            const q = rng.int(b.length + 1);
            const [lo, hi] = p < q ? [p, q] : [q, p];
            const mid = lo + Math.floor((hi - lo) / 2);
            b = concatBytes(b.subarray(0, lo), b.subarray(mid, hi), b.subarray(lo, mid), b.subarray(hi));
          }
        }
      }
      return b;
    },
  },
  {
    name: 'splices of two messages',
    count: () => 15_000,
    make: (c, rng) => {
      const a = rng.pick(c);
      const b = rng.pick(c);
      return concatBytes(a.subarray(0, rng.int(a.length + 1)), b.subarray(rng.int(b.length + 1)));
    },
  },
  {
    name: 'random garbage',
    count: () => 20_000,
    make: (_c, rng) => {
      const n = rng.bool(0.7) ? rng.int(64) : rng.int(1024);
      if (rng.bool(0.1)) return new Uint8Array(n).fill(rng.pick([0x00, 0xff, 0x80, 0x0a, 0x12]));
      return rng.bytes(n);
    },
  },
  {
    name: 'protobuf-shaped noise',
    count: () => 30_000,
    make: (_c, rng) => noise(rng, 0, { n: 200 }),
  },
  {
    name: 'length fields made huge (or off by a little)',
    count: () => 20_000,
    make: (c, rng) => {
      const b = rng.pick(c);
      const lens = allLenFields(b, 'TracesData');
      if (lens.length === 0) return b;
      const f = rng.pick(lens);
      let len: Uint8Array;
      const r = rng.int(10);
      const remaining = b.length - f.valueStart;
      if (r < 5) len = varintBytes(rng.pick(HUGE_LENGTHS));
      else if (r < 7) len = varintBytes(remaining + rng.range(1, 1000));
      else if (r < 9) len = varintBytes(Math.max(0, f.valueEnd - f.valueStart + rng.pick([-3, -2, -1, 1, 2, 3])));
      else len = overlongVarint(rng);
      return concatBytes(b.subarray(0, f.lengthStart), len, b.subarray(f.valueStart));
    },
  },
  {
    name: 'over-long varints (tag, value, length)',
    count: () => 10_000,
    make: (c, rng) => {
      const b = rng.pick(c);
      const v = overlongVarint(rng);
      const payload = rng.pick([
        () => v, // as a tag
        () => concatBytes(tagBytes(6, 0), v), // Span.kind / AnyValue.bool etc. depending on the message
        () => concatBytes(tagBytes(3, 0), v),
        () => concatBytes(tagBytes(100, 0), v), // unknown varint field
        () => concatBytes(tagBytes(rng.pick([1, 2, 5, 100]), 2), v), // as a length
        () => concatBytes(tagBytes(2, 0), paddedVarintBytes(1, 10)), // 10 bytes: legal
      ])();
      return injectField(b, 'TracesData', rng, payload);
    },
  },
  {
    name: 'bad tags: field 0, wire types 6/7, groups',
    count: () => 20_000,
    make: (c, rng) => {
      const b = rng.pick(c);
      const payload = rng.pick([
        () => concatBytes(tagBytes(0, rng.int(6)), rng.bytes(rng.int(9))),
        () => concatBytes(tagBytes(rng.pick([1, 2, 5, 9, 100, 536870911]), rng.pick([6, 7])), rng.bytes(rng.int(9))),
        () => tagBytes(rng.pick([1, 100]), 4), // end group without start
        () => concatBytes(tagBytes(100, 3), fieldVarint(1, 1)), // start group without end
        () => fieldGroup(100, fieldVarint(1, 1), 101), // mismatched end
        () => fieldGroup(rng.pick([100, 1000, 536870911]), rng.bool() ? fieldString(1, 'in group') : new Uint8Array(0)), // valid unknown group
        () => fieldGroup(rng.pick([1, 2, 3, 5, 9]), fieldVarint(1, 1)), // known number as a group: unknown field
        () => deepGroups(rng.pick([2, 50, 99, 100, 101, 300])),
        () => concatBytes(Uint8Array.of(0x8a, 0x80, 0x80, 0x80, 0x10), fieldString(1, 'x').subarray(1)), // tag above 2^32
        () => concatBytes(varintBytes(536870912n * 8n), Uint8Array.of(0)), // field number 2^29 (too big)
      ])();
      return injectField(b, 'TracesData', rng, payload);
    },
  },
  {
    name: 'nesting far beyond any sane depth',
    count: () => DEEP_CASES.length,
    make: (_c, _rng, index) => DEEP_CASES[index]!(),
  },
];

/** The bytes of case `index` of strategy `s` (deterministic). */
export function makeCase(corpus: Uint8Array[], s: number, index: number): Uint8Array {
  return STRATEGIES[s]!.make(corpus, new Rng(mixSeed(FUZZ_SEED, s, index)), index);
}

export function caseCounts(corpus: Uint8Array[]): number[] {
  return STRATEGIES.map((s) => s.count(corpus));
}
