import type { Db } from 'mongodb';

export interface Verification {
  acked: number;
  stored: number;
  distinct: number;
  /** Acknowledged but not stored: must be 0. */
  lost: number;
  /** Stored more than once: must be 0 (the unique index should make it impossible). */
  duplicates: number;
  /** Stored although the client never saw a 200 (allowed: e.g. the reply was lost). */
  unackedStored: number;
}

/** acked ⊆ stored, compared as exact uuid sets with majority reads, plus duplicate and surplus counts. */
export async function verifyStored(db: Db, projectId: string, acked: Iterable<string>): Promise<Verification> {
  const events = db.collection<{ projectId: string; uuid: string }>('events', { readConcern: { level: 'majority' } });
  const stored = new Set<string>();
  let rows = 0;
  for await (const doc of events.find({ projectId }, { projection: { _id: 0, uuid: 1 }, batchSize: 10_000 })) {
    rows += 1;
    stored.add(doc.uuid);
  }
  const ackedSet = new Set(acked);
  let lost = 0;
  for (const uuid of ackedSet) if (!stored.has(uuid)) lost += 1;
  let unackedStored = 0;
  for (const uuid of stored) if (!ackedSet.has(uuid)) unackedStored += 1;
  return { acked: ackedSet.size, stored: rows, distinct: stored.size, lost, duplicates: rows - stored.size, unackedStored };
}

/** The embedded store's log counters (absent on an external MongoDB). */
export async function walCounters(db: Db): Promise<{ records: number; syncs: number; snapshots: number; lastSnapshotMs: number; lastSnapshotBytes: number }> {
  const status = await db.admin().command({ serverStatus: 1 });
  const sightline = status.sightline ?? {};
  return {
    records: Number(sightline.wal?.records ?? NaN),
    syncs: Number(sightline.wal?.syncs ?? NaN),
    snapshots: Number(sightline.snapshots?.taken ?? NaN),
    lastSnapshotMs: Number(sightline.snapshots?.lastMillis ?? NaN),
    lastSnapshotBytes: Number(sightline.snapshots?.lastBytes ?? NaN),
  };
}
