import { offsetMs } from './calendar.ts';
import type { SeedOptions } from './options.ts';
import type { Progress, SeedResult } from './run.ts';

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const pct = (part: number, whole: number) => `${fmt((100 * part) / Math.max(1, whole), 1)}%`;
const secs = (ms: number) => {
  if (ms < 120_000) return `${fmt(ms / 1000, 1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
};
/** A local date and time in the project's zone. */
const local = (ms: number, timeZone: string) => new Date(ms + offsetMs(timeZone, ms)).toISOString().slice(0, 16).replace('T', ' ');

const MODES = { pipeline: 'through the capture pipeline in this process', fast: '--fast: computed in memory, bulk-inserted', http: 'over HTTP to /batch' } as const;

/** A progress line on stderr about every 10 % (or 30 s), with an estimate of the time left. */
export function progressPrinter(expected: number): Progress {
  let nextShare = 0.1;
  let nextMs = 30_000;
  return (events, ms) => {
    if (events / expected < nextShare && ms < nextMs) return;
    nextShare = events / expected + 0.1;
    nextMs = ms + 30_000;
    const rate = events / (ms / 1000);
    const left = Math.max(0, expected - events) / Math.max(1, rate);
    process.stderr.write(`  ${fmt(events)} / ~${fmt(expected)} events · ${fmt(rate)} events/s · about ${secs(left * 1000)} left\n`);
  };
}

/** What the run made, for stdout. */
export function describeResult(options: SeedOptions, result: SeedResult, where: string): string[] {
  const s = result.stats;
  const names = [...s.byName].sort((a, b) => b[1] - a[1]).map(([name, n]) => `${name} ${fmt(n)}`);
  const lines = [
    `Seeded "${options.projectName}" ${MODES[options.mode]}`,
    `  project ${result.projectId} · capture token ${result.captureToken} · time zone ${options.timeZone}, weeks start on ${options.weekStart}`,
    `  period ${local(s.first, options.timeZone)} … ${local(s.last, options.timeZone)} (${options.days} days up to ${options.endDate}) · seed ${options.seed} · events digest ${s.digest.slice(0, 16)}`,
    `  events ${fmt(s.events)} (asked ~${fmt(options.events)}; returning activity ×${fmt(s.activity, 2)}) in ${fmt(Math.ceil(s.events / options.batchSize))} requests of ${fmt(options.batchSize)}`,
    ...wrap(names, '    '),
    `  users ${fmt(options.users)}: ${fmt(s.usersSeen)} seen, ${fmt(s.usersIdentified)} identified (${pct(s.usersIdentified, s.usersSeen)}) · personless events ${fmt(s.personlessEvents)} (${pct(s.personlessEvents, s.events)})`,
    `  sessions ${fmt(s.sessions)} · companies (group type "company") ${fmt(s.companies)}`,
  ];
  const st = result.stored;
  if (st !== undefined) {
    lines.push(`  stored: events ${fmt(st.events)} · persons ${fmt(st.persons)} (identified ${fmt(st.identifiedPersons)}, ${pct(st.identifiedPersons, st.persons)}) · distinct ids ${fmt(st.distinctIds)} · sessions ${fmt(st.sessions)} · groups ${fmt(st.groups)}`);
  }
  const rate = s.events / (result.ms / 1000);
  lines.push(`  time: planning ${secs(result.prepareMs)} · generating and storing ${secs(result.ms)} → ${fmt(rate)} events/s (CPU of this process ${secs(result.cpuMs)}) · 1,000,000 events at this rate: ~${secs(1e9 / rate)}`);
  lines.push(`  ${where}`);
  return lines;
}

/** Joins items into lines of at most ~110 characters. */
function wrap(items: string[], indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    if (line !== '' && line.length + item.length > 110) {
      lines.push(`${indent}${line}`);
      line = '';
    }
    line = line === '' ? item : `${line} · ${item}`;
  }
  if (line !== '') lines.push(`${indent}${line}`);
  return lines;
}
