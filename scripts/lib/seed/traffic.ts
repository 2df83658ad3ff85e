import { lookupGeoIp } from '../../../src/ingest/enrich/geoip.ts';
import { rngFor, type Weighted } from './random.ts';
import type { SourceKind } from './site.ts';

/** Where visitors live: the zone their day follows, the language their browser sends. */
export interface Country {
  code: string;
  timeZone: string;
  language: string;
}

/** A European product with a US following and a long tail. */
export const COUNTRIES: Weighted<Country> = [
  [{ code: 'DE', timeZone: 'Europe/Berlin', language: 'de-DE' }, 22],
  [{ code: 'US', timeZone: 'America/New_York', language: 'en-US' }, 10],
  [{ code: 'US', timeZone: 'America/Los_Angeles', language: 'en-US' }, 6],
  [{ code: 'GB', timeZone: 'Europe/London', language: 'en-GB' }, 9],
  [{ code: 'FR', timeZone: 'Europe/Paris', language: 'fr-FR' }, 7],
  [{ code: 'NL', timeZone: 'Europe/Amsterdam', language: 'nl-NL' }, 5],
  [{ code: 'AT', timeZone: 'Europe/Vienna', language: 'de-AT' }, 4],
  [{ code: 'CH', timeZone: 'Europe/Zurich', language: 'de-CH' }, 4],
  [{ code: 'PL', timeZone: 'Europe/Warsaw', language: 'pl-PL' }, 4],
  [{ code: 'ES', timeZone: 'Europe/Madrid', language: 'es-ES' }, 4],
  [{ code: 'IT', timeZone: 'Europe/Rome', language: 'it-IT' }, 3],
  [{ code: 'SE', timeZone: 'Europe/Stockholm', language: 'sv-SE' }, 3],
  [{ code: 'IN', timeZone: 'Asia/Kolkata', language: 'en-IN' }, 5],
  [{ code: 'BR', timeZone: 'America/Sao_Paulo', language: 'pt-BR' }, 3],
  [{ code: 'CA', timeZone: 'America/Toronto', language: 'en-CA' }, 3],
  [{ code: 'AU', timeZone: 'Australia/Sydney', language: 'en-AU' }, 2],
  [{ code: 'JP', timeZone: 'Asia/Tokyo', language: 'ja-JP' }, 2],
];

/** A browser on a device, as posthog-js describes it. */
export interface Platform {
  os: string;
  osVersion: string;
  browser: string;
  browserVersion: number;
  deviceType: 'Desktop' | 'Mobile';
  screen: readonly [number, number];
  viewport: readonly [number, number];
  userAgent: string;
}

const platform = (os: string, osVersion: string, browser: string, browserVersion: number, deviceType: Platform['deviceType'], screen: [number, number], viewport: [number, number], userAgent: string): Platform => ({ os, osVersion, browser, browserVersion, deviceType, screen, viewport, userAgent });

export const DESKTOPS: Weighted<Platform> = [
  [platform('Mac OS X', '14.5.0', 'Chrome', 126, 'Desktop', [1728, 1117], [1728, 980], 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36'), 26],
  [platform('Mac OS X', '14.5.0', 'Safari', 17.5, 'Desktop', [1440, 900], [1440, 789], 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15'), 10],
  [platform('Windows', '10.0', 'Chrome', 126, 'Desktop', [1920, 1080], [1920, 937], 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36'), 30],
  [platform('Windows', '10.0', 'Microsoft Edge', 126, 'Desktop', [1536, 864], [1536, 730], 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.68'), 12],
  [platform('Windows', '10.0', 'Firefox', 127, 'Desktop', [2560, 1440], [2560, 1291], 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0'), 8],
  [platform('Linux', '', 'Firefox', 127, 'Desktop', [1920, 1080], [1920, 974], 'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0'), 6],
];
export const MOBILES: Weighted<Platform> = [
  [platform('iOS', '17.5.1', 'Mobile Safari', 17.5, 'Mobile', [390, 844], [390, 664], 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'), 55],
  [platform('Android', '14.0.0', 'Chrome', 126, 'Mobile', [412, 915], [412, 776], 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.122 Mobile Safari/537.36'), 45],
];

/** Where a session came from: the referrer posthog-js records for the whole session, and campaign parameters of the landing URL. */
export interface Source {
  kind: SourceKind;
  referrer: string;
  utm?: { source: string; medium: string; campaign: string; content?: string; term?: string };
  /** Paid Google clicks carry a click id. */
  gclid?: boolean;
}

const GOOGLE = 'https://www.google.com/';
const LINKEDIN = 'https://www.linkedin.com/';

/** First visits: how people find the product. */
export const ACQUISITION: Weighted<Source> = [
  [{ kind: 'direct', referrer: '$direct' }, 30],
  [{ kind: 'search', referrer: GOOGLE }, 22],
  [{ kind: 'search', referrer: 'https://www.bing.com/' }, 3],
  [{ kind: 'search', referrer: 'https://duckduckgo.com/' }, 2],
  [{ kind: 'social', referrer: 'https://t.co/' }, 4],
  [{ kind: 'social', referrer: LINKEDIN }, 3],
  [{ kind: 'social', referrer: 'https://www.reddit.com/' }, 2],
  [{ kind: 'referral', referrer: 'https://news.ycombinator.com/' }, 4],
  [{ kind: 'referral', referrer: 'https://github.com/' }, 3],
  [{ kind: 'referral', referrer: 'https://www.producthunt.com/' }, 2],
  [{ kind: 'paid', referrer: GOOGLE, utm: { source: 'google', medium: 'cpc', campaign: 'brand-search', term: 'product analytics' }, gclid: true }, 4],
  [{ kind: 'paid', referrer: GOOGLE, utm: { source: 'google', medium: 'cpc', campaign: 'competitor-search', term: 'posthog alternative' }, gclid: true }, 3],
  [{ kind: 'paid', referrer: LINKEDIN, utm: { source: 'linkedin', medium: 'paid_social', campaign: 'self-hosted-analytics', content: 'carousel' } }, 2],
  [{ kind: 'email', referrer: '$direct', utm: { source: 'newsletter', medium: 'email', campaign: 'monthly-digest' } }, 5],
];

/** Later visits of people who use the product: mostly bookmarks, some product emails and searches. */
export const RETURNING: Weighted<Source> = [
  [{ kind: 'direct', referrer: '$direct' }, 80],
  [{ kind: 'email', referrer: '$direct', utm: { source: 'sightline', medium: 'email', campaign: 'weekly-report' } }, 8],
  [{ kind: 'search', referrer: GOOGLE }, 9],
  [{ kind: 'referral', referrer: 'https://github.com/' }, 3],
];

export const FIRST_NAMES = ['Anna', 'Ben', 'Clara', 'David', 'Elif', 'Felix', 'Greta', 'Hugo', 'Ines', 'Jonas', 'Kira', 'Lukas', 'Maya', 'Noah', 'Olivia', 'Paul', 'Quinn', 'Rosa', 'Sami', 'Tara', 'Uma', 'Viktor', 'Wen', 'Yusuf', 'Zoe', 'Priya', 'Mateo', 'Sofia', 'Liam', 'Aiko'];
export const LAST_NAMES = ['Schmidt', 'Müller', 'Smith', 'Garcia', 'Rossi', 'Nowak', 'Dubois', 'Jansen', 'Kowalski', 'Silva', 'Tanaka', 'Patel', 'Johnson', 'Weber', 'Fischer', 'Andersson', 'Martin', 'Brown', 'Novak', 'Costa'];
export const COMPANY_WORDS = [['North', 'Bright', 'Blue', 'Open', 'Swift', 'Quiet', 'Iron', 'Silver', 'Green', 'Red', 'Clear', 'Deep', 'First', 'Happy', 'Solid'], ['field', 'stack', 'loop', 'wave', 'forge', 'labs', 'works', 'leaf', 'bit', 'path', 'ship', 'cloud', 'hub', 'mint', 'port']] as const;
export const INDUSTRIES = ['SaaS', 'E-commerce', 'Fintech', 'Healthcare', 'Media', 'Education', 'Travel', 'Gaming'];
export const ROLES: Weighted<string> = [['engineer', 40], ['product manager', 25], ['founder', 12], ['marketer', 13], ['data analyst', 10]];

/** First octets of routed unicast IPv4 space (no private, loopback, CGNAT, multicast or reserved ranges). */
const FIRST_OCTETS = Array.from({ length: 223 }, (_, i) => i + 1).filter((o) => ![10, 100, 127, 169, 172, 192, 198, 203].includes(o));
const POOL_SIZE = 48;
const MAX_TRIES = 400_000;

/**
 * Public addresses that the bundled GeoIP database places in `code`, so the server's lookup agrees
 * with the country the user gave at signup. Found by seeded trial, so they depend only on the seed
 * and the database shipped in package-lock. Empty when the country is too rare to find by trial.
 */
export function addressesIn(seed: number, code: string): string[] {
  const rng = rngFor(seed, 0x1b, code.charCodeAt(0), code.charCodeAt(1));
  const found: string[] = [];
  for (let tries = 0; found.length < POOL_SIZE && tries < MAX_TRIES; tries++) {
    const ip = `${rng.pick(FIRST_OCTETS)}.${rng.int(256)}.${rng.int(256)}.${rng.between(1, 254)}`;
    if (lookupGeoIp(ip)?.$geoip_country_code === code) found.push(ip);
  }
  return found;
}
