/**
 * FileLock: the NDJSON store's exclusive lock file (also exercised by the store and lock-exclusivity suites).
 */
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LedgerLockedError } from '../../lib';
import { FileLock } from '../../lib/storage/file/file-lock';
import { CapturingLogger } from '../helpers/capturing-logger';
import { deadPid } from '../helpers/processes';
import { makeTempDir, removeTempDirs } from '../helpers/temp-dir';

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
