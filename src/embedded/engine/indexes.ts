import { createRequire } from 'node:module';
import { Query } from 'mingo/query';
import { mingoOptions } from './mingo-options.ts';
import { StoreError } from './errors.ts';
import { MAX_KEY, MIN_KEY, compareValues, keyOf, valuesAtPath } from './values.ts';
import type { Doc, StoredRecord } from './types.ts';

/** An index as `createIndexes` describes it and `listIndexes` returns it. */
export interface IndexSpec {
  v?: number;
  key: Record<string, unknown>;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  expireAfterSeconds?: number;
  partialFilterExpression?: Doc;
  [option: string]: unknown;
}

// sorted-btree is CommonJS with a default export; loading it through require gives the same class under
// Node's ESM loader and under the test runner's transform, whose default-import interop differ.
const BTree = (createRequire(import.meta.url)('sorted-btree') as { default: typeof import('sorted-btree').default }).default;

function newTree(compare: (a: IndexKey, b: IndexKey) => number) {
  return new BTree<IndexKey, StoredRecord>(undefined, compare);
}

/** Index keys are the indexed values followed by the record id, which keeps entries distinct. */
type IndexKey = unknown[];

const MAX_KEYS_PER_DOCUMENT = 1_000;

/** A secondary index: a B-tree ordered by MongoDB's value order, per field direction. */
export class SecondaryIndex {
  readonly spec: IndexSpec;
  readonly fields: string[];
  readonly directions: number[];
  private readonly tree: ReturnType<typeof newTree>;
  private readonly partial: Query | undefined;
  /** True once any document contributed more than one key (an array value), as in MongoDB. */
  multikey = false;

  constructor(spec: IndexSpec) {
    this.spec = spec;
    this.fields = Object.keys(spec.key);
    this.directions = this.fields.map((f) => (spec.key[f] === -1 ? -1 : 1));
    const dirs = this.directions;
    this.tree = newTree((a, b) => {
      for (let i = 0; i < a.length; i++) {
        const c = compareValues(a[i], b[i]);
        if (c !== 0) return i < dirs.length ? c * dirs[i]! : c;
      }
      return 0;
    });
    this.partial = spec.partialFilterExpression ? new Query(spec.partialFilterExpression, mingoOptions()) : undefined;
  }

  get name(): string {
    return this.spec.name;
  }

  get unique(): boolean {
    return this.spec.unique === true;
  }

  /** Whether the planner may answer queries from this index without missing documents. */
  get complete(): boolean {
    return !this.partial && !this.spec.sparse;
  }

  /** The value tuples this document is indexed under; empty when a sparse or partial index skips it. */
  keysFor(doc: Doc): unknown[][] {
    if (this.partial && !this.partial.test(doc)) return [];
    let combos: unknown[][] = [[]];
    let present = false;
    for (const field of this.fields) {
      const { values, multikey, found } = valuesAtPath(doc, field);
      if (multikey) this.multikey = true;
      if (found) present = true;
      const next: unknown[][] = [];
      for (const combo of combos) for (const value of values) next.push([...combo, value]);
      if (next.length > MAX_KEYS_PER_DOCUMENT) {
        throw new StoreError('BadValue', `document would add more than ${MAX_KEYS_PER_DOCUMENT} keys to index ${this.name}`);
      }
      combos = next;
    }
    if (this.spec.sparse && !present) return [];
    return dedupe(combos);
  }

  /** Throws a duplicate-key error if another record already holds one of these keys. */
  checkUnique(keys: unknown[][], self: StoredRecord | undefined, ns: string): void {
    if (!this.unique) return;
    for (const values of keys) {
      let other: StoredRecord | undefined;
      this.scan(values, values, (record) => {
        if (record !== self) other ??= record;
      });
      if (other) throw duplicateKeyError(ns, this, values);
    }
  }

  add(record: StoredRecord, keys: unknown[][]): void {
    for (const values of keys) this.tree.set([...values, record.rid], record);
  }

  remove(record: StoredRecord, keys: unknown[][]): void {
    for (const values of keys) this.tree.delete([...values, record.rid]);
  }

  /**
   * Visits entries between two value tuples (inclusive; shorter tuples are padded with open bounds),
   * calling `visit` with each record. Returns the number of keys examined.
   */
  scan(low: unknown[], high: unknown[], visit: (record: StoredRecord, key: IndexKey) => void): number {
    let examined = 0;
    const lowKey = padBound(low, this.fields.length, -1, this.directions);
    const highKey = padBound(high, this.fields.length, 1, this.directions);
    this.tree.forRange(lowKey, highKey, true, (key: IndexKey, record: StoredRecord) => {
      examined++;
      visit(record, key);
    });
    return examined;
  }

}

function dedupe(combos: unknown[][]): unknown[][] {
  if (combos.length < 2) return combos;
  const seen = new Map<string, unknown[]>();
  for (const combo of combos) seen.set(keyOf(combo), combo);
  return [...seen.values()];
}

/**
 * Pads a value tuple into a full index key. In index order (which already applies each field's
 * direction) a lower bound needs the smallest possible suffix, so for an ascending field that is
 * MinKey and for a descending field MaxKey; the record-id position is always numeric.
 */
function padBound(values: unknown[], width: number, side: -1 | 1, directions: number[]): IndexKey {
  const key: IndexKey = [...values];
  for (let i = values.length; i < width; i++) key.push(side * directions[i]! < 0 ? MIN_KEY : MAX_KEY);
  key.push(side < 0 ? -Infinity : Infinity);
  return key;
}

/** MongoDB's E11000 error, with the key pattern and the offending values. */
export function duplicateKeyError(ns: string, index: { name: string; fields: string[] }, values: unknown[]): StoreError {
  const keyPattern: Record<string, number> = {};
  const keyValue: Record<string, unknown> = {};
  index.fields.forEach((field, i) => {
    keyPattern[field] = 1;
    keyValue[field] = values[i] ?? null;
  });
  const shown = index.fields.map((f, i) => `${f}: ${JSON.stringify(values[i] ?? null)}`).join(', ');
  return new StoreError('DuplicateKey', `E11000 duplicate key error collection: ${ns} index: ${index.name} dup key: { ${shown} }`, {
    keyPattern,
    keyValue,
  });
}

/** The index name MongoDB derives from a key pattern, e.g. `{a: 1, b: -1}` → `a_1_b_-1`. */
export function defaultIndexName(key: Record<string, unknown>): string {
  return Object.entries(key)
    .map(([field, dir]) => `${field}_${String(dir)}`)
    .join('_');
}
