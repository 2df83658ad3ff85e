import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface CloseInfo {
  code: number;
  reason: string;
}

/**
 * A graphql-ws client that connects at once with a Bearer key and never retries, so a refused or
 * closed socket stays visible to the test; `closed` resolves with the first close code and reason.
 */
export function connectGraphQLWs(wsUrl: string, secret: string): { client: Client; closed: Promise<CloseInfo> } {
  let onClosed: (event: CloseInfo) => void = () => undefined;
  const closed = new Promise<CloseInfo>((resolve) => (onClosed = resolve));
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${secret}` },
    retryAttempts: 0,
    lazy: false,
    // Closing is asserted where it matters (through `closed`); elsewhere it is the end of a test, not news.
    onNonLazyError: () => undefined,
    on: {
      closed: (event) => {
        const { code, reason } = event as CloseInfo;
        onClosed({ code, reason });
      },
    },
  });
  return { client, closed };
}
