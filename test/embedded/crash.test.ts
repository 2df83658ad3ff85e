import { rm } from 'node:fs/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startTestStore, tempDataDir } from '../helpers/store.ts';
import {
  COUNTER_ID,
  COUNTERS,
  CRASH_DB,
  DOCS,
  docFor,
  killAllWriters,
  spawnWriter,
  type WrittenDoc,
} from './fixtures/crash-writer.ts';

const dirs: string[] = [];

afterEach(async () => {
  await killAllWriters();
});

afterAll(async () => {
  await killAllWriters();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

interface DirState {
  /** Every _id acknowledged by any writer that ran on this directory. */
  acked: Set<string>;
  /** Counter value the test read after the last recovery (the next writer must start from it). */
  counter: number | undefined;
}

function idToDoc(id: string): WrittenDoc {
  const cut = id.lastIndexOf('-');
  return docFor(id.slice(0, cut), Number(id.slice(cut + 1)));
}

describe('crash safety under kill -9', () => {
  it('never loses an acknowledged write when the writing process is killed at a random moment, including on a directory that was already recovered', async () => {
    // Alternate fresh and reused directories: every reuse recovers a directory that itself was recovered before.
    const plan = ['fresh', 'reuse', 'fresh', 'reuse', 'reuse', 'fresh'] as const;
    let dataDir = '';
    let state: DirState = { acked: new Set(), counter: undefined };
    let totalAcked = 0;

    for (const [run, kind] of plan.entries()) {
      if (kind === 'fresh') {
        dataDir = await tempDataDir('sightline-crash-');
        dirs.push(dataDir);
        state = { acked: new Set(), counter: undefined };
      }
      // Every other run uses a tiny snapshot threshold so the kill may land in the middle of a snapshot.
      const snapshotOptions = run % 2 === 1 ? ['--snapshot-bytes', String(32 * 1024)] : [];
      const writer = spawnWriter(dataDir, ['--mode', 'crash', '--prefix', `r${run}`, ...snapshotOptions]);
      await writer.waitForLine((line) => line.startsWith('ack '));
      const delay = 150 + Math.floor(Math.random() * 750);
      await new Promise((resolve) => setTimeout(resolve, delay));
      expect(writer.alive, `writer died on its own before the kill; stderr:\n${writer.stderr}`).toBe(true);
      await writer.kill();

      const lines = [...writer.lines];
      const baseLine = lines.find((line) => line.startsWith('base '));
      expect(baseLine, 'writer printed its starting counter').toBeDefined();
      const base = Number(baseLine!.slice(5));
      if (state.counter !== undefined) {
        // The counter survived the test's own clean restart and was read back by the writer unchanged.
        expect(base).toBe(state.counter);
      }
      const ackedNow = lines.filter((line) => line.startsWith('ack insert ')).map((line) => line.slice(11));
      for (const id of ackedNow) state.acked.add(id);
      const maxAckedInc = Math.max(base, ...lines.filter((l) => l.startsWith('ack inc ')).map((l) => Number(l.slice(8))));
      const sentIncs = lines.filter((line) => line === 'send inc').length;
      totalAcked += ackedNow.length;

      const recovered = await startTestStore({ dataDir });
      try {
        const db = recovered.client.db(CRASH_DB);
        const stored = await db.collection<WrittenDoc>(DOCS).find({}).toArray();
        const byId = new Map<string, WrittenDoc>();
        for (const doc of stored) {
          expect(byId.has(doc._id), `document ${doc._id} appears twice after recovery`).toBe(false);
          byId.set(doc._id, doc);
        }
        const missing = [...state.acked].filter((id) => !byId.has(id));
        expect(missing, `run ${run} (${kind}): acknowledged documents missing after kill -9`).toEqual([]);
        // Every stored document, acknowledged or not, is complete and exactly what was written.
        for (const doc of stored) expect(doc).toEqual(idToDoc(doc._id));

        const counter = await db.collection<{ _id: string; value: number }>(COUNTERS).findOne({ _id: COUNTER_ID });
        expect(counter, 'counter document survives').not.toBeNull();
        expect(counter!.value).toBeGreaterThanOrEqual(maxAckedInc);
        // No increment applied twice (for example by replaying log records a snapshot already contains).
        expect(counter!.value).toBeLessThanOrEqual(base + sentIncs);
        state.counter = counter!.value;
      } finally {
        await recovered.stop();
      }
    }
    // The runs really wrote something worth checking.
    expect(totalAcked).toBeGreaterThan(plan.length * 20);
  }, 120_000);
});
