import { detectBrowser, detectBrowserVersion, detectDevice, detectDeviceType, detectOS } from '@posthog/core';
import { describe, expect, it } from 'vitest';
import { parseUserAgent, type UserAgentProperties } from './user-agent.ts';

/**
 * What PostHog's browser SDK reports for a user agent, built the way its `getEventProperties` does:
 * empty strings and a null version are dropped. Used to check the expected values below, which were
 * worked out by hand from the SDK's detection code.
 */
function posthogJs(userAgent: string): UserAgentProperties | undefined {
  const browser = detectBrowser(userAgent, undefined);
  if (browser === '') return undefined;
  const [os, osVersion] = detectOS(userAgent);
  const version = detectBrowserVersion(userAgent, undefined);
  const device = detectDevice(userAgent);
  const properties: UserAgentProperties = { $browser: browser, $device_type: detectDeviceType(userAgent) };
  if (version !== null) properties.$browser_version = version;
  if (os !== '') properties.$os = os;
  if (osVersion !== '') properties.$os_version = osVersion;
  if (device !== '') properties.$device = device;
  return properties;
}

const desktop = (browser: string, version: number, os: string, osVersion?: string): UserAgentProperties => ({
  $browser: browser,
  $browser_version: version,
  $os: os,
  ...(osVersion === undefined ? {} : { $os_version: osVersion }),
  $device_type: 'Desktop',
});

const handheld = (
  browser: string,
  version: number,
  os: string,
  osVersion: string | undefined,
  deviceType: 'Mobile' | 'Tablet',
  device: string,
): UserAgentProperties => ({
  ...desktop(browser, version, os, osVersion),
  $device_type: deviceType,
  $device: device,
});

const cases: Array<[string, string, UserAgentProperties]> = [
  [
    'Chrome on Windows 10',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
    desktop('Chrome', 120, 'Windows', '10'),
  ],
  [
    'Chrome on macOS',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36',
    desktop('Chrome', 119, 'Mac OS X', '10.15.7'),
  ],
  [
    'Chrome on Linux',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
    desktop('Chrome', 120, 'Linux'),
  ],
  [
    'headless Chrome',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.28 Safari/537.36',
    desktop('Chrome', 120, 'Windows', '10'),
  ],
  [
    'Chrome on Windows XP',
    'Mozilla/5.0 (Windows NT 5.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/49.0.2623.112 Safari/537.36',
    desktop('Chrome', 49, 'Windows', 'XP'),
  ],
  [
    'Chrome on a Chromebook',
    'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
    desktop('Chrome', 120, 'Chrome OS'),
  ],
  [
    'Firefox on Windows',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0',
    desktop('Firefox', 121, 'Windows', '10'),
  ],
  [
    'Firefox on macOS, two-part OS version',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0',
    desktop('Firefox', 121, 'Mac OS X', '10.15.0'),
  ],
  [
    'Firefox on Ubuntu',
    'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
    desktop('Firefox', 121, 'Linux'),
  ],
  [
    'Firefox on Fedora',
    'Mozilla/5.0 (X11; Fedora; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
    desktop('Firefox', 121, 'Linux'),
  ],
  [
    'Safari on macOS',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2.1 Safari/605.1.15',
    desktop('Safari', 17.2, 'Mac OS X', '10.15.7'),
  ],
  [
    'Edge on Windows',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91',
    desktop('Microsoft Edge', 120, 'Windows', '10'),
  ],
  [
    'Edge on macOS',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0',
    desktop('Microsoft Edge', 120, 'Mac OS X', '10.15.7'),
  ],
  [
    'Opera on Windows',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0',
    desktop('Opera', 106, 'Windows', '10'),
  ],
  [
    'Vivaldi on Windows',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Vivaldi/6.5.3206.48',
    desktop('Vivaldi', 6.5, 'Windows', '10'),
  ],
  [
    'Internet Explorer 11 on Windows 7',
    'Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko',
    desktop('Internet Explorer', 11, 'Windows', '7'),
  ],
  [
    'Internet Explorer 10 on Windows 8',
    'Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; Trident/6.0)',
    desktop('Internet Explorer', 10, 'Windows', '8'),
  ],
  [
    'Safari on iPhone',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1',
    handheld('Mobile Safari', 17.2, 'iOS', '17.2.0', 'Mobile', 'iPhone'),
  ],
  [
    'Safari on iPad',
    'Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1',
    handheld('Mobile Safari', 16.6, 'iOS', '16.6.0', 'Tablet', 'iPad'),
  ],
  [
    'Safari on iPod touch',
    'Mozilla/5.0 (iPod touch; CPU iPhone OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1',
    handheld('Mobile Safari', 12.1, 'iOS', '12.5.7', 'Mobile', 'iPod Touch'),
  ],
  [
    'Chrome on iPhone',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1',
    handheld('Chrome iOS', 120, 'iOS', '17.1.2', 'Mobile', 'iPhone'),
  ],
  [
    'Firefox on iPhone',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/121.0 Mobile/15E148 Safari/605.1.15',
    handheld('Firefox iOS', 121, 'iOS', '17.2.0', 'Mobile', 'iPhone'),
  ],
  [
    'DuckDuckGo on iPhone',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1 Ddg/17.2',
    handheld('DuckDuckGo', 17.2, 'iOS', '17.2.0', 'Mobile', 'iPhone'),
  ],
  [
    // a one-part Android version ("Android 10") gives no $os_version in the SDK
    'Chrome on Android with the reduced user agent',
    'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36',
    handheld('Chrome', 120, 'Android', undefined, 'Mobile', 'Android'),
  ],
  [
    'Chrome on an older Samsung phone',
    'Mozilla/5.0 (Linux; Android 8.0.0; SM-G960F Build/R16NW) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/62.0.3202.84 Mobile Safari/537.36',
    handheld('Chrome', 62, 'Android', '8.0.0', 'Mobile', 'Android'),
  ],
  [
    'an Android app web view',
    'Mozilla/5.0 (Linux; Android 9; Pixel 3 Build/PQ1A.181105.017.A1; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.43 Mobile Safari/537.36',
    handheld('Chrome', 120, 'Android', undefined, 'Mobile', 'Android'),
  ],
  [
    'Samsung Internet on a phone',
    'Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36',
    handheld('Samsung Internet', 23, 'Android', undefined, 'Mobile', 'Android'),
  ],
  [
    'Samsung Internet on a tablet',
    'Mozilla/5.0 (Linux; Android 11; SAMSUNG SM-T505) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Safari/537.36',
    handheld('Samsung Internet', 23, 'Android', undefined, 'Tablet', 'Android Tablet'),
  ],
  [
    'Chrome on an Android tablet',
    'Mozilla/5.0 (Linux; Android 12; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
    handheld('Chrome', 120, 'Android', undefined, 'Tablet', 'Android Tablet'),
  ],
  [
    'Chrome on a Nexus 7',
    'Mozilla/5.0 (Linux; Android 4.4.2; Nexus 7 Build/KOT49H) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/34.0.1847.114 Safari/537.36',
    handheld('Chrome', 34, 'Android', '4.4.2', 'Tablet', 'Android Tablet'),
  ],
  [
    'Firefox on Android',
    'Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0',
    handheld('Firefox', 121, 'Android', undefined, 'Mobile', 'Android'),
  ],
  [
    'Edge on an Xbox',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edge/44.18363.8131',
    {
      $browser: 'Microsoft Edge',
      $browser_version: 44.18363,
      $os: 'Xbox',
      $os_version: 'One',
      $device_type: 'Console',
      $device: 'Xbox',
    },
  ],
];

const noBrowser: Array<[string, string]> = [
  ['the Node server library', 'posthog-node/5.70.0'],
  ['the Python server library', 'posthog-python/3.7.0'],
  ['curl', 'curl/8.4.0'],
  ['python-requests', 'python-requests/2.31.0'],
  ['a Go HTTP client', 'Go-http-client/1.1'],
  ['a crawler naming only itself', 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'],
];

describe('parseUserAgent', () => {
  it.each(cases)('names %s the way PostHog does', (_name, userAgent, expected) => {
    // The table itself is checked against the SDK's own detection, so a wrong row fails here.
    expect(posthogJs(userAgent)).toEqual(expected);
    expect(parseUserAgent(userAgent)).toEqual(expected);
  });

  it.each(noBrowser)('gives nothing for %s', (_name, userAgent) => {
    expect(posthogJs(userAgent)).toBeUndefined();
    expect(parseUserAgent(userAgent)).toBeUndefined();
  });

  it('gives nothing for an empty string', () => {
    expect(parseUserAgent('')).toBeUndefined();
  });
});
