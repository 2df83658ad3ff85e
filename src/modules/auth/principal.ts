import type { ApiKeyDocument } from '../../db/documents.ts';

/** Who is calling: the bootstrap admin, a personal API key, or nobody. */
export type Principal = { kind: 'admin' } | { kind: 'apiKey'; key: ApiKeyDocument } | { kind: 'anonymous' };

export const ANONYMOUS: Principal = { kind: 'anonymous' };
