import { StoreError } from './errors.ts';

/**
 * Time-zone arithmetic for date operators: MongoDB accepts Olson names ("America/New_York", "UTC")
 * and fixed offsets ("+05:30", "-0800", "+03"). Offsets of named zones come from the runtime's Intl
 * data and change with daylight saving, so they are looked up for the instant in question.
 */

const FIXED_OFFSET = /^([+-])(\d{2}):?(\d{2})?$/;
const formatters = new Map<string, Intl.DateTimeFormat>();
/** Per named zone, offsets by quarter hour since the epoch; numeric keys keep a lookup cheap on hot paths. */
const offsetCache = new Map<string, Map<number, number>>();
/** Fixed offsets by zone string, or null for a named zone (parsed once, not per document). */
const fixedOffsets = new Map<string, number | null>();
const OFFSET_CACHE_LIMIT = 100_000;
// Transitions fall on quarter hours in every zone in use, so the offset is constant within one.
const QUARTER_HOUR = 15 * 60_000;

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new StoreError('Location40485', `unrecognized time zone identifier: "${zone}"`);
    }
    formatters.set(zone, f);
  }
  return f;
}

/** The zone's offset from UTC in milliseconds at the given instant. */
export function zoneOffsetMs(zone: string | undefined, instant: number): number {
  if (zone === undefined || zone === null || zone === 'UTC' || zone === 'GMT' || zone === 'Z') return 0;
  const fixed = fixedOffsetOf(zone);
  if (fixed !== null) return fixed;
  let zoneCache = offsetCache.get(zone);
  if (!zoneCache) {
    if (offsetCache.size > 1_000) offsetCache.clear();
    zoneCache = new Map();
    offsetCache.set(zone, zoneCache);
  }
  const quarter = Math.floor(instant / QUARTER_HOUR);
  const cached = zoneCache.get(quarter);
  if (cached !== undefined) return cached;
  const parts: Record<string, number> = {};
  for (const part of formatterFor(zone).formatToParts(new Date(instant))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  const offset = wall - Math.floor(instant / 1000) * 1000;
  if (zoneCache.size > OFFSET_CACHE_LIMIT) zoneCache.clear();
  zoneCache.set(quarter, offset);
  return offset;
}

function fixedOffsetOf(zone: string): number | null {
  let offset = fixedOffsets.get(zone);
  if (offset === undefined) {
    const fixed = FIXED_OFFSET.exec(zone);
    const minutes = fixed ? Number(fixed[2]) * 60 + Number(fixed[3] ?? 0) : 0;
    offset = fixed ? (fixed[1] === '-' ? -minutes : minutes) * 60_000 : null;
    if (fixedOffsets.size > 1_000) fixedOffsets.clear();
    fixedOffsets.set(zone, offset);
  }
  return offset;
}

/**
 * The instant at which the zone's wall clock shows `wallMs` (wall-clock time encoded as if it were UTC).
 * A reading that happens twice (clocks going back) is its first occurrence; one that never happens
 * (clocks going forward, e.g. a skipped midnight) is read with the offset from before the change, so a
 * day whose midnight is skipped starts at its first instant, not in the day before.
 */
export function wallClockToInstant(zone: string | undefined, wallMs: number): number {
  const before = zoneOffsetMs(zone, wallMs - DAY_MS);
  const instant = wallMs - before;
  const at = zoneOffsetMs(zone, instant);
  if (at === before) return instant;
  const later = wallMs - at;
  return zoneOffsetMs(zone, later) === at ? later : instant;
}

const DAY_MS = 86_400_000;

/** "+hh:mm" for an offset, the form mingo's date operators take. */
export function formatOffset(offsetMs: number): string {
  const minutes = Math.round(Math.abs(offsetMs) / 60_000);
  const sign = offsetMs < 0 ? '-' : '+';
  return `${sign}${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}
