// slimtrace as an application installs it: the package is built and packed (`npm pack`), the
// tarball is installed into a scratch application beside the stock OpenTelemetry SDK (api 1.9.0,
// sdk-trace 2.12.0) and its stock OTLP exporter, and the application imports `slimtrace` and
// `slimtrace/sdk` by name in ESM, type-checks a TypeScript consumer, runs the installed CLI, and
// compiles and runs every TypeScript/JavaScript snippet of README.md and docs/ against a real OTLP
// receiver. Nothing here touches the repository's own dist/ or node_modules.
//
// It needs npm and the npm registry (or npm's cache after `npm ci`): the scratch install takes
// about a minute, most of it compiling zstd-napi's bundled zstd.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { decodeTracesData } from '../../src/otlp/index.js';
import { countSpans } from '../../src/model/index.js';
import { docSnippets } from './snippets.js';

const root = resolve(import.meta.dirname, '../..');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; files: string[]; exports: Record<string, unknown> };

/** The versions an application on the stock SDK has (the example: api 1.9.0, sdk 2.12.0). */
const APP_DEPENDENCIES = {
  '@opentelemetry/api': '1.9.0',
  '@opentelemetry/sdk-trace': '2.12.0',
  '@opentelemetry/exporter-trace-otlp-proto': '0.223.0',
};
/** A TypeScript application has Node's types (the version the repository pins). */
const APP_DEV_DEPENDENCIES = { '@types/node': '20.19.43' };

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${err.stderr ?? ''}\n${err.stdout ?? ''}\n${err.message}`);
  }
}

/** Every copy of a package installed under `dir`'s node_modules, as package.json paths. */
function copiesOf(dir: string, name: string): string[] {
  const found: string[] = [];
  const walk = (nm: string): void => {
    if (!existsSync(nm)) return;
    for (const entry of readdirSync(nm)) {
      if (entry.startsWith('.')) continue;
      const scoped = entry.startsWith('@') ? readdirSync(join(nm, entry)).map((e) => `${entry}/${e}`) : [entry];
      for (const p of scoped) {
        const at = join(nm, p);
        if (p === name && existsSync(join(at, 'package.json'))) found.push(join(at, 'package.json'));
        walk(join(at, 'node_modules'));
      }
    }
  };
  walk(join(dir, 'node_modules'));
  return found;
}

describe('the packed package in a scratch application', { timeout: 600_000 }, () => {
  let work: string;
  let app: string;
  let tarball: string;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'slimtrace-pkg-'));
    // Build into a copy so the repository's dist/ is never rewritten under tests that may use it.
    const staging = join(work, 'staging');
    mkdirSync(staging);
    run(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', join(staging, 'dist')], root);
    for (const f of ['package.json', 'README.md']) cpSync(join(root, f), join(staging, f));
    cpSync(join(root, 'docs'), join(staging, 'docs'), { recursive: true });
    const packed = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], staging)) as { filename: string }[];
    tarball = join(work, packed[0]!.filename);

    app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'scratch-app', private: true, type: 'module', dependencies: { slimtrace: `file:${tarball}`, ...APP_DEPENDENCIES }, devDependencies: APP_DEV_DEPENDENCIES }, null, 2),
    );
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], app);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('the tarball holds the built package and its docs, no sources, tests, benchmarks or CI', () => {
    // Listed from the repository itself, so the `files` field is what is checked.
    const listed = JSON.parse(run('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], root)) as { files: { path: string }[] }[];
    const paths = listed[0]!.files.map((f) => f.path);
    const stray = paths.filter((p) => !(p.startsWith('dist/') || p.startsWith('docs/') || p === 'README.md' || p === 'package.json'));
    assert.deepEqual(stray, [], 'only dist/, docs/, README.md and package.json are packed');
    assert.ok(!paths.some((p) => p.endsWith('.map') || p.includes('.test.')), 'no source maps or tests');
    const installed = join(app, 'node_modules/slimtrace');
    for (const entry of Object.keys(pkg.exports).filter((e) => e !== './package.json')) {
      const target = (pkg.exports[entry] as { default: string; types: string });
      assert.ok(existsSync(join(installed, target.default)), `${entry} -> ${target.default} is installed`);
      assert.ok(existsSync(join(installed, target.types)), `${entry} -> ${target.types} is installed`);
    }
  });

  it('shares the application\'s @opentelemetry/api and sdk-trace (no second copies)', () => {
    for (const name of ['@opentelemetry/api', '@opentelemetry/sdk-trace']) {
      const copies = copiesOf(app, name);
      assert.equal(copies.length, 1, `${name}: ${copies.join(', ')}`);
      const version = (JSON.parse(readFileSync(copies[0]!, 'utf8')) as { version: string }).version;
      assert.equal(version, APP_DEPENDENCIES[name as keyof typeof APP_DEPENDENCIES], `${name} is the application's own version`);
    }
  });

  it('imports slimtrace and slimtrace/sdk by name in ESM and runs them with the stock SDK', () => {
    writeFileSync(
      join(app, 'esm.mjs'),
      `import { trace, ROOT_CONTEXT } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { TracezipEncoder, TracezipDecoder, tracesDataEqual, countSpans } from 'slimtrace';
import { SamplingSpanProcessor, toReadableSpans } from 'slimtrace/sdk';
import { RandomSpanSampler, toTracesData } from 'slimtrace/sampling';
import { decodeTracesData, encodeTracesData } from 'slimtrace/otlp';
import { ReadableSpanConverter } from 'slimtrace/sdk';

const exporter = new InMemorySpanExporter();
const strategy = new RandomSpanSampler({ targetReduction: 0.5, seed: 7 });
const provider = new TracerProvider({ spanProcessors: [new SamplingSpanProcessor({ strategy, next: new SimpleSpanProcessor({ exporter }) })] });
const tracer = provider.getTracer('scratch');
for (let t = 0; t < 20; t++) {
  const root = tracer.startSpan('GET /cart');
  for (let i = 0; i < 9; i++) tracer.startSpan('SELECT cart_items', {}, trace.setSpan(ROOT_CONTEXT, root)).end();
  root.end();
}
await provider.forceFlush();
const kept = exporter.getFinishedSpans();
const converter = new ReadableSpanConverter();
const data = toTracesData(kept.map((s) => converter.convert(s)));
const bytes = encodeTracesData(data);
const encoder = new TracezipEncoder();
const decoder = new TracezipDecoder();
const result = decoder.decode(encoder.encode(decodeTracesData(bytes)));
console.log(JSON.stringify({ recorded: 200, kept: kept.length, roundTrip: result.kind === 'data' && tracesDataEqual(result.data, data), spans: countSpans(data), readable: toReadableSpans(data).length }));
await provider.shutdown();
`,
    );
    const out = JSON.parse(run(process.execPath, ['esm.mjs'], app)) as { recorded: number; kept: number; roundTrip: boolean; spans: number; readable: number };
    assert.ok(out.kept > 20 && out.kept < 200, `the sampler kept some spans of every trace: ${out.kept}`);
    assert.equal(out.spans, out.kept);
    assert.equal(out.readable, out.kept);
    assert.equal(out.roundTrip, true, 'Tracezip round trip through the installed package is exact');
  });

  it('type-checks a TypeScript consumer against the installed declarations (and rejects a misuse)', () => {
    const dir = join(app, 'consumer');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'consumer.ts'),
      `import { BatchSpanProcessor, InMemorySpanExporter, TracerProvider } from '@opentelemetry/sdk-trace';
import { TracezipEncoder, type TracesData, type Span } from 'slimtrace';
import { SamplingSpanProcessor, type SamplingSpanProcessorOptions } from 'slimtrace/sdk';
import { AutoscopeSampler, type SamplingStrategy } from 'slimtrace/sampling';
import { decodeTracesData } from 'slimtrace/otlp';

const strategy: SamplingStrategy = new AutoscopeSampler({ targetReduction: 0.8 });
const options: SamplingSpanProcessorOptions = { strategy, next: new BatchSpanProcessor({ exporter: new InMemorySpanExporter() }) };
export const provider = new TracerProvider({ spanProcessors: [new SamplingSpanProcessor(options)] });
export function firstSpan(bytes: Uint8Array): Span | undefined {
  const data: TracesData = decodeTracesData(bytes);
  return data.resourceSpans[0]?.scopeSpans[0]?.spans[0];
}
export const frame: Uint8Array = new TracezipEncoder().encode(decodeTracesData(new Uint8Array()));
// The declarations are real types, not any: each misuse below must be an error.
// @ts-expect-error a strategy is required
new SamplingSpanProcessor({ next: options.next });
// @ts-expect-error Tracezip encodes TracesData, not bytes
new TracezipEncoder().encode(new Uint8Array());
`,
    );
    for (const moduleResolution of ['NodeNext', 'Bundler']) {
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: moduleResolution === 'NodeNext' ? 'NodeNext' : 'ESNext',
            moduleResolution,
            strict: true,
            noEmit: true,
            types: ['node'],
            lib: ['ES2022'],
          },
          files: ['consumer.ts'],
        }),
      );
      run(process.execPath, [tsc, '-p', dir], dir);
    }
  });

  it('the installed CLI runs, and `analyze` names a missing optional grammar in one line', () => {
    const bin = join(app, 'node_modules/.bin/slimtrace');
    const stats = JSON.parse(run(bin, ['stats', '--traces', '30', '--json'], app)) as { traces: number };
    assert.equal(stats.traces, 30);
    const src = join(app, 'java-service');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'Cart.java'), 'class Cart { void add() { save(); } void save() {} }\n');
    run(bin, ['analyze', '--service', `cart=${src}`, '--output', join(app, 'java.json')], app);
    assert.equal((JSON.parse(readFileSync(join(app, 'java.json'), 'utf8')) as { summary: { files: number } }).summary.files, 1);
    // As after `npm install --omit=optional`: the grammar package is not there.
    const grammar = join(app, 'node_modules/tree-sitter-java');
    renameSync(grammar, `${grammar}.away`);
    try {
      const r = spawnSync(bin, ['analyze', '--service', `cart=${src}`, '--output', join(app, 'java2.json')], { cwd: app, encoding: 'utf8' });
      assert.equal(r.status, 2, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /tree-sitter-java is not installed.*npm install tree-sitter-java/);
    } finally {
      renameSync(`${grammar}.away`, grammar);
    }
  });

  it('compiles and runs every TypeScript/JavaScript snippet of README.md and docs/ against a real OTLP receiver', async () => {
    const snippets = docSnippets(root);
    assert.ok(snippets.length >= 2, `snippets found: ${snippets.map((s) => s.id).join(', ')}`);
    // What the snippets read: analysis.json of the generated services, written by the installed CLI.
    const bin = join(app, 'node_modules/.bin/slimtrace');
    const fixture = join(app, 'snippet-cwd');
    mkdirSync(fixture, { recursive: true });
    run(bin, ['generate', '--traces', '20', '-o', join(fixture, 'traffic.otlp'), '--source-dir', join(fixture, 'services')], app);
    run(bin, ['analyze', '--source-dir', join(fixture, 'services'), '--output', join(fixture, 'analysis.json')], app);

    const dir = join(app, 'snippets');
    mkdirSync(dir, { recursive: true });
    for (const s of snippets) writeFileSync(join(dir, `${s.id}.ts`), s.code);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out', types: ['node'], lib: ['ES2022'], skipLibCheck: false },
        include: ['*.ts'],
      }),
    );
    run(process.execPath, [tsc, '-p', dir], dir);

    const received: number[] = [];
    const server = await otlpReceiver(received);
    try {
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
      for (const s of snippets) {
        const r = await runNode(join(dir, 'out', `${s.id}.js`), fixture, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint });
        assert.equal(r.status, 0, `${s.id} (${s.source}) exited ${r.status}:\n${r.stderr}`);
      }
    } finally {
      server.close();
    }
    const exporting = snippets.filter((s) => s.code.includes('OTLPTraceExporter'));
    if (exporting.length > 0) assert.ok(received.reduce((a, b) => a + b, 0) > 0, `the snippets that export (${exporting.map((s) => s.id).join(', ')}) delivered spans`);
  });
});

/** An OTLP/HTTP protobuf receiver that decodes every request with slimtrace's own decoder. */
function otlpReceiver(received: number[]): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      received.push(countSpans(decodeTracesData(body)));
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

function runNode(file: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; stderr: string }> {
  return new Promise((ok) => {
    const child = spawn(process.execPath, [file], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      ok({ status, stderr });
    });
  });
}
