import { describe, expect, it } from 'vitest';
import { SubscriberQueue } from './subscriber-queue.ts';

class Overflow extends Error {}

function queue(limit = 3) {
  const state = { detached: 0 };
  const q = new SubscriberQueue<number>(limit, () => new Overflow('behind'), () => (state.detached += 1));
  return { q, state };
}

describe('SubscriberQueue', () => {
  it('hands values out in order, to waiting and to later readers alike', async () => {
    const { q } = queue();
    const waiting = q.next();
    q.push(1);
    q.push(2);
    q.push(3);
    expect(await waiting).toEqual({ value: 1, done: false });
    expect(await q.next()).toEqual({ value: 2, done: false });
    expect(await q.next()).toEqual({ value: 3, done: false });
  });

  it('fails once more than `limit` values wait: the reader gets the error next, then the end', async () => {
    const { q, state } = queue(2);
    expect(q.push(1)).toBe(true);
    expect(q.push(2)).toBe(true);
    expect(q.push(3)).toBe(false);
    expect(q.open).toBe(false);
    expect(q.size).toBe(0);
    expect(state.detached).toBe(1);
    await expect(q.next()).rejects.toBeInstanceOf(Overflow);
    expect(await q.next()).toEqual({ value: undefined, done: true });
    expect(q.push(4)).toBe(false);
  });

  it('a reader that keeps up never overflows, however many values pass', async () => {
    const { q } = queue(1);
    for (let i = 0; i < 100; i++) {
      expect(q.push(i)).toBe(true);
      expect((await q.next()).value).toBe(i);
    }
  });

  it('end() lets the reader finish what is queued, then ends; a pending read ends at once', async () => {
    const { q, state } = queue();
    q.push(1);
    q.end();
    expect(state.detached).toBe(1);
    expect(await q.next()).toEqual({ value: 1, done: false });
    expect(await q.next()).toEqual({ value: undefined, done: true });

    const other = queue();
    const pending = other.q.next();
    other.q.end();
    expect(await pending).toEqual({ value: undefined, done: true });
  });

  it('return() detaches once, drops what is queued and ends pending reads', async () => {
    const { q, state } = queue();
    const pending = q.next();
    await q.return();
    await q.return();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(state.detached).toBe(1);
    expect(q.push(1)).toBe(false);
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });

  it('a read pending when the queue fails receives the error', async () => {
    const { q } = queue();
    const pending = q.next();
    q.fail(new Overflow('gone'));
    await expect(pending).rejects.toBeInstanceOf(Overflow);
  });
});
