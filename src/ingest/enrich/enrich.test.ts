import { describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '../types.ts';
import { Enricher } from './enrich.ts';

const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1';
const WINDOWS_CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';

function event(properties: Record<string, unknown>, name = '$pageview'): NormalizedEvent {
  const uuid = '0190a0a0-0000-7000-8000-000000000001';
  return { uuid, event: name, distinctId: 'user-1', timestamp: new Date(0), properties };
}

const enricher = new Enricher();

describe('Enricher: $ip', () => {
  it('records the client address when the SDK sent none', () => {
    expect(enricher.enrich(event({}), { clientIp: '10.0.0.7' }).properties.$ip).toBe('10.0.0.7');
  });

  it('keeps the address the SDK sent', () => {
    expect(enricher.enrich(event({ $ip: '10.0.0.9' }), { clientIp: '10.0.0.7' }).properties.$ip).toBe('10.0.0.9');
  });
});

describe('Enricher: user agent', () => {
  it('describes the browser from the request when the SDK did not', () => {
    const { properties } = enricher.enrich(event({}), { userAgent: IPHONE });
    expect(properties).toMatchObject({
      $browser: 'Mobile Safari',
      $browser_version: 17.2,
      $os: 'iOS',
      $os_version: '17.2.0',
      $device_type: 'Mobile',
      $device: 'iPhone',
    });
  });

  it('prefers $raw_user_agent, the end user browser a server SDK forwards, over the request header', () => {
    const { properties } = enricher.enrich(event({ $raw_user_agent: WINDOWS_CHROME }), {
      userAgent: 'posthog-node/5.70.0',
    });
    expect(properties).toMatchObject({ $browser: 'Chrome', $os: 'Windows', $device_type: 'Desktop' });
  });

  it('adds nothing for a server library user agent', () => {
    const { properties } = enricher.enrich(event({}), { userAgent: 'posthog-node/5.70.0' });
    for (const key of ['$browser', '$browser_version', '$os', '$os_version', '$device_type', '$device']) {
      expect(properties).not.toHaveProperty(key);
    }
  });

  it('never overwrites or completes what the SDK sent about the browser', () => {
    const { properties } = enricher.enrich(event({ $browser: 'Arc', $browser_version: 1.2 }), { userAgent: IPHONE });
    expect(properties.$browser).toBe('Arc');
    expect(properties.$browser_version).toBe(1.2);
    expect(properties).not.toHaveProperty('$os');
    expect(properties).not.toHaveProperty('$device_type');
  });

  it('treats $os_name, which some SDKs send, as the OS', () => {
    const { properties } = enricher.enrich(event({ $os_name: 'Android' }), { userAgent: IPHONE });
    expect(properties.$os).toBe('Android');
    expect(properties).not.toHaveProperty('$browser');
    const set = properties.$set as Record<string, unknown>;
    expect(set.$os).toBe('Android');
    expect(set).not.toHaveProperty('$os_name');
  });
});

describe('Enricher: GeoIP', () => {
  it('locates the client address', () => {
    const { properties } = enricher.enrich(event({}), { clientIp: '8.8.8.8' });
    expect(properties).toMatchObject({ $geoip_country_code: 'US', $geoip_country_name: 'United States' });
  });

  it('locates the address the SDK sent rather than the connection address', () => {
    const { properties } = enricher.enrich(event({ $ip: '193.0.6.139' }), { clientIp: '8.8.8.8' });
    expect(properties.$geoip_country_code).toBe('NL');
  });

  it('adds nothing for a private address', () => {
    const { properties } = enricher.enrich(event({}), { clientIp: '192.168.1.20' });
    expect(Object.keys(properties).filter((key) => key.startsWith('$geoip_'))).toEqual([]);
    expect(properties).not.toHaveProperty('$set');
  });

  it('adds nothing when the event sets $geoip_disable', () => {
    const { properties } = enricher.enrich(event({ $geoip_disable: true }), { clientIp: '8.8.8.8' });
    expect(Object.keys(properties).filter((key) => key.startsWith('$geoip_') && key !== '$geoip_disable')).toEqual([]);
    expect(properties).not.toHaveProperty('$set');
  });

  it('adds nothing when turned off for the server', () => {
    const { properties } = new Enricher({ geoip: false }).enrich(event({}), { clientIp: '8.8.8.8' });
    expect(properties).not.toHaveProperty('$geoip_country_code');
  });

  it('keeps a location the sender resolved itself, without mixing in a lookup', () => {
    const { properties } = enricher.enrich(event({ $geoip_country_code: 'DE', $geoip_city_name: 'Berlin' }), {
      clientIp: '8.8.8.8',
    });
    expect(properties.$geoip_country_code).toBe('DE');
    expect(properties.$geoip_city_name).toBe('Berlin');
    expect(properties).not.toHaveProperty('$geoip_country_name');
    expect(properties.$set).toEqual({ $geoip_country_code: 'DE', $geoip_city_name: 'Berlin' });
    expect(properties.$set_once).toEqual({ $initial_geoip_country_code: 'DE', $initial_geoip_city_name: 'Berlin' });
  });

  it('gives the person the location, clearing what the lookup lacked, and the first location once', () => {
    const { properties } = enricher.enrich(event({}), { clientIp: '8.8.8.8' });
    const set = properties.$set as Record<string, unknown>;
    const setOnce = properties.$set_once as Record<string, unknown>;
    expect(set.$geoip_country_code).toBe('US');
    // the database has no postal codes: the person's old one must not survive a move
    expect(set.$geoip_postal_code).toBeNull();
    expect(setOnce.$initial_geoip_country_code).toBe('US');
    expect(setOnce.$initial_geoip_country_name).toBe('United States');
    // a null first-touch value would block the real one forever
    expect(setOnce).not.toHaveProperty('$initial_geoip_postal_code');
  });
});

describe('Enricher: person properties', () => {
  it('copies browser and page properties to $set and, as $initial_*, to $set_once', () => {
    const { properties } = enricher.enrich(
      event({ $current_url: 'https://shop.example/cart', $referring_domain: 'news.example', $screen_width: 1440 }),
      { userAgent: WINDOWS_CHROME },
    );
    expect(properties.$set).toMatchObject({
      $browser: 'Chrome',
      $os: 'Windows',
      $current_url: 'https://shop.example/cart',
      $referring_domain: 'news.example',
      $screen_width: 1440,
    });
    expect(properties.$set_once).toMatchObject({
      $initial_browser: 'Chrome',
      $initial_os: 'Windows',
      $initial_current_url: 'https://shop.example/cart',
      $initial_referring_domain: 'news.example',
      $initial_screen_width: 1440,
    });
  });

  it('copies campaign parameters, including ad click ids', () => {
    const { properties } = enricher.enrich(event({ utm_source: 'newsletter', utm_campaign: 'spring', gclid: 'abc123' }), {});
    expect(properties.$set).toEqual({ utm_source: 'newsletter', utm_campaign: 'spring', gclid: 'abc123' });
    expect(properties.$set_once).toEqual({
      $initial_utm_source: 'newsletter',
      $initial_utm_campaign: 'spring',
      $initial_gclid: 'abc123',
    });
  });

  it('clears a campaign parameter the visit lacks but never records null as the first touch', () => {
    const { properties } = enricher.enrich(event({ utm_source: null }), {});
    expect(properties.$set).toEqual({ utm_source: null });
    expect(properties).not.toHaveProperty('$set_once');
  });

  it('lets the $set and $set_once the event carries win over derived values', () => {
    const { properties } = enricher.enrich(
      event({
        utm_source: 'newsletter',
        $set: { utm_source: 'chosen', email: 'a@example.com' },
        $set_once: { $initial_utm_source: 'first' },
      }),
      {},
    );
    expect(properties.$set).toEqual({ utm_source: 'chosen', email: 'a@example.com' });
    expect(properties.$set_once).toEqual({ $initial_utm_source: 'first' });
  });

  it('lets location values the event put in $set win over the lookup', () => {
    const { properties } = enricher.enrich(event({ $set: { $geoip_city_name: 'Springfield' } }), { clientIp: '8.8.8.8' });
    expect(properties.$geoip_country_code).toBe('US');
    expect((properties.$set as Record<string, unknown>).$geoip_city_name).toBe('Springfield');
  });

  it('leaves a malformed $set alone and still fills $set_once', () => {
    const { properties } = enricher.enrich(event({ utm_source: 'newsletter', $set: 'oops' }), {});
    expect(properties.$set).toBe('oops');
    expect(properties.$set_once).toEqual({ $initial_utm_source: 'newsletter' });
  });

  it('leaves an array $set_once alone', () => {
    const { properties } = enricher.enrich(event({ utm_source: 'newsletter', $set_once: ['x'] }), {});
    expect(properties.$set_once).toEqual(['x']);
    expect(properties.$set).toEqual({ utm_source: 'newsletter' });
  });

  it('adds no person properties to session replay chunks', () => {
    const { properties } = enricher.enrich(
      event({ $current_url: 'https://shop.example/', utm_source: 'newsletter', $snapshot_data: [] }, '$snapshot'),
      { clientIp: '8.8.8.8', userAgent: WINDOWS_CHROME },
    );
    expect(properties).not.toHaveProperty('$set');
    expect(properties).not.toHaveProperty('$set_once');
  });

  it("keeps a server SDK's host OS off the person", () => {
    const { properties } = enricher.enrich(event({ $is_server: true, $os: 'Linux', utm_source: 'api' }), {});
    expect(properties.$os).toBe('Linux');
    expect(properties.$set).toEqual({ utm_source: 'api' });
    expect(properties.$set_once).toEqual({ $initial_utm_source: 'api' });
  });

  it('gives the person the OS of the end user a server SDK forwards', () => {
    const { properties } = enricher.enrich(event({ $is_server: true, $raw_user_agent: IPHONE }), {});
    expect(properties.$set).toMatchObject({ $os: 'iOS', $browser: 'Mobile Safari' });
  });

  it('keeps a __proto__ key the sender used as data instead of a prototype', () => {
    const sent = JSON.parse('{"__proto__":{"$geoip_disable":true},"utm_source":"x","$set":{"__proto__":{"a":1}}}') as Record<
      string,
      unknown
    >;
    const { properties } = enricher.enrich(event(sent), { clientIp: '8.8.8.8' });
    expect(Object.getPrototypeOf(properties)).toBe(Object.prototype);
    expect(Object.hasOwn(properties, '__proto__')).toBe(true);
    expect(properties.$geoip_country_code).toBe('US');
    const set = properties.$set as Record<string, unknown>;
    expect(Object.getPrototypeOf(set)).toBe(Object.prototype);
    expect(Object.hasOwn(set, '__proto__')).toBe(true);
    expect(set.utm_source).toBe('x');
  });

  it('does not change the event it was given', () => {
    const original = event({ utm_source: 'newsletter', $set: { email: 'a@example.com' } });
    const before = structuredClone(original);
    const enriched = enricher.enrich(original, { clientIp: '8.8.8.8', userAgent: IPHONE });
    expect(original).toEqual(before);
    expect(enriched.properties).not.toBe(original.properties);
    expect(enriched.properties.$set).toMatchObject({ email: 'a@example.com', utm_source: 'newsletter' });
  });
});
