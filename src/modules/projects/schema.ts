import { builder } from '../../graphql/builder.ts';
import { connectionOf, pageSize } from '../../graphql/connections.ts';
import { MAX_PAGE_SIZE } from '../../graphql/limits.ts';
import type { ProjectScope } from '../../db/project-scope.ts';
import { NotFoundError } from '../../graphql/errors.ts';

const WeekStartEnum = builder.enumType('WeekStart', {
  values: { SUNDAY: { value: 0 as const }, MONDAY: { value: 1 as const } },
});

/** A project as the caller sees it; the backing value is an already-authorized scope. */
export const ProjectRef = builder.objectRef<ProjectScope>('Project').implement({
  description: 'A tenant: its events, people and insights are separate from every other project.',
  fields: (t) => ({
    id: t.id({ resolve: (s) => s.project._id }),
    name: t.string({ resolve: (s) => s.project.name }),
    apiToken: t.string({
      description: 'Public, write-only capture token for SDKs (safe to ship in a browser).',
      resolve: (s) => s.project.apiToken,
    }),
    timezone: t.string({ resolve: (s) => s.project.timezone }),
    weekStart: t.field({ type: WeekStartEnum, description: 'First day of the week in weekly insights.', resolve: (s) => s.project.weekStart ?? 0 }),
    createdAt: t.field({ type: 'DateTime', resolve: (s) => s.project.createdAt }),
  }),
});

const ProjectConnection = connectionOf('Project', ProjectRef);

builder.queryFields((t) => ({
  projects: t.field({
    type: ProjectConnection,
    description: 'Projects the caller may use, oldest first.',
    args: { first: t.arg.int(), after: t.arg.string() },
    // Sizes over the maximum are refused by the resolver with a clear message, so they cost no more than the maximum.
    complexity: (args) => ({ field: 1, multiplier: Math.min(args.first ?? 10, MAX_PAGE_SIZE) }),
    resolve: async (_root, args, ctx) => {
      const page = await ctx.services.projects.list(ctx.access, pageSize(args.first), args.after);
      return { ...page, edges: page.edges.map((e) => ({ cursor: e.cursor, node: ctx.access.scopeOf(e.node) })) };
    },
  }),
  project: t.field({
    type: ProjectRef,
    nullable: true,
    description: 'A project by id; null when it does not exist or the caller may not use it.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.access.findProject(String(args.id)),
  }),
}));

const CreateProjectInput = builder.inputType('CreateProjectInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    timezone: t.string({ description: 'IANA time zone for day boundaries; default "UTC".' }),
    weekStart: t.field({ type: WeekStartEnum, description: 'Default SUNDAY.' }),
  }),
});

const UpdateProjectInput = builder.inputType('UpdateProjectInput', {
  description: 'Settings to change; the ones left out stay as they are.',
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string(),
    timezone: t.string({ description: 'IANA time zone for day boundaries.' }),
    weekStart: t.field({ type: WeekStartEnum }),
  }),
});

const CreateProjectPayload = builder.simpleObject('CreateProjectPayload', {
  fields: (t) => ({ project: t.field({ type: ProjectRef }) }),
});

builder.mutationField('createProject', (t) =>
  t.field({
    type: CreateProjectPayload,
    description: 'Creates a project with a fresh capture token. Needs the admin key or the "project:write" scope.',
    args: { input: t.arg({ type: CreateProjectInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      ctx.access.require('project:write');
      const project = await ctx.services.projects.create(input);
      const { principal } = ctx.access;
      if (principal.kind === 'apiKey') {
        // The creating key may use what it created, now and in later requests.
        await ctx.services.apiKeys.grantProject(principal.key._id, project._id);
        principal.key.projectIds.push(project._id);
      }
      return { project: ctx.access.scopeOf(project) };
    },
  }),
);

builder.mutationField('updateProject', (t) =>
  t.field({
    type: CreateProjectPayload,
    description: 'Renames a project or changes its time zone or week start. Needs the admin key or the "project:write" scope.',
    args: { input: t.arg({ type: UpdateProjectInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const scope = await ctx.access.project(String(input.id), 'project:write');
      const project = await ctx.services.projects.update(scope.projectId, { name: input.name, timezone: input.timezone, weekStart: input.weekStart });
      if (project === null) throw new NotFoundError(`Project "${input.id}" was not found.`);
      return { project: ctx.access.scopeOf(project) };
    },
  }),
);
