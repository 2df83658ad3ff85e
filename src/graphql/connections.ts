import type { ObjectRef } from '@pothos/core';
import { builder } from './builder.ts';
import { BadUserInputError } from './errors.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './limits.ts';

/** One page of a list, in the Relay connection shape. */
export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export const PageInfoRef = builder.objectRef<Page<unknown>['pageInfo']>('PageInfo').implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    endCursor: t.exposeString('endCursor', { nullable: true }),
  }),
});

/** Declares `<Name>Connection` and `<Name>Edge` for a node type. */
export function connectionOf<T>(name: string, node: ObjectRef<any, T>) {
  const edge = builder.objectRef<Page<T>['edges'][number]>(`${name}Edge`).implement({
    fields: (t) => ({
      cursor: t.exposeString('cursor'),
      // The cast bridges Pothos' generic resolver typing; `node` is exactly the shape `node` declares.
      node: t.field({ type: node, resolve: (e) => e.node as never }),
    }),
  });
  return builder.objectRef<Page<T>>(`${name}Connection`).implement({
    fields: (t) => ({
      // The connection field already multiplies by the page size; counting the list again would square it.
      edges: t.field({ type: [edge], complexity: { field: 1, multiplier: 1 }, resolve: (p) => p.edges }),
      pageInfo: t.field({ type: PageInfoRef, resolve: (p) => p.pageInfo }),
    }),
  });
}

/** Validates `first`: a page is 1..MAX_PAGE_SIZE, defaulting to DEFAULT_PAGE_SIZE. */
export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw new BadUserInputError(`"first" must be between 1 and ${MAX_PAGE_SIZE}.`, { max: MAX_PAGE_SIZE });
  }
  return first;
}

/**
 * The cost of a list field for the complexity limit: its page size. Sizes over the maximum are refused
 * by the resolvers with a clear message, so they cost no more than the maximum.
 */
export function pageComplexity(args: { first?: number | null }): { field: number; multiplier: number } {
  return { field: 1, multiplier: Math.min(args.first ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE) };
}

/** Builds a page from up to `size + 1` fetched items: the extra one only says that a next page exists. */
export function toPage<T>(items: T[], size: number, cursorOf: (item: T) => string): Page<T> {
  const nodes = items.slice(0, size);
  const edges = nodes.map((node) => ({ cursor: cursorOf(node), node }));
  return { edges, pageInfo: { hasNextPage: items.length > size, endCursor: edges.at(-1)?.cursor ?? null } };
}

/** Opaque cursors: base64url of a small JSON array, validated on the way back in. */
export function encodeCursor(parts: (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

/** Decodes a cursor made by {@link encodeCursor}; a forged or stale one is a user error, not a crash. */
export function decodeCursor(cursor: string, shape: ('string' | 'number')[]): (string | number)[] {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parts = undefined;
  }
  if (!Array.isArray(parts) || parts.length !== shape.length || parts.some((p, i) => typeof p !== shape[i])) {
    throw new BadUserInputError('"after" is not a cursor returned by this list.');
  }
  return parts as (string | number)[];
}
