import { MAX_KEY, MIN_KEY, isPlainObject, keyOf } from './values.ts';
import type { SecondaryIndex } from './indexes.ts';
import type { Doc } from './types.ts';

/**
 * What a filter says about one field, as far as an index can use it. The planner only narrows the set
 * of candidate documents; the full filter is always evaluated afterwards, so bounds may be loose but
 * must never exclude a matching document.
 */
interface FieldConstraint {
  points?: unknown[];
  low?: unknown;
  high?: unknown;
  /** `$gt` / `$lt`: index entries equal to the bound are skipped without fetching their documents. */
  lowExclusive?: boolean;
  highExclusive?: boolean;
}

/** An index range scan: each interval is a pair of value tuples in index order. */
export interface IndexPlan {
  index: SecondaryIndex;
  intervals: Array<{ low: unknown[]; high: unknown[] }>;
  /** Values of the range field (at position `rangeAt` of a key) that match no document. */
  excluded: unknown[];
  rangeAt: number;
}

const MAX_INTERVALS = 1_000;

/** Equality on `_id` (or `$in` over `_id`) answered straight from the primary map. */
export function idLookupKeys(filter: Doc): string[] | undefined {
  const c = constraintsOf(filter).get('_id');
  if (!c?.points) return undefined;
  return c.points.map(keyOf);
}

/** Chooses the index whose leading fields the filter constrains best, or none. */
export function planIndexScan(filter: Doc, indexes: readonly SecondaryIndex[]): IndexPlan | undefined {
  const constraints = constraintsOf(filter);
  if (constraints.size === 0) return undefined;
  let best: { plan: IndexPlan; score: number } | undefined;
  for (const index of indexes) {
    if (!index.complete) continue;
    const plan = planFor(index, constraints);
    if (!plan) continue;
    if (!best || plan.score > best.score) best = plan;
  }
  return best?.plan;
}

function planFor(index: SecondaryIndex, constraints: Map<string, FieldConstraint>): { plan: IndexPlan; score: number } | undefined {
  let prefixes: unknown[][] = [[]];
  let score = 0;
  let range: { low: unknown; high: unknown } | undefined;
  const excluded: unknown[] = [];
  for (const field of index.fields) {
    const c = constraints.get(field);
    if (!c) break;
    if (c.points) {
      if (prefixes.length * c.points.length > MAX_INTERVALS) break;
      prefixes = prefixes.flatMap((p) => c.points!.map((v) => [...p, v]));
      score += 2;
      continue;
    }
    range = { low: c.low ?? MIN_KEY, high: c.high ?? MAX_KEY };
    if (c.lowExclusive) excluded.push(c.low);
    if (c.highExclusive) excluded.push(c.high);
    score += 1;
    break;
  }
  if (score === 0) return undefined;
  // An empty `$in` matches nothing: no interval to scan.
  if (prefixes.length === 0) return { plan: { index, intervals: [], excluded, rangeAt: 0 }, score };
  const depth = prefixes[0]!.length;
  const intervals = prefixes.map((prefix) => {
    if (!range) return { low: prefix, high: prefix };
    // A descending field stores larger values first, so the bounds swap in index order.
    const dir = index.directions[depth]!;
    return dir > 0 ? { low: [...prefix, range.low], high: [...prefix, range.high] } : { low: [...prefix, range.high], high: [...prefix, range.low] };
  });
  return { plan: { index, intervals, excluded, rangeAt: depth }, score };
}

/** Collects indexable constraints from top-level fields and top-level `$and` clauses. */
function constraintsOf(filter: Doc): Map<string, FieldConstraint> {
  const out = new Map<string, FieldConstraint>();
  const visit = (clause: Doc) => {
    for (const [field, condition] of Object.entries(clause)) {
      if (field === '$and' && Array.isArray(condition)) {
        for (const sub of condition) if (isPlainObject(sub)) visit(sub);
        continue;
      }
      if (field.startsWith('$')) continue;
      const c = constraintOf(condition);
      if (c) merge(out, field, c);
    }
  };
  visit(filter);
  return out;
}

function constraintOf(condition: unknown): FieldConstraint | undefined {
  if (condition instanceof RegExp) return undefined;
  if (!isPlainObject(condition)) return { points: [condition] };
  const keys = Object.keys(condition);
  if (keys.length === 0 || !keys.every((k) => k.startsWith('$'))) return { points: [condition] };
  const c: FieldConstraint = {};
  for (const [op, value] of Object.entries(condition)) {
    switch (op) {
      case '$eq':
        if (value instanceof RegExp) return undefined;
        c.points = [value];
        break;
      case '$in':
        if (!Array.isArray(value) || value.some((v) => v instanceof RegExp)) return undefined;
        c.points = value;
        break;
      case '$gt':
      case '$gte':
        c.low = value;
        c.lowExclusive = op === '$gt';
        if (typeof value === 'number' && c.high === undefined) c.high = Infinity;
        break;
      case '$lt':
      case '$lte':
        c.high = value;
        c.highExclusive = op === '$lt';
        break;
      default:
        // Other operators ($ne, $exists, $elemMatch, ...) are evaluated by the full filter.
        break;
    }
  }
  if (c.points) return { points: c.points };
  return c.low !== undefined || c.high !== undefined ? c : undefined;
}

function merge(out: Map<string, FieldConstraint>, field: string, next: FieldConstraint): void {
  const prev = out.get(field);
  if (!prev) {
    out.set(field, next);
    return;
  }
  if (prev.points) return;
  if (next.points) {
    out.set(field, next);
    return;
  }
  out.set(field, {
    low: next.low ?? prev.low,
    high: next.high ?? prev.high,
    lowExclusive: next.low !== undefined ? next.lowExclusive : prev.lowExclusive,
    highExclusive: next.high !== undefined ? next.highExclusive : prev.highExclusive,
  });
}
