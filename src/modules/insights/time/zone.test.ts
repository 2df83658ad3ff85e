import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadUserInputError } from '../../../graphql/errors.ts';
import { zonedInstant } from './instant-arbitraries.test-support.ts';
import { MIDNIGHT_DST_ZONES, TEST_ZONES, localReading } from './naive-clock.test-support.ts';
import { assertTimeZone, instantAtWallClock, wallClockAt, zoneOffsetAt } from './zone.ts';

const ZONES = [...TEST_ZONES, ...MIDNIGHT_DST_ZONES];
const iso = (t: number) => new Date(t).toISOString();
const wallReading = (wall: number) => iso(wall).slice(0, 19).replace('T', ' ');

describe('time zones', () => {
  it('accepts IANA names and refuses anything else with a BAD_USER_INPUT error', () => {
    for (const zone of ZONES) expect(() => assertTimeZone(zone)).not.toThrow();
    for (const bad of ['Mars/Olympus_Mons', '', 'Europe/Berlinn']) {
      expect(() => assertTimeZone(bad)).toThrow(BadUserInputError);
    }
    expect(() => assertTimeZone('Nowhere/City')).toThrow(/Unknown time zone "Nowhere\/City"/);
  });

  it('reads the same wall clock as Intl for any instant in every test zone', () => {
    fc.assert(
      fc.property(zonedInstant(ZONES), ([zone, t]) => {
        expect(wallReading(wallClockAt(zone, t))).toBe(localReading(zone, t));
      }),
      { numRuns: 2000 },
    );
  });

  it('knows the offsets on both sides of DST changes, including half-hour and 45-minute zones', () => {
    const h = 3_600_000;
    expect(zoneOffsetAt('Europe/Berlin', Date.UTC(2024, 2, 31, 0, 59))).toBe(1 * h);
    expect(zoneOffsetAt('Europe/Berlin', Date.UTC(2024, 2, 31, 1, 0))).toBe(2 * h);
    expect(zoneOffsetAt('Australia/Lord_Howe', Date.UTC(2024, 3, 6, 14, 59))).toBe(11 * h);
    expect(zoneOffsetAt('Australia/Lord_Howe', Date.UTC(2024, 3, 6, 15, 0))).toBe(10.5 * h);
    expect(zoneOffsetAt('Pacific/Chatham', Date.UTC(2024, 3, 6, 13, 59))).toBe(13.75 * h);
    expect(zoneOffsetAt('Pacific/Chatham', Date.UTC(2024, 3, 6, 14, 0))).toBe(12.75 * h);
    expect(zoneOffsetAt('Asia/Kolkata', Date.UTC(2024, 5, 1))).toBe(5.5 * h);
  });

  it('maps a wall reading back to an instant showing that reading, the earlier one when it happens twice', () => {
    fc.assert(
      fc.property(zonedInstant(ZONES), ([zone, t]) => {
        const back = instantAtWallClock(zone, wallClockAt(zone, t));
        expect(localReading(zone, back)).toBe(localReading(zone, t));
        // Either the same instant, or the first pass through a repeated reading (clocks turned back).
        expect(back <= t).toBe(true);
        expect([0, 1_800_000, 3_600_000]).toContain(t - back);
        // The first pass: one shift earlier the clock did not show this reading.
        if (back < t) expect(localReading(zone, back - (t - back))).not.toBe(localReading(zone, t));
      }),
      { numRuns: 2000 },
    );
  });

  it('resolves repeated readings to the first pass and skipped readings with the offset before the change', () => {
    const at = (zone: string, reading: string) => iso(instantAtWallClock(zone, Date.parse(`${reading}Z`)));
    // New York, 2024-11-03: 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST).
    expect(at('America/New_York', '2024-11-03T01:30')).toBe('2024-11-03T05:30:00.000Z');
    // New York, 2024-03-10: 02:30 never happens; read as EST it is 07:30Z (03:30 EDT), as Python does.
    expect(at('America/New_York', '2024-03-10T02:30')).toBe('2024-03-10T07:30:00.000Z');
    // Lord Howe, 2024-04-07: 01:45 happens at +11:00 (14:45Z) and again at +10:30 (15:15Z).
    expect(at('Australia/Lord_Howe', '2024-04-07T01:45')).toBe('2024-04-06T14:45:00.000Z');
    // Lord Howe, 2024-10-06: 02:15 is skipped (02:00 -> 02:30); read at +10:30 it is 15:45Z (02:45 +11:00).
    expect(at('Australia/Lord_Howe', '2024-10-06T02:15')).toBe('2024-10-05T15:45:00.000Z');
    // Santiago, 2024-09-08: midnight is skipped (00:00 -> 01:00); read at -04:00 it is 04:00Z (01:00 -03:00).
    expect(at('America/Santiago', '2024-09-08T00:00')).toBe('2024-09-08T04:00:00.000Z');
    // Havana, 2024-11-03: midnight happens twice (01:00 CDT -> 00:00 CST); the first is 04:00Z.
    expect(at('America/Havana', '2024-11-03T00:00')).toBe('2024-11-03T04:00:00.000Z');
  });
});
