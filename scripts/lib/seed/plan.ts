import { drawTimeOfDay, LEISURE_HOURS, WORK_HOURS, type Calendar, type HourRhythm } from './calendar.ts';
import type { Population, User } from './population.ts';
import { poisson, rngFor } from './random.ts';
import { ACQUISITION, RETURNING, type Source } from './traffic.ts';

/** How a session goes: looking around, signing up, or logging in on a device that is not logged in. */
export type Flow = 'browse' | 'signup' | 'login';

/** One session a user will have, decided before any event is made. */
export interface SessionPlan {
  user: User;
  start: number;
  /** Unique per user; keys the session's random stream. */
  key: number;
  mobile: boolean;
  flow: Flow;
  /** The device is logged in (its distinct id is the user id) when the session starts. */
  loggedIn: boolean;
  /** An anonymous device with a person profile already (it subscribed to the newsletter earlier). */
  profiled: boolean;
  /** When the device was first seen: its anonymous id is a uuidv7 of that moment. */
  deviceSince: number;
  source: Source;
  newsletter: boolean;
  activate: boolean;
  purchase: boolean;
}

/** A backend event (posthog-node), outside any session: a monthly subscription renewal. */
export interface RenewalPlan {
  user: User;
  start: number;
  /** The distinct id the billing backend knows the customer by. */
  distinctId: string;
}

export interface UserPlan {
  sessions: SessionPlan[];
  renewals: RenewalPlan[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Sessions of one user start at least this far apart (walks stop after 2 h), so a device never has two at once. */
const SPACING = 2.5 * HOUR;
/** Chance of a session on a day, by habit, for weekdays (Mon–Fri) and weekends; a weekly user has a favourite day. */
const ACTIVE: Record<User['habit'], { weekday: number; weekend: number; favourite?: number }> = {
  daily: { weekday: 0.72, weekend: 0.18 },
  weekly: { weekday: 0.07, weekend: 0.03, favourite: 0.75 },
  occasional: { weekday: 0.1, weekend: 0.03 },
};
/** Mean extra sessions on an active day. */
const EXTRA_SESSIONS: Record<User['habit'], number> = { daily: 0.6, weekly: 0.25, occasional: 0.1 };
const WEEKEND = new Set([0, 6]);

/** Billing customers get a Stripe-like id that the backend aliases to the user id. */
export const customerIdOf = (user: User) => `cus_${(user.index * 7919 + 104729).toString(36).toUpperCase()}`;

/**
 * Plans one user's sessions over the period. `activity` scales how often signed-up users come back
 * (a day's chance of a visit grows as 1 − (1 − p)^activity, extra sessions in proportion), so the
 * total can be tuned to a number of events without changing who signs up, when, or where they came from.
 */
export function planUser(population: Population, calendar: Calendar, user: User, activity: number): UserPlan {
  const seed = population.seed;
  const r = rngFor(seed, 0x91a2, user.index);
  const sessions: SessionPlan[] = [];
  const renewals: RenewalPlan[] = [];
  const devices = { desktop: { since: 0, loggedIn: false, profiled: false }, mobile: { since: 0, loggedIn: false, profiled: false } };
  let last = -Infinity;

  const add = (day: number, slot: number, rhythm: HourRhythm, fields: Pick<SessionPlan, 'flow' | 'source' | 'newsletter'> & { mobile?: boolean }): SessionPlan | undefined => {
    if (day < 0 || day >= calendar.days) return undefined;
    const dr = rngFor(seed, 0x7133, user.index, day, slot);
    let start = calendar.dayStart(user.country.timeZone, day) + drawTimeOfDay(dr, rhythm);
    start = Math.max(start, last + SPACING);
    if (start < calendar.start || start > calendar.end - SPACING || start >= calendar.dayStart(user.country.timeZone, day + 1)) return undefined;
    last = start;
    const mobile = fields.mobile ?? false;
    const device = mobile ? devices.mobile : devices.desktop;
    if (device.since === 0) device.since = start;
    const plan: SessionPlan = { user, start, key: day * 16 + slot, mobile, flow: fields.flow, loggedIn: device.loggedIn, profiled: device.profiled, deviceSince: device.since, source: fields.source, newsletter: fields.newsletter, activate: false, purchase: false };
    if (fields.newsletter) device.profiled = true;
    if (fields.flow !== 'browse') device.loggedIn = true;
    sessions.push(plan);
    return plan;
  };

  // Visits before signing up (or of a visitor who never does): the first from the acquisition source.
  const visits = 1 + user.extraVisits;
  const newsletterVisit = user.newsletter ? r.int(visits) : -1;
  let day = user.firstDay;
  let signup: SessionPlan | undefined;
  if (user.persona === 'existing') {
    signup = add(day, 0, WORK_HOURS, { flow: 'login', source: r.weighted(RETURNING), newsletter: false });
  } else {
    for (let v = 0; v < visits + (user.persona === 'signup' ? 1 : 0); v++) {
      if (v > 0) day += Math.max(1, Math.round(r.logNormal(3, 0.9, 1, 30)));
      const source = v === 0 ? user.acquisition : r.chance(0.6) ? RETURNING[0]![0] : r.weighted(ACQUISITION);
      const flow = v === visits ? 'signup' : 'browse';
      const plan = add(day, 0, LEISURE_HOURS, { flow, source, newsletter: v === newsletterVisit });
      if (flow === 'signup') signup = plan;
    }
  }
  if (signup === undefined || user.persona === 'visitor') return { sessions, renewals };

  // Product use from the day after signing up until the user churns, and maybe a comeback later.
  const first = user.persona === 'existing' ? 0 : day + 1;
  const churn = first + user.lifetimeDays;
  const comeback = user.resurrect === undefined ? undefined : { from: churn + user.resurrect.afterDays, to: churn + user.resurrect.afterDays + user.resurrect.forDays };
  const active = ACTIVE[user.habit];
  for (let d = Math.max(first, user.firstDay + 1); d < calendar.days; d++) {
    const using = d < churn || (comeback !== undefined && d >= comeback.from && d < comeback.to);
    if (!using) continue;
    const weekday = calendar.weekday(d);
    const base = d >= churn ? ACTIVE.occasional.weekday : weekday === user.habitDay && active.favourite !== undefined ? active.favourite : WEEKEND.has(weekday) ? active.weekend : active.weekday;
    const dr = rngFor(seed, 0xac71, user.index, d);
    if (dr.float() >= 1 - (1 - base) ** activity) continue;
    const count = 1 + poisson(dr.float(), EXTRA_SESSIONS[user.habit] * activity);
    for (let slot = 1; slot <= Math.min(count, 6); slot++) {
      const mobile = user.mobile !== undefined && d >= user.mobileFrom && dr.chance(0.3);
      const loggedIn = mobile ? devices.mobile.loggedIn : devices.desktop.loggedIn;
      add(d, slot, WORK_HOURS, { flow: loggedIn ? 'browse' : 'login', source: dr.weighted(RETURNING), newsletter: false, mobile });
    }
  }
  placeFunnel(user, signup, sessions, renewals, calendar);
  return { sessions, renewals };
}

/**
 * Activation goes to the signup session when it comes quickly, else to the first session after its
 * delay; a purchase to the first session after activation plus its delay. A user who is gone by then
 * drops out of the funnel there. Paying customers renew monthly through the billing backend.
 */
function placeFunnel(user: User, signup: SessionPlan, sessions: SessionPlan[], renewals: RenewalPlan[], calendar: Calendar): void {
  const after = sessions.filter((s) => s.start >= signup.start);
  let activation: SessionPlan | undefined;
  if (user.persona === 'existing') {
    activation = signup;
  } else if (user.activates) {
    activation = user.activationDelayMs < HOUR ? signup : after.find((s) => s.start >= signup.start + user.activationDelayMs);
    if (activation !== undefined) activation.activate = true;
  }
  let billingStart: number | undefined;
  let billingId = user.userId;
  if (user.persona === 'existing' && user.alreadyPaying) {
    billingStart = calendar.start - ((user.index * 13) % 30) * DAY;
  } else if (activation !== undefined && user.purchases) {
    const purchase = after.find((s) => s.start >= activation.start + user.purchaseDelayMs && s !== activation);
    if (purchase !== undefined) {
      purchase.purchase = true;
      billingStart = purchase.start;
      billingId = customerIdOf(user);
    }
  }
  if (billingStart === undefined) return;
  const lastSession = sessions[sessions.length - 1]!.start;
  for (let at = billingStart + 30 * DAY; at < calendar.end && at < lastSession + 30 * DAY; at += 30 * DAY) {
    if (at >= calendar.start) renewals.push({ user, start: at, distinctId: billingId });
  }
}
