import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import {
  MongoServerError,
  type ChangeStream,
  type ChangeStreamInsertDocument,
  type ChangeStreamInvalidateDocument,
  type Collection,
  type ResumeToken,
} from 'mongodb';
import type { EventDocument } from '../db/documents.ts';
import type { Logger } from '../logger.ts';

/** Inserts pass the stream's filter; an invalidation (collection dropped or renamed) always comes through. */
type FeedChange = ChangeStreamInsertDocument<EventDocument> | ChangeStreamInvalidateDocument;
type InsertStream = ChangeStream<EventDocument, FeedChange>;

/** Options for {@link ChangeFeed}. */
export interface ChangeFeedOptions {
  events: Collection<EventDocument>;
  logger: Logger;
  /** Called with every newly stored event, in storage order; must not block. */
  onInsert(doc: EventDocument): void;
  /** First wait before reopening after a failure; doubles per consecutive failure. @default 100 */
  minBackoffMs?: number;
  /** Longest wait between reopening attempts. @default 10000 */
  maxBackoffMs?: number;
  /**
   * How long the server holds an idle getMore. New events end the wait at once, so this does not
   * delay delivery; it bounds how long opening and closing the stream wait on an idle one. @default 250
   */
  maxAwaitTimeMS?: number;
}

/** Events handled between yields to the event loop, so subscribers' sockets drain during a burst. */
const YIELD_EVERY = 64;
const CHANGE_STREAM_HISTORY_LOST = 286;

/**
 * The process's one change stream on `events` (inserts only). Every process watches the shared
 * database, so an event captured through any process reaches subscribers of all of them. The feed
 * remembers its resume token and, after an error the driver could not resume from by itself,
 * reopens after the token with capped exponential backoff. Delivery stays at-most-once: if the
 * token has left the oplog, it starts again from "now" and says so in the log.
 */
export class ChangeFeed {
  private stream: InsertStream | undefined;
  /** Where a reopened stream continues; `startAfter` is the only way past an invalidation. */
  private position: { after: ResumeToken; how: 'resumeAfter' | 'startAfter' } | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wakeFromBackoff: (() => void) | undefined;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(private readonly options: ChangeFeedOptions) {
    this.minBackoffMs = options.minBackoffMs ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
  }

  /**
   * Opens the stream and waits until the server-side cursor exists, so every event stored after
   * `start()` resolves is seen. A database that refuses change streams does not stop the server:
   * the failure is logged and the feed keeps retrying in the background.
   */
  async start(): Promise<void> {
    if (this.loop !== undefined) return;
    this.stopped = false;
    let openFailure: unknown;
    try {
      const stream = this.open();
      // The driver opens its cursor lazily; tryNext() sends the aggregate now.
      const first = await stream.tryNext();
      if (first !== null) await this.accept(stream, first);
      else this.remember(stream);
    } catch (error) {
      openFailure = error;
      await this.discardStream();
      this.options.logger.error({ err: error }, 'cannot open the change stream on events; live subscriptions get nothing until it opens');
    }
    this.loop = this.run(openFailure !== undefined);
  }

  /** Closes the stream and waits for the reading loop to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeFromBackoff?.();
    await this.discardStream();
    await this.loop;
    this.loop = undefined;
  }

  private async run(startWithBackoff: boolean): Promise<void> {
    let backoffMs = this.minBackoffMs;
    let failed = startWithBackoff;
    while (!this.stopped) {
      if (failed) {
        await this.sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, this.maxBackoffMs);
        if (this.stopped) return;
      }
      try {
        const stream = (this.stream ??= this.open());
        let handled = 0;
        while (!this.stopped) {
          if (!(await this.accept(stream, await stream.next()))) break;
          failed = false;
          backoffMs = this.minBackoffMs;
          // A burst arrives as one batch whose events resolve without touching the event loop; yielding
          // now and then lets subscribers write to their sockets before their queues fill up.
          if (++handled % YIELD_EVERY === 0) await yieldToEventLoop();
        }
      } catch (error) {
        if (this.stopped) return;
        failed = true;
        await this.discardStream();
        if (error instanceof MongoServerError && error.code === CHANGE_STREAM_HISTORY_LOST) {
          this.position = undefined;
          this.options.logger.error({ err: error }, 'change stream resume point is gone; live delivery restarts from now and misses the events in between');
        } else {
          this.options.logger.warn({ err: error, retryInMs: backoffMs }, 'change stream on events failed; reopening after its resume token');
        }
      }
    }
  }

  private open(): InsertStream {
    const stream = this.options.events.watch<EventDocument, FeedChange>([{ $match: { operationType: 'insert' } }], {
      maxAwaitTimeMS: this.options.maxAwaitTimeMS ?? 250,
      ...(this.position === undefined ? {} : { [this.position.how]: this.position.after }),
    });
    this.stream = stream;
    return stream;
  }

  private remember(stream: InsertStream): void {
    // The stream's token also advances past empty batches, so a reopen does not rescan old history.
    const token = stream.resumeToken;
    if (token !== undefined && token !== null) this.position = { after: token, how: 'resumeAfter' };
  }

  /** Handles one change; false when the stream has ended and a new one must be opened. */
  private async accept(stream: InsertStream, change: FeedChange): Promise<boolean> {
    if (change.operationType === 'invalidate') {
      // The collection was dropped or renamed; this stream is over, and a new one starts after it.
      this.position = { after: change._id, how: 'startAfter' };
      this.options.logger.warn('the events collection was dropped or renamed; watching it anew');
      await this.discardStream();
      return false;
    }
    this.remember(stream);
    try {
      this.options.onInsert(change.fullDocument);
    } catch (error) {
      this.options.logger.error({ err: error }, 'live fan-out failed for one event');
    }
    return true;
  }

  private async discardStream(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    await stream?.close().catch(() => undefined);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeFromBackoff = done;
    });
  }
}
