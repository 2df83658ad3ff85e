import type { EventDocument } from '../db/documents.ts';
import type { Logger } from '../logger.ts';
import { toEventModel, type EventModel } from '../modules/events/model.ts';
import type { EventMatcher } from './event-matcher.ts';

/** One live subscription as the fan-out sees it. */
export interface FanoutSubscriber {
  matches: EventMatcher;
  /** Takes a matching event; must not block (it only queues). */
  deliver(event: EventModel): void;
}

/**
 * Routes each stored event to the subscribers of its project, in memory. Subscribers are indexed by
 * project, so an event only ever meets the filters of its own tenant, and a busy project costs the
 * others nothing.
 */
export class Fanout {
  private readonly byProject = new Map<string, Set<FanoutSubscriber>>();
  private count = 0;

  constructor(private readonly logger: Logger) {}

  /** Number of live subscribers across all projects. */
  get size(): number {
    return this.count;
  }

  /** Registers `subscriber` for `projectId`; the returned function removes it (idempotent). */
  add(projectId: string, subscriber: FanoutSubscriber): () => void {
    let set = this.byProject.get(projectId);
    if (set === undefined) {
      set = new Set();
      this.byProject.set(projectId, set);
    }
    set.add(subscriber);
    this.count += 1;
    return () => {
      const current = this.byProject.get(projectId);
      if (current === undefined || !current.delete(subscriber)) return;
      this.count -= 1;
      if (current.size === 0) this.byProject.delete(projectId);
    };
  }

  /** Delivers one stored document to every subscriber of its project whose filter it matches. */
  publish(doc: EventDocument): void {
    const subscribers = this.byProject.get(doc.projectId);
    if (subscribers === undefined) return;
    // Converted at most once, and only if someone wants it; subscribers share the read-only model.
    let model: EventModel | undefined;
    // A copy, because delivering can end a subscription (overflow), which removes it from the set.
    for (const subscriber of [...subscribers]) {
      let matched: boolean;
      try {
        matched = subscriber.matches(doc);
      } catch (error) {
        this.logger.warn({ err: error, projectId: doc.projectId }, 'live filter failed on an event; skipped for that subscriber');
        continue;
      }
      if (!matched) continue;
      model ??= toEventModel(doc);
      subscriber.deliver(model);
    }
  }
}
