import { builder } from '../../graphql/builder.ts';
import { connectionOf, pageSize, pageComplexity } from '../../graphql/connections.ts';
import { ProjectRef } from '../projects/schema.ts';
import { PROPERTY_FILTER_TYPES, PROPERTY_OPERATORS, type EventFilter, type PropertyFilter } from './filters.ts';
import type { EventModel } from './model.ts';

export const EventRef = builder.objectRef<EventModel>('Event').implement({
  description: 'One captured event.',
  fields: (t) => ({
    id: t.exposeID('id'),
    uuid: t.exposeID('uuid'),
    event: t.exposeString('event'),
    distinctId: t.exposeString('distinctId'),
    timestamp: t.field({ type: 'DateTime', resolve: (e) => e.timestamp }),
    createdAt: t.field({ type: 'DateTime', description: 'When the server stored the event.', resolve: (e) => e.createdAt }),
    properties: t.field({ type: 'JSON', resolve: (e) => e.properties }),
  }),
});

const PropertyOperator = builder.enumType('PropertyOperator', {
  values: Object.fromEntries(PROPERTY_OPERATORS.map((op) => [op, { value: op }])) as Record<
    (typeof PROPERTY_OPERATORS)[number],
    { value: (typeof PROPERTY_OPERATORS)[number] }
  >,
});

const PropertyFilterType = builder.enumType('PropertyFilterType', {
  description: "Whose property a filter tests: the event's own, or its person's, group's or session's.",
  values: Object.fromEntries(PROPERTY_FILTER_TYPES.map((type) => [type, { value: type }])) as Record<
    (typeof PROPERTY_FILTER_TYPES)[number],
    { value: (typeof PROPERTY_FILTER_TYPES)[number] }
  >,
});

export const PropertyFilterInput = builder.inputType('PropertyFilterInput', {
  description: 'A condition on a property. Keys are matched literally: "$browser" and "a.b" are single keys.',
  fields: (t) => ({
    key: t.string({ required: true }),
    type: t.field({ type: PropertyFilterType, description: 'Default "event".' }),
    groupTypeIndex: t.int({ description: 'For "group" filters: the group type (0..4).' }),
    operator: t.field({ type: PropertyOperator, required: true }),
    value: t.field({
      type: 'JSON',
      description: 'A string, number, boolean or null; a list of them for exact/is_not; unused by is_set/is_not_set.',
    }),
  }),
});

export const EventFilterInput = builder.inputType('EventFilter', {
  fields: (t) => ({
    events: t.stringList({ description: 'Event names, any of which matches.' }),
    after: t.field({ type: 'DateTime', description: 'Events at or after this instant.' }),
    before: t.field({ type: 'DateTime', description: 'Events strictly before this instant.' }),
    distinctId: t.string(),
    properties: t.field({ type: [PropertyFilterInput], description: 'All must hold.' }),
  }),
});

/** The GraphQL input as the services take it (Pothos gives nullable fields as `T | null | undefined`). */
export function toEventFilter(input: typeof EventFilterInput.$inferInput | null | undefined): EventFilter | undefined {
  if (input === null || input === undefined) return undefined;
  return {
    events: input.events,
    after: input.after,
    before: input.before,
    distinctId: input.distinctId,
    properties: toPropertyFilters(input.properties),
  };
}

/** `PropertyFilterInput` values as the services take them. */
export function toPropertyFilters(input: (typeof PropertyFilterInput.$inferInput)[] | null | undefined): PropertyFilter[] | undefined {
  return input?.map((p) => ({ key: p.key, operator: p.operator, value: p.value, type: p.type, groupTypeIndex: p.groupTypeIndex }));
}

export const EventConnection = connectionOf('Event', EventRef);

builder.objectFields(ProjectRef, (t) => ({
  events: t.field({
    type: EventConnection,
    description: 'Events, newest first.',
    args: { filter: t.arg({ type: EventFilterInput }), first: t.arg.int(), after: t.arg.string() },
    complexity: pageComplexity,
    resolve: (scope, args, ctx) => ctx.services.events.list(scope, toEventFilter(args.filter), pageSize(args.first), args.after),
  }),
  event: t.field({
    type: EventRef,
    nullable: true,
    args: { uuid: t.arg.id({ required: true }) },
    resolve: (scope, args, ctx) => ctx.services.events.byUuid(scope, String(args.uuid)),
  }),
}));
