import type { Db, IndexDescription } from 'mongodb';

/** Every index starts with `projectId`, so a tenant's queries never scan another tenant's data. */
const INDEXES: Record<string, IndexDescription[]> = {
  events: [
    { key: { projectId: 1, uuid: 1 }, name: 'project_uuid', unique: true },
    { key: { projectId: 1, timestamp: -1 }, name: 'project_timestamp' },
    { key: { projectId: 1, event: 1, timestamp: -1 }, name: 'project_event_timestamp' },
  ],
  projects: [{ key: { apiToken: 1 }, name: 'api_token', unique: true }],
  apiKeys: [{ key: { secureValue: 1 }, name: 'secure_value', unique: true }],
};

/** Creates the indexes the application relies on; idempotent, run at every start. */
export async function ensureIndexes(db: Db): Promise<void> {
  for (const [collection, indexes] of Object.entries(INDEXES)) {
    await db.collection(collection).createIndexes(indexes);
  }
}
