import type { ProjectScope } from '../../db/project-scope.ts';
import type { NormalizedEvent } from '../../ingest/types.ts';

/** Folds newly stored events into their sessions. Placeholder. */
export async function rollupSessions(_scope: ProjectScope, _events: NormalizedEvent[]): Promise<void> {}
