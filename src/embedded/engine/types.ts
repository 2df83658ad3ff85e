/** A stored document: plain objects, arrays and BSON values, frozen once stored. */
export type Doc = Record<string, unknown>;

/** A document in a collection with the record id that orders index entries and survives updates. */
export interface StoredRecord {
  readonly rid: number;
  doc: Doc;
}

/** Counters a query reports through `explain` and `serverStatus`. */
export interface ScanStats {
  /** `IXSCAN` when an index narrowed the candidates, else `COLLSCAN`. */
  stage: 'IXSCAN' | 'COLLSCAN' | 'IDHACK';
  indexName?: string;
  keysExamined: number;
  docsExamined: number;
}
