import { Aggregator } from 'mingo/aggregator';
import { StoreError, toStoreError } from './errors.ts';
import { mingoOptions } from './mingo-options.ts';
import { writeStageResults } from './merge.ts';
import { emptyScanStats } from './collection.ts';
import { isPlainObject } from './values.ts';
import type { Catalog } from './catalog.ts';
import type { Doc, ScanStats } from './types.ts';

export interface AggregateResult {
  docs: Doc[];
  /** What the leading `$match` cost (for explain and serverStatus). */
  stats: ScanStats;
}

// Stages that build new documents instead of writing into their inputs, so stored (frozen) documents
// can flow through them without a defensive copy.
const NON_MUTATING = new Set(['$match', '$group', '$sort', '$limit', '$skip', '$count', '$sortByCount', '$bucket', '$bucketAuto', '$project', '$lookup', '$replaceRoot', '$replaceWith', '$sample']);

function stageName(stage: Doc): string {
  const keys = Object.keys(stage);
  if (keys.length !== 1 || !isPlainObject(stage) || !keys[0]!.startsWith('$')) {
    throw new StoreError('Location40323', 'A pipeline stage specification object must contain exactly one field.');
  }
  return keys[0]!;
}

function isNonMutating(stage: Doc): boolean {
  const name = stageName(stage);
  if (name === '$addFields' || name === '$set') return Object.keys(stage[name] as Doc).every((k) => !k.includes('.'));
  // mingo's $unwind builds a new document per array element; only these two options write into the input.
  if (name === '$unwind') {
    const spec = stage.$unwind;
    return typeof spec === 'string' || (isPlainObject(spec) && spec.includeArrayIndex === undefined && spec.preserveNullAndEmptyArrays !== true);
  }
  if (name === '$facet') return Object.values(stage.$facet as Record<string, Doc[]>).every((p) => p.every(isNonMutating));
  return NON_MUTATING.has(name);
}

/**
 * Runs a pipeline on a collection. Leading `$match` stages are answered through the collection's indexes;
 * the rest runs in mingo. A final `$out` or `$merge` writes through the catalog, so its writes are logged
 * and indexed like any other.
 */
export function runAggregate(catalog: Catalog, db: string, coll: string | null, pipeline: Doc[], variables?: Doc): AggregateResult {
  if (!Array.isArray(pipeline)) throw new StoreError('TypeMismatch', "'pipeline' option must be specified as an array");
  pipeline.forEach(stageName);
  let start = 0;
  const filters: Doc[] = [];
  while (start < pipeline.length && stageName(pipeline[start]!) === '$match') filters.push(pipeline[start++]!.$match as Doc);
  const last = pipeline[pipeline.length - 1];
  const writer = last && ['$out', '$merge'].includes(stageName(last)) ? last : undefined;
  const middle = rewriteCount(pipeline.slice(start, writer ? -1 : undefined));

  let input: Doc[] = [];
  let stats = emptyScanStats();
  const collection = coll === null ? undefined : catalog.get(db, coll);
  if (collection) {
    const filter = filters.length === 0 ? {} : filters.length === 1 ? filters[0]! : { $and: filters };
    const scanned = collection.scan(filter);
    input = scanned.records.map((r) => r.doc);
    stats = scanned.stats;
  }

  let docs: Doc[];
  try {
    const options = mingoOptions({
      cloneInput: !middle.every(isNonMutating),
      collectionResolver: (name) => [...(catalog.get(db, name)?.records() ?? [])].map((r) => r.doc),
      ...(variables ? { variables } : {}),
    });
    docs = middle.length ? (new Aggregator(middle, options).run(input) as Doc[]) : input;
  } catch (error) {
    throw toStoreError(error);
  }
  if (writer) {
    writeStageResults(catalog, db, writer, docs);
    return { docs: [], stats };
  }
  return { docs, stats };
}

/**
 * mingo's `$count` emits `{field: 0}` for empty input, where MongoDB emits nothing; `$group` + `$project`
 * is MongoDB's own definition of the stage and behaves the same in both.
 */
function rewriteCount(stages: Doc[]): Doc[] {
  return stages.flatMap((stage): Doc[] => {
    if ('$count' in stage && typeof stage.$count === 'string') {
      return [{ $group: { _id: null, n: { $sum: 1 } } }, { $project: { _id: 0, [stage.$count]: '$n' } }];
    }
    if ('$facet' in stage && isPlainObject(stage.$facet)) {
      const facets = Object.fromEntries(Object.entries(stage.$facet).map(([k, p]) => [k, Array.isArray(p) ? rewriteCount(p as Doc[]) : p]));
      return [{ $facet: facets }];
    }
    if ('$lookup' in stage && isPlainObject(stage.$lookup) && Array.isArray(stage.$lookup.pipeline)) {
      return [{ $lookup: { ...stage.$lookup, pipeline: rewriteCount(stage.$lookup.pipeline as Doc[]) } }];
    }
    return [stage];
  });
}
