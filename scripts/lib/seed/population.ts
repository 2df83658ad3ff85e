import { rngFor, type Rng, type Weighted } from './random.ts';
import { ACQUISITION, COMPANY_WORDS, COUNTRIES, DESKTOPS, FIRST_NAMES, INDUSTRIES, LAST_NAMES, MOBILES, ROLES, addressesIn, type Country, type Platform, type Source } from './traffic.ts';

/**
 * Who a user is: a visitor who never signs up, someone who signs up during the period, or a customer
 * from before it who logs in again.
 */
export type Persona = 'visitor' | 'signup' | 'existing';
/** How often a signed-up user comes back. */
export type Habit = 'daily' | 'weekly' | 'occasional';
export type Plan = 'free' | 'startup' | 'business' | 'enterprise';

export interface Company {
  key: string;
  name: string;
  domain: string;
  plan: Plan;
  employees: number;
  industry: string;
}

/** Everything about a user that does not change over the period; drawn from the user's own stream. */
export interface User {
  index: number;
  persona: Persona;
  country: Country;
  /** Public IPv4 in `country` per the bundled GeoIP database (undefined if none was found). */
  ip: string | undefined;
  desktop: Platform;
  /** A phone the user also logs in from, from day `mobileFrom` on. */
  mobile?: Platform;
  mobileFrom: number;
  /** Day of the first visit in the period. */
  firstDay: number;
  acquisition: Source;
  /** Visitors: further visits after the first. Signups: visits before the one they sign up on. */
  extraVisits: number;
  /** Subscribes to the newsletter (with `$set` email), which gives an anonymous visitor a person profile. */
  newsletter: boolean;
  habit: Habit;
  /** The day of the week a weekly user tends to come back on. */
  habitDay: number;
  /** Days of use after signing up (or after the period starts, for existing customers) before churning. */
  lifetimeDays: number;
  /** Some churned users come back for a while: days after churning, and for how long. */
  resurrect?: { afterDays: number; forDays: number };
  activates: boolean;
  activationDelayMs: number;
  purchases: boolean;
  purchaseDelayMs: number;
  /** Plan bought (or held, for existing paying customers). */
  paidPlan: Plan;
  /** Existing customers who pay already. */
  alreadyPaying: boolean;
  company: number;
  userId: string;
  email: string;
  name: string;
  role: string;
  variant: 'control' | 'test';
  signupMethod: 'email' | 'google';
  /** Days before the period an existing customer signed up. */
  signedUpDaysBefore: number;
}

const PERSONAS: Weighted<Persona> = [['visitor', 58], ['signup', 30], ['existing', 12]];
const HABITS: Weighted<Habit> = [['daily', 22], ['weekly', 45], ['occasional', 33]];
/** Mean days of use before churning, by habit. */
const LIFETIME_DAYS: Record<Habit, number> = { daily: 75, weekly: 50, occasional: 22 };
const ACTIVATION: Record<Habit, number> = { daily: 0.85, weekly: 0.62, occasional: 0.3 };
const PURCHASE: Record<Habit, number> = { daily: 0.42, weekly: 0.25, occasional: 0.08 };
const COMPANY_PLANS: Weighted<Plan> = [['free', 60], ['startup', 25], ['business', 12], ['enterprise', 3]];
const EMPLOYEES: Record<Plan, [number, number]> = { free: [1, 25], startup: [5, 80], business: [50, 800], enterprise: [500, 20_000] };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const ascii = (s: string) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();

/** The users and companies of a project; every trait comes from the seed and the user's index only. */
export class Population {
  readonly companies: Company[];
  private readonly pools = new Map<string, string[]>();

  constructor(
    readonly seed: number,
    readonly users: number,
    readonly days: number,
  ) {
    const customers = Math.max(1, Math.round(users * 0.42));
    this.companies = Array.from({ length: Math.max(1, Math.round(customers / 3.5)) }, (_, k) => this.company(k));
  }

  user(index: number): User {
    const r = rngFor(this.seed, 0x05e7, index);
    const persona = r.weighted(PERSONAS);
    const country = r.weighted(COUNTRIES);
    const pool = this.addresses(country.code);
    const habit = r.weighted(HABITS);
    const first = r.pick(FIRST_NAMES);
    const last = r.pick(LAST_NAMES);
    const company = this.companyOf(r);
    const variant = r.chance(0.5) ? 'test' : 'control';
    const churned = r.exponential(LIFETIME_DAYS[habit]);
    const mobile = r.chance(0.22) ? r.weighted(MOBILES) : undefined;
    const user: User = {
      index,
      persona,
      country,
      ip: pool.length === 0 ? undefined : r.pick(pool),
      desktop: r.chance(0.85) ? r.weighted(DESKTOPS) : r.weighted(MOBILES),
      mobileFrom: r.int(Math.max(1, this.days)),
      firstDay: persona === 'existing' ? Math.min(this.days - 1, Math.floor(r.exponential(3))) : this.acquisitionDay(r),
      acquisition: r.weighted(ACQUISITION),
      extraVisits: persona === 'visitor' ? (r.chance(0.32) ? r.between(1, 4) : 0) : r.chance(0.45) ? r.between(1, 3) : 0,
      newsletter: r.chance(persona === 'visitor' ? 0.12 : 0.08),
      habit,
      habitDay: r.between(1, 5),
      lifetimeDays: churned,
      activates: r.chance(Math.min(0.95, ACTIVATION[habit] * (variant === 'test' ? 1.15 : 1))),
      activationDelayMs: r.chance(0.55) ? r.logNormal(8 * 60_000, 0.8, 60_000, 50 * 60_000) : r.logNormal(1.5 * DAY, 1, HOUR, 14 * DAY),
      purchases: r.chance(PURCHASE[habit]),
      purchaseDelayMs: r.logNormal(6 * DAY, 0.9, 2 * HOUR, 45 * DAY),
      paidPlan: r.chance(0.8) ? 'startup' : 'business',
      alreadyPaying: r.chance(0.3),
      company,
      userId: `usr_${(index + 1).toString(36).padStart(5, '0')}`,
      email: `${ascii(first)}.${ascii(last)}.${index.toString(36)}@${r.chance(0.2) ? 'gmail.com' : this.companies[company]!.domain}`,
      name: `${first} ${last}`,
      role: r.weighted(ROLES),
      variant,
      signupMethod: r.chance(0.35) ? 'google' : 'email',
      signedUpDaysBefore: r.between(10, 400),
    };
    if (mobile !== undefined) user.mobile = mobile;
    if (r.chance(0.18)) user.resurrect = { afterDays: r.between(7, 30), forDays: r.between(3, 21) };
    return user;
  }

  /** First visits grow over the period: the last day brings about twice the new visitors of the first. */
  private acquisitionDay(r: Rng): number {
    const growth = 1;
    const u = r.float();
    const t = (-1 + Math.sqrt(1 + growth * (2 + growth) * u)) / growth;
    return Math.min(this.days - 1, Math.floor(t * this.days));
  }

  /** Company sizes follow a long tail: a few big customers, many with one or two users. */
  private companyOf(r: Rng): number {
    const n = this.companies.length;
    return Math.min(n - 1, Math.floor(n * r.float() ** 1.8));
  }

  private company(k: number): Company {
    const r = rngFor(this.seed, 0xc0, k);
    const [firsts, seconds] = COMPANY_WORDS;
    const combo = (k * 97 + (this.seed % 225)) % (firsts.length * seconds.length);
    const round = Math.floor(k / (firsts.length * seconds.length));
    const name = `${firsts[combo % firsts.length]}${seconds[Math.floor(combo / firsts.length)]}${round > 0 ? ` ${round + 1}` : ''}`;
    const slug = ascii(name).replace(/\s+/g, '-');
    const plan = r.weighted(COMPANY_PLANS);
    const [min, max] = EMPLOYEES[plan];
    return { key: `org_${slug}`, name, domain: `${slug}.io`, plan, employees: Math.round(min * (max / min) ** r.float()), industry: r.pick(INDUSTRIES) };
  }

  private addresses(code: string): string[] {
    let pool = this.pools.get(code);
    if (pool === undefined) {
      pool = addressesIn(this.seed, code);
      this.pools.set(code, pool);
    }
    return pool;
  }
}
