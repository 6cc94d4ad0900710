// Hostile OTLP requests (issue 15), decode time and peak memory, one case per child process:
//   node --import tsx bench/otlp-hostile.ts [SRC_DIR]
// SRC_DIR defaults to this checkout's src/; pass an older checkout's src/ for before/after figures.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const CASES: Record<string, () => Buffer> = {
  // `78 00` (field 15, varint 0): unknown fields at the top level.
  'unknown fields, 200 KB': () => Buffer.alloc(200 * 1024, Buffer.from([0x78, 0x00])),
  'unknown fields, 2 MiB': () => Buffer.alloc(2 * 1024 * 1024, Buffer.from([0x78, 0x00])),
  // `12 00` (an empty span) repeated inside one ScopeSpans.
  'empty spans, 4 MiB': () => scope(4 * 1024 * 1024),
  'empty spans, 30 MiB': () => scope(30 * 1024 * 1024),
};

function varint(n: number): Buffer {
  const a: number[] = [];
  while (n >= 0x80) {
    a.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  a.push(n);
  return Buffer.from(a);
}
function scope(bytes: number): Buffer {
  const body = Buffer.alloc(bytes, Buffer.from([0x12, 0x00]));
  const ss = Buffer.concat([Buffer.from([0x12]), varint(body.length), body]);
  return Buffer.concat([Buffer.from([0x0a]), varint(ss.length), ss]);
}

const [, , src = resolve(import.meta.dirname, '../src'), only] = process.argv;
if (only !== undefined) {
  const { decodeTracesData } = (await import(pathToFileURL(resolve(src, 'otlp/index.ts')).href)) as typeof import('../src/otlp/index.js');
  const input = CASES[only]!();
  const t0 = performance.now();
  let outcome: string;
  try {
    const d = decodeTracesData(input);
    outcome = `decoded, ${d.resourceSpans[0]?.scopeSpans[0]?.spans.length ?? 0} spans`;
  } catch (e) {
    outcome = `${(e as Error).name}: ${(e as Error).message.slice(0, 90)}`;
  }
  const ms = performance.now() - t0;
  console.log(`| ${only} | ${(ms / 1000).toFixed(2)} s | ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB | ${outcome} |`);
} else {
  console.log(`src: ${src}\n| input | decode time | peak RSS | outcome |\n|---|---|---|---|`);
  for (const name of Object.keys(CASES)) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--max-old-space-size=3072', import.meta.filename, src, name], { encoding: 'utf8', timeout: 120_000 });
    process.stdout.write(r.stdout || `| ${name} | over 120 s or out of memory (status ${r.status}, signal ${r.signal}) | | |\n`);
  }
}
