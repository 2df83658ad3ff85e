import { describe, expect, it } from 'vitest';
import { lookupGeoIp } from './geoip.ts';

// Addresses of long-lived public services whose country has not moved in years.
describe('lookupGeoIp', () => {
  it('locates a public IPv4 address down to the city', () => {
    const found = lookupGeoIp('8.8.8.8');
    expect(found).toMatchObject({
      $geoip_country_code: 'US',
      $geoip_country_name: 'United States',
      $geoip_continent_code: 'NA',
      $geoip_continent_name: 'North America',
    });
    expect(typeof found?.$geoip_city_name).toBe('string');
    expect(typeof found?.$geoip_subdivision_1_name).toBe('string');
    expect(found?.$geoip_latitude).toBeGreaterThan(24);
    expect(found?.$geoip_latitude).toBeLessThan(50);
    expect(found?.$geoip_longitude).toBeGreaterThan(-125);
    expect(found?.$geoip_longitude).toBeLessThan(-66);
  });

  it('names the city without the district the database appends', () => {
    // The RIPE NCC has been in central Amsterdam since the 1990s.
    expect(lookupGeoIp('193.0.6.139')).toMatchObject({
      $geoip_country_code: 'NL',
      $geoip_country_name: 'Netherlands',
      $geoip_city_name: 'Amsterdam',
      $geoip_continent_name: 'Europe',
    });
  });

  it('puts Russia in Europe, as PostHog does', () => {
    expect(lookupGeoIp('77.88.8.8')).toMatchObject({ $geoip_country_code: 'RU', $geoip_continent_code: 'EU' });
  });

  it('locates IPv6 addresses', () => {
    expect(lookupGeoIp('2001:67c:2e8:22::c100:68b')).toMatchObject({ $geoip_country_code: 'NL' });
  });

  it('looks up an IPv4 client seen through a dual-stack socket as IPv4', () => {
    expect(lookupGeoIp('::ffff:8.8.8.8')).toMatchObject({ $geoip_country_code: 'US' });
  });

  it('gives coordinates with at most four decimals', () => {
    const found = lookupGeoIp('193.0.6.139');
    for (const value of [found?.$geoip_latitude, found?.$geoip_longitude]) {
      expect(typeof value).toBe('number');
      expect(Math.round((value as number) * 10_000) / 10_000).toBe(value);
    }
  });

  it.each([
    ['a private address', '10.1.2.3'],
    ['a home router address', '192.168.1.1'],
    ['loopback', '127.0.0.1'],
    ['IPv6 loopback', '::1'],
    ['an IPv6 link-local address', 'fe80::1'],
    ['a unique-local IPv6 address', 'fd12:3456:789a::1'],
    ['carrier-grade NAT', '100.64.1.1'],
    ['a documentation address', '203.0.113.9'],
    ['an out-of-range address', '256.1.1.1'],
    ['a hexadecimal spelling', '0x08080808'],
    ['a host name', 'example.com'],
    ['an empty string', ''],
  ])('gives nothing for %s', (_name, ip) => {
    expect(lookupGeoIp(ip)).toBeUndefined();
  });
});
