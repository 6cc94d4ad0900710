// Fuzz inputs for TracezipDecoder.decode: a deterministic corpus of small valid streams (generated
// traffic, residual-heavy traffic, arbitrary messages with raw spans and composite values, hand-made
// reference shapes, stateless frames, zstd and gzip frames, a stream with a resync) and strategies
// that damage one frame of a stream. Most strategies recompute the CRC-32C after the damage (or
// re-frame a damaged payload with true lengths), so the input gets past the checksum and reaches the
// codec's structural checks. Every case is a pure function of its global index, so a failing or
// hanging case can be regenerated from one number.
//
// Cases run in groups of GROUP consecutive indexes that share one target (a scenario and a frame
// k): the decoder is primed with frames 0..k-1 once, the group's damaged versions of frame k are fed
// to it, and at the end the real frame k and k+1 must still decode exactly (a refused frame leaves
// the state as it was). A group that fails that check is replayed case by case to name the culprit.
import { TracezipDecoder, TracezipEncoder, type TracezipEncoderOptions } from '../../src/tracezip/index.js';
import { collectTraffic } from '../../src/generator/index.js';
import { jsonEscaped, rfc3339Nano } from '../../src/tracezip/context.js';
import { bytesToHex, diffTracesData, type TracesData } from '../../src/model/index.js';
import { Arbitrary, Rng, mixSeed } from './arbitrary.js';
import {
  T0,
  appendCrc,
  batchOf,
  tracezipArbitrary,
  decodeOutcome,
  describeOutcome,
  ev,
  kv,
  openFrame,
  outcomeKey,
  patchCrc,
  recut,
  reframe,
  sp,
  wellFormedProblem,
  writeRawFrame,
  type FrameFields,
} from './tracezip.js';

export const TZ_FUZZ_SEED = 0x72f0001;
export const GROUP = 16;

export interface FuzzScenario {
  name: string;
  batches: TracesData[];
  frames: Uint8Array[];
  /** Per frame: header fields and the uncompressed payload. */
  fields: FrameFields[];
  payloads: Uint8Array[];
}

function build(name: string, batches: TracesData[], options: TracezipEncoderOptions, resyncAt: number[] = []): FuzzScenario {
  const enc = new TracezipEncoder({ streamId: BigInt(mixSeed(TZ_FUZZ_SEED, name.length, batches.length)), ...options });
  const frames = batches.map((b, i) => {
    if (resyncAt.includes(i)) enc.resync();
    return enc.encode(b);
  });
  // The corpus must be valid: every frame decodes to its batch.
  const dec = new TracezipDecoder();
  frames.forEach((f, i) => {
    const o = decodeOutcome(dec, f);
    if (o.kind !== 'data' || diffTracesData(o.data, batches[i]!) !== undefined) throw new Error(`fuzz corpus ${name} frame ${i} does not round-trip: ${describeOutcome(o)}`);
  });
  const opened = frames.map((f) => openFrame(f));
  return { name, batches, frames, fields: opened.map((o) => o.fields), payloads: opened.map((o) => o.payload) };
}


/** The corpus (deterministic; a few hundred milliseconds to build). */
export function buildTzCorpus(): FuzzScenario[] {
  const rng = new Rng(TZ_FUZZ_SEED);
  const traffic = collectTraffic({ seed: 'tracezip-fuzz', traces: 40, batchSpans: 64 }).batches;
  const cut = (min: number, max: number, n: number): TracesData[] => recut(traffic, (k) => rng.int(k), min, max).slice(0, n);
  const gen = new Arbitrary(rng.fork(), { maxResourceSpans: 2, maxScopeSpans: 2, maxSpans: 3, maxAttributes: 3, maxEvents: 2, maxLinks: 1, maxDepth: 2, unknownFieldRate: 0.2 });
  const handMade = [
    batchOf([
      sp({ trace: 1, id: 3, parent: 2, startTimeUnixNano: T0 + 5n, events: [ev('log', T0 + 6n, [kv('level', 'info'), kv('n', 3n)])] }),
      sp({ trace: 1, id: 2, parent: 1, startTimeUnixNano: T0 + 2n }),
      sp({ trace: 1, id: 1, status: { code: 2, message: 'boom', unknownFields: undefined } }),
      sp({ trace: 2, id: 1, parent: 9 }),
    ]),
    batchOf([sp({ trace: 1, id: 4, parent: 3, startTimeUnixNano: T0 - 10n, endTimeUnixNano: T0 - 20n }), sp({ trace: 1, id: 4, parent: 1 }), sp({ trace: 3, id: 5, kind: -1, flags: 0xffffffff })]),
    batchOf([sp({ trace: 2, id: 6, parent: 1, attributes: [kv('d', 0.5), kv('b', true), kv('bytes', Uint8Array.of(1, 2)), kv('i', -(1n << 63n))] })], 'other'),
  ];
  // Log-like residual strings that repeat the span's ids and earlier values (sent as references).
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  const logLines = [0, 1, 2].map((f) =>
    batchOf(
      [0, 1].map((i) => {
        const n = 10 + f * 2 + i;
        const span = sp({ trace: 5, id: n, parent: n === 10 ? undefined : n - 1 });
        const t = hex(span.traceId);
        const id = hex(span.spanId);
        const msg = `request ${n} failed: upstream timeout`;
        span.attributes = [
          kv('message', msg),
          kv('log', `trace_id=${t} span_id=${id} ${msg}`),
          kv('upper', `${t.toUpperCase()}/${id.toUpperCase()}\u0000nul`),
          kv('short', `n\u0000${n}`),
        ];
        // A Docker json-file line: the message JSON-escaped and the event's time (format 2 references).
        const quoted = `"${msg}" <b>&`;
        const time = T0 + BigInt(n) * 1_000_000n;
        span.events = [
          ev('log', T0 + BigInt(n), [kv('line', `${msg} (trace ${t})`), kv('again', `${msg} ${msg}`)]),
          ev('docker', time, [kv('message', quoted), kv('original', `{"log":"${jsonEscaped(quoted)}\\n","stream":"stdout","time":"${rfc3339Nano(time)}"}`)]),
        ];
        return span;
      }),
    ),
  );
  return [
    build('traffic', cut(2, 6, 5), { compression: 'none' }),
    build('log lines', logLines, { compression: 'none', templateValueLimit: 0 }),
    build('traffic/residuals', cut(2, 6, 4), { compression: 'none', templateValueLimit: 1 }),
    build('arbitrary', Array.from({ length: 4 }, () => tracezipArbitrary(gen)), { compression: 'none' }),
    build('hand-made', handMade, { compression: 'none', templateValueLimit: 2 }),
    build('stateless', cut(2, 5, 3), { compression: 'none', stateless: true }),
    build('traffic/zstd', cut(3, 8, 3), { compression: 'zstd' }),
    build('traffic/gzip', cut(3, 8, 3), { compression: 'gzip' }),
    build('traffic/resync', cut(2, 5, 4), { compression: 'none' }, [2]),
  ];
}

// ------------------------------------------------------------------------------------------------
// Strategies
// ------------------------------------------------------------------------------------------------

export interface TzStrategy {
  name: string;
  count: number;
  /** The damage is one the checksum must catch: only a TracezipFrameError is acceptable. */
  mustFail?: boolean;
  make(sc: FuzzScenario, k: number, rng: Rng): Uint8Array;
}

const SPECIAL_VARINTS: (number | bigint)[] = [0, 1, 2, 3, 127, 128, 255, 300, 16383, 16384, 2 ** 21, 2 ** 28, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 35, 2 ** 49, 2 ** 53 - 1, 2n ** 56n - 1n, 2n ** 56n, 2n ** 63n, 2n ** 64n - 1n];

function varint(v: number | bigint): number[] {
  let x = BigInt(v);
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}

function specialVarint(rng: Rng): number[] {
  const r = rng.int(10);
  if (r < 7) return varint(rng.pick(SPECIAL_VARINTS));
  if (r < 8) return [...new Array(rng.range(8, 11)).fill(0x80 | rng.int(128)), rng.int(128)]; // over-long
  if (r < 9) return new Array(rng.range(1, 12)).fill(0x80); // never ends
  return varint(rng.int(64));
}

function withPayload(sc: FuzzScenario, k: number, payload: Uint8Array): Uint8Array {
  return reframe(sc.fields[k]!, payload);
}

function flipBits(b: Uint8Array, rng: Rng, n: number, end = b.length): void {
  const bits = new Set<number>();
  while (bits.size < Math.min(n, end * 8)) bits.add(rng.int(end * 8));
  for (const bit of bits) b[bit >> 3]! ^= 1 << (bit & 7);
}

function concat(...parts: ArrayLike<number>[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const TZ_STRATEGIES: TzStrategy[] = [
  {
    name: 'bit flips, CRC kept',
    count: 8_000,
    mustFail: true,
    make: (sc, k, rng) => {
      const m = new Uint8Array(sc.frames[k]!);
      flipBits(m, rng, rng.range(1, 3));
      return m;
    },
  },
  {
    name: 'bit flips, CRC patched',
    count: 20_000,
    make: (sc, k, rng) => {
      const m = new Uint8Array(sc.frames[k]!);
      flipBits(m, rng, rng.range(1, 4), m.length - 4);
      return patchCrc(m);
    },
  },
  {
    name: 'payload bit flips, re-framed',
    count: 16_000,
    make: (sc, k, rng) => {
      const p = new Uint8Array(sc.payloads[k]!);
      if (p.length > 0) flipBits(p, rng, rng.range(1, 3));
      return withPayload(sc, k, p);
    },
  },
  {
    name: 'payload byte edits (overwrite, insert, delete, duplicate, swap), re-framed',
    count: 16_000,
    make: (sc, k, rng) => {
      let p: Uint8Array = new Uint8Array(sc.payloads[k]!);
      for (let ops = rng.range(1, 3); ops > 0; ops--) {
        const at = rng.int(p.length + 1);
        switch (rng.int(5)) {
          case 0:
            if (at < p.length) p[at] = rng.pick([0x00, 0x01, 0x7f, 0x80, 0xff, rng.int(256)]);
            break;
          case 1:
            p = concat(p.subarray(0, at), rng.bytes(rng.range(1, 4)), p.subarray(at));
            break;
          case 2:
            p = concat(p.subarray(0, at), p.subarray(Math.min(p.length, at + rng.range(1, 8))));
            break;
          case 3: {
            const b = rng.int(p.length + 1);
            const [lo, hi] = at < b ? [at, b] : [b, at];
            p = concat(p.subarray(0, hi), p.subarray(lo, Math.min(hi, lo + 48)), p.subarray(hi));
            break;
          }
          default: {
            const b = rng.int(p.length + 1);
            const [lo, hi] = at < b ? [at, b] : [b, at];
            const mid = lo + ((hi - lo) >> 1);
            p = concat(p.subarray(0, lo), p.subarray(mid, hi), p.subarray(lo, mid), p.subarray(hi));
          }
        }
      }
      return withPayload(sc, k, p);
    },
  },
  {
    name: 'payload varint surgery (huge, over-long, unterminated counts and lengths), re-framed',
    count: 12_000,
    make: (sc, k, rng) => {
      const p = sc.payloads[k]!;
      const at = rng.int(p.length + 1);
      const v = specialVarint(rng);
      // Replace the varint that starts here (its length as the bytes say), or insert one.
      let end = at;
      while (end < p.length && p[end]! >= 0x80) end++;
      end = Math.min(p.length, end + 1);
      return withPayload(sc, k, rng.bool(0.7) ? concat(p.subarray(0, at), v, p.subarray(end)) : concat(p.subarray(0, at), v, p.subarray(at)));
    },
  },
  {
    name: 'payload truncated, re-framed with true lengths',
    count: 8_000,
    make: (sc, k, rng) => withPayload(sc, k, sc.payloads[k]!.slice(0, rng.int(sc.payloads[k]!.length))),
  },
  {
    name: 'frame truncated (as is, and with a CRC over the rest)',
    count: 4_000,
    mustFail: true,
    make: (sc, k, rng) => {
      const f = sc.frames[k]!;
      const len = rng.int(f.length);
      return rng.bool(0.5) || len < 4 ? f.slice(0, len) : appendCrc(f.slice(0, len - 4));
    },
  },
  {
    name: 'payload spliced with another frame payload, re-framed',
    count: 8_000,
    make: (sc, k, rng) => {
      const p = sc.payloads[k]!;
      const donor = rng.pick(sc.payloads);
      const a = rng.int(p.length + 1);
      const b = rng.int(donor.length + 1);
      return withPayload(sc, k, rng.bool(0.5) ? concat(p.subarray(0, a), donor.subarray(b)) : concat(p.subarray(0, a), donor.subarray(b, b + rng.int(40)), p.subarray(a)));
    },
  },
  {
    name: 'garbage (random bytes; random bytes behind "TZ" and a CRC; random payloads re-framed)',
    count: 8_000,
    make: (sc, k, rng) => {
      const n = rng.bool(0.7) ? rng.int(48) : rng.int(1500);
      switch (rng.int(3)) {
        case 0:
          return rng.bytes(n);
        case 1: {
          const g = rng.bytes(Math.max(n, 16));
          g.set([0x54, 0x5a, 1, rng.int(16)]);
          return appendCrc(g);
        }
        default:
          return withPayload(sc, k, rng.bool(0.3) ? new Uint8Array(n).fill(rng.pick([0, 0x7f, 0x80, 0xff])) : rng.bytes(n));
      }
    },
  },
  {
    name: 'header fields rewritten (flags, version, stream id, epoch, seq, lengths), CRC patched',
    count: 5_000,
    make: (sc, k, rng) => {
      const f = { ...sc.fields[k]! };
      const p = sc.payloads[k]!;
      switch (rng.int(7)) {
        case 0:
          f.flags = rng.int(256);
          break;
        case 1:
          f.version = rng.pick([0, 2, 3, 255]);
          break;
        case 2:
          f.streamId = rng.bool(0.5) ? f.streamId ^ (1n << BigInt(rng.int(64))) : rng.u64();
          break;
        case 3:
          f.epoch = Math.max(0, f.epoch + rng.pick([-2, -1, 1, 2, 1000])) % 2 ** 53;
          break;
        case 4:
          f.seq = rng.pick([0, 1, 2, 3, 4, 5, f.seq + 1, 2 ** 31, 2 ** 53 - 1]);
          break;
        case 5:
          f.epochStart = !f.epochStart;
          break;
        default:
          f.stateless = !f.stateless;
      }
      if (f.flags !== undefined || f.version !== undefined) {
        const h = sc.frames[k]!;
        const o = openFrame(h);
        const body = h.subarray(o.header.bodyStart, o.header.bodyStart + o.header.bodyLength);
        return writeRawFrame(f, body, p.length);
      }
      return reframe(f, p);
    },
  },
  {
    name: 'declared lengths that lie, CRC patched',
    count: 2_000,
    make: (sc, k, rng) => {
      const h = sc.frames[k]!;
      const o = openFrame(h);
      const body = h.subarray(o.header.bodyStart, o.header.bodyStart + o.header.bodyLength);
      const lie = (n: number): number => Math.max(0, rng.bool(0.7) ? n + rng.range(-3, 3) : rng.pick([0, 2 ** 28, 2 ** 32, 2 ** 53 - 1]));
      return writeRawFrame({ ...sc.fields[k]!, payloadLength: rng.bool(0.5) ? lie(o.payload.length) : undefined, bodyLength: rng.bool(0.5) ? lie(body.length) : undefined }, body, o.payload.length);
    },
  },
];

export function tzCaseCounts(): number[] {
  return TZ_STRATEGIES.map((s) => s.count);
}

export function tzTotalCases(): number {
  return tzCaseCounts().reduce((a, b) => a + b, 0);
}

/** Strategy of a global case index. */
export function strategyOf(c: number): number {
  let i = c;
  for (let s = 0; s < TZ_STRATEGIES.length; s++) {
    if (i < TZ_STRATEGIES[s]!.count) return s;
    i -= TZ_STRATEGIES[s]!.count;
  }
  throw new Error(`case ${c} out of range`);
}

/** The target (scenario, frame) of a group. */
export function targetOf(corpus: FuzzScenario[], group: number): { s: number; k: number } {
  const rng = new Rng(mixSeed(TZ_FUZZ_SEED, 0x6, group));
  const s = rng.int(corpus.length);
  return { s, k: rng.int(corpus[s]!.frames.length) };
}

/** The bytes of case `c` (deterministic). */
export function makeTzCase(corpus: FuzzScenario[], c: number): { strategy: number; s: number; k: number; bytes: Uint8Array } {
  const { s, k } = targetOf(corpus, Math.floor(c / GROUP));
  const strategy = strategyOf(c);
  const bytes = TZ_STRATEGIES[strategy]!.make(corpus[s]!, k, new Rng(mixSeed(TZ_FUZZ_SEED, c)));
  return { strategy, s, k, bytes };
}

// ------------------------------------------------------------------------------------------------
// Checking
// ------------------------------------------------------------------------------------------------

export function primeDecoder(sc: FuzzScenario, k: number): TracezipDecoder {
  const dec = new TracezipDecoder();
  for (let i = 0; i < k; i++) dec.decode(sc.frames[i]!);
  return dec;
}

export interface CaseVerdict {
  key: string;
  /** The decoder applied something: it must be primed again. */
  advanced: boolean;
  problem?: string;
}

/** Decodes one damaged input with `dec` (primed to frame k) and applies the per-input rules. */
export function checkTzCase(sc: FuzzScenario, k: number, bytes: Uint8Array, mustFail: boolean, dec: TracezipDecoder): CaseVerdict {
  const o = decodeOutcome(dec, bytes);
  if (o.kind === 'exception') return { key: 'exception', advanced: true, problem: describeOutcome(o).slice(0, 600) };
  if (mustFail && o.kind !== 'error') return { key: outcomeKey(o), advanced: o.kind === 'data', problem: `damage the checksum must catch was not refused: ${describeOutcome(o)}` };
  if (o.kind === 'data') {
    if (diffTracesData(o.data, sc.batches[k]!) === undefined) return { key: 'data (exact)', advanced: true };
    const p = wellFormedProblem(o.data);
    if (p) return { key: 'data (altered)', advanced: true, problem: `decoded to an altered message that is not well-formed: ${p}` };
    return { key: 'data (altered, well-formed)', advanced: true };
  }
  return { key: outcomeKey(o), advanced: false };
}

/** After refused inputs: the real frame k (and k+1) must still decode exactly. Returns a problem. */
export function verifyState(sc: FuzzScenario, k: number, dec: TracezipDecoder): string | undefined {
  for (const i of [k, k + 1]) {
    if (i >= sc.frames.length) break;
    const o = decodeOutcome(dec, sc.frames[i]!);
    if (o.kind !== 'data') return `the real frame ${i} no longer decodes: ${describeOutcome(o)}`;
    const d = diffTracesData(o.data, sc.batches[i]!);
    if (d) return `the real frame ${i} decodes to a different message: ${d}`;
  }
  return undefined;
}

export function hexPrefix(b: Uint8Array, n = 96): string {
  return bytesToHex(b.subarray(0, n)) + (b.length > n ? '…' : '');
}
