import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileEventStore, RunEvent } from '../../lib';
import { StoreIndex } from '../../lib/storage/file/log-summary';
import { CapturingLogger } from '../helpers/capturing-logger';
import { runEventInput } from '../helpers/run-events';
import { makeTempDir, removeTempDirs } from '../helpers/temp-dir';

function storeEvent(i: number, timestamp: number, extra: Record<string, unknown> = {}): RunEvent {
  return {
    ...runEventInput({ taskId: `task-${i % 12}`, timestamp, filesTouched: [`src/file-${i}.ts`] }),
    eventId: `e-${i}`,
    notes: 'n'.repeat(300),
    ...extra,
  } as RunEvent;
}

async function collect(iterable: AsyncIterable<RunEvent>): Promise<RunEvent[]> {
  const out: RunEvent[] = [];
  for await (const e of iterable) out.push(e);
  return out;
}

describe('FileEventStore streaming reads', () => {
  const stores: FileEventStore[] = [];
  function openStore(dir: string): FileEventStore {
    const store = new FileEventStore({ storagePath: dir, logger: new CapturingLogger() });
    stores.push(store);
    return store;
  }
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close().catch(() => undefined);
    removeTempDirs();
  });

  async function storeOf(events: RunEvent[], batch = 2_000): Promise<{ dir: string; store: FileEventStore }> {
    const dir = makeTempDir();
    const store = openStore(dir);
    for (let i = 0; i < events.length; i += batch) {
      store.enqueue(events.slice(i, i + batch));
      await store.flush();
    }
    return { dir, store };
  }

  it('time-ordered store: range reads match a brute-force filter at block boundaries and random ranges', async () => {
    const events = Array.from({ length: 30_000 }, (_, i) => storeEvent(i, 1_000 + i * 10));
    const { dir, store } = await storeOf(events);
    await store.close();
    const reopened = openStore(dir);
    await reopened.open();
    const blocks = (JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')).blocks as number[]).length / 3;
    expect(blocks).toBeGreaterThan(8);

    const check = async (from: number, to: number) => {
      const expected = events.filter((e) => e.timestamp >= from && e.timestamp <= to).map((e) => e.eventId);
      expect((await reopened.readRange(from, to)).map((e) => e.eventId)).toEqual(expected);
    };
    await check(1_000, 1_000); // the very first event
    await check(300_990, 300_990); // the very last
    await check(0, 999); // before everything
    await check(400_000, 500_000); // after everything
    await check(-Infinity, Infinity);
    for (let i = 0; i < 40; i++) {
      const a = 1_000 + Math.floor(Math.random() * 300_000);
      const b = a + Math.floor(Math.random() * 20_000);
      await check(a, b);
    }
  });

  it('unordered timestamps: ranges stay correct (blocks are only skipped when their span misses)', async () => {
    const events = Array.from({ length: 12_000 }, (_, i) => storeEvent(i, Math.floor(Math.random() * 1_000_000)));
    const { store } = await storeOf(events, 500);
    for (let i = 0; i < 20; i++) {
      const from = Math.floor(Math.random() * 900_000);
      const to = from + 50_000;
      const expected = events.filter((e) => e.timestamp >= from && e.timestamp <= to).map((e) => e.eventId);
      expect((await store.readRange(from, to)).map((e) => e.eventId)).toEqual(expected);
    }
  });

  it('stream by task does not confuse task ids that contain one another', async () => {
    const events = Array.from({ length: 300 }, (_, i) => storeEvent(i, i));
    const { store } = await storeOf(events);
    const task1 = await collect(store.stream({ taskId: 'task-1' }));
    expect(task1.map((e) => e.eventId)).toEqual(events.filter((e) => e.taskId === 'task-1').map((e) => e.eventId));
    const task11 = await collect(store.stream({ taskId: 'task-11', from: 100, to: 200 }));
    expect(task11.map((e) => e.timestamp)).toEqual(
      events.filter((e) => e.taskId === 'task-11' && e.timestamp >= 100 && e.timestamp <= 200).map((e) => e.timestamp),
    );
  });

  it('events larger than the read chunk stream back whole and in order', async () => {
    const big = 'B'.repeat(1_500_000);
    const events = Array.from({ length: 6 }, (_, i) => storeEvent(i, i, { notes: big + i }));
    const { store } = await storeOf(events, 2);
    const read = await store.readAll();
    expect(read.map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
    expect(read.map((e) => (e as unknown as { notes: string }).notes.length)).toEqual(events.map((_, i) => big.length + String(i).length));
  });

  it('compaction and writeAll rebuild the time blocks; a damaged blocks field makes the opener rebuild the index', async () => {
    const events = Array.from({ length: 8_000 }, (_, i) => storeEvent(i, i));
    const { dir, store } = await storeOf(events);
    expect(await store.compact(3_000)).toBe(5_000);
    expect((await store.readRange(4_000, 4_010)).map((e) => e.timestamp)).toEqual([]);
    expect((await store.readRange(6_000, 6_002)).map((e) => e.timestamp)).toEqual([6_000, 6_001, 6_002]);
    await store.close();
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    writeFileSync(join(dir, 'index.json'), JSON.stringify({ ...index, blocks: [5, 'x'] }));
    const reopened = openStore(dir);
    expect((await reopened.readRange(7_998, 9_000)).map((e) => e.timestamp)).toEqual([7_998, 7_999]);
    await reopened.open();
    expect((await reopened.readRange(7_998, 9_000)).map((e) => e.timestamp)).toEqual([7_998, 7_999]);
    expect(JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')).blocks[0]).toBe(0);
  });

  it('StoreIndex.rangesFor merges adjacent matching blocks and skips the rest', () => {
    const index = new StoreIndex();
    index.blocks = [0, 0, 9, 100, 10, 19, 200, 20, 29, 300, Infinity, -Infinity, 400, 40, 49];
    expect(index.rangesFor(12, 25, 500)).toEqual([[100, 300]]);
    expect(index.rangesFor(45, 100, 500)).toEqual([[400, 500]]);
    expect(index.rangesFor(30, 39, 500)).toEqual([]);
    expect(index.rangesFor(-Infinity, Infinity, 500)).toEqual([
      [0, 300],
      [400, 500],
    ]);
  });
});
