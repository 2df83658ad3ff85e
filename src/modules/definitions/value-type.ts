import type { PropertyValueType } from '../../db/documents.ts';

/**
 * An ISO-8601 date-time: a calendar date, `T` or a space, hours and minutes, optional seconds and
 * fraction, optional `Z` or offset. A date alone, a time alone, or "1714557600" is not one.
 */
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?(?:Z|[+-](\d{2})(?::?(\d{2}))?)?$/i;

/**
 * The value type a query builder shows for a property value; undefined for null, objects and arrays,
 * which say nothing about the property's type (and alone never create a definition).
 */
export function valueTypeOf(value: unknown): PropertyValueType | undefined {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? 'Numeric' : undefined;
    case 'boolean':
      return 'Boolean';
    case 'string':
      return isIsoDateTime(value) ? 'DateTime' : 'String';
    default:
      return undefined;
  }
}

/** True for a date-time string whose fields are in range (no 2024-02-30 or 25:00). */
export function isIsoDateTime(text: string): boolean {
  const match = ISO_DATE_TIME.exec(text);
  if (match === null) return false;
  const [year, month, day, hour, minute, second = 0, offsetHours = 0, offsetMinutes = 0] = match.slice(1).map((part) => (part === undefined ? undefined : Number(part))) as number[];
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysInMonth(year!, month!)) return false;
  return hour! <= 23 && minute! <= 59 && second <= 59 && offsetHours <= 23 && offsetMinutes <= 59;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
