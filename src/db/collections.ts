import type { Collection, Db } from 'mongodb';
import type {
  ApiKeyDocument,
  EventDefinitionDocument,
  EventDocument,
  GroupDocument,
  GroupTypeDocument,
  IngestionWarningDocument,
  PersonDistinctIdDocument,
  PersonDocument,
  PersonMergeDocument,
  ProjectDocument,
  PropertyDefinitionDocument,
  SessionDocument,
  SettingDocument,
} from './documents.ts';

/** Typed handles on every collection; the only place collection names are spelled. */
export interface Collections {
  events: Collection<EventDocument>;
  persons: Collection<PersonDocument>;
  personDistinctIds: Collection<PersonDistinctIdDocument>;
  personMerges: Collection<PersonMergeDocument>;
  groupTypes: Collection<GroupTypeDocument>;
  groups: Collection<GroupDocument>;
  sessions: Collection<SessionDocument>;
  eventDefinitions: Collection<EventDefinitionDocument>;
  propertyDefinitions: Collection<PropertyDefinitionDocument>;
  ingestionWarnings: Collection<IngestionWarningDocument>;
  projects: Collection<ProjectDocument>;
  apiKeys: Collection<ApiKeyDocument>;
  settings: Collection<SettingDocument>;
}

export function collectionsOf(db: Db): Collections {
  return {
    events: db.collection<EventDocument>('events'),
    persons: db.collection<PersonDocument>('persons'),
    personDistinctIds: db.collection<PersonDistinctIdDocument>('personDistinctIds'),
    personMerges: db.collection<PersonMergeDocument>('personMerges'),
    groupTypes: db.collection<GroupTypeDocument>('groupTypes'),
    groups: db.collection<GroupDocument>('groups'),
    sessions: db.collection<SessionDocument>('sessions'),
    eventDefinitions: db.collection<EventDefinitionDocument>('eventDefinitions'),
    propertyDefinitions: db.collection<PropertyDefinitionDocument>('propertyDefinitions'),
    ingestionWarnings: db.collection<IngestionWarningDocument>('ingestionWarnings'),
    projects: db.collection<ProjectDocument>('projects'),
    apiKeys: db.collection<ApiKeyDocument>('apiKeys'),
    settings: db.collection<SettingDocument>('settings'),
  };
}

/** The collections that hold one project's data (each document carries `projectId`). */
export type ProjectCollections = Omit<Collections, 'projects' | 'apiKeys' | 'settings'>;
