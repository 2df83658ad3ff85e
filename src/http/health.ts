import type { ServerResponse } from 'node:http';
import { sendJson } from './respond.ts';

/** How long readiness waits for the database before calling it unready. */
const READY_TIMEOUT_MS = 2_000;

/** `/healthz`: the process is up and serving HTTP. */
export function handleHealth(res: ServerResponse): void {
  sendJson(res, 200, { status: 'ok' });
}

/** `/readyz`: ready for traffic — not shutting down, and the database answers a ping in time. */
export async function handleReady(res: ServerResponse, deps: { ping(): Promise<void>; shuttingDown(): boolean }): Promise<void> {
  if (deps.shuttingDown()) return sendJson(res, 503, { status: 'shutting_down' });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      deps.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('database ping timed out')), READY_TIMEOUT_MS);
      }),
    ]);
    sendJson(res, 200, { status: 'ready' });
  } catch (error) {
    sendJson(res, 503, { status: 'unavailable', error: error instanceof Error ? error.message : String(error) });
  } finally {
    clearTimeout(timer);
  }
}
