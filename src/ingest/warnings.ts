import type { IngestionWarningDocument } from '../db/documents.ts';
import type { ProjectScope } from '../db/project-scope.ts';
import type { NormalizedEvent } from './types.ts';

/** Warnings raised while one request's events are processed; stored together once the events are. */
export class WarningSink {
  private readonly warnings: Omit<IngestionWarningDocument, 'projectId'>[] = [];

  /** Records a warning about `event` (or about the request, without one). `type` is a stable code. */
  add(type: string, details: Record<string, unknown>, event?: Pick<NormalizedEvent, 'uuid' | 'distinctId'>): void {
    const warning: Omit<IngestionWarningDocument, 'projectId'> = { type, details, timestamp: new Date() };
    if (event !== undefined) {
      warning.eventUuid = event.uuid;
      warning.distinctId = event.distinctId;
    }
    this.warnings.push(warning);
  }

  get size(): number {
    return this.warnings.length;
  }

  /** The warnings so far (for tests and logs). */
  list(): readonly Omit<IngestionWarningDocument, 'projectId'>[] {
    return this.warnings;
  }

  /** Stores the warnings. Not durable-acknowledged: a lost warning never costs an event. */
  async flush(scope: ProjectScope): Promise<void> {
    if (this.warnings.length === 0) return;
    await scope.data.ingestionWarnings.insertMany(this.warnings.splice(0), { ordered: false });
  }
}
