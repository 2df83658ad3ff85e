import { Agent, request } from 'node:http';

export interface PostResult {
  status: number;
  body: string;
}

/**
 * A keep-alive client with a fixed number of sockets: each closed-loop worker reuses one connection, as an
 * SDK's flush loop does, and no request pays for a TCP handshake.
 */
export function keepAliveAgent(sockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
}

/** POSTs `body` and resolves with the status and response text; network errors reject. */
export function post(agent: Agent, url: URL, body: Buffer, headers: Record<string, string>): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** GET for the health endpoints. */
export function get(agent: Agent, url: URL): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
