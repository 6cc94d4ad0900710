// Loading zstd-napi, once, for everything that reads or writes zstd: OTLP files the Collector's file
// exporter compressed (src/otlp/compressed.ts) and Tracezip frames (src/tracezip/compression.ts,
// which imports this: dependencies point from tracezip to otlp, never back). zstd-napi is a native
// module built on install; where it cannot load, callers fall back or name what is missing.
import { createRequire } from 'node:module';
import type { Transform } from 'node:stream';

export interface ZstdCompressor {
  setParameters(params: { compressionLevel?: number }): void;
  compress(data: Uint8Array): Uint8Array;
}
export interface ZstdDecompressor {
  decompress(data: Uint8Array): Uint8Array;
}
export interface ZstdModule {
  Compressor: new () => ZstdCompressor;
  Decompressor: new () => ZstdDecompressor;
  DecompressStream: new (params?: { windowLogMax?: number }) => Transform;
}

export interface ZstdBinding {
  CCtx: new () => {
    setParameter(param: number, value: number): void;
    compressStream2(dst: Uint8Array, src: Uint8Array, endOp: number): [number, number, number];
  };
  DCtx: new () => {
    setParameter(param: number, value: number): void;
    decompressStream(dst: Uint8Array, src: Uint8Array): [number, number, number];
  };
  CParameter: { compressionLevel: number; windowLog: number };
  DParameter: { windowLogMax: number };
  EndDirective: { flush: number };
}

let zstd: ZstdModule | null | undefined;
let binding: ZstdBinding | null | undefined;

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

/** zstd-napi's low-level binding (stream contexts), or null when it cannot be loaded. */
export function zstdBinding(): ZstdBinding | null {
  if (binding === undefined) {
    try {
      binding = createRequire(import.meta.url)('zstd-napi/binding') as ZstdBinding;
    } catch {
      binding = null;
    }
  }
  return binding;
}

/** The zstd frame magic number, 0xFD2FB528 little-endian. */
export function isZstdFrame(b: Uint8Array, at = 0): boolean {
  return b.length >= at + 4 && b[at] === 0x28 && b[at + 1] === 0xb5 && b[at + 2] === 0x2f && b[at + 3] === 0xfd;
}
