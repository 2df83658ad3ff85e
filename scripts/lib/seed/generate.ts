import { createHash } from 'node:crypto';
import { Calendar } from './calendar.ts';
import { renewalEvent, sessionEvents, type SeedEvent } from './events.ts';
import { planUser, type RenewalPlan, type SessionPlan } from './plan.ts';
import { Population } from './population.ts';
import { walkSession } from './walk.ts';

/** What to generate. */
export interface GenerateOptions {
  seed: number;
  users: number;
  days: number;
  /** Approximate total; the activity of returning users is tuned to reach it. */
  events: number;
  timeZone: string;
  /** First day after the period, YYYY-MM-DD in `timeZone`. */
  endDate: string;
  batchSize: number;
}

/** Counted while the events are produced. */
export interface GeneratedStats {
  events: number;
  byName: Map<string, number>;
  /** Users with at least one event. */
  usersSeen: number;
  /** Users who identified (signed up, or logged in). */
  usersIdentified: number;
  personlessEvents: number;
  sessions: number;
  companies: number;
  first: number;
  last: number;
  /** sha256 over the events as generated (before the project token is added), in order. */
  digest: string;
  /** The activity multiplier the calibration settled on. */
  activity: number;
}

type Item = { start: number; session?: SessionPlan; renewal?: RenewalPlan };

/** Bounds of the returning-activity multiplier. */
const MIN_ACTIVITY = 0.02;
const MAX_ACTIVITY = 50;

/**
 * A deterministic product history: the same options give the same events, byte for byte, in the same
 * order (timestamp, then uuid) and the same batches. Nothing but the options goes in: no clock, no
 * global random state.
 */
export class SeedGenerator {
  readonly calendar: Calendar;
  readonly population: Population;
  readonly activity: number;
  readonly stats: GeneratedStats;
  private readonly walkCounts = new Map<string, number>();

  constructor(readonly options: GenerateOptions) {
    this.calendar = new Calendar(options.timeZone, options.days, options.endDate);
    this.population = new Population(options.seed, options.users, options.days);
    this.activity = this.calibrate();
    this.stats = emptyStats(this.activity);
  }

  /** Events in time order, in batches of `batchSize`; counts go into {@link stats} (afresh) as they pass. */
  *batches(): Generator<SeedEvent[]> {
    Object.assign(this.stats, emptyStats(this.activity));
    const items = this.plan(this.activity);
    const pending = new EventHeap();
    const hash = createHash('sha256');
    const seen = new Set<number>();
    const identified = new Set<number>();
    const companies = new Set<string>();
    let batch: SeedEvent[] = [];
    const release = (before: number) => {
      while (pending.size > 0 && pending.peek().ms < before) {
        const event = pending.pop();
        this.count(event, hash, companies);
        batch.push(event);
        if (batch.length === this.options.batchSize) {
          const full = batch;
          batch = [];
          return full;
        }
      }
      return undefined;
    };
    for (const item of items) {
      for (let full = release(item.start); full !== undefined; full = release(item.start)) yield full;
      if (item.renewal !== undefined) {
        pending.push(renewalEvent(this.population, item.renewal));
        continue;
      }
      const plan = item.session!;
      const events = sessionEvents(this.population, plan, walkSession(this.population, plan));
      this.stats.sessions += 1;
      seen.add(plan.user.index);
      if (plan.flow !== 'browse') identified.add(plan.user.index);
      for (const event of events) pending.push(event);
    }
    for (let full = release(Infinity); full !== undefined; full = release(Infinity)) yield full;
    if (batch.length > 0) yield batch;
    Object.assign(this.stats, { usersSeen: seen.size, usersIdentified: identified.size, companies: companies.size, digest: hash.digest('hex') });
  }

  private count(event: SeedEvent, hash: ReturnType<typeof createHash>, companies: Set<string>): void {
    const s = this.stats;
    s.events += 1;
    s.byName.set(event.event, (s.byName.get(event.event) ?? 0) + 1);
    if (event.properties.$process_person_profile === false) s.personlessEvents += 1;
    if (event.ms < s.first) s.first = event.ms;
    if (event.ms > s.last) s.last = event.ms;
    const groups = event.properties.$groups as { company?: string } | undefined;
    if (groups?.company !== undefined) companies.add(groups.company);
    hash.update(JSON.stringify(event));
    hash.update('\n');
  }

  /** Every session and renewal of every user, by start time (ties by user, then key: a fixed order). */
  private plan(activity: number): Item[] {
    const items: Item[] = [];
    for (let u = 0; u < this.options.users; u++) {
      const { sessions, renewals } = planUser(this.population, this.calendar, this.population.user(u), activity);
      for (const session of sessions) items.push({ start: session.start, session });
      for (const renewal of renewals) items.push({ start: renewal.start, renewal });
    }
    const userOf = (i: Item) => (i.session ?? i.renewal)!.user.index;
    return items.sort((a, b) => a.start - b.start || userOf(a) - userOf(b) || (a.session?.key ?? -1) - (b.session?.key ?? -1));
  }

  /**
   * Events the plan at `activity` makes; returning users' sessions are the part that grows with it.
   * A walk depends only on its user, key and flow (not on the start time), so most sessions are
   * walked once over all the calibration's passes.
   */
  private countAt(activity: number): number {
    let total = 0;
    for (const { session } of this.plan(activity)) {
      if (session === undefined) {
        total += 1;
        continue;
      }
      const s = session;
      const key = `${s.user.index}|${s.key}|${s.flow}|${s.source.kind}|${+s.loggedIn}${+s.profiled}${+s.mobile}${+s.newsletter}${+s.activate}${+s.purchase}`;
      let count = this.walkCounts.get(key);
      if (count === undefined) this.walkCounts.set(key, (count = walkSession(this.population, s).length));
      total += count;
    }
    return total;
  }

  /**
   * The activity that brings the total near `events`: the count is monotone in the activity, so a
   * few secant steps on its logarithm settle within 2 %. When even the least activity gives more
   * events than asked (first visits and signups alone), the least is used.
   */
  private calibrate(): number {
    const target = this.options.events;
    const close = (count: number) => Math.abs(count - target) <= 0.02 * target;
    let best = { activity: 1, count: this.countAt(1) };
    let previous = best;
    // Returning visits are most of a big history: start from "events grow about as fast as activity".
    let next = Math.min(MAX_ACTIVITY, Math.max(MIN_ACTIVITY, target / best.count));
    for (let step = 0; step < 8 && !close(best.count) && next !== previous.activity; step++) {
      const current = { activity: next, count: this.countAt(next) };
      if (Math.abs(current.count - target) < Math.abs(best.count - target)) best = current;
      const slope = (Math.log(current.count) - Math.log(previous.count)) / (Math.log(current.activity) - Math.log(previous.activity));
      const guess = slope > 0.01 ? Math.exp(Math.log(current.activity) + (Math.log(target) - Math.log(current.count)) / slope) : current.activity * (target > current.count ? 2 : 0.5);
      previous = current;
      next = Math.min(MAX_ACTIVITY, Math.max(MIN_ACTIVITY, guess));
    }
    this.walkCounts.clear();
    return best.activity;
  }
}

function emptyStats(activity: number): GeneratedStats {
  return { events: 0, byName: new Map(), usersSeen: 0, usersIdentified: 0, personlessEvents: 0, sessions: 0, companies: 0, first: Infinity, last: -Infinity, digest: '', activity };
}

/** Min-heap of events by (ms, uuid). */
class EventHeap {
  private readonly items: SeedEvent[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): SeedEvent {
    return this.items[0]!;
  }

  push(event: SeedEvent): void {
    const a = this.items;
    a.push(event);
    for (let i = a.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): SeedEvent {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(a: SeedEvent, b: SeedEvent): boolean {
  return a.ms < b.ms || (a.ms === b.ms && a.uuid < b.uuid);
}
