import { MongoBulkWriteError } from 'mongodb';
import type { Logger } from '../logger.ts';
import type { EventDocument } from '../db/documents.ts';
import { ProjectScope } from '../db/project-scope.ts';
import type { Collections } from '../db/collections.ts';
import { escapeKeys } from '../db/property-keys.ts';
import type { ProjectService } from '../modules/projects/service.ts';
import { PERSONAL_KEY_PREFIX } from '../modules/auth/secrets.ts';
import { CaptureError } from './errors.ts';
import type { EventRefusal, NormalizedBatch, NormalizedEvent } from './types.ts';

/** Request facts the SDK payload does not carry. */
export interface CaptureRequestInfo {
  clientIp?: string;
}

/** What happened to a request's events; every event is in exactly one of the three. */
export interface CaptureResult {
  /** Newly stored. */
  accepted: number;
  /** Already stored earlier (same uuid, e.g. an SDK retry): nothing written, and not an error. */
  duplicates: number;
  refused: EventRefusal[];
}

/** Options for {@link CaptureService}. */
export interface CaptureServiceOptions {
  collections: Collections;
  projects: ProjectService;
  logger: Logger;
  /** Writes allowed in flight at once; beyond this, capture answers 503 instead of queueing without bound. @default 64 */
  maxInFlightWrites?: number;
}

const DUPLICATE_KEY = 11000;

/**
 * The shared write path of HTTP capture and the GraphQL `capture` mutation: token → project,
 * then one durable unordered insert. It resolves only once the database has acknowledged the write
 * with `{w: 'majority', j: true}`; anything uncertain becomes `service_unavailable` (503).
 */
export class CaptureService {
  private inFlight = 0;
  private readonly maxInFlight: number;
  private readonly idle = new Set<() => void>();

  constructor(private readonly options: CaptureServiceOptions) {
    this.maxInFlight = options.maxInFlightWrites ?? 64;
  }

  /** Number of writes currently waiting for the database. */
  get pending(): number {
    return this.inFlight;
  }

  /** Resolves when no write is in flight (used by graceful shutdown). */
  drained(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  async ingest(batch: NormalizedBatch, info: CaptureRequestInfo = {}): Promise<CaptureResult> {
    if (batch.token.startsWith(PERSONAL_KEY_PREFIX)) {
      throw new CaptureError('personal_key_not_allowed', 'Personal API keys are secret and cannot be used for capture; use the project token.');
    }
    const project = await this.lookupProject(batch.token);
    if (batch.events.length === 0) return { accepted: 0, duplicates: 0, refused: batch.refused };
    if (this.inFlight >= this.maxInFlight) {
      throw new CaptureError('service_unavailable', 'Too many capture requests in flight; retry shortly.');
    }
    this.inFlight += 1;
    try {
      const outcome = await this.write(new ProjectScope(project, this.options.collections.events), batch.events, info);
      return { ...outcome, refused: [...batch.refused, ...outcome.refused].sort((a, b) => a.index - b.index) };
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const resolve of this.idle) resolve();
      if (this.inFlight === 0) this.idle.clear();
    }
  }

  private async lookupProject(token: string) {
    let project;
    try {
      project = await this.options.projects.byToken(token);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'project lookup failed during capture');
      throw new CaptureError('service_unavailable', 'The database is unavailable; retry shortly.');
    }
    if (project === null) throw new CaptureError('ingest_key_unknown', 'The project token is unknown.');
    return project;
  }

  private async write(scope: ProjectScope, events: NormalizedEvent[], info: CaptureRequestInfo) {
    const createdAt = new Date();
    const docs = events.map((event) => toDocument(event, createdAt, info));
    try {
      const result = await scope.insertEvents(docs);
      return { accepted: result.insertedCount, duplicates: 0, refused: [] as EventRefusal[] };
    } catch (error) {
      return this.partialOutcome(error, events);
    }
  }

  /** Sorts a bulk error into duplicates (fine), per-event refusals (permanent) and uncertainty (503). */
  private partialOutcome(error: unknown, events: NormalizedEvent[]) {
    if (!(error instanceof MongoBulkWriteError) || error.result.getWriteConcernError() !== undefined) {
      this.options.logger.error({ err: error }, 'capture write outcome unknown; answering 503');
      throw new CaptureError('service_unavailable', 'The database did not confirm the write; retry shortly.');
    }
    const writeErrors = [error.writeErrors].flat();
    // Only an outcome that accounts for every event is certain: an unreachable server yields a bulk
    // error with no per-event errors at all, which must not read as "all stored".
    if (error.insertedCount + writeErrors.length !== events.length) {
      this.options.logger.error({ err: error }, 'capture write outcome unknown; answering 503');
      throw new CaptureError('service_unavailable', 'The database did not confirm the write; retry shortly.');
    }
    let duplicates = 0;
    const refused: EventRefusal[] = [];
    for (const writeError of writeErrors) {
      if (writeError.code === DUPLICATE_KEY) {
        duplicates += 1;
      } else if (isPermanentDocumentError(writeError.code)) {
        const event = events[writeError.index];
        refused.push({ index: writeError.index, uuid: event?.uuid, code: 'invalid_payload', message: writeError.errmsg ?? 'refused by the database' });
      } else {
        this.options.logger.error({ err: error }, 'capture write failed; answering 503');
        throw new CaptureError('service_unavailable', 'The database did not confirm the write; retry shortly.');
      }
    }
    return { accepted: error.insertedCount, duplicates, refused };
  }
}

/** Errors caused by the document itself (too large, too deep, bad field names): retrying cannot help. */
function isPermanentDocumentError(code: number): boolean {
  return code === 10334 || code === 15 || code === 2 || code === 17419 || code === 52;
}

function toDocument(event: NormalizedEvent, createdAt: Date, info: CaptureRequestInfo): Omit<EventDocument, 'projectId'> {
  const properties = { ...event.properties };
  // PostHog records the sender's address unless the SDK sent one; person enrichment (GeoIP) reads it.
  if (info.clientIp !== undefined && !Object.hasOwn(properties, '$ip')) properties.$ip = info.clientIp;
  const doc: Omit<EventDocument, 'projectId'> = {
    uuid: event.uuid,
    event: event.event,
    distinctId: event.distinctId,
    timestamp: event.timestamp,
    properties: escapeKeys(properties) as Record<string, unknown>,
    createdAt,
  };
  if (event.sessionId !== undefined) doc.sessionId = event.sessionId;
  return doc;
}
