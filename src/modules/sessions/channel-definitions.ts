/**
 * Known traffic sources and mediums for channel-type classification. Data only: the rules that use
 * it are in channel-type.ts. Categories follow GA4's default channel groups, which PostHog's default
 * channel types start from; the lists are ours and deliberately cover the common sources rather than
 * every one. A source is matched as `utm_source` and as the referring domain (exactly, then with
 * subdomains cut, so `www.google.com` and `news.google.com` match `google.com`).
 */

/** What kind of site a source is; decides its paid and organic channel types. */
export type SourceCategory = 'Search' | 'Social' | 'Video' | 'Shopping' | 'Email' | 'SMS' | 'Push';

export const SOURCE_CATEGORIES: Record<SourceCategory, readonly string[]> = {
  Search: [
    'google', 'google.com', 'google.co.uk', 'google.de', 'google.fr', 'google.es', 'google.it', 'google.nl',
    'google.ca', 'google.com.au', 'google.co.in', 'google.co.jp', 'google.com.br', 'google.com.mx', 'google.pl',
    'bing', 'bing.com', 'cn.bing.com',
    'yahoo', 'yahoo.com', 'search.yahoo.com', 'yahoo.co.jp', 'search.yahoo.co.jp',
    'duckduckgo', 'duckduckgo.com',
    'baidu', 'baidu.com', 'm.baidu.com',
    'yandex', 'yandex.ru', 'yandex.com', 'yandex.com.tr', 'ya.ru',
    'ecosia', 'ecosia.org', 'qwant', 'qwant.com', 'startpage', 'startpage.com', 'search.brave.com',
    'naver', 'naver.com', 'search.naver.com', 'daum', 'daum.net', 'seznam', 'seznam.cz', 'search.seznam.cz',
    'ask', 'ask.com', 'aol', 'search.aol.com', 'sogou', 'sogou.com', 'so.com', '360.cn', 'yippy',
  ],
  Social: [
    'facebook', 'facebook.com', 'm.facebook.com', 'l.facebook.com', 'lm.facebook.com', 'fb', 'fb.com',
    'instagram', 'instagram.com', 'l.instagram.com', 'ig',
    'twitter', 'twitter.com', 't.co', 'x', 'x.com',
    'linkedin', 'linkedin.com', 'lnkd.in',
    'reddit', 'reddit.com', 'old.reddit.com', 'out.reddit.com',
    'pinterest', 'pinterest.com', 'tumblr', 'tumblr.com', 'snapchat', 'snapchat.com',
    'threads.net', 'bsky.app', 'mastodon.social', 'quora', 'quora.com', 'medium.com',
    'vk.com', 'weibo.com', 'discord', 'discord.com', 'discordapp.com', 'slack', 'slack.com',
    'whatsapp', 'whatsapp.com', 'web.whatsapp.com', 'telegram', 't.me',
    'news.ycombinator.com', 'stackoverflow.com', 'producthunt.com', 'meetup.com',
  ],
  Video: [
    'youtube', 'youtube.com', 'm.youtube.com', 'youtu.be', 'vimeo', 'vimeo.com', 'twitch', 'twitch.tv',
    'dailymotion', 'dailymotion.com', 'tiktok', 'tiktok.com', 'disneyplus', 'disneyplus.com',
    'netflix', 'netflix.com', 'hulu', 'hulu.com', 'bilibili.com', 'wistia.com', 'ted.com',
  ],
  Shopping: [
    'amazon', 'amazon.com', 'amazon.co.uk', 'amazon.de', 'amazon.fr', 'amazon.ca', 'amazon.co.jp', 'amazon.in',
    'ebay', 'ebay.com', 'ebay.co.uk', 'ebay.de', 'etsy', 'etsy.com', 'shopify', 'shopify.com',
    'walmart', 'walmart.com', 'aliexpress', 'aliexpress.com', 'alibaba', 'alibaba.com',
    'shopping.google.com', 'target.com', 'bestbuy.com', 'mercadolibre.com', 'rakuten.co.jp', 'zalando.de',
  ],
  Email: ['email', 'e-mail', 'e_mail', 'e mail', 'mail.google.com', 'gmail', 'outlook.live.com', 'mail.yahoo.com', 'mail.aol.com'],
  SMS: ['sms'],
  Push: ['firebase'],
};

/** The channel type a source category gives to paid and to organic traffic (null: no paid form). */
export const CATEGORY_TYPES: Record<SourceCategory, { paid: string | null; organic: string }> = {
  Search: { paid: 'Paid Search', organic: 'Organic Search' },
  Social: { paid: 'Paid Social', organic: 'Organic Social' },
  Video: { paid: 'Paid Video', organic: 'Organic Video' },
  Shopping: { paid: 'Paid Shopping', organic: 'Organic Shopping' },
  Email: { paid: null, organic: 'Email' },
  SMS: { paid: null, organic: 'SMS' },
  Push: { paid: null, organic: 'Push' },
};

/** Known `utm_medium` values (compared lowercased) and the channel type they give paid and organic traffic. */
export const MEDIUM_TYPES: Readonly<Record<string, { paid: string | null; organic: string }>> = {
  affiliate: { paid: null, organic: 'Affiliate' },
  partnership: { paid: null, organic: 'Affiliate' },
  partnerships: { paid: null, organic: 'Affiliate' },
  app: { paid: null, organic: 'Referral' },
  link: { paid: null, organic: 'Referral' },
  referral: { paid: null, organic: 'Referral' },
  audio: { paid: null, organic: 'Audio' },
  banner: { paid: 'Display', organic: 'Display' },
  cpm: { paid: 'Display', organic: 'Display' },
  display: { paid: 'Display', organic: 'Display' },
  expandable: { paid: 'Display', organic: 'Display' },
  interstitial: { paid: 'Display', organic: 'Display' },
  email: { paid: null, organic: 'Email' },
  'e-mail': { paid: null, organic: 'Email' },
  e_mail: { paid: null, organic: 'Email' },
  'e mail': { paid: null, organic: 'Email' },
  mobile: { paid: null, organic: 'Push' },
  notification: { paid: null, organic: 'Push' },
  push: { paid: null, organic: 'Push' },
  sms: { paid: null, organic: 'SMS' },
  sm: { paid: 'Paid Social', organic: 'Organic Social' },
  social: { paid: 'Paid Social', organic: 'Organic Social' },
  'social media': { paid: 'Paid Social', organic: 'Organic Social' },
  'social-media': { paid: 'Paid Social', organic: 'Organic Social' },
  'social network': { paid: 'Paid Social', organic: 'Organic Social' },
  'social-network': { paid: 'Paid Social', organic: 'Organic Social' },
  video: { paid: 'Paid Video', organic: 'Organic Video' },
};

/** `utm_medium` values that mark traffic as paid (besides any medium starting with "paid"). */
export const PAID_MEDIUMS: readonly string[] = ['cpc', 'cpm', 'cpv', 'cpa', 'ppc', 'retargeting'];

/** `utm_source` values that still count as direct traffic. */
export const DIRECT_SOURCES: readonly string[] = ['(direct)', 'direct', '$direct'];

/**
 * Second-level labels that are not the significant part of a domain (`google.co.uk`, `yandex.com.tr`):
 * after them the significant label is the third from the end.
 */
export const INSIGNIFICANT_SECOND_LEVEL: readonly string[] = ['com', 'net', 'org', 'co', 'gov', 'edu', 'ac', 'ne', 'or', 'go'];
