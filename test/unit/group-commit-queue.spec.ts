/**
 * The group-commit queue on its own: what is counted as not yet durable, and
 * how a batch that the backend refuses for good is split so that only the
 * refused items fail. The writer here is a list in memory that refuses some
 * items the way PostgreSQL refuses a row (an error with a SQLSTATE).
 */
import { GroupCommitQueue, RefusedItem } from '../../lib/storage/group-commit.queue';
import { CapturingLogger } from '../helpers/capturing-logger';

function refusal(item: string): Error {
  return Object.assign(new Error(`new row violates check constraint (${item})`), { code: '23514' });
}

/** A writer that stores batches atomically and refuses any batch holding a poisoned item. */
class ListWriter {
  readonly written: string[] = [];
  readonly calls: string[][] = [];
  poisoned = new Set<string>();
  transientAfterCalls = Infinity;
  gate: Promise<void> | null = null;

  write = async (batch: string[]): Promise<void> => {
    this.calls.push(batch);
    if (this.gate) await this.gate;
    if (this.calls.length > this.transientAfterCalls) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const bad = batch.find((item) => this.poisoned.has(item));
    if (bad) throw refusal(bad);
    this.written.push(...batch);
  };
}

function makeQueue(writer: ListWriter) {
  const setAside: RefusedItem<string>[][] = [];
  const logger = new CapturingLogger();
  const queue = new GroupCommitQueue<string>(writer.write, logger, false, {
    isPermanent: (err) => (err as { code?: string }).code === '23514',
    setAside: async (refused) => {
      setAside.push(refused);
    },
    errorFor: (refused) => new Error(`refused: ${refused.map((r) => r.item).join(',')}`),
  });
  return { queue, setAside, logger };
}

describe('GroupCommitQueue', () => {
  it('counts the batch being written as not yet durable', async () => {
    const writer = new ListWriter();
    let open!: () => void;
    writer.gate = new Promise((resolve) => (open = resolve));
    const { queue } = makeQueue(writer);
    queue.push(['a', 'b', 'c']);
    const flushed = queue.flush();
    await new Promise((resolve) => setImmediate(resolve));
    expect(writer.calls).toHaveLength(1); // the batch is in flight
    expect(queue.size).toBe(3);
    expect(queue.queuedCount).toBe(0);
    queue.push(['d']);
    expect(queue.size).toBe(4);
    open();
    await flushed;
    expect(queue.size).toBe(1);
    await queue.flush();
    expect(queue.size).toBe(0);
    expect(writer.written).toEqual(['a', 'b', 'c', 'd']);
  });

  it('isolates a refused item by splitting the batch: it alone is set aside, every other item is written in order', async () => {
    const writer = new ListWriter();
    writer.poisoned.add('p');
    const { queue, setAside } = makeQueue(writer);
    const items = Array.from({ length: 37 }, (_, i) => `i${i}`);
    items.splice(21, 0, 'p');
    queue.push(items.slice(0, 21));
    const before = queue.flush(); // covers only items queued before the poisoned one
    queue.push(items.slice(21));
    const covering = queue.flush();
    await expect(before).resolves.toBeUndefined();
    await expect(covering).rejects.toThrow('refused: p');
    expect(writer.written).toEqual(items.filter((i) => i !== 'p'));
    expect(setAside).toHaveLength(1);
    expect(setAside[0].map((r) => r.item)).toEqual(['p']);
    expect((setAside[0][0].error as { code?: string }).code).toBe('23514');
    expect(queue.size).toBe(0);
    // The queue is not blocked: later items go through, and later flushes resolve.
    queue.push(['after']);
    await expect(queue.flush()).resolves.toBeUndefined();
    expect(writer.written.at(-1)).toBe('after');
    // Splitting costs about two writes per halving, not one per item.
    expect(writer.calls.length).toBeLessThan(2 * Math.ceil(Math.log2(items.length)) + 3);
  });

  it('sets aside several refused items of one batch and rejects every flush that covers one', async () => {
    const writer = new ListWriter();
    writer.poisoned = new Set(['p1', 'p2']);
    const { queue, setAside } = makeQueue(writer);
    queue.push(['a', 'p1', 'b', 'c', 'p2', 'd']);
    await expect(queue.flush()).rejects.toThrow('refused: p1,p2');
    expect(writer.written).toEqual(['a', 'b', 'c', 'd']);
    expect(setAside.flat().map((r) => r.item)).toEqual(['p1', 'p2']);
  });

  it('keeps the whole batch queued when a transient failure happens while splitting, and retries it', async () => {
    const writer = new ListWriter();
    writer.poisoned.add('p');
    writer.transientAfterCalls = 1; // the first write is refused for 'p', the next one finds the server gone
    const { queue, setAside, logger } = makeQueue(writer);
    queue.push(['a', 'p', 'b', 'c']);
    await expect(queue.flush()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(queue.size).toBe(4);
    expect(setAside).toHaveLength(0);
    expect(queue.lastError).toMatchObject({ code: 'ECONNREFUSED' });
    expect(logger.messages('error').join('\n')).toMatch(/4 event\(s\) kept in memory for retry: connect ECONNREFUSED/);
    writer.transientAfterCalls = Infinity;
    await expect(queue.flush()).rejects.toThrow('refused: p');
    expect(writer.written).toEqual(['a', 'b', 'c']);
    expect(queue.size).toBe(0);
    expect(queue.lastError).toBeNull();
  });

  it('keeps everything queued when the refused items cannot be set aside', async () => {
    const writer = new ListWriter();
    writer.poisoned.add('p');
    const queue = new GroupCommitQueue<string>(writer.write, new CapturingLogger(), false, {
      isPermanent: () => true,
      setAside: async () => {
        throw new Error('dead-letter table unreachable');
      },
      errorFor: () => new Error('refused'),
    });
    queue.push(['a', 'p']);
    await expect(queue.flush()).rejects.toThrow('dead-letter table unreachable');
    expect(queue.size).toBe(2);
  });

  it('without a refusal policy, a failing batch stays queued whole (every failure is retried)', async () => {
    const writer = new ListWriter();
    writer.poisoned.add('p');
    const queue = new GroupCommitQueue<string>(writer.write, new CapturingLogger(), false);
    queue.push(['a', 'p', 'b']);
    await expect(queue.flush()).rejects.toMatchObject({ code: '23514' });
    expect(queue.size).toBe(3);
    expect(writer.written).toEqual([]);
  });

  it('writes items in the order they were queued, across batches, and resolves flushes in order', async () => {
    const writer = new ListWriter();
    let open!: () => void;
    writer.gate = new Promise((resolve) => (open = resolve));
    const { queue } = makeQueue(writer);
    const settled: string[] = [];
    queue.push(['a', 'b']);
    const first = queue.flush().then(() => settled.push('first'));
    await new Promise((resolve) => setImmediate(resolve));
    // Queued while the first batch is being written: they form the next batch.
    queue.push(['c']);
    const second = queue.flush().then(() => settled.push('second'));
    queue.push(['d', 'e']);
    const third = queue.flush().then(() => settled.push('third'));
    writer.gate = null;
    open();
    await Promise.all([first, second, third]);
    expect(writer.written).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(writer.calls).toEqual([
      ['a', 'b'],
      ['c', 'd', 'e'],
    ]);
    expect(settled).toEqual(['first', 'second', 'third']);
  });

  it('with autoFlush, retries a failed batch by itself with growing delays, then resets them after a success', async () => {
    const times: number[] = [];
    let failuresLeft = 4;
    const queue = new GroupCommitQueue<string>(
      async () => {
        times.push(Date.now());
        if (failuresLeft-- > 0) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
      },
      new CapturingLogger(),
      true,
    );
    queue.push(['x']);
    const deadline = Date.now() + 10_000;
    while (queue.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(queue.size).toBe(0);
    expect(queue.lastError).toBeNull();
    expect(times).toHaveLength(5);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    // Backoff: at least 100, 200, 400, 800 ms between attempts (timers never fire early).
    [100, 200, 400, 800].forEach((minimum, i) => expect(gaps[i]).toBeGreaterThanOrEqual(minimum - 2));
    // After a success the next failure starts again from the shortest delay.
    failuresLeft = 1;
    const before = times.length;
    queue.push(['y']);
    while (queue.size > 0 && Date.now() < deadline + 5_000) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(times.length - before).toBe(2);
    expect(times.at(-1)! - times.at(-2)!).toBeLessThan(800);
  });

  it('supersedeUpTo drops what was queued before the mark (a rewrite stored it): its flushes resolve; what came after is written after', async () => {
    const writer = new ListWriter();
    const { queue } = makeQueue(writer);
    queue.push(['replaced-1', 'replaced-2']);
    const covering = queue.flush();
    const mark = queue.enqueuedCount;
    let dropped: string[] = [];
    const rewrite = queue.exclusive(async () => {
      dropped = queue.supersedeUpTo(mark);
      writer.written.push('rewrite');
    }, false);
    // Queued after the mark, before the rewrite runs: not replaced.
    queue.push(['after']);
    await rewrite;
    await covering;
    await queue.flush();
    // The write under way when the rewrite was asked for took the items before the mark, and held 'after' back.
    expect(writer.written).toEqual(['replaced-1', 'replaced-2', 'rewrite', 'after']);
    expect(dropped).toEqual([]);
    expect(queue.size).toBe(0);
  });

  it('supersedeUpTo in a paused writer drops exactly the items before the mark', async () => {
    const writer = new ListWriter();
    const { queue } = makeQueue(writer);
    let dropped: string[] = [];
    await queue.exclusive(async () => {
      queue.push(['replaced-1', 'replaced-2']);
      const mark = queue.enqueuedCount;
      queue.push(['kept']);
      dropped = queue.supersedeUpTo(mark);
    }, false);
    await queue.flush();
    expect(dropped).toEqual(['replaced-1', 'replaced-2']);
    expect(writer.written).toEqual(['kept']);
  });

  it('exclusive runs with the writer paused: items queued meanwhile wait until it returns', async () => {
    const writer = new ListWriter();
    const { queue } = makeQueue(writer);
    queue.push(['before']);
    const seen = await queue.exclusive(async () => {
      queue.push(['during']);
      await new Promise((resolve) => setTimeout(resolve, 30));
      return [...writer.written];
    });
    expect(seen).toEqual(['before']);
    await queue.flush();
    expect(writer.written).toEqual(['before', 'during']);
  });

  it('a timer made inside an exclusive section has no rights of it once it ended: its flush waits for the next section like any other', async () => {
    const writer = new ListWriter();
    const { queue } = makeQueue(writer);
    let timerFlush: Promise<void> | null = null;
    await queue.exclusive(async () => {
      setTimeout(() => {
        queue.push(['from-timer']);
        timerFlush = queue.flush();
      }, 20);
    });
    let release!: () => void;
    const holding = queue.exclusive(() => new Promise<void>((resolve) => (release = resolve)));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(timerFlush).not.toBeNull();
    expect(writer.written).toEqual([]);
    release();
    await holding;
    await timerFlush;
    expect(writer.written).toEqual(['from-timer']);
  });
});
