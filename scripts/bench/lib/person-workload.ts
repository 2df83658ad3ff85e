import { v7 as uuidv7 } from 'uuid';
import { prng } from '../../lib/prng.ts';
import type { CaptureEvent } from './posthog-events.ts';

/** Options for {@link personWorkload}. */
export interface PersonWorkloadOptions {
  seed: number;
  /** Distinct people behind the traffic; each has one anonymous id and one user id. */
  users: number;
  events: number;
  perRequest: number;
  /** Timestamps rise through the hour before this instant (epoch ms), in send order. */
  now: number;
}

/** How an event touches a user's identity; enough to work out which persons a correct server ends up with. */
export const IdentityRole = {
  /** Sent under the user's anonymous id, before the user identified. */
  Anonymous: 0,
  /** Sent under the user id, after the user identified. */
  Identified: 1,
  /** `$identify` with `$anon_distinct_id`, or `$create_alias` with `alias`: links the anonymous id to the user id. */
  Link: 2,
  /** `$identify` without `$anon_distinct_id` (every user was already identified): properties only, no merge. */
  PropertiesOnly: 3,
} as const;
export type IdentityRole = (typeof IdentityRole)[keyof typeof IdentityRole];

/** Shares of the generated stream, counted rather than assumed, for the report. */
export interface WorkloadMix {
  events: number;
  usersSeen: number;
  withSet: number;
  withSetOnce: number;
  identify: number;
  alias: number;
  /** Links whose anonymous id already had events, so the server merges two existing persons. */
  linksOfSeenAnonymous: number;
  propertiesOnlyIdentify: number;
  anonymous: number;
  withoutBrowserProperties: number;
  withUtm: number;
  distinctIps: number;
}

export interface PersonWorkload {
  /** Requests in send order; the project token and the persons flag are added when they are encoded. */
  batches: CaptureEvent[][];
  /** The User-Agent header of each request. */
  userAgents: string[];
  /** Event index by uuid, and per event its user and {@link IdentityRole}. */
  indexOf: Map<string, number>;
  userOf: Int32Array;
  roleOf: Uint8Array;
  anonymousIdOf(user: number): string;
  userIdOf(user: number): string;
  mix: WorkloadMix;
}

/** Share of traffic sent by the busiest users, and the share of users they are (80/20). */
const HEAVY_TRAFFIC = 0.8;
const HEAVY_USERS = 0.2;
const IDENTIFY_SHARE = 0.01;
const ALIAS_SHARE = 0.01;
const SET_SHARE = 0.1;
/** Identify events always carry `$set`; ordinary events carry it often enough that 10% of all do. */
const SET_SHARE_OF_ORDINARY = (SET_SHARE - IDENTIFY_SHARE) / (1 - IDENTIFY_SHARE - ALIAS_SHARE);
const SET_ONCE_SHARE_OF_SET = 0.3;
/** Events from a minimal client (no browser properties), so the server derives them from the User-Agent. */
const BARE_SHARE = 0.2;
const UTM_SHARE = 0.15;
/** Draws for an identity event before it falls back to scanning for a user who has not identified yet. */
const LINK_DRAWS = 20;
const HOUR = 3_600_000;
const SESSION = 30 * 60_000;
const HOST = 'app.example.com';

type Weighted<T> = ReadonlyArray<readonly [T, number]>;

const EVENT_NAMES: Weighted<string> = [
  ['$pageview', 45],
  ['$autocapture', 25],
  ['$pageleave', 10],
  ['button_clicked', 6],
  ['search', 5],
  ['added_to_cart', 4],
  ['signed_up', 3],
  ['purchase', 2],
];

interface Platform {
  os: string;
  osVersion: string;
  device: string;
  screen: readonly [number, number];
  userAgent: string;
}

const PLATFORMS: ReadonlyArray<Platform> = [
  { os: 'Mac OS X', osVersion: '14.4.1', device: 'Desktop', screen: [1728, 1117], userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36' },
  { os: 'Mac OS X', osVersion: '14.4.1', device: 'Desktop', screen: [1440, 900], userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15' },
  { os: 'Windows', osVersion: '10.0', device: 'Desktop', screen: [1920, 1080], userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36' },
  { os: 'Windows', osVersion: '10.0', device: 'Desktop', screen: [1366, 768], userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67' },
  { os: 'Windows', osVersion: '10.0', device: 'Desktop', screen: [2560, 1440], userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0' },
  { os: 'iOS', osVersion: '17.4.1', device: 'Mobile', screen: [390, 844], userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1' },
  { os: 'Android', osVersion: '14.0', device: 'Mobile', screen: [412, 915], userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.113 Mobile Safari/537.36' },
  { os: 'Linux', osVersion: '', device: 'Desktop', screen: [1920, 1080], userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0' },
];
const BROWSER_OF_AGENT: ReadonlyArray<readonly [RegExp, string]> = [
  [/Edg\//, 'Microsoft Edge'],
  [/Firefox\//, 'Firefox'],
  [/Chrome\//, 'Chrome'],
  [/Safari\//, 'Safari'],
];
const PATHS = ['/', '/pricing', '/docs/getting-started', '/blog/launch-week', '/signup', '/login', '/app/dashboard', '/app/settings/billing', '/app/reports/retention', '/about'];
const REFERRERS: Weighted<string> = [['$direct', 45], ['https://www.google.com/', 30], ['https://news.ycombinator.com/', 10], ['https://twitter.com/', 10], ['https://github.com/', 5]];
const CAMPAIGNS = [['newsletter', 'email', 'spring-launch'], ['google', 'cpc', 'brand'], ['twitter', 'social', 'launch-week']] as const;
const TIMEZONES = ['Europe/Berlin', 'America/New_York', 'America/Los_Angeles', 'Asia/Tokyo', 'Europe/London', 'Asia/Kolkata'];
const PLANS = ['free', 'pro', 'enterprise'];
/** First octets of publicly routed unicast space (no private, loopback, CGNAT, multicast or reserved ranges). */
const PUBLIC_FIRST_OCTETS = [23, 31, 37, 45, 62, 77, 81, 89, 93, 104, 109, 151, 176, 185, 188, 193, 195, 203, 212, 217];

function pick<T>(rand: () => number, items: ReadonlyArray<T>): T {
  return items[Math.floor(rand() * items.length)]!;
}

function weighted<T>(rand: () => number, items: Weighted<T>): T {
  let r = rand() * items.reduce((sum, [, w]) => sum + w, 0);
  for (const [item, w] of items) {
    r -= w;
    if (r < 0) return item;
  }
  return items[items.length - 1]![0];
}

/** A uuidv7 at `ms` whose other bits come from `rand`; `seq` keeps two ids of one run apart however the generator cycles. */
function seededUuid(ms: number, rand: () => number, seq: number): string {
  return uuidv7({ msecs: ms, seq: seq >>> 0, random: Uint8Array.from({ length: 16 }, () => Math.floor(rand() * 256)) });
}

interface User {
  platform: Platform;
  browser: string;
  browserVersion: string;
  timezone: string;
  ip: string;
  anonymousId: string;
  userId: string;
  identified: boolean;
  events: number;
  /** A counter the user's `$set` updates, so successive updates really change the person. */
  logins: number;
}

/** Traits come from a generator seeded by the user, so they do not depend on the order users first appear. */
function userTraits(seed: number, user: number, firstSeen: number): User {
  const traits = prng(Math.imul(seed, 31) + user + 1);
  const platform = pick(traits, PLATFORMS);
  const browser = BROWSER_OF_AGENT.find(([pattern]) => pattern.test(platform.userAgent))![1];
  const octet = () => Math.floor(traits() * 256);
  return {
    platform,
    browser,
    browserVersion: /(?:Edg|Firefox|Chrome|Version)\/(\d+(?:\.\d+)?)/.exec(platform.userAgent)?.[1] ?? '',
    timezone: pick(traits, TIMEZONES),
    ip: `${pick(traits, PUBLIC_FIRST_OCTETS)}.${octet()}.${octet()}.${1 + Math.floor(traits() * 254)}`,
    anonymousId: seededUuid(firstSeen, traits, user),
    userId: `user_${user}`,
    identified: false,
    events: 0,
    logins: 0,
  };
}

/**
 * 80/20 skew: 80% of events come from the busiest 20% of users, each group drawn uniformly. Gentler on
 * single hot persons than a Zipf tail, and closer to a product's traffic than a uniform draw.
 */
function drawUser(rand: () => number, users: number): number {
  const heavy = Math.max(1, Math.round(users * HEAVY_USERS));
  if (users === heavy || rand() < HEAVY_TRAFFIC) return Math.floor(rand() * heavy);
  return heavy + Math.floor(rand() * (users - heavy));
}

/**
 * A deterministic PostHog-style stream with person traffic (same seed and `now`, same events). Users
 * start anonymous; 1% of events are `$identify` with `$anon_distinct_id` and 1% are `$create_alias`
 * (`distinct_id` the user id, `alias` the anonymous id, as a backend links a browser's id). Both pick a
 * user who has not identified yet, so each one merges that user's anonymous person into the identified
 * one; afterwards the user's events use the user id. 10% of events carry `$set`, a third of those also
 * `$set_once`. Every user has a public IPv4 (`$ip`), and 20% of events come without browser properties.
 */
export function personWorkload(o: PersonWorkloadOptions): PersonWorkload {
  const rand = prng(o.seed);
  const start = o.now - HOUR;
  const known = new Map<number, User>();
  const sessions = new Map<number, string>();
  const user = (n: number) => {
    let u = known.get(n);
    if (u === undefined) {
      u = userTraits(o.seed, n, start);
      known.set(n, u);
    }
    return u;
  };
  const userOf = new Int32Array(o.events);
  const roleOf = new Uint8Array(o.events);
  const indexOf = new Map<string, number>();
  const mix: WorkloadMix = {
    events: o.events, usersSeen: 0, withSet: 0, withSetOnce: 0, identify: 0, alias: 0, linksOfSeenAnonymous: 0,
    propertiesOnlyIdentify: 0, anonymous: 0, withoutBrowserProperties: 0, withUtm: 0, distinctIps: 0,
  };
  let unidentified = o.users;
  /** Prefers the skewed draw, then the next user in order who has not identified; undefined when none is left. */
  const drawUnidentified = (): number | undefined => {
    if (unidentified === 0) return undefined;
    const first = drawUser(rand, o.users);
    let n = first;
    for (let i = 1; i < LINK_DRAWS && user(n).identified; i++) n = drawUser(rand, o.users);
    for (let k = 0; user(n).identified; k++) n = (first + k) % o.users;
    return n;
  };

  const batches: CaptureEvent[][] = [];
  const userAgents: string[] = [];
  for (let i = 0; i < o.events; i++) {
    if (i % o.perRequest === 0) {
      batches.push([]);
      userAgents.push(pick(rand, PLATFORMS).userAgent);
    }
    const ms = start + Math.floor((i * HOUR) / o.events) + Math.floor(rand() * 1000);
    const kindDraw = rand();
    let event = weighted(rand, EVENT_NAMES);
    let role: IdentityRole = IdentityRole.Anonymous;
    let n: number | undefined;
    if (kindDraw < IDENTIFY_SHARE + ALIAS_SHARE) {
      n = drawUnidentified();
      event = kindDraw < IDENTIFY_SHARE ? '$identify' : '$create_alias';
      role = IdentityRole.Link;
      if (n === undefined) {
        // Every user has identified already: an identify as posthog-node sends it, which only sets properties.
        n = drawUser(rand, o.users);
        event = '$identify';
        role = IdentityRole.PropertiesOnly;
      }
    }
    n ??= drawUser(rand, o.users);
    const u = user(n);
    if (role === IdentityRole.Anonymous && u.identified) role = IdentityRole.Identified;

    const path = pick(rand, PATHS);
    const referrer = weighted(rand, REFERRERS);
    const campaign = rand() < UTM_SHARE ? pick(rand, CAMPAIGNS) : undefined;
    const sessionKey = n * 1_000 + Math.floor(ms / SESSION);
    let sessionId = sessions.get(sessionKey);
    if (sessionId === undefined) {
      sessionId = seededUuid(ms - (ms % SESSION), prng(o.seed ^ Math.imul(sessionKey, 0x9e3779b1)), sessionKey);
      sessions.set(sessionKey, sessionId);
    }
    const distinctId = role === IdentityRole.Anonymous ? u.anonymousId : u.userId;
    const properties: Record<string, unknown> = {
      $current_url: `https://${HOST}${path}${campaign ? `?utm_source=${campaign[0]}&utm_medium=${campaign[1]}&utm_campaign=${campaign[2]}` : ''}`,
      $host: HOST,
      $pathname: path,
      $lib: 'web',
      $lib_version: '1.130.0',
      distinct_id: distinctId,
      $device_id: u.anonymousId,
      $referrer: referrer,
      $session_id: sessionId,
      $timezone: u.timezone,
      $ip: u.ip,
    };
    if (rand() < BARE_SHARE) {
      mix.withoutBrowserProperties += 1;
    } else {
      Object.assign(properties, {
        $os: u.platform.os,
        $os_version: u.platform.osVersion,
        $browser: u.browser,
        $browser_version: u.browserVersion,
        $device_type: u.platform.device,
        $screen_width: u.platform.screen[0],
        $screen_height: u.platform.screen[1],
      });
    }
    if (referrer !== '$direct') properties.$referring_domain = referrer.split('/')[2];
    if (campaign !== undefined) {
      [properties.utm_source, properties.utm_medium, properties.utm_campaign] = campaign;
      mix.withUtm += 1;
    }
    switch (event) {
      case '$autocapture':
        properties.$event_type = 'click';
        properties.$el_text = pick(rand, ['Get started', 'Pricing', 'Sign in', 'Save changes', 'Export CSV']);
        break;
      case 'button_clicked':
        properties.button = pick(rand, ['signup-cta', 'upgrade', 'invite-teammate']);
        break;
      case 'search':
        properties.query = `term ${Math.floor(rand() * 500)}`;
        break;
      case 'added_to_cart':
      case 'purchase':
        properties.sku = `SKU-${Math.floor(rand() * 900) + 100}`;
        properties.price = Math.round(rand() * 20_000) / 100;
        break;
      case '$identify':
        if (role === IdentityRole.Link) properties.$anon_distinct_id = u.anonymousId;
        properties.$set = { email: `user${n}@example.com`, name: `User ${n}` };
        properties.$set_once = { first_identified_path: path };
        break;
      case '$create_alias':
        properties.alias = u.anonymousId;
        break;
    }
    if (event !== '$identify' && event !== '$create_alias' && rand() < SET_SHARE_OF_ORDINARY) {
      u.logins += 1;
      properties.$set = { plan: pick(rand, PLANS), email: `user${n}@example.com`, login_count: u.logins };
      if (rand() < SET_ONCE_SHARE_OF_SET) properties.$set_once = { signup_plan: pick(rand, PLANS), first_referrer: referrer };
    }

    if (role === IdentityRole.Link) {
      if (u.events > 0 && !u.identified) mix.linksOfSeenAnonymous += 1;
      u.identified = true;
      unidentified -= 1;
    }
    if (u.events === 0) mix.usersSeen += 1;
    u.events += 1;
    if (event === '$identify') mix[role === IdentityRole.Link ? 'identify' : 'propertiesOnlyIdentify'] += 1;
    if (event === '$create_alias') mix.alias += 1;
    if (role === IdentityRole.Anonymous) mix.anonymous += 1;
    if (properties.$set !== undefined) mix.withSet += 1;
    if (properties.$set_once !== undefined) mix.withSetOnce += 1;

    const uuid = seededUuid(ms, rand, i);
    userOf[i] = n;
    roleOf[i] = role;
    indexOf.set(uuid, i);
    batches[batches.length - 1]!.push({ event, distinct_id: distinctId, uuid, timestamp: new Date(ms).toISOString(), properties });
  }
  mix.distinctIps = new Set([...known.values()].filter((u) => u.events > 0).map((u) => u.ip)).size;
  return {
    batches,
    userAgents,
    indexOf,
    userOf,
    roleOf,
    anonymousIdOf: (n) => user(n).anonymousId,
    userIdOf: (n) => user(n).userId,
    mix,
  };
}
