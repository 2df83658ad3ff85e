// Parsing is explicit rather than Date.parse: the built-in reads zone-less times as local time and
// accepts engine-specific junk ("foo 2020"), and a capture server must not depend on either.

const ISO =
  /^(\d{4})([-/])(\d{2})\2(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?)?$/;
const RFC2822 =
  /^(?:[A-Za-z]{3},?\s+)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{2}|\d{4})\s+(\d{2}):(\d{2})(?::(\d{2}))?\s*([A-Za-z]{1,3}|[+-]\d{4})?$/;
// What Date.prototype.toString() produces, which SDK users sometimes send by accident.
const JS_DATE_STRING =
  /^[A-Za-z]{3}\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d{4})\s+(\d{2}):(\d{2}):(\d{2})\s+GMT([+-]\d{4})(?:\s+\(.*\))?$/;
const NUMERIC = /^[+-]?\d+(?:\.\d+)?$/;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const ZONES: Record<string, number> = {
  ut: 0, utc: 0, gmt: 0, z: 0,
  edt: -4 * 60, est: -5 * 60, cdt: -5 * 60, cst: -6 * 60, mdt: -6 * 60, mst: -7 * 60, pdt: -7 * 60, pst: -8 * 60,
};

/** Epoch milliseconds of a UTC civil time; years 0-99 are taken literally, unlike Date.UTC. */
function utcMillis(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  return date.getTime();
}

function daysInMonth(year: number, month: number): number {
  return new Date(utcMillis(year, month + 1, 0, 0, 0, 0, 0)).getUTCDate();
}

function validCivil(year: number, month: number, day: number, hour: number, minute: number, second: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) &&
    hour <= 23 && minute <= 59 && second <= 60; // 60: a leap second, which rolls into the next minute
}

/** Minutes east of UTC for `Z`, `UTC`, `+HH`, `+HHMM` or `+HH:MM`; undefined when malformed. */
function zoneMinutes(zone: string | undefined): number | undefined {
  if (zone === undefined) return 0;
  const named = ZONES[zone.toLowerCase()];
  if (named !== undefined) return named;
  const match = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
  if (!match) return undefined;
  const hours = Number(match[2]);
  const minutes = Number(match[3] ?? '0');
  if (hours > 23 || minutes > 59) return undefined;
  return (match[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
}

function fromCivil(parts: (string | undefined)[], zone: string | undefined, fraction = ''): Date | undefined {
  const [year, month, day, hour, minute, second] = parts.map((p) => Number(p ?? '0')) as number[];
  if (!validCivil(year!, month!, day!, hour!, minute!, second!)) return undefined;
  const offset = zoneMinutes(zone);
  if (offset === undefined) return undefined;
  const ms = Number(fraction.slice(0, 3).padEnd(3, '0'));
  return new Date(utcMillis(year!, month!, day!, hour!, minute!, second!, ms) - offset * 60_000);
}

/**
 * Epoch numbers are milliseconds, except integers of exactly ten digits, which are seconds (2001-2286):
 * as milliseconds they would all fall in the first four months of 1970. PostHog's parser reads them so.
 */
function fromEpoch(value: number): Date | undefined {
  if (!Number.isFinite(value)) return undefined;
  const digits = Math.trunc(Math.abs(value)).toString().length;
  const date = new Date(Math.trunc(digits === 10 ? value * 1000 : value));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * Parses an event time the way capture clients send it: RFC 3339 / ISO 8601 (zone `Z`, `+HH`, `+HHMM`
 * or `+HH:MM`; none means UTC), date-only, space-separated civil time, RFC 2822, the string
 * Date.prototype.toString() makes, and epoch numbers or numeric strings. Undefined when it is none of these.
 */
export function parseDateValue(value: unknown): Date | undefined {
  if (typeof value === 'number') return fromEpoch(value);
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (NUMERIC.test(text)) return fromEpoch(Number(text));

  let m = ISO.exec(text);
  if (m) return fromCivil([m[1], m[3], m[4], m[5], m[6], m[7]], m[9], m[8]);

  m = RFC2822.exec(text);
  if (m) {
    const month = MONTHS.indexOf(m[2]!.toLowerCase()) + 1;
    if (month === 0) return undefined;
    const shortYear = m[3]!.length === 2 ? Number(m[3]) : undefined;
    const year = shortYear === undefined ? m[3] : String(shortYear < 50 ? 2000 + shortYear : 1900 + shortYear);
    return fromCivil([year, String(month), m[1], m[4], m[5], m[6]], m[7]);
  }

  m = JS_DATE_STRING.exec(text);
  if (m) {
    const month = MONTHS.indexOf(m[1]!.toLowerCase()) + 1;
    if (month === 0) return undefined;
    return fromCivil([m[3], String(month), m[2], m[4], m[5], m[6]], m[7]);
  }
  return undefined;
}
