// The gateway's other way out: OTLP appended to a file, as size-delimited protobuf (what `slimtrace
// convert` writes and every slimtrace command reads) or, for a name ending in .json/.jsonl, JSON Lines
// (what the Collector's file exporter writes). Each request is appended and fdatasync'd before it
// counts as delivered, so the gateway's queue lets go of it only once it is on disk. Unlike the CLI's
// outputs this file is not written atomically: it grows while the gateway runs, and a crash leaves at
// most one request cut short at its end, which the readers report as truncated.
import { open, type FileHandle } from 'node:fs/promises';
import { decodeTracesData, encodeTracesJson } from '../otlp/index.js';
import { InputError } from '../model/index.js';
import type { ExportOutcome } from './exporter-otlp-http.js';

export class OtlpFileAppender {
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    private readonly json: boolean,
  ) {}

  static async open(path: string): Promise<OtlpFileAppender> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'a');
    } catch (e) {
      throw new InputError(`cannot open for appending: ${(e as Error).message}`, path);
    }
    return new OtlpFileAppender(path, fh, /\.(json|jsonl|ndjson)$/i.test(path));
  }

  /** Appends one ExportTraceServiceRequest (protobuf bytes); resolves once it is on disk. */
  deliver(request: Uint8Array): Promise<ExportOutcome> {
    const next = this.chain.then(() => this.append(request));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async append(request: Uint8Array): Promise<ExportOutcome> {
    let chunk: Uint8Array;
    if (this.json) chunk = Buffer.from(`${encodeTracesJson(decodeTracesData(request))}\n`, 'utf8');
    else {
      const prefix: number[] = [];
      let n = request.length;
      while (n >= 0x80) {
        prefix.push((n & 0x7f) | 0x80);
        n >>>= 7;
      }
      prefix.push(n);
      chunk = Buffer.concat([Buffer.from(prefix), request]);
    }
    await this.fh.write(chunk);
    await this.fh.datasync();
    return { kind: 'delivered', attempts: 1, rejectedSpans: 0n, errorMessage: '' };
  }

  async close(): Promise<void> {
    await this.chain;
    await this.fh.close();
  }
}
