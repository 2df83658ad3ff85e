import type { PropertyDefinitionKind, PropertyValueType } from '../../db/documents.ts';
import { builder } from '../../graphql/builder.ts';
import { connectionOf, pageSize, pageComplexity } from '../../graphql/connections.ts';
import { ProjectRef } from '../projects/schema.ts';
import { listEventDefinitions, listPropertyDefinitions, type EventDefinitionModel, type PropertyDefinitionModel } from './service.ts';

const VOLUME_DESCRIPTION = 'Number of events that carried it. A Float because counts can pass 2^31.';

export const EventDefinitionRef = builder.objectRef<EventDefinitionModel>('EventDefinition').implement({
  description: 'An event name seen in the project.',
  fields: (t) => ({
    name: t.exposeString('name'),
    firstSeen: t.field({ type: 'DateTime', description: 'Earliest event timestamp.', resolve: (d) => d.firstSeen }),
    lastSeen: t.field({ type: 'DateTime', description: 'Latest event timestamp.', resolve: (d) => d.lastSeen }),
    volume: t.exposeFloat('volume', { description: VOLUME_DESCRIPTION }),
  }),
});

const PropertyDefinitionKindEnum = builder.enumType('PropertyDefinitionKind', {
  description: 'Where a property lives.',
  values: {
    EVENT: { value: 'event' },
    PERSON: { value: 'person', description: 'Set through $set / $set_once.' },
    GROUP: { value: 'group', description: 'Set through $groupidentify; see groupTypeIndex.' },
    SESSION: { value: 'session', description: 'Computed per session; a fixed list.' },
  } as const satisfies Record<string, { value: PropertyDefinitionKind; description?: string }>,
});

const PropertyValueTypeEnum = builder.enumType('PropertyValueType', {
  description: 'The type of the first value seen.',
  values: {
    STRING: { value: 'String' },
    NUMERIC: { value: 'Numeric' },
    BOOLEAN: { value: 'Boolean' },
    DATETIME: { value: 'DateTime', description: 'A string in ISO-8601 date-time form.' },
  } as const satisfies Record<string, { value: PropertyValueType; description?: string }>,
});

export const PropertyDefinitionRef = builder.objectRef<PropertyDefinitionModel>('PropertyDefinition').implement({
  description: 'A property key seen in the project, with the type of its first value.',
  fields: (t) => ({
    key: t.exposeString('key', { description: 'The key exactly as sent, e.g. "$browser" or "a.b".' }),
    kind: t.field({ type: PropertyDefinitionKindEnum, resolve: (d) => d.kind }),
    groupTypeIndex: t.exposeInt('groupTypeIndex', { nullable: true, description: 'For group properties: the group type index.' }),
    valueType: t.field({ type: PropertyValueTypeEnum, resolve: (d) => d.valueType }),
    firstSeen: t.field({ type: 'DateTime', nullable: true, description: 'Null for session properties.', resolve: (d) => d.firstSeen }),
    lastSeen: t.field({ type: 'DateTime', nullable: true, description: 'Null for session properties.', resolve: (d) => d.lastSeen }),
    volume: t.exposeFloat('volume', { nullable: true, description: `${VOLUME_DESCRIPTION} Null for session properties.` }),
  }),
});

const EventDefinitionConnection = connectionOf('EventDefinition', EventDefinitionRef);
const PropertyDefinitionConnection = connectionOf('PropertyDefinition', PropertyDefinitionRef);

builder.objectFields(ProjectRef, (t) => ({
  eventDefinitions: t.field({
    type: EventDefinitionConnection,
    description: 'Event names seen, most frequent first.',
    args: { search: t.arg.string({ description: 'Case-insensitive substring of the name.' }), first: t.arg.int(), after: t.arg.string() },
    complexity: pageComplexity,
    resolve: async (scope, args, ctx) => {
      // Sightings this process has not written yet are written first, so a query right after capture sees them.
      await ctx.services.definitions.flush(scope.projectId);
      return listEventDefinitions(scope, args.search, pageSize(args.first), args.after);
    },
  }),
  propertyDefinitions: t.field({
    type: PropertyDefinitionConnection,
    description: 'Property keys seen, by key. Without `type`, every kind (session properties included).',
    args: {
      type: t.arg({ type: PropertyDefinitionKindEnum }),
      groupTypeIndex: t.arg.int({ description: 'Only group properties of this group type (implies type GROUP).' }),
      search: t.arg.string({ description: 'Case-insensitive substring of the key.' }),
      first: t.arg.int(),
      after: t.arg.string(),
    },
    complexity: pageComplexity,
    resolve: async (scope, args, ctx) => {
      await ctx.services.definitions.flush(scope.projectId);
      return listPropertyDefinitions(scope, { kind: args.type, groupTypeIndex: args.groupTypeIndex, search: args.search }, pageSize(args.first), args.after);
    },
  }),
}));
