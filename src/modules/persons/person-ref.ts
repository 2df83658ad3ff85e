import { builder } from '../../graphql/builder.ts';
import type { PersonModel } from './model.ts';

/** The `Person` object type; its fields are added by persons/schema.ts (and sessions add `sessions`). */
export const PersonRef = builder.objectRef<PersonModel>('Person');
