import type { CaptureService } from '../../../src/ingest/capture-service.ts';
import { normalizeCaptureRequest } from '../../../src/ingest/normalize.ts';
import { CaptureError } from '../../../src/ingest/errors.ts';
import type { NormalizedBatch } from '../../../src/ingest/types.ts';
import type { DefinitionBuffer } from '../../../src/modules/definitions/buffer.ts';
import type { SeedEvent } from './events.ts';

/** Tries of one request that meets 503s, and the pause between them (an SDK retries 3 times, 3 s apart). */
const MAX_ATTEMPTS = 10;
const RETRY_MS = 3_000;

/** Where a run's batches go, in order, one at a time. */
export interface SeedTarget {
  /** Stores one batch; resolves once it is stored. */
  send(batch: SeedEvent[]): Promise<void>;
  /** Writes whatever is still buffered. */
  finish(): Promise<void>;
}

/**
 * The `/batch` body for `events`, as the SDKs send it: posthog-js puts the project token in every
 * event's properties as well, posthog-node only at the top. No `sent_at`: timestamps are historical
 * and must be stored as they are, not corrected for clock skew against now.
 */
export function payloadOf(events: SeedEvent[], token: string): { api_key: string; batch: Record<string, unknown>[] } {
  return {
    api_key: token,
    batch: events.map(({ ms: _ms, ...event }) => (event.properties.$lib === 'web' ? { ...event, properties: { ...event.properties, token } } : event)),
  };
}

/** Normalizes a batch exactly as the capture route does for a `/batch` request. */
export function normalizeBatch(events: SeedEvent[], token: string): NormalizedBatch {
  return normalizeCaptureRequest(payloadOf(events, token), { now: new Date(), query: new URLSearchParams(), route: 'batch' });
}

/**
 * The real pipeline in this process: `CaptureService.ingest`, as the HTTP route calls it (without a
 * client address: every browser event carries its user's `$ip`).
 */
export function pipelineTarget(capture: CaptureService, definitions: DefinitionBuffer, token: string): SeedTarget {
  return {
    async send(batch) {
      for (let attempt = 1; ; attempt++) {
        let result;
        try {
          result = await capture.ingest(normalizeBatch(batch, token), {});
        } catch (error) {
          // A 503 (the store did not answer in time): retry the same request, as an SDK does; events
          // already stored come back as duplicates, and person and group writes are idempotent.
          if (error instanceof CaptureError && error.code === 'service_unavailable' && attempt < MAX_ATTEMPTS) {
            await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
            continue;
          }
          throw error;
        }
        if (result.refused.length > 0 || result.accepted + result.duplicates !== batch.length) {
          throw new Error(`capture stored ${result.accepted} of ${batch.length} events: ${JSON.stringify(result.refused.slice(0, 3))}`);
        }
        return;
      }
    },
    finish: () => definitions.flush(),
  };
}

/** A running server over HTTP: `POST {url}/batch`, retrying 503s as an SDK would. */
export function httpTarget(url: string, token: string): SeedTarget {
  return {
    async send(batch) {
      const body = JSON.stringify(payloadOf(batch, token));
      for (let attempt = 1; ; attempt++) {
        const res = await fetch(`${url}/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const text = await res.text();
        if (res.status === 503 && attempt < MAX_ATTEMPTS) {
          await new Promise((resolve) => setTimeout(resolve, 1000 * Number(res.headers.get('retry-after') ?? RETRY_MS / 1000)));
          continue;
        }
        if (res.status !== 200) throw new Error(`${url}/batch answered ${res.status}: ${text.slice(0, 300)}`);
        const parsed = JSON.parse(text) as { accepted?: number; duplicates?: number; errors?: unknown[] };
        if ((parsed.accepted ?? 0) + (parsed.duplicates ?? 0) !== batch.length) throw new Error(`${url}/batch stored ${parsed.accepted} of ${batch.length}: ${text.slice(0, 300)}`);
        return;
      }
    },
    finish: async () => undefined,
  };
}

/** Creates a project through the server's GraphQL API with the admin key. */
export async function createProjectOverHttp(url: string, adminKey: string, input: { name: string; timezone: string; weekStart: 'SUNDAY' | 'MONDAY' }): Promise<{ id: string; apiToken: string }> {
  const query = 'mutation ($input: CreateProjectInput!) { createProject(input: $input) { project { id apiToken } } }';
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
    body: JSON.stringify({ query, variables: { input } }),
  });
  const parsed = (await res.json()) as { data?: { createProject?: { project?: { id: string; apiToken: string } } }; errors?: { message: string }[] };
  const project = parsed.data?.createProject?.project;
  if (project === undefined) throw new Error(`createProject answered ${res.status}: ${parsed.errors?.map((e) => e.message).join('; ') ?? 'no project'}`);
  return project;
}
