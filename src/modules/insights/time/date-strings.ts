import { BadUserInputError } from '../../../graphql/errors.ts';
import { daysInMonth, wallOf } from './zone.ts';

/**
 * The date strings of PostHog's `dateRange.date_from` / `date_to` (posthog/utils.py
 * `relative_date_parse_with_delta_mapping`), parsed without looking at the clock:
 * - relative: `-?<n><unit>[Start|End]`, units h d w m q y (and M minutes, s seconds); `n` may be left out
 *   (`dStart`, `mStart`, `yStart` mean the current day, month, year);
 * - ISO: `YYYY-MM-DD`, `YYYY-MM-DD[T ]hh[:mm[:ss[.fff]]]`, optionally with `Z` or `±hh[:mm]` after a
 *   time; without an offset the wall clock of the project's time zone is meant;
 * - `all`: from the project's first event (only as dateFrom).
 *
 * Stricter than PostHog, which searches the string for the first `<n><unit>` anywhere and otherwise
 * silently means "now": anything else here is a `BadUserInputError`.
 */

/** Units of a relative date: hour, day, week, month, quarter (13 weeks), year, minute, second. */
export type RelativeUnit = 'h' | 'd' | 'w' | 'm' | 'q' | 'y' | 'M' | 's';

export type ParsedDate =
  | { kind: 'all' }
  | {
      kind: 'relative';
      /** How many units before now; 0 when the number was left out. */
      amount: number;
      unit: RelativeUnit;
      /** Snap to the start or the end of the unit (hour, day, week, month or year). */
      position?: 'Start' | 'End';
    }
  | {
      kind: 'absolute';
      /** The date and time as written, encoded as a wall reading (see zone.ts). */
      wall: number;
      /** The UTC offset written in the string, in ms; absent means the project's time zone. */
      offsetMs?: number;
      /** Whether a time of day was written (`2024-01-31` has none). */
      hasTime: boolean;
    };

/** Which dateRange field a string came from, for error messages. */
export type DateField = 'dateFrom' | 'dateTo';

const RELATIVE = /^-?(\d{1,7})?([hdwmqyMs])(Start|End)?$/;
const ISO =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;
const POSITIONED_UNITS = new Set<RelativeUnit>(['h', 'd', 'w', 'm', 'y']);
const UNIT_NAMES: Record<RelativeUnit, string> = {
  h: 'hours', d: 'days', w: 'weeks', m: 'months', q: 'quarters', y: 'years', M: 'minutes', s: 'seconds',
};

export const DATE_STRING_HELP =
  'Use a relative date such as "-7d", "-24h", "-2w", "-3m", "-1y", "-1mStart", "dStart", "mStart" or "yStart", ' +
  'or an ISO date such as "2024-01-31" or "2024-01-31T13:45".';

function invalid(field: DateField, input: string, why: string): BadUserInputError {
  return new BadUserInputError(`${field} "${input}" is not a date we understand: ${why}`, { field, value: input });
}

/** Parses a dateRange string; throws `BadUserInputError` with a message naming the field when it is not one. */
export function parseDateString(raw: string, field: DateField): ParsedDate {
  if (typeof raw !== 'string') throw new BadUserInputError(`${field} must be a string.`, { field });
  const input = raw.trim();
  if (input === 'all') {
    if (field === 'dateTo') throw invalid(field, raw, '"all" only works as dateFrom (it means "since the first event").');
    return { kind: 'all' };
  }
  const relative = RELATIVE.exec(input);
  if (relative) {
    const unit = relative[2] as RelativeUnit;
    const position = relative[3] as 'Start' | 'End' | undefined;
    if (position && !POSITIONED_UNITS.has(unit)) {
      throw invalid(field, raw, `"${position}" can follow hours, days, weeks, months or years, not ${UNIT_NAMES[unit]}.`);
    }
    return { kind: 'relative', amount: relative[1] === undefined ? 0 : Number(relative[1]), unit, ...(position ? { position } : {}) };
  }
  const iso = ISO.exec(input);
  if (iso) return parseIso(iso, field, raw);
  throw invalid(field, raw, DATE_STRING_HELP);
}

function parseIso(m: RegExpExecArray, field: DateField, raw: string): ParsedDate {
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const hasTime = m[4] !== undefined;
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const millisecond = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (month < 1 || month > 12) throw invalid(field, raw, `there is no month ${month}.`);
  if (day < 1 || day > daysInMonth(year, month)) throw invalid(field, raw, `month ${month} of ${year} has no day ${day}.`);
  if (hour > 23 || minute > 59 || second > 59) throw invalid(field, raw, 'the time of day is out of range.');
  const offset = m[8];
  const parsed: ParsedDate = { kind: 'absolute', wall: wallOf(year, month, day, hour, minute, second, millisecond), hasTime };
  if (offset === undefined) return parsed;
  if (offset === 'Z') return { ...parsed, offsetMs: 0 };
  const digits = offset.slice(1).replace(':', '');
  const [oh, om] = [Number(digits.slice(0, 2)), Number(digits.slice(2) || 0)];
  if (oh > 23 || om > 59) throw invalid(field, raw, 'the UTC offset is out of range.');
  return { ...parsed, offsetMs: (offset.startsWith('-') ? -1 : 1) * (oh * 60 + om) * 60_000 };
}
