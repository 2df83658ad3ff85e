import type { Filter } from 'mongodb';
import type { Collections } from '../../db/collections.ts';
import type { ProjectDocument } from '../../db/documents.ts';
import { ProjectScope } from '../../db/project-scope.ts';
import { ForbiddenError, NotFoundError, UnauthenticatedError } from '../../graphql/errors.ts';
import type { Principal } from './principal.ts';
import type { Scope } from './scopes.ts';

/**
 * The one access layer: every resolver asks it for a {@link ProjectScope} before touching project
 * data. A project the caller may not see is reported as not found, so ids of other tenants cannot
 * be probed.
 */
export class Access {
  constructor(
    readonly principal: Principal,
    private readonly collections: Collections,
    /** Per-request batched loader, so several `project(id:)` selections cost one query. */
    private readonly loadProject: (id: string) => Promise<ProjectDocument | null>,
  ) {}

  get isAdmin(): boolean {
    return this.principal.kind === 'admin';
  }

  /** Throws unless the caller is authenticated and (when given) holds `scope`. */
  require(scope?: Scope): void {
    if (this.principal.kind === 'anonymous') throw new UnauthenticatedError();
    if (scope !== undefined && !this.hasScope(scope)) {
      throw new ForbiddenError(`This API key lacks the "${scope}" scope.`);
    }
  }

  hasScope(scope: Scope): boolean {
    if (this.principal.kind === 'admin') return true;
    return this.principal.kind === 'apiKey' && this.principal.key.scopes.includes(scope);
  }

  /** Filter selecting the projects this caller may see. */
  visibleProjects(): Filter<ProjectDocument> {
    this.require();
    if (this.principal.kind === 'apiKey') return { _id: { $in: this.principal.key.projectIds } };
    return {};
  }

  canSee(projectId: string): boolean {
    if (this.principal.kind === 'admin') return true;
    return this.principal.kind === 'apiKey' && this.principal.key.projectIds.includes(projectId);
  }

  /** The project's data scope, or null when it does not exist or the caller may not see it. */
  async findProject(projectId: string, scope: Scope = 'query:read'): Promise<ProjectScope | null> {
    this.require(scope);
    if (!this.canSee(projectId)) return null;
    const project = await this.loadProject(projectId);
    return project === null ? null : new ProjectScope(project, this.collections);
  }

  /** Like {@link findProject} but a missing project is an error. */
  async project(projectId: string, scope: Scope = 'query:read'): Promise<ProjectScope> {
    const found = await this.findProject(projectId, scope);
    if (found === null) throw new NotFoundError(`Project "${projectId}" was not found.`);
    return found;
  }

  /** Scope for an already-loaded project document the caller may see (list results). */
  scopeOf(project: ProjectDocument): ProjectScope {
    if (!this.canSee(project._id)) throw new NotFoundError(`Project "${project._id}" was not found.`);
    return new ProjectScope(project, this.collections);
  }
}
