import { MongoBulkWriteError } from 'mongodb';
import type { Logger } from '../logger.ts';
import type { EventDocument } from '../db/documents.ts';
import { ProjectScope } from '../db/project-scope.ts';
import type { Collections } from '../db/collections.ts';
import { escapeKeys } from '../db/property-keys.ts';
import { DUPLICATE_KEY, isPermanentDocumentError } from '../db/write-errors.ts';
import type { ProjectService } from '../modules/projects/service.ts';
import { PERSONAL_KEY_PREFIX } from '../modules/auth/secrets.ts';
import { processGroups } from '../modules/groups/ingest.ts';
import { processPersons } from '../modules/persons/ingest.ts';
import { rollupSessions } from '../modules/sessions/rollup.ts';
import type { DefinitionBuffer } from '../modules/definitions/buffer.ts';
import type { Enricher } from './enrich/enrich.ts';
import { CaptureError } from './errors.ts';
import { WarningSink } from './warnings.ts';
import type { EventRefusal, NormalizedBatch, NormalizedEvent } from './types.ts';

/** Request facts the SDK payload does not carry. */
export interface CaptureRequestInfo {
  clientIp?: string;
  /** The request's User-Agent, parsed when the SDK sent no browser properties of its own. */
  userAgent?: string;
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
  /** Where event names and property keys of stored events are tallied. */
  definitions: DefinitionBuffer;
  /** Server-side enrichment (user agent, GeoIP, derived person properties). */
  enricher: Enricher;
  /** Writes allowed in flight at once; beyond this, capture answers 503 instead of queueing without bound. @default 64 */
  maxInFlightWrites?: number;
}


/**
 * The shared write path of HTTP capture and the GraphQL `capture` mutation: token → project →
 * enrichment, groups and persons → one durable unordered insert of the events → rollups. It resolves
 * only once the database has acknowledged the events with `{w: 'majority', j: true}`; anything
 * uncertain before that becomes `service_unavailable` (503).
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
      const outcome = await this.write(new ProjectScope(project, this.options.collections), batch.events, info);
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

  /**
   * PostHog's pipeline order: enrich → groups → persons → store the events → roll up sessions and
   * definitions of the events that were new (definitions are buffered, see definitions/buffer.ts). Person and group writes are idempotent, so when the
   * request fails before the events are stored, the SDK's retry does no harm. Rollups count each
   * event once because they only see events this request stored.
   */
  private async write(scope: ProjectScope, normalized: NormalizedEvent[], info: CaptureRequestInfo) {
    const events = normalized.map((event) => this.options.enricher.enrich(event, info));
    const warnings = new WarningSink();
    for (const event of events) for (const type of event.warnings ?? []) warnings.add(type, {}, event);
    await this.uncertainOn503('group processing', () => processGroups(scope, events, warnings));
    await this.uncertainOn503('person processing', () => processPersons(scope, events, warnings));
    const createdAt = new Date();
    const docs = events.map((event) => toDocument(event, createdAt));
    let outcome: { accepted: number; duplicates: number; refused: EventRefusal[]; stored: NormalizedEvent[] };
    try {
      const result = await scope.insertEvents(docs);
      outcome = { accepted: result.insertedCount, duplicates: 0, refused: [], stored: events };
    } catch (error) {
      outcome = this.partialOutcome(error, events);
    }
    await this.afterStore(scope, outcome.stored, warnings);
    return { accepted: outcome.accepted, duplicates: outcome.duplicates, refused: outcome.refused };
  }

  /** Rollups of stored events; the events are already durable, so a failure here is logged, not answered with 503. */
  private async afterStore(scope: ProjectScope, stored: NormalizedEvent[], warnings: WarningSink): Promise<void> {
    this.options.definitions.add(scope, stored);
    const steps = [
      ['sessions', () => rollupSessions(scope, stored)],
      ['ingestion warnings', () => warnings.flush(scope)],
    ] as const;
    const results = await Promise.allSettled(steps.map(([, step]) => step()));
    results.forEach((result, i) => {
      if (result.status === 'rejected') this.options.logger.error({ err: result.reason, step: steps[i]?.[0] }, 'post-capture rollup failed');
    });
  }

  /** A failure before the events are stored leaves nothing half-acknowledged: answer 503 and let the SDK retry. */
  private async uncertainOn503(step: string, run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (error) {
      if (error instanceof CaptureError) throw error;
      this.options.logger.error({ err: error, step }, 'capture step failed; answering 503');
      throw new CaptureError('service_unavailable', 'The database did not confirm the write; retry shortly.');
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
    const notStored = new Set<number>();
    for (const writeError of writeErrors) {
      notStored.add(writeError.index);
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
    const stored = events.filter((_, i) => !notStored.has(i));
    return { accepted: error.insertedCount, duplicates, refused, stored };
  }
}

function toDocument(event: NormalizedEvent, createdAt: Date): Omit<EventDocument, 'projectId'> {
  const doc: Omit<EventDocument, 'projectId'> = {
    uuid: event.uuid,
    event: event.event,
    distinctId: event.distinctId,
    timestamp: event.timestamp,
    properties: escapeKeys(event.properties) as Record<string, unknown>,
    createdAt,
  };
  if (event.sessionId !== undefined) doc.sessionId = event.sessionId;
  if (event.groups !== undefined && Object.keys(event.groups).length > 0) doc.groups = event.groups;
  return doc;
}
