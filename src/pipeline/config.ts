// `slimtrace serve` configuration: a YAML file (docs/deployment.md has the reference) with command-line
// flags on top, checked all at once so a user sees every problem in one go, one line each, named by
// its path in the file ("queue.max_bytes: expected a size such as 512MiB, got 'lots'"). Defaults
// make `serve --role agent --gateway URL` and `serve --role gateway --backend URL` work as they are.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../model/index.js';
import { DEFAULT_LIMITS } from '../tracezip/index.js';
import { JETSTREAM_DEFAULTS, type JetStreamOptions } from './jetstream.js';

export type Role = 'agent' | 'gateway';

export interface SamplingConfig {
  /** Any strategy name of `slimtrace sample` (autoscope, head, tail, ...). */
  strategy: string;
  /** analysis.json for Autoscope's code knowledge. */
  analysis?: string;
  targetReduction: number;
  decisionWaitMs: number;
  /** Adaptive budget: follow load (bytes per second) instead of a fixed ratio. */
  bytesPerSecond?: number;
  /** Autoscope: what a kept byte is, 'otlp' or 'tracezip' (the frames the agent sends; AutoscopeOptions.price). */
  price: 'otlp' | 'tracezip';
  /** Autoscope: drop quiet traces whole while the budget is in debt (AutoscopeOptions.dropQuietTraces). */
  dropQuietTraces: boolean;
  /** Autoscope: the debt, in average trace shares, anomalies may run the budget into before any is dropped (AutoscopeOptions.borrowTraces). */
  debtLimit?: number;
}

export interface TlsConfig {
  certFile?: string;
  keyFile?: string;
  /** CA to trust when connecting (client side) or to verify clients with (server side). */
  caFile?: string;
}

export interface ServeConfig {
  role: Role;
  /** OTLP/HTTP (agent) or frames + OTLP/HTTP (gateway): host and port. */
  listen: { host: string; port: number };
  /** OTLP/gRPC listener; undefined = off. */
  grpc: { host: string; port: number } | undefined;
  queue: { dir: string; maxBytes: number };
  /** Largest request body after decompression (and largest frame). */
  maxRequestBytes: number;
  /** Bearer token between agent and gateway (the gateway requires it, the agent sends it). */
  bearerToken: string | undefined;
  /** Where the token was read from (auth.bearer_token_file), so it is never written in the file itself. */
  bearerTokenFile: string | undefined;
  tls: TlsConfig;
  // agent
  gateways: string[];
  sampling: SamplingConfig | undefined;
  batchSpans: number;
  lingerMs: number;
  tracezip: { compression: 'zstd' | 'gzip' | 'none'; level: number | undefined };
  // gateway
  backend: { url: string; headers: Record<string, string>; compression: 'gzip' | 'none'; timeoutMs: number } | undefined;
  fileOutput: string | undefined;
  maxStreams: number;
  maxStreamStateBytes: number;
  maxTotalStateBytes: number;
  exportConcurrency: number;
  /** How long SIGTERM waits for in-flight work before the process exits (what is left stays queued). */
  shutdownTimeoutMs: number;
  /**
   * Between agent and gateway: Tracezip frames over HTTP (the agent posts to `gateways`), or through
   * a NATS JetStream stream (the agent publishes, the gateways share a durable consumer).
   */
  transport: { kind: 'http' | 'jetstream'; jetstream: JetStreamOptions | undefined };
  /** Backoff towards the next hop (the agent's gateways, the gateway's backend); undefined keeps each one's defaults. */
  retry: { initialIntervalMs?: number; maxIntervalMs?: number };
}

export const DEFAULT_PORTS = { agentHttp: 4318, agentGrpc: 4317, gateway: 4319 } as const;

/** Flags from the command line, already named as config paths. */
export type ConfigOverrides = Record<string, unknown>;

/** Thrown with every problem found, one per line. */
export class ConfigError extends InputError {
  override name = 'ConfigError';
  constructor(
    readonly problems: string[],
    source?: string,
  ) {
    super(problems.length === 1 ? problems[0]! : `${problems.length} problems:\n  ${problems.join('\n  ')}`, source);
  }
}

const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const DURATIONS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Reads and checks a configuration: the file (if any), then the overrides on top. */
export async function loadServeConfig(file: string | undefined, overrides: ConfigOverrides): Promise<ServeConfig> {
  let doc: unknown = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new InputError(`cannot read the configuration: ${(e as Error).message}`, file);
    }
    try {
      doc = parseYaml(text) ?? {};
    } catch (e) {
      throw new InputError(`not valid YAML: ${(e as Error).message.split('\n')[0]}`, file);
    }
  }
  const config = resolveServeConfig(doc, overrides, file);
  if (config.bearerTokenFile !== undefined) {
    try {
      config.bearerToken = (await readFile(config.bearerTokenFile, 'utf8')).trim();
    } catch (e) {
      throw new InputError(`cannot read the bearer token: ${(e as Error).message}`, config.bearerTokenFile);
    }
    if (config.bearerToken === '') throw new InputError('the bearer token file is empty', config.bearerTokenFile);
  }
  const js = config.transport.jetstream;
  for (const [file, what] of [[js?.passwordFile, 'password'], [js?.tokenFile, 'token']] as const) {
    if (file === undefined) continue;
    let secret: string;
    try {
      secret = (await readFile(file, 'utf8')).trim();
    } catch (e) {
      throw new InputError(`cannot read the NATS ${what}: ${(e as Error).message}`, file);
    }
    if (secret === '') throw new InputError(`the NATS ${what} file is empty`, file);
    if (what === 'password') js!.password = secret;
    else js!.token = secret;
  }
  return config;
}

/** Checks a parsed document with overrides applied; throws ConfigError listing every problem. */
export function resolveServeConfig(doc: unknown, overrides: ConfigOverrides = {}, source?: string): ServeConfig {
  const problems: string[] = [];
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ConfigError(['the configuration must be a mapping of keys to values'], source);
  const merged = structuredClone(doc) as Record<string, unknown>;
  for (const [path, value] of Object.entries(overrides)) if (value !== undefined) setPath(merged, path, value);
  const r = new Reader(merged, problems);

  const role = r.choice('role', ['agent', 'gateway'] as const, undefined);
  const isAgent = role === 'agent';
  const listen = r.address('listen', isAgent ? DEFAULT_PORTS.agentHttp : DEFAULT_PORTS.gateway);
  const grpcEnabled = r.bool('grpc.enabled', isAgent);
  const grpcAddress = r.address('grpc.listen', DEFAULT_PORTS.agentGrpc);
  const config: ServeConfig = {
    role: role ?? 'agent',
    listen,
    grpc: grpcEnabled ? grpcAddress : undefined,
    queue: { dir: r.string('queue.dir', isAgent ? 'slimtrace-agent-queue' : 'slimtrace-gateway-queue'), maxBytes: r.size('queue.max_bytes', 1024 ** 3) },
    maxRequestBytes: r.size('limits.max_request_bytes', 64 * 1024 ** 2),
    bearerToken: r.optionalString('auth.bearer_token'),
    bearerTokenFile: r.optionalString('auth.bearer_token_file'),
    tls: { certFile: r.optionalString('tls.cert_file'), keyFile: r.optionalString('tls.key_file'), caFile: r.optionalString('tls.ca_file') },
    gateways: r.urlList('gateways'),
    sampling: undefined,
    // A frame of more spans than a gateway's decoder accepts would be refused (limits.ts).
    batchSpans: r.int('batch.max_spans', 2048, 1, DEFAULT_LIMITS.maxFrameSpans),
    lingerMs: r.duration('batch.linger', 200),
    tracezip: { compression: r.choice('tracezip.compression', ['zstd', 'gzip', 'none'] as const, 'zstd')!, level: r.optionalInt('tracezip.level', 1, 22) },
    backend: undefined,
    fileOutput: r.optionalString('file_output'),
    maxStreams: r.int('limits.max_streams', 10_000, 1, 10_000_000),
    maxStreamStateBytes: r.size('limits.max_stream_state_bytes', 64 * 1024 ** 2),
    maxTotalStateBytes: r.size('limits.max_total_state_bytes', 1024 ** 3),
    exportConcurrency: r.int('backend.concurrency', 4, 1, 256),
    shutdownTimeoutMs: r.duration('shutdown_timeout', 10_000),
    retry: {},
    transport: { kind: 'http', jetstream: undefined },
  };
  const natsServers = r.natsUrlList('transport.jetstream.servers');
  const kind = r.choice('transport.kind', ['http', 'jetstream'] as const, natsServers.length > 0 ? 'jetstream' : 'http')!;
  config.transport.kind = kind;
  if (kind === 'jetstream') {
    const d = JETSTREAM_DEFAULTS;
    config.transport.jetstream = {
      servers: natsServers,
      stream: r.natsName('transport.jetstream.stream', d.stream),
      subjectPrefix: r.subjectPrefix('transport.jetstream.subject_prefix', d.subjectPrefix),
      consumer: r.natsName('transport.jetstream.consumer', d.consumer),
      maxBytes: r.size('transport.jetstream.max_bytes', d.maxBytes),
      maxAgeMs: r.duration('transport.jetstream.max_age', d.maxAgeMs),
      discard: r.choice('transport.jetstream.discard', ['new', 'old'] as const, d.discard)!,
      duplicateWindowMs: r.duration('transport.jetstream.duplicate_window', d.duplicateWindowMs),
      maxEpochFrames: r.int('transport.jetstream.max_epoch_frames', d.maxEpochFrames, 1, 1_000_000),
      ackWaitMs: r.duration('transport.jetstream.ack_wait', d.ackWaitMs),
      maxAckPending: r.int('transport.jetstream.max_ack_pending', d.maxAckPending, 1, 1_000_000),
      replicas: r.int('transport.jetstream.replicas', d.replicas, 1, 5),
    };
    const user = r.optionalString('transport.jetstream.user');
    const passwordFile = r.optionalString('transport.jetstream.password_file');
    const tokenFile = r.optionalString('transport.jetstream.token_file');
    if (user !== undefined) config.transport.jetstream.user = user;
    if (passwordFile !== undefined) config.transport.jetstream.passwordFile = passwordFile;
    if (tokenFile !== undefined) config.transport.jetstream.tokenFile = tokenFile;
    if (passwordFile !== undefined && user === undefined) problems.push('transport.jetstream.password_file: goes with transport.jetstream.user');
    if (tokenFile !== undefined && user !== undefined) problems.push('transport.jetstream: give user and password_file, or token_file, not both');
    if (natsServers.length === 0 && !problems.some((p) => p.startsWith('transport.jetstream.servers'))) problems.push('transport.jetstream.servers: the JetStream transport needs at least one NATS server URL (--nats nats://HOST:4222)');
    if (config.transport.jetstream.ackWaitMs < 1000) problems.push('transport.jetstream.ack_wait: must be at least 1s');
  } else if (r.has('transport.jetstream')) problems.push("transport.jetstream: set, but transport.kind is 'http'; set transport.kind: jetstream (or remove transport.jetstream)");
  if (r.has('retry.initial_interval')) config.retry.initialIntervalMs = r.duration('retry.initial_interval', 0);
  if (r.has('retry.max_interval')) config.retry.maxIntervalMs = r.duration('retry.max_interval', 0);
  if (config.bearerTokenFile !== undefined && config.bearerToken !== undefined) problems.push('auth: give bearer_token or bearer_token_file, not both');

  if (r.has('sampling')) {
    const strategy = r.string('sampling.strategy', 'autoscope');
    config.sampling = {
      strategy,
      analysis: r.optionalString('sampling.analysis'),
      targetReduction: r.number('sampling.target_reduction', 0.8, 0, 0.999),
      decisionWaitMs: r.duration('sampling.decision_wait', 10_000),
      bytesPerSecond: r.optionalSize('sampling.bytes_per_second'),
      price: 'otlp',
      dropQuietTraces: r.bool('sampling.drop_quiet_traces', false),
    };
    if (r.has('sampling.debt_limit')) config.sampling.debtLimit = r.number('sampling.debt_limit', 1000, 0, 1e9);
    const price = r.string('sampling.price', 'otlp');
    if (price === 'otlp' || price === 'tracezip') config.sampling.price = price;
    else problems.push(`sampling.price: must be otlp or tracezip, got '${price}'`);
  }
  const backendUrl = r.optionalUrl('backend.url');
  if (backendUrl !== undefined) {
    config.backend = {
      url: backendUrl,
      headers: r.headers('backend.headers'),
      compression: r.choice('backend.compression', ['gzip', 'none'] as const, 'gzip')!,
      timeoutMs: r.duration('backend.timeout', 10_000),
    };
  }

  if (role === undefined) problems.push("role: required: 'agent' or 'gateway' (--role)");
  if (role === 'agent') {
    if (kind === 'jetstream') {
      if (config.gateways.length > 0) problems.push('gateways: with transport.kind jetstream the agent publishes to JetStream, not to gateway URLs; remove gateways (or --gateway)');
    } else if (config.gateways.length === 0 && !problems.some((p) => p.startsWith('gateways'))) problems.push('gateways: an agent needs at least one gateway URL (--gateway URL)');
    for (const key of ['backend', 'file_output']) if (r.has(key)) problems.push(`${key}: only a gateway exports to a backend; an agent sends to its gateways`);
  }
  if (role === 'gateway') {
    if (config.backend === undefined && config.fileOutput === undefined && !problems.some((p) => p.startsWith('backend'))) problems.push('backend.url: a gateway needs a backend (--backend URL) or file_output (--file-output FILE)');
    if (config.backend !== undefined && config.fileOutput !== undefined) problems.push('backend.url and file_output: choose one output');
    for (const key of ['gateways', 'sampling', 'batch', 'tracezip']) if (r.has(key)) problems.push(`${key}: only an agent has ${key}`);
  }
  if ((config.tls.certFile === undefined) !== (config.tls.keyFile === undefined)) problems.push('tls: cert_file and key_file go together');
  // The queue stores whole requests: it must hold the largest one the receivers accept, with room to spare.
  if (config.queue.maxBytes < 2 * config.maxRequestBytes) problems.push(`queue.max_bytes (${config.queue.maxBytes} bytes) must be at least twice limits.max_request_bytes (${config.maxRequestBytes} bytes): raise the one or lower the other`);
  problems.push(...r.unknownKeys());
  if (problems.length > 0) throw new ConfigError(problems, source);
  return config;
}

/** Every key the configuration knows, as dotted paths; a prefix ends with '.*' for free-form maps. */
const KNOWN_KEYS = [
  'role', 'listen', 'grpc.enabled', 'grpc.listen', 'queue.dir', 'queue.max_bytes', 'limits.max_request_bytes', 'limits.max_streams',
  'limits.max_stream_state_bytes', 'limits.max_total_state_bytes', 'auth.bearer_token', 'auth.bearer_token_file', 'tls.cert_file', 'tls.key_file',
  'tls.ca_file', 'gateways', 'batch.max_spans', 'batch.linger', 'tracezip.compression', 'tracezip.level', 'sampling.strategy', 'sampling.analysis',
  'sampling.target_reduction', 'sampling.decision_wait', 'sampling.bytes_per_second', 'sampling.price', 'sampling.drop_quiet_traces', 'sampling.debt_limit', 'backend.url', 'backend.headers.*', 'backend.compression',
  'backend.timeout', 'backend.concurrency', 'file_output', 'shutdown_timeout', 'retry.initial_interval', 'retry.max_interval',
  'transport.kind', 'transport.jetstream.servers', 'transport.jetstream.stream', 'transport.jetstream.subject_prefix', 'transport.jetstream.consumer',
  'transport.jetstream.max_bytes', 'transport.jetstream.max_age', 'transport.jetstream.discard', 'transport.jetstream.duplicate_window',
  'transport.jetstream.max_epoch_frames', 'transport.jetstream.ack_wait', 'transport.jetstream.max_ack_pending', 'transport.jetstream.replicas',
  'transport.jetstream.user', 'transport.jetstream.password_file', 'transport.jetstream.token_file',
];

function setPath(doc: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let at = doc;
  for (const p of parts.slice(0, -1)) {
    const next = at[p];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) at[p] = {};
    at = at[p] as Record<string, unknown>;
  }
  at[parts[parts.length - 1]!] = value;
}

/** Typed reads from the document, each recording its problem instead of throwing. */
class Reader {
  private readonly used = new Set<string>();

  constructor(
    private readonly doc: Record<string, unknown>,
    private readonly problems: string[],
  ) {}

  has(path: string): boolean {
    return this.get(path) !== undefined;
  }

  private get(path: string): unknown {
    let at: unknown = this.doc;
    for (const p of path.split('.')) {
      if (typeof at !== 'object' || at === null || Array.isArray(at)) return undefined;
      at = (at as Record<string, unknown>)[p];
    }
    return at;
  }

  private take(path: string): unknown {
    this.used.add(path);
    const v = this.get(path);
    return v === null ? undefined : v;
  }

  private bad(path: string, expected: string, got: unknown): undefined {
    this.problems.push(`${path}: expected ${expected}, got ${JSON.stringify(got)}`);
    return undefined;
  }

  optionalString(path: string): string | undefined {
    const v = this.take(path);
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') return this.bad(path, 'a non-empty string', v);
    return v;
  }

  string(path: string, fallback: string): string {
    return this.optionalString(path) ?? fallback;
  }

  bool(path: string, fallback: boolean): boolean {
    const v = this.take(path);
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') return this.bad(path, 'true or false', v) ?? fallback;
    return v;
  }

  choice<T extends string>(path: string, options: readonly T[], fallback: T | undefined): T | undefined {
    const v = this.take(path);
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || !options.includes(v as T)) return this.bad(path, `one of ${options.join(', ')}`, v) ?? fallback;
    return v as T;
  }

  optionalInt(path: string, min: number, max: number): number | undefined {
    const v = this.take(path);
    if (v === undefined) return undefined;
    const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) return this.bad(path, `an integer from ${min} to ${max}`, v);
    return n;
  }

  int(path: string, fallback: number, min: number, max: number): number {
    return this.optionalInt(path, min, max) ?? fallback;
  }

  number(path: string, fallback: number, min: number, max: number): number {
    const v = this.take(path);
    if (v === undefined) return fallback;
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) return this.bad(path, `a number from ${min} to ${max}`, v) ?? fallback;
    return n;
  }

  optionalSize(path: string): number | undefined {
    const v = this.take(path);
    if (v === undefined) return undefined;
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
    const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(v) : null;
    const unit = m ? UNITS[(m[2] || 'b').toLowerCase()] : undefined;
    if (!m || unit === undefined || !(Number(m[1]) > 0)) return this.bad(path, 'a size such as 512MiB or 1GiB', v);
    return Math.round(Number(m[1]) * unit);
  }

  size(path: string, fallback: number): number {
    return this.optionalSize(path) ?? fallback;
  }

  duration(path: string, fallback: number): number {
    const v = this.take(path);
    if (v === undefined) return fallback;
    if (typeof v === 'number' && v >= 0) return v * 1000; // a bare number is seconds
    const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/i.exec(v) : null;
    if (!m) return this.bad(path, 'a duration such as 500ms, 10s or 5m', v) ?? fallback;
    return Math.round(Number(m[1]) * DURATIONS[m[2]!.toLowerCase()]!);
  }

  address(path: string, defaultPort: number): { host: string; port: number } {
    const v = this.take(path);
    if (v === undefined) return { host: '0.0.0.0', port: defaultPort };
    const text = typeof v === 'number' ? `:${v}` : v;
    const m = typeof text === 'string' ? /^(?:\[([^\]]+)\]|([^:\s]*)):(\d{1,5})$/.exec(text.trim()) : null;
    const port = m ? Number(m[3]) : NaN;
    if (!m || port > 65535) return this.bad(path, 'HOST:PORT (e.g. 0.0.0.0:4318, or :4318)', v) ?? { host: '0.0.0.0', port: defaultPort };
    return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
  }

  optionalUrl(path: string): string | undefined {
    const v = this.take(path);
    if (v === undefined) return undefined;
    return this.checkUrl(path, v);
  }

  private checkUrl(path: string, v: unknown): string | undefined {
    if (typeof v !== 'string') return this.bad(path, 'an http(s) URL', v);
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      return this.bad(path, 'an http(s) URL', v);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return this.bad(path, 'an http(s) URL', v);
    return v;
  }

  urlList(path: string): string[] {
    const v = this.take(path);
    if (v === undefined) return [];
    const list = typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : v;
    if (!Array.isArray(list)) return this.bad(path, 'a list of URLs', v) ?? [];
    const out: string[] = [];
    list.forEach((u, i) => {
      const ok = this.checkUrl(`${path}[${i}]`, u);
      if (ok !== undefined) out.push(ok);
    });
    return out;
  }

  /** NATS server URLs: nats://, tls://, ws:// or wss:// (a comma-separated string or a list). */
  natsUrlList(path: string): string[] {
    const v = this.take(path);
    if (v === undefined) return [];
    const list = typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : v;
    if (!Array.isArray(list)) return this.bad(path, 'a list of NATS URLs', v) ?? [];
    const out: string[] = [];
    list.forEach((u, i) => {
      let ok = false;
      try {
        ok = typeof u === 'string' && ['nats:', 'tls:', 'ws:', 'wss:'].includes(new URL(u).protocol);
      } catch {
        ok = false;
      }
      if (ok) out.push(u as string);
      else this.bad(`${path}[${i}]`, 'a NATS URL such as nats://nats:4222', u);
    });
    return out;
  }

  /** A JetStream stream or consumer name: no spaces, dots or wildcards. */
  natsName(path: string, fallback: string): string {
    const v = this.optionalString(path);
    if (v === undefined) return fallback;
    if (!/^[A-Za-z0-9_-]+$/.test(v)) return this.bad(path, 'a name of letters, digits, _ and - (no dots, spaces or wildcards)', v) ?? fallback;
    return v;
  }

  /** Dot-separated subject tokens without wildcards. */
  subjectPrefix(path: string, fallback: string): string {
    const v = this.optionalString(path);
    if (v === undefined) return fallback;
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(v)) return this.bad(path, 'dot-separated subject tokens without wildcards, e.g. slimtrace', v) ?? fallback;
    return v;
  }

  headers(path: string): Record<string, string> {
    const v = this.take(path);
    if (v === undefined) return {};
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return this.bad(path, 'a mapping of header names to values', v) ?? {};
    const out: Record<string, string> = {};
    for (const [k, value] of Object.entries(v)) {
      if (typeof value !== 'string') this.bad(`${path}.${k}`, 'a string', value);
      else out[k.toLowerCase()] = value;
    }
    return out;
  }

  /** Keys in the document that nothing read: misspellings, or options of another version. */
  unknownKeys(): string[] {
    const out: string[] = [];
    const walk = (at: unknown, prefix: string): void => {
      if (typeof at !== 'object' || at === null || Array.isArray(at)) return;
      for (const [k, v] of Object.entries(at)) {
        const path = prefix ? `${prefix}.${k}` : k;
        if (KNOWN_KEYS.includes(path)) continue;
        if (KNOWN_KEYS.some((known) => known.endsWith('.*') && path.startsWith(known.slice(0, -1)))) continue;
        if (KNOWN_KEYS.some((known) => known.startsWith(`${path}.`)) && typeof v === 'object' && v !== null && !Array.isArray(v)) {
          walk(v, path);
          continue;
        }
        out.push(`${path}: unknown key${suggestion(path)}`);
      }
    };
    walk(this.doc, '');
    return out;
  }
}

/** " (did you mean x?)" for a near miss of a known key. */
function suggestion(path: string): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const known of KNOWN_KEYS) {
    const d = editDistance(path, known.replace(/\.\*$/, ''));
    if (d < bestDistance) {
      bestDistance = d;
      best = known;
    }
  }
  return best ? ` (did you mean ${best}?)` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}
