import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

const STREAM = 'subscription($p: ID!) { eventStream(projectId: $p) { uuid event timestamp } }';

/** Events with this name only tell a subscriber that its subscription is live; they are not measured. */
export const PROBE_EVENT = 'bench_probe';

export interface SubscriberOptions {
  wsUrl: string;
  adminKey: string;
  projectId: string;
  subscribers: number;
  sockets: number;
  /** Uuids of the measured events, in the order their send times are recorded. */
  tracked: string[];
}

interface StreamData {
  eventStream?: { uuid: string; event: string } | null;
}

/**
 * S subscriptions to `eventStream`, spread round-robin over a few sockets (the server caps subscriptions
 * per socket). The hot path only stamps the receive time into preallocated arrays; latencies are
 * computed afterwards, so the measuring side adds as little as possible to what it measures.
 */
export class LiveSubscribers {
  readonly clients: Client[] = [];
  readonly ready: Uint8Array;
  readyCount = 0;
  delivered = 0;
  duplicates = 0;
  /** Events that were neither probes nor measured (e.g. late events of an earlier phase). */
  other = 0;
  /** Distinct uuids of those, so the report can say which phase they came from. */
  readonly otherUuids = new Set<string>();
  completed = 0;
  readonly errors = new Map<string, number>();
  socketErrors = 0;
  /** Measured event index and receive time of each delivery, in arrival order. */
  readonly deliveredEvent: Int32Array;
  readonly receivedAt: Float64Array;
  private readonly seen: Uint8Array;
  private readonly index = new Map<string, number>();
  private readonly unsubscribe: (() => void)[] = [];
  /** Set once the benchmark closes the subscriptions: their completions are not failures. */
  private closing = false;

  constructor(private readonly options: SubscriberOptions) {
    const { subscribers, tracked } = options;
    this.ready = new Uint8Array(subscribers);
    this.seen = new Uint8Array(subscribers * tracked.length);
    // Room for every expected delivery; duplicates beyond that are counted but not timed.
    this.deliveredEvent = new Int32Array(subscribers * tracked.length);
    this.receivedAt = new Float64Array(subscribers * tracked.length);
    tracked.forEach((uuid, i) => this.index.set(uuid, i));
  }

  /** Subscribers that failed (error or completion) and will never receive anything. */
  get failed(): number {
    let n = 0;
    for (const count of this.errors.values()) n += count;
    return n + this.completed;
  }

  open(): void {
    const { wsUrl, adminKey, projectId, subscribers, sockets } = this.options;
    for (let k = 0; k < sockets; k++) {
      const client = createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${adminKey}` },
        // A benchmark must see failures, not have them papered over by reconnects.
        retryAttempts: 0,
        lazy: true,
      });
      client.on('error', () => {
        this.socketErrors += 1;
      });
      this.clients.push(client);
    }
    for (let s = 0; s < subscribers; s++) {
      const client = this.clients[s % sockets]!;
      this.unsubscribe.push(
        client.subscribe<StreamData>(
          { query: STREAM, variables: { p: projectId } },
          {
            next: (result) => this.onNext(s, result.data?.eventStream ?? undefined, result.errors),
            error: (error) => {
              if (!this.closing) this.countError(errorText(error));
            },
            complete: () => {
              if (!this.closing) this.completed += 1;
            },
          },
        ),
      );
    }
  }

  private onNext(s: number, event: { uuid: string; event: string } | undefined, errors: readonly { message: string }[] | undefined): void {
    const now = performance.now();
    if (errors !== undefined && errors.length > 0) return this.countError(errors[0]!.message);
    if (event === undefined) return;
    if (event.event === PROBE_EVENT) {
      if (this.ready[s] === 0) {
        this.ready[s] = 1;
        this.readyCount += 1;
      }
      return;
    }
    const i = this.index.get(event.uuid);
    if (i === undefined) {
      this.other += 1;
      if (this.otherUuids.size < 100_000) this.otherUuids.add(event.uuid);
      return;
    }
    const slot = s * this.options.tracked.length + i;
    if (this.seen[slot] === 1) {
      this.duplicates += 1;
      return;
    }
    this.seen[slot] = 1;
    this.deliveredEvent[this.delivered] = i;
    this.receivedAt[this.delivered] = now;
    this.delivered += 1;
  }

  private countError(message: string): void {
    this.errors.set(message, (this.errors.get(message) ?? 0) + 1);
  }

  /** Idempotent: the phase closes early to relieve the server, and again in its cleanup. */
  async close(): Promise<void> {
    this.closing = true;
    const stops = this.unsubscribe.splice(0);
    const clients = this.clients.splice(0);
    for (const stop of stops) stop();
    await Promise.all(clients.map((client) => client.dispose()));
  }
}

function errorText(error: unknown): string {
  if (Array.isArray(error)) return error.map((e: { message?: string }) => e.message ?? String(e)).join('; ');
  if (error instanceof Error) return error.message;
  // graphql-ws reports a closed socket as a CloseEvent-like object.
  const close = error as { code?: number; reason?: string };
  if (typeof close?.code === 'number') return `socket closed ${close.code}${close.reason ? ` ${close.reason}` : ''}`;
  return String(error);
}
