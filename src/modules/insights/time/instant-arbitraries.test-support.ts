import fc from 'fast-check';
import { recentTransitions } from './naive-clock.test-support.ts';

const HOUR = 3_600_000;

/** Any millisecond between 1970 and 2045. */
export const anyInstant = fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2045, 0, 1) });

/**
 * Instants in the zone, half of them within `spanHours` of a daylight-saving change (where bucketing goes
 * wrong), a fifth of those exactly on a minute boundary next to it.
 */
export function instantNearDst(timeZone: string, spanHours = 50): fc.Arbitrary<number> {
  const transitions = recentTransitions(timeZone);
  if (transitions.length === 0) return anyInstant;
  const near = fc
    .tuple(fc.constantFrom(...transitions), fc.integer({ min: -spanHours * HOUR, max: spanHours * HOUR }))
    .map(([t, d]) => t + d);
  const edge = fc.tuple(fc.constantFrom(...transitions), fc.integer({ min: -2, max: 2 })).map(([t, k]) => t + k * 60_000 - (k < 0 ? 1 : 0));
  return fc.oneof({ arbitrary: anyInstant, weight: 5 }, { arbitrary: near, weight: 4 }, { arbitrary: edge, weight: 1 });
}

/** A zone from the list together with an instant biased towards its DST changes. */
export function zonedInstant(zones: readonly string[]): fc.Arbitrary<[string, number]> {
  return fc.constantFrom(...zones).chain((zone) => instantNearDst(zone).map((t): [string, number] => [zone, t]));
}
