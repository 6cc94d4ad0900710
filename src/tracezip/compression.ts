// Whole-frame compression: zstd through zstd-napi (its bundled zstd builds from source on install,
// no download), gzip from node:zlib as the fallback when the native module cannot load.
import { createRequire } from 'node:module';
import { gunzipSync, gzipSync } from 'node:zlib';
import { TracezipFrameError } from './errors.js';

export type Compression = 'zstd' | 'gzip' | 'none';

interface ZstdCompressor {
  setParameters(params: { compressionLevel?: number }): void;
  compress(data: Uint8Array): Uint8Array;
}
interface ZstdDecompressor {
  decompress(data: Uint8Array): Uint8Array;
}
interface ZstdModule {
  Compressor: new () => ZstdCompressor;
  Decompressor: new () => ZstdDecompressor;
}

// One native context per level and one for decompression, reused for every frame: creating a
// context costs more than compressing a small frame.
const compressors = new Map<number, ZstdCompressor>();
let decompressor: ZstdDecompressor | undefined;

let zstd: ZstdModule | null | undefined;

/** zstd-napi, or null when it cannot be loaded on this machine. */
export function zstdModule(): ZstdModule | null {
  if (zstd === undefined) {
    try {
      zstd = createRequire(import.meta.url)('zstd-napi') as ZstdModule;
    } catch {
      zstd = null;
    }
  }
  return zstd;
}

/** The best compression available: zstd when it loads, else gzip. */
export function defaultCompression(): Compression {
  return zstdModule() ? 'zstd' : 'gzip';
}

export function compressPayload(data: Uint8Array, method: Compression, zstdLevel: number): Uint8Array {
  switch (method) {
    case 'none':
      return data;
    case 'gzip':
      return gzipSync(data, { level: 6 });
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

/** Decompresses and checks the result has exactly the size the frame header declared. */
export function decompressPayload(data: Uint8Array, method: Compression, expectedLength: number): Uint8Array {
  let out: Uint8Array;
  try {
    if (method === 'none') out = data;
    else if (method === 'gzip') out = gunzipSync(data, { maxOutputLength: expectedLength + 1 });
    else {
      const z = zstdModule();
      if (!z) throw new TracezipFrameError('compression', 'frame is zstd-compressed but zstd is not available on this machine');
      // zstd allocates what its own frame header declares: check that first, so a hostile frame
      // cannot make the decoder allocate more than the Tracezip header (already capped) allows.
      const declared = zstdContentSize(data);
      if (declared !== expectedLength) throw new TracezipFrameError('compression', `zstd frame declares ${declared ?? 'no'} content size, header says ${expectedLength}`);
      decompressor ??= new z.Decompressor();
      out = decompressor.decompress(data);
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
