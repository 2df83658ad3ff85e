import type { Collection, Db } from 'mongodb';
import type { ApiKeyDocument, EventDocument, ProjectDocument, SettingDocument } from './documents.ts';

/** Typed handles on every collection; the only place collection names are spelled. */
export interface Collections {
  events: Collection<EventDocument>;
  projects: Collection<ProjectDocument>;
  apiKeys: Collection<ApiKeyDocument>;
  settings: Collection<SettingDocument>;
}

export function collectionsOf(db: Db): Collections {
  return {
    events: db.collection<EventDocument>('events'),
    projects: db.collection<ProjectDocument>('projects'),
    apiKeys: db.collection<ApiKeyDocument>('apiKeys'),
    settings: db.collection<SettingDocument>('settings'),
  };
}
