import type { NormalizedEvent } from '../../../../src/ingest/types.ts';
import type { WarningSink } from '../../../../src/ingest/warnings.ts';
import { isIllegalDistinctId } from '../../../../src/modules/persons/illegal-ids.ts';
import { processesPerson } from '../../../../src/modules/persons/ingest.ts';
import { identityOf, type Identity } from '../../../../src/modules/persons/merge.ts';
import { personIdFor } from '../../../../src/modules/persons/person-store.ts';
import { PERSON_EVENTS, applyPersonOps, personOpsOf, type PersonOps } from '../../../../src/modules/persons/property-ops.ts';

/** A person as the store would hold it (properties with escaped keys). */
export interface SimPerson {
  id: string;
  properties: Record<string, unknown>;
  isIdentified: boolean;
  createdAt: Date;
  version: number;
}

/** A request's view of one person (persons/ingest.ts `Working`), with the operations not written yet. */
interface Working {
  id: string;
  properties: Record<string, unknown>;
  createdAt: Date;
  lowerCreatedAt?: Date;
  ops: PersonOps[];
  dirty: boolean;
  isNew?: boolean;
}

/**
 * Person processing (modules/persons/ingest.ts and merge.ts) replayed in memory, request by request,
 * for requests sent one after another. It keeps the pipeline's request-level behaviour on purpose:
 * a person is written only when a request changed something outside the high-churn keys, so the
 * stored URL or browser of a person is the one of the last request that wrote it, not of its last
 * event; a merge drops the request's unwritten changes of the persons it touches. The pipeline's
 * own rules are called for everything else (identity of an event, its property operations, applying
 * them, person ids, illegal ids).
 */
export class PersonSimulation {
  readonly persons = new Map<string, SimPerson>();
  /** distinct id → person id and when it was first claimed. */
  readonly mappings = new Map<string, { personId: string; createdAt: Date }>();
  readonly merges: { personId: string; mergedInto: string }[] = [];
  private readonly idsOf = new Map<string, Set<string>>();

  constructor(readonly projectId: string) {}

  /** One request's events, as `processPersons` handles them. */
  process(events: NormalizedEvent[], warnings: WarningSink): void {
    const work = events.filter(processesPerson);
    if (work.length === 0) return;
    const batch = new RequestSim(this, warnings);
    batch.prefetch(work);
    for (const event of work) batch.apply(event);
    batch.flush();
  }

  map(distinctId: string, personId: string, at: Date): void {
    this.mappings.set(distinctId, { personId, createdAt: at });
    let ids = this.idsOf.get(personId);
    if (ids === undefined) this.idsOf.set(personId, (ids = new Set()));
    ids.add(distinctId);
  }

  /** `ensurePersons`: an empty, unidentified person unless it exists. */
  ensure(id: string, at: Date): SimPerson {
    let person = this.persons.get(id);
    if (person === undefined) this.persons.set(id, (person = { id, properties: {}, isIdentified: false, createdAt: at, version: 0 }));
    return person;
  }

  /** `PersonStore.update`: one event's (or a fold's) operations applied atomically, no significance filter. */
  update(person: SimPerson, ops: PersonOps[], change: { identify?: boolean; createdAt?: Date }): void {
    for (const op of ops) applyPersonOps(person.properties, op);
    if (change.identify) person.isIdentified = true;
    if (change.createdAt !== undefined && change.createdAt < person.createdAt) person.createdAt = change.createdAt;
    person.version += 1;
  }

  /** `mergeIdentities` for requests that never race (merge.ts, steps 1–6 of the semantics reference §2.6). */
  merge(identity: Identity, event: NormalizedEvent, ops: PersonOps, warnings: WarningSink): { personId: string | null; merged: boolean } {
    const { other, into } = identity;
    if (isIllegalDistinctId(other) || isIllegalDistinctId(into)) {
      warnings.add('cannot_merge_with_illegal_distinct_id', { sourceDistinctId: other, targetDistinctId: into, eventName: event.event }, event);
      return { personId: null, merged: false };
    }
    const at = event.timestamp;
    const identify = (person: SimPerson) => this.update(person, [ops], { identify: true, createdAt: at });
    const target = this.resolve(into);
    const source = this.resolve(other);
    if (target === undefined && source === undefined) {
      const personId = personIdFor(this.projectId, into);
      this.map(into, personId, at);
      this.map(other, personId, at);
      identify(this.ensure(personId, at));
      return { personId, merged: true };
    }
    if (target === undefined || source === undefined) {
      const existing = (target ?? source)!;
      this.map(target === undefined ? into : other, existing.id, at);
      identify(existing);
      return { personId: existing.id, merged: true };
    }
    if (target.id === source.id) {
      identify(target);
      return { personId: target.id, merged: true };
    }
    if (source.isIdentified && !identity.dangerous) {
      warnings.add('cannot_merge_already_identified', { sourceDistinctId: other, targetDistinctId: into, sourcePersonId: source.id, targetPersonId: target.id, eventName: event.event }, event);
      identify(target);
      return { personId: target.id, merged: false };
    }
    // freeze + finishMerge: the target keeps its values and gains the source's missing keys.
    this.update(target, [{ setOnce: Object.entries(source.properties), set: [], unset: [] }], { identify: true, createdAt: source.createdAt });
    for (const id of this.idsOf.get(source.id) ?? []) this.map(id, target.id, this.mappings.get(id)!.createdAt);
    this.idsOf.delete(source.id);
    this.merges.push({ personId: source.id, mergedInto: target.id });
    this.persons.delete(source.id);
    identify(target);
    return { personId: target.id, merged: true };
  }

  /** The person a distinct id belongs to now, if any. */
  resolve(distinctId: string): SimPerson | undefined {
    const mapping = this.mappings.get(distinctId);
    if (mapping === undefined) return undefined;
    const person = this.persons.get(mapping.personId);
    if (person === undefined) throw new Error(`distinct id ${distinctId} maps to a missing person (not produced by sequential requests)`);
    return person;
  }
}

/** One request (persons/ingest.ts `PersonBatch`). */
class RequestSim {
  private readonly mapped = new Map<string, string>();
  private readonly people = new Map<string, Working>();

  constructor(
    private readonly state: PersonSimulation,
    private readonly warnings: WarningSink,
  ) {}

  prefetch(events: NormalizedEvent[]): void {
    const firstSeen = new Map<string, { plain: boolean; at: Date }>();
    for (const event of events) {
      const identity = identityOf(event);
      const ids = identity === undefined ? [event.distinctId] : [identity.into, identity.other];
      ids.forEach((id, i) => {
        if (!firstSeen.has(id)) firstSeen.set(id, { plain: identity === undefined && i === 0, at: event.timestamp });
      });
    }
    const created = new Set<string>();
    for (const [id, seen] of firstSeen) {
      const mapping = this.state.mappings.get(id);
      if (mapping !== undefined) {
        this.mapped.set(id, mapping.personId);
      } else if (seen.plain) {
        const personId = personIdFor(this.state.projectId, id);
        this.state.map(id, personId, seen.at);
        this.mapped.set(id, personId);
        created.add(personId);
        this.people.set(personId, { id: personId, properties: {}, createdAt: seen.at, ops: [], dirty: false, isNew: true });
      }
    }
    for (const personId of new Set(this.mapped.values())) {
      const person = this.state.persons.get(personId);
      if (!created.has(personId) && person !== undefined) this.people.set(personId, workingOf(person));
    }
  }

  apply(event: NormalizedEvent): void {
    const ops = personOpsOf(event.event, event.properties);
    if (ops.ignored !== undefined) this.warnings.add('invalid_person_property', { message: 'Person properties with an empty name were ignored.', count: ops.ignored }, event);
    const identity = identityOf(event);
    if (identity !== undefined && identity.other !== identity.into) {
      this.flush();
      const outcome = this.state.merge(identity, event, ops, this.warnings);
      if (outcome.personId !== null) {
        this.adopt(outcome.personId, outcome.merged ? [identity.into, identity.other] : [identity.into]);
        return;
      }
    }
    const working = this.personOf(event.distinctId, event.timestamp);
    working.ops.push(ops);
    const outcome = applyPersonOps(working.properties, ops);
    if (outcome.significant || (PERSON_EVENTS.has(event.event) && outcome.changed)) working.dirty = true;
    if (event.timestamp < working.createdAt) {
      working.createdAt = event.timestamp;
      working.lowerCreatedAt = event.timestamp;
      working.dirty = true;
    }
  }

  /** New persons are inserted as the request sees them; others get their folded operations if worth a write. */
  flush(): void {
    const touched = [...this.people.values()];
    for (const working of touched.filter((w) => w.isNew)) {
      working.isNew = false;
      if (this.state.persons.has(working.id)) {
        working.dirty = true;
        working.lowerCreatedAt = working.createdAt;
        continue;
      }
      this.state.persons.set(working.id, { id: working.id, properties: { ...working.properties }, isIdentified: false, createdAt: working.createdAt, version: 0 });
      settle(working);
    }
    for (const working of touched.filter((w) => w.dirty)) {
      const person = this.state.persons.get(working.id);
      if (person === undefined) throw new Error(`person ${working.id} vanished within a request (not produced by sequential requests)`);
      this.state.update(person, working.ops, { createdAt: working.lowerCreatedAt });
      settle(working);
    }
  }

  private personOf(distinctId: string, at: Date): Working {
    const personId = this.mapped.get(distinctId);
    const cached = personId === undefined ? undefined : this.people.get(personId);
    if (cached !== undefined) return cached;
    let person = this.state.resolve(distinctId);
    if (person === undefined) {
      const id = personIdFor(this.state.projectId, distinctId);
      this.state.map(distinctId, id, at);
      person = this.state.ensure(id, at);
    }
    this.remember(person, [distinctId]);
    return this.people.get(person.id)!;
  }

  private adopt(personId: string, distinctIds: string[]): void {
    const person = this.state.persons.get(personId);
    if (person === undefined) {
      for (const id of distinctIds) this.mapped.delete(id);
      return;
    }
    this.remember(person, distinctIds);
  }

  private remember(person: SimPerson, distinctIds: string[]): void {
    for (const id of distinctIds) {
      const previous = this.mapped.get(id);
      if (previous !== undefined && previous !== person.id) {
        this.people.delete(previous);
        for (const [other, mapped] of this.mapped) if (mapped === previous) this.mapped.set(other, person.id);
      }
      this.mapped.set(id, person.id);
    }
    this.people.set(person.id, workingOf(person));
  }
}

function workingOf(person: SimPerson): Working {
  return { id: person.id, properties: { ...person.properties }, createdAt: person.createdAt, ops: [], dirty: false };
}

function settle(working: Working): void {
  working.ops = [];
  working.dirty = false;
  delete working.lowerCreatedAt;
}
