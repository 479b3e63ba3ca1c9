import { cpSync, existsSync, rmSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync, appendFileSync } from 'node:fs';
import { getEventListeners } from 'node:events';
import { join } from 'node:path';
import { FileEventStore, LedgerLockedError, LedgerValidationError, RunEvent, RunLedger, createEventStore, createFileEventStore } from '../../lib';
import { CapturingLogger } from '../helpers/capturing-logger';
import { deadPid } from '../helpers/processes';
import { eventWithDefaults, runEventInput } from '../helpers/run-events';
import { makeTempDir, removeTempDirs } from '../helpers/temp-dir';

const ledger = new RunLedger();
function event(overrides: Partial<RunEvent> = {}): RunEvent {
  return ledger.logEvent(runEventInput(overrides));
}

function lines(dir: string): string[] {
  return readFileSync(join(dir, 'events.ndjson'), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
}

describe('FileEventStore', () => {
  const stores: FileEventStore[] = [];
  function openStore(dir: string, options: Partial<ConstructorParameters<typeof FileEventStore>[0]> = {}): FileEventStore {
    const store = new FileEventStore({ storagePath: dir, logger: new CapturingLogger(), ...options });
    stores.push(store);
    return store;
  }

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.releaseLock().catch(() => undefined);
    removeTempDirs();
  });

  it('appends, reads all in order, reads an inclusive range and streams by task', async () => {
    const dir = makeTempDir();
    const store = openStore(dir);
    const events = [10, 20, 30, 40].map((ts, i) => event({ timestamp: ts, taskId: i % 2 ? 'b' : 'a' }));
    for (const e of events) await store.append(e);
    expect(await store.readAll()).toEqual(events);
    expect((await store.readRange(20, 30)).map((e) => e.timestamp)).toEqual([20, 30]);
    const byTask: RunEvent[] = [];
    for await (const e of store.stream({ taskId: 'b', from: 25 })) byTask.push(e);
    expect(byTask.map((e) => e.timestamp)).toEqual([40]);
    expect(lines(dir)).toHaveLength(4);
  });

  it('getStats reports count, size and span, and writer health', async () => {
    const dir = makeTempDir();
    const store = openStore(dir);
    expect(await store.getStats()).toMatchObject({
      eventCount: 0,
      oldestEvent: null,
      newestEvent: null,
      driver: 'ndjson',
      pendingEvents: 0,
      lastWriteOk: true,
    });
    await store.append(event({ timestamp: 500 }));
    await store.append(event({ timestamp: 100 }));
    const stats = await store.getStats();
    expect(stats).toMatchObject({ eventCount: 2, oldestEvent: 100, newestEvent: 500, corruptLines: 0, lastWriteError: null });
    expect(stats.storageSizeBytes).toBeGreaterThanOrEqual(statSync(join(dir, 'events.ndjson')).size);
  });

  it('without autoFlush, queued events wait for flush(), which resolves once they are on disk', async () => {
    const dir = makeTempDir();
    const store = openStore(dir, { autoFlush: false });
    await store.open();
    store.enqueue([event({ timestamp: 1 }), event({ timestamp: 2 })]);
    store.enqueue([event({ timestamp: 3 })]);
    expect((await store.getStats()).pendingEvents).toBe(3);
    await store.flush();
    expect(lines(dir)).toHaveLength(3);
    expect((await store.getStats()).pendingEvents).toBe(0);
  });

  it('rejects an event above the size limit synchronously and queues nothing of that call', async () => {
    const store = openStore(makeTempDir(), { maxEventBytes: 2_000 });
    expect(() => store.enqueue([event({ timestamp: 1 }), event({ guidanceHash: 'x'.repeat(1_990) })])).toThrow(LedgerValidationError);
    expect((await store.getStats()).pendingEvents).toBe(0);
  });

  it('writeAll replaces the content atomically and leaves no temp file', async () => {
    const dir = makeTempDir();
    const store = openStore(dir);
    await store.append(event({ timestamp: 1 }));
    const replacement = [event({ timestamp: 7 }), event({ timestamp: 8 })];
    await store.writeAll(replacement);
    expect(await store.readAll()).toEqual(replacement);
    expect(readdirSync(dir).sort()).toEqual(['.lock', 'events.ndjson', 'index.json']);
    expect(await store.getStats()).toMatchObject({ eventCount: 2, oldestEvent: 7, newestEvent: 8 });
  });

  it('compact keeps the newest maxEvents by timestamp (later-appended among ties) in append order', async () => {
    const dir = makeTempDir();
    const store = openStore(dir);
    const timestamps = [50, 10, 40, 20, 40, 30, 40];
    const events = timestamps.map((ts, i) => event({ timestamp: ts, sessionId: `s${i}` }));
    for (const e of events) store.enqueue([e]);
    // Newest 4: 50 and three of the 40s? No: 50, 40, 40, 40 -> all three 40s plus 50.
    expect(await store.compact(4)).toBe(3);
    expect((await store.readAll()).map((e) => e.sessionId)).toEqual(['s0', 's2', 's4', 's6']);
    // Ties at the cut-off: keep 2 of the three 40s -> the two appended last.
    expect(await store.compact(3)).toBe(1);
    expect((await store.readAll()).map((e) => e.sessionId)).toEqual(['s0', 's4', 's6']);
    expect(await store.compact(3)).toBe(0);
    expect(await store.getStats()).toMatchObject({ eventCount: 3, oldestEvent: 40, newestEvent: 50 });
  });

  it('opens a store written by the original implementation as-is', async () => {
    const dir = makeTempDir();
    cpSync(join(__dirname, '..', 'fixtures', 'original-store'), dir, { recursive: true });
    const before = readFileSync(join(dir, 'events.ndjson'));
    const store = openStore(dir);
    const events = await store.readAll();
    expect(events).toHaveLength(12);
    expect(events[0]).toMatchObject({ eventId: '00000000-0000-4000-8000-000000000000', taskId: 'task-0', timestamp: 1_700_000_000_000 });
    expect(await store.getStats()).toMatchObject({ eventCount: 12, oldestEvent: 1_700_000_000_000, newestEvent: 1_700_000_660_000, corruptLines: 0 });
    expect(readFileSync(join(dir, 'events.ndjson')).equals(before)).toBe(true);
    await store.append(event({ timestamp: 1_800_000_000_000 }));
    expect(await store.readAll()).toHaveLength(13);
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    expect(index).toMatchObject({ eventCount: 12, taskIds: ['task-0', 'task-1', 'task-2'] });
  });

  it('repairs a torn last line: the fragment is moved aside and the next append starts on a fresh line', async () => {
    const dir = makeTempDir();
    const first = openStore(dir);
    await first.append(event({ timestamp: 1 }));
    await first.append(event({ timestamp: 2 }));
    await first.releaseLock();
    const torn = '{"eventId":"x","taskId":"t","timest';
    appendFileSync(join(dir, 'events.ndjson'), torn);

    const logger = new CapturingLogger();
    const store = openStore(dir, { logger });
    await store.append(event({ timestamp: 3 }));
    expect((await store.readAll()).map((e) => e.timestamp)).toEqual([1, 2, 3]);
    expect(lines(dir)).toHaveLength(3);
    const aside = readdirSync(dir).filter((f) => f.startsWith('events.ndjson.torn-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir, aside[0]), 'utf8')).toBe(torn);
    expect(logger.messages('warn').join('\n')).toMatch(/torn line/);
  });

  it('keeps a complete last event that only lacks its newline', async () => {
    const dir = makeTempDir();
    const first = openStore(dir);
    await first.append(event({ timestamp: 1 }));
    await first.releaseLock();
    appendFileSync(join(dir, 'events.ndjson'), JSON.stringify(event({ timestamp: 2 })));
    const store = openStore(dir);
    await store.append(event({ timestamp: 3 }));
    expect((await store.readAll()).map((e) => e.timestamp)).toEqual([1, 2, 3]);
  });

  it.each([
    ['missing', (path: string) => rmSync(path)],
    ['unparseable', (path: string) => writeFileSync(path, '{"eventCount": 3, "olde')],
    [
      'disagreeing with the log',
      (path: string) => writeFileSync(path, JSON.stringify({ eventCount: 99, oldestTimestamp: 0, newestTimestamp: 1, taskIds: [] })),
    ],
  ])('rebuilds index.json from the log when it is %s', async (_label, damage) => {
    const dir = makeTempDir();
    const first = openStore(dir);
    for (const ts of [5, 6, 7]) await first.append(event({ timestamp: ts, taskId: `t${ts}` }));
    await first.releaseLock();
    damage(join(dir, 'index.json'));
    const store = openStore(dir);
    // Reading stats is a read: it describes the log without rewriting anything...
    expect(await store.getStats()).toMatchObject({ eventCount: 3, oldestEvent: 5, newestEvent: 7 });
    // ...opening for writing rebuilds index.json.
    await store.open();
    expect(await store.getStats()).toMatchObject({ eventCount: 3, oldestEvent: 5, newestEvent: 7 });
    expect(JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'))).toMatchObject({ eventCount: 3, taskIds: ['t5', 't6', 't7'] });
  });

  it('indexes only the unindexed tail when the log grew after index.json was written', async () => {
    const dir = makeTempDir();
    const first = openStore(dir);
    await first.append(event({ timestamp: 1 }));
    await first.releaseLock();
    appendFileSync(join(dir, 'events.ndjson'), JSON.stringify(event({ timestamp: 9 })) + '\n');
    const store = openStore(dir);
    expect(await store.getStats()).toMatchObject({ eventCount: 2, oldestEvent: 1, newestEvent: 9 });
  });

  it('skips corrupt lines on read and counts them in the stats', async () => {
    const dir = makeTempDir();
    mkdirSync(dir, { recursive: true });
    const good = [event({ timestamp: 1 }), event({ timestamp: 2 })];
    writeFileSync(join(dir, 'events.ndjson'), `${JSON.stringify(good[0])}\nnot json at all\n[1,2]\n\n${JSON.stringify(good[1])}\n`);
    const logger = new CapturingLogger();
    const store = openStore(dir, { logger });
    expect(await store.readAll()).toEqual(good);
    expect(await store.getStats()).toMatchObject({ eventCount: 2, corruptLines: 2 });
    await store.open();
    expect(await store.getStats()).toMatchObject({ eventCount: 2, corruptLines: 2 });
    expect(logger.messages('warn').filter((m) => /2 unreadable line/.test(m))).toHaveLength(1);
  });

  it('validates stored lines on every read path: incomplete events get the defaults and a stable id, invalid ones are corrupt lines', async () => {
    const dir = makeTempDir();
    mkdirSync(dir, { recursive: true });
    const good = event({ timestamp: 3, taskId: 'm' });
    writeFileSync(
      join(dir, 'events.ndjson'),
      [
        '{"taskId":"m","timestamp":1}', // another tool's event: fixable
        '{"taskId":5,"timestamp":1}', // not an event
        '{"taskId":"m","timestamp":2,"violations":[{"ruleId":"r"}]}', // a violation without description and severity
        '{"taskId":"a\\u0000b","timestamp":2}', // an id no store accepts any more
        JSON.stringify(good),
      ].join('\n') + '\n',
    );
    const store = openStore(dir);
    const all = await store.readAll();
    expect(all).toHaveLength(2);
    expect(all[0]).toEqual(
      eventWithDefaults({
        eventId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/),
        taskId: 'm',
        timestamp: 1,
      }),
    );
    expect(all[1]).toEqual(good);
    // The derived id is the same on every read, and on every path.
    expect((await store.readRange(0, 1))[0].eventId).toBe(all[0].eventId);
    const byTask: RunEvent[] = [];
    for await (const e of store.stream({ taskId: 'm' })) byTask.push(e);
    expect(byTask).toEqual(all);
    expect(await store.getStats()).toMatchObject({ eventCount: 2, corruptLines: 3 });
    await store.open();
    expect(await store.getStats()).toMatchObject({ eventCount: 2, corruptLines: 3 });
    // Compaction keeps the invalid lines aside rather than dropping them.
    expect(await store.compact(10)).toBe(0);
    await store.compact(1);
    expect(readFileSync(join(dir, 'events.ndjson.corrupt'), 'utf8').split('\n').filter(Boolean)).toHaveLength(3);
  });

  it('getStats is a read: no lock, nothing created, and it works while another store holds the lock', async () => {
    const root = makeTempDir();
    const missing = join(root, 'nothing-here');
    expect(await createEventStore(missing).getStats()).toMatchObject({
      eventCount: 0,
      storageSizeBytes: 0,
      oldestEvent: null,
      newestEvent: null,
      corruptLines: 0,
    });
    expect(existsSync(missing)).toBe(false);

    const dir = join(root, 'store');
    const writer = openStore(dir);
    for (const ts of [4, 8]) await writer.append(event({ timestamp: ts }));
    const reader = openStore(dir);
    const expected = await writer.getStats();
    await expect(reader.getStats()).resolves.toEqual({ ...expected, storageSizeBytes: expect.any(Number) });
    await expect(reader.open()).rejects.toBeInstanceOf(LedgerLockedError);
    // The log is ahead of index.json (written at most once a second): the reader scans instead of trusting it.
    await writer.append(event({ timestamp: 9 }));
    expect(await reader.getStats()).toMatchObject({ eventCount: 3, newestEvent: 9 });
    expect(readdirSync(dir).sort()).toEqual(['.lock', 'events.ndjson', 'index.json']);
  });

  describe('lock', () => {
    it('refuses a second holder with LedgerLockedError naming the pid; only the holder releases it', async () => {
      const dir = makeTempDir();
      const holder = openStore(dir);
      await holder.acquireLock();
      const second = openStore(dir);
      const error = await second.acquireLock().catch((e) => e);
      expect(error).toBeInstanceOf(LedgerLockedError);
      expect(error.message).toContain('locked');
      expect(error.holderPid).toBe(process.pid);
      await second.releaseLock();
      expect(existsSync(join(dir, '.lock'))).toBe(true);
      await holder.releaseLock();
      expect(existsSync(join(dir, '.lock'))).toBe(false);
      await second.acquireLock();
      expect(JSON.parse(readFileSync(join(dir, '.lock'), 'utf8')).pid).toBe(process.pid);
    });

    it('takes over a lock whose holder process is gone (also in the original lock format)', async () => {
      const dir = makeTempDir();
      writeFileSync(join(dir, '.lock'), JSON.stringify({ holder: 'old', timestamp: Date.now(), pid: await deadPid() }));
      const logger = new CapturingLogger();
      const store = openStore(dir, { logger });
      await store.acquireLock();
      expect(JSON.parse(readFileSync(join(dir, '.lock'), 'utf8')).pid).toBe(process.pid);
      expect(logger.messages('warn').join()).toMatch(/Took over a stale ledger lock/);
    });

    it('takes over a lock that has not been refreshed within the stale threshold', async () => {
      const dir = makeTempDir();
      // A live pid (our parent) on another host name: only the age can make it stale.
      writeFileSync(join(dir, '.lock'), JSON.stringify({ holder: 'x', pid: process.ppid, hostname: 'elsewhere', timestamp: 0 }));
      const old = new Date(Date.now() - 60_000);
      utimesSync(join(dir, '.lock'), old, old);
      await openStore(dir, { lockStaleMs: 30_000 }).acquireLock();
      writeFileSync(join(dir, 'other.lock'), '');
    });

    it('a live holder keeps refreshing its lock past the stale threshold', async () => {
      const dir = makeTempDir();
      const holder = openStore(dir, { lockStaleMs: 600 });
      await holder.acquireLock();
      await new Promise((r) => setTimeout(r, 1_500));
      const error = await openStore(dir, { lockStaleMs: 600 })
        .acquireLock()
        .catch((e) => e);
      expect(error).toBeInstanceOf(LedgerLockedError);
    });
  });

  it('removes what interrupted rewrites and dead lock candidates left behind, but not a fresh candidate', async () => {
    const dir = makeTempDir();
    mkdirSync(dir, { recursive: true });
    for (const name of ['events.ndjson.tmp-123-456', 'index.json.tmp-123', '.lock.old-candidate', '.lock.fresh-candidate'])
      writeFileSync(join(dir, name), 'x');
    const old = new Date(Date.now() - 120_000);
    utimesSync(join(dir, '.lock.old-candidate'), old, old);
    const store = openStore(dir);
    await store.open();
    expect(readdirSync(dir).sort()).toEqual(['.lock', '.lock.fresh-candidate', 'events.ndjson', 'index.json']);
  });

  it('destroy removes the store files', async () => {
    const dir = makeTempDir();
    const store = createEventStore(dir, { logger: new CapturingLogger() });
    await store.append(event());
    await store.destroy();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('createFileEventStore makes a file store in the directory, as the deprecated createEventStore does', async () => {
    const dir = makeTempDir();
    const store = createFileEventStore(dir, { logger: new CapturingLogger() });
    expect(store).toBeInstanceOf(FileEventStore);
    await store.append(event({ timestamp: 7 }));
    await store.close();
    const reopened = createEventStore(dir, { logger: new CapturingLogger() });
    expect((await reopened.readAll()).map((e) => e.timestamp)).toEqual([7]);
    await reopened.close();
  });

  it('reads a store without taking its lock, ignoring a torn tail', async () => {
    const dir = makeTempDir();
    const writer = openStore(dir);
    await writer.append(event({ timestamp: 1 }));
    appendFileSync(join(dir, 'events.ndjson'), '{"torn');
    const reader = openStore(dir);
    expect((await reader.readAll()).map((e) => e.timestamp)).toEqual([1]);
  });

  it('a tail in a process that does not write the store polls without adding an abort listener per poll', async () => {
    const dir = makeTempDir();
    const writer = openStore(dir);
    await writer.append(event());
    const stop = new AbortController();
    const feed = openStore(dir).tail({ after: null, signal: stop.signal })[Symbol.asyncIterator]();
    expect((await feed.next()).value).toMatchObject({ caughtUp: true });
    // Each append is seen by a later poll: at least 15 polls, each with its abortable wait.
    for (let i = 0; i < 15; i++) {
      const appended = event();
      await writer.append(appended);
      expect((await feed.next()).value.events).toEqual([appended]);
      expect(getEventListeners(stop.signal, 'abort').length).toBeLessThanOrEqual(1);
    }
    stop.abort();
    expect((await feed.next()).done).toBe(true);
  });
});
