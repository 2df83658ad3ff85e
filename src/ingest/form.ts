import { looksLikeUrlDecodedBase64 } from './base64.ts';

const FORM_FIELDS = ['data=', '_=', 'ip=', 'compression=', 'ver='];

/** The fields of a urlencoded capture form that matter to decoding. */
export interface CaptureForm {
  data?: string;
  compression?: string;
}

/** True when the media type (parameters ignored, any case) is `application/x-www-form-urlencoded`. */
export function isFormContentType(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

/**
 * True when the body opens like a capture form: one of the fields SDKs send, at the start or after an
 * `&` within the first 128 bytes. The content type alone is not trusted, because clients send JSON
 * under the form type to avoid a CORS preflight.
 */
export function isLikelyCaptureForm(body: Uint8Array): boolean {
  const prefix = Buffer.from(body.buffer, body.byteOffset, Math.min(body.byteLength, 128)).toString('latin1');
  return FORM_FIELDS.some((field) => prefix.startsWith(field) || prefix.includes(`&${field}`));
}

/**
 * Reads `data` and `compression` from a urlencoded form. Form decoding turns each '+' into a space,
 * which breaks base64, so spaces in a base64-looking `data` field are turned back into '+'.
 */
export function parseCaptureForm(text: string): CaptureForm {
  const params = new URLSearchParams(text);
  const form: CaptureForm = {};
  const data = params.get('data');
  if (data !== null) form.data = restorePlusSigns(data);
  const compression = params.get('compression');
  if (compression !== null) form.compression = compression;
  return form;
}

/** Turns spaces back into '+' in a value that was base64 before url-decoding; other values are untouched. */
export function restorePlusSigns(value: string): string {
  return looksLikeUrlDecodedBase64(value) ? value.trimEnd().replaceAll(' ', '+') : value;
}
