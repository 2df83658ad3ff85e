import type { ProjectScope } from '../../db/project-scope.ts';
import type { NormalizedEvent } from '../../ingest/types.ts';
import type { Logger } from '../../logger.ts';
import type { CollectedDefinitions, Seen } from './collect.ts';
import { collectFrom, writeDefinitions } from './rollup.ts';

/** Options for {@link DefinitionBuffer}. */
export interface DefinitionBufferOptions {
  logger: Logger;
  /** How long sightings wait to be written together. @default 1000 */
  intervalMs?: number;
  /** Pending property keys (all projects) that trigger a write at once. @default 5000 */
  maxPendingKeys?: number;
}

/**
 * Definitions are counters a query builder reads, so they need not be written with every request:
 * sightings are folded in memory and written about once a second, one upsert per name and key for
 * all the requests in between. That turns a write per key per request into a write per key per
 * second. The price: a crash loses up to a second of counts (never events), and other processes see
 * new names up to a second late; this process flushes before it answers a definitions query.
 */
export class DefinitionBuffer {
  private pending = new Map<string, { scope: ProjectScope; collected: CollectedDefinitions }>();
  private pendingKeys = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly intervalMs: number;
  private readonly maxPendingKeys: number;

  constructor(private readonly options: DefinitionBufferOptions) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.maxPendingKeys = options.maxPendingKeys ?? 5000;
  }

  /** Folds the newly stored `events` in; never throws and never waits for the database. */
  add(scope: ProjectScope, events: NormalizedEvent[]): void {
    if (events.length === 0) return;
    const collected = collectFrom(scope, events);
    const entry = this.pending.get(scope.projectId);
    if (entry === undefined) this.pending.set(scope.projectId, { scope, collected });
    else mergeInto(entry.collected, collected);
    this.pendingKeys += collected.properties.size;
    if (this.pendingKeys >= this.maxPendingKeys) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.intervalMs).unref();
  }

  /** Writes everything pending (for one project, or all) and resolves when it is stored. */
  async flush(projectId?: string): Promise<void> {
    const batch = projectId === undefined ? [...this.pending.values()] : [this.pending.get(projectId)].filter((e) => e !== undefined);
    for (const entry of batch) this.pending.delete(entry.scope.projectId);
    if (this.pending.size === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.pendingKeys = 0;
    }
    // Writes go one flush after another, so counts of one key never race with themselves.
    const write = this.writing.then(() => this.write(batch));
    this.writing = write;
    await write;
  }

  private async write(batch: { scope: ProjectScope; collected: CollectedDefinitions }[]): Promise<void> {
    for (const { scope, collected } of batch) {
      try {
        await writeDefinitions(scope, collected);
      } catch (error) {
        // Keep the counts for the next flush rather than lose them to a passing database error.
        this.options.logger.warn({ err: error, projectId: scope.projectId }, 'definitions write failed; retrying with the next flush');
        const entry = this.pending.get(scope.projectId);
        if (entry === undefined) this.pending.set(scope.projectId, { scope, collected });
        else mergeInto(entry.collected, collected);
        this.timer ??= setTimeout(() => void this.flush(), this.intervalMs).unref();
      }
    }
  }
}

function widen(into: Seen, from: Seen): void {
  if (from.firstSeen < into.firstSeen) into.firstSeen = from.firstSeen;
  if (from.lastSeen > into.lastSeen) into.lastSeen = from.lastSeen;
  into.volume += from.volume;
}

/** Adds `from` to `into`; the first value type seen for a key stays. */
function mergeInto(into: CollectedDefinitions, from: CollectedDefinitions): void {
  for (const [name, seen] of from.events) {
    const existing = into.events.get(name);
    if (existing === undefined) into.events.set(name, { ...seen });
    else widen(existing, seen);
  }
  for (const [key, seen] of from.properties) {
    const existing = into.properties.get(key);
    if (existing === undefined) into.properties.set(key, { ...seen });
    else widen(existing, seen);
  }
}
