/**
 * Which event properties PostHog copies onto the person, and which person keys change too often to
 * justify a person write on their own. Mirrors PostHog's ingestion rules (semantics reference §2.3, §2.4).
 */

/** Event properties that web and mobile SDKs send and PostHog copies to the person (`$set` and `$initial_*`). */
export const EVENT_TO_PERSON_PROPERTIES: ReadonlySet<string> = new Set([
  // mobile SDKs
  '$app_build',
  '$app_name',
  '$app_namespace',
  '$app_version',
  // web SDKs
  '$browser',
  '$browser_version',
  '$device_type',
  '$current_url',
  '$pathname',
  '$os',
  // some SDKs send `$os_name` instead of `$os`; PostHog treats it as an alias and copies it as well
  '$os_name',
  '$os_version',
  '$referring_domain',
  '$referrer',
  '$screen_height',
  '$screen_width',
  '$viewport_height',
  '$viewport_width',
  '$raw_user_agent',
]);

/** Campaign (UTM and ad click-id) properties that PostHog copies to the person the same way. */
export const CAMPAIGN_PROPERTIES: ReadonlySet<string> = new Set([
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_content',
  'utm_name',
  'utm_term',
  'gclid',
  'gad_source',
  'gclsrc',
  'dclid',
  'gbraid',
  'wbraid',
  'fbclid',
  'msclkid',
  'twclid',
  'li_fat_id',
  'mc_cid',
  'igshid',
  'ttclid',
  'rdt_cid',
  'irclid',
  '_kx',
  'epik',
  'qclid',
  'sccid',
]);

/** Every event property copied to the person: the union of the two lists above. */
export const EVENT_TO_PERSON_KEYS: ReadonlySet<string> = new Set([
  ...EVENT_TO_PERSON_PROPERTIES,
  ...CAMPAIGN_PROPERTIES,
]);

/** Events whose properties never feed the person: replay chunks and performance entries are not user context. */
export const EVENTS_WITHOUT_PERSON_PROPERTIES: ReadonlySet<string> = new Set(['$snapshot', '$performance_event']);

/** The `$set_once` key for a copied property: `$browser` → `$initial_browser`. */
export function initialKey(key: string): string {
  return `$initial_${key.startsWith('$') ? key.slice(1) : key}`;
}

/**
 * Person keys whose change alone does not justify writing the person: they move on nearly every pageview
 * (URL, viewport), on every browser update, or with every new network (most GeoIP keys). When something
 * else changes they are written along with it. `$geoip_country_name` and `$geoip_city_name` are left out on
 * purpose so that a user who moves still gets a person update. The `$initial_*` forms are left out too:
 * they are `$set_once`, so they are written at most once and cannot churn.
 *
 * PostHog's list omits `$geoip_country_code` and the continent keys; they only ever change together with
 * `$geoip_country_name`, which does trigger a write, so listing them here changes nothing in practice and
 * keeps the rule simple: every `$geoip_*` key except country and city name.
 */
export const FILTERED_PERSON_UPDATE_PROPERTIES: ReadonlySet<string> = new Set([
  // URL and navigation
  '$current_url',
  '$pathname',
  '$referring_domain',
  '$referrer',
  // screen and viewport
  '$screen_height',
  '$screen_width',
  '$viewport_height',
  '$viewport_width',
  // browser, OS and device
  '$browser',
  '$browser_version',
  '$device_type',
  '$raw_user_agent',
  '$os',
  '$os_name',
  '$os_version',
  // GeoIP, except $geoip_country_name and $geoip_city_name
  '$geoip_country_code',
  '$geoip_continent_name',
  '$geoip_continent_code',
  '$geoip_postal_code',
  '$geoip_time_zone',
  '$geoip_latitude',
  '$geoip_longitude',
  '$geoip_accuracy_radius',
  '$geoip_subdivision_1_code',
  '$geoip_subdivision_1_name',
  '$geoip_subdivision_2_code',
  '$geoip_subdivision_2_name',
  '$geoip_subdivision_3_code',
  '$geoip_subdivision_3_name',
  '$geoip_city_confidence',
  '$geoip_country_confidence',
  '$geoip_postal_code_confidence',
  '$geoip_subdivision_1_confidence',
  '$geoip_subdivision_2_confidence',
]);
