import { describe, expect, it } from 'vitest';
import { FILTERED_PERSON_UPDATE_PROPERTIES, initialKey } from './person-properties.ts';

describe('FILTERED_PERSON_UPDATE_PROPERTIES', () => {
  const churning = [
    '$current_url',
    '$pathname',
    '$referrer',
    '$viewport_width',
    '$browser_version',
    '$os',
    '$raw_user_agent',
    '$geoip_latitude',
    '$geoip_postal_code',
    '$geoip_subdivision_1_name',
  ];
  it.each(churning)('lets a change of %s alone skip the person write', (key) => {
    expect(FILTERED_PERSON_UPDATE_PROPERTIES.has(key)).toBe(true);
  });

  const meaningful = [
    '$geoip_country_name',
    '$geoip_city_name',
    '$initial_browser',
    '$initial_geoip_latitude',
    '$initial_current_url',
    'email',
    'utm_source',
  ];
  it.each(meaningful)('writes the person when %s changes', (key) => {
    expect(FILTERED_PERSON_UPDATE_PROPERTIES.has(key)).toBe(false);
  });
});

describe('initialKey', () => {
  it('drops the leading $ of reserved keys and keeps plain ones whole', () => {
    expect(initialKey('$referring_domain')).toBe('$initial_referring_domain');
    expect(initialKey('utm_source')).toBe('$initial_utm_source');
    expect(initialKey('_kx')).toBe('$initial__kx');
  });
});
