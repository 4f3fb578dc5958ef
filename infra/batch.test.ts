import { describe, expect, it } from 'vitest';
import { Batcher, KeyedBatcher, type BatchOptions } from './batch.js';

/** A send that records its batches and answers when the test says so. */
function recorder<T>() {
  const calls: T[][] = [];
  const answers: Array<() => void> = [];
  let inFlight = 0;
  let maxSeen = 0;
  const send = (items: T[]) => {
    calls.push(items);
    inFlight++;
    maxSeen = Math.max(maxSeen, inFlight);
    return new Promise<T[]>((resolve) => {
      answers.push(() => {
        inFlight--;
        resolve(items);
      });
    });
  };
  return { calls, send, answerAll: () => answers.splice(0).forEach((a) => a()), maxInFlight: () => maxSeen };
}

const turn = () => new Promise<void>((r) => setImmediate(r));
const opts = (o: Partial<BatchOptions> = {}): BatchOptions => ({ maxSize: 100, maxInFlight: 2, schedule: 'turn', ...o });

describe('Batcher', () => {
  it('items handed in during one event-loop turn go in one call; each caller gets its own result, in order', async () => {
    const r = recorder<number>();
    const b = new Batcher<number, number>(opts(), async (items) => (await r.send(items)).map((x) => x * 10));
    const results = Promise.all([1, 2, 3].map((x) => b.add(x)));
    process.nextTick(() => void b.add(4)); // later in the same turn: still the same batch
    expect(r.calls).toEqual([]); // nothing is sent before the turn ends
    await turn();
    expect(r.calls).toEqual([[1, 2, 3, 4]]);
    r.answerAll();
    expect(await results).toEqual([10, 20, 30]);
  });

  it("'tick' sends when the running code is done, before the turn's I/O; a number lingers that many ms", async () => {
    const r = recorder<string>();
    const tick = new Batcher<string, string>(opts({ schedule: 'tick' }), r.send);
    void tick.add('a');
    void tick.add('b');
    await Promise.resolve();
    await new Promise<void>((res) => process.nextTick(res));
    expect(r.calls).toEqual([['a', 'b']]);
    r.answerAll();

    const linger = new Batcher<string, string>(opts({ schedule: 20 }), r.send);
    void linger.add('c');
    await turn();
    void linger.add('d'); // a turn later, but within the linger: same batch
    expect(r.calls).toHaveLength(1);
    await new Promise((res) => setTimeout(res, 40));
    expect(r.calls[1]).toEqual(['c', 'd']);
    r.answerAll();
  });

  it('a batch that reaches maxSize goes at once; larger backlogs split into batches of maxSize', async () => {
    const r = recorder<number>();
    const b = new Batcher<number, number>(opts({ maxSize: 3, maxInFlight: 10 }), r.send);
    const all = Array.from({ length: 8 }, (_, i) => b.add(i));
    expect(r.calls).toEqual([[0, 1, 2], [3, 4, 5]]); // sent while the code was still adding
    await turn();
    expect(r.calls).toEqual([[0, 1, 2], [3, 4, 5], [6, 7]]);
    r.answerAll();
    expect(await Promise.all(all)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('at most maxInFlight batches are out; what arrives meanwhile forms the next batch the moment one returns', async () => {
    const r = recorder<number>();
    const b = new Batcher<number, number>(opts({ maxSize: 100, maxInFlight: 1 }), r.send);
    const first = b.add(1);
    await turn();
    const later = [2, 3, 4].map((x) => b.add(x));
    await turn();
    expect(r.calls).toEqual([[1]]); // 2..4 wait: one batch is out
    expect(b.pending).toBe(4);
    r.answerAll();
    await first;
    expect(r.calls).toEqual([[1], [2, 3, 4]]); // sent as the first returned, without waiting for a schedule
    r.answerAll();
    expect(await Promise.all(later)).toEqual([2, 3, 4]);
    expect(b.pending).toBe(0);
  });

  it('an Error in place of a result rejects that item only; a send that throws rejects its whole batch', async () => {
    let fail = false;
    const b = new Batcher<number, number>(opts(), async (items) => {
      if (fail) throw new Error('connection lost');
      return items.map((x) => (x % 2 ? new Error(`odd ${x}`) : x));
    });
    const mixed = await Promise.allSettled([1, 2, 3, 4].map((x) => b.add(x)));
    expect(mixed.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual(['odd 1', 2, 'odd 3', 4]);
    fail = true;
    const thrown = await Promise.allSettled([5, 6].map((x) => b.add(x)));
    expect(thrown.map((s) => s.status === 'rejected' && (s.reason as Error).message)).toEqual(['connection lost', 'connection lost']);
    // The batcher goes on after a failure.
    fail = false;
    expect(await b.add(8)).toBe(8);
  });

  it('a send answering too few results rejects the items it left out', async () => {
    const b = new Batcher<number, number>(opts(), async (items) => items.slice(0, 1));
    const [a, c] = await Promise.allSettled([b.add(1), b.add(2)]);
    expect(a).toEqual({ status: 'fulfilled', value: 1 });
    expect(c.status).toBe('rejected');
  });

  it('drain sends what waits at once and resolves once every item is answered', async () => {
    const r = recorder<number>();
    const b = new Batcher<number, number>(opts({ schedule: 60_000, maxInFlight: 1, maxSize: 2 }), r.send);
    const items = [1, 2, 3, 4, 5].map((x) => b.add(x)); // [1,2] went at once (full); 3..5 wait for in-flight
    let drained = false;
    const d = b.drain().then(() => (drained = true));
    await turn();
    expect(drained).toBe(false);
    while (r.calls.length < 3) {
      r.answerAll();
      await turn();
    }
    r.answerAll();
    await d;
    expect(r.calls).toEqual([[1, 2], [3, 4], [5]]);
    expect(await Promise.all(items)).toEqual([1, 2, 3, 4, 5]);
    await b.drain(); // nothing pending: resolves at once
  });

  it('join tells each item the label of the batch it goes in: one label per batch, made when it opens', async () => {
    let opened = 0;
    const sent: Array<[string, number[]]> = [];
    const b = new Batcher<number, void, string>(
      opts({ maxSize: 2, maxInFlight: 1 }),
      async (items, label) => {
        sent.push([label, items]);
        await turn();
        return items.map(() => undefined);
      },
      () => `batch-${++opened}`,
    );
    const joined = [1, 2, 3, 4, 5].map((x) => b.join(x));
    expect(joined.map((j) => j.label)).toEqual(['batch-1', 'batch-1', 'batch-2', 'batch-2', 'batch-3']);
    await Promise.all(joined.map((j) => j.result));
    expect(sent).toEqual([['batch-1', [1, 2]], ['batch-2', [3, 4]], ['batch-3', [5]]]);
    expect(b.join(6).label).toBe('batch-4');
  });

  it('10,000 items from many turns: every one answered with its own result, no batch over maxSize, never over maxInFlight', async () => {
    const r = { calls: [] as number[][], inFlight: 0, max: 0 };
    const b = new Batcher<number, number>(opts({ maxSize: 64, maxInFlight: 3 }), async (items) => {
      r.calls.push(items);
      r.max = Math.max(r.max, ++r.inFlight);
      await new Promise((res) => setTimeout(res, Math.random() * 3));
      r.inFlight--;
      return items.map((x) => -x);
    });
    const all: Array<Promise<number>> = [];
    for (let t = 0; t < 100; t++) {
      for (let i = 0; i < 100; i++) all.push(b.add(t * 100 + i));
      if (t % 7 === 0) await turn();
    }
    const results = await Promise.all(all);
    expect(results).toEqual(all.map((_, i) => -i));
    expect(r.max).toBeLessThanOrEqual(3);
    expect(Math.max(...r.calls.map((c) => c.length))).toBeLessThanOrEqual(64);
    expect(r.calls.flat().sort((x, y) => x - y)).toEqual(all.map((_, i) => i)); // each sent exactly once
    expect(r.calls.length).toBeLessThan(10_000 / 10); // they did batch
  });

  it('rejects option values that would never send', () => {
    expect(() => new Batcher(opts({ maxSize: 0 }), async () => [])).toThrow(/maxSize/);
    expect(() => new Batcher(opts({ maxInFlight: 0 }), async () => [])).toThrow(/maxInFlight/);
  });
});

describe('KeyedBatcher', () => {
  it('keys never share a batch, maxInFlight holds per key, and an idle key is dropped', async () => {
    const calls: Array<[string, number[]]> = [];
    const release: Array<() => void> = [];
    const b = new KeyedBatcher<string, number, string>(opts({ maxInFlight: 1 }), (key, items) => {
      calls.push([key, items]);
      return new Promise((res) => release.push(() => res(items.map((x) => `${key}${x}`))));
    });
    const first = [b.add('a', 1), b.add('b', 2), b.add('a', 3)];
    await turn();
    expect(calls).toEqual([['a', [1, 3]], ['b', [2]]]);
    const second = b.add('a', 4);
    await turn();
    expect(calls).toHaveLength(2); // 'a' has its one batch out
    expect(b.keys).toBe(2);
    release.splice(0).forEach((r) => r());
    expect(await Promise.all(first)).toEqual(['a1', 'b2', 'a3']);
    expect(calls[2]).toEqual(['a', [4]]);
    release.splice(0).forEach((r) => r());
    expect(await second).toBe('a4');
    await b.drain();
    expect(b.keys).toBe(0);
  });
});
