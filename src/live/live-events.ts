import type { Collections } from '../db/collections.ts';
import type { ProjectScope } from '../db/project-scope.ts';
import type { Logger } from '../logger.ts';
import type { EventFilter } from '../modules/events/filters.ts';
import type { EventModel } from '../modules/events/model.ts';
import { ChangeFeed } from './change-feed.ts';
import { eventMatcher } from './event-matcher.ts';
import { Fanout } from './fanout.ts';
import { DEFAULT_LIVE_LIMITS } from './limits.ts';
import { SlowConsumerError } from './slow-consumer-error.ts';
import { SubscriberQueue } from './subscriber-queue.ts';

/** Options for {@link LiveEvents}. */
export interface LiveEventsOptions {
  collections: Collections;
  logger: Logger;
  /** Events buffered per subscription before it is ended as a slow consumer. @default 1000 */
  queueLimit?: number;
}

/**
 * Live event feed: one change stream on `events` per process, fanned out in memory to subscribers.
 * Delivery is at-most-once: events stored while nobody listens, or dropped for a slow consumer, are
 * not replayed (the `events` query is the catch-up path).
 */
export class LiveEvents {
  private readonly fanout: Fanout;
  private readonly feed: ChangeFeed;
  private readonly queues = new Set<SubscriberQueue<EventModel>>();
  private readonly queueLimit: number;

  constructor(options: LiveEventsOptions) {
    this.queueLimit = options.queueLimit ?? DEFAULT_LIVE_LIMITS.queueLimit;
    this.fanout = new Fanout(options.logger);
    this.feed = new ChangeFeed({
      events: options.collections.events,
      logger: options.logger,
      onInsert: (doc) => this.fanout.publish(doc),
    });
  }

  /** Opens the change stream; resolves once events stored from now on will be seen. */
  async start(): Promise<void> {
    await this.feed.start();
  }

  /** Closes the change stream and ends every subscription after the events already queued for it. */
  async stop(): Promise<void> {
    await this.feed.stop();
    for (const queue of [...this.queues]) queue.end();
  }

  /** Number of open subscriptions in this process (a returned or ended one is gone at once). */
  get subscriberCount(): number {
    return this.fanout.size;
  }

  /**
   * Events of `scope`'s project matching `filter`, as they are stored, until the iterator is returned.
   * The filter is compiled now, so an invalid one fails here rather than on the first event.
   */
  subscribe(scope: ProjectScope, filter: EventFilter | undefined): AsyncIterableIterator<EventModel> {
    const matches = eventMatcher(scope, filter);
    let remove: () => void = () => undefined;
    const queue = new SubscriberQueue<EventModel>(
      this.queueLimit,
      () => new SlowConsumerError(this.queueLimit),
      () => {
        remove();
        this.queues.delete(queue);
      },
    );
    remove = this.fanout.add(scope.projectId, { matches, deliver: (event) => queue.push(event) });
    this.queues.add(queue);
    return queue;
  }
}
