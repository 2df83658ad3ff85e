import { escapeKey, escapeKeys } from '../../db/property-keys.ts';
import { FILTERED_PERSON_UPDATE_PROPERTIES } from '../../ingest/enrich/person-properties.ts';

/** One event's person property operations, with keys (and nested keys) already in stored, escaped form. */
export interface PersonOps {
  setOnce: [string, unknown][];
  set: [string, unknown][];
  unset: string[];
  /** Keys left out because they are empty: `properties.` is no field MongoDB can address. */
  ignored?: number;
}

/** Events that always write the person, even when only high-churn keys changed (PostHog's PERSON_EVENTS). */
export const PERSON_EVENTS: ReadonlySet<string> = new Set(['$identify', '$create_alias', '$merge_dangerously', '$set']);
/** Events that never change person properties. */
const NO_PERSON_UPDATE: ReadonlySet<string> = new Set(['$exception', '$$heatmap']);

const FILTERED_ESCAPED = new Set([...FILTERED_PERSON_UPDATE_PROPERTIES].map(escapeKey));

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads `$set_once`, `$set` and `$unset` from an event's properties (top-level `$set`/`$set_once` were
 * merged in by normalization). `$unset` may be a list of keys or an object whose keys are used.
 * Anything of the wrong shape is ignored, as PostHog does.
 */
export function personOpsOf(event: string, properties: Record<string, unknown>): PersonOps {
  if (NO_PERSON_UPDATE.has(event)) return { setOnce: [], set: [], unset: [] };
  let ignored = 0;
  const named = (key: string) => (key === '' ? (ignored++, false) : true);
  const entries = (value: unknown) => (isRecord(value) ? Object.entries(escapeKeys(value) as Record<string, unknown>).filter(([key]) => named(key)) : []);
  const unsetKeys = Array.isArray(properties.$unset)
    ? properties.$unset.filter((key): key is string => typeof key === 'string')
    : isRecord(properties.$unset)
      ? Object.keys(properties.$unset)
      : [];
  const ops: PersonOps = { setOnce: entries(properties.$set_once), set: entries(properties.$set), unset: unsetKeys.filter(named).map(escapeKey) };
  if (ignored > 0) ops.ignored = ignored;
  return ops;
}

/** What applying operations did: whether anything changed, and whether a change is worth a write. */
export interface OpsOutcome {
  changed: boolean;
  /** A change outside the high-churn keys PostHog filters (URL, screen, browser, most GeoIP). */
  significant: boolean;
}

/**
 * Applies operations in PostHog's order: `$set_once` (only absent keys), then `$set` (when the value
 * differs; objects always count as different), then `$unset`. Mutates `properties`.
 */
export function applyPersonOps(properties: Record<string, unknown>, ops: PersonOps): OpsOutcome {
  let changed = false;
  let significant = false;
  const note = (key: string) => {
    changed = true;
    if (!FILTERED_ESCAPED.has(key)) significant = true;
  };
  for (const [key, value] of ops.setOnce) {
    if (Object.hasOwn(properties, key)) continue;
    properties[key] = value;
    note(key);
  }
  for (const [key, value] of ops.set) {
    if (Object.hasOwn(properties, key) && properties[key] === value) continue;
    properties[key] = value;
    note(key);
  }
  for (const key of ops.unset) {
    if (!Object.hasOwn(properties, key)) continue;
    delete properties[key];
    changed = true;
    significant = true;
  }
  return { changed, significant };
}

/** The net effect on one key of a run of operations, whatever the key held before. */
type NetOp = { kind: 'set'; value: unknown } | { kind: 'setOnce'; value: unknown } | { kind: 'unset' };

/**
 * Several events' operations folded into one update, so a request writes each person once, atomically,
 * without reading it first. Per key, the last `$set`/`$unset` decides; a `$set_once` before it is moot,
 * one after an `$unset` behaves as a `$set` (the key is absent then), and one alone fills an absent key.
 */
export class NetOps {
  private readonly byKey = new Map<string, NetOp>();

  add(ops: PersonOps): void {
    for (const [key, value] of ops.setOnce) {
      const current = this.byKey.get(key);
      if (current === undefined) this.byKey.set(key, { kind: 'setOnce', value });
      else if (current.kind === 'unset') this.byKey.set(key, { kind: 'set', value });
    }
    for (const [key, value] of ops.set) this.byKey.set(key, { kind: 'set', value });
    for (const key of ops.unset) this.byKey.set(key, { kind: 'unset' });
  }

  /**
   * Update-pipeline stages for `properties` (keys are escaped, so none contains "." or "$"; values are
   * wrapped in `$literal` so a string like "$x" stays a string).
   */
  stages(): Record<string, unknown>[] {
    const set: Record<string, unknown> = {};
    const unset: string[] = [];
    for (const [key, op] of this.byKey) {
      const path = `properties.${key}`;
      if (op.kind === 'set') set[path] = { $literal: op.value };
      else if (op.kind === 'setOnce') set[path] = { $cond: [{ $eq: [{ $type: `$${path}` }, 'missing'] }, { $literal: op.value }, `$${path}`] };
      else unset.push(path);
    }
    const stages: Record<string, unknown>[] = [];
    if (Object.keys(set).length > 0) stages.push({ $set: set });
    if (unset.length > 0) stages.push({ $unset: unset });
    return stages;
  }

  /** Only absent keys: folding a merged-away person's properties in, so the target's values win. */
  static fillAbsent(properties: Record<string, unknown>): NetOps {
    const net = new NetOps();
    net.add({ setOnce: Object.entries(properties), set: [], unset: [] });
    return net;
  }
}
