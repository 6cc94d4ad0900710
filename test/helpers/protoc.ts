// `protoc --decode` (Google's C++ protobuf) as an independent decoder oracle: run it on bytes, parse
// its text-format output into a tree, and build the tree the model says it must print. proto3
// implicit-presence fields at their default are not printed; fields with presence (messages, oneof
// members) are; unknown fields come after the known ones of their message, as `<number>: <value>`.
import { spawnSync } from 'node:child_process';
import { basename, dirname } from 'node:path';
import {
  AnyValueWithUnknownFields,
  ArrayValue,
  KeyValueList,
  type AnyValue,
  type KeyValue,
  type TracesData,
  bytesToHex,
} from '../../src/model/index.js';
import { PACKAGE, PROTO_PATH } from './protobufjs-oracle.js';
import { parseRawFields } from './wire.js';

/** undefined when protoc can be used, else why not. */
export function protocUnavailable(): string | undefined {
  const r = spawnSync('protoc', ['--version'], { encoding: 'utf8' });
  if (r.error) return `protoc not installed: ${r.error.message} (install the Debian package protobuf-compiler)`;
  if (r.status !== 0) return `protoc --version failed: ${r.stderr}`;
  return undefined;
}

export function protocDecode(bytes: Uint8Array, message: string): { ok: boolean; text: string; stderr: string } {
  const r = spawnSync('protoc', [`--proto_path=${dirname(PROTO_PATH)}`, `--decode=${PACKAGE}.${message}`, basename(PROTO_PATH)], {
    cwd: dirname(PROTO_PATH),
    input: bytes,
    maxBuffer: 256 * 1024 * 1024,
  });
  return { ok: r.status === 0, text: r.stdout?.toString('latin1') ?? '', stderr: r.stderr?.toString('utf8') ?? String(r.error) };
}

// ------------------------------------------------------------------------------------------------
// Text format
// ------------------------------------------------------------------------------------------------

export interface TextNode {
  name: string;
  /** Raw value token (leaf), e.g. `"abc"`, `42`, `SPAN_KIND_SERVER`, `0x0000002a`. */
  value?: string;
  children?: TextNode[];
}

/** Parses protoc's text output (one field per line; `name {` ... `}` for messages). */
export function parseTextFormat(text: string): TextNode[] {
  const rootNodes: TextNode[] = [];
  const stack: TextNode[][] = [rootNodes];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '') continue;
    const top = stack[stack.length - 1]!;
    if (line === '}') {
      stack.pop();
      if (stack.length === 0) throw new Error('unbalanced } in protoc output');
      continue;
    }
    if (line.endsWith(' {')) {
      const node: TextNode = { name: line.slice(0, -2), children: [] };
      top.push(node);
      stack.push(node.children!);
      continue;
    }
    const i = line.indexOf(': ');
    if (i < 0) throw new Error(`unparsed protoc line: ${line}`);
    top.push({ name: line.slice(0, i), value: line.slice(i + 2) });
  }
  if (stack.length !== 1) throw new Error('unterminated block in protoc output');
  return rootNodes;
}

/** The bytes of a C-escaped string literal as protoc prints it (output read as latin1). */
export function unescapeC(token: string): Uint8Array {
  if (!token.startsWith('"') || !token.endsWith('"')) throw new Error(`not a string literal: ${token}`);
  const s = token.slice(1, -1);
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out.push(s.charCodeAt(i) & 0xff);
      continue;
    }
    const n = s[++i]!;
    const simple: Record<string, number> = { n: 10, r: 13, t: 9, '"': 34, "'": 39, '\\': 92, a: 7, b: 8, f: 12, v: 11, '?': 63 };
    if (n in simple) out.push(simple[n]!);
    else if (n >= '0' && n <= '7') {
      let j = i;
      while (j < i + 3 && s[j]! >= '0' && s[j]! <= '7') j++;
      out.push(parseInt(s.slice(i, j), 8) & 0xff);
      i = j - 1;
    } else if (n === 'x') {
      let j = i + 1;
      while (j < i + 3 && /[0-9a-fA-F]/.test(s[j] ?? '')) j++;
      out.push(parseInt(s.slice(i + 1, j), 16));
      i = j - 1;
    } else throw new Error(`unknown escape \\${n}`);
  }
  return Uint8Array.from(out);
}

// ------------------------------------------------------------------------------------------------
// The tree the model must print as
// ------------------------------------------------------------------------------------------------

type Expected =
  | { name: string; kind: 'bytes'; bytes: Uint8Array }
  | { name: string; kind: 'token'; token: string }
  | { name: string; kind: 'double'; value: number }
  | { name: string; kind: 'unknown-len'; bytes: Uint8Array }
  | { name: string; kind: 'message'; children: Expected[] };

const enc = new TextEncoder();
const str = (name: string, v: string, out: Expected[], always = false): void => {
  if (always || v !== '') out.push({ name, kind: 'bytes', bytes: enc.encode(v) });
};
const bin = (name: string, v: Uint8Array, out: Expected[], always = false): void => {
  if (always || v.length > 0) out.push({ name, kind: 'bytes', bytes: v });
};
const num = (name: string, v: number | bigint, out: Expected[]): void => {
  if (v !== 0 && v !== 0n) out.push({ name, kind: 'token', token: String(v) });
};
const enumTok = (name: string, v: number, names: string[], out: Expected[]): void => {
  if (v !== 0) out.push({ name, kind: 'token', token: names[v] ?? String(v) });
};
const msg = (name: string, children: Expected[], out: Expected[]): void => {
  out.push({ name, kind: 'message', children });
};

function unknownExpected(u: Uint8Array | undefined, out: Expected[]): void {
  if (!u || u.length === 0) return;
  const fields = parseRawFields(u);
  if (!fields) throw new Error('model unknownFields are not well-formed');
  for (const f of fields) {
    const name = String(f.no);
    const dv = new DataView(u.buffer, u.byteOffset);
    if (f.wt === 0) out.push({ name, kind: 'token', token: String(f.varint) });
    else if (f.wt === 5) out.push({ name, kind: 'token', token: '0x' + dv.getUint32(f.valueStart, true).toString(16).padStart(8, '0') });
    else if (f.wt === 1) out.push({ name, kind: 'token', token: '0x' + dv.getBigUint64(f.valueStart, true).toString(16).padStart(16, '0') });
    else if (f.wt === 2) out.push({ name, kind: 'unknown-len', bytes: u.subarray(f.valueStart, f.valueEnd) });
    else throw new Error(`unexpected wire type ${f.wt} in generated unknown fields`);
  }
}

function anyValueExpected(v: AnyValue): Expected[] {
  const out: Expected[] = [];
  const inner = v instanceof AnyValueWithUnknownFields ? v.value : v;
  if (typeof inner === 'string') str('string_value', inner, out, true);
  else if (typeof inner === 'boolean') out.push({ name: 'bool_value', kind: 'token', token: String(inner) });
  else if (typeof inner === 'bigint') out.push({ name: 'int_value', kind: 'token', token: String(inner) });
  else if (typeof inner === 'number') out.push({ name: 'double_value', kind: 'double', value: inner });
  else if (inner instanceof ArrayValue) {
    const c: Expected[] = [];
    for (const x of inner.values) msg('values', anyValueExpected(x), c);
    unknownExpected(inner.unknownFields, c);
    msg('array_value', c, out);
  } else if (inner instanceof KeyValueList) {
    const c: Expected[] = [];
    for (const x of inner.values) msg('values', keyValueExpected(x), c);
    unknownExpected(inner.unknownFields, c);
    msg('kvlist_value', c, out);
  } else if (inner instanceof Uint8Array) bin('bytes_value', inner, out, true);
  if (v instanceof AnyValueWithUnknownFields) unknownExpected(v.unknownFields, out);
  return out;
}

function keyValueExpected(kv: KeyValue): Expected[] {
  const out: Expected[] = [];
  str('key', kv.key, out);
  // A KeyValue whose value is null may be written with or without an empty AnyValue; see below.
  msg('value', anyValueExpected(kv.value), out);
  unknownExpected(kv.unknownFields, out);
  return out;
}

const attrs = (name: string, list: readonly KeyValue[], out: Expected[]): void => {
  for (const kv of list) msg(name, keyValueExpected(kv), out);
};

const SPAN_KINDS = ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'];
const STATUS_CODES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];

export function expectedTracesText(d: TracesData): Expected[] {
  const out: Expected[] = [];
  for (const rs of d.resourceSpans) {
    const rsOut: Expected[] = [];
    if (rs.resource) {
      const r: Expected[] = [];
      attrs('attributes', rs.resource.attributes, r);
      num('dropped_attributes_count', rs.resource.droppedAttributesCount, r);
      for (const e of rs.resource.entityRefs) {
        const c: Expected[] = [];
        str('schema_url', e.schemaUrl, c);
        str('type', e.type, c);
        for (const k of e.idKeys) str('id_keys', k, c, true);
        for (const k of e.descriptionKeys) str('description_keys', k, c, true);
        unknownExpected(e.unknownFields, c);
        msg('entity_refs', c, r);
      }
      unknownExpected(rs.resource.unknownFields, r);
      msg('resource', r, rsOut);
    }
    for (const ss of rs.scopeSpans) {
      const ssOut: Expected[] = [];
      if (ss.scope) {
        const c: Expected[] = [];
        str('name', ss.scope.name, c);
        str('version', ss.scope.version, c);
        attrs('attributes', ss.scope.attributes, c);
        num('dropped_attributes_count', ss.scope.droppedAttributesCount, c);
        unknownExpected(ss.scope.unknownFields, c);
        msg('scope', c, ssOut);
      }
      for (const s of ss.spans) {
        const c: Expected[] = [];
        bin('trace_id', s.traceId, c);
        bin('span_id', s.spanId, c);
        str('trace_state', s.traceState, c);
        bin('parent_span_id', s.parentSpanId, c);
        str('name', s.name, c);
        enumTok('kind', s.kind, SPAN_KINDS, c);
        num('start_time_unix_nano', s.startTimeUnixNano, c);
        num('end_time_unix_nano', s.endTimeUnixNano, c);
        attrs('attributes', s.attributes, c);
        num('dropped_attributes_count', s.droppedAttributesCount, c);
        for (const e of s.events) {
          const ec: Expected[] = [];
          num('time_unix_nano', e.timeUnixNano, ec);
          str('name', e.name, ec);
          attrs('attributes', e.attributes, ec);
          num('dropped_attributes_count', e.droppedAttributesCount, ec);
          unknownExpected(e.unknownFields, ec);
          msg('events', ec, c);
        }
        num('dropped_events_count', s.droppedEventsCount, c);
        for (const l of s.links) {
          const lc: Expected[] = [];
          bin('trace_id', l.traceId, lc);
          bin('span_id', l.spanId, lc);
          str('trace_state', l.traceState, lc);
          attrs('attributes', l.attributes, lc);
          num('dropped_attributes_count', l.droppedAttributesCount, lc);
          num('flags', l.flags, lc);
          unknownExpected(l.unknownFields, lc);
          msg('links', lc, c);
        }
        num('dropped_links_count', s.droppedLinksCount, c);
        if (s.status) {
          const st: Expected[] = [];
          str('message', s.status.message, st);
          enumTok('code', s.status.code, STATUS_CODES, st);
          unknownExpected(s.status.unknownFields, st);
          msg('status', st, c);
        }
        num('flags', s.flags, c);
        unknownExpected(s.unknownFields, c);
        msg('spans', c, ssOut);
      }
      str('schema_url', ss.schemaUrl, ssOut);
      unknownExpected(ss.unknownFields, ssOut);
      msg('scope_spans', ssOut, rsOut);
    }
    str('schema_url', rs.schemaUrl, rsOut);
    unknownExpected(rs.unknownFields, rsOut);
    msg('resource_spans', rsOut, out);
  }
  unknownExpected(d.unknownFields, out);
  return out;
}

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function parseDouble(token: string): number {
  if (token === 'nan' || token === '-nan') return NaN;
  if (token === 'inf') return Infinity;
  if (token === '-inf') return -Infinity;
  return Number(token);
}

/** First difference between protoc's printed tree and the expected one, or undefined. */
export function diffText(actual: TextNode[], expected: Expected[], path = ''): string | undefined {
  // A KeyValue whose value is an empty AnyValue: the encoder may omit the field (same message).
  if (actual.length !== expected.length) {
    const a = actual.map((n) => n.name).join(',');
    const e = expected.map((n) => n.name).join(',');
    const valueOmitted = expected.some((x) => x.name === 'value' && x.kind === 'message' && x.children.length === 0);
    if (valueOmitted) {
      const pruned = expected.filter((x) => !(x.name === 'value' && x.kind === 'message' && x.children.length === 0));
      if (pruned.length === actual.length) return diffText(actual, pruned, path);
    }
    return `${path}: fields [${a}] != expected [${e}]`;
  }
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const p = `${path}/${e.name}[${i}]`;
    if (a.name !== e.name) return `${p}: field ${a.name} != expected ${e.name}`;
    switch (e.kind) {
      case 'message':
        if (!a.children) return `${p}: printed as a value ${a.value}, expected a message`;
        {
          const d = diffText(a.children, e.children, p);
          if (d) return d;
        }
        break;
      case 'bytes':
        if (a.value === undefined) return `${p}: printed as a message`;
        if (!bytesEq(unescapeC(a.value), e.bytes)) return `${p}: ${a.value} != expected bytes ${bytesToHex(e.bytes)}`;
        break;
      case 'token':
        if (a.value !== e.token) return `${p}: ${a.value} != expected ${e.token}`;
        break;
      case 'double': {
        if (a.value === undefined) return `${p}: printed as a message`;
        const v = parseDouble(a.value);
        if (!(Object.is(v, e.value) || (Number.isNaN(v) && Number.isNaN(e.value)))) return `${p}: ${a.value} != expected ${e.value}`;
        break;
      }
      case 'unknown-len':
        // protoc prints a length-delimited unknown field as a nested message when its bytes parse
        // as one by C++'s lenient rules (e.g. tags above 2^32 are truncated), else as a string.
        if (a.children) {
          if (e.bytes.length === 0) return `${p}: empty bytes printed as a message`;
        } else if (!bytesEq(unescapeC(a.value!), e.bytes)) return `${p}: ${a.value} != expected bytes ${bytesToHex(e.bytes)}`;
        break;
    }
  }
  return undefined;
}
