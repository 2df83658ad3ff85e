import { resolve } from 'mingo/util';
import * as accumulatorOperators from 'mingo/operators/accumulator';
import type { Options } from 'mingo/types';
import { compareValues } from './values.ts';

/**
 * Accumulators where mingo and MongoDB 7 differ, replaced so that MongoDB's answer wins:
 * - `$push` of a field some documents lack: MongoDB skips the missing values, mingo pushes null;
 * - `$min`/`$max` over values of different types: MongoDB compares in BSON type order (numbers < strings
 *   < objects < arrays < ObjectId < booleans < dates), mingo's order differs for some types.
 */
type Accumulator = (coll: unknown[], expr: unknown, options: Options) => unknown;

const original = accumulatorOperators as unknown as Record<string, Accumulator>;

const $push: Accumulator = (coll, expr, options) => {
  if (expr === null || expr === undefined) return coll;
  // A plain field path is the case that differs; other expressions keep mingo's behaviour.
  if (typeof expr !== 'string' || !expr.startsWith('$') || expr.startsWith('$$')) return original.$push!(coll, expr, options);
  const path = expr.slice(1);
  return coll.map((root) => resolve(root as Record<string, unknown>, path)).filter((v) => v !== undefined);
};

function extreme(sign: 1 | -1): Accumulator {
  return (coll, expr, options) => {
    const values = ($push(coll, expr, options) as unknown[]).filter((v) => v !== null && v !== undefined);
    if (values.length === 0) return null;
    return values.reduce((best, v) => (compareValues(v, best) * sign > 0 ? v : best));
  };
}

export function accumulatorOverrides(): Record<string, Accumulator> {
  return { $push, $min: extreme(-1), $max: extreme(1) };
}
