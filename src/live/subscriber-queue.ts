/**
 * A bounded push-to-pull bridge: the fan-out pushes, the GraphQL layer pulls with `next()`.
 * Pushing never waits, so one stalled consumer cannot hold up the feed; instead the queue fails
 * once it holds `limit` values, dropping them, and the consumer reads the failure next.
 */
export class SubscriberQueue<T> implements AsyncIterableIterator<T> {
  private buffer: T[] = [];
  private readonly waiting: { resolve(result: IteratorResult<T>): void; reject(error: unknown): void }[] = [];
  private state: 'open' | 'ending' | 'failed' | 'done' = 'open';
  private failure: unknown;
  private detached = false;

  /**
   * @param limit values held at most before the queue fails with `overflowError()`
   * @param detach called exactly once, as soon as the queue stops accepting values (end, failure, or
   *   the consumer returning), so the producer forgets it at once
   */
  constructor(
    private readonly limit: number,
    private readonly overflowError: () => Error,
    private readonly detach: () => void,
  ) {}

  /** Whether the queue still accepts values. */
  get open(): boolean {
    return this.state === 'open';
  }

  /** Number of values waiting to be read. */
  get size(): number {
    return this.buffer.length;
  }

  /** Hands a value to the consumer; returns false if the queue was closed, or has just overflowed. */
  push(value: T): boolean {
    if (this.state !== 'open') return false;
    const waiter = this.waiting.shift();
    if (waiter !== undefined) {
      waiter.resolve({ value, done: false });
      return true;
    }
    if (this.buffer.length >= this.limit) {
      this.fail(this.overflowError());
      return false;
    }
    this.buffer.push(value);
    return true;
  }

  /** Ends the stream after the values already queued have been read. */
  end(): void {
    if (this.state !== 'open') return;
    this.state = 'ending';
    this.release();
    this.settleWaiters();
  }

  /** Ends the stream with `error` at the next read; values still queued are dropped. */
  fail(error: unknown): void {
    if (this.state === 'done' || this.state === 'failed') return;
    this.state = 'failed';
    this.failure = error;
    this.buffer = [];
    this.release();
    this.settleWaiters();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift() as T, done: false });
    if (this.state === 'failed') {
      // The failure is reported once; afterwards the stream is simply over.
      this.state = 'done';
      return Promise.reject(this.failure);
    }
    if (this.state !== 'open') {
      this.state = 'done';
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** The consumer is leaving (unsubscribe, socket closed): forget everything now. */
  return(): Promise<IteratorResult<T>> {
    this.state = 'done';
    this.buffer = [];
    this.release();
    this.settleWaiters();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private release(): void {
    if (this.detached) return;
    this.detached = true;
    this.detach();
  }

  /** Pending reads only exist while the buffer is empty, so they end (or fail) right away. */
  private settleWaiters(): void {
    while (this.waiting.length > 0) {
      const waiter = this.waiting.shift()!;
      if (this.state === 'failed') {
        this.state = 'done';
        waiter.reject(this.failure);
      } else {
        this.state = 'done';
        waiter.resolve({ value: undefined, done: true });
      }
    }
  }
}
