import { get, keepAliveAgent } from './http-client.ts';
import { summarize, type LatencySummary } from './stats.ts';

/**
 * Polls `/readyz` on its own connection while a phase runs. Its response time is how long any request
 * waits for the server's event loop (plus one store ping), so a slow probe means a saturated loop.
 */
export class ReadyProbe {
  private readonly agent = keepAliveAgent(1);
  private readonly times: number[] = [];
  private readonly notReady = new Map<number, number>();
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly url: URL,
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const t0 = performance.now();
        try {
          const res = await get(this.agent, this.url);
          if (res.status !== 200) this.notReady.set(res.status, (this.notReady.get(res.status) ?? 0) + 1);
        } catch {
          this.notReady.set(0, (this.notReady.get(0) ?? 0) + 1);
        }
        const took = performance.now() - t0;
        this.times.push(took);
        if (this.running && took < this.intervalMs) await new Promise((resolve) => setTimeout(resolve, this.intervalMs - took));
      }
    })();
  }

  async stop(): Promise<{ latency: LatencySummary; notReady: number }> {
    this.running = false;
    await this.loop;
    this.agent.destroy();
    let notReady = 0;
    for (const n of this.notReady.values()) notReady += n;
    return { latency: summarize(this.times), notReady };
  }
}
