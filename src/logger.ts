import { pino, type Logger } from 'pino';

export type { Logger };

/** The process logger: JSON lines on stdout; secrets in known places are redacted before they are written. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: undefined,
    redact: { paths: ['*.authorization', '*.apiKey', '*.api_key', '*.token', '*.adminKey'], censor: '[redacted]' },
  });
}
