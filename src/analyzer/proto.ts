// Reads the gRPC service definitions of `.proto` files: the package, each service and its rpc
// methods (with their streaming flags), which is what the OpenTelemetry gRPC instrumentations name
// spans after (`<package>.<Service>/<Method>`).
//
// A small hand-written reader rather than a protobuf parser (protobufjs is a dev dependency only,
// and the analyzer needs none of the message types, options or imports): it strips comments and
// string literals, then reads `package`, `service { ... }` and `rpc Name (stream? In) returns
// (stream? Out)` as tokens, skipping option blocks and everything else by brace depth. A file that
// is not proto (or is cut short) yields what could be read, never an exception.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Dirent } from 'node:fs';
import { DEFAULT_SKIP_DIRS, readSourceFile } from './source-files.js';

export interface ProtoMethod {
  /** As written in the .proto (PascalCase by convention): `AddItem`. */
  name: string;
  line: number;
  clientStreaming: boolean;
  serverStreaming: boolean;
}

export interface ProtoService {
  /** `shop.cart`, or '' when the file declares no package. */
  package: string;
  /** `CartService`. */
  name: string;
  /** `shop.cart.CartService`: the `rpc.service` of the spans. */
  fullName: string;
  file: string;
  line: number;
  methods: ProtoMethod[];
}

/** Blanks comments and string contents (keeping line breaks, so lines stay right). */
function stripCommentsAndStrings(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      j = Math.min(j, text.length);
      // An unclosed string ends at the line break, which is kept.
      const closed = text[j] === c;
      out += `${c}${' '.repeat(j - i - 1)}${closed ? c : ''}`;
      i = closed ? j + 1 : j;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

interface Token {
  text: string;
  line: number;
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  const re = /\n|[A-Za-z_][\w.]*|"[^"\n]*"|'[^'\n]*'|[{}();=<>,\[\]]|\S/g;
  for (const m of text.matchAll(re)) {
    if (m[0] === '\n') line++;
    else out.push({ text: m[0], line });
  }
  return out;
}

/** The services declared in one .proto text; an empty or unreadable text declares none. */
export function parseProto(file: string, text: string): ProtoService[] {
  const tokens = tokenize(stripCommentsAndStrings(text));
  let pkg = '';
  const services: ProtoService[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!.text;
    if (t === '{') depth++;
    else if (t === '}') depth = Math.max(0, depth - 1);
    else if (depth === 0 && t === 'package' && tokens[i + 1]) pkg = tokens[++i]!.text.replace(/;$/, '');
    else if (depth === 0 && t === 'service' && tokens[i + 1] && tokens[i + 2]?.text === '{') {
      const name = tokens[i + 1]!.text;
      const svc: ProtoService = { package: pkg, name, fullName: pkg ? `${pkg}.${name}` : name, file, line: tokens[i]!.line, methods: [] };
      services.push(svc);
      i += 2;
      // Inside the service: rpcs at depth 1 (their option blocks and `option` lines are skipped).
      let d = 1;
      for (i++; i < tokens.length && d > 0; i++) {
        const u = tokens[i]!.text;
        if (u === '{') d++;
        else if (u === '}') d--;
        else if (d === 1 && u === 'rpc') {
          const m = readRpc(tokens, i);
          if (m) {
            svc.methods.push(m.method);
            i = m.end;
          }
        }
      }
      i--; // the loop's own increment moves past the service's closing brace
    }
  }
  // A package statement after a service (legal, if odd) still names it.
  for (const s of services) if (!s.package && pkg) Object.assign(s, { package: pkg, fullName: `${pkg}.${s.name}` });
  return services;
}

/** `rpc Name ( [stream] Type ) returns ( [stream] Type )` starting at `rpc`; the index of its last token. */
function readRpc(tokens: readonly Token[], at: number): { method: ProtoMethod; end: number } | undefined {
  const name = tokens[at + 1];
  if (!name || !/^[A-Za-z_]\w*$/.test(name.text)) return undefined;
  let i = at + 2;
  const group = (): { stream: boolean } | undefined => {
    if (tokens[i]?.text !== '(') return undefined;
    i++;
    let stream = false;
    if (tokens[i]?.text === 'stream' && tokens[i + 1]?.text !== ')') {
      stream = true;
      i++;
    }
    while (i < tokens.length && tokens[i]!.text !== ')') i++;
    i++;
    return { stream };
  };
  const input = group();
  if (!input || tokens[i]?.text !== 'returns') return undefined;
  i++;
  const output = group();
  if (!output) return undefined;
  return { method: { name: name.text, line: name.line, clientStreaming: input.stream, serverStreaming: output.stream }, end: i - 1 };
}

/** The .proto files under the roots (dependency and build folders skipped), sorted. */
export async function findProtoFiles(roots: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // the source walk reports unreadable directories; protos are optional
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!DEFAULT_SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) await walk(full);
      } else if (e.isFile() && e.name.endsWith('.proto')) out.push(full);
    }
  };
  for (const r of roots) await walk(r);
  return [...new Set(out)].sort();
}

/** All gRPC services declared under the roots; a proto service declared twice (copies per service) counts once. */
export async function readProtoServices(roots: readonly string[]): Promise<ProtoService[]> {
  const byName = new Map<string, ProtoService>();
  for (const f of await findProtoFiles(roots)) {
    for (const s of parseProto(f.split(path.sep).join('/'), await readSourceFile(f))) if (!byName.has(s.fullName)) byName.set(s.fullName, s);
  }
  return [...byName.values()];
}
