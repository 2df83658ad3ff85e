import { builder } from '../../graphql/builder.ts';
import { EventFilterInput, EventRef, toEventFilter } from './schema.ts';
import type { EventModel } from './model.ts';

builder.subscriptionField('eventStream', (t) =>
  t.field({
    type: EventRef,
    description:
      'Events of a project as they are stored, optionally filtered. Live delivery is at-most-once: ' +
      'events stored while a client is disconnected are not replayed (query `events` to catch up).',
    args: { projectId: t.arg.id({ required: true }), filter: t.arg({ type: EventFilterInput }) },
    subscribe: async (_root, args, ctx) => {
      const scope = await ctx.access.project(String(args.projectId));
      return ctx.services.live.subscribe(scope, toEventFilter(args.filter));
    },
    resolve: (event: EventModel) => event,
  }),
);
