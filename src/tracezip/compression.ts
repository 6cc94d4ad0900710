// Whole-frame compression: zstd through zstd-napi (its bundled zstd builds from source on install,
// no download), gzip from node:zlib as the fallback when the native module cannot load.
import { gunzipSync, gzipSync } from 'node:zlib';
import { TracezipFrameError } from './errors.js';
// The loader is shared with the OTLP file readers (zstd-compressed Collector files).
import { zstdBinding, zstdModule, type ZstdCompressor, type ZstdDecompressor } from '../otlp/zstd.js';
export { zstdModule };

/**
 * zstd compresses each frame on its own; zstd-stream keeps one zstd stream per epoch and flushes it
 * at every frame, so a frame can refer to everything the stream sent before (log text, residual
 * values that recur across frames), which matters most for small frames. Stateful streams only.
 */
export type Compression = 'zstd' | 'zstd-stream' | 'gzip' | 'none';

// One native context per level and one for decompression, reused for every frame: creating a
// context costs more than compressing a small frame.
const compressors = new Map<number, ZstdCompressor>();
let decompressor: ZstdDecompressor | undefined;

/** The best compression available: zstd when it loads, else gzip (zstd-stream for stateful streams). */
export function defaultCompression(stateful = false): Compression {
  if (!zstdModule()) return 'gzip';
  return stateful ? 'zstd-stream' : 'zstd';
}

// ---- zstd streams (one per epoch on each side) ----------------------------------------------

/** Window of a zstd stream: what a frame may refer back to, and what each side keeps per stream. */
export const ZSTD_STREAM_WINDOW_LOG = 20;
export const ZSTD_STREAM_STATE_BYTES = (1 << ZSTD_STREAM_WINDOW_LOG) + 256 * 1024;

/**
 * zstd's ZSTD_c_literalCompressionMode (experimental parameter 5; 2 = literals stored raw). zstd
 * reads it whatever the build exposes by name; the frames stay standard zstd either way.
 */
const ZSTD_C_LITERAL_COMPRESSION_MODE = 1002;
const ZSTD_PS_DISABLE = 2;

export class ZstdStreamCompressor {
  private readonly cctx;
  private out = new Uint8Array(64 * 1024);

  /**
   * `rawLiterals`: literals are not Huffman-coded. Each small frame of a stream is a flushed block
   * whose Huffman table zstd builds anew, and what is left as literals after the Span Retrieval
   * Tree (ids, numbers, new text) is close to random: on nezha at batch 16 this halves zstd's time
   * for 1% more bytes (3% at batch 512; docs/benchmarks.md).
   */
  constructor(level: number, rawLiterals = false) {
    const b = zstdBinding();
    if (!b) throw new Error('zstd is not available on this machine (zstd-napi did not load); use gzip');
    this.cctx = new b.CCtx();
    this.cctx.setParameter(b.CParameter.compressionLevel, level);
    this.cctx.setParameter(b.CParameter.windowLog, ZSTD_STREAM_WINDOW_LOG);
    if (rawLiterals) {
      try {
        this.cctx.setParameter(ZSTD_C_LITERAL_COMPRESSION_MODE, ZSTD_PS_DISABLE);
      } catch {
        // A zstd that refuses the parameter codes literals as usual: slower, never wrong.
      }
    }
  }

  /**
   * Compresses one frame's payload and flushes, so the decoder can read it all now. The result is
   * a view of this compressor's buffer, valid until the next call (the frame writer copies it).
   */
  compressFrame(data: Uint8Array): Uint8Array {
    const b = zstdBinding()!;
    if (this.out.length < data.length + 1024) this.out = new Uint8Array(data.length + 1024);
    let src = data;
    let produced = 0;
    for (;;) {
      const [remaining, dst, consumed] = this.cctx.compressStream2(this.out.subarray(produced), src, b.EndDirective.flush);
      produced += dst;
      src = src.subarray(consumed);
      if (remaining === 0 && src.length === 0) break;
      if (produced === this.out.length) {
        const bigger = new Uint8Array(this.out.length * 2);
        bigger.set(this.out);
        this.out = bigger;
      }
    }
    return this.out.subarray(0, produced);
  }
}

/** Output buffer of every stream decompressor, up to this size (larger payloads get their own). */
const SHARED_OUTPUT_MAX = 4 * 1024 * 1024;
let sharedOutput = new Uint8Array(0);

export class ZstdStreamDecompressor {
  private readonly dctx;

  /** `windowed`: a stream of the epoch (1 MiB window); false for one whole-frame zstd payload. */
  constructor(windowed = true) {
    const b = zstdBinding();
    if (!b) throw new TracezipFrameError('compression', 'frame is zstd-compressed but zstd is not available on this machine');
    this.dctx = new b.DCtx();
    if (windowed) this.dctx.setParameter(b.DParameter.windowLogMax, ZSTD_STREAM_WINDOW_LOG);
  }

  /**
   * Decompresses one frame's body, which must give exactly `expectedLength` bytes. The result is a
   * view of a buffer that every stream shares, valid until the next call (the decoder keeps no view
   * of a payload; decoding is synchronous, so calls never overlap).
   */
  decompressFrame(body: Uint8Array, expectedLength: number, believed = Infinity): Uint8Array {
    // The header's length is a claim: a large payload's buffer starts at what the body can prove
    // (`believed`, from the decoder's maxExpansionRatio) and grows as output actually comes, so a
    // short frame claiming a huge payload costs nothing before it fails.
    let out: Uint8Array;
    if (expectedLength > SHARED_OUTPUT_MAX) out = new Uint8Array(Math.min(expectedLength, Math.max(SHARED_OUTPUT_MAX, believed))); // rare: not kept
    else {
      if (sharedOutput.length < expectedLength) sharedOutput = new Uint8Array(Math.min(SHARED_OUTPUT_MAX, Math.max(expectedLength, 2 * sharedOutput.length)));
      out = sharedOutput.subarray(0, expectedLength);
    }
    let src = body;
    let produced = 0;
    try {
      for (;;) {
        if (produced === out.length) {
          if (out.length >= expectedLength) break; // full: any input left is an error below
          const bigger = new Uint8Array(Math.min(expectedLength, 2 * out.length));
          bigger.set(out);
          out = bigger;
        }
        const [, dst, consumed] = this.dctx.decompressStream(out.subarray(produced), src);
        produced += dst;
        src = src.subarray(consumed);
        if (dst === 0 && consumed === 0) break; // no progress: input incomplete
        if (src.length === 0 && produced < out.length) break; // all input used, output not full: done
      }
    } catch (e) {
      throw new TracezipFrameError('compression', (e as Error).message);
    }
    if (produced !== expectedLength || src.length !== 0) {
      throw new TracezipFrameError('compression', `stream frame gave ${produced} bytes (header says ${expectedLength}) with ${src.length} bytes of input left`);
    }
    return out;
  }
}

export function compressPayload(data: Uint8Array, method: Compression, zstdLevel: number): Uint8Array {
  switch (method) {
    case 'none':
      return data;
    case 'gzip':
      return gzipSync(data, { level: 6 });
    case 'zstd-stream':
      throw new Error('internal: zstd-stream frames are compressed by the stream encoder');
    case 'zstd': {
      const z = zstdModule();
      if (!z) throw new Error('zstd is not available on this machine (zstd-napi did not load); use gzip');
      let c = compressors.get(zstdLevel);
      if (!c) {
        c = new z.Compressor();
        c.setParameters({ compressionLevel: zstdLevel });
        compressors.set(zstdLevel, c);
      }
      return c.compress(data);
    }
  }
}

/**
 * Decompresses and checks the result has exactly the size the frame header declared. A zstd frame
 * claiming more than `believed` bytes (what its body can prove) is decompressed into a buffer that
 * grows as output comes instead of one of the claimed size (zstd's one-shot call allocates it).
 */
export function decompressPayload(data: Uint8Array, method: Compression, expectedLength: number, believed = Infinity): Uint8Array {
  let out: Uint8Array;
  try {
    if (method === 'none') out = data;
    else if (method === 'zstd-stream') throw new TracezipFrameError('malformed', 'a zstd-stream frame outside a stream');
    else if (method === 'gzip') out = gunzipSync(data, { maxOutputLength: expectedLength + 1 });
    else {
      const z = zstdModule();
      if (!z) throw new TracezipFrameError('compression', 'frame is zstd-compressed but zstd is not available on this machine');
      // zstd allocates what its own frame header declares: check that first, so a hostile frame
      // cannot make the decoder allocate more than the Tracezip header (already capped) allows.
      const declared = zstdContentSize(data);
      if (declared !== expectedLength) throw new TracezipFrameError('compression', `zstd frame declares ${declared ?? 'no'} content size, header says ${expectedLength}`);
      if (expectedLength > believed && zstdBinding()) out = new ZstdStreamDecompressor(false).decompressFrame(data, expectedLength, believed);
      else {
        decompressor ??= new z.Decompressor();
        out = decompressor.decompress(data);
      }
    }
  } catch (e) {
    if (e instanceof TracezipFrameError) throw e;
    throw new TracezipFrameError('compression', (e as Error).message);
  }
  if (out.length !== expectedLength) throw new TracezipFrameError('compression', `payload is ${out.length} bytes, header says ${expectedLength}`);
  return out;
}

/** The content size a zstd frame header declares, or undefined when absent or not a zstd frame. */
export function zstdContentSize(data: Uint8Array): number | undefined {
  if (data.length < 6 || data[0] !== 0x28 || data[1] !== 0xb5 || data[2] !== 0x2f || data[3] !== 0xfd) return undefined;
  const fhd = data[4]!;
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  const dictIdSize = [0, 1, 2, 4][fhd & 3]!;
  const fcsSize = fcsFlag === 0 ? singleSegment : [0, 2, 4, 8][fcsFlag]!;
  if (fcsSize === 0) return undefined;
  const at = 5 + (singleSegment ? 0 : 1) + dictIdSize;
  if (data.length < at + fcsSize) return undefined;
  let v = 0;
  for (let i = fcsSize - 1; i >= 0; i--) v = v * 256 + data[at + i]!;
  return fcsSize === 2 ? v + 256 : v;
}
