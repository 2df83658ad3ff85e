import { Lazy } from 'mingo/lazy';
import { resolve } from 'mingo/util';
import { compareValues } from './values.ts';
import type { Doc } from './types.ts';

/**
 * `$sort` with MongoDB's comparison order. mingo orders some mixed-type values differently (ObjectId,
 * for one, after booleans and dates). As in MongoDB, an array sorts by its smallest element ascending
 * and its largest element descending; the sort is stable.
 */
type Iter = { transform(fn: (items: unknown[]) => unknown): unknown };

function sortValue(value: unknown, direction: number): unknown {
  if (!Array.isArray(value)) return value;
  if (value.length === 0) return undefined;
  return value.reduce((best, v) => (compareValues(v, best) * direction < 0 ? v : best));
}

export function $sort(coll: Iter, sortKeys: Record<string, number>): unknown {
  const keys = Object.entries(sortKeys);
  return coll.transform((items) => {
    const rows = (items as Doc[]).map((doc) => ({ doc, values: keys.map(([path, dir]) => sortValue(resolve(doc, path), dir)) }));
    rows.sort((a, b) => {
      for (let i = 0; i < keys.length; i++) {
        const c = compareValues(a.values[i], b.values[i]) * (keys[i]![1] < 0 ? -1 : 1);
        if (c !== 0) return c;
      }
      return 0;
    });
    return Lazy(rows.map((r) => r.doc));
  });
}
