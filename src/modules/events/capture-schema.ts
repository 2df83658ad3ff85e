import { builder } from '../../graphql/builder.ts';
import { CaptureError } from '../../ingest/errors.ts';
import { normalizeCaptureRequest } from '../../ingest/normalize.ts';
import { SightlineError } from '../../graphql/errors.ts';

const CaptureEventInput = builder.inputType('CaptureEventInput', {
  fields: (t) => ({
    event: t.string({ required: true }),
    distinctId: t.string({ required: true }),
    properties: t.field({ type: 'JSON', description: 'An object; keys may start with "$" or contain ".".' }),
    timestamp: t.field({ type: 'DateTime', description: 'When it happened; default now. More than 23 h ahead is clamped to now.' }),
    uuid: t.id({ description: 'Idempotency key: the same uuid is stored once. Default: a new UUIDv7.' }),
  }),
});

const CaptureInput = builder.inputType('CaptureInput', {
  fields: (t) => ({
    apiToken: t.string({ required: true, description: "The project's public capture token." }),
    events: t.field({ type: [CaptureEventInput], required: true }),
  }),
});

const CaptureEventError = builder.simpleObject('CaptureEventError', {
  description: 'Why one event was refused; the other events of the request are unaffected.',
  fields: (t) => ({
    index: t.int(),
    uuid: t.id({ nullable: true }),
    code: t.string(),
    message: t.string(),
  }),
});

const CapturePayload = builder.simpleObject('CapturePayload', {
  fields: (t) => ({
    accepted: t.int({ description: 'Events newly and durably stored.' }),
    duplicates: t.int({ description: 'Events already stored under the same uuid (retries); not errors.' }),
    errors: t.field({ type: [CaptureEventError] }),
  }),
});

/** Largest batch the mutation takes; bigger batches belong on the HTTP `/batch` route. */
const MAX_MUTATION_EVENTS = 1000;

builder.mutationField('capture', (t) =>
  t.field({
    type: CapturePayload,
    description: 'Stores events through the same pipeline as the HTTP capture routes. Authenticated by the project token.',
    args: { input: t.arg({ type: CaptureInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      try {
        if (input.events.length > MAX_MUTATION_EVENTS) {
          throw new CaptureError('payload_too_large', `At most ${MAX_MUTATION_EVENTS} events per capture mutation.`);
        }
        const payload = {
          api_key: input.apiToken,
          batch: input.events.map((e) => ({
            event: e.event,
            distinct_id: e.distinctId,
            properties: e.properties ?? {},
            timestamp: e.timestamp?.toISOString(),
            uuid: e.uuid === null || e.uuid === undefined ? undefined : String(e.uuid),
          })),
        };
        const batch = normalizeCaptureRequest(payload, { now: new Date(), query: new URLSearchParams() });
        const result = await ctx.services.capture.ingest(batch, { clientIp: ctx.clientIp, userAgent: ctx.userAgent });
        return { accepted: result.accepted, duplicates: result.duplicates, errors: result.refused.map((r) => ({ ...r, uuid: r.uuid ?? null })) };
      } catch (error) {
        if (error instanceof CaptureError) throw captureErrorToGraphQL(error);
        throw error;
      }
    },
  }),
);

function captureErrorToGraphQL(error: CaptureError): SightlineError {
  if (error.status === 401) return new SightlineError('UNAUTHENTICATED', error.message, { reason: error.code });
  if (error.status === 403) return new SightlineError('FORBIDDEN', error.message, { reason: error.code });
  if (error.status === 503) return new SightlineError('SERVICE_UNAVAILABLE', error.message, { reason: error.code });
  return new SightlineError('BAD_USER_INPUT', error.message, { reason: error.code });
}
