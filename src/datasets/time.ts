// Exact time parsing for the readers. Epoch nanoseconds exceed 2^53, so decimal text goes straight
// to bigint and never through a JS number; BigInt() alone is too lenient for that ("" is 0n, " 7"
// and "0x1f" parse), hence the digit check first.

const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** Unsigned decimal text (at most 20 digits, fits uint64) to bigint; undefined for anything else. */
export function parseUnsignedDecimal(text: string): bigint | undefined {
  const n = text.length;
  if (n === 0 || n > 20) return undefined;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  const v = BigInt(text);
  return n < 20 || v <= U64_MAX ? v : undefined;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * ISO-8601 date-time text (`2023-01-29T09:20:29.295`, `...295588645Z`, `2023-01-30 11:51:46`,
 * `+08:00` offsets) to epoch nanoseconds, exact to the digit. Text without a zone is read as UTC,
 * which is how the datasets' labels and log timestamps are meant. Undefined when not such text.
 */
export function parseIsoNanos(text: string): bigint | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  let ms = Date.UTC(Number(y), month - 1, day, hour, minute, second);
  if (new Date(ms).getUTCDate() !== day) return undefined; // 2023-02-30 and the like
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  const fracNs = frac ? BigInt(frac.padEnd(9, '0')) : 0n;
  return BigInt(ms) * 1_000_000n + fracNs;
}

/** Epoch nanoseconds to a Date (millisecond precision, as Date has). */
export function nanosToDate(ns: bigint): Date {
  return new Date(Number(ns / 1_000_000n));
}
