import { BadUserInputError } from './errors.ts';

/** Longest `search` text a list accepts. */
export const MAX_SEARCH_LENGTH = 200;

/** `text` as a regular expression that matches it literally. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A user's search text as a literal substring pattern (lists match it case-insensitively); blank
 * means no search. The text is never a pattern of its own, so it cannot run away in the database.
 */
export function searchPattern(search: string | null | undefined): string | undefined {
  const text = search?.trim();
  if (text === undefined || text === '') return undefined;
  if (text.length > MAX_SEARCH_LENGTH) throw new BadUserInputError(`"search" is longer than ${MAX_SEARCH_LENGTH} characters.`, { max: MAX_SEARCH_LENGTH });
  return escapeRegex(text);
}
