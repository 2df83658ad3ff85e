import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Capture is called from any website that embeds the SDK, with credentials, so CORS mirrors the
 * caller's Origin and requested headers exactly as PostHog's capture service does.
 */
export function applyCaptureCors(req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin;
  res.setHeader('Vary', 'Origin, Access-Control-Request-Headers');
  if (origin === undefined) return;
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Access-Control-Allow-Credentials', 'true');
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
  const requested = req.headers['access-control-request-headers'];
  if (requested !== undefined) res.setHeader('Access-Control-Allow-Headers', requested);
  res.setHeader('Access-Control-Max-Age', '600');
}
