import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDateValue } from './date-parse.ts';

const iso = (value: unknown) => parseDateValue(value)?.toISOString();

describe('parseDateValue: accepted formats', () => {
  it.each<[string, unknown, string]>([
    ['RFC 3339 with Z', '2023-01-01T12:00:00Z', '2023-01-01T12:00:00.000Z'],
    ['lower-case t and z', '2023-01-01t12:00:00z', '2023-01-01T12:00:00.000Z'],
    ['milliseconds', '2023-01-01T12:00:00.123Z', '2023-01-01T12:00:00.123Z'],
    ['microseconds truncated to ms', '2023-01-01T12:00:00.123456Z', '2023-01-01T12:00:00.123Z'],
    ['one fractional digit', '2023-01-01T12:00:00.5Z', '2023-01-01T12:00:00.500Z'],
    ['+HH:MM offset', '2023-01-01T12:00:00+02:00', '2023-01-01T10:00:00.000Z'],
    ['-HH:MM offset', '2023-01-01T12:00:00-05:30', '2023-01-01T17:30:00.000Z'],
    ['+HH offset without minutes', '2025-09-17T14:05:04.805+03', '2025-09-17T11:05:04.805Z'],
    ['+HHMM offset', '2023-01-01T12:00:00+0200', '2023-01-01T10:00:00.000Z'],
    ['+14:00 offset', '2023-01-01T12:00:00+14:00', '2022-12-31T22:00:00.000Z'],
    ['no zone means UTC, not server-local', '2023-01-01T12:00:00', '2023-01-01T12:00:00.000Z'],
    ['no seconds', '2023-01-01T12:00Z', '2023-01-01T12:00:00.000Z'],
    ['date only', '2023-01-01', '2023-01-01T00:00:00.000Z'],
    ['slashes', '2023/01/31', '2023-01-31T00:00:00.000Z'],
    ['space-separated civil time', '2023-01-01 12:00:00', '2023-01-01T12:00:00.000Z'],
    ['Python str(datetime) with offset', '2023-01-01 12:00:00.250000+00:00', '2023-01-01T12:00:00.250Z'],
    ['civil time with UTC suffix', '2023-01-01 12:00:00 UTC', '2023-01-01T12:00:00.000Z'],
    ['surrounding whitespace', '  2023-01-01T12:00:00Z \n', '2023-01-01T12:00:00.000Z'],
    ['leap second rolls over', '2016-12-31T23:59:60Z', '2017-01-01T00:00:00.000Z'],
    ['29 February in a leap year', '2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['year 0001 stays year 1', '0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
    ['year 9999', '9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
    ['RFC 2822', 'Tue, 1 Jul 2003 10:52:37 +0200', '2003-07-01T08:52:37.000Z'],
    ['RFC 2822 / toUTCString', 'Sun, 01 Jan 2023 12:00:00 GMT', '2023-01-01T12:00:00.000Z'],
    ['RFC 2822 without weekday or seconds', '1 Jul 2003 10:52 EST', '2003-07-01T15:52:00.000Z'],
    ['RFC 2822 two-digit year', 'Tue, 1 Jul 03 10:52:37 +0000', '2003-07-01T10:52:37.000Z'],
    ['Date.prototype.toString()', 'Sun Jan 01 2023 13:00:00 GMT+0100 (Central European Standard Time)', '2023-01-01T12:00:00.000Z'],
    ['epoch milliseconds number', 1672574400000, '2023-01-01T12:00:00.000Z'],
    ['epoch milliseconds string', '1672574400000', '2023-01-01T12:00:00.000Z'],
    ['fractional epoch milliseconds', 1672574400000.9, '2023-01-01T12:00:00.000Z'],
    ['ten-digit epoch seconds number', 1672574400, '2023-01-01T12:00:00.000Z'],
    ['ten-digit epoch seconds string', '1672574400', '2023-01-01T12:00:00.000Z'],
    ['fractional epoch seconds', 1672574400.5, '2023-01-01T12:00:00.500Z'],
    ['small numbers are milliseconds', 1000, '1970-01-01T00:00:01.000Z'],
    ['zero', 0, '1970-01-01T00:00:00.000Z'],
    ['negative milliseconds', -86400000, '1969-12-31T00:00:00.000Z'],
  ])('%s', (_name, input, expected) => {
    expect(iso(input)).toBe(expected);
  });

  it('reads every Date.toISOString() back to the same instant', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }), (date) => {
        expect(parseDateValue(date.toISOString())?.getTime()).toBe(date.getTime());
        expect(parseDateValue(date.toUTCString())?.getTime()).toBe(Math.floor(date.getTime() / 1000) * 1000);
      }),
    );
  });
});

describe('parseDateValue: refused', () => {
  it.each<[string, unknown]>([
    ['garbage', 'invalid-date'],
    ['empty', ''],
    ['five-digit year', '99999-01-01T12:00:00Z'],
    ['month 13', '2023-13-01'],
    ['31 April', '2023-04-31'],
    ['29 February outside a leap year', '2023-02-29'],
    ['hour 24', '2023-01-01T24:00:00Z'],
    ['minute 60', '2023-01-01T12:60:00Z'],
    ['offset hour 24', '2023-01-01T12:00:00+24:00'],
    ['mixed separators', '2023-01/01'],
    ['unknown RFC 2822 month', '1 Foo 2003 10:52:37 +0000'],
    ['unknown zone name', '1 Jul 2003 10:52:37 XYZ'],
    ['US month/day order', '01/31/2023'],
    ['engine-lenient junk', 'foo 2020'],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['beyond the Date range', 9e15],
    ['boolean', true],
    ['object', { t: 1 }],
    ['null', null],
  ])('%s', (_name, input) => {
    expect(parseDateValue(input)).toBeUndefined();
  });
});
