import { LRUCache } from 'lru-cache';
import UAParser from 'ua-parser-js';

/**
 * Browser, OS and device properties read from a user agent, named the way PostHog's browser SDK names
 * them, so events enriched here group together with events the SDK described itself.
 */
export interface UserAgentProperties {
  $browser: string;
  /** Major.minor as a number (`120`, `17.2`), like the SDK sends it. */
  $browser_version?: number;
  $os?: string;
  $os_version?: string;
  /** `Desktop`, `Mobile`, `Tablet`, `Console` or `Wearable`. */
  $device_type: string;
  /** `iPhone`, `iPad`, `Android`, `Android Tablet`, …; absent for desktops. */
  $device?: string;
}

/** Distinct user agents kept parsed; real traffic has a long tail, but the head repeats all day. */
const CACHE_SIZE = 5_000;
/** The parser only reads this many characters, so longer strings with the same start parse the same. */
const PARSED_LENGTH = 500;

// lru-cache cannot store undefined, so "no browser" is cached as false.
const cache = new LRUCache<string, Readonly<UserAgentProperties> | false>({ max: CACHE_SIZE });

/**
 * Parses a user agent into PostHog's property values. Returns undefined when no browser is recognized
 * (server libraries such as `posthog-node/5.x`, curl, crawlers that only name themselves): the event then
 * gets no browser properties at all rather than a half-filled set.
 */
export function parseUserAgent(userAgent: string): Readonly<UserAgentProperties> | undefined {
  const key = userAgent.length > PARSED_LENGTH ? userAgent.slice(0, PARSED_LENGTH) : userAgent;
  let parsed = cache.get(key);
  if (parsed === undefined) {
    parsed = describe(key) ?? false;
    cache.set(key, parsed);
  }
  return parsed || undefined;
}

function describe(userAgent: string): UserAgentProperties | undefined {
  const result = new UAParser(userAgent).getResult();
  const os = osProperties(result.os.name, result.os.version);
  const browser = browserName(result.browser.name, os?.$os);
  if (browser === undefined) return undefined;

  const deviceType = deviceTypeOf(result.device.type, os?.$os, result.device.model, userAgent);
  const device = deviceOf(result.device, os?.$os, deviceType);
  const version = result.browser.version === undefined ? NaN : Number.parseFloat(result.browser.version);

  const properties: UserAgentProperties = { $browser: browser, $device_type: deviceType };
  if (Number.isFinite(version)) properties.$browser_version = version;
  if (os !== undefined) {
    properties.$os = os.$os;
    if (os.$os_version !== undefined) properties.$os_version = os.$os_version;
  }
  if (device !== undefined) properties.$device = device;
  return properties;
}

/** Parser browser names that PostHog spells differently; names not listed here are kept as they are. */
const BROWSER_NAMES: Readonly<Record<string, string>> = {
  Edge: 'Microsoft Edge',
  IE: 'Internet Explorer',
  IEMobile: 'Internet Explorer Mobile',
  'Android Browser': 'Android Mobile',
  // Chromium builds and embedded Chrome identify as plain Chrome in PostHog
  Chromium: 'Chrome',
  'Chrome Headless': 'Chrome',
  'Chrome WebView': 'Chrome',
  'Mobile Chrome': 'Chrome',
  'Mobile Firefox': 'Firefox',
  'Firefox Focus': 'Firefox',
  'Firefox Reality': 'Firefox',
  'Opera GX': 'Opera',
  'Opera Touch': 'Opera',
  'Opera Coast': 'Opera',
  'Opera Mobi': 'Opera',
  'Opera Tablet': 'Opera',
  UCBrowser: 'UC Browser',
  PaleMoon: 'Pale Moon',
  Facebook: 'Facebook Mobile',
  GSA: 'Google Search App',
};

/** On iOS every browser runs on WebKit; PostHog marks the Chrome and Firefox shells with an `iOS` suffix. */
const IOS_BROWSER_NAMES: Readonly<Record<string, string>> = {
  Chrome: 'Chrome iOS',
  Firefox: 'Firefox iOS',
};

function browserName(name: string | undefined, os: string | undefined): string | undefined {
  if (name === undefined || name === '') return undefined;
  if (os === 'iOS') {
    const onIos = IOS_BROWSER_NAMES[name];
    if (onIos !== undefined) return onIos;
  }
  return BROWSER_NAMES[name] ?? name;
}

/** Desktop Linux distributions the parser names individually; PostHog reports all of them as `Linux`. */
const LINUX_DISTRIBUTIONS: ReadonlySet<string> = new Set([
  'linux', 'ubuntu', 'kubuntu', 'xubuntu', 'lubuntu', 'debian', 'suse', 'opensuse', 'gentoo', 'arch',
  'slackware', 'fedora', 'mandriva', 'centos', 'pclinuxos', 'redhat', 'red hat', 'zenwalk', 'linpus',
  'raspbian', 'deepin', 'manjaro', 'elementary os', 'sabayon', 'linspire', 'mint', 'mageia', 'vectorlinux',
  'gnu',
]);

type OsProperties = { $os: string; $os_version?: string };

function osProperties(name: string | undefined, version: string | undefined): OsProperties | undefined {
  if (name === undefined || name === '') return undefined;
  switch (name) {
    case 'Mac OS':
      return withVersion('Mac OS X', dottedVersion(version));
    case 'iOS':
    case 'Android':
      return withVersion(name, dottedVersion(version));
    // The SDK reports no version for these: Chrome OS's build number and Windows Phone's NT number
    // are not the versions users know.
    case 'Chromium OS':
      return { $os: 'Chrome OS' };
    case 'Windows Phone':
    case 'Windows Mobile':
      return { $os: name };
    default:
      if (LINUX_DISTRIBUTIONS.has(name.toLowerCase())) return { $os: 'Linux' };
      return withVersion(name, version);
  }
}

function withVersion(os: string, version: string | undefined): OsProperties {
  return version === undefined || version === '' ? { $os: os } : { $os: os, $os_version: version };
}

/**
 * The SDK writes Apple and Android versions as `major.minor.patch`, padding a missing patch with 0
 * (`17.2` → `17.2.0`), and writes none when the user agent gives only a major (`Android 14`).
 */
function dottedVersion(version: string | undefined): string | undefined {
  if (version === undefined) return undefined;
  const parts = version.split(/[._]/);
  if (parts.length < 2 || !parts.every((part) => /^\d+$/.test(part))) return undefined;
  return [parts[0], parts[1], parts[2] ?? '0'].join('.');
}

const DEVICE_TYPES: Readonly<Record<string, string>> = {
  mobile: 'Mobile',
  tablet: 'Tablet',
  console: 'Console',
  wearable: 'Wearable',
};

function deviceTypeOf(
  type: string | undefined,
  os: string | undefined,
  model: string | undefined,
  userAgent: string,
): string {
  const known = type === undefined ? undefined : DEVICE_TYPES[type];
  if (known !== undefined) return known;
  // The parser leaves the type out for some phones it does not know by model; the SDK's rule for those:
  // Android says `Mobile` on phones and leaves it out on tablets.
  if (type === undefined && os === 'Android') return userAgent.includes('Mobile') ? 'Mobile' : 'Tablet';
  if (type === undefined && os === 'iOS') return model === 'iPad' ? 'Tablet' : 'Mobile';
  // TVs and everything unrecognized count as desktops, as in the SDK.
  return 'Desktop';
}

const APPLE_MODELS: Readonly<Record<string, string>> = {
  iPhone: 'iPhone',
  iPad: 'iPad',
  'iPod touch': 'iPod Touch',
};

const CONSOLES_BY_VENDOR: Readonly<Record<string, string>> = {
  Sony: 'PlayStation',
  Microsoft: 'Xbox',
  Nintendo: 'Nintendo',
  Ouya: 'Ouya',
};

function deviceOf(
  device: { model?: string | undefined; vendor?: string | undefined },
  os: string | undefined,
  deviceType: string,
): string | undefined {
  const apple = device.model === undefined ? undefined : APPLE_MODELS[device.model];
  if (apple !== undefined) return apple;
  if (deviceType === 'Desktop') return undefined;
  if (deviceType === 'Console') return device.vendor === undefined ? undefined : CONSOLES_BY_VENDOR[device.vendor];
  if (deviceType === 'Wearable') return device.vendor === 'Apple' ? 'Apple Watch' : undefined;
  if (os === 'Windows Phone') return 'Windows Phone';
  if (os === 'BlackBerry' || device.vendor === 'BlackBerry') return 'BlackBerry';
  if (device.vendor === 'Amazon' && deviceType === 'Tablet') return 'Kindle Fire';
  if (os === 'Android') return deviceType === 'Tablet' ? 'Android Tablet' : 'Android';
  return deviceType === 'Tablet' ? 'Generic tablet' : 'Generic mobile';
}
