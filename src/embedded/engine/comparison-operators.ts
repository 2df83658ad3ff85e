import { evalExpr } from 'mingo/core';
import type { Options } from 'mingo/types';
import { StoreError } from './errors.ts';
import { compareValues } from './values.ts';

/**
 * Aggregation comparison operators (`$eq`, `$gt`, ... in `$expr` and pipelines) compare values of
 * different types by MongoDB's BSON order (null and missing below numbers, numbers below strings, ...),
 * which mingo's own order does not always follow.
 */
type Operator = (obj: unknown, expr: unknown, options: Options) => unknown;

function comparison(name: string, test: (c: number) => boolean | number): Operator {
  return (obj, expr, options) => {
    const args = evalExpr(obj, expr, options);
    if (!Array.isArray(args) || args.length !== 2) throw new StoreError('Location16020', `Expression ${name} takes exactly 2 arguments`);
    return test(compareValues(args[0], args[1]));
  };
}

export function comparisonOverrides(): Record<string, Operator> {
  return {
    $eq: comparison('$eq', (c) => c === 0),
    $ne: comparison('$ne', (c) => c !== 0),
    $gt: comparison('$gt', (c) => c > 0),
    $gte: comparison('$gte', (c) => c >= 0),
    $lt: comparison('$lt', (c) => c < 0),
    $lte: comparison('$lte', (c) => c <= 0),
    $cmp: comparison('$cmp', (c) => Math.sign(c)),
  };
}
