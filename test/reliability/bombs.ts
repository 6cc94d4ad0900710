// Small hostile Tracezip inputs that claim huge resources (issue 15, items 1, 2 and 7, and the
// residual-reference repeat found while fixing them): each a pure function of its sizes, built by
// hand from the wire format (docs/tracezip-format.md) because the encoder never writes them.
// Shared by the regression tests (test/tracezip/limits.test.ts) and the fuzz run (bench/fuzz.ts).
import { ByteWriter } from '../../src/tracezip/bytes.js';
import { compressPayload } from '../../src/tracezip/compression.js';
import type { Compression } from '../../src/tracezip/index.js';
import { writeRawFrame } from '../helpers/tracezip.js';

const STATELESS = { epochStart: false, stateless: true, streamId: 7n, epoch: 1, seq: 0 };

/** A resource envelope (one empty ResourceSpans) and a scope envelope (one empty ScopeSpans), as OTLP bytes. */
const RESOURCE_ENVELOPE = Uint8Array.of(0x0a, 0x00);
const SCOPE_ENVELOPE = Uint8Array.of(0x0a, 0x02, 0x12, 0x00);

function frame(payload: Uint8Array, compression: Compression = 'zstd'): Uint8Array {
  return writeRawFrame({ ...STATELESS, compression }, new Uint8Array(compressPayload(payload, compression, 19)), payload.length);
}

/**
 * The payload of one stateless frame: the dictionary `strings`, one resource and one scope envelope,
 * one span head (name = string `nameId`, no attributes, plus `values` value nodes below it when the
 * head has template keys), then `spans` spans of that template in one new trace, all roots.
 */
function spansPayload(strings: string[], nameId: number, spans: number, residual?: { key: number; values: string[] }): Uint8Array {
  const w = new ByteWriter(1024);
  w.uvar(strings.length);
  for (const s of strings) w.string(s);
  w.uvar(2);
  w.uvar(0);
  w.bytes(RESOURCE_ENVELOPE);
  w.uvar(1);
  w.bytes(SCOPE_ENVELOPE);
  w.uvar(1); // one node: a span head under the root
  w.uvar(0);
  w.uvar(1); // EDGE_SPAN_HEAD
  w.uvar(nameId);
  w.svar(0); // kind
  w.uvar(0); // flags
  w.uvar(strings.length - 1); // trace state: the last string (empty)
  w.uvar(0); // no status
  w.uvar(0);
  w.uvar(0);
  w.uvar(0);
  if (residual) {
    w.uvar(1);
    w.uvar(residual.key);
    w.uvar(1); // class: a residual string
  } else w.uvar(0);
  w.u64le(1_750_000_000_000_000_000n);
  w.uvar(0); // no request unknown fields
  w.uvar(1); // one resource group
  w.uvar(0);
  w.uvar(1); // one scope group
  w.uvar(0);
  w.uvar(spans);
  const column = (fill: (c: ByteWriter) => void): void => {
    const c = new ByteWriter(1024);
    fill(c);
    w.uvar(c.pos);
    w.raw(c.buf.subarray(0, c.pos));
  };
  column((c) => {
    for (let i = 0; i < spans; i++) c.uvar(1); // template node 1
  });
  column((c) => {
    c.uvar(0); // a new trace, then the same trace
    for (let i = 1; i < spans; i++) c.uvar(1);
  });
  column((c) => c.bytes(new Uint8Array(16).fill(1)));
  column((c) => {
    for (let i = 0; i < spans; i++) c.u64le(0n); // one span id for all: compresses to nothing
  });
  column((c) => {
    for (let i = 0; i < spans; i++) c.uvar(0); // no parent
  });
  column(() => {});
  column((c) => {
    for (let i = 0; i < spans; i++) c.svar(0);
  });
  column((c) => {
    for (let i = 0; i < spans; i++) c.svar(1);
  });
  column((c) => {
    for (let i = 0; i < spans; i++) c.uvar(0); // no events
  });
  column(() => {});
  column(() => {});
  if (residual) {
    w.uvar(1);
    w.uvar(residual.key);
    w.uvar(1);
    column((c) => {
      for (const v of residual.values) c.string(v);
    });
  } else w.uvar(0);
  return w.buf.slice(0, w.pos);
}

/** Item 1: a stateless frame declaring `spans` spans in about 14 bytes each, zstd-compressed to almost nothing. */
export function spanCountBomb(spans: number, compression: Compression = 'zstd'): Uint8Array {
  return frame(spansPayload(['op', ''], 0, spans), compression);
}

/** Item 2: one dictionary string of `nameBytes` characters, the name of `refs` spans. */
export function referenceBomb(nameBytes: number, refs: number): Uint8Array {
  return frame(spansPayload(['n'.repeat(nameBytes), ''], 0, refs));
}

/** Item 2, across frames: `frames` frames that each stay under the frame limit (a .tzip file). */
export function referenceFileBomb(nameBytes: number, refs: number, frames: number): Uint8Array {
  const one = referenceBomb(nameBytes, refs);
  const out = new Uint8Array(one.length * frames);
  for (let i = 0; i < frames; i++) out.set(one, i * one.length);
  return out;
}

/**
 * A residual string list whose every value repeats the previous one `fanout` times by reference
 * (NUL U+0080+i): 26 values grow as fanout^25 from a few hundred bytes.
 */
export function residualRepeatBomb(fanout: number): Uint8Array {
  const values = ['0123456789abcdef'];
  for (let i = 1; i < 26; i++) values.push(`\u0000${String.fromCharCode(0x80 + i - 1)}`.repeat(fanout));
  return residualListFrame(values); // one span, 26 keys: references reach within one attribute list
}

function residualListFrame(values: string[]): Uint8Array {
  const keys = values.map((_, i) => `k${i}`);
  const strings = ['op', ...keys, ''];
  const w = new ByteWriter(1024);
  w.uvar(strings.length);
  for (const s of strings) w.string(s);
  w.uvar(2);
  w.uvar(0);
  w.bytes(RESOURCE_ENVELOPE);
  w.uvar(1);
  w.bytes(SCOPE_ENVELOPE);
  w.uvar(1);
  w.uvar(0);
  w.uvar(1);
  w.uvar(0); // name "op"
  w.svar(0);
  w.uvar(0);
  w.uvar(strings.length - 1);
  w.uvar(0);
  w.uvar(0);
  w.uvar(0);
  w.uvar(0);
  w.uvar(keys.length);
  keys.forEach((_, i) => {
    w.uvar(1 + i);
    w.uvar(1); // residual string
  });
  w.u64le(1_750_000_000_000_000_000n);
  w.uvar(0);
  w.uvar(1);
  w.uvar(0);
  w.uvar(1);
  w.uvar(0);
  w.uvar(1); // one span
  const col = (bytes: number[] | Uint8Array): void => {
    w.uvar(bytes.length);
    w.raw(Uint8Array.from(bytes));
  };
  col([1]); // template
  col([0]); // new trace
  col([16, ...new Array(16).fill(2)]);
  col([1, 0, 0, 0, 0, 0, 0, 0]);
  col([0]);
  col([]);
  col([0]);
  col([2]);
  col([0]);
  col([]);
  col([]);
  w.uvar(keys.length);
  values.forEach((v, i) => {
    w.uvar(1 + i);
    w.uvar(1);
    const c = new ByteWriter(64);
    c.string(v);
    w.uvar(c.pos);
    w.raw(c.buf.subarray(0, c.pos));
  });
  return frame(w.buf.slice(0, w.pos));
}

/** Item 7: an epoch-start zstd-stream frame of a few bytes whose header claims `payloadBytes`. */
export function claimedPayloadFrame(payloadBytes: number): Uint8Array {
  return writeRawFrame({ compression: 'zstd-stream', epochStart: true, stateless: false, streamId: 9n, epoch: 1, seq: 0 }, Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0, 0), payloadBytes);
}

/** Every bomb at the size of the issue, for the fuzz run: name and how to build it (a file when `file`). */
export function tracezipBombs(): { name: string; make: () => Uint8Array; file?: boolean }[] {
  return [
    { name: 'span count: 5,000,000 spans declared', make: () => spanCountBomb(5_000_000) },
    { name: 'span count: 300,000 spans, uncompressed', make: () => spanCountBomb(300_000, 'none') },
    { name: 'reference: a 32 MiB name x 80 spans', make: () => referenceBomb(32 * 1024 * 1024, 80) },
    { name: 'reference: a 900 KiB name x 200 spans', make: () => referenceBomb(900 * 1024, 200) },
    { name: 'reference, file: 20 frames of a 900 KiB name x 100 spans', make: () => referenceFileBomb(900 * 1024, 100, 20), file: true },
    { name: 'residual repeats: 26 values, each 40x the previous', make: () => residualRepeatBomb(40) },
    { name: 'epoch start claiming 200 MiB', make: () => claimedPayloadFrame(200 * 1024 * 1024) },
    { name: 'epoch start claiming 60 MiB', make: () => claimedPayloadFrame(60 * 1024 * 1024) },
  ];
}
