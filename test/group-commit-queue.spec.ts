/**
 * The group-commit queue on its own: what is counted as not yet durable, and
 * how a batch that the backend refuses for good is split so that only the
 * refused items fail. The writer here is a list in memory that refuses some
 * items the way PostgreSQL refuses a row (an error with a SQLSTATE).
 */
import { GroupCommitQueue, RefusedItem } from '../lib/storage/group-commit.queue';
import { CapturingLogger } from './helpers/capturing-logger';

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
});
