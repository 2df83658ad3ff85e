// Imports only: each module registers its types and root fields on the builder.
import './builder.ts';
import '../modules/projects/schema.ts';
import '../modules/auth/schema.ts';
import '../modules/events/schema.ts';
import '../modules/events/capture-schema.ts';
import '../modules/events/stream-schema.ts';
import '../modules/sessions/schema.ts';
import '../modules/persons/schema.ts';
import '../modules/groups/schema.ts';
import '../modules/definitions/schema.ts';
import '../modules/ingestion-warnings/schema.ts';
import { builder } from './builder.ts';

export const schema = builder.toSchema({ sortSchema: true });
