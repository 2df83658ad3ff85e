import type { Db, IndexDescription } from 'mongodb';

/** Every index starts with `projectId`, so a tenant's queries never scan another tenant's data. */
const INDEXES: Record<string, IndexDescription[]> = {
  events: [
    { key: { projectId: 1, uuid: 1 }, name: 'project_uuid', unique: true },
    { key: { projectId: 1, timestamp: -1 }, name: 'project_timestamp' },
    { key: { projectId: 1, event: 1, timestamp: -1 }, name: 'project_event_timestamp' },
    // A person's events are found through their distinct ids; a session's through its id.
    { key: { projectId: 1, distinctId: 1, timestamp: -1 }, name: 'project_distinct_timestamp' },
    { key: { projectId: 1, sessionId: 1, timestamp: -1 }, name: 'project_session_timestamp', sparse: true },
  ],
  persons: [{ key: { projectId: 1, createdAt: -1, _id: -1 }, name: 'project_created' }],
  // The unique index is what makes "one person per distinct id" hold across requests and processes.
  personDistinctIds: [
    { key: { projectId: 1, distinctId: 1 }, name: 'project_distinct_id', unique: true },
    { key: { projectId: 1, personId: 1 }, name: 'project_person' },
  ],
  personMerges: [{ key: { projectId: 1, personId: 1 }, name: 'project_person', unique: true }],
  groupTypes: [
    { key: { projectId: 1, index: 1 }, name: 'project_index', unique: true },
    { key: { projectId: 1, name: 1 }, name: 'project_name', unique: true },
  ],
  groups: [{ key: { projectId: 1, typeIndex: 1, key: 1 }, name: 'project_type_key', unique: true }],
  sessions: [
    // The rollup's upserts match on exactly these fields, so concurrent upserts of one session meet here.
    { key: { projectId: 1, sessionId: 1 }, name: 'project_session', unique: true },
    // Newest start first, keyset-paginated on (startTimestamp, _id); per project and per distinct id (a person's sessions).
    { key: { projectId: 1, startTimestamp: -1, _id: -1 }, name: 'project_start_id' },
    { key: { projectId: 1, distinctId: 1, startTimestamp: -1, _id: -1 }, name: 'project_distinct_start_id' },
  ],
  eventDefinitions: [
    { key: { projectId: 1, name: 1 }, name: 'project_name', unique: true },
    // The query builder lists event names most frequent first.
    { key: { projectId: 1, volume: -1, name: 1 }, name: 'project_volume_name' },
  ],
  propertyDefinitions: [
    { key: { projectId: 1, kind: 1, groupTypeIndex: 1, key: 1 }, name: 'project_kind_key', unique: true },
    // Listing every kind at once is ordered by key; these fields never change after insert, so it costs no update.
    { key: { projectId: 1, key: 1, kind: 1, groupTypeIndex: 1 }, name: 'project_key_kind' },
  ],
  // Newest first, keyset-paginated on (timestamp, _id).
  ingestionWarnings: [{ key: { projectId: 1, timestamp: -1, _id: -1 }, name: 'project_timestamp_id' }],
  projects: [{ key: { apiToken: 1 }, name: 'api_token', unique: true }],
  apiKeys: [{ key: { secureValue: 1 }, name: 'secure_value', unique: true }],
};

/** Creates the indexes the application relies on; idempotent, run at every start. */
export async function ensureIndexes(db: Db): Promise<void> {
  for (const [collection, indexes] of Object.entries(INDEXES)) {
    await db.collection(collection).createIndexes(indexes);
  }
}
