import { describe, expect, it } from 'vitest';
import { channelType, significantDomain, type ChannelInputs } from './channel-type.ts';

/*
 * Expected values are read off PostHog's documented default channel rules (docs: data/channel-type),
 * one row per rule and per tie-break between rules, not produced by running the function.
 */
const CASES: [string, ChannelInputs, string][] = [
  // Cross network wins over everything, paid signals included.
  ['cross-network campaign', { utmCampaign: 'summer-cross-network', utmMedium: 'cpc', utmSource: 'google' }, 'Cross Network'],
  ['cross-network campaign, any case', { utmCampaign: 'Cross-Network' }, 'Cross Network'],

  // Paid: by source, then shopping campaign, then medium, then referring domain, then fallbacks.
  ['cpc from google', { utmSource: 'google', utmMedium: 'cpc' }, 'Paid Search'],
  ['ppc from bing, upper case', { utmSource: 'Bing', utmMedium: 'PPC' }, 'Paid Search'],
  ['paid_social from facebook', { utmSource: 'facebook', utmMedium: 'paid_social' }, 'Paid Social'],
  ['cpv from youtube', { utmSource: 'youtube', utmMedium: 'cpv' }, 'Paid Video'],
  ['cpa from amazon', { utmSource: 'amazon', utmMedium: 'cpa' }, 'Paid Shopping'],
  ['gclid alone makes it paid; referrer is google', { gclid: 'Cj0KCQ', referringDomain: 'www.google.com' }, 'Paid Search'],
  ['gad_source alone makes it paid', { gadSource: '5', referringDomain: 'www.facebook.com' }, 'Paid Social'],
  ['paid source beats a shopping campaign', { utmSource: 'google', utmMedium: 'cpc', utmCampaign: 'shopping days' }, 'Paid Search'],
  ['paid shopping campaign from an unknown source', { utmSource: 'partner', utmMedium: 'cpc', utmCampaign: 'black friday shop' }, 'Paid Shopping'],
  ['"workshop" is not a shopping campaign', { utmSource: 'partner', utmMedium: 'cpc', utmCampaign: 'workshop' }, 'Paid Unknown'],
  ['medium "paid" from an unknown source', { utmSource: 'partner', utmMedium: 'paid', utmCampaign: 'x' }, 'Paid Unknown'],
  ['retargeting from an unknown source', { utmSource: 'partner', utmMedium: 'retargeting' }, 'Paid Unknown'],
  ['cpm is paid and display', { utmSource: 'partner', utmMedium: 'cpm' }, 'Display'],
  ['paid email source has no paid form: falls to the referrer', { utmSource: 'email', utmMedium: 'cpc', referringDomain: 'duckduckgo.com' }, 'Paid Search'],
  ['gad_source 1 is Google search', { gadSource: '1' }, 'Paid Search'],
  ['paid video campaign', { utmMedium: 'cpc', utmCampaign: 'product video' }, 'Paid Video'],
  ['paid with fbclid is social', { utmMedium: 'cpc', fbclid: 'IwAR0' }, 'Paid Social'],
  ['paid with nothing else known', { utmMedium: 'cpc' }, 'Paid Unknown'],

  // Direct.
  ['no referrer, no utm', { referringDomain: '$direct' }, 'Direct'],
  ['no referrer, utm_source direct', { referringDomain: '$direct', utmSource: '(direct)' }, 'Direct'],
  ['no referrer but fbclid is social, not direct', { referringDomain: '$direct', fbclid: 'IwAR0' }, 'Organic Social'],
  ['no referrer but a medium: not the direct rule', { referringDomain: '$direct', utmMedium: 'newsletter' }, 'Direct'],

  // Organic: source, shopping campaign, medium, referring domain, fallbacks.
  ['organic google source', { utmSource: 'google', referringDomain: '$direct' }, 'Organic Search'],
  ['organic social source', { utmSource: 'linkedin' }, 'Organic Social'],
  ['organic video source', { utmSource: 'youtube' }, 'Organic Video'],
  ['organic shopping source', { utmSource: 'etsy' }, 'Organic Shopping'],
  ['email source', { utmSource: 'email' }, 'Email'],
  ['sms source', { utmSource: 'sms' }, 'SMS'],
  ['push source', { utmSource: 'firebase' }, 'Push'],
  ['organic shopping campaign', { utmSource: 'partner', utmCampaign: 'shop-now' }, 'Organic Shopping'],
  ['affiliate medium', { utmSource: 'partner', utmMedium: 'affiliate' }, 'Affiliate'],
  ['referral medium', { utmMedium: 'referral' }, 'Referral'],
  ['email medium', { utmMedium: 'e-mail', referringDomain: 'mail.example' }, 'Email'],
  ['display medium', { utmMedium: 'banner' }, 'Display'],
  ['audio medium', { utmMedium: 'audio' }, 'Audio'],
  ['push medium', { utmMedium: 'notification' }, 'Push'],
  ['sms medium', { utmMedium: 'sms' }, 'SMS'],
  ['social medium', { utmMedium: 'social-network' }, 'Organic Social'],
  ['search referrer with subdomain', { referringDomain: 'www.google.co.uk' }, 'Organic Search'],
  ['social referrer', { referringDomain: 'news.ycombinator.com' }, 'Organic Social'],
  ['video referrer', { referringDomain: 'm.youtube.com' }, 'Organic Video'],
  ['shopping referrer', { referringDomain: 'www.ebay.co.uk' }, 'Organic Shopping'],
  ['organic video campaign', { utmCampaign: 'video-launch', referringDomain: 'blog.example' }, 'Organic Video'],
  ['medium ending in push', { utmMedium: 'web-push' }, 'Push'],
  ['fbclid from an unknown referrer', { fbclid: 'IwAR0', referringDomain: 'blog.example' }, 'Organic Social'],
  ['unknown referrer', { referringDomain: 'blog.example' }, 'Referral'],
  ['nothing known (server-side events)', {}, 'Unknown'],
  ['empty strings and "null" count as absent', { utmSource: '', utmMedium: 'null', gclid: '', gadSource: 'null', fbclid: '' }, 'Unknown'],
];

describe('channelType', () => {
  it.each(CASES)('%s', (_name, inputs, expected) => {
    expect(channelType(inputs)).toBe(expected);
  });
});

describe('significantDomain', () => {
  it.each([
    ['www.google.com', 'google.com'],
    ['news.google.com', 'google.com'],
    ['www.google.co.uk', 'google.co.uk'],
    ['google.co.uk', 'google.co.uk'],
    ['search.yahoo.co.jp', 'yahoo.co.jp'],
    ['google', ''],
  ])('%s → %s', (host, expected) => {
    expect(significantDomain(host)).toBe(expected);
  });
});
