/**
 * The `$geoip_*` properties this server fills, in PostHog's names. When a lookup succeeds, the person's
 * `$set` receives every one of them, null where the lookup had nothing, so a move clears stale details.
 */
export const GEOIP_PROPERTIES = [
  '$geoip_city_name',
  '$geoip_country_name',
  '$geoip_country_code',
  '$geoip_continent_name',
  '$geoip_continent_code',
  '$geoip_subdivision_1_code',
  '$geoip_subdivision_1_name',
  '$geoip_subdivision_2_name',
  '$geoip_postal_code',
  '$geoip_latitude',
  '$geoip_longitude',
  '$geoip_time_zone',
  '$geoip_accuracy_radius',
] as const;

/** One of the property names in {@link GEOIP_PROPERTIES}. */
export type GeoIpProperty = (typeof GEOIP_PROPERTIES)[number];

/** What a lookup found; keys the database has no value for are absent. */
export type GeoIpProperties = Partial<Record<GeoIpProperty, string | number>>;
