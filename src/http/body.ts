import type { IncomingMessage } from 'node:http';
import { CaptureError } from '../ingest/errors.ts';

/**
 * Reads a request body into memory, refusing it as soon as it passes `maxBytes` (checked against
 * Content-Length first, then while streaming) so an oversized upload is never buffered whole.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    return Promise.reject(new CaptureError('payload_too_large', `The request body is larger than ${maxBytes} bytes.`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.removeAllListeners('data');
        req.pause();
        reject(new CaptureError('payload_too_large', `The request body is larger than ${maxBytes} bytes.`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}
