import { builder } from '../../graphql/builder.ts';
import { ForbiddenError } from '../../graphql/errors.ts';
import type { ApiKeyDocument } from '../../db/documents.ts';
import { ProjectRef } from '../projects/schema.ts';
import type { Principal } from './principal.ts';
import { SCOPES, type Scope } from './scopes.ts';

export const ApiKeyScope = builder.enumType('ApiKeyScope', {
  description: 'What a personal API key may do.',
  values: {
    QUERY_READ: { value: 'query:read', description: 'Read projects, events and insights.' },
    PROJECT_WRITE: { value: 'project:write', description: 'Create and change projects.' },
  } satisfies Record<string, { value: Scope; description: string }>,
});

const ViewerKind = builder.enumType('ViewerKind', { values: ['ADMIN', 'PERSONAL_API_KEY'] as const });

const ApiKeyRef = builder.objectRef<ApiKeyDocument>('ApiKey').implement({
  description: 'A personal API key. Its secret is only ever shown once, when it is created.',
  fields: (t) => ({
    id: t.exposeID('_id'),
    label: t.exposeString('label'),
    mask: t.exposeString('maskValue', { description: 'E.g. "phx_...a1b2", to recognise the key.' }),
    scopes: t.field({ type: [ApiKeyScope], resolve: (k) => k.scopes as Scope[] }),
    projectIds: t.idList({ resolve: (k) => k.projectIds }),
    createdAt: t.field({ type: 'DateTime', resolve: (k) => k.createdAt }),
    lastUsedAt: t.field({ type: 'DateTime', nullable: true, resolve: (k) => k.lastUsedAt ?? null }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (k) => k.revokedAt ?? null }),
  }),
});

const ViewerRef = builder.objectRef<Exclude<Principal, { kind: 'anonymous' }>>('Viewer').implement({
  description: 'The caller, as identified by its key.',
  fields: (t) => ({
    kind: t.field({ type: ViewerKind, resolve: (p) => (p.kind === 'admin' ? 'ADMIN' : 'PERSONAL_API_KEY') }),
    label: t.string({ resolve: (p) => (p.kind === 'admin' ? 'admin' : p.key.label) }),
    scopes: t.field({ type: [ApiKeyScope], resolve: (p) => (p.kind === 'admin' ? [...SCOPES] : (p.key.scopes as Scope[])) }),
    projects: t.field({
      type: [ProjectRef],
      description: 'Every project this key may use (the admin key: all of them, up to 1000).',
      complexity: { field: 1, multiplier: 20 },
      resolve: async (_p, _args, ctx) => {
        const docs = await ctx.services.collections.projects.find(ctx.access.visibleProjects()).sort({ _id: 1 }).limit(1000).toArray();
        return docs.map((doc) => ctx.access.scopeOf(doc));
      },
    }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: ViewerRef,
    resolve: (_root, _args, ctx) => {
      ctx.access.require();
      return ctx.access.principal as Exclude<Principal, { kind: 'anonymous' }>;
    },
  }),
);

const CreatePersonalApiKeyInput = builder.inputType('CreatePersonalApiKeyInput', {
  fields: (t) => ({
    label: t.string({ required: true }),
    scopes: t.field({ type: [ApiKeyScope], required: true }),
    projectIds: t.idList({ required: true, description: 'The only projects the key may use.' }),
  }),
});

const CreatePersonalApiKeyPayload = builder.simpleObject('CreatePersonalApiKeyPayload', {
  fields: (t) => ({
    key: t.string({ description: 'The secret. Store it now: it is not kept and cannot be shown again.' }),
    apiKey: t.field({ type: ApiKeyRef }),
  }),
});

const RevokePersonalApiKeyPayload = builder.simpleObject('RevokePersonalApiKeyPayload', {
  fields: (t) => ({ apiKey: t.field({ type: ApiKeyRef }) }),
});

function requireAdmin(isAdmin: boolean): void {
  if (!isAdmin) throw new ForbiddenError('Only the admin key can manage personal API keys.');
}

builder.mutationFields((t) => ({
  createPersonalApiKey: t.field({
    type: CreatePersonalApiKeyPayload,
    args: { input: t.arg({ type: CreatePersonalApiKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      ctx.access.require();
      requireAdmin(ctx.access.isAdmin);
      const { secret, apiKey } = await ctx.services.apiKeys.create({
        label: input.label,
        scopes: input.scopes,
        projectIds: input.projectIds.map(String),
      });
      return { key: secret, apiKey };
    },
  }),
  revokePersonalApiKey: t.field({
    type: RevokePersonalApiKeyPayload,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      ctx.access.require();
      requireAdmin(ctx.access.isAdmin);
      return { apiKey: await ctx.services.apiKeys.revoke(String(args.id)) };
    },
  }),
}));
