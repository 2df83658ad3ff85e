import { builder } from '../../graphql/builder.ts';
import { connectionOf, pageSize, pageComplexity } from '../../graphql/connections.ts';
import { ProjectRef } from '../projects/schema.ts';
import type { GroupModel, GroupTypeModel } from './model.ts';
import { listGroups, listGroupTypes } from './service.ts';

export const GroupTypeRef = builder.objectRef<GroupTypeModel>('GroupType').implement({
  description: 'A kind of group (e.g. "company"); a project has at most 5, indexed 0..4 in order of first appearance.',
  fields: (t) => ({
    index: t.exposeInt('index'),
    name: t.exposeString('name'),
    createdAt: t.field({ type: 'DateTime', description: 'When the server first saw the type.', resolve: (g) => g.createdAt }),
  }),
});

export const GroupRef = builder.objectRef<GroupModel>('Group').implement({
  description: 'One group (e.g. one company), created when an event first names it and updated by `$groupidentify`.',
  fields: (t) => ({
    typeIndex: t.exposeInt('typeIndex'),
    typeName: t.exposeString('typeName', { nullable: true }),
    key: t.exposeString('key'),
    properties: t.field({ type: 'JSON', resolve: (g) => g.properties }),
    createdAt: t.field({ type: 'DateTime', description: 'The earliest timestamp of an event naming the group.', resolve: (g) => g.createdAt }),
    updatedAt: t.field({ type: 'DateTime', description: 'When the server last changed its properties.', resolve: (g) => g.updatedAt }),
  }),
});

const GroupConnection = connectionOf('Group', GroupRef);

builder.objectFields(ProjectRef, (t) => ({
  groupTypes: t.field({
    type: [GroupTypeRef],
    description: 'Group types by index.',
    resolve: (scope) => listGroupTypes(scope),
  }),
  groups: t.field({
    type: GroupConnection,
    description: 'Groups of one type, ordered by key.',
    args: {
      typeIndex: t.arg.int({ required: true }),
      search: t.arg.string({ description: 'Case-insensitive substring of the key or of the "name" property.' }),
      first: t.arg.int(),
      after: t.arg.string(),
    },
    complexity: pageComplexity,
    resolve: (scope, args) => listGroups(scope, args.typeIndex, args.search, pageSize(args.first), args.after),
  }),
}));
