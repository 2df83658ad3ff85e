import { Query } from 'mingo/query';
import { mingoOptions } from './mingo-options.ts';
import { UUID } from 'bson';
import { StoreError } from './errors.ts';
import { SecondaryIndex, defaultIndexName, duplicateKeyError, type IndexSpec } from './indexes.ts';
import { idLookupKeys, planIndexScan } from './planner.ts';
import { compareValues, deepFreeze, keyOf } from './values.ts';
import type { Doc, ScanStats, StoredRecord } from './types.ts';

/** Options a collection was created with (kept for `listCollections`). */
export type CollectionOptions = Doc;

/** The counters of a scan that has examined nothing yet (or of a collection that does not exist). */
export function emptyScanStats(): ScanStats {
  return { stage: 'COLLSCAN', keysExamined: 0, docsExamined: 0 };
}

export const ID_INDEX: IndexSpec = { v: 2, key: { _id: 1 }, name: '_id_' };

/** The candidates a filter selects, with what it cost to find them. */
export interface ScanResult {
  records: StoredRecord[];
  stats: ScanStats;
}

/**
 * One collection's documents and indexes, in memory. All changes go through `insert`, `replace`
 * and `remove`, which keep every index consistent and check uniqueness before changing anything.
 * Documents are frozen when stored, so readers can hand them out without copying.
 */
export class Collection {
  readonly db: string;
  readonly name: string;
  readonly options: CollectionOptions;
  readonly uuid: UUID;
  private readonly byId = new Map<string, StoredRecord>();
  private readonly secondary = new Map<string, SecondaryIndex>();
  private nextRid = 1;

  constructor(db: string, name: string, options: CollectionOptions = {}, uuid: UUID = new UUID()) {
    this.db = db;
    this.name = name;
    this.options = options;
    this.uuid = uuid;
  }

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  get count(): number {
    return this.byId.size;
  }

  /** Records in natural (insertion) order. */
  records(): IterableIterator<StoredRecord> {
    return this.byId.values();
  }

  indexSpecs(): IndexSpec[] {
    return [ID_INDEX, ...[...this.secondary.values()].map((i) => i.spec)];
  }

  indexes(): SecondaryIndex[] {
    return [...this.secondary.values()];
  }

  getById(id: unknown): StoredRecord | undefined {
    return this.byId.get(keyOf(id));
  }

  /** Adds a document (which must carry `_id`); throws E11000 without changing anything on a conflict. */
  insert(doc: Doc): StoredRecord {
    const idKey = keyOf(doc._id);
    if (this.byId.has(idKey)) throw duplicateKeyError(this.ns, { name: '_id_', fields: ['_id'] }, [doc._id]);
    const keys = this.keysFor(doc);
    for (const [index, k] of keys) index.checkUnique(k, undefined, this.ns);
    const record: StoredRecord = { rid: this.nextRid++, doc: deepFreeze(doc) };
    this.byId.set(idKey, record);
    for (const [index, k] of keys) index.add(record, k);
    return record;
  }

  /** Swaps a record's document for a new version with the same `_id`, keeping indexes in step. */
  replace(record: StoredRecord, next: Doc): void {
    const oldKeys = this.keysFor(record.doc);
    const newKeys = this.keysFor(next);
    for (const [index, k] of newKeys) index.checkUnique(k, record, this.ns);
    for (const [index, k] of oldKeys) index.remove(record, k);
    record.doc = deepFreeze(next);
    for (const [index, k] of newKeys) index.add(record, k);
  }

  remove(record: StoredRecord): void {
    for (const [index, k] of this.keysFor(record.doc)) index.remove(record, k);
    this.byId.delete(keyOf(record.doc._id));
  }

  createIndex(spec: IndexSpec): 'created' | 'exists' {
    if (spec.name === '_id_' || isIdPattern(spec.key)) return 'exists';
    const existing = this.secondary.get(spec.name);
    if (existing) {
      if (keyOf(existing.spec.key) !== keyOf(spec.key)) {
        throw new StoreError('IndexKeySpecsConflict', `An existing index has the same name as the requested index but different keys: ${spec.name}`);
      }
      if (!sameOptions(existing.spec, spec)) {
        throw new StoreError('IndexOptionsConflict', `An existing index has the same name as the requested index but different options: ${spec.name}`);
      }
      return 'exists';
    }
    for (const other of this.secondary.values()) {
      if (keyOf(other.spec.key) === keyOf(spec.key) && !spec.partialFilterExpression && !other.spec.partialFilterExpression) {
        throw new StoreError('IndexOptionsConflict', `Index already exists with a different name: ${other.name}`);
      }
    }
    const index = new SecondaryIndex(spec);
    // Build fully before publishing, so a uniqueness failure leaves the collection as it was.
    for (const record of this.byId.values()) {
      const keys = index.keysFor(record.doc);
      index.checkUnique(keys, record, this.ns);
      index.add(record, keys);
    }
    this.secondary.set(spec.name, index);
    return 'created';
  }

  dropIndex(name: string): void {
    if (name === '_id_') throw new StoreError('InvalidOptions', 'cannot drop _id index');
    if (!this.secondary.delete(name)) throw new StoreError('IndexNotFound', `index not found with name [${name}]`);
  }

  findIndexName(key: Record<string, unknown>): string | undefined {
    if (isIdPattern(key)) return '_id_';
    const wanted = keyOf(key);
    for (const index of this.secondary.values()) if (keyOf(index.spec.key) === wanted) return index.name;
    return undefined;
  }

  /**
   * The records matching `filter`, in natural order when no index was used and in index order otherwise.
   * `limit` stops early once that many matches are found (0 = no limit).
   */
  scan(filter: Doc, limit = 0): ScanResult {
    const query = new Query(filter, mingoOptions());
    const matched: StoredRecord[] = [];
    const stats = emptyScanStats();
    const consider = (record: StoredRecord): boolean => {
      stats.docsExamined++;
      if (query.test(record.doc)) matched.push(record);
      return limit > 0 && matched.length >= limit;
    };

    const idKeys = idLookupKeys(filter);
    if (idKeys) {
      stats.stage = 'IDHACK';
      for (const key of new Set(idKeys)) {
        stats.keysExamined++;
        const record = this.byId.get(key);
        if (record && consider(record)) break;
      }
      return { records: matched, stats };
    }

    const plan = planIndexScan(filter, [...this.secondary.values()]);
    if (plan) {
      stats.stage = 'IXSCAN';
      stats.indexName = plan.index.name;
      const seen = plan.index.multikey || plan.intervals.length > 1 ? new Set<number>() : undefined;
      const candidates: StoredRecord[] = [];
      for (const { low, high } of plan.intervals) {
        stats.keysExamined += plan.index.scan(low, high, (record, key) => {
          // Exclusive bounds: skip the entry, not the document, since a multikey document has other entries.
          if (plan.excluded.length && plan.excluded.some((v) => compareValues(key[plan.rangeAt], v) === 0)) return;
          if (seen) {
            if (seen.has(record.rid)) return;
            seen.add(record.rid);
          }
          candidates.push(record);
        });
      }
      for (const record of candidates) if (consider(record)) break;
      return { records: matched, stats };
    }

    for (const record of this.byId.values()) if (consider(record)) break;
    return { records: matched, stats };
  }

  private keysFor(doc: Doc): Array<[SecondaryIndex, unknown[][]]> {
    const out: Array<[SecondaryIndex, unknown[][]]> = [];
    for (const index of this.secondary.values()) out.push([index, index.keysFor(doc)]);
    return out;
  }
}

function isIdPattern(key: Record<string, unknown>): boolean {
  const fields = Object.keys(key);
  return fields.length === 1 && fields[0] === '_id';
}

const COMPARED_OPTIONS = ['unique', 'sparse', 'expireAfterSeconds', 'partialFilterExpression'] as const;

function sameOptions(a: IndexSpec, b: IndexSpec): boolean {
  return COMPARED_OPTIONS.every((o) => keyOf(a[o] ?? null) === keyOf(b[o] ?? null));
}

export { defaultIndexName };
