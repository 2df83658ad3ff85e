import type { ObjectId } from 'mongodb';

/** The field an event's group of type index N is stored under. */
export type GroupSlot = 'g0' | 'g1' | 'g2' | 'g3' | 'g4';

/** `events`: one captured event. `properties` keys are stored escaped (see property-keys.ts). */
export interface EventDocument {
  _id?: ObjectId;
  projectId: string;
  uuid: string;
  event: string;
  distinctId: string;
  timestamp: Date;
  properties: Record<string, unknown>;
  sessionId?: string;
  /**
   * The event's groups by type index (`g0`..`g4` → group key), from `$groups` through the project's
   * group types. Person attribution is not stored: it is resolved through `personDistinctIds`, so a
   * merge or split never rewrites events and cannot race with capture.
   */
  groups?: Partial<Record<GroupSlot, string>>;
  /** When the server stored it; differs from `timestamp` for late or historical events. */
  createdAt: Date;
}

/** `projects`: a tenant. `apiToken` is the public, write-only capture token. */
export interface ProjectDocument {
  _id: string;
  name: string;
  apiToken: string;
  timezone: string;
  /** First day of the week for weekly insight buckets: 0 Sunday (PostHog's default), 1 Monday. Absent means 0. */
  weekStart?: WeekStart;
  createdAt: Date;
}

/** 0 = Sunday, 1 = Monday. */
export type WeekStart = 0 | 1;

/** `apiKeys`: a secret personal API key; only the SHA-256 of the secret is kept. */
export interface ApiKeyDocument {
  _id: string;
  label: string;
  /** `sha256$<hex>` of the full secret; looked up through a unique index, never compared in plain text. */
  secureValue: string;
  /** A recognisable but useless form of the key, e.g. `phx_...a1b2`. */
  maskValue: string;
  scopes: string[];
  projectIds: string[];
  createdAt: Date;
  lastUsedAt?: Date;
  revokedAt?: Date;
}

/** `settings`: small named values the server keeps for itself (e.g. which bootstrap steps have run). */
export interface SettingDocument {
  _id: string;
  value: unknown;
}

export type * from './documents/persons.ts';
export type * from './documents/groups.ts';
export type * from './documents/sessions.ts';
export type * from './documents/definitions.ts';
export type * from './documents/ingestion-warnings.ts';
