import type { SessionPlan } from './plan.ts';
import type { Population } from './population.ts';
import { poisson, rngFor, type Rng } from './random.ts';
import { APP_LANDINGS, EXIT, LANDINGS, pageOf, type Clickable, type Page } from './site.ts';

/** One event of a session as the walk decides it; events.ts dresses it in posthog-js properties. */
export interface Spec {
  event: string;
  /** Milliseconds after the session started; strictly increasing. */
  t: number;
  page: Page;
  /** The path with ids filled in. */
  path: string;
  /** The device's distinct id is the user id (else its anonymous id). */
  loggedIn: boolean;
  /** Person processing is on (identified, or a profile was created); else `$process_person_profile: false`. */
  profiled: boolean;
  /** `$groups` is registered on the device. */
  grouped: boolean;
  /** Still on the landing URL, which carries the campaign parameters. */
  landing: boolean;
  properties?: Record<string, unknown>;
  /** Top-level `$set` / `$set_once`, as posthog-js sends them with identify and captures. */
  set?: Record<string, unknown>;
  setOnce?: Record<string, unknown>;
  /** Sent by the product's backend (posthog-node) under the user id, not by the browser. */
  backend?: boolean;
}

const SECOND = 1000;
/** Walks take no new page after this long, so sessions of one user never overlap (plan.ts spaces them 2.5 h). */
const MAX_SESSION_MS = 1.5 * 3_600_000;
const MAX_PAGES = 40;
/** Monthly list prices in EUR. */
export const PRICES: Record<string, number> = { startup: 49, business: 249 };

/**
 * The events of one planned session: a walk over the site map from the landing page, with clicks
 * (`$autocapture`) on the links it follows and on other controls, the flows the plan asks for
 * (signup, login, newsletter, activation, purchase) and the product's custom events. Draws only from
 * the session's own stream, so a session's events depend on nothing but the seed and its plan.
 */
export function walkSession(population: Population, plan: SessionPlan): Spec[] {
  const { user } = plan;
  const r = rngFor(population.seed, 0x5e55, user.index, plan.key);
  const specs: Spec[] = [];
  const state = { loggedIn: plan.loggedIn, profiled: plan.profiled || plan.loggedIn, grouped: plan.loggedIn, landing: true };
  let t = 0;
  let page: Page;
  let path: string;
  const emit = (event: string, extra: Partial<Spec> = {}, gap = r.between(40, 400)) => {
    t += Math.round(gap);
    specs.push({ event, t, page, path, ...state, ...extra });
  };
  const go = (template: string) => {
    page = pageOf(template);
    path = template.replace(':id', String(1000 + ((user.company * 7 + r.int(6)) % 9000)));
  };

  go(plan.flow === 'login' ? '/login' : state.loggedIn ? r.weighted(APP_LANDINGS) : r.weighted(LANDINGS[plan.source.kind]));
  const goals: string[] = [];
  if (plan.activate && plan.flow !== 'signup') goals.push('/app/insights/new');
  if (plan.purchase) goals.push('/app/billing');
  let newsletter = plan.newsletter;
  let previous: { path: string; ms: number } | undefined;
  let arrived = 0;

  for (let pages = 0; ; pages++) {
    const prev = previous === undefined ? {} : { $prev_pageview_pathname: previous.path, $prev_pageview_duration: Math.round(previous.ms / SECOND) };
    emit('$pageview', { properties: { title: page!.title, ...prev } }, pages === 0 ? 0 : r.between(150, 900));
    arrived = t;
    const dwell = Math.round(r.logNormal(page!.app ? 30 * SECOND : 22 * SECOND, 1, 2 * SECOND, 10 * 60 * SECOND));
    clicks(r, page!, dwell, emit);
    let next = pageFlow(r, plan, population, page!, emit, state, () => (newsletter ? ((newsletter = false), true) : false));
    if (next === undefined) {
      next = r.weighted(page!.next);
      if (goals.length > 0 && page!.app) next = goals.shift()!;
      if (plan.flow === 'signup' && !state.loggedIn && page!.path !== '/signup' && (next === EXIT || pages >= 3)) next = '/signup';
      if (state.loggedIn && !pageOf(next === EXIT ? '/' : next).app && next !== EXIT) next = r.chance(0.7) ? '/app/dashboard' : next;
    }
    t = Math.max(t, arrived + dwell);
    if (next === EXIT || pages + 1 >= MAX_PAGES || t >= MAX_SESSION_MS) break;
    const link = page!.clickables.find((c) => c.href === next);
    if (link !== undefined && r.chance(0.75)) emit('$autocapture', { properties: clickProperties(link) }, r.between(100, 600));
    previous = { path: path!, ms: t - arrived };
    state.landing = false;
    go(next);
  }
  if (r.chance(0.6)) emit('$pageleave', { properties: { $prev_pageview_pathname: path!, $prev_pageview_duration: Math.round((t - arrived) / SECOND) } });
  return specs;
}

/** `$autocapture` properties of a click on `c`, as posthog-js sends them. */
function clickProperties(c: Clickable, eventType = 'click'): Record<string, unknown> {
  return { $event_type: eventType, $ce_version: 1, $el_text: c.text, $elements_chain: c.chain };
}

/** Clicks on the page's controls while reading it (links that lead away are clicked when followed). */
function clicks(r: Rng, page: Page, dwell: number, emit: (event: string, extra?: Partial<Spec>, gap?: number) => void): void {
  const controls = page.clickables.filter((c) => c.href === undefined);
  const count = controls.length === 0 ? 0 : Math.min(6, poisson(r.float(), page.app ? 1.2 : 0.5));
  for (let i = 0; i < count; i++) {
    const c = r.pick(controls);
    emit('$autocapture', { properties: clickProperties(c) }, Math.round(dwell / (count + 2)));
    if (c.text === 'Export' && r.chance(0.3)) emit('report_exported', { properties: { format: r.pick(['csv', 'png', 'pdf']) } });
  }
}

/**
 * What happens on special pages: the signup and login forms (identify, group), onboarding and
 * activation, the upgrade (purchase, person and group plan, the backend's alias), and custom events.
 * Returns the page to go to when the flow decides it.
 */
function pageFlow(
  r: Rng,
  plan: SessionPlan,
  population: Population,
  page: Page,
  emit: (event: string, extra?: Partial<Spec>, gap?: number) => void,
  state: { loggedIn: boolean; profiled: boolean; grouped: boolean },
  subscribe: () => boolean,
): string | undefined {
  const { user } = plan;
  const company = population.companies[user.company]!;
  const submit = (text: string) => {
    const c = page.clickables.find((x) => x.text === text)!;
    emit('$autocapture', { properties: clickProperties(c, 'submit') }, r.between(5, 60) * SECOND);
  };
  const identify = (set: Record<string, unknown>, setOnce: Record<string, unknown>) => {
    Object.assign(state, { loggedIn: true, profiled: true });
    emit('$identify', { set, setOnce });
  };
  const group = (groupSet: Record<string, unknown>) => {
    state.grouped = true;
    emit('$groupidentify', { properties: { $group_type: 'company', $group_key: company.key, $group_set: groupSet } });
  };
  const companyProps = { name: company.name, plan: company.plan, employees: company.employees, industry: company.industry };
  const personProps = { email: user.email, name: user.name, country: user.country.code };

  if (page.path === '/signup' && plan.flow === 'signup' && !state.loggedIn) {
    submit(user.signupMethod === 'google' ? 'Continue with Google' : 'Create account');
    // The API records the signup as it creates the account, before the browser hears back and identifies.
    emit('signed_up', { backend: true, properties: { method: user.signupMethod, plan: 'free' } }, r.between(80, 300));
    identify({ ...personProps, plan: 'free' }, { signup_date: new Date(plan.start).toISOString().slice(0, 10), signup_method: user.signupMethod });
    group(companyProps);
    return '/app/onboarding';
  }
  if (page.path === '/login' && plan.flow === 'login' && !state.loggedIn) {
    submit('Log in');
    const plan0 = user.persona === 'existing' && user.alreadyPaying ? user.paidPlan : 'free';
    const since = new Date(plan.start - user.signedUpDaysBefore * 86_400_000).toISOString().slice(0, 10);
    identify({ ...personProps, ...(user.persona === 'existing' ? { plan: plan0 } : {}) }, user.persona === 'existing' ? { signup_date: since, signup_method: user.signupMethod } : {});
    group(companyProps);
    return '/app/dashboard';
  }
  if (page.path === '/app/onboarding' && plan.flow === 'signup') {
    emit('$set', { properties: { $set: { role: user.role } } }, r.between(10, 40) * SECOND);
    if (plan.activate) {
      emit('activated', { properties: { first_insight_type: r.pick(['trends', 'funnels', 'retention']), minutes_since_signup: Math.round(user.activationDelayMs / 60_000) } }, Math.round(Math.min(user.activationDelayMs, 40 * 60_000)));
      return '/app/insights/:id';
    }
    return undefined;
  }
  if (page.path === '/app/insights/new' && plan.activate && plan.flow !== 'signup') {
    emit('insight_created', { properties: { insight_type: 'trends' } }, r.between(20, 120) * SECOND);
    emit('activated', { properties: { first_insight_type: 'trends', minutes_since_signup: Math.round(user.activationDelayMs / 60_000) } });
    return '/app/insights/:id';
  }
  if (page.path === '/app/billing' && plan.purchase) {
    const yearly = r.chance(0.3);
    const amount = PRICES[user.paidPlan]! * (yearly ? 10 : 1);
    submit('Upgrade');
    emit('purchase', { properties: { plan: user.paidPlan, amount, currency: 'EUR', billing_period: yearly ? 'yearly' : 'monthly' }, set: { plan: user.paidPlan } });
    group({ plan: user.paidPlan });
    emit('$create_alias', { backend: true }, r.between(1, 4) * SECOND);
    return '/app/dashboard';
  }
  if (page.path === '/app/insights/new' && r.chance(0.5)) {
    emit('insight_created', { properties: { insight_type: r.weighted([['trends', 50], ['funnels', 25], ['retention', 15], ['paths', 10]]) } }, r.between(20, 200) * SECOND);
  } else if (page.path === '/app/settings/team' && r.chance(0.35)) {
    emit('invite_sent', { properties: { role: r.pick(['member', 'admin']) } }, r.between(10, 60) * SECOND);
  } else if (page.path.startsWith('/docs/') && r.chance(0.12)) {
    emit('docs_searched', { properties: { query_length: r.between(3, 30) } }, r.between(3, 30) * SECOND);
  } else if ((page.path.startsWith('/blog/') || page.path === '/') && subscribe()) {
    state.profiled = true;
    emit('newsletter_subscribed', { properties: { form: page.path === '/' ? 'footer' : 'post' }, set: { email: user.email, newsletter: true } }, r.between(20, 90) * SECOND);
  }
  return undefined;
}
