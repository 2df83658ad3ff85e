import { customerIdOf, type RenewalPlan, type SessionPlan } from './plan.ts';
import type { Population } from './population.ts';
import { rngFor, uuid7 } from './random.ts';
import { HOST, ORIGIN } from './site.ts';
import type { Spec } from './walk.ts';
import { PRICES } from './walk.ts';

/**
 * One event as an SDK puts it in a `/batch` request: posthog-js keeps `distinct_id` inside the
 * properties and `$set`/`$set_once` at the top level; posthog-node puts `distinct_id` at the top.
 * The project token is added when a batch is sent (it is only known once the project exists).
 */
export interface SeedEvent {
  uuid: string;
  event: string;
  timestamp: string;
  /** Epoch ms of `timestamp`, for ordering; not sent. */
  ms: number;
  distinct_id?: string;
  properties: Record<string, unknown>;
  $set?: Record<string, unknown>;
  $set_once?: Record<string, unknown>;
}

const JS_VERSION = '1.255.1';
const NODE_VERSION = '5.70.0';

/** The anonymous id posthog-js gave one of the user's devices on its first visit. */
export function deviceIdOf(population: Population, plan: SessionPlan): string {
  return uuid7(plan.deviceSince, rngFor(population.seed, 0xde, plan.user.index, plan.mobile ? 1 : 0));
}

/** The session's events in posthog-js (and, for the billing alias, posthog-node) form. */
export function sessionEvents(population: Population, plan: SessionPlan, specs: Spec[]): SeedEvent[] {
  const { user, source } = plan;
  const ids = rngFor(population.seed, 0x1d, user.index, plan.key);
  const sessionId = uuid7(plan.start, ids);
  const windowId = uuid7(plan.start, ids);
  const deviceId = deviceIdOf(population, plan);
  const device = plan.mobile && user.mobile !== undefined ? user.mobile : user.desktop;
  const referringDomain = source.referrer === '$direct' ? '$direct' : new URL(source.referrer).hostname;
  // What posthog-js attaches to every event of this browser and session.
  const base: Record<string, unknown> = {
    $os: device.os,
    $os_version: device.osVersion,
    $browser: device.browser,
    $browser_version: device.browserVersion,
    $device_type: device.deviceType,
    $raw_user_agent: device.userAgent,
    $screen_width: device.screen[0],
    $screen_height: device.screen[1],
    $viewport_width: device.viewport[0],
    $viewport_height: device.viewport[1],
    $browser_language: user.country.language,
    $browser_language_prefix: user.country.language.slice(0, 2),
    $timezone: user.country.timeZone,
    $lib: 'web',
    $lib_version: JS_VERSION,
    $host: HOST,
    $referrer: source.referrer,
    $referring_domain: referringDomain,
    $device_id: deviceId,
    $session_id: sessionId,
    $window_id: windowId,
  };
  if (user.ip !== undefined) base.$ip = user.ip;
  const campaign: Record<string, unknown> = {};
  if (source.utm !== undefined) {
    for (const [key, value] of Object.entries(source.utm)) if (value !== undefined) campaign[`utm_${key}`] = value;
  }
  if (source.gclid) campaign.gclid = `Cj0KCQjw${ids.uint32().toString(36)}${ids.uint32().toString(36)}`;
  const query = new URLSearchParams(campaign as Record<string, string>).toString();

  const out: SeedEvent[] = [];
  for (const spec of specs) {
    const ms = plan.start + spec.t;
    const uuid = uuid7(ms, ids);
    if (spec.backend) {
      const properties = spec.event === '$create_alias' ? { distinct_id: user.userId, alias: customerIdOf(user) } : { ...spec.properties, $groups: { company: population.companies[user.company]!.key } };
      out.push(backendEvent(uuid, ms, spec.event, user.userId, properties));
      continue;
    }
    const distinctId = spec.loggedIn ? user.userId : deviceId;
    const onLanding = spec.landing && query !== '';
    const properties: Record<string, unknown> = Object.assign({}, base, {
      distinct_id: distinctId,
      $current_url: `${ORIGIN}${spec.path}${onLanding ? `?${query}` : ''}`,
      $pathname: spec.path,
      $is_identified: spec.loggedIn,
    });
    if (onLanding) Object.assign(properties, campaign);
    if (!spec.profiled) properties.$process_person_profile = false;
    if (spec.grouped) properties.$groups = { company: population.companies[user.company]!.key };
    if (spec.loggedIn) {
      properties['$feature/new-onboarding'] = user.variant;
      properties.$active_feature_flags = ['new-onboarding'];
    }
    if (spec.event === '$identify') properties.$anon_distinct_id = deviceId;
    if (spec.properties !== undefined) Object.assign(properties, spec.properties);
    const event: SeedEvent = { uuid, event: spec.event, timestamp: new Date(ms).toISOString(), ms, properties };
    if (spec.set !== undefined) event.$set = spec.set;
    if (spec.setOnce !== undefined) event.$set_once = spec.setOnce;
    out.push(event);
  }
  return out;
}

/** A monthly renewal sent by the billing backend through posthog-node: no browser, no session. */
export function renewalEvent(population: Population, renewal: RenewalPlan): SeedEvent {
  const { user } = renewal;
  const uuid = uuid7(renewal.start, rngFor(population.seed, 0x2e, user.index, Math.floor(renewal.start / 86_400_000)));
  const plan = user.paidPlan;
  return backendEvent(uuid, renewal.start, 'subscription_renewed', renewal.distinctId, {
    plan,
    amount: PRICES[plan],
    currency: 'EUR',
    $groups: { company: population.companies[user.company]!.key },
  });
}

function backendEvent(uuid: string, ms: number, event: string, distinctId: string, properties: Record<string, unknown>): SeedEvent {
  return {
    uuid,
    event,
    timestamp: new Date(ms).toISOString(),
    ms,
    distinct_id: distinctId,
    properties: { ...properties, $lib: 'posthog-node', $lib_version: NODE_VERSION, $is_server: true, $geoip_disable: true },
  };
}
