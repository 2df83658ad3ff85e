import { gunzip } from 'node:zlib';
import { CaptureError } from './errors.ts';

/** True when the bytes open with a gzip member header using deflate (1f 8b 08). */
export function hasGzipMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0x1f && bytes[1] === 0x8b && bytes[2] === 0x08;
}

/**
 * Inflates gzip off the event loop, stopping as soon as the output passes `limitBytes` so a bomb costs
 * at most the limit in memory and time. Concatenated gzip members are inflated as one stream.
 */
export function gunzipBounded(bytes: Uint8Array, limitBytes: number): Promise<Buffer> {
  // zlib needs a positive cap; a zero limit still refuses any non-empty output below.
  const maxOutputLength = Math.max(1, Math.floor(limitBytes));
  return new Promise((resolve, reject) => {
    gunzip(bytes, { maxOutputLength }, (error, output) => {
      if (error) {
        if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
          reject(new CaptureError('payload_too_large', `decompressed gzip payload exceeds ${limitBytes} bytes`));
        } else {
          reject(new CaptureError('invalid_payload', `invalid gzip data: ${error.message}`));
        }
        return;
      }
      if (output.length > limitBytes) {
        reject(new CaptureError('payload_too_large', `decompressed gzip payload exceeds ${limitBytes} bytes`));
        return;
      }
      resolve(output);
    });
  });
}
