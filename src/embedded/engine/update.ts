import { Aggregator } from 'mingo/aggregator';
import { update as applyOperators } from 'mingo/updater';
import { cloneDeep, resolve, setValue } from 'mingo/util';
import { ObjectId, Timestamp } from 'bson';
import { StoreError, toStoreError } from './errors.ts';
import { isPlainObject, keyOf } from './values.ts';
import { mingoOptions, updateOperatorOptions } from './mingo-options.ts';
import type { UpdateDescription } from './oplog.ts';
import type { Doc } from './types.ts';

/** The `u` of an update statement: operators, a replacement document, or an aggregation pipeline. */
export type UpdateSpec = Doc | Doc[];

export interface UpdateOutcome {
  doc: Doc;
  /** Set for operator and pipeline updates; replacements have none (they are change-stream `replace` events). */
  description?: UpdateDescription;
  changed: boolean;
}

/** Classifies `u` and rejects mixes MongoDB rejects. */
export function updateKind(u: UpdateSpec): 'pipeline' | 'operators' | 'replacement' {
  if (Array.isArray(u)) return 'pipeline';
  if (!isPlainObject(u)) throw new StoreError('FailedToParse', 'Update argument must be either an object or an array');
  const keys = Object.keys(u);
  const operators = keys.filter((k) => k.startsWith('$'));
  if (operators.length === 0) return 'replacement';
  if (operators.length !== keys.length) {
    throw new StoreError('FailedToParse', 'Update document cannot mix operators and plain fields');
  }
  return 'operators';
}

/**
 * Applies an update to a copy of `current` (mingo does the operator and pipeline semantics).
 * `query` resolves the positional `$`; `inserting` turns `$setOnInsert` on.
 */
export function applyUpdate(current: Doc, u: UpdateSpec, opts: { query: Doc; arrayFilters?: Doc[]; inserting: boolean }): UpdateOutcome {
  const kind = updateKind(u);
  let next: Doc;
  try {
    if (kind === 'replacement') {
      next = replacementOf(current, u as Doc);
    } else if (kind === 'pipeline') {
      const [result] = new Aggregator(u as Doc[], mingoOptions({ cloneInput: true })).run([current]) as Doc[];
      next = result ?? {};
    } else {
      next = cloneDeep(current) as Doc;
      const { $setOnInsert, ...operators } = u as Doc;
      if ($setOnInsert !== undefined && opts.inserting) {
        for (const [path, value] of Object.entries($setOnInsert as Doc)) setValue(next, path, cloneDeep(value));
      }
      if ($setOnInsert !== undefined && !isPlainObject($setOnInsert)) throw new StoreError('FailedToParse', 'Modifiers operate on fields but we found type ' + typeof $setOnInsert + ' instead.');
      checkNumericTargets(next, operators);
      resolveCurrentDate(operators);
      if (Object.keys(operators).length > 0) {
        // mingo only applies an update when `condition` matches; it is needed only to resolve the positional `$`,
        // and must not be given for an upsert (the new document need not match range conditions of the query).
        const positional = !opts.inserting && usesPositional(operators);
        applyOperators(next, operators as Parameters<typeof applyOperators>[1], opts.arrayFilters, positional ? opts.query : undefined, { cloneMode: 'deep', queryOptions: updateOperatorOptions });
      }
    }
  } catch (error) {
    throw toStoreError(error);
  }
  if (!('_id' in next) && '_id' in current) next = { _id: current._id, ...next };
  if ('_id' in current && keyOf(next._id) !== keyOf(current._id)) {
    throw new StoreError('ImmutableField', "Performing an update on the path '_id' would modify the immutable field '_id'");
  }
  next = idFirst(kind === 'operators' ? newFieldsSorted(current, next) : next);
  if (kind === 'replacement') return { doc: next, changed: keyOf(next) !== keyOf(current) };
  // The description already compares every field, so it says whether anything changed; serializing
  // both whole documents to compare them again would double the cost of every update.
  const description = describe(current, next);
  const changed = Object.keys(description.updatedFields).length > 0 || description.removedFields.length > 0;
  return { doc: next, changed, description };
}

/** The document an upsert starts from: the query's equality fields (MongoDB copies those), then the update. */
export function upsertDocument(query: Doc, u: UpdateSpec, arrayFilters?: Doc[]): Doc {
  const seed: Doc = {};
  for (const [path, value] of equalityFields(query)) setValue(seed, path, cloneDeep(value));
  const kind = updateKind(u);
  if (kind === 'replacement') {
    const doc = { ...(u as Doc) };
    if (!('_id' in doc)) doc._id = '_id' in seed ? seed._id : new ObjectId();
    validateReplacement(doc);
    return idFirst(doc);
  }
  const { doc } = applyUpdate(seed, u, { query, arrayFilters, inserting: true });
  if (!('_id' in doc)) return { _id: new ObjectId(), ...doc };
  return doc;
}

const POSITIONAL_SEGMENT = /(^|\.)\$(\.|$)/;

/** Does any operator write through the positional `$` (e.g. `items.$.qty`)? */
function usesPositional(operators: Doc): boolean {
  return Object.values(operators).some((spec) => isPlainObject(spec) && Object.keys(spec).some((path) => POSITIONAL_SEGMENT.test(path)));
}

function replacementOf(current: Doc, replacement: Doc): Doc {
  validateReplacement(replacement);
  const next: Doc = '_id' in current ? { _id: current._id } : {};
  for (const [k, v] of Object.entries(replacement)) next[k] = v;
  return next;
}

function validateReplacement(doc: Doc): void {
  for (const key of Object.keys(doc)) {
    if (key.startsWith('$')) {
      throw new StoreError('DollarPrefixedFieldName', `The dollar ($) prefixed field '${key}' in '${key}' is not allowed in the context of an update's replacement document.`);
    }
  }
}

function equalityFields(query: Doc): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [field, condition] of Object.entries(query)) {
    if (field === '$and' && Array.isArray(condition)) {
      for (const clause of condition) if (isPlainObject(clause)) out.push(...equalityFields(clause));
      continue;
    }
    if (field.startsWith('$')) continue;
    if (isPlainObject(condition) && Object.keys(condition).some((k) => k.startsWith('$'))) {
      if ('$eq' in condition) out.push([field, condition.$eq]);
      continue;
    }
    if (condition instanceof RegExp) continue;
    out.push([field, condition]);
  }
  return out;
}

function idFirst(doc: Doc): Doc {
  const keys = Object.keys(doc);
  if (keys[0] === '_id' || !('_id' in doc)) return doc;
  const { _id, ...rest } = doc;
  return { _id, ...rest };
}

/** What changed, as a change stream's `updateDescription`: dotted paths into embedded documents, as MongoDB reports them. */
function describe(before: Doc, after: Doc): UpdateDescription {
  const description: UpdateDescription = { updatedFields: {}, removedFields: [] };
  diff(before, after, '', description);
  return description;
}

function diff(before: Doc, after: Doc, prefix: string, out: UpdateDescription): void {
  for (const [key, value] of Object.entries(after)) {
    const old = before[key];
    if (old === value && value !== undefined) continue;
    if (key in before && isPlainObject(old) && isPlainObject(value)) diff(old, value, `${prefix}${key}.`, out);
    else if (!(key in before) || keyOf(old) !== keyOf(value)) out.updatedFields[prefix + key] = value;
  }
  for (const key of Object.keys(before)) if (!(key in after)) out.removedFields.push(prefix + key);
}

/** MongoDB 5+ keeps existing fields in place and appends fields an update adds in lexicographic order. */
function newFieldsSorted(before: Doc, after: Doc): Doc {
  const added = Object.keys(after).filter((k) => !(k in before));
  if (added.length < 2) return after;
  const out: Doc = {};
  for (const key of Object.keys(after)) if (key in before) out[key] = after[key];
  for (const key of added.sort()) out[key] = after[key];
  return out;
}

/** `$inc` and `$mul` on a value that is present but not a number fail in MongoDB instead of doing nothing. */
function checkNumericTargets(doc: Doc, operators: Doc): void {
  for (const op of ['$inc', '$mul'] as const) {
    const spec = operators[op];
    if (!isPlainObject(spec)) continue;
    for (const [path, amount] of Object.entries(spec)) {
      if (typeof amount !== 'number' && !(amount !== null && typeof amount === 'object' && 'toNumber' in amount)) {
        throw new StoreError('TypeMismatch', `Cannot ${op === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${path}: ${JSON.stringify(amount)}}`);
      }
      if (path.includes('$')) continue;
      const current = resolve(doc, path);
      if (current !== undefined && current !== null && typeof current !== 'number' && !(typeof current === 'object' && 'toNumber' in (current as object))) {
        throw new StoreError('TypeMismatch', `Cannot apply ${op} to a value of non-numeric type. {_id: ${JSON.stringify(doc._id)}} has the field '${path}' of non-numeric type ${typeof current}`);
      }
    }
  }
}

/** `$currentDate` with `{$type: 'timestamp'}` must store a BSON Timestamp; it becomes a `$set` of the value. */
function resolveCurrentDate(operators: Doc): void {
  const spec = operators.$currentDate;
  if (!isPlainObject(spec)) return;
  const now = new Date();
  const set: Doc = { ...((operators.$set as Doc | undefined) ?? {}) };
  for (const [path, how] of Object.entries(spec)) {
    const asTimestamp = isPlainObject(how) && how.$type === 'timestamp';
    set[path] = asTimestamp ? new Timestamp({ t: Math.floor(now.getTime() / 1000), i: 1 }) : now;
  }
  delete operators.$currentDate;
  operators.$set = set;
}
