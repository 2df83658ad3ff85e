/**
 * Distinct ids that must never merge two persons (PostHog's list): SDKs and integrations send these
 * as placeholders, so merging on them would fold unrelated people into one.
 */
const ILLEGAL_ANY_CASE = new Set(['anonymous', 'guest', 'distinctid', 'distinct_id', 'id', 'not_authenticated', 'email', 'undefined', 'true', 'false']);
const ILLEGAL_EXACT = new Set(['[object Object]', 'NaN', 'None', 'none', 'null', '0', 'undefined']);

/** True for a placeholder id, its single- or double-quoted form, or a blank one. */
export function isIllegalDistinctId(distinctId: string): boolean {
  const trimmed = distinctId.trim();
  if (trimmed === '') return true;
  const candidates = [trimmed];
  const quoted = /^(["'])(.*)\1$/.exec(trimmed);
  if (quoted) candidates.push(quoted[2]!.trim());
  return candidates.some((id) => id === '' || ILLEGAL_EXACT.has(id) || ILLEGAL_ANY_CASE.has(id.toLowerCase()));
}
