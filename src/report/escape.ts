// Escaping for everything the report writes into HTML or SVG: span names, service names, fault
// types and strategy names come from traces, which are hostile input (a span named
// `</svg><script>` must show as text). One function for text and attribute values alike.

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe inside an element or a quoted attribute value; control characters become U+FFFD. */
export function esc(value: unknown): string {
  return String(value)
    .replace(/[&<>"']/g, (c) => ENTITIES[c]!)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '\ufffd');
}

/** A long name shortened to `max` characters (before escaping), with an ellipsis. */
export function clip(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, Math.max(1, max - 1))}…`;
}

/** A number as SVG coordinates want it: finite, at most two decimals. */
export function num(x: number): string {
  if (!Number.isFinite(x)) return '0';
  return String(Math.round(x * 100) / 100);
}
