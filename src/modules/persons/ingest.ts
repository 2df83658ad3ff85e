import type { ProjectScope } from '../../db/project-scope.ts';
import type { NormalizedEvent } from '../../ingest/types.ts';
import type { WarningSink } from '../../ingest/warnings.ts';

/** Person processing for one request's events, in order. Placeholder. */
export async function processPersons(_scope: ProjectScope, _events: NormalizedEvent[], _warnings: WarningSink): Promise<void> {}
