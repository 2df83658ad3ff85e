import type { NormalizedEvent } from '../../ingest/types.ts';
import type { WarningSink } from '../../ingest/warnings.ts';
import { isIllegalDistinctId } from './illegal-ids.ts';
import { NetOps, type PersonOps } from './property-ops.ts';
import { MAX_ATTEMPTS, PersonConflictError, personIdFor, type PersonStore } from './person-store.ts';

/** An identity event's request: merge `other`'s person into `into`'s (PostHog's `merge(other, into)`). */
export interface Identity {
  other: string;
  into: string;
  /** `$merge_dangerously`: merge even when `other` is already identified. */
  dangerous: boolean;
}

// An empty string is present (and illegal, so it warns); only a missing or null id means "no merge".
const idOf = (value: unknown): string | undefined => {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
};

/**
 * `$identify` merges only with `$anon_distinct_id` (without it, it just sets properties and does not
 * mark the person identified); `$create_alias` and `$merge_dangerously` merge `properties.alias`.
 */
export function identityOf(event: NormalizedEvent): Identity | undefined {
  if (event.event === '$identify') {
    const other = idOf(event.properties.$anon_distinct_id);
    return other === undefined ? undefined : { other, into: event.distinctId, dangerous: false };
  }
  if (event.event === '$create_alias' || event.event === '$merge_dangerously') {
    const other = idOf(event.properties.alias);
    return other === undefined ? undefined : { other, into: event.distinctId, dangerous: event.event === '$merge_dangerously' };
  }
  return undefined;
}

/**
 * Where the event ended: the id of the person its distinct id belongs to, and whether its operations
 * were already applied by the merge. A null person means "no merge happened; process it as a plain event".
 */
export interface MergeOutcome {
  personId: string | null;
  applied: boolean;
  /** Both distinct ids are on `personId` now (false when the merge was refused). */
  merged: boolean;
}

/**
 * PostHog's merge rules (semantics reference §2.6), each step guarded: distinct ids are claimed through
 * the unique index, persons change only by atomic updates of live (unfrozen) persons, and a merge
 * freezes its source first. A step that loses a race starts over from fresh reads.
 */
export async function mergeIdentities(store: PersonStore, identity: Identity, event: NormalizedEvent, ops: PersonOps, warnings: WarningSink): Promise<MergeOutcome> {
  const { other, into } = identity;
  if (isIllegalDistinctId(other) || isIllegalDistinctId(into)) {
    warnings.add('cannot_merge_with_illegal_distinct_id', { sourceDistinctId: other, targetDistinctId: into, eventName: event.event }, event);
    return { personId: null, applied: false, merged: false };
  }
  const at = event.timestamp;
  const net = new NetOps();
  net.add(ops);
  const identify = async (personId: string): Promise<MergeOutcome | undefined> =>
    (await store.update(personId, net, { identify: true, createdAt: at })) ? { personId, applied: true, merged: true } : undefined;

  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const [target, source] = await Promise.all([store.resolve(into, at, false), store.resolve(other, at, false)]);
    let outcome: MergeOutcome | undefined;
    if (target === null && source === null) {
      // Neither has a person: one new person with both ids.
      const personId = personIdFor(store.scope.projectId, into);
      if ((await store.claim(into, personId, at)) !== personId) continue;
      if ((await store.claim(other, personId, at)) !== personId) continue;
      await store.ensurePersons([{ id: personId, createdAt: at }]);
      outcome = await identify(personId);
    } else if (target === null || source === null) {
      // Exactly one has a person: the other id joins it.
      const existing = (target ?? source)!;
      if ((await store.claim(target === null ? into : other, existing._id, at)) !== existing._id) continue;
      outcome = await identify(existing._id);
    } else if (target._id === source._id) {
      outcome = await identify(target._id);
    } else if (source.isIdentified && !identity.dangerous) {
      warnings.add('cannot_merge_already_identified', { sourceDistinctId: other, targetDistinctId: into, sourcePersonId: source._id, targetPersonId: target._id, eventName: event.event }, event);
      // PostHog marks the `into` person identified on every merge path, the refused one included.
      const refused = await identify(target._id);
      if (refused) return { ...refused, merged: false };
      continue;
    } else {
      // Frozen only if still unidentified (unless dangerous): the check above may be stale by now.
      const frozen = await store.freeze(source._id, target._id, !identity.dangerous);
      if (frozen === null) continue;
      outcome = await identify(await store.finishMerge(frozen));
    }
    if (outcome) return outcome;
  }
  throw new PersonConflictError(`merging ${other} into ${into} kept losing races`);
}
