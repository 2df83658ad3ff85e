import { CaptureError } from './errors.ts';

// One alternation walks the text left to right: a backslash always consumes the character it escapes,
// so `\\ud800` (an escaped backslash followed by text) is never mistaken for a surrogate escape.
const SURROGATE_SCAN =
  /\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[dD][89a-fA-F][0-9a-fA-F]{2}|\\[^]|[\uD800-\uDBFF][\uDC00-\uDFFF]|[\uD800-\uDFFF]/g;
const MAY_HOLD_SURROGATES = /\\u[dD][89a-fA-F]|[\uD800-\uDFFF]/;

/**
 * Rewrites unpaired UTF-16 surrogates, whether written as `\uXXXX` escapes or present as raw code units
 * (lz-string output can carry them), to U+FFFD. Paired surrogates are kept. Documents with lone
 * surrogates cannot be stored as BSON/UTF-8, and one stray emoji half should not cost the whole batch.
 */
export function repairLoneSurrogates(text: string): string {
  if (!MAY_HOLD_SURROGATES.test(text)) return text;
  return text.replace(SURROGATE_SCAN, (match) => {
    if (match.length === 12 || match.length === 2) return match; // escaped pair, other escape, raw pair
    if (match.length === 6) return '\\ufffd'; // lone escape
    return '\ufffd'; // lone raw code unit
  });
}

/**
 * Parses a decoded capture body as JSON: drops a leading byte-order mark, repairs lone surrogates, and
 * turns any syntax error into `invalid_payload`.
 */
export function parseJsonText(text: string): unknown {
  const body = repairLoneSurrogates(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  if (body.trim().length === 0) throw new CaptureError('invalid_payload', 'payload is empty');
  try {
    return JSON.parse(body) as unknown;
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new CaptureError('invalid_payload', `payload is not valid JSON: ${detail}`);
  }
}
