import { assignData } from './assign-data.ts';
import { GEOIP_PROPERTIES, type GeoIpProperties } from './geoip-properties.ts';
import { EVENT_TO_PERSON_KEYS, initialKey } from './person-properties.ts';

/** The person's share of an event's location: additions for `$set` and `$set_once`. */
export interface PersonLocation {
  set: Readonly<Record<string, unknown>>;
  /** Absent when there is no non-null value to record as a first touch. */
  setOnce?: Readonly<Record<string, unknown>> | undefined;
}

/** What {@link addDerivedPersonProperties} needs to know beyond the event's own properties. */
export interface DerivedPersonPropertiesOptions {
  /** The location to give the person, from {@link personLocationFromLookup} or {@link personLocationFromSender}. */
  location?: PersonLocation | undefined;
  /**
   * True when `$os`/`$os_version` describe the machine that sent the event (a server SDK's host) rather
   * than the user's device; they then stay off the person, as `$initial_os` would be wrong forever.
   */
  osIsSenderHost?: boolean;
}

// Computed once: this runs for every event.
const INITIAL_KEYS: ReadonlyMap<string, string> = new Map(
  [...EVENT_TO_PERSON_KEYS, ...GEOIP_PROPERTIES].map((key) => [key, initialKey(key)]),
);

/**
 * Adds the person properties PostHog derives from an event: each copied key present goes to `$set` as
 * is and to `$set_once` as `$initial_<key>`, and so does the location. `properties` must be the event's
 * own fresh copy: `$set`/`$set_once` in it are replaced by extended copies, never changed in place.
 *
 * What the event itself put in `$set`/`$set_once` wins: a derived key is added only where that key is
 * absent, which is PostHog's rule too, since an explicit `$set` states what the sender wants the person
 * to hold. A `$set`/`$set_once` that is present but not a plain object is bad input and is left as it is,
 * with nothing added to it.
 */
export function addDerivedPersonProperties(
  properties: Record<string, unknown>,
  options: DerivedPersonPropertiesOptions = {},
): void {
  const sentSet = properties.$set as Record<string, unknown> | undefined;
  const sentSetOnce = properties.$set_once as Record<string, unknown> | undefined;
  const canSet = sentSet === undefined || isPlainObject(sentSet);
  const canSetOnce = sentSetOnce === undefined || isPlainObject(sentSetOnce);
  if (!canSet && !canSetOnce) return;

  let set: Record<string, unknown> | undefined;
  let setOnce: Record<string, unknown> | undefined;
  for (const key of EVENT_TO_PERSON_KEYS) {
    const value = properties[key];
    if (value === undefined) continue;
    // `$os_name` is an alias some SDKs send for `$os`; the enricher copies it into `$os`, which is lifted.
    if (key === '$os_name') continue;
    if (options.osIsSenderHost === true && (key === '$os' || key === '$os_version')) continue;
    (set ??= {})[key] = value;
    // A null first-touch value would block the real one for good, since `$set_once` only fills keys
    // the person lacks; `$set` keeps nulls, clearing a latest-touch value is what they are for.
    if (value !== null) (setOnce ??= {})[INITIAL_KEYS.get(key) ?? initialKey(key)] = value;
  }

  const { location } = options;
  // Copying the sender's object last is what makes its keys win.
  if (canSet && (set !== undefined || location !== undefined)) {
    properties.$set = assignData(set ?? {}, location?.set, sentSet);
  }
  if (canSetOnce && (setOnce !== undefined || location?.setOnce !== undefined)) {
    properties.$set_once = assignData(setOnce ?? {}, location?.setOnce, sentSetOnce);
  }
}

// Keyed by the lookup's cached result, so each looked-up place is shaped for the person once.
const fromLookup = new WeakMap<object, PersonLocation>();

/**
 * The person's location from a GeoIP lookup: every `$geoip_*` key in `$set`, null where the lookup had
 * nothing (so a move clears the old place's details, as in PostHog), and the values found as
 * `$initial_geoip_*`. The result is shared between events and must not be modified.
 */
export function personLocationFromLookup(found: Readonly<GeoIpProperties>): PersonLocation {
  let location = fromLookup.get(found);
  if (location === undefined) {
    const set: Record<string, unknown> = {};
    for (const key of GEOIP_PROPERTIES) set[key] = found[key] ?? null;
    location = { set, setOnce: initialValues(found) };
    fromLookup.set(found, location);
  }
  return location;
}

/** The person's location from `$geoip_*` values the sender put on the event: exactly those. */
export function personLocationFromSender(sent: Readonly<Record<string, unknown>>): PersonLocation {
  return { set: sent, setOnce: initialValues(sent) };
}

function initialValues(values: Readonly<Record<string, unknown>>): Record<string, unknown> | undefined {
  let initial: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(values)) {
    if (value !== null && value !== undefined) (initial ??= {})[INITIAL_KEYS.get(key) ?? initialKey(key)] = value;
  }
  return initial;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
