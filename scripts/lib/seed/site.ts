import type { Weighted } from './random.ts';

/** The product's site: a marketing site with blog and docs, and the app behind a login. */
export const HOST = 'sightline.example.com';
export const ORIGIN = `https://${HOST}`;
/** Where a walk ends: the visitor closes the tab. */
export const EXIT = 'exit';

/** Something a visitor can click; links lead to another page of the site. */
export interface Clickable {
  text: string;
  tag: 'a' | 'button';
  classes: string[];
  href?: string;
  /** PostHog's `$elements_chain` for a click on it (element first, then its ancestors). */
  chain: string;
}

export interface Page {
  path: string;
  title: string;
  app: boolean;
  /** Next page (or {@link EXIT}) with weights. `:id` in a path is filled per visit. */
  next: Weighted<string>;
  clickables: Clickable[];
}

type ClickSpec = [text: string, tag: 'a' | 'button', classes: string, href?: string];

function clickable([text, tag, classes, href]: ClickSpec, section: string, nth: number): Clickable {
  const cls = classes.split(' ').filter((c) => c !== '');
  const attrs = [`attr__class="${cls.join(' ')}"`, ...(href === undefined ? [] : [`attr__href="${href}"`, `href="${href}"`]), `nth-child="${nth}"`, `nth-of-type="${nth}"`, `text="${text}"`];
  const chain = [`${tag}${cls.map((c) => `.${c}`).join('')}:${attrs.join('')}`, `${section.split(' ')[0]}.${section.split(' ')[1] ?? 'container'}:attr__class="${section.split(' ')[1] ?? 'container'}"nth-child="2"nth-of-type="1"`, 'body:nth-child="2"nth-of-type="1"'].join(';');
  return href === undefined ? { text, tag, classes: cls, chain } : { text, tag, classes: cls, href, chain };
}

function page(path: string, title: string, next: Weighted<string>, clicks: ClickSpec[], section = 'main content'): Page {
  return { path, title, app: path.startsWith('/app'), next, clickables: clicks.map((c, i) => clickable(c, section, i + 1)) };
}

const NAV: ClickSpec[] = [
  ['Pricing', 'a', 'nav-link', '/pricing'],
  ['Features', 'a', 'nav-link', '/features'],
  ['Docs', 'a', 'nav-link', '/docs'],
  ['Blog', 'a', 'nav-link', '/blog'],
  ['Log in', 'a', 'nav-link', '/login'],
  ['Get started', 'a', 'btn btn-primary', '/signup'],
];
const BLOG = ['/blog/funnels-that-convert', '/blog/retention-curves-explained', '/blog/self-hosting-analytics', '/blog/launch-week-recap'];
const DOCS = ['/docs/getting-started', '/docs/sdk/posthog-js', '/docs/self-hosting', '/docs/insights/funnels'];
const SIGNUP_CTA: ClickSpec = ['Start for free', 'a', 'btn btn-primary btn-lg', '/signup'];

const MARKETING: Page[] = [
  page('/', 'Sightline — product analytics you can self-host', [['/pricing', 25], ['/features', 20], ['/blog', 7], ['/docs', 8], ['/customers', 6], ['/signup', 9], ['/login', 7], [EXIT, 30]], [...NAV, SIGNUP_CTA, ['Watch the demo', 'button', 'btn btn-secondary']], 'section hero'),
  page('/features', 'Features — Sightline', [['/pricing', 28], ['/signup', 10], ['/features/funnels', 12], ['/features/retention', 10], ['/docs', 7], ['/', 4], [EXIT, 30]], [...NAV, ['Funnels', 'a', 'card-link', '/features/funnels'], ['Retention', 'a', 'card-link', '/features/retention']]),
  page('/features/funnels', 'Funnels — Sightline', [['/pricing', 25], ['/signup', 14], ['/features', 12], [EXIT, 40]], [...NAV, SIGNUP_CTA]),
  page('/features/retention', 'Retention — Sightline', [['/pricing', 25], ['/signup', 12], ['/features', 12], [EXIT, 42]], [...NAV, SIGNUP_CTA]),
  page('/pricing', 'Pricing — Sightline', [['/signup', 20], ['/features', 9], ['/customers', 6], ['/contact', 5], ['/docs', 5], ['/', 4], [EXIT, 45]], [...NAV, ['Start for free', 'a', 'btn btn-primary plan-free', '/signup'], ['Talk to sales', 'a', 'btn btn-outline plan-enterprise', '/contact'], ['Monthly / yearly', 'button', 'toggle billing-period']], 'section pricing'),
  page('/customers', 'Customers — Sightline', [['/pricing', 20], ['/signup', 10], ['/', 10], [EXIT, 60]], NAV),
  page('/blog', 'Blog — Sightline', [...BLOG.map((p) => [p, 18] as const), [EXIT, 28]], [...NAV, ...BLOG.map((p): ClickSpec => [p.slice(6).replaceAll('-', ' '), 'a', 'post-link', p])]),
  ...BLOG.map((p) => page(p, `${p.slice(6).replaceAll('-', ' ')} — Sightline blog`, [['/blog', 10], ['/', 8], ['/pricing', 8], ['/signup', 5], [EXIT, 69]], [...NAV, ['Subscribe', 'button', 'btn newsletter-submit'], ['Share on X', 'button', 'share-button']], 'article post')),
  page('/docs', 'Docs — Sightline', [...DOCS.map((p) => [p, 17] as const), ['/pricing', 5], [EXIT, 27]], [...NAV, ...DOCS.map((p): ClickSpec => [p.split('/').pop()!.replaceAll('-', ' '), 'a', 'docs-link', p]), ['Search docs', 'button', 'docs-search']], 'nav sidebar'),
  ...DOCS.map((p) => page(p, `${p.split('/').pop()!.replaceAll('-', ' ')} — Sightline docs`, [...DOCS.filter((q) => q !== p).map((q) => [q, 12] as const), ['/docs', 10], ['/signup', 5], [EXIT, 49]], [...NAV, ['Copy', 'button', 'copy-button'], ['Search docs', 'button', 'docs-search'], ...DOCS.filter((q) => q !== p).map((q): ClickSpec => [q.split('/').pop()!.replaceAll('-', ' '), 'a', 'docs-link', q])], 'article docs')),
  page('/signup', 'Create your account — Sightline', [['/', 8], ['/pricing', 10], [EXIT, 82]], [['Create account', 'button', 'btn btn-primary form-submit'], ['Continue with Google', 'button', 'btn btn-google'], ['Log in', 'a', 'link', '/login']], 'form signup-form'),
  page('/login', 'Log in — Sightline', [[EXIT, 1]], [['Log in', 'button', 'btn btn-primary form-submit'], ['Forgot password?', 'a', 'link', '/login/reset']], 'form login-form'),
  page('/contact', 'Contact sales — Sightline', [['/', 20], [EXIT, 80]], [['Send', 'button', 'btn btn-primary form-submit']], 'form contact-form'),
];

const APP_NAV: ClickSpec[] = [
  ['Dashboard', 'a', 'sidebar-link', '/app/dashboard'],
  ['Insights', 'a', 'sidebar-link', '/app/insights'],
  ['Events', 'a', 'sidebar-link', '/app/events'],
  ['Settings', 'a', 'sidebar-link', '/app/settings'],
];

const APP: Page[] = [
  page('/app/dashboard', 'Dashboard — Sightline', [['/app/insights', 24], ['/app/insights/new', 14], ['/app/insights/:id', 20], ['/app/events', 10], ['/app/settings', 5], [EXIT, 27]], [...APP_NAV, ['New insight', 'a', 'btn btn-primary', '/app/insights/new'], ['Refresh', 'button', 'btn btn-icon refresh'], ['Last 30 days', 'button', 'date-filter']], 'nav sidebar'),
  page('/app/insights', 'Insights — Sightline', [['/app/insights/:id', 40], ['/app/insights/new', 18], ['/app/dashboard', 15], [EXIT, 27]], [...APP_NAV, ['New insight', 'a', 'btn btn-primary', '/app/insights/new'], ['Search', 'button', 'search-input']], 'nav sidebar'),
  page('/app/insights/new', 'New insight — Sightline', [['/app/insights/:id', 50], ['/app/dashboard', 18], [EXIT, 32]], [...APP_NAV, ['Trends', 'button', 'tab insight-type'], ['Funnels', 'button', 'tab insight-type'], ['Retention', 'button', 'tab insight-type'], ['Save', 'button', 'btn btn-primary save-insight']], 'section editor'),
  page('/app/insights/:id', 'Insight — Sightline', [['/app/insights', 18], ['/app/dashboard', 20], ['/app/insights/:id', 14], [EXIT, 48]], [...APP_NAV, ['Export', 'button', 'btn export'], ['Add to dashboard', 'button', 'btn btn-secondary'], ['Breakdown', 'button', 'filter breakdown']], 'section insight'),
  page('/app/events', 'Events — Sightline', [['/app/dashboard', 28], ['/app/insights/new', 20], [EXIT, 52]], [...APP_NAV, ['Live', 'button', 'toggle live'], ['Filter', 'button', 'filter']], 'nav sidebar'),
  page('/app/settings', 'Settings — Sightline', [['/app/settings/team', 30], ['/app/billing', 14], ['/app/dashboard', 26], [EXIT, 30]], [...APP_NAV, ['Team', 'a', 'tab', '/app/settings/team'], ['Billing', 'a', 'tab', '/app/billing'], ['Save', 'button', 'btn btn-primary']], 'nav sidebar'),
  page('/app/settings/team', 'Team — Sightline', [['/app/settings', 30], ['/app/dashboard', 15], [EXIT, 55]], [...APP_NAV, ['Invite teammate', 'button', 'btn btn-primary invite']], 'section team'),
  page('/app/billing', 'Billing — Sightline', [['/app/dashboard', 30], ['/pricing', 6], [EXIT, 64]], [...APP_NAV, ['Upgrade', 'button', 'btn btn-primary upgrade'], ['Download invoice', 'button', 'btn btn-link']], 'section billing'),
  page('/app/onboarding', 'Welcome — Sightline', [['/app/dashboard', 45], ['/app/insights/new', 45], [EXIT, 10]], [['Install the snippet', 'button', 'btn step'], ['Skip', 'button', 'btn btn-link'], ['Create your first insight', 'a', 'btn btn-primary', '/app/insights/new']], 'section onboarding'),
];

/** Every page by path template. */
export const PAGES: ReadonlyMap<string, Page> = new Map([...MARKETING, ...APP].map((p) => [p.path, p]));

export function pageOf(path: string): Page {
  const found = PAGES.get(path);
  if (found === undefined) throw new Error(`no page ${path} in the site map`);
  return found;
}

/** Where visitors from a kind of source land. */
export const LANDINGS = {
  direct: [['/', 60], ['/pricing', 15], ['/docs', 10], ['/features', 15]],
  search: [['/', 25], ...BLOG.map((p) => [p, 10] as const), ...DOCS.map((p) => [p, 6] as const), ['/pricing', 11]],
  social: [...BLOG.map((p) => [p, 20] as const), ['/', 20]],
  referral: [['/', 40], ['/features', 20], ...DOCS.map((p) => [p, 5] as const), ['/blog/self-hosting-analytics', 20]],
  paid: [['/', 35], ['/pricing', 45], ['/features', 20]],
  email: [['/blog/launch-week-recap', 50], ['/blog/funnels-that-convert', 30], ['/pricing', 20]],
} as const satisfies Record<string, Weighted<string>>;
export type SourceKind = keyof typeof LANDINGS;
/** Where a returning, logged-in user starts: a bookmark into the app. */
export const APP_LANDINGS: Weighted<string> = [['/app/dashboard', 70], ['/app/insights', 12], ['/app/insights/:id', 12], ['/app/events', 6]];
