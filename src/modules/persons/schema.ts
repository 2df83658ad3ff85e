import { builder } from '../../graphql/builder.ts';
import { connectionOf, pageSize, pageComplexity } from '../../graphql/connections.ts';
import { BadUserInputError, ServiceUnavailableError } from '../../graphql/errors.ts';
import { EventConnection, EventRef, PropertyFilterInput, toPropertyFilters } from '../events/schema.ts';
import { ProjectRef } from '../projects/schema.ts';
import type { Context } from '../../graphql/context.ts';
import { toPersonModel, type PersonModel } from './model.ts';
import { PersonRef } from './person-ref.ts';
import { PersonConflictError } from './person-store.ts';

/** The person a distinct id belongs to now, through the request's loaders (two batched queries per page). */
export async function personOfDistinctId(ctx: Context, projectId: string, distinctId: string): Promise<PersonModel | null> {
  const personId = await ctx.loaders.personIdByDistinctId.load({ projectId, id: distinctId });
  if (personId === null) return null;
  const doc = await ctx.loaders.personById.load({ projectId, id: personId });
  return doc === null ? null : toPersonModel(doc);
}

PersonRef.implement({
  description: 'Someone who uses the product: one or more distinct ids (devices, accounts) stitched together.',
  fields: (t) => ({
    id: t.exposeID('id'),
    distinctIds: t.stringList({
      description: 'Oldest first.',
      resolve: (person, _args, ctx) => ctx.loaders.distinctIdsByPerson.load({ projectId: person.projectId, id: person.id }),
    }),
    properties: t.field({ type: 'JSON', resolve: (person) => person.properties }),
    isIdentified: t.exposeBoolean('isIdentified', { description: 'True once an identify, alias or merge named this person.' }),
    createdAt: t.field({ type: 'DateTime', description: 'The earliest event (or merged person) that made up this person.', resolve: (p) => p.createdAt }),
    events: t.field({
      type: EventConnection,
      description: "Events of all the person's distinct ids, newest first.",
      args: { first: t.arg.int(), after: t.arg.string() },
      complexity: pageComplexity,
      resolve: async (person, args, ctx) => {
        const scope = await ctx.access.project(person.projectId);
        const distinctIds = await ctx.loaders.distinctIdsByPerson.load({ projectId: person.projectId, id: person.id });
        return ctx.services.events.list(scope, undefined, pageSize(args.first), args.after, [{ distinctId: { $in: distinctIds } }]);
      },
    }),
  }),
});

builder.objectField(EventRef, 'person', (t) =>
  t.field({
    type: PersonRef,
    nullable: true,
    description: "The person the event's distinct id belongs to now (after any merge); null for a personless event whose id never got a person.",
    resolve: (event, _args, ctx) => personOfDistinctId(ctx, event.projectId, event.distinctId),
  }),
);

const PersonConnection = connectionOf('Person', PersonRef);

builder.objectFields(ProjectRef, (t) => ({
  persons: t.field({
    type: PersonConnection,
    description: 'Persons, newest first. `search` matches a distinct id (exact or prefix), or text inside email, name or username.',
    args: {
      search: t.arg.string(),
      properties: t.arg({ type: [PropertyFilterInput], description: 'Conditions on person properties; all must hold.' }),
      first: t.arg.int(),
      after: t.arg.string(),
    },
    complexity: pageComplexity,
    resolve: (scope, args, ctx) =>
      ctx.services.persons.list(scope, { search: args.search, properties: toPropertyFilters(args.properties) }, pageSize(args.first), args.after),
  }),
  person: t.field({
    type: PersonRef,
    nullable: true,
    description: 'One person, by id or by any of its distinct ids.',
    args: { id: t.arg.id(), distinctId: t.arg.string() },
    resolve: (scope, args, ctx) => {
      const byId = args.id !== null && args.id !== undefined;
      const byDistinctId = args.distinctId !== null && args.distinctId !== undefined;
      if (byId === byDistinctId) throw new BadUserInputError('Give exactly one of "id" and "distinctId".');
      return retryable(() => (byId ? ctx.services.persons.byId(scope, String(args.id)) : ctx.services.persons.byDistinctId(scope, args.distinctId!)));
    },
  }),
}));

/** Lost races are retryable, not internal errors. */
async function retryable<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof PersonConflictError) throw new ServiceUnavailableError('Persons changed concurrently; retry shortly.');
    throw error;
  }
}

const MergePersonsInput = builder.inputType('MergePersonsInput', {
  fields: (t) => ({
    projectId: t.id({ required: true }),
    intoPersonId: t.id({ required: true, description: 'The person that remains; its properties win on conflicts.' }),
    fromPersonIds: t.idList({ required: true, description: 'Persons merged away (1 to 100); their distinct ids move over.' }),
  }),
});
const MergePersonsPayload = builder.simpleObject('MergePersonsPayload', { fields: (t) => ({ person: t.field({ type: PersonRef }) }) });

const SplitPersonInput = builder.inputType('SplitPersonInput', {
  fields: (t) => ({
    projectId: t.id({ required: true }),
    personId: t.id({ required: true }),
    keepDistinctId: t.string({ description: 'The distinct id that keeps the person and its properties; default: the oldest.' }),
  }),
});
const SplitPersonPayload = builder.simpleObject('SplitPersonPayload', {
  fields: (t) => ({ persons: t.field({ type: [PersonRef], description: 'The kept person first, then one new person per other distinct id.' }) }),
});

const DeletePersonInput = builder.inputType('DeletePersonInput', {
  fields: (t) => ({
    projectId: t.id({ required: true }),
    personId: t.id({ required: true }),
    deleteEvents: t.boolean({ description: "Also delete the events and sessions of the person's distinct ids. Default false." }),
  }),
});
const DeletePersonPayload = builder.simpleObject('DeletePersonPayload', {
  fields: (t) => ({ deletedPersonId: t.id(), deletedDistinctIds: t.int(), deletedEvents: t.int() }),
});

builder.mutationFields((t) => ({
  mergePersons: t.field({
    type: MergePersonsPayload,
    description: 'Merges persons, identified or not: the explicit fix for duplicates that identify cannot merge. Needs "project:write".',
    args: { input: t.arg({ type: MergePersonsInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const scope = await ctx.access.project(String(input.projectId), 'project:write');
      const person = await retryable(() => ctx.services.persons.merge(scope, String(input.intoPersonId), input.fromPersonIds.map(String)));
      return { person };
    },
  }),
  splitPerson: t.field({
    type: SplitPersonPayload,
    description: 'Undoes merges: gives each distinct id its own person again, rebuilt from its own events. Needs "project:write".',
    args: { input: t.arg({ type: SplitPersonInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const scope = await ctx.access.project(String(input.projectId), 'project:write');
      return { persons: await retryable(() => ctx.services.persons.split(scope, String(input.personId), input.keepDistinctId)) };
    },
  }),
  deletePerson: t.field({
    type: DeletePersonPayload,
    description: 'Deletes a person and its distinct ids, and optionally their events (privacy requests). Needs "project:write".',
    args: { input: t.arg({ type: DeletePersonInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const scope = await ctx.access.project(String(input.projectId), 'project:write');
      const outcome = await retryable(() => ctx.services.persons.delete(scope, String(input.personId), input.deleteEvents ?? false));
      return { deletedPersonId: String(input.personId), ...outcome };
    },
  }),
}));
