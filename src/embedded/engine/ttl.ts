import type { Catalog } from './catalog.ts';

/**
 * Removes documents whose TTL-indexed date is older than the index's `expireAfterSeconds`, as
 * MongoDB's TTL monitor does. A field holding an array of dates expires with its earliest date;
 * documents without a date in the field never expire. Returns the number removed.
 */
export function expireDocuments(catalog: Catalog, now = Date.now()): number {
  let removed = 0;
  for (const collection of catalog.allCollections()) {
    for (const index of collection.indexes()) {
      const seconds = index.spec.expireAfterSeconds;
      if (typeof seconds !== 'number' || index.fields.length !== 1) continue;
      const cutoff = now - seconds * 1000;
      const field = index.fields[0]!;
      const expired = collection.scan({ [field]: { $lt: new Date(cutoff) } }).records;
      for (const record of expired) {
        catalog.delete(collection, record);
        removed++;
      }
    }
  }
  return removed;
}
