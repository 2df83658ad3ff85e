import { decodeBase64, isLikelyBase64 } from './base64.ts';
import { CaptureError } from './errors.ts';
import { isFormContentType, isLikelyCaptureForm, parseCaptureForm, restorePlusSigns } from './form.ts';
import { gunzipBounded, hasGzipMagic } from './gzip.ts';
import { parseJsonText } from './json-text.ts';
import { decompressLzBase64 } from './lz-string.ts';

/** What a capture request carries, as the HTTP layer hands it over. */
export interface CaptureBodyRequest {
  method: 'GET' | 'POST';
  body: Buffer;
  contentType?: string;
  contentEncoding?: string;
  query: URLSearchParams;
  /** Cap on the decompressed payload in bytes; exactly this many bytes pass. */
  limitBytes: number;
}

type Hint = 'gzip' | 'lz64' | 'base64' | 'none';

/** Maps a compression hint as SDKs spell it to the scheme; unknown values mean "guess from the bytes". */
export function compressionFromHint(value: string | null | undefined): Hint {
  switch ((value ?? '').split(',')[0]!.trim().toLowerCase()) {
    case 'gzip':
    case 'gzip-js':
      return 'gzip';
    case 'lz64':
    case 'lz-string':
      return 'lz64';
    case 'base64':
    case 'b64':
      return 'base64';
    default:
      return 'none';
  }
}

// Invalid UTF-8 becomes U+FFFD (TextDecoder's default) instead of refusing the request: the usual cause
// is an SDK cutting a string mid-character, and one damaged property should not cost a whole batch.
const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function checkSize(length: number, limitBytes: number): void {
  if (length > limitBytes) {
    throw new CaptureError('payload_too_large', `payload is ${length} bytes, over the ${limitBytes} byte limit`);
  }
}

/** Where the encoded payload sits in the request, plus the hints found along the way. */
interface Located {
  bytes: Buffer;
  /** The payload came from a form field or the query string, so it is text that was url-decoded. */
  fromText: boolean;
  formCompression?: string;
}

function locatePayload(req: CaptureBodyRequest): Located {
  const queryData = req.query.get('data');
  // GET carries the payload in the query string; POST may too (old beacons), and then it wins.
  if (queryData !== null && queryData.length > 0) {
    return { bytes: Buffer.from(restorePlusSigns(queryData), 'utf8'), fromText: true };
  }
  if (req.method === 'GET' || req.body.length === 0) {
    throw new CaptureError('invalid_payload', 'payload is empty: no request body and no data parameter');
  }
  const startsAsForm = req.body.subarray(0, 5).toString('latin1') === 'data=';
  // A JSON body is never a form, even when a URL inside it happens to contain `&data=`.
  const startsAsJson = req.body[0] === 0x7b || req.body[0] === 0x5b;
  if ((isFormContentType(req.contentType) && !startsAsJson && isLikelyCaptureForm(req.body)) || startsAsForm) {
    const form = parseCaptureForm(req.body.toString('utf8'));
    if (form.data === undefined || form.data.length === 0) {
      throw new CaptureError('invalid_payload', 'form body has no data field');
    }
    return { bytes: Buffer.from(form.data, 'utf8'), fromText: true, formCompression: form.compression };
  }
  // A form content type over a body that is not a form (often JSON sent that way to skip a CORS
  // preflight) is read as a plain body.
  return { bytes: req.body, fromText: false };
}

function pickHint(req: CaptureBodyRequest, formCompression: string | undefined): Hint {
  for (const candidate of [req.query.get('compression'), formCompression, req.contentEncoding]) {
    const hint = compressionFromHint(candidate);
    if (hint !== 'none') return hint;
  }
  return 'none';
}

/**
 * Turns a capture request into its JSON payload, following the encodings PostHog SDKs use: gzip (by
 * hint or magic bytes), lz-string base64, base64, urlencoded forms and GET query strings. Everything is
 * bounded by `limitBytes` after decompression. `compression` reports what was undone:
 * 'gzip' | 'lz64' | 'base64' | 'none'.
 */
export async function decodeCaptureBody(req: CaptureBodyRequest): Promise<{ payload: unknown; compression: string }> {
  const { bytes: located, fromText, formCompression } = locatePayload(req);
  const hint = pickHint(req, formCompression);
  let bytes = located;
  let compression: Hint = 'none';
  let text: string;

  if (hint === 'lz64' && !hasGzipMagic(bytes)) {
    // lz64 output is base64 text too, so it must not go through the base64 step below.
    text = decompressLzBase64(bytes.toString('latin1').trim(), req.limitBytes);
    checkSize(Buffer.byteLength(text, 'utf8'), req.limitBytes);
    compression = 'lz64';
  } else {
    if (!hasGzipMagic(bytes) && (hint === 'base64' || looksBase64(bytes, fromText))) {
      const decoded = decodeBase64(bytes.toString('latin1'));
      if (decoded !== undefined) {
        bytes = decoded;
        compression = 'base64';
      } else if (hint === 'base64') {
        throw new CaptureError('invalid_payload', 'payload marked base64 is not valid base64');
      }
    }
    if (hint === 'gzip' || hasGzipMagic(bytes)) {
      bytes = await gunzipBounded(bytes, req.limitBytes);
      compression = 'gzip';
    } else {
      checkSize(bytes.length, req.limitBytes);
    }
    text = utf8.decode(bytes);
  }

  const unwrapped = unwrapLeftoverBase64(text, req.limitBytes);
  if (unwrapped !== undefined) {
    text = unwrapped;
    if (compression === 'none') compression = 'base64';
  }
  return { payload: parseJsonText(text), compression };
}

// Text from a form field or query string may use the URL-safe alphabet and skip padding.
const TEXT_BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

function looksBase64(bytes: Buffer, fromText: boolean): boolean {
  return fromText ? TEXT_BASE64.test(bytes.toString('latin1')) : isLikelyBase64(bytes);
}

/**
 * Some SDK versions base64-encode the JSON before compressing it, so a payload that is still base64 after
 * decompression is decoded once more. Anything that does not decode to valid UTF-8 is left as it was.
 */
function unwrapLeftoverBase64(text: string, limitBytes: number): string | undefined {
  if (!isLikelyBase64(text)) return undefined;
  const decoded = decodeBase64(text);
  if (decoded === undefined) return undefined;
  let unwrapped: string;
  try {
    unwrapped = strictUtf8.decode(decoded);
  } catch {
    return undefined;
  }
  checkSize(decoded.length, limitBytes);
  return unwrapped;
}
