import { describe, expect, it } from 'vitest';
import { BadUserInputError } from '../../../graphql/errors.ts';
import { parseDateString } from './date-strings.ts';

const wall = (s: string) => Date.parse(`${s}Z`);

describe('parseDateString', () => {
  it('reads relative dates with and without a number, a leading minus and Start/End', () => {
    expect(parseDateString('-7d', 'dateFrom')).toEqual({ kind: 'relative', amount: 7, unit: 'd' });
    expect(parseDateString('-24h', 'dateFrom')).toEqual({ kind: 'relative', amount: 24, unit: 'h' });
    expect(parseDateString('7d', 'dateFrom')).toEqual({ kind: 'relative', amount: 7, unit: 'd' });
    expect(parseDateString('-1mStart', 'dateFrom')).toEqual({ kind: 'relative', amount: 1, unit: 'm', position: 'Start' });
    expect(parseDateString('-1dEnd', 'dateTo')).toEqual({ kind: 'relative', amount: 1, unit: 'd', position: 'End' });
    expect(parseDateString('mStart', 'dateFrom')).toEqual({ kind: 'relative', amount: 0, unit: 'm', position: 'Start' });
    expect(parseDateString('yStart', 'dateFrom')).toEqual({ kind: 'relative', amount: 0, unit: 'y', position: 'Start' });
    expect(parseDateString('-2q', 'dateFrom')).toEqual({ kind: 'relative', amount: 2, unit: 'q' });
    expect(parseDateString('-30M', 'dateFrom')).toEqual({ kind: 'relative', amount: 30, unit: 'M' });
    expect(parseDateString('-90s', 'dateFrom')).toEqual({ kind: 'relative', amount: 90, unit: 's' });
    expect(parseDateString(' -3w ', 'dateFrom')).toEqual({ kind: 'relative', amount: 3, unit: 'w' });
  });

  it('reads ISO dates and date-times as wall-clock readings, keeping a written offset', () => {
    expect(parseDateString('2024-01-31', 'dateFrom')).toEqual({ kind: 'absolute', wall: wall('2024-01-31T00:00:00'), hasTime: false });
    expect(parseDateString('2024-1-5', 'dateFrom')).toEqual({ kind: 'absolute', wall: wall('2024-01-05T00:00:00'), hasTime: false });
    expect(parseDateString('2024-01-31T13:45', 'dateTo')).toEqual({ kind: 'absolute', wall: wall('2024-01-31T13:45:00'), hasTime: true });
    expect(parseDateString('2024-01-31 13', 'dateTo')).toEqual({ kind: 'absolute', wall: wall('2024-01-31T13:00:00'), hasTime: true });
    expect(parseDateString('2024-01-31T13:45:10.1234', 'dateTo')).toEqual({
      kind: 'absolute',
      wall: wall('2024-01-31T13:45:10.123'),
      hasTime: true,
    });
    expect(parseDateString('2024-01-31T13:45:00Z', 'dateTo')).toEqual({
      kind: 'absolute',
      wall: wall('2024-01-31T13:45:00'),
      hasTime: true,
      offsetMs: 0,
    });
    expect(parseDateString('2024-01-31T13:45:00+05:30', 'dateTo')).toMatchObject({ offsetMs: 19_800_000 });
    expect(parseDateString('2024-01-31T13:45-0800', 'dateTo')).toMatchObject({ offsetMs: -28_800_000 });
    expect(parseDateString('2024-02-29', 'dateFrom')).toMatchObject({ wall: wall('2024-02-29T00:00:00') });
  });

  it('reads "all" as a start only', () => {
    expect(parseDateString('all', 'dateFrom')).toEqual({ kind: 'all' });
    expect(() => parseDateString('all', 'dateTo')).toThrow(/dateTo "all".*only works as dateFrom/);
  });

  it('refuses anything else with a BAD_USER_INPUT error that names the field and shows examples', () => {
    for (const bad of ['', 'yesterday', '-7x', '--7d', '+7d', '-7 d', '7days', '-1qStart', '-5MStart', 'dstart', '2024-13-01', '2023-02-29', '2024-01-31T24:00', '2024-01-31T12:60', '2024-01-31Z', '31/01/2024', '-12345678d']) {
      let error: unknown;
      try {
        parseDateString(bad, 'dateFrom');
      } catch (e) {
        error = e;
      }
      expect(error, bad).toBeInstanceOf(BadUserInputError);
      expect((error as BadUserInputError).extensions.code).toBe('BAD_USER_INPUT');
      expect((error as Error).message).toContain(`dateFrom "${bad}"`);
    }
    expect(() => parseDateString('last week', 'dateTo')).toThrow(/"-7d".*"2024-01-31"/);
    expect(() => parseDateString('2023-02-29', 'dateFrom')).toThrow(/month 2 of 2023 has no day 29/);
    expect(() => parseDateString('-1qStart', 'dateFrom')).toThrow(/not quarters/);
  });
});
