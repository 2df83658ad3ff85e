import { Aggregator } from 'mingo/aggregator';
import { evalExpr } from 'mingo/core';
import * as pipelineOperators from 'mingo/operators/pipeline';
import { HashMap, ensureArray, resolve } from 'mingo/util';
import type { Options } from 'mingo/types';
import type { Doc } from './types.ts';

/**
 * `$lookup` with `localField`/`foreignField` *and* a `pipeline` (MongoDB 5.0+): MongoDB runs the pipeline
 * on the foreign documents that matched on the fields; mingo runs it on the whole foreign collection
 * whenever anything matched. The foreign collection is hashed on `foreignField` once per stage, as mingo
 * does for the form without a pipeline, so each input document costs a hash lookup plus the pipeline
 * over its matches. Every other form is mingo's own.
 */
type Iter = { map(fn: (doc: Doc) => unknown): unknown };
type Stage = (coll: Iter, expr: Doc, options: Options) => unknown;
type PreparedOptions = Options & { update(locals: { root: unknown; variables: unknown }): PreparedOptions };

const original = (pipelineOperators as unknown as Record<string, Stage>).$lookup!;

export function lookupStage(prepare: (options: Options) => PreparedOptions): Stage {
  return (coll, expr, options) => {
    const { localField, foreignField, pipeline, from } = expr;
    const resolver = options.collectionResolver;
    if (typeof localField !== 'string' || typeof foreignField !== 'string' || typeof from !== 'string' || !resolver) return original(coll, expr, options);
    if (!Array.isArray(pipeline) || pipeline.length === 0 || (pipeline[0] as Doc | undefined)?.$documents !== undefined) return original(coll, expr, options);
    const byValue = HashMap.init<unknown, Doc[]>();
    for (const doc of resolver(from) as Doc[]) {
      for (const value of ensureArray(resolve(doc, foreignField) ?? null)) {
        const docs = byValue.get(value);
        if (docs) docs.push(doc);
        else byValue.set(value, [doc]);
      }
    }
    const agg = new Aggregator(pipeline as Doc[], options);
    const prepared = prepare(options);
    return coll.map((obj) => {
      const local = resolve(obj, localField) ?? null;
      // An array matches on any of its elements, each foreign document once (as mingo's form without a pipeline).
      const matched = Array.isArray(local) ? [...new Set(local.flatMap((v) => byValue.get(v) ?? []))] : (byValue.get(local) ?? []);
      const variables = evalExpr(obj, expr.let, options);
      return { ...obj, [expr.as as string]: agg.run(matched, prepared.update({ root: null, variables })) };
    });
  };
}
