import type { LoadResult } from './capture-load.ts';
import type { RawResult } from './raw-insert.ts';

/**
 * Interleaving for benchmarks that compare variants on one server: each variant's work is cut into
 * rounds, and the variants take turns. Run one after the other, the later variant would meet a bigger
 * store (slower writes, longer snapshots on the server's event loop) and whatever else the machine was
 * doing by then; in turns, both meet the same conditions on average.
 */

/** `items` in `parts` consecutive slices whose sizes differ by at most one (fewer when there are fewer items). */
export function splitEvenly<T>(items: T[], parts: number): T[][] {
  const n = Math.min(parts, items.length);
  return Array.from({ length: n }, (_, i) => items.slice(Math.floor((i * items.length) / n), Math.floor(((i + 1) * items.length) / n)));
}

/** A B C in even rounds, C B A in odd ones, so a steady drift over the run favours no variant. */
export function roundOrder<K>(variants: readonly K[], round: number): K[] {
  return round % 2 === 0 ? [...variants] : [...variants].reverse();
}

function concatLatencies(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** One variant's rounds as if they were one phase: times, counts and samples added up. */
export function mergeLoads(results: LoadResult[]): LoadResult {
  const statuses = new Map<string, number>();
  for (const r of results) for (const [status, n] of r.statuses) statuses.set(status, (statuses.get(status) ?? 0) + n);
  const sum = (pick: (r: LoadResult) => number) => results.reduce((n, r) => n + pick(r), 0);
  return {
    ms: sum((r) => r.ms),
    requests: sum((r) => r.requests),
    events: sum((r) => r.events),
    accepted: sum((r) => r.accepted),
    duplicates: sum((r) => r.duplicates),
    refused: sum((r) => r.refused),
    statuses,
    latencies: concatLatencies(results.map((r) => r.latencies)),
    acked: results.flatMap((r) => r.acked),
  };
}

export function mergeRaw(results: RawResult[]): RawResult {
  const sum = (pick: (r: RawResult) => number) => results.reduce((n, r) => n + pick(r), 0);
  return {
    ms: sum((r) => r.ms),
    batches: sum((r) => r.batches),
    inserted: sum((r) => r.inserted),
    failedBatches: sum((r) => r.failedBatches),
    latencies: concatLatencies(results.map((r) => r.latencies)),
  };
}
