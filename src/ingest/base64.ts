// Standard and URL-safe alphabets both appear in the field (bodies vs. GET query strings).
const BASE64_TEXT = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * Cheap test for a whole payload that is standard base64: only base64 characters and a length that is a
 * multiple of four. JSON can never pass (it starts with a brace or bracket), nor can gzip bytes.
 */
export function isLikelyBase64(payload: Uint8Array | string): boolean {
  if (payload.length === 0 || payload.length % 4 !== 0) return false;
  // Most bodies are JSON or gzip and fail on the first byte, so look at a short prefix before the whole.
  const prefix = typeof payload === 'string' ? payload.slice(0, 128) : latin1(payload.subarray(0, 128));
  if (!/^[A-Za-z0-9+/]*=*$/.test(prefix)) return false;
  const text = typeof payload === 'string' ? payload : latin1(payload);
  return /^[A-Za-z0-9+/]+={0,2}$/.test(text);
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/**
 * Looser test for a base64 field that went through form or query decoding, where each '+' became a
 * space; the caller restores the '+' signs when this says yes.
 */
export function looksLikeUrlDecodedBase64(text: string): boolean {
  return text.length > 0 && /^[A-Za-z0-9+/ _-]+={0,2}$/.test(text.trimEnd()) && /[A-Za-z0-9]/.test(text);
}

/**
 * Decodes standard or URL-safe base64 (padding optional). Returns undefined for anything that is not
 * base64, rather than silently skipping bad characters as Buffer.from does.
 */
export function decodeBase64(text: string): Buffer | undefined {
  const compact = text.replace(/[\r\n\t]/g, '');
  if (compact.length === 0 || !BASE64_TEXT.test(compact)) return undefined;
  const unpadded = compact.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) return undefined;
  // Padding, when present, must bring the text to a whole number of quads.
  if (unpadded.length !== compact.length && compact.length % 4 !== 0) return undefined;
  return Buffer.from(unpadded, 'base64');
}
