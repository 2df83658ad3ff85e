import type { ProjectScope } from '../../db/project-scope.ts';
import type { NormalizedEvent } from '../../ingest/types.ts';

/** Records the event names and property keys of newly stored events. Placeholder. */
export async function rollupDefinitions(_scope: ProjectScope, _events: NormalizedEvent[]): Promise<void> {}
