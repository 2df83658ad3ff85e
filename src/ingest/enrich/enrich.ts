import type { CaptureRequestInfo } from '../capture-service.ts';
import type { NormalizedEvent } from '../types.ts';
import { assignData } from './assign-data.ts';
import {
  addDerivedPersonProperties,
  personLocationFromLookup,
  personLocationFromSender,
  type PersonLocation,
} from './derive-person-properties.ts';
import { lookupGeoIp } from './geoip.ts';
import { GEOIP_PROPERTIES, type GeoIpProperties } from './geoip-properties.ts';
import { EVENTS_WITHOUT_PERSON_PROPERTIES } from './person-properties.ts';
import { parseUserAgent, type UserAgentProperties } from './user-agent.ts';

/** Options for {@link Enricher}. */
export interface EnricherOptions {
  /**
   * Add `$geoip_*` properties looked up from `$ip`. When off, the GeoIP database is never loaded.
   * @default true
   */
  geoip?: boolean;
}

/** The properties whose presence means the sender already described its browser; any one is enough. */
const USER_AGENT_MARKERS = ['$browser', '$os', '$device_type'] as const;

/** Server-side enrichment: user agent, GeoIP and the person properties PostHog derives from events. */
export class Enricher {
  private readonly geoip: boolean;

  constructor(options: EnricherOptions = {}) {
    this.geoip = options.geoip ?? true;
  }

  /**
   * Returns the event with server-derived properties added, in PostHog's order: `$ip`, user agent,
   * GeoIP, then the person's `$set`/`$set_once`. A property the sender supplied (even as null) is never
   * replaced. The input event and its properties object are left untouched.
   */
  enrich(event: NormalizedEvent, request: CaptureRequestInfo): NormalizedEvent {
    const sent = event.properties;

    // PostHog records the sender's address unless the SDK sent one; GeoIP reads it.
    const ip = isSent(sent, '$ip') ? sent.$ip : request.clientIp;
    // Some SDKs name the OS `$os_name`; PostHog treats it as `$os` so both group together.
    const osName = sent.$os_name;
    const osAlias = !isSent(sent, '$os') && typeof osName === 'string' && osName !== '' ? osName : undefined;
    const userAgent = osAlias === undefined ? userAgentProperties(sent, request.userAgent) : undefined;
    const geoip = this.geoip ? locate(sent, ip) : undefined;

    // The sender's properties are copied last so they win every clash.
    const properties = assignData(
      request.clientIp === undefined ? {} : { $ip: request.clientIp },
      userAgent,
      geoip?.found,
      sent,
    );
    if (osAlias !== undefined) properties.$os = osAlias;

    if (!EVENTS_WITHOUT_PERSON_PROPERTIES.has(event.event)) {
      addDerivedPersonProperties(properties, {
        location: geoip?.person,
        // A server SDK's own `$os` is its host's; an `$os` parsed here from `$raw_user_agent` is the user's.
        osIsSenderHost: properties.$is_server === true && (isSent(sent, '$os') || osAlias !== undefined),
      });
    }
    return { ...event, properties };
  }
}

/**
 * Browser, OS and device from `$raw_user_agent` (a server SDK forwarding its user's browser) or else
 * the request's User-Agent; nothing when the sender described the browser itself.
 */
function userAgentProperties(
  sent: Record<string, unknown>,
  requestUserAgent: string | undefined,
): UserAgentProperties | undefined {
  if (USER_AGENT_MARKERS.some((key) => isSent(sent, key))) return undefined;
  const raw = sent.$raw_user_agent;
  const userAgent = typeof raw === 'string' && raw !== '' ? raw : requestUserAgent;
  return userAgent === undefined || userAgent === '' ? undefined : parseUserAgent(userAgent);
}

/**
 * The `$geoip_*` values to add for `ip`, and the location to give the person.
 *
 * When the sender already put any `$geoip_*` on the event, it located the user itself (typically a
 * backend that knows the user's address, while `$ip` is the backend's own), so no lookup is made: mixing
 * its values with ours could pair one place's city with another's country. Its values still go to the
 * person, as ours would. `$geoip_disable` turns all of this off, as in PostHog.
 */
function locate(
  sent: Record<string, unknown>,
  ip: unknown,
): { found?: Readonly<GeoIpProperties>; person: PersonLocation } | undefined {
  if (sent.$geoip_disable) return undefined;

  let fromSender: Record<string, unknown> | undefined;
  for (const key of GEOIP_PROPERTIES) {
    if (isSent(sent, key)) (fromSender ??= {})[key] = sent[key];
  }
  if (fromSender !== undefined) return { person: personLocationFromSender(fromSender) };

  if (typeof ip !== 'string') return undefined;
  const found = lookupGeoIp(ip);
  return found === undefined ? undefined : { found, person: personLocationFromLookup(found) };
}

/** True when the sender included the key, whatever its value (null included). */
function isSent(properties: Record<string, unknown>, key: string): boolean {
  return properties[key] !== undefined && Object.hasOwn(properties, key);
}
