/** A parsed RFC 3339 timestamp: whole seconds since the epoch plus nanoseconds, comparable exactly. */
export interface Timestamp {
  readonly epochSeconds: number;
  readonly nanos: number;
}

const PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Days from 1970-01-01 to a civil date (proleptic Gregorian), without `Date`'s two-digit-year quirks. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

/**
 * Parses a timestamp in the States Language's profile of RFC 3339: uppercase `T`, and `Z` or a
 * numeric offset (`2016-03-14T01:59:00Z`, `2016-03-14T01:59:00.123+02:00`). Fractions up to
 * nanoseconds. Returns `undefined` for anything else, including impossible dates.
 */
export function parseTimestamp(text: string): Timestamp | undefined {
  const m = PATTERN.exec(text);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  const zone = m[8] as string;
  if (zone !== "Z") {
    const offsetHours = Number(zone.slice(1, 3));
    const offsetMins = Number(zone.slice(4, 6));
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (offsetHours * 60 + offsetMins) * (zone[0] === "-" ? -1 : 1);
  }
  const epochSeconds =
    daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60;
  const nanos = m[7] === undefined ? 0 : Number(m[7].padEnd(9, "0"));
  return { epochSeconds, nanos };
}

/** Orders two timestamps: negative, zero or positive. */
export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  return a.epochSeconds !== b.epochSeconds ? a.epochSeconds - b.epochSeconds : a.nanos - b.nanos;
}

/** Milliseconds since the epoch (sub-millisecond digits are dropped). */
export function timestampToMs(t: Timestamp): number {
  return t.epochSeconds * 1000 + Math.floor(t.nanos / 1_000_000);
}
