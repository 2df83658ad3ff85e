import type { Collection } from 'mongodb';
import type { EventDocument } from '../../../src/db/documents.ts';
import { DURABLE } from '../../../src/db/write-concern.ts';
import { pool } from './stats.ts';

export interface RawResult {
  ms: number;
  /** Batches sent: all of them, unless the time limit stopped the run early. */
  batches: number;
  inserted: number;
  failedBatches: number;
  latencies: Float64Array;
}

/**
 * What capture could reach at best on this store: the same documents, in the same batch size, with the
 * same concurrency and the same durable write concern, but straight from the driver (no HTTP, no JSON
 * parsing, no normalization, no change feed reading them back).
 */
export async function runRawInserts(coll: Collection<EventDocument>, batches: EventDocument[][], clients: number, limitMs = Infinity): Promise<RawResult> {
  const latencies = new Float64Array(batches.length);
  let inserted = 0;
  let failedBatches = 0;
  const started = performance.now();
  const sent = await pool(batches.length, clients, async (i) => {
    const t0 = performance.now();
    try {
      const result = await coll.insertMany(batches[i]!, { ordered: false, writeConcern: DURABLE });
      inserted += result.insertedCount;
    } catch {
      failedBatches += 1;
    }
    latencies[i] = performance.now() - t0;
  }, started + limitMs);
  return { ms: performance.now() - started, batches: sent, inserted, failedBatches, latencies: latencies.subarray(0, sent) };
}
