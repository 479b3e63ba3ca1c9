import { appendFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PersistentLedger, PersistentLedgerConfig, RunLedger, createPersistentLedger } from '../../lib';
import { CapturingLogger } from '../helpers/capturing-logger';
import { eventsOnDisk } from '../helpers/ndjson';
import { runEventInput, violation } from '../helpers/run-events';
import { makeTempDir, removeTempDirs } from '../helpers/temp-dir';

describe('PersistentLedger', () => {
  const open: PersistentLedger[] = [];
  async function ledgerAt(storagePath: string, config: PersistentLedgerConfig = {}): Promise<PersistentLedger> {
    const ledger = createPersistentLedger({ storagePath, logger: new CapturingLogger(), compactIntervalMs: 0, ...config });
    open.push(ledger);
    await ledger.init();
    return ledger;
  }

  afterEach(async () => {
    for (const ledger of open.splice(0)) await ledger.destroy().catch(() => undefined);
    removeTempDirs();
  });

  it('loads only valid events from a store another tool wrote to: queries, metrics and evaluators never throw because of stored data', async () => {
    const dir = makeTempDir();
    const first = await ledgerAt(dir);
    const kept = first.logEvent(runEventInput({ violations: [violation('no-any')], reworkLines: 6 }));
    await first.destroy();
    appendFileSync(
      join(dir, 'events.ndjson'),
      '{"taskId":"m","timestamp":1}\n{"taskId":"m","timestamp":2,"violations":[{"ruleId":"r"}]}\n{"taskId":"m","timestamp":3,"testResults":{"passed":2}}\n',
    );
    const ledger = await ledgerAt(dir);
    expect(ledger.getEvents().map((e) => e.eventId)).toEqual([kept.eventId, expect.any(String)]);
    expect(ledger.computeMetrics()).toMatchObject({ taskCount: 2, violationRate: 5, reworkLines: 3 });
    expect(ledger.rankViolations()).toEqual([{ ruleId: 'no-any', frequency: 1, cost: 6, score: 6 }]);
    for (const e of ledger.getEvents()) expect((await ledger.evaluate(e)).every((r) => !/Evaluator threw/.test(r.details ?? ''))).toBe(true);
    expect((await ledger.getStorageStats()).corruptLines).toBe(2);
  });

  it('is a RunLedger', () => {
    expect(createPersistentLedger({ storagePath: makeTempDir() })).toBeInstanceOf(RunLedger);
  });

  it('persists logEvent, finalizeEvent and importEvents, and a reopened ledger loads them in order', async () => {
    const dir = makeTempDir();
    const ledger = await ledgerAt(dir);
    const logged = ledger.logEvent(runEventInput({ timestamp: 1 }));
    const created = ledger.createEvent('task-2', 'refactor');
    const finalized = ledger.finalizeEvent(created);
    ledger.importEvents([{ ...runEventInput({ timestamp: 3 }), eventId: 'imported-1' }]);
    await ledger.flush();
    expect(eventsOnDisk(dir).map((e) => e.eventId)).toEqual([logged.eventId, finalized.eventId, 'imported-1']);
    await ledger.destroy();

    const reopened = await ledgerAt(dir);
    expect(reopened.getEvents()).toEqual([logged, finalized, expect.objectContaining({ eventId: 'imported-1' })]);
  });

  it('init is idempotent; load replaces memory with the store', async () => {
    const dir = makeTempDir();
    const ledger = await ledgerAt(dir);
    ledger.logEvent(runEventInput());
    await ledger.init();
    expect(ledger.eventCount).toBe(1);
    ledger.clear();
    await ledger.load();
    expect(ledger.eventCount).toBe(1);
  });

  it('save atomically rewrites the store from memory', async () => {
    const dir = makeTempDir();
    const ledger = await ledgerAt(dir);
    for (let i = 0; i < 3; i++) ledger.logEvent(runEventInput({ timestamp: i }));
    await ledger.flush();
    const keep = ledger.getEvents().slice(1);
    ledger.clear();
    ledger.importEvents(keep);
    await ledger.save();
    expect(eventsOnDisk(dir)).toEqual(keep);
    expect(await ledger.getStorageStats()).toMatchObject({ eventCount: 2 });
  });

  it('compact applies maxEvents to store and memory and returns the evicted count', async () => {
    const dir = makeTempDir();
    const ledger = await ledgerAt(dir, { maxEvents: 3, highWaterMark: 0 });
    for (const ts of [5, 1, 4, 2, 3]) ledger.logEvent(runEventInput({ timestamp: ts }));
    expect(await ledger.compact()).toBe(2);
    expect(ledger.getEvents().map((e) => e.timestamp)).toEqual([5, 4, 3]);
    expect(eventsOnDisk(dir).map((e) => e.timestamp)).toEqual([5, 4, 3]);
    expect(await ledger.getStorageStats()).toMatchObject({ eventCount: 3, oldestEvent: 3, newestEvent: 5 });
  });

  it('memory evicts exactly what the store evicts when events are logged while a compaction waits for the writer', async () => {
    const dir = makeTempDir();
    const ledger = await ledgerAt(dir, { maxEvents: 10, highWaterMark: 0 });
    for (let i = 0; i < 20; i++) ledger.logEvent(runEventInput({ taskId: `a${i}`, timestamp: 1000 + i }));
    const compaction = ledger.compact();
    for (let i = 0; i < 20; i++) ledger.logEvent(runEventInput({ taskId: `b${i}`, timestamp: 2000 + i }));
    await compaction;
    await ledger.flush();
    const stored = (await ledger.getEventStore().readAll()).map((e) => e.eventId);
    expect(stored).toHaveLength(30);
    expect(ledger.getEvents().map((e) => e.eventId)).toEqual(stored);
  });

  it('memory equals the store at every quiet point while compactions run every few milliseconds under load', async () => {
    const dir = makeTempDir();
    const ledger = await ledgerAt(dir, { maxEvents: 500, highWaterMark: 0 });
    let timestamp = 0;
    for (let round = 0; round < 8; round++) {
      const compactions: Promise<number>[] = [];
      for (let i = 0; i < 3_000; i++) {
        ledger.logEvent(runEventInput({ taskId: `t${i % 7}`, timestamp: timestamp++ }));
        if (i % 250 === 0) {
          compactions.push(ledger.compact());
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      await Promise.all(compactions);
      await ledger.whenIdle();
      await ledger.flush();
      const stored = (await ledger.getEventStore().readAll()).map((e) => e.eventId);
      expect(ledger.getEvents().map((e) => e.eventId)).toEqual(stored);
    }
  });

  it('concurrent compact calls share one run', async () => {
    const ledger = await ledgerAt(makeTempDir(), { maxEvents: 1, highWaterMark: 0 });
    ledger.logEvent(runEventInput({ timestamp: 1 }));
    ledger.logEvent(runEventInput({ timestamp: 2 }));
    const first = ledger.compact();
    expect(ledger.isCompacting).toBe(true);
    const second = ledger.compact();
    expect(second).toBe(first);
    expect(await first).toBe(1);
    expect(ledger.isCompacting).toBe(false);
  });

  it('compacts as soon as memory passes the high-water mark', async () => {
    const dir = makeTempDir();
    const ledger = await ledgerAt(dir, { maxEvents: 10, highWaterMark: 15 });
    for (let i = 0; i < 16; i++) ledger.logEvent(runEventInput({ timestamp: i }));
    expect(ledger.isCompacting).toBe(true);
    await ledger.whenIdle();
    await ledger.flush();
    expect(ledger.eventCount).toBe(10);
    expect(eventsOnDisk(dir)).toHaveLength(10);
  });

  it('runs its own compaction timer outside Nest', async () => {
    const dir = makeTempDir();
    const ledger = await ledgerAt(dir, { maxEvents: 2, highWaterMark: 0, compactIntervalMs: 50 });
    for (let i = 0; i < 5; i++) ledger.logEvent(runEventInput({ timestamp: i }));
    await new Promise((r) => setTimeout(r, 300));
    expect(ledger.eventCount).toBe(2);
    expect(eventsOnDisk(dir)).toHaveLength(2);
  });

  it('with enableWAL off, writes only on flush', async () => {
    const dir = makeTempDir();
    const ledger = await ledgerAt(dir, { enableWAL: false });
    ledger.logEvent(runEventInput());
    await new Promise((r) => setTimeout(r, 50));
    expect(eventsOnDisk(dir)).toHaveLength(0);
    expect(await ledger.getStorageStats()).toMatchObject({ pendingEvents: 1 });
    await ledger.flush();
    expect(eventsOnDisk(dir)).toHaveLength(1);
  });

  it('flush rejects with the cause when the storage path turns into a regular file, keeps the events, and writes them exactly once when it is fixed', async () => {
    const root = makeTempDir();
    const dir = join(root, 'store');
    const logger = new CapturingLogger();
    const ledger = await ledgerAt(dir, { logger, enableWAL: false });
    const early = [ledger.logEvent(runEventInput({ timestamp: 1 })), ledger.logEvent(runEventInput({ timestamp: 2 }))];
    await ledger.flush();

    renameSync(dir, join(root, 'moved'));
    writeFileSync(dir, 'a regular file where the store directory was');
    const late = [3, 4, 5].map((ts) => ledger.logEvent(runEventInput({ timestamp: ts })));
    const error = await ledger.flush().catch((e) => e);
    expect((error as NodeJS.ErrnoException).code).toMatch(/^(EEXIST|ENOTDIR)$/);
    expect(logger.messages('error').join('\n')).toMatch(/Ledger write failed, 3 event\(s\) kept in memory/);
    expect((await ledger.flush().catch((e) => e)).code).toBe((error as NodeJS.ErrnoException).code);
    expect(ledger.getEvents()).toEqual([...early, ...late]);

    rmSync(dir);
    await ledger.flush();
    expect(eventsOnDisk(dir)).toEqual(late);
    expect(eventsOnDisk(join(root, 'moved'))).toEqual(early);
    expect(logger.messages('log').join('\n')).toMatch(/recovered/);
    expect(await ledger.getStorageStats()).toMatchObject({ eventCount: 3, lastWriteOk: true, pendingEvents: 0 });
  });

  it('writes the next batch to the path again when events.ndjson is deleted or replaced under a running ledger', async () => {
    const dir = makeTempDir();
    const logger = new CapturingLogger();
    const ledger = await ledgerAt(dir, { logger, enableWAL: false });
    ledger.logEvent(runEventInput({ timestamp: 1 }));
    await ledger.flush();

    unlinkSync(join(dir, 'events.ndjson'));
    const afterDelete = ledger.logEvent(runEventInput({ timestamp: 2 }));
    await ledger.flush();
    expect(eventsOnDisk(dir)).toEqual([afterDelete]);

    writeFileSync(join(dir, 'events.ndjson.new'), '');
    renameSync(join(dir, 'events.ndjson.new'), join(dir, 'events.ndjson'));
    const afterReplace = ledger.logEvent(runEventInput({ timestamp: 3 }));
    await ledger.flush();
    expect(eventsOnDisk(dir)).toEqual([afterReplace]);
    expect(logger.messages('warn').filter((m) => /removed or replaced/.test(m))).toHaveLength(2);
    await ledger.destroy();
  });

  it('destroy releases the lock and keeps the files, so another ledger can open them', async () => {
    const dir = makeTempDir();
    const first = await ledgerAt(dir);
    first.logEvent(runEventInput());
    await first.destroy();
    const second = await ledgerAt(dir);
    expect(second.eventCount).toBe(1);
    expect(second.getEventStore()).not.toBe(first.getEventStore());
  });
});
