import type { ProjectScope } from '../../db/project-scope.ts';
import type { NormalizedEvent } from '../../ingest/types.ts';
import type { WarningSink } from '../../ingest/warnings.ts';

/** Resolves `$groups` to type indexes (setting `event.groups`) and applies `$groupidentify`. Placeholder. */
export async function processGroups(_scope: ProjectScope, _events: NormalizedEvent[], _warnings: WarningSink): Promise<void> {}
