/**
 * Unit tests of the internals the stores are built on: the file lock, the
 * retention plan, and option resolution (each also runs inside the store and
 * module suites; here each is pinned down on its own).
 */
import { getEventListeners } from 'node:events';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { LEDGER_DEFAULTS, LedgerConfigError, LedgerLockedError } from '../lib';
import { planRetention, retentionFilter } from '../lib/storage/retention-plan';
import { resolveLedgerOptions, resolveModuleOptions } from '../lib/options/ledger-options.resolver';
import { FeedHub } from '../lib/storage/feed-hub';
import { FileLock } from '../lib/storage/file/file-lock';
import { CapturingLogger } from './helpers/capturing-logger';
import { deadPid } from './helpers/processes';
import { makeTempDir, removeTempDirs } from './helpers/temp-dir';

describe('FeedHub', () => {
  it('a follower waiting for batch after batch leaves no listener behind on its signal', async () => {
    const hub = new FeedHub();
    const subscription = hub.subscribe();
    const stop = new AbortController();
    for (let i = 0; i < 50; i++) {
      const next = subscription.next(stop.signal);
      hub.publish({ events: [], cursor: String(i), reset: false });
      await expect(next).resolves.toMatchObject({ cursor: String(i) });
    }
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
    const waiting = subscription.next(stop.signal);
    stop.abort();
    await expect(waiting).resolves.toBeNull();
  });
});

describe('FileLock', () => {
  const locks: FileLock[] = [];
  const lockAt = (path: string, staleMs = 30_000, logger = new CapturingLogger()) => {
    const lock = new FileLock(path, staleMs, logger);
    locks.push(lock);
    return lock;
  };
  afterEach(async () => {
    for (const lock of locks.splice(0)) await lock.release().catch(() => undefined);
    removeTempDirs();
  });

  it('writes its holder record atomically; acquiring again is a no-op; release removes it', async () => {
    const path = join(makeTempDir(), '.lock');
    const lock = lockAt(path);
    await lock.acquire();
    await lock.acquire();
    expect(lock.held).toBe(true);
    const record = JSON.parse(readFileSync(path, 'utf8'));
    expect(record).toEqual({ holder: expect.any(String), pid: process.pid, hostname: hostname(), timestamp: expect.any(Number) });
    await lock.release();
    expect(existsSync(path)).toBe(false);
    expect(lock.held).toBe(false);
  });

  it('refuses a second holder while the first is live, naming its pid; a release by the loser removes nothing', async () => {
    const path = join(makeTempDir(), '.lock');
    await lockAt(path).acquire();
    const second = lockAt(path);
    const error = await second.acquire().catch((e) => e);
    expect(error).toBeInstanceOf(LedgerLockedError);
    expect(error).toMatchObject({ holderPid: process.pid, holderHost: hostname(), lockPath: path });
    await second.release();
    expect(existsSync(path)).toBe(true);
  });

  it('takes over a lock whose holder process is gone, and one not refreshed within staleMs, logging it', async () => {
    const dir = makeTempDir();
    const gone = join(dir, 'gone.lock');
    writeFileSync(gone, JSON.stringify({ holder: 'x', pid: await deadPid(), hostname: hostname(), timestamp: Date.now() }));
    const logger = new CapturingLogger();
    await lockAt(gone, 30_000, logger).acquire();
    expect(JSON.parse(readFileSync(gone, 'utf8')).pid).toBe(process.pid);
    expect(logger.messages('warn').join('\n')).toMatch(/Took over a stale ledger lock/);

    const old = join(dir, 'old.lock');
    writeFileSync(old, 'not even JSON');
    const past = new Date(Date.now() - 60_000);
    utimesSync(old, past, past);
    await lockAt(old, 1_000).acquire();
    expect(JSON.parse(readFileSync(old, 'utf8')).pid).toBe(process.pid);
  });

  it('a live holder refreshes its lock, so it is never taken over for being old', async () => {
    const path = join(makeTempDir(), '.lock');
    await lockAt(path, 600).acquire();
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    await expect(lockAt(path, 600).acquire()).rejects.toBeInstanceOf(LedgerLockedError);
  });
});

describe('planRetention / retentionFilter', () => {
  /** The rule stated simply: sort stably by timestamp and keep the last maxEvents. */
  function reference(timestamps: number[], maxEvents: number): boolean[] {
    const order = timestamps.map((ts, i) => ({ ts, i })).sort((a, b) => a.ts - b.ts || a.i - b.i);
    const kept = new Set(order.slice(Math.max(0, order.length - maxEvents)).map((o) => o.i));
    return timestamps.map((_, i) => kept.has(i));
  }

  it('keeps the newest maxEvents by timestamp, the later-appended among ties, as a stable sort would', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 40 }), fc.nat({ max: 45 }), (timestamps, maxEvents) => {
        const plan = planRetention(timestamps, maxEvents);
        if (timestamps.length <= maxEvents) {
          expect(plan).toBeNull();
          return;
        }
        const keep = retentionFilter(plan!);
        const kept = timestamps.map((ts) => keep(ts));
        expect(kept).toEqual(reference(timestamps, maxEvents));
        expect(plan!.evicted).toBe(timestamps.length - maxEvents);
      }),
      { numRuns: 1_000 },
    );
  });

  it('ignores NaN entries (unreadable lines): they are neither kept nor counted', () => {
    expect(planRetention([1, NaN, 2, NaN], 2)).toBeNull();
    const plan = planRetention([3, NaN, 1, 2], 2)!;
    expect(plan.evicted).toBe(1);
    const keep = retentionFilter(plan);
    expect([3, 1, 2].map((ts) => keep(ts))).toEqual([true, false, true]);
  });

  it('maxEvents 0 evicts everything', () => {
    const plan = planRetention([1, 2, 3], 0)!;
    expect(plan.evicted).toBe(3);
    const keep = retentionFilter(plan);
    expect([1, 2, 3].map((ts) => keep(ts))).toEqual([false, false, false]);
  });
});

describe('option resolution', () => {
  it('applies every default from LEDGER_DEFAULTS', () => {
    expect(resolveLedgerOptions({})).toEqual({
      storagePath: LEDGER_DEFAULTS.storagePath,
      maxEvents: LEDGER_DEFAULTS.maxEvents,
      autoFlush: LEDGER_DEFAULTS.autoFlush,
      highWaterMark: LEDGER_DEFAULTS.maxEvents * LEDGER_DEFAULTS.highWaterMarkFactor,
      lockStaleMs: LEDGER_DEFAULTS.lockStaleMs,
      maxEventBytes: LEDGER_DEFAULTS.maxEventBytes,
      unknownFields: LEDGER_DEFAULTS.unknownFields,
      storage: { type: 'ndjson' },
    });
    expect(resolveModuleOptions({}).compaction).toEqual({ cron: LEDGER_DEFAULTS.compactionCron });
    expect(resolveLedgerOptions({ maxEvents: 7 }).highWaterMark).toBe(14);
  });

  it('enableWAL is a deprecated alias of autoFlush; the two must not disagree', () => {
    expect(resolveLedgerOptions({ enableWAL: false }).autoFlush).toBe(false);
    expect(resolveLedgerOptions({ autoFlush: false, enableWAL: false }).autoFlush).toBe(false);
    expect('enableWAL' in resolveLedgerOptions({ enableWAL: false })).toBe(false);
    expect(() => resolveLedgerOptions({ autoFlush: true, enableWAL: false })).toThrow(expect.objectContaining({ option: 'enableWAL' }));
  });

  it('keys only the caller understands are accepted only for that caller', () => {
    expect(() => resolveLedgerOptions({ compaction: false } as never)).toThrow(LedgerConfigError);
    expect(resolveModuleOptions({ compaction: false }).compaction).toBe(false);
    expect(() => resolveLedgerOptions({ compactIntervalMs: 5 } as never, ['compactIntervalMs'])).not.toThrow();
  });

  it('undefined is unset for every option (what a config lookup gives for a missing key), except compaction.intervalMs', () => {
    const unset = { storagePath: undefined, maxEvents: undefined, autoFlush: undefined, lockStaleMs: undefined, storage: undefined };
    expect(resolveLedgerOptions(unset)).toEqual(resolveLedgerOptions({}));
    expect(() => resolveModuleOptions({ compaction: { intervalMs: undefined as unknown as number } })).toThrow(
      expect.objectContaining({ option: 'compaction.intervalMs' }),
    );
  });
});
