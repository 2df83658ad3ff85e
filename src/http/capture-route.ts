import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../logger.ts';
import { decodeCaptureBody } from '../ingest/decode.ts';
import { normalizeCaptureRequest } from '../ingest/normalize.ts';
import { CaptureError } from '../ingest/errors.ts';
import type { CaptureService } from '../ingest/capture-service.ts';
import { readBody } from './body.ts';
import { applyCaptureCors } from './cors.ts';
import { sendJson } from './respond.ts';

export type CaptureRouteKind = 'event' | 'batch' | 'engage';

const ROUTES: Record<string, CaptureRouteKind> = {
  '/e': 'event',
  '/i/v0/e': 'event',
  '/capture': 'event',
  '/track': 'event',
  '/engage': 'engage',
  '/batch': 'batch',
};

/** Decompressed size limits, as in PostHog's capture service. */
export const CAPTURE_LIMITS: Record<CaptureRouteKind, number> = {
  event: 2 * 1024 * 1024,
  engage: 2 * 1024 * 1024,
  batch: 20 * 1024 * 1024,
};

/** Raw bodies may be base64 in a urlencoded form (about 4/3 × 3/1 worst case with %2B), so the wire cap is looser. */
const RAW_FACTOR = 2;

/** Seconds a client should wait before retrying after a 503. */
const RETRY_AFTER_SECONDS = 5;

/** The capture route a path names (trailing slash optional), if any. */
export function captureRouteOf(pathname: string): CaptureRouteKind | undefined {
  const path = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  return ROUTES[path];
}

/** Dependencies of {@link handleCapture}. */
export interface CaptureRouteDeps {
  capture: CaptureService;
  logger: Logger;
}

/** Handles one PostHog-compatible capture request from start to response. */
export async function handleCapture(req: IncomingMessage, res: ServerResponse, kind: CaptureRouteKind, deps: CaptureRouteDeps): Promise<void> {
  applyCaptureCors(req, res);
  const method = req.method ?? 'GET';
  if (method === 'OPTIONS') return sendJson(res, 200, { status: 'Ok' });
  const url = new URL(req.url ?? '/', 'http://capture');
  try {
    if (method !== 'GET' && method !== 'POST') {
      throw new CaptureError('method_not_allowed', 'Capture accepts GET and POST.');
    }
    const limit = CAPTURE_LIMITS[kind];
    const body = method === 'POST' ? await readBody(req, limit * RAW_FACTOR) : Buffer.alloc(0);
    const { payload } = await decodeCaptureBody({
      method,
      body,
      contentType: req.headers['content-type'],
      contentEncoding: req.headers['content-encoding'],
      query: url.searchParams,
      limitBytes: limit,
    });
    const batch = normalizeCaptureRequest(payload, { now: new Date(), query: url.searchParams, route: kind });
    const result = await deps.capture.ingest(batch, { clientIp: req.socket.remoteAddress, userAgent: req.headers['user-agent'] });
    const stored = result.accepted + result.duplicates;
    if (stored === 0 && result.refused.length > 0) {
      const first = result.refused[0]!;
      return sendJson(res, 400, { status: 'error', code: first.code, error: first.message, errors: result.refused });
    }
    if (url.searchParams.get('beacon') === '1') {
      res.writeHead(204).end();
      return;
    }
    const response: Record<string, unknown> = { status: 'Ok', accepted: result.accepted, duplicates: result.duplicates };
    if (result.refused.length > 0) response.errors = result.refused;
    return sendJson(res, 200, response);
  } catch (error) {
    if (error instanceof CaptureError) {
      if (error.status === 503) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      if (error.status === 413) res.setHeader('Connection', 'close');
      // A 405 must say which methods the resource does support (RFC 9110 §15.5.6).
      if (error.status === 405) res.setHeader('Allow', 'GET, POST, OPTIONS');
      return sendJson(res, error.status, { status: 'error', code: error.code, error: error.message });
    }
    // An unexpected failure may have happened mid-write: the outcome is unknown, so ask for a retry.
    deps.logger.error({ err: error, path: url.pathname }, 'capture failed unexpectedly');
    res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    return sendJson(res, 503, { status: 'error', code: 'service_unavailable', error: 'Internal error; retry shortly.' });
  }
}
