/** Formatting and latency summaries shared by the benchmark's phases. */

export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a';
export const secs = (ms: number) => `${fmt(ms / 1000, 2)} s`;
export const ms = (value: number) => `${fmt(value, value < 10 ? 2 : value < 100 ? 1 : 0)} ms`;
export const log = (line = '') => process.stdout.write(`${line}\n`);

/** Nearest-rank percentile of an ascending array (NaN when empty). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** Sorts in place (a Float64Array sorts numerically, and millions of samples stay compact). */
export function summarize(samples: Float64Array | number[]): LatencySummary {
  const sorted = samples instanceof Float64Array ? samples.sort() : Float64Array.from(samples).sort();
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted.length === 0 ? NaN : sorted[sorted.length - 1]!,
  };
}

export function describeLatency(s: LatencySummary): string {
  return `p50 ${ms(s.p50)} · p90 ${ms(s.p90)} · p99 ${ms(s.p99)} · p99.9 ${ms(s.p999)} · max ${ms(s.max)}`;
}

/**
 * Runs `task(i)` for i in [0, count) with at most `limit` in flight (a closed loop per worker). No task
 * starts after `deadline` (a performance.now() instant), so a slow server cannot stretch a run without
 * bound; resolves with the number of tasks run.
 */
export async function pool(count: number, limit: number, task: (i: number) => Promise<void>, deadline = Infinity): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < count && performance.now() < deadline) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return next;
}
