import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSentAt, resolveTimestamp, type TimestampInput } from './timestamps.ts';

const NOW = new Date('2023-01-01T12:00:00.000Z');
const at = (iso: string) => new Date(iso);
const resolve = (input: Omit<TimestampInput, 'now'>) => resolveTimestamp({ now: NOW, ...input });

describe('resolveTimestamp', () => {
  it.each<[string, Omit<TimestampInput, 'now'>, string, string | undefined]>([
    ['nothing given → now', {}, '2023-01-01T12:00:00.000Z', undefined],
    ['timestamp only', { timestamp: '2023-01-01T11:00:00Z' }, '2023-01-01T11:00:00.000Z', undefined],
    ['skew correction: now + (timestamp − sent_at)', { timestamp: '2023-01-01T11:59:55Z', sentAt: at('2023-01-01T12:00:05Z') }, '2023-01-01T11:59:50.000Z', undefined],
    ['skew correction keeps milliseconds', { timestamp: '2023-01-01T12:00:00.750Z', sentAt: at('2023-01-01T12:00:00.200Z') }, '2023-01-01T12:00:00.550Z', undefined],
    ['skew correction across time zones', { timestamp: '2023-01-01T15:02:00+04:00', sentAt: at('2023-01-01T11:12:00Z') }, '2023-01-01T11:50:00.000Z', undefined],
    ['a client clock a day fast still lands at the right moment', { timestamp: '2023-01-02T11:59:00Z', sentAt: at('2023-01-02T12:00:00Z') }, '2023-01-01T11:59:00.000Z', undefined],
    ['$ignore_sent_at turns skew correction off', { timestamp: '2023-01-01T11:00:00Z', sentAt: at('2023-01-01T12:00:05Z'), ignoreSentAt: true }, '2023-01-01T11:00:00.000Z', undefined],
    ['offset → now − offset', { offset: 5000 }, '2023-01-01T11:59:55.000Z', undefined],
    ['offset overrides timestamp and sent_at', { timestamp: '2020-01-01T00:00:00Z', sentAt: at('2020-01-01T00:00:01Z'), offset: 1000 }, '2023-01-01T11:59:59.000Z', undefined],
    ['numeric epoch ms timestamp', { timestamp: 1672570800000 }, '2023-01-01T11:00:00.000Z', undefined],
    ['unparseable timestamp → now, with a warning', { timestamp: 'not a date' }, '2023-01-01T12:00:00.000Z', 'ignored_invalid_timestamp'],
    ['unparseable timestamp with offset still uses offset', { timestamp: 'garbage', offset: 1000 }, '2023-01-01T11:59:59.000Z', 'ignored_invalid_timestamp'],
    ['non-numeric offset is ignored with a warning', { timestamp: '2023-01-01T11:00:00Z', offset: '5000' }, '2023-01-01T11:00:00.000Z', 'ignored_invalid_timestamp'],
    ['empty timestamp counts as absent', { timestamp: '' }, '2023-01-01T12:00:00.000Z', undefined],
    ['null timestamp counts as absent', { timestamp: null, offset: null }, '2023-01-01T12:00:00.000Z', undefined],
    ['exactly 23 h ahead is kept', { timestamp: '2023-01-02T11:00:00Z' }, '2023-01-02T11:00:00.000Z', undefined],
    ['23 h + 1 ms ahead is clamped to now', { timestamp: '2023-01-02T11:00:00.001Z' }, '2023-01-01T12:00:00.000Z', 'event_timestamp_in_future'],
    ['far future epoch is clamped to now', { timestamp: 8.64e15 }, '2023-01-01T12:00:00.000Z', 'event_timestamp_in_future'],
    ['negative offset into the future is clamped', { offset: -48 * 3600 * 1000 }, '2023-01-01T12:00:00.000Z', 'event_timestamp_in_future'],
    ['year 1 is stored as is', { timestamp: '0001-01-01T00:00:00Z' }, '0001-01-01T00:00:00.000Z', undefined],
    ['year 0 is stored as is', { timestamp: '0000-06-01T00:00:00Z' }, '0000-06-01T00:00:00.000Z', undefined],
    ['a negative year falls back to the epoch', { timestamp: -1e14 }, '1970-01-01T00:00:00.000Z', 'ignored_invalid_timestamp'],
    ['skew pushing before year 0 falls back to the epoch', { timestamp: '0001-01-01T00:00:00Z', sentAt: at('9999-01-01T00:00:00Z') }, '1970-01-01T00:00:00.000Z', 'ignored_invalid_timestamp'],
    ['an offset past the Date range falls back to the epoch', { offset: 1e300 }, '1970-01-01T00:00:00.000Z', 'ignored_invalid_timestamp'],
  ])('%s', (_name, input, expected, warning) => {
    const result = resolve(input);
    expect(result.timestamp.toISOString()).toBe(expected);
    expect(result.warning).toBe(warning);
  });

  it('never returns an invalid date or one more than 23 h ahead, whatever it is given', () => {
    const anything = fc.oneof(fc.string(), fc.double(), fc.integer(), fc.constant(undefined), fc.date({ noInvalidDate: true }).map((d) => d.toISOString()));
    fc.assert(
      fc.property(anything, anything, fc.option(fc.date({ noInvalidDate: true }), { nil: undefined }), fc.boolean(), (timestamp, offset, sentAt, ignoreSentAt) => {
        const { timestamp: result } = resolve({ timestamp, offset, sentAt, ignoreSentAt });
        expect(Number.isNaN(result.getTime())).toBe(false);
        expect(result.getTime() - NOW.getTime()).toBeLessThanOrEqual(23 * 3600 * 1000);
        expect(result.getUTCFullYear()).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 500 },
    );
  });

  it('is exact for any skew: the result keeps the gap between event and send', () => {
    fc.assert(
      fc.property(fc.integer({ min: -30 * 86400_000, max: 30 * 86400_000 }), fc.integer({ min: 0, max: 3600_000 }), (skew, age) => {
        const sentAt = new Date(NOW.getTime() + skew);
        const timestamp = new Date(sentAt.getTime() - age).toISOString();
        expect(resolve({ timestamp, sentAt }).timestamp.getTime()).toBe(NOW.getTime() - age);
      }),
    );
  });
});

describe('parseSentAt', () => {
  it.each<[string, unknown, string | null | undefined, string | undefined]>([
    ['body ISO sent_at', '2023-01-01T12:00:05.000Z', undefined, '2023-01-01T12:00:05.000Z'],
    ['body wins over query', '2023-01-01T12:00:05.000Z', '1700000000000', '2023-01-01T12:00:05.000Z'],
    ['query epoch ms', undefined, '1700000000000', '2023-11-14T22:13:20.000Z'],
    ['invalid body falls back to query', 'yesterday', '1700000000000', '2023-11-14T22:13:20.000Z'],
    ['query in seconds (year 1970) is ignored', undefined, '1700000000', undefined],
    ['query at the end of 2020 is ignored', undefined, String(Date.parse('2020-12-31T23:59:59Z')), undefined],
    ['query at the start of 2021 is used', undefined, String(Date.parse('2021-01-01T00:00:00Z')), '2021-01-01T00:00:00.000Z'],
    ['query that is not a number', undefined, '2023-01-01T00:00:00Z', undefined],
    ['query past year 9999', undefined, '300000000000000', undefined],
    ['nothing', undefined, null, undefined],
    ['empty body and empty query', '', '', undefined],
  ])('%s', (_name, body, query, expected) => {
    expect(parseSentAt(body, query)?.toISOString()).toBe(expected);
  });
});
