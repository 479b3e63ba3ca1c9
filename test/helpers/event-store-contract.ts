import { EventStore, LedgerClosedError, LedgerValidationError, RunEvent } from '../../lib';
import { runEventInput } from './run-events';

/** Makes stores for the contract suite. `location` names one storage; the same location opens the same data. */
/** A store of one of the drivers built on the shared write queue. */
export type QueuedStore = EventStore & { withWriterPaused<R>(fn: () => Promise<R>): Promise<R> };

export interface StoreFactory<S extends EventStore = EventStore> {
  newLocation(): string;
  create(location: string, options?: { autoFlush?: boolean; maxEventBytes?: number }): S;
  driver: string;
  /** Whether other processes may write the same storage. */
  sharedByReplicas: boolean;
}

function event(i: number, timestamp: number, taskId = `task-${i % 3}`): RunEvent {
  return { ...runEventInput({ taskId, timestamp }), eventId: `ev-${i}-${Math.random().toString(36).slice(2)}` } as RunEvent;
}

async function collect(iterable: AsyncIterable<RunEvent>): Promise<RunEvent[]> {
  const out: RunEvent[] = [];
  for await (const e of iterable) out.push(e);
  return out;
}

/** Registers hooks that make the factory once and close every store a test made; `stores()` is the factory. */
function useStores<S extends EventStore>(factory: () => StoreFactory<S>) {
  const open: S[] = [];
  let made: StoreFactory<S>;
  beforeAll(() => {
    made = factory();
  });
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close().catch(() => undefined);
  });
  const stores = {
    newLocation: () => made.newLocation(),
    get driver() {
      return made.driver;
    },
    get sharedByReplicas() {
      return made.sharedByReplicas;
    },
  };
  const make = (location: string, options?: { autoFlush?: boolean; maxEventBytes?: number }): S => {
    const store = made.create(location, options);
    open.push(store);
    return store;
  };
  return { stores, make };
}

/** The EventStore contract: the same tests, unchanged, for every store. */
export function describeEventStoreContract(name: string, factory: () => StoreFactory): void {
  describe(`EventStore contract: ${name}`, () => {
    const { stores, make } = useStores(factory);

    it('appends and reads back in append order; ranges are inclusive; streams filter by task and time', async () => {
      const store = make(stores.newLocation());
      const events = [30, 10, 20, 40, 20].map((ts, i) => event(i, ts));
      for (const e of events) await store.append(e);
      expect(await store.readAll()).toEqual(events);
      expect((await store.readRange(20, 30)).map((e) => e.eventId)).toEqual([events[0], events[2], events[4]].map((e) => e.eventId));
      expect(await collect(store.stream({ taskId: 'task-1' }))).toEqual([events[1], events[4]]);
      expect(await collect(store.stream({ taskId: 'task-1', to: 15 }))).toEqual([events[1]]);
    });

    it('enqueue is synchronous and flush() makes everything queued before it durable, in order', async () => {
      const location = stores.newLocation();
      const store = make(location, { autoFlush: false });
      await store.open();
      const events = Array.from({ length: 250 }, (_, i) => event(i, i));
      store.enqueue(events.slice(0, 100));
      store.enqueue(events.slice(100));
      expect((await store.getStats()).pendingEvents).toBe(250);
      await store.flush();
      expect((await store.getStats()).pendingEvents).toBe(0);
      expect((await make(location).readAll()).map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
    });

    it('refuses an event above the size limit synchronously and queues nothing of that call', async () => {
      const store = make(stores.newLocation(), { maxEventBytes: 1_000 });
      const big = { ...event(1, 1), guidanceHash: 'x'.repeat(1_000) };
      expect(() => store.enqueue([event(0, 0), big])).toThrow(LedgerValidationError);
      await store.flush();
      expect(await store.readAll()).toEqual([]);
    });

    it('writeAll replaces everything, including events queued before it', async () => {
      const store = make(stores.newLocation(), { autoFlush: false });
      await store.append(event(0, 0));
      store.enqueue([event(1, 1)]);
      const replacement = [event(2, 2), event(3, 3)];
      await store.writeAll(replacement);
      await store.flush();
      expect(await store.readAll()).toEqual(replacement);
      // What is queued next is written after the replacement, and nothing of the replaced queue comes back.
      const next = event(4, 4);
      store.enqueue([next]);
      await store.flush();
      expect(await store.readAll()).toEqual([...replacement, next]);
    });

    it('writeAll keeps what is enqueued right after the call, even while a write of earlier events is under way', async () => {
      const store = make(stores.newLocation());
      store.enqueue([event(0, 0)]);
      const flushing = store.flush();
      const replacement = [event(1, 1)];
      const rewriting = store.writeAll(replacement);
      const after = event(2, 2);
      store.enqueue([after]);
      await Promise.all([flushing, rewriting]);
      await store.flush();
      expect((await store.readAll()).map((e) => e.eventId)).toEqual([...replacement, after].map((e) => e.eventId));
    });

    it('compact keeps the newest maxEvents (later-appended among ties) and returns the evicted count', async () => {
      const store = make(stores.newLocation());
      const events = [50, 10, 40, 20, 40, 30, 40].map((ts, i) => event(i, ts));
      store.enqueue(events);
      expect(await store.compact(3)).toBe(4);
      expect((await store.readAll()).map((e) => e.eventId)).toEqual([events[0], events[4], events[6]].map((e) => e.eventId));
      expect(await store.compact(3)).toBe(0);
    });

    it('getStats reports count, span, driver and writer health', async () => {
      const store = make(stores.newLocation());
      expect(store.sharedByReplicas).toBe(stores.sharedByReplicas);
      expect(await store.getStats()).toMatchObject({
        eventCount: 0,
        oldestEvent: null,
        newestEvent: null,
        driver: stores.driver,
        lastWriteOk: true,
        lastWriteError: null,
      });
      await store.append(event(0, 700));
      await store.append(event(1, 300));
      const stats = await store.getStats();
      expect(stats).toMatchObject({ eventCount: 2, oldestEvent: 300, newestEvent: 700, pendingEvents: 0 });
      expect(stats.storageSizeBytes).toBeGreaterThan(0);
    });

    it('compact calls onPaused once queued events are durable; what is enqueued after it is kept and written after', async () => {
      const store = make(stores.newLocation(), { autoFlush: false });
      const before = [30, 10, 20].map((ts, i) => event(i, ts));
      store.enqueue(before);
      const late = event(9, 1);
      let pauses = 0;
      const evicted = await store.compact(2, () => {
        pauses++;
        store.enqueue([late]);
      });
      expect(pauses).toBe(1);
      // The three queued before were written first: one of them is evicted.
      expect(evicted).toBe(1);
      await store.flush();
      // The late event is older than everything, yet the compaction that was running does not evict it.
      expect((await store.readAll()).map((e) => e.eventId)).toEqual([before[0], before[2], late].map((e) => e.eventId));
    });

    it('tail from the start delivers every stored event once, in store order, then follows; a cursor resumes right after it', async () => {
      const store = make(stores.newLocation());
      const first = [10, 20, 30].map((ts, i) => event(i, ts));
      for (const e of first) await store.append(e);
      const stop = new AbortController();
      const seen: string[] = [];
      let cursor = '';
      const following = (async () => {
        for await (const batch of store.tail({ after: null, signal: stop.signal })) {
          for (const e of batch.events) seen.push(e.eventId);
          cursor = batch.cursor;
          if (seen.length === 5) stop.abort();
        }
      })();
      const later = [event(3, 40), event(4, 50)];
      store.enqueue(later);
      await store.flush();
      await following;
      expect(seen).toEqual([...first, ...later].map((e) => e.eventId));
      // Resuming from the last cursor: only what is stored after it.
      const next = event(5, 60);
      await store.append(next);
      const resumed = new AbortController();
      const after: string[] = [];
      for await (const batch of store.tail({ after: cursor, signal: resumed.signal })) {
        for (const e of batch.events) after.push(e.eventId);
        if (batch.caughtUp) resumed.abort();
      }
      expect(after).toEqual([next.eventId]);
    });

    it('tail starts over with reset after a rewrite, and from now skips what was stored before', async () => {
      const store = make(stores.newLocation());
      await store.append(event(0, 10));
      const stop = new AbortController();
      const batches: { ids: string[]; reset: boolean }[] = [];
      const following = (async () => {
        for await (const batch of store.tail({ signal: stop.signal })) {
          batches.push({ ids: batch.events.map((e) => e.eventId), reset: batch.reset });
          if (batch.reset && batch.caughtUp) stop.abort();
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const replacement = [event(1, 20), event(2, 30)];
      await store.writeAll(replacement);
      await following;
      // From now: the event stored before the tail began is not delivered; the rewrite delivers the new content, flagged reset.
      expect(batches.flatMap((b) => b.ids)).toEqual(replacement.map((e) => e.eventId));
      expect(batches.some((b) => b.reset)).toBe(true);
    });

    it('after close, enqueue throws LedgerClosedError; the data is there for the next store', async () => {
      const location = stores.newLocation();
      const store = make(location);
      await store.append(event(0, 0));
      await store.close();
      expect(() => store.enqueue([event(1, 1)])).toThrow(LedgerClosedError);
      expect(await make(location).readAll()).toHaveLength(1);
    });

    it('deleteAll deletes the data', async () => {
      const location = stores.newLocation();
      const store = make(location);
      await store.append(event(0, 0));
      await store.deleteAll();
      expect(await make(location).readAll()).toEqual([]);
    });
  });
}

/** What the two drivers built on the shared write queue (NDJSON, PostgreSQL) add to the contract. */
export function describeQueuedStoreBehaviour(name: string, factory: () => StoreFactory<QueuedStore>): void {
  describe(`Queued store: ${name}`, () => {
    const { stores, make } = useStores(factory);

    it('withWriterPaused holds writes queued meanwhile until it returns', async () => {
      const store = make(stores.newLocation());
      await store.append(event(0, 0));
      const seen = await store.withWriterPaused(async () => {
        store.enqueue([event(1, 1)]);
        await new Promise((r) => setTimeout(r, 50));
        return (await store.readAll()).length;
      });
      expect(seen).toBe(1);
      await store.flush();
      expect(await store.readAll()).toHaveLength(2);
    });
  });
}
