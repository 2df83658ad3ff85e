import type { EventDocument } from '../../../../src/db/documents.ts';
import type { ProjectScope } from '../../../../src/db/project-scope.ts';
import { escapeKey } from '../../../../src/db/property-keys.ts';
import { Enricher } from '../../../../src/ingest/enrich/enrich.ts';
import type { NormalizedEvent } from '../../../../src/ingest/types.ts';
import { WarningSink } from '../../../../src/ingest/warnings.ts';
import type { Logger } from '../../../../src/logger.ts';
import { DefinitionBuffer } from '../../../../src/modules/definitions/buffer.ts';
import type { SeedEvent } from '../events.ts';
import { normalizeBatch, type SeedTarget } from '../targets.ts';
import { GroupSimulation } from './groups.ts';
import { PersonSimulation } from './persons.ts';
import { SessionAccumulator } from './sessions.ts';

/** Documents per insertMany. */
const CHUNK = 5_000;

/**
 * `--fast`: each batch goes through the pipeline's normalization and enrichment, then groups, persons
 * and sessions are computed in memory request by request, as capture would have computed them for
 * the same requests sent one after another (see the simulations), and everything is bulk-inserted:
 * events as they come, the rest at the end. Definitions go through the pipeline's own buffer.
 */
export class FastTarget implements SeedTarget {
  private readonly enricher = new Enricher();
  private readonly groups = new GroupSimulation();
  private readonly persons: PersonSimulation;
  private readonly sessions = new SessionAccumulator();
  private readonly warnings = new WarningSink();
  private readonly definitions: DefinitionBuffer;
  private pending: Omit<EventDocument, 'projectId'>[] = [];
  private writing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly scope: ProjectScope,
    private readonly token: string,
    logger: Logger,
  ) {
    this.persons = new PersonSimulation(scope.projectId);
    // Folded in memory for the whole run and written once at the end.
    this.definitions = new DefinitionBuffer({ logger, intervalMs: 2 ** 30, maxPendingKeys: Number.MAX_SAFE_INTEGER });
  }

  async send(batch: SeedEvent[]): Promise<void> {
    const normalized = normalizeBatch(batch, this.token);
    if (normalized.refused.length > 0) throw new Error(`normalization refused events: ${JSON.stringify(normalized.refused.slice(0, 3))}`);
    const events = normalized.events.map((event) => this.enricher.enrich(event, {}));
    for (const event of events) for (const type of event.warnings ?? []) this.warnings.add(type, {}, event);
    await this.groups.process(this.scope, events, this.warnings);
    this.persons.process(events, this.warnings);
    const createdAt = new Date();
    for (const event of events) this.pending.push(toDocument(event, createdAt));
    this.sessions.add(events);
    this.definitions.add(this.scope, events);
    if (this.pending.length >= CHUNK) {
      // Up to two inserts in flight while the next batches are computed, so the store always has one
      // queued while the driver encodes the other; a failure surfaces on the next await.
      const docs = this.pending;
      this.pending = [];
      const previous = this.writing;
      const insert = this.scope.data.events.insertMany(docs, { ordered: false });
      const both = Promise.all([previous, insert]);
      // Handled here so a failed insert cannot crash the process before the next batch awaits it.
      both.catch(() => undefined);
      this.writing = both;
      await previous;
    }
  }

  async finish(): Promise<void> {
    await this.writing;
    const data = this.scope.data;
    const now = new Date();
    await insertChunks(this.pending, (docs) => data.events.insertMany(docs, { ordered: false }));
    this.pending = [];
    const persons = [...this.persons.persons.values()].map((p) => ({ _id: p.id, properties: p.properties, isIdentified: p.isIdentified, createdAt: p.createdAt, version: p.version, updatedAt: now }));
    await insertChunks(persons, (docs) => data.persons.insertMany(docs, { ordered: false }));
    const mappings = [...this.persons.mappings].map(([distinctId, m]) => ({ distinctId, personId: m.personId, createdAt: m.createdAt }));
    await insertChunks(mappings, (docs) => data.personDistinctIds.insertMany(docs, { ordered: false }));
    await insertChunks(this.persons.merges.map((m) => ({ ...m, mergedAt: now })), (docs) => data.personMerges.insertMany(docs, { ordered: false }));
    const groups = [...this.groups.groups.values()].map((g) => ({ ...g, updatedAt: now }));
    await insertChunks(groups, (docs) => data.groups.insertMany(docs, { ordered: false }));
    await insertChunks(this.sessions.documents(), (docs) => data.sessions.insertMany(docs, { ordered: false }));
    await this.definitions.flush();
    await this.warnings.flush(this.scope);
  }
}

/** The stored event (ingest/capture-service.ts `toDocument`, which is not exported). */
function toDocument(event: NormalizedEvent, createdAt: Date): Omit<EventDocument, 'projectId'> {
  const doc: Omit<EventDocument, 'projectId'> = {
    uuid: event.uuid,
    event: event.event,
    distinctId: event.distinctId,
    timestamp: event.timestamp,
    properties: escapeAll(event.properties) as Record<string, unknown>,
    createdAt,
  };
  if (event.sessionId !== undefined) doc.sessionId = event.sessionId;
  if (event.groups !== undefined && Object.keys(event.groups).length > 0) doc.groups = event.groups;
  return doc;
}

const escaped = new Map<string, string>();

/**
 * `escapeKeys` of db/property-keys.ts with the same rule per key (`escapeKey`), built by plain
 * assignment and with each distinct key escaped once: the original defines every key with
 * `Object.defineProperty` so that an unescaped `__proto__` stays data, which costs ~80 µs per event,
 * but an escaped key is never `__proto__`. The seed test checks the stored documents are the same.
 */
function escapeAll(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(escapeAll);
  if (value === null || typeof value !== 'object') return value;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    let stored = escaped.get(key);
    if (stored === undefined) escaped.set(key, (stored = escapeKey(key)));
    out[stored] = escapeAll((value as Record<string, unknown>)[key]);
  }
  return out;
}

async function insertChunks<T>(docs: T[], insert: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < docs.length; i += CHUNK) await insert(docs.slice(i, i + CHUNK));
}
