import { builder } from '../../graphql/builder.ts';
import { connectionOf, pageSize, pageComplexity } from '../../graphql/connections.ts';
import { ProjectRef } from '../projects/schema.ts';
import { listIngestionWarnings, type IngestionWarningModel } from './service.ts';

export const IngestionWarningRef = builder.objectRef<IngestionWarningModel>('IngestionWarning').implement({
  description: 'Something about an ingested event a user should know: it was kept, but part of it was ignored or fixed up.',
  fields: (t) => ({
    id: t.exposeID('id'),
    type: t.exposeString('type', { description: 'Stable code, e.g. "group_type_limit_exceeded" or "ignored_invalid_timestamp".' }),
    details: t.field({ type: 'JSON', resolve: (w) => w.details }),
    eventUuid: t.exposeID('eventUuid', { nullable: true }),
    distinctId: t.exposeString('distinctId', { nullable: true }),
    timestamp: t.field({ type: 'DateTime', description: 'When the warning was raised.', resolve: (w) => w.timestamp }),
  }),
});

const IngestionWarningConnection = connectionOf('IngestionWarning', IngestionWarningRef);

builder.objectFields(ProjectRef, (t) => ({
  ingestionWarnings: t.field({
    type: IngestionWarningConnection,
    description: 'Ingestion warnings, newest first.',
    args: { first: t.arg.int(), after: t.arg.string() },
    complexity: pageComplexity,
    resolve: (scope, args) => listIngestionWarnings(scope, pageSize(args.first), args.after),
  }),
}));
