/** What a personal API key may do. Names follow PostHog's `<object>:<read|write>` convention. */
export const SCOPES = ['query:read', 'project:write'] as const;
export type Scope = (typeof SCOPES)[number];
