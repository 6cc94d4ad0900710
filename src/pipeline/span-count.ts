// Spans in an OTLP ExportTraceServiceRequest, counted off the protobuf without building a span: the
// gateway accounts for every request it exports (metrics) and must not pay a full decode for it.
import { ProtobufReader } from '../otlp/wire.js';

/**
 * Counts `spans` (ScopeSpans field 2) in `resource_spans` (field 1) -> `scope_spans` (field 2).
 * Throws ProtobufDecodeError on malformed input.
 */
export function countRequestSpans(request: Uint8Array): number {
  const r = new ProtobufReader(request);
  let spans = 0;
  // request: 1 resource_spans; ResourceSpans: 2 scope_spans; ScopeSpans: 2 spans
  const walk = (end: number, depth: number): void => {
    while (r.pos < end) {
      const tag = r.readVarint32(end);
      const field = tag >>> 3;
      const wire = tag & 7;
      if (wire === 2 && ((depth === 0 && field === 1) || (depth === 1 && field === 2))) {
        const stop = r.readLengthEnd(end);
        walk(stop, depth + 1);
        r.pos = stop;
      } else if (depth === 2 && field === 2 && wire === 2) {
        r.pos = r.readLengthEnd(end);
        spans++;
      } else r.skipField(wire, field, end);
    }
  };
  walk(request.length, 0);
  return spans;
}
