// Every output of every command goes through here: opened (so a path that cannot be written fails
// in one line before any input is read), written whole or not at all (src/otlp/output.ts), put in
// place together when the command succeeds and removed together when it fails or is interrupted.
import { resolve } from 'node:path';
import { AtomicDirectory, AtomicFile, removeUnfinishedOutputs, type OtlpFileFormat, type Output } from '../otlp/index.js';
import { UsageError } from './errors.js';

export { AtomicDirectory, AtomicFile };

/**
 * Runs a command's work, then finishes every output (writes out buffers: what can fail, such as a
 * full disk) and only then puts them in place; when the work or a finish fails, every output is
 * removed and the error goes on, so a run leaves all of its outputs or none.
 */
export async function withOutputs<T>(outputs: readonly (Output | undefined)[], work: () => Promise<T>): Promise<T> {
  const all = outputs.filter((o): o is Output => o !== undefined);
  let result: T;
  try {
    result = await work();
    for (const o of all) await o.finish();
  } catch (e) {
    await Promise.all(all.map((o) => o.abort()));
    throw e;
  }
  for (let i = 0; i < all.length; i++) {
    try {
      await all[i]!.close();
    } catch (e) {
      await Promise.all(all.slice(i + 1).map((o) => o.abort()));
      throw e;
    }
  }
  return result;
}

/** OTLP protobuf or JSON: from --format when given (proto, json and their long names), else from the output's name. */
export function otlpFormatOf(flag: string | undefined, output: string | undefined): OtlpFileFormat {
  const f = flag ?? (output !== undefined && /\.(json|jsonl|ndjson)$/i.test(output) ? 'json' : 'proto');
  if (f === 'json' || f === 'otlp-json') return 'otlp-json';
  if (f === 'proto' || f === 'protobuf' || f === 'otlp-proto') return 'otlp-proto';
  throw new UsageError(`--format must be proto or json, got '${f}'`);
}

/** Two outputs of one run must not be the same file: the second would silently replace the first. */
export function checkDistinctOutputs(outputs: readonly [flag: string, path: string | undefined][]): void {
  const seen = new Map<string, string>();
  for (const [flag, path] of outputs) {
    if (path === undefined) continue;
    const key = resolve(path);
    const other = seen.get(key);
    if (other !== undefined) throw new UsageError(`${other} and ${flag} name the same file ${path}`);
    seen.set(key, flag);
  }
}

const SIGNAL_EXIT: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };

/** On SIGINT/SIGTERM: remove the outputs not yet in place, then exit as the signal would (128 + its number). */
export function removeOutputsOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      const removed = removeUnfinishedOutputs();
      process.stderr.write(`slimtrace: interrupted (${signal})${removed > 0 ? `; ${removed} unfinished output${removed > 1 ? 's' : ''} removed` : ''}\n`);
      process.exit(SIGNAL_EXIT[signal]);
    });
  }
}
