/** Limits of live delivery; one place so the app, the socket watch and the tests agree. */
export interface LiveLimits {
  /**
   * Events buffered for one subscription while its client is not keeping up. Past this the
   * subscription ends with a `SLOW_CONSUMER` error and its buffer is dropped. @default 1000
   */
  queueLimit: number;
  /** Bytes a socket may hold unsent before it is closed with 1008 as a slow consumer. @default 4 MiB */
  maxBufferedBytes: number;
  /** How often socket send buffers are measured. @default 1000 */
  bufferCheckIntervalMs: number;
  /**
   * How often the API keys behind open sockets are re-checked, so a key revoked through another
   * process (or directly in the database) also loses its sockets. @default 30000
   */
  keyRecheckIntervalMs: number;
  /** Time a socket being closed gets to finish the closing handshake before it is cut. @default 5000 */
  closeGraceMs: number;
}

export const DEFAULT_LIVE_LIMITS: LiveLimits = {
  queueLimit: 1_000,
  maxBufferedBytes: 4 * 1024 * 1024,
  bufferCheckIntervalMs: 1_000,
  keyRecheckIntervalMs: 30_000,
  closeGraceMs: 5_000,
};

/** Close code for a socket whose client does not read fast enough (RFC 6455 "policy violation"). */
export const SLOW_CONSUMER_CLOSE_CODE = 1008;

/** The defaults with every given (non-undefined) override applied. */
export function resolveLiveLimits(overrides: Partial<LiveLimits> = {}): LiveLimits {
  const limits = { ...DEFAULT_LIVE_LIMITS };
  for (const key of Object.keys(limits) as (keyof LiveLimits)[]) {
    const value = overrides[key];
    if (value !== undefined) limits[key] = value;
  }
  return limits;
}
