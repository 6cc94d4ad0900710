// google.rpc.Status, the body of every OTLP/HTTP 4xx/5xx response and the `grpc-status-details-bin`
// trailer of a gRPC error, with the two details OTLP names: BadRequest (for bad data, which clients
// must not retry) and RetryInfo (the delay a throttled client should wait). Encoded in protobuf or in
// the proto3 JSON mapping, whichever the request used. Error paths only, so written for clarity, not
// speed; the wire primitives are the OTLP codec's.
import { ProtobufReader, ProtobufWriter, utf8Length, varint32Size } from '../otlp/wire.js';

/** The gRPC status codes slimtrace answers with (google.rpc.Code). */
export const RpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

export const BAD_REQUEST_TYPE_URL = 'type.googleapis.com/google.rpc.BadRequest';
export const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

/** A google.protobuf.Any as it travels: a type URL and the serialized message. */
export interface AnyMessage {
  typeUrl: string;
  value: Uint8Array;
}

/** google.rpc.Status with its details still packed. */
export interface RpcStatus {
  code: number;
  message: string;
  details: AnyMessage[];
}

/** What a Status built by slimtrace can carry: at most one BadRequest and one RetryInfo. */
export interface StatusDetails {
  /** A BadRequest with one field violation describing the bad data. */
  badRequest?: { field?: string; description: string };
  /** A RetryInfo: how long the client should wait before retrying, in seconds (fractions allowed). */
  retryDelaySeconds?: number;
}

// ---- protobuf ----------------------------------------------------------------------------------

/** A field of a message being encoded: embedded messages are always written, scalars only when not default. */
type Field =
  | { n: number; int: number }
  | { n: number; str: string }
  | { n: number; bytes: Uint8Array }
  | { n: number; msg: Uint8Array };

function encodeFields(fields: Field[]): Uint8Array {
  let size = 0;
  const strLens: number[] = [];
  for (const f of fields) {
    const tagSize = varint32Size(f.n << 3);
    if ('int' in f) {
      if (f.int !== 0) size += tagSize + varint32Size(f.int);
    } else if ('str' in f) {
      const len = utf8Length(f.str);
      strLens.push(len);
      if (len > 0) size += tagSize + varint32Size(len) + len;
    } else {
      const v = 'msg' in f ? f.msg : f.bytes;
      if ('msg' in f || v.length > 0) size += tagSize + varint32Size(v.length) + v.length;
    }
  }
  const w = new ProtobufWriter(size);
  let s = 0;
  for (const f of fields) {
    if ('int' in f) {
      if (f.int === 0) continue;
      w.varint32(f.n << 3);
      w.varint32(f.int);
    } else if ('str' in f) {
      const len = strLens[s++]!;
      if (len === 0) continue;
      w.varint32((f.n << 3) | 2);
      w.string(f.str, len);
    } else {
      const v = 'msg' in f ? f.msg : f.bytes;
      if (!('msg' in f) && v.length === 0) continue;
      w.varint32((f.n << 3) | 2);
      w.bytes(v);
    }
  }
  return w.buf;
}

/** Seconds as google.protobuf.Duration fields (whole seconds, nanoseconds). */
function durationParts(seconds: number): { seconds: number; nanos: number } {
  const s = Math.max(0, seconds);
  const whole = Math.floor(s);
  return { seconds: whole, nanos: Math.round((s - whole) * 1e9) };
}

function packDetails(details: StatusDetails | undefined): AnyMessage[] {
  const out: AnyMessage[] = [];
  if (details?.badRequest) {
    // BadRequest: 1 field_violations repeated FieldViolation {1 field string, 2 description string}
    const violation = encodeFields([
      { n: 1, str: details.badRequest.field ?? '' },
      { n: 2, str: details.badRequest.description },
    ]);
    out.push({ typeUrl: BAD_REQUEST_TYPE_URL, value: encodeFields([{ n: 1, msg: violation }]) });
  }
  if (details?.retryDelaySeconds !== undefined) {
    // RetryInfo: 1 retry_delay google.protobuf.Duration {1 seconds int64, 2 nanos int32}
    const d = durationParts(details.retryDelaySeconds);
    const duration = encodeFields([
      { n: 1, int: d.seconds },
      { n: 2, int: d.nanos },
    ]);
    out.push({ typeUrl: RETRY_INFO_TYPE_URL, value: encodeFields([{ n: 1, msg: duration }]) });
  }
  return out;
}

/** Builds a Status with slimtrace's details packed as Any messages. */
export function makeStatus(code: number, message: string, details?: StatusDetails): RpcStatus {
  return { code, message, details: packDetails(details) };
}

/** google.rpc.Status as protobuf: 1 code int32, 2 message string, 3 details repeated Any {1 type_url, 2 value}. */
export function encodeStatus(status: RpcStatus): Uint8Array {
  const fields: Field[] = [
    { n: 1, int: status.code },
    { n: 2, str: status.message },
  ];
  for (const d of status.details) {
    fields.push({
      n: 3,
      msg: encodeFields([
        { n: 1, str: d.typeUrl },
        { n: 2, bytes: d.value },
      ]),
    });
  }
  return encodeFields(fields);
}

/** Reads the fields of one message, calling `field` for each known (number, wire type); skips the rest. */
function readFields(r: ProtobufReader, end: number, field: (n: number, wireType: number) => boolean): void {
  while (r.pos < end) {
    const t = r.readVarint32(end);
    const n = t >>> 3;
    if (n === 0) r.fail('field-zero', 'field number 0', r.pos - 1);
    if (!field(n, t & 7)) r.skipField(t & 7, n, end);
  }
}

/** Decodes a google.rpc.Status (protobuf). Throws ProtobufDecodeError on bad input. */
export function decodeStatus(bytes: Uint8Array): RpcStatus {
  const r = new ProtobufReader(bytes, true);
  const status: RpcStatus = { code: 0, message: '', details: [] };
  readFields(r, bytes.length, (n, wt) => {
    if (n === 1 && wt === 0) status.code = r.readInt32(bytes.length);
    else if (n === 2 && wt === 2) status.message = r.readString(bytes.length);
    else if (n === 3 && wt === 2) {
      const end = r.readLengthEnd(bytes.length);
      const any: AnyMessage = { typeUrl: '', value: new Uint8Array(0) };
      readFields(r, end, (n2, wt2) => {
        if (n2 === 1 && wt2 === 2) any.typeUrl = r.readString(end);
        else if (n2 === 2 && wt2 === 2) any.value = r.readBytes(end);
        else return false;
        return true;
      });
      status.details.push(any);
    } else return false;
    return true;
  });
  return status;
}

/** The retry delay of a Status's RetryInfo detail in seconds, or undefined when it has none. */
export function retryDelayOf(status: RpcStatus): number | undefined {
  const info = status.details.find((d) => d.typeUrl === RETRY_INFO_TYPE_URL);
  if (!info) return undefined;
  const r = new ProtobufReader(info.value, true);
  let seconds = 0;
  let nanos = 0;
  readFields(r, info.value.length, (n, wt) => {
    if (n !== 1 || wt !== 2) return false;
    const end = r.readLengthEnd(info.value.length);
    readFields(r, end, (n2, wt2) => {
      if (n2 === 1 && wt2 === 0) seconds = Number(r.readInt64(end));
      else if (n2 === 2 && wt2 === 0) nanos = r.readInt32(end);
      else return false;
      return true;
    });
    return true;
  });
  return seconds + nanos / 1e9;
}

// ---- proto3 JSON -------------------------------------------------------------------------------

/** Duration in the proto3 JSON mapping: seconds with 0, 3, 6 or 9 fractional digits and an "s". */
function durationJson(seconds: number): string {
  const d = durationParts(seconds);
  if (d.nanos === 0) return `${d.seconds}s`;
  const frac = String(d.nanos).padStart(9, '0').replace(/(000)+$/, '');
  return `${d.seconds}.${frac}s`;
}

/**
 * google.rpc.Status in the proto3 JSON mapping, for OTLP/HTTP JSON clients. Details are written as
 * JSON Any objects ("@type" plus the message's fields), which needs the message's schema: only the
 * details slimtrace builds (`StatusDetails`) are supported.
 */
export function encodeStatusJson(code: number, message: string, details?: StatusDetails): string {
  const out: Record<string, unknown> = {};
  if (code !== 0) out.code = code;
  if (message !== '') out.message = message;
  const anys: Record<string, unknown>[] = [];
  if (details?.badRequest) {
    const v: Record<string, string> = {};
    if (details.badRequest.field) v.field = details.badRequest.field;
    if (details.badRequest.description) v.description = details.badRequest.description;
    anys.push({ '@type': BAD_REQUEST_TYPE_URL, fieldViolations: [v] });
  }
  if (details?.retryDelaySeconds !== undefined) {
    anys.push({ '@type': RETRY_INFO_TYPE_URL, retryDelay: durationJson(details.retryDelaySeconds) });
  }
  if (anys.length > 0) out.details = anys;
  return JSON.stringify(out);
}
