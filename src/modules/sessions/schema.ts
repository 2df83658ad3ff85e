import { builder } from '../../graphql/builder.ts';
import { connectionOf, pageSize, pageComplexity } from '../../graphql/connections.ts';
import type { Context } from '../../graphql/context.ts';
import type { ProjectScope } from '../../db/project-scope.ts';
import { EventConnection, PropertyFilterInput, toPropertyFilters } from '../events/schema.ts';
import { PersonRef } from '../persons/person-ref.ts';
import { personOfDistinctId } from '../persons/schema.ts';
import { ProjectRef } from '../projects/schema.ts';
import type { SessionFilter } from './filters.ts';
import type { SessionModel } from './model.ts';
import { SessionService } from './service.ts';

const sessions = new SessionService();

export const SessionRef = builder.objectRef<SessionModel>('Session').implement({
  description: "One visit: the events sharing an SDK's $session_id, rolled up as they arrive.",
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The $session_id.' }),
    distinctId: t.exposeString('distinctId', { description: "The distinct id of the session's first event." }),
    person: t.field({
      type: PersonRef,
      nullable: true,
      description: "The person the session's distinct id belongs to now; null when it has none.",
      resolve: (s, _args, ctx) => personOfDistinctId(ctx, s.projectId, s.distinctId),
    }),
    startTimestamp: t.field({ type: 'DateTime', resolve: (s) => s.startTimestamp }),
    endTimestamp: t.field({ type: 'DateTime', resolve: (s) => s.endTimestamp }),
    duration: t.exposeFloat('duration', { description: 'Seconds from the first event to the last.' }),
    eventCount: t.exposeInt('eventCount'),
    pageviewCount: t.exposeInt('pageviewCount', { description: '$pageview and (mobile) $screen events.' }),
    autocaptureCount: t.exposeInt('autocaptureCount'),
    isBounce: t.exposeBoolean('isBounce', { description: 'At most one page view, no autocapture, and under 10 seconds.' }),
    channelType: t.exposeString('channelType', { description: 'Acquisition channel of the entry (PostHog default channel types).' }),
    entryCurrentUrl: t.exposeString('entryCurrentUrl', { nullable: true, description: 'URL (or mobile screen) of the first event that had one.' }),
    entryPathname: t.exposeString('entryPathname', { nullable: true }),
    entryReferrer: t.exposeString('entryReferrer', { nullable: true }),
    entryReferringDomain: t.exposeString('entryReferringDomain', { nullable: true }),
    entryUtmSource: t.exposeString('entryUtmSource', { nullable: true }),
    entryUtmMedium: t.exposeString('entryUtmMedium', { nullable: true }),
    entryUtmCampaign: t.exposeString('entryUtmCampaign', { nullable: true }),
    entryUtmTerm: t.exposeString('entryUtmTerm', { nullable: true }),
    entryUtmContent: t.exposeString('entryUtmContent', { nullable: true }),
    entryGclid: t.exposeString('entryGclid', { nullable: true }),
    entryGadSource: t.exposeString('entryGadSource', { nullable: true }),
    exitCurrentUrl: t.exposeString('exitCurrentUrl', { nullable: true, description: 'URL (or mobile screen) of the last event that had one.' }),
    exitPathname: t.exposeString('exitPathname', { nullable: true }),
    properties: t.field({
      type: 'JSON',
      description: 'The same facts under PostHog session property names ($session_duration, $entry_utm_source, ...).',
      resolve: (s) => s.properties,
    }),
    events: t.field({
      type: EventConnection,
      description: "The session's events, oldest first.",
      args: { first: t.arg.int(), after: t.arg.string() },
      complexity: pageComplexity,
      resolve: (s, args) => sessions.events(s.scope, s.id, pageSize(args.first), args.after),
    }),
  }),
});

const SessionFilterInput = builder.inputType('SessionFilter', {
  fields: (t) => ({
    after: t.field({ type: 'DateTime', description: 'Sessions starting at or after this instant.' }),
    before: t.field({ type: 'DateTime', description: 'Sessions starting strictly before this instant.' }),
    distinctId: t.string({ description: "The distinct id of the session's first event." }),
    personId: t.id({ description: "Sessions of any of the person's distinct ids." }),
    properties: t.field({
      type: [PropertyFilterInput],
      description: 'Conditions on session properties ($session_duration, $entry_utm_source, $channel_type, ...); all must hold.',
    }),
  }),
});

/** The GraphQL input as the service takes it; a person filter becomes the person's distinct ids. */
async function toSessionFilter(
  ctx: Context,
  projectId: string,
  input: typeof SessionFilterInput.$inferInput | null | undefined,
): Promise<SessionFilter | undefined> {
  if (input === null || input === undefined) return undefined;
  const filter: SessionFilter = {
    after: input.after,
    before: input.before,
    distinctId: input.distinctId,
    properties: toPropertyFilters(input.properties),
  };
  if (input.personId !== null && input.personId !== undefined) {
    filter.distinctIds = await ctx.loaders.distinctIdsByPerson.load({ projectId, id: String(input.personId) });
  }
  return filter;
}

const SessionConnection = connectionOf('Session', SessionRef);

builder.objectFields(ProjectRef, (t) => ({
  sessions: t.field({
    type: SessionConnection,
    description: 'Sessions, newest start first.',
    args: { filter: t.arg({ type: SessionFilterInput }), first: t.arg.int(), after: t.arg.string() },
    complexity: pageComplexity,
    resolve: async (scope, args, ctx) => sessions.list(scope, await toSessionFilter(ctx, scope.projectId, args.filter), pageSize(args.first), args.after),
  }),
  session: t.field({
    type: SessionRef,
    nullable: true,
    description: 'One session by its $session_id.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (scope, args) => sessions.byId(scope, String(args.id)),
  }),
}));

builder.objectFields(PersonRef, (t) => ({
  sessions: t.field({
    type: SessionConnection,
    description: "Sessions of any of the person's distinct ids, newest start first.",
    args: { first: t.arg.int(), after: t.arg.string() },
    complexity: pageComplexity,
    resolve: async (person, args, ctx) => {
      const scope: ProjectScope = await ctx.access.project(person.projectId);
      const distinctIds = await ctx.loaders.distinctIdsByPerson.load({ projectId: person.projectId, id: person.id });
      return sessions.list(scope, { distinctIds }, pageSize(args.first), args.after);
    },
  }),
}));
