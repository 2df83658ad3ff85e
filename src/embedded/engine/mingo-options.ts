import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Context, ProcessingMode } from 'mingo/core';
import * as accumulator from 'mingo/operators/accumulator';
import * as expression from 'mingo/operators/expression';
import * as pipeline from 'mingo/operators/pipeline';
import * as projection from 'mingo/operators/projection';
import * as query from 'mingo/operators/query';
import * as window from 'mingo/operators/window';
import type { Options } from 'mingo/types';
import { accumulatorOverrides } from './accumulators.ts';
import { comparisonOverrides } from './comparison-operators.ts';
import { dateOperatorOverrides } from './date-operators.ts';
import { $sort } from './sort-stage.ts';
import { lookupStage } from './lookup-stage.ts';
import { StoreError } from './errors.ts';
import type { Doc } from './types.ts';

/** mingo's operators with MongoDB-correct replacements where they differ (see date-operators.ts). */
const CONTEXT = Context.init({
  accumulator: { ...accumulator, ...accumulatorOverrides() },
  expression: { ...expression, ...dateOperatorOverrides(), ...comparisonOverrides() },
  // Prepared per call, since the class is only reachable once this module has loaded.
  pipeline: { ...pipeline, $sort, $lookup: lookupStage((options) => ComputeOptions.init(options) as never) },
  projection,
  query,
  window,
} as unknown as Parameters<typeof Context.init>[0]);

/**
 * mingo options shared by queries, updates and aggregations.
 * - Server-side JavaScript (`$where`, `$function`, `$accumulator`) is refused by `rejectServerSideJs`:
 *   a client must not run code in the store's process, as MongoDB recommends with `--noscripting`.
 * - `cloneInput` copies documents as they enter a pipeline whose stages may write into their inputs;
 *   stored documents are frozen, so a stage that tried to would fail loudly instead of corrupting data.
 */
export function mingoOptions(opts: { cloneInput?: boolean; collectionResolver?: (name: string) => Doc[]; variables?: Doc } = {}): Options {
  if (opts.collectionResolver === undefined && opts.variables === undefined) return opts.cloneInput ? PREPARED_CLONE_INPUT : PREPARED;
  return plainOptions(opts);
}

function plainOptions(opts: { cloneInput?: boolean; collectionResolver?: (name: string) => Doc[]; variables?: Doc }): Options {
  return {
    idKey: '_id',
    useStrictMode: true,
    failOnError: true,
    // mingo implements some window operators with $function internally, so scripting stays on inside
    // mingo; commands from clients are refused `$where`/`$function`/`$accumulator` before they get here.
    scriptEnabled: true,
    context: CONTEXT,
    processingMode: opts.cloneInput ? ProcessingMode.CLONE_INPUT : ProcessingMode.CLONE_OFF,
    ...(opts.collectionResolver ? { collectionResolver: opts.collectionResolver } : {}),
    ...(opts.variables ? { variables: opts.variables } : {}),
  };
}

/**
 * mingo copies every operator table of the context each time it is handed plain options (Query,
 * Aggregator), which costs more than evaluating a small filter. Handed its own prepared options
 * object, it only wraps it. That class is internal to mingo, so it is reached through the CommonJS
 * build this process already loaded ('mingo/core' resolves to it under Node), never a second copy.
 */
const { ComputeOptions } = createRequire(import.meta.url)(join(dirname(createRequire(import.meta.url).resolve('mingo/core')), '_internal.js')) as {
  ComputeOptions: { init(options: Options): Options & { update(locals: object): never } };
};
const PREPARED = ComputeOptions.init(plainOptions({}));
const PREPARED_CLONE_INPUT = ComputeOptions.init(plainOptions({ cloneInput: true }));

/**
 * Options for mingo's update operators. Its updater always copies the context it is given and adds
 * its own operators, so it gets a small one: operator updates evaluate query conditions (positional
 * `$`, `arrayFilters`, `$pull`), not aggregation expressions.
 */
const UPDATE_CONTEXT = Context.init({ query, expression: comparisonOverrides() } as unknown as Parameters<typeof Context.init>[0]);
export const updateOperatorOptions: Options = { ...plainOptions({}), context: UPDATE_CONTEXT };

const SCRIPT_OPERATORS = new Set(['$where', '$function', '$accumulator']);

/** Throws if a filter, pipeline or update holds an operator that would run client-supplied code. */
export function rejectServerSideJs(value: unknown, depth = 0): void {
  if (depth > 200 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) rejectServerSideJs(item, depth + 1);
    return;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return;
  for (const [key, child] of Object.entries(value)) {
    if (SCRIPT_OPERATORS.has(key)) throw new StoreError('IllegalOperation', `${key} is disabled: the embedded store does not run server-side JavaScript`);
    rejectServerSideJs(child, depth + 1);
  }
}
