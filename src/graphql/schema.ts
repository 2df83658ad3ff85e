// Imports only: each module registers its types and root fields on the builder.
import './builder.ts';
import '../modules/projects/schema.ts';
import '../modules/auth/schema.ts';
import '../modules/events/schema.ts';
import '../modules/events/capture-schema.ts';
import '../modules/events/stream-schema.ts';
import { builder } from './builder.ts';

export const schema = builder.toSchema({ sortSchema: true });
