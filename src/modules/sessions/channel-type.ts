import {
  CATEGORY_TYPES,
  DIRECT_SOURCES,
  INSIGNIFICANT_SECOND_LEVEL,
  MEDIUM_TYPES,
  PAID_MEDIUMS,
  SOURCE_CATEGORIES,
  type SourceCategory,
} from './channel-definitions.ts';

/** What a session's channel type is computed from: facts of its entry event. */
export interface ChannelInputs {
  /** `$referring_domain`; posthog-js sends `$direct` when there was no referrer. */
  referringDomain?: string | null;
  utmSource?: string | null;
  utmMedium?: string | null;
  utmCampaign?: string | null;
  gclid?: string | null;
  gadSource?: string | null;
  fbclid?: string | null;
}

const SOURCES = new Map<string, SourceCategory>();
for (const [category, names] of Object.entries(SOURCE_CATEGORIES) as [SourceCategory, readonly string[]][]) {
  for (const name of names) SOURCES.set(name, category);
}

const SHOPPING_CAMPAIGN = /^(.*(([^a-df-z]|^)shop|shopping).*)$/;
const VIDEO_CAMPAIGN = /^(.*video.*)$/;

/**
 * PostHog's default channel type (docs: data/channel-type; its `create_channel_type_expr`): rules in
 * order, the first that matches wins. UTM values are compared lowercased; empty strings and the
 * string "null" count as absent. Click ids only count as present or absent (`gclid` marks paid
 * traffic, `fbclid` marks social traffic), `gad_source` both marks paid traffic and, when "1",
 * Google's search network.
 */
export function channelType(input: ChannelInputs): string {
  const campaign = present(input.utmCampaign)?.toLowerCase() ?? null;
  const medium = present(input.utmMedium)?.toLowerCase() ?? null;
  const source = present(input.utmSource)?.toLowerCase() ?? null;
  const referringDomain = present(input.referringDomain);
  const gadSource = present(input.gadSource);
  const hasGclid = present(input.gclid) !== null;
  const hasFbclid = present(input.fbclid) !== null;
  const shoppingCampaign = campaign !== null && SHOPPING_CAMPAIGN.test(campaign);
  const videoCampaign = campaign !== null && VIDEO_CAMPAIGN.test(campaign);

  if (campaign?.includes('cross-network')) return 'Cross Network';

  const paid = (medium !== null && (PAID_MEDIUMS.includes(medium) || medium.startsWith('paid'))) || hasGclid || gadSource !== null;
  if (paid) {
    return (
      sourceType(source, 'paid') ??
      (shoppingCampaign ? 'Paid Shopping' : null) ??
      mediumType(medium, 'paid') ??
      sourceType(referringDomain, 'paid') ??
      (gadSource === '1' ? 'Paid Search' : videoCampaign ? 'Paid Video' : hasFbclid ? 'Paid Social' : 'Paid Unknown')
    );
  }

  if (referringDomain === '$direct' && medium === null && (source === null || DIRECT_SOURCES.includes(source)) && !hasFbclid) return 'Direct';

  return (
    sourceType(source, 'organic') ??
    (shoppingCampaign ? 'Organic Shopping' : null) ??
    mediumType(medium, 'organic') ??
    sourceType(referringDomain, 'organic') ??
    (videoCampaign
      ? 'Organic Video'
      : medium?.endsWith('push')
        ? 'Push'
        : hasFbclid
          ? 'Organic Social'
          : referringDomain === '$direct'
            ? 'Direct'
            : referringDomain !== null
              ? 'Referral'
              : 'Unknown')
  );
}

function present(value: string | null | undefined): string | null {
  return value === undefined || value === null || value === '' || value === 'null' ? null : value;
}

/** A source (utm_source or referring domain) looked up as given, then cut to its significant domain. */
function sourceType(value: string | null, kind: 'paid' | 'organic'): string | null {
  if (value === null) return null;
  const name = value.toLowerCase();
  const category = SOURCES.get(name) ?? SOURCES.get(significantDomain(name));
  return category === undefined ? null : CATEGORY_TYPES[category][kind];
}

function mediumType(medium: string | null, kind: 'paid' | 'organic'): string | null {
  if (medium === null || !Object.hasOwn(MEDIUM_TYPES, medium)) return null;
  return MEDIUM_TYPES[medium]?.[kind] ?? null;
}

/**
 * The domain up to its first significant label: `news.google.com` → `google.com`,
 * `www.google.co.uk` → `google.co.uk`; a name without a dot has none ("").
 */
export function significantDomain(host: string): string {
  const labels = host.split('.');
  if (labels.length < 2) return '';
  const keep = labels.length >= 3 && INSIGNIFICANT_SECOND_LEVEL.includes(labels[labels.length - 2]!) ? 3 : 2;
  return labels.slice(-keep).join('.');
}
